/*
 * Faults from the engine: envup runs against a fault-injecting proxy
 * (support_fault.h) in front of the real engine, and every fault must end
 * the same way: exit 1, stdout empty, one line on stderr naming the cause,
 * within --timeout plus a margin (a hang guard, not a speed check), no
 * crash, and nothing labelled with the environment left on the REAL engine
 * (checked there, never through the proxy).
 *
 * Pulls use localhost:5858/... names, which only these tests use: the
 * stand-in registry under another name, so the image is missing and gets
 * pulled without touching the shared 127.0.0.1:5858 tags.
 */
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "support.h"
#include "support_fault.h"

#define MARGIN 10.0              /* seconds allowed past --timeout */
#define PULL_IMAGE "localhost:5858/redis:7-alpine"

static const char redis_spec[] =
	"services:\n"
	"  cache:\n"
	"    template: redis\n";

static const char pull_spec[] =
	"services:\n"
	"  ghost:\n"
	"    image: %s\n"
	"    command: [sleep, \"1000\"]\n";

typedef struct fault_case fault_case;

typedef struct {
	it_env t;                /* first: the environment, cleaned up by the teardown */
	const fault_case *row;   /* the case of test_fault_case, or NULL */
	fault_proxy *proxy;
	const char *image;       /* pulled by the test: removed from the real engine at the end */
	char statedir[64];       /* a test's own ENVUP_STATE_DIR: unset and removed at the end */
} fault_state;

static int fault_setup(void **state)
{
	fault_state *s = calloc(1, sizeof(*s));

	if (s)
		s->row = *state; /* a case's row, from cmocka's initial state */
	if (!s || fault_proxy_start(&s->proxy, NULL) < 0) {
		fprintf(stderr, "cannot start the fault proxy in front of the engine\n");
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

/* Even after a failure: let the proxy finish what the engine was doing,
 * stop it, remove a pulled image, then envdown and check for leftovers. */
static int fault_teardown(void **state)
{
	fault_state *s = *state;
	bool idle;

	if (!s)
		return 0;
	idle = fault_proxy_wait_idle(s->proxy, 60.0);
	fault_proxy_stop(s->proxy);
	s->proxy = NULL;
	if (s->image)
		it_fault_remove_image(s->image);
	if (s->statedir[0]) {
		char cmd[128];
		unsetenv("ENVUP_STATE_DIR");
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->statedir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", s->statedir);
	}
	if (s->t.initialized)
		it_env_cleanup(&s->t);
	free(s);
	assert_true(idle);
	return 0;
}

static int add_rule(fault_state *s, const char *match, fault_kind kind, int status,
	const char *body, long after, int times)
{
	fault_rule r = {match, kind, status, body, after, times, 0};
	return fault_proxy_add_rule(s->proxy, &r);
}

static int add_rule_after(fault_state *s, const char *match, fault_kind kind, int status,
	const char *body, int skip)
{
	fault_rule r = {match, kind, status, body, -1, 1, skip};
	return fault_proxy_add_rule(s->proxy, &r);
}

/* envup ARGS... through the proxy. */
#define up_via_proxy(s, ...) \
	it_fault_envup(&(s)->t, fault_proxy_host((s)->proxy), 0, __VA_ARGS__, (const char *)NULL)

static size_t count_of(const char *haystack, const char *needle)
{
	size_t n = 0;
	const char *p = haystack;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* The last line of stderr (malloc'd): the error line of a failed command. */
static char *last_line(const it_env *t)
{
	const char *err = envup_buf_cstr(&t->err);
	size_t len = strlen(err);
	const char *start;

	while (len > 0 && err[len - 1] == '\n')
		len--;
	for (start = err + len; start > err && start[-1] != '\n'; start--)
		;
	return strndup(start, (size_t)(err + len - start));
}

/*
 * The command failed the way every fault must: exit 1 within timeout +
 * MARGIN, nothing on stdout, `cause` on the last stderr line and on no
 * other, and no leftovers on the real engine.
 */
static void assert_fault(fault_state *s, double timeout, const char *cause)
{
	it_env *t = &s->t;
	const char *err = envup_buf_cstr(&t->err);
	char *line;

	if (t->status == 128 + SIGSEGV || t->status == 128 + SIGABRT || t->status == 128 + SIGBUS)
		fail_msg("envup crashed (exit %d); stderr:\n%s", t->status, err);
	if (t->status != 1)
		fail_msg("exit %d, expected 1; stderr:\n%s\nrequests:\n%s", t->status, err,
			fault_proxy_log(s->proxy));
	if (t->seconds >= timeout + MARGIN)
		fail_msg("took %.1fs with --timeout %.0f; stderr:\n%s", t->seconds, timeout, err);
	assert_int_equal(t->out.size, 0);
	line = last_line(t);
	assert_non_null(line);
	if (strncmp(line, "envup: ", 7) != 0 || !strstr(line, cause) || count_of(err, cause) != 1)
		fail_msg("expected one error line with\n  %s\ngot stderr:\n%s", cause, err);
	free(line);
	assert_int_equal(it_leftovers(t->name), 0);
}

static void assert_hit(fault_state *s, int rule)
{
	if (fault_proxy_hits(s->proxy, rule) < 1)
		fail_msg("the fault was never injected; requests:\n%s", fault_proxy_log(s->proxy));
}

/* ---- one fault, one rule: the cases as data ---------------------------------------- */

/*
 * One rule on the proxy, one `envup up`, and the failure every fault must
 * end in (assert_fault): `cause` is the error line's text ({name} stands
 * for the environment's name); `err` another text stderr must hold;
 * `seen` a request the proxy must have passed (envup's own cleanup).
 */
struct fault_case {
	const char *name;
	bool pull;               /* PULL_IMAGE, removed first, so that it is pulled */
	const char *match;
	fault_kind kind;
	int status;
	const char *body;
	long after;              /* FAULT_HANG/CLOSE/TRUNCATE: bytes passed first */
	int times;               /* how often the rule fires; 0: always */
	int timeout;             /* --timeout */
	const char *cause;
	const char *err;
	const char *seen;
};

#define CREATE "^POST /v[0-9.]+/containers/create"
#define START "^POST /v[0-9.]+/containers/[0-9a-f]+/start"
#define INSPECT "^GET /v[0-9.]+/containers/[0-9a-f]{64}/json"
#define PULL "^POST /v[0-9.]+/images/create"
#define PULL_TARGET "(POST /images/create?fromImage=localhost%3A5858%2Fredis&tag=7-alpine)"

static const fault_case fault_cases[] = {
	/* answers with an error */
	{"create answers 500", false, CREATE, FAULT_STATUS, 500,
		"{\"message\":\"fault: no space left on device\"}", 0, 0, 30,
		"cache: create container envup-{name}-cache: fault: no space left on device", NULL, NULL},
	/* the container was created: envup's own cleanup removes it */
	{"start answers 500", false, START, FAULT_STATUS, 500,
		"{\"message\":\"OCI runtime create failed: fault: exec format error\"}", 0, 0, 30,
		": OCI runtime create failed: fault: exec format error", "cache: start container ",
		"DELETE /v1.41/containers/"},
	{"the port is taken", false, START, FAULT_STATUS, 500,
		"{\"message\":\"driver failed programming external connectivity on endpoint x: "
		"Bind for 127.0.0.1:5432 failed: port is already allocated\"}", 0, 0, 30,
		"the host port is already taken by another process: driver failed programming "
		"external connectivity on endpoint x: Bind for 127.0.0.1:5432 failed: port is "
		"already allocated", NULL, NULL},
	/* hangs: the engine does the work, envup never hears of it */
	{"create hangs", false, CREATE, FAULT_HANG, 0, NULL, -1, 0, 5,
		"cache: timed out waiting for the Docker engine (POST /containers/create?name=envup-{name}-cache",
		"): deadline passed", "DELETE /v1.41/containers/"},
	{"start hangs", false, START, FAULT_HANG, 0, NULL, -1, 0, 5,
		"cache: timed out waiting for the Docker engine (POST /containers/", "/start): deadline passed",
		NULL},
	/* the head and the first progress line pass, then nothing */
	{"a pull hangs midway", true, PULL, FAULT_HANG, 0, NULL, 60, 0, 5,
		"ghost: timed out waiting for the Docker engine " PULL_TARGET ": deadline passed", NULL, NULL},
	/* broken connections and bodies */
	{"a pull's stream closes", true, PULL, FAULT_CLOSE, 0, NULL, 60, 0, 30,
		"ghost: the Docker engine closed the connection " PULL_TARGET, NULL, NULL},
	/* the first progress line, cut after 30 bytes: {"status":"Pulling from redis" */
	{"a pull's stream is cut", true, PULL, FAULT_TRUNCATE, 0, NULL, 30, 0, 30,
		"ghost: pull " PULL_IMAGE ": the progress stream from the engine ended in the middle "
		"of a line (truncated)", NULL, NULL},
	{"a pull's stream is not JSON", true, PULL, FAULT_REPLACE, 0,
		"{\"status\":\"Pulling from redis\"}\r\n<html>502 Bad Gateway</html>\r\n", 0, 0, 30,
		"ghost: pull " PULL_IMAGE ": invalid JSON from the engine for the pull progress", NULL, NULL},
	/* the first inspect of the container (its ports, after the start) breaks off */
	{"an inspect closes", false, INSPECT, FAULT_CLOSE, 0, NULL, 20, 1, 30,
		"cache: the Docker engine closed the connection (GET /containers/", NULL, NULL},
	/* a complete answer whose JSON stops after 20 bytes; the container exists */
	{"create's JSON is cut", false, CREATE, FAULT_TRUNCATE, 0, NULL, 20, 0, 30,
		"cache: invalid JSON from the engine for create container envup-{name}-cache", NULL,
		"DELETE /v1.41/containers/"},
	{"an inspect's JSON is malformed", false, INSPECT, FAULT_REPLACE, 0,
		"{\"Id\": \"0123\", \"State\": {\"Running\": tru}}", 0, 1, 30,
		"cache: invalid JSON from the engine for inspect container ", NULL, NULL},
};

/* tmpl with {name} replaced by name */
static void fill_name(char *out, size_t size, const char *tmpl, const char *name)
{
	const char *at = strstr(tmpl, "{name}");

	if (!at)
		snprintf(out, size, "%s", tmpl);
	else
		snprintf(out, size, "%.*s%s%s", (int)(at - tmpl), tmpl, name, at + strlen("{name}"));
}

static void test_fault_case(void **state)
{
	fault_state *s = *state;
	const fault_case *c = s->row;
	char spec[256], cause[512], timeout[16];
	int r;

	if (c->pull) {
		s->image = PULL_IMAGE;
		it_fault_remove_image(PULL_IMAGE);
		assert_false(it_fault_has_image(PULL_IMAGE));
		snprintf(spec, sizeof(spec), pull_spec, PULL_IMAGE);
		it_env_init(&s->t, spec);
	} else {
		it_env_init(&s->t, redis_spec);
	}
	r = add_rule(s, c->match, c->kind, c->status, c->body, c->after, c->times);
	snprintf(timeout, sizeof(timeout), "%d", c->timeout);
	up_via_proxy(s, "up", "-q", "--timeout", timeout);
	assert_hit(s, r);
	fill_name(cause, sizeof(cause), c->cause, s->t.name);
	assert_fault(s, c->timeout, cause);
	if (c->err)
		it_assert_contains(s->t.err.ptr, c->err);
	if (c->seen)
		it_assert_contains(fault_proxy_log(s->proxy), c->seen);
}

/* ---- faults of their own --------------------------------------------------------- */

static void test_pull_500(void **state)
{
	fault_state *s = *state;
	char image[64], spec[256], cause[256];
	int r;

	/* a tag nobody has: the inspect says 404, and the pull never reaches the engine */
	snprintf(image, sizeof(image), "localhost:5858/redis:fault-%d", (int)getpid());
	snprintf(spec, sizeof(spec), pull_spec, image);
	it_env_init(&s->t, spec);
	r = add_rule(s, "^POST /v[0-9.]+/images/create", FAULT_STATUS, 500,
		"{\"message\":\"Get \\\"http://localhost:5858/v2/\\\": fault: connection refused\"}", 0, 0);
	up_via_proxy(s, "up", "-q", "--timeout", "30");
	assert_hit(s, r);
	snprintf(cause, sizeof(cause), "ghost: pull %s: Get \"http://localhost:5858/v2/\": "
		"fault: connection refused", image);
	assert_fault(s, 30, cause);
	assert_false(it_fault_has_image(image));
}

/* ---- hangs ------------------------------------------------------------------------ */

/* ---- broken connections and bodies -------------------------------------------------- */

/* ---- no engine ------------------------------------------------------------------------ */

static void test_no_socket(void **state)
{
	fault_state *s = *state;
	char host[256], cause[300];

	it_env_init(&s->t, redis_spec);
	snprintf(host, sizeof(host), "unix://%s/absent.sock", s->t.dir);
	it_fault_envup(&s->t, host, 0, "up", "-q", "--timeout", "30", (const char *)NULL);
	snprintf(cause, sizeof(cause), "cannot connect to the Docker engine at %s: no such file "
		"(is dockerd running? set DOCKER_HOST)", host);
	assert_fault(s, 30, cause);
}

static void test_permission_denied(void **state)
{
	fault_state *s = *state;
	uid_t uid = 0;
	char cause[300];

	/* root connects whatever the mode says: run envup as nobody then */
	if (geteuid() == 0) {
		const struct passwd *pw = getpwnam("nobody");
		if (!pw || pw->pw_uid == 0) {
			fprintf(stderr, "skipped: running as root and there is no user nobody\n");
			skip();
		}
		uid = pw->pw_uid;
	}
	it_env_init(&s->t, redis_spec);
	assert_int_equal(chmod(s->t.dir, 0755), 0);          /* nobody reads the spec */
	assert_int_equal(chmod(fault_proxy_socket(s->proxy), 0), 0);
	it_fault_envup(&s->t, fault_proxy_host(s->proxy), uid, "up", "-q", "--timeout", "30",
		(const char *)NULL);
	snprintf(cause, sizeof(cause), "cannot connect to the Docker engine at %s: permission denied "
		"(add your user to the docker group, or set DOCKER_HOST)", fault_proxy_host(s->proxy));
	assert_fault(s, 30, cause);
	assert_string_equal(fault_proxy_log(s->proxy), "");
}

/* ---- the engine refuses to remove ------------------------------------------------------ */

static void test_removal_refused(void **state)
{
	fault_state *s = *state;
	char cause[512], *line, *fix;
	int start, del;

	it_env_init(&s->t, redis_spec);
	start = add_rule(s, "^POST /v[0-9.]+/containers/[0-9a-f]+/start", FAULT_STATUS, 500,
		"{\"message\":\"fault: cannot start\"}", 0, 0);
	del = add_rule(s, "^DELETE /v[0-9.]+/containers/", FAULT_STATUS, 500,
		"{\"message\":\"driver \\\"overlay2\\\" failed to remove root filesystem: "
		"device or resource busy\"}", 0, 0);

	/* up fails, and so does its cleanup: the error says what is left */
	up_via_proxy(s, "up", "-q", "--timeout", "30");
	assert_hit(s, start);
	assert_hit(s, del);
	if (s->t.status != 1)
		fail_msg("exit %d; stderr:\n%s", s->t.status, envup_buf_cstr(&s->t.err));
	assert_true(s->t.seconds < 30 + MARGIN);
	assert_int_equal(s->t.out.size, 0);
	line = last_line(&s->t);
	snprintf(cause, sizeof(cause), "envup: cache: start container ");
	it_assert_contains(line, cause);
	it_assert_contains(line, ": fault: cannot start; cleanup incomplete: "
		"could not remove 1 resource: container envup-");
	snprintf(cause, sizeof(cause), "container envup-%s-cache (", s->t.name);
	it_assert_contains(line, cause);
	it_assert_contains(line, "failed to remove root filesystem: device or resource busy");
	/* the advice names exactly what is left: the container, not the
	 * network, which did go */
	it_assert_contains(line, "(remove by hand: docker rm -f ");
	it_assert_not_contains(line, "docker network rm");
	free(line);
	/* exactly that container is left: the network went */
	assert_int_equal(it_leftovers(s->t.name), 1);

	/* envdown through the refusing engine says the same */
	up_via_proxy(s, "down");
	if (s->t.status != 1)
		fail_msg("down: exit %d; stderr:\n%s", s->t.status, envup_buf_cstr(&s->t.err));
	line = last_line(&s->t);
	snprintf(cause, sizeof(cause), "envup: could not remove 1 resource: "
		"container envup-%s-cache (", s->t.name);
	it_assert_contains(line, cause);
	free(line);
	assert_int_equal(it_leftovers(s->t.name), 1);

	/* and the advice works, against the real engine */
	if (system("command -v docker >/dev/null 2>&1") == 0) {
		line = last_line(&s->t);
		fix = strstr(line, "(remove by hand: ");
		assert_non_null(fix);
		fix += strlen("(remove by hand: ");
		fix[strlen(fix) - 1] = '\0';       /* the closing parenthesis */
		{
			char *cmd = NULL;
			assert_true(asprintf(&cmd, "(%s) >/dev/null 2>&1", fix) > 0);
			if (system(cmd) < 0)
				fail_msg("cannot run %s", cmd);
			free(cmd);
		}
		free(line);
		assert_int_equal(it_leftovers(s->t.name), 0);
	}
}

/* ---- a failure after every step that creates something --------------------------------- */

static const char two_spec[] =
	"services:\n"
	"  db:\n"
	"    template: postgres\n"
	"    init: [init.sql]\n"
	"  cache:\n"
	"    template: redis\n";

/*
 * Every POST of a successful up creates or starts something (the network,
 * each container, each start). Fail each in turn, both before the engine
 * sees it (a 500) and after the engine did it (the connection closed
 * before the answer, so envup never learns the id): every time, up exits
 * 1, prints no exports, and nothing of the environment is left on the
 * real engine.
 */
static void test_fail_after_every_step(void **state)
{
	fault_state *s = *state;
	const char *log;
	int nposts = 0, k, kind;

	it_env_init(&s->t, two_spec);
	it_write(&s->t, "init.sql", "CREATE TABLE t (x int);\n");
	up_via_proxy(s, "up", "-q");
	if (s->t.status != 0)
		fail_msg("up through the proxy failed: %s", envup_buf_cstr(&s->t.err));
	for (log = fault_proxy_log(s->proxy); (log = strstr(log, "POST ")) != NULL; log++)
		nposts++;
	up_via_proxy(s, "down", "-q");
	assert_int_equal(s->t.status, 0);
	assert_int_equal(it_leftovers(s->t.name), 0);
	assert_true(nposts >= 5);   /* network, 2 creates, 2 starts */

	for (k = 0; k < nposts; k++) {
		for (kind = 0; kind < 2; kind++) {
			int r = add_rule_after(s, "^POST /v[0-9.]+/", kind ? FAULT_CLOSE : FAULT_STATUS,
				500, "{\"message\":\"fault: injected\"}", k);
			up_via_proxy(s, "up", "-q", "--timeout", "60");
			assert_hit(s, r);
			/* a start whose answer was lost is retried by the client on a
			 * fresh connection and found done (304): then up is whole */
			if (kind && s->t.status == 0) {
				assert_int_equal(it_leftovers(s->t.name), 3);
				up_via_proxy(s, "down", "-q");
				assert_int_equal(s->t.status, 0);
				assert_int_equal(it_leftovers(s->t.name), 0);
				continue;
			}
			if (s->t.status != 1 || s->t.out.size != 0)
				fail_msg("POST #%d failing (%s): exit %d, stdout %zu bytes; stderr:\n%s", k + 1,
					kind ? "after the engine did it" : "before the engine", s->t.status,
					s->t.out.size, envup_buf_cstr(&s->t.err));
			if (!kind)
				it_assert_contains(s->t.err.ptr, "fault: injected");
			assert_true(fault_proxy_wait_idle(s->proxy, 30.0));
			if (it_leftovers(s->t.name) != 0)
				fail_msg("POST #%d failing (%s): %zu resources left; requests:\n%s", k + 1,
					kind ? "after the engine did it" : "before the engine",
					it_leftovers(s->t.name), fault_proxy_log(s->proxy));
		}
	}
	print_message("failed each of %d creation steps, before and after the engine: nothing left\n",
		nposts);
}

/* ---- the watchdog finishes what a hanging engine did not -------------------------------- */

static bool file_contains(const char *path, const char *needle)
{
	envup_buf b = ENVUP_BUF_INIT;
	bool found = envup_read_file(&b, path, 0) == 0 && strstr(envup_buf_cstr(&b), needle);
	envup_buf_dispose(&b);
	return found;
}

/*
 * The owner dies; the engine hangs on the first DELETE and refuses the
 * network's removal six times more (more than the five attempts envup
 * once made). The watchdog keeps trying, with a growing pause, until the
 * environment is gone, logs each attempt, and records the removal.
 */
static void test_watchdog_retries_removal(void **state)
{
	fault_state *s = *state;
	char owner_arg[32], path[512], line[256];
	const char *dir = s->statedir;
	double start;
	pid_t owner;
	int hang, refuse, i;

	snprintf(s->statedir, sizeof(s->statedir), "/tmp/envup-it-wdstate-XXXXXX");
	assert_non_null(mkdtemp(s->statedir));
	setenv("ENVUP_STATE_DIR", dir, 1);
	if ((owner = fork()) == 0) {
		execl("/bin/sleep", "sleep", "600", (char *)NULL);
		_exit(127);
	}
	snprintf(owner_arg, sizeof(owner_arg), "%ld", (long)owner);
	it_env_init(&s->t, redis_spec);
	up_via_proxy(s, "up", "-q", "--owner-pid", owner_arg);
	if (s->t.status != 0)
		fail_msg("up failed: %s", envup_buf_cstr(&s->t.err));
	hang = add_rule(s, "^DELETE /v[0-9.]+/containers/", FAULT_HANG, 0, NULL, -1, 1);
	refuse = add_rule(s, "^DELETE /v[0-9.]+/networks/", FAULT_STATUS, 500,
		"{\"message\":\"fault: network is busy\"}", 0, 6);
	kill(owner, SIGKILL);
	waitpid(owner, NULL, 0);
	start = envup_now();
	while (it_leftovers(s->t.name) > 0) {
		if (envup_now() - start > 120)
			fail_msg("the watchdog gave up: %zu resources left", it_leftovers(s->t.name));
		usleep(200 * 1000);
	}
	assert_hit(s, hang);
	assert_int_equal(fault_proxy_hits(s->proxy, refuse), 6);
	/* the last resource goes a moment before the log and the record */
	snprintf(path, sizeof(path), "%s/%s.removed", dir, s->t.name);
	for (i = 0; i < 100 && !file_contains(path, "its owner, process"); i++)
		usleep(100 * 1000);
	assert_true(file_contains(path, "its owner, process"));
	snprintf(path, sizeof(path), "%s/%s.watchdog.log", dir, s->t.name);
	for (i = 1; i <= 7; i++) {
		snprintf(line, sizeof(line), "attempt %d did not finish", i);
		if (!file_contains(path, line)) {
			envup_buf b = ENVUP_BUF_INIT;
			(void)envup_read_file(&b, path, 0);
			fail_msg("%s: no \"%s\" in:\n%s", path, line, envup_buf_cstr(&b));
		}
	}
	/* its last line comes after the record and a last look at the engine */
	snprintf(line, sizeof(line), "environment %s removed", s->t.name);
	for (i = 0; i < 100 && !file_contains(path, line); i++)
		usleep(100 * 1000);
	assert_true(file_contains(path, line));
	print_message("removed %.1fs after its owner died, through 1 hang and 6 refusals\n",
		envup_now() - start);
}

/* ---- the proxy itself ---------------------------------------------------------------- */

/* DOCKER_HOST=tcp://: the whole cycle over TCP to an engine on loopback,
 * whose ports are still published on 127.0.0.1 only. */
static void test_tcp_engine(void **state)
{
	fault_state *s = *state;
	it_env *t = &s->t;
	fault_proxy *tcp = NULL;
	const char *host;

	assert_int_equal(fault_proxy_start_tcp(&tcp, NULL), 0);
	host = fault_proxy_host(tcp);
	it_assert_contains(host, "tcp://127.0.0.1:");
	it_env_init(t, redis_spec);
	it_fault_envup(t, host, 0, "up", "-q", "--format", "json", "--timeout", "60", (const char *)NULL);
	if (t->status != 0) {
		fault_proxy_stop(tcp);
		fail_msg("up over tcp: exit %d; stderr:\n%s", t->status, envup_buf_cstr(&t->err));
	}
	it_assert_contains(envup_buf_cstr(&t->out), "\"CACHE_HOST\":\"127.0.0.1\"");
	it_fault_envup(t, host, 0, "status", (const char *)NULL);
	it_assert_contains(envup_buf_cstr(&t->out), "127.0.0.1:");
	it_assert_not_contains(envup_buf_cstr(&t->out), "0.0.0.0");
	it_fault_envup(t, host, 0, "down", (const char *)NULL);
	assert_int_equal(t->status, 0);
	fault_proxy_stop(tcp);
	assert_int_equal(it_leftovers(t->name), 0);
}

/* Without rules the proxy changes nothing: streams (logs), keep-alive, every command. */
static void test_passthrough(void **state)
{
	fault_state *s = *state;
	it_env *t = &s->t;
	const char *host = fault_proxy_host(s->proxy);
	int connections = 0, requests = 0, i;

	it_env_init(t, redis_spec);
	it_fault_envup(t, host, 0, "up", "-q", "--timeout", "60", (const char *)NULL);
	if (t->status != 0)
		fail_msg("up: exit %d; stderr:\n%s", t->status, envup_buf_cstr(&t->err));
	/* the engine stores log lines asynchronously: once it has the line
	 * (asked directly), the log stream through the proxy must carry it */
	for (i = 0; i < 100; i++) {
		it_fault_envup(t, NULL, 0, "logs", "cache", (const char *)NULL);
		if (strstr(envup_buf_cstr(&t->out), "Ready to accept connections"))
			break;
		envup_sleep_ms(100);
	}
	it_fault_envup(t, host, 0, "logs", "cache", (const char *)NULL);
	assert_int_equal(t->status, 0);
	it_assert_contains(envup_buf_cstr(&t->out), "Ready to accept connections");
	it_fault_envup(t, host, 0, "status", (const char *)NULL);
	assert_int_equal(t->status, 0);
	it_assert_contains(envup_buf_cstr(&t->out), "running");
	it_fault_envup(t, host, 0, "down", (const char *)NULL);
	assert_int_equal(t->status, 0);
	assert_int_equal(it_leftovers(t->name), 0);
	/* requests shared connections */
	fault_proxy_counts(s->proxy, &connections, &requests);
	if (requests <= connections)
		fail_msg("%d requests on %d connections:\n%s", requests, connections,
			fault_proxy_log(s->proxy));
}

/* ---- API version negotiation ------------------------------------------------------------ */

/* A whole up and down through an engine reporting `reported`: envup must use `expect`. */
static void negotiate(fault_state *s, const char *reported, const char *expect)
{
	it_env *t = &s->t;

	it_env_init(t, redis_spec);
	fault_proxy_set_api_version(s->proxy, reported);
	up_via_proxy(s, "up", "-q", "--format", "json", "--timeout", "60");
	if (t->status != 0)
		fail_msg("up with API %s: exit %d; stderr:\n%s", reported, t->status,
			envup_buf_cstr(&t->err));
	it_assert_contains(envup_buf_cstr(&t->out), "\"CACHE_URL\"");
	assert_true(it_leftovers(t->name) > 0);
	up_via_proxy(s, "down");
	if (t->status != 0)
		fail_msg("down with API %s: exit %d; stderr:\n%s", reported, t->status,
			envup_buf_cstr(&t->err));
	assert_int_equal(it_leftovers(t->name), 0);
	if (strcmp(fault_proxy_versions(s->proxy), expect) != 0)
		fail_msg("engine at %s: envup used API %s, expected %s; requests:\n%s", reported,
			fault_proxy_versions(s->proxy), expect, fault_proxy_log(s->proxy));
}

static void test_api_141(void **state)
{
	negotiate(*state, "1.41", "1.41");
}

static void test_api_144(void **state)
{
	negotiate(*state, "1.44", "1.44");
}

static void test_api_152(void **state)
{
	negotiate(*state, "1.52", "1.44");
}

static void test_api_140_too_old(void **state)
{
	fault_state *s = *state;
	char cause[300];

	it_env_init(&s->t, redis_spec);
	fault_proxy_set_api_version(s->proxy, "1.40");
	up_via_proxy(s, "up", "-q", "--timeout", "30");
	snprintf(cause, sizeof(cause), "the Docker engine at %s speaks API 1.40; envup needs 1.41 "
		"or newer (upgrade Docker)", fault_proxy_host(s->proxy));
	assert_fault(s, 30, cause);
	assert_string_equal(fault_proxy_versions(s->proxy), "");
}

#define FAULT_TEST(f) cmocka_unit_test_setup_teardown(f, fault_setup, fault_teardown)

int main(void)
{
	static const struct CMUnitTest others[] = {
		FAULT_TEST(test_pull_500),
		FAULT_TEST(test_no_socket),
		FAULT_TEST(test_permission_denied),
		FAULT_TEST(test_removal_refused),
		FAULT_TEST(test_fail_after_every_step),
		FAULT_TEST(test_watchdog_retries_removal),
		FAULT_TEST(test_passthrough),
		FAULT_TEST(test_tcp_engine),
		FAULT_TEST(test_api_141),
		FAULT_TEST(test_api_144),
		FAULT_TEST(test_api_152),
		FAULT_TEST(test_api_140_too_old),
	};
	struct CMUnitTest tests[ENVUP_ARRAY_SIZE(fault_cases) + ENVUP_ARRAY_SIZE(others)];
	size_t i, n = 0;

	/* one cmocka test per row, named after it; the row is the initial state */
	for (i = 0; i < ENVUP_ARRAY_SIZE(fault_cases); i++) {
		struct CMUnitTest t = cmocka_unit_test_prestate_setup_teardown(test_fault_case,
			fault_setup, fault_teardown, (void *)&fault_cases[i]);
		t.name = fault_cases[i].name;
		tests[n++] = t;
	}
	for (i = 0; i < ENVUP_ARRAY_SIZE(others); i++)
		tests[n++] = others[i];
	it_require_engine();
	return _cmocka_run_group_tests("test_faults", tests, n, NULL, NULL);
}
