/*
 * A bad spec never reaches the engine. For every file of the catalogue
 * tests/data/spec/bad/NAME.yaml (and inputs awkward to commit: not UTF-8,
 * empty, a NUL, 10 MB, a 700 KB alias bomb, missing, unreadable), the
 * real binary runs
 *     envup up -f NAME.yaml
 * in that directory, with DOCKER_HOST pointing at a fake engine: a unix
 * socket served by a thread that accepts and counts connections and
 * closes them without a word. Each run must exit 2, print nothing on
 * stdout, print on stderr exactly the catalogue's errors (its "# expect:"
 * line, then each "# also:" line), one line each naming NAME.yaml:LINE:COL,
 * create no state, and make no connection at all.
 *
 * A control run with a good spec must connect, so the zero above cannot
 * come from a DOCKER_HOST the binary ignores.
 *
 * The child sees only DOCKER_HOST, ENVUP_STATE_DIR, EMPTY_VAR="" and
 * SET_VAR="value" (env -i), as the unit catalogue does. No engine needed.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "support.h"

#define BAD_DIR ENVUP_TEST_DATA "/spec/bad"

/* ---- the fake engine ------------------------------------------------------ */

static struct {
	char dir[64];           /* temp dir: the socket, the state dir, generated specs */
	char socket[128];
	char state[128];        /* ENVUP_STATE_DIR for the child: must never appear */
	int fd;
	pthread_t thread;
	pthread_mutex_t lock;   /* held around accept + count */
	atomic_bool stop;
	size_t accepted;
} engine = {.fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

/* Accept whatever is pending (non-blocking); count and close it. */
static void engine_accept_pending(void)
{
	int c;

	pthread_mutex_lock(&engine.lock);
	while ((c = accept4(engine.fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		engine.accepted++;
		close(c);
	}
	pthread_mutex_unlock(&engine.lock);
}

static void *engine_main(void *arg)
{
	struct pollfd p;

	(void)arg;
	while (!atomic_load(&engine.stop)) {
		p.fd = engine.fd;
		p.events = POLLIN;
		if (poll(&p, 1, 20) > 0)
			engine_accept_pending();
	}
	return NULL;
}

/* Connections so far, including any still waiting in the backlog. */
static size_t engine_connections(void)
{
	size_t n;

	engine_accept_pending();
	pthread_mutex_lock(&engine.lock);
	n = engine.accepted;
	pthread_mutex_unlock(&engine.lock);
	return n;
}

static int engine_start(void **state)
{
	struct sockaddr_un addr;

	(void)state;
	snprintf(engine.dir, sizeof(engine.dir), "/tmp/envup-noapi-XXXXXX");
	if (!mkdtemp(engine.dir))
		return -1;
	snprintf(engine.socket, sizeof(engine.socket), "%s/docker.sock", engine.dir);
	snprintf(engine.state, sizeof(engine.state), "%s/state", engine.dir);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", engine.socket);
	if ((engine.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
	    bind(engine.fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(engine.fd, 64) < 0)
		return -1;
	atomic_store(&engine.stop, false);
	return pthread_create(&engine.thread, NULL, engine_main, NULL) == 0 ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
	struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int engine_stop(void **state)
{
	(void)state;
	atomic_store(&engine.stop, true);
	pthread_join(engine.thread, NULL);
	if (engine.fd >= 0)
		close(engine.fd);
	if (strncmp(engine.dir, "/tmp/envup-noapi-", 17) == 0)
		nftw(engine.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- running envup ---------------------------------------------------------- */

/* envup up -f FILE in DIR, in an environment of its own; returns the status. */
static int run_up(envup_buf *out, envup_buf *err, const char *dir, const char *file,
	const char *extra)
{
	char host[160], statedir[160];
	const char *argv[16];
	size_t n = 0;

	snprintf(host, sizeof(host), "DOCKER_HOST=unix://%s", engine.socket);
	snprintf(statedir, sizeof(statedir), "ENVUP_STATE_DIR=%s", engine.state);
	argv[n++] = "/usr/bin/env";
	argv[n++] = "-i";
	argv[n++] = host;
	argv[n++] = statedir;
	argv[n++] = "EMPTY_VAR=";
	argv[n++] = "SET_VAR=value";
	argv[n++] = ENVUP_BIN;
	argv[n++] = "up";
	argv[n++] = "-f";
	argv[n++] = file;
	if (extra)
		argv[n++] = extra;
	argv[n] = NULL;
	envup_buf_clear(out);
	envup_buf_clear(err);
	return it_exec(dir, argv, NULL, out, err, NULL);
}

/* True when s starts with "FILE:LINE:COL: " (LINE and COL positive). */
static bool has_position(const char *s, const char *file)
{
	size_t n = strlen(file);
	char *end;
	long line, col;

	if (strncmp(s, file, n) != 0 || s[n] != ':')
		return false;
	line = strtol(s + n + 1, &end, 10);
	if (end == s + n + 1 || *end != ':')
		return false;
	s = end + 1;
	col = strtol(s, &end, 10);
	return end != s && end[0] == ':' && end[1] == ' ' && line >= 1 && col >= 1;
}

/*
 * Run a bad spec and check everything. `expect` is the catalogue's
 * message (exact when it starts with "FILE:", else a substring) or NULL;
 * `positioned` false only for the errors about the file as a whole.
 */
static void expect_one(const char *file, const char *msg, size_t len, const char *expect,
	bool positioned)
{
	if (strncmp(msg, "envup: ", 7) != 0)
		fail_msg("%s: stderr line does not start with 'envup: ': %.*s", file, (int)len, msg);
	msg += 7;
	len -= 7;
	if (positioned && !has_position(msg, file))
		fail_msg("%s: stderr does not name %s:LINE:COL: %.*s", file, file, (int)len, msg);
	if (!positioned && (strncmp(msg, file, strlen(file)) != 0 || msg[strlen(file)] != ':'))
		fail_msg("%s: stderr does not name the file: %.*s", file, (int)len, msg);
	if (expect && strncmp(expect, file, strlen(file)) == 0 && expect[strlen(file)] == ':') {
		if (len != strlen(expect) || strncmp(msg, expect, len) != 0)
			fail_msg("%s:\n  got:  %.*s\n  want: %s", file, (int)len, msg, expect);
	} else if (expect) {
		char *copy = strndup(msg, len);
		assert_non_null(copy);
		if (!strstr(copy, expect))
			fail_msg("%s:\n  got: %s\n  want a message containing: %s", file, copy, expect);
		free(copy);
	}
}

static void expect_rejected_all(const char *dir, const char *file, const char *const *expect,
	size_t n, bool positioned)
{
	envup_buf out = ENVUP_BUF_INIT, err = ENVUP_BUF_INIT;
	size_t before = engine_connections(), after, lines = 0, i;
	const char *e, *at;
	struct stat st;
	int status;

	status = run_up(&out, &err, dir, file, NULL);
	after = engine_connections();
	e = envup_buf_cstr(&err);
	if (status != 2)
		fail_msg("%s: exit status %d, want 2; stderr:\n%s", file, status, e);
	if (out.size != 0)
		fail_msg("%s: stdout is not empty:\n%s", file, envup_buf_cstr(&out));
	if (err.size == 0 || e[err.size - 1] != '\n')
		fail_msg("%s: want whole lines on stderr, got:\n%s", file, e);
	for (at = e; *at; at = strchr(at, '\n') + 1)
		lines++;
	if (lines != n)
		fail_msg("%s: want %zu line(s) on stderr, got:\n%s", file, n, e);
	for (i = 0, at = e; i < n; i++) {
		const char *nl = strchr(at, '\n');
		expect_one(file, at, (size_t)(nl - at), expect ? expect[i] : NULL, positioned);
		at = nl + 1;
	}
	if (after != before)
		fail_msg("%s: %zu connection(s) to the engine", file, after - before);
	if (stat(engine.state, &st) == 0)
		fail_msg("%s: the state directory %s was created", file, engine.state);
	envup_buf_dispose(&out);
	envup_buf_dispose(&err);
}

static void expect_rejected(const char *dir, const char *file, const char *expect,
	bool positioned)
{
	expect_rejected_all(dir, file, expect ? &expect : NULL, 1, positioned);
}

/* ---- the catalogue ------------------------------------------------------------ */

static void test_spec_no_api__case(void **state)
{
	const char *name = *state;
	char path[PATH_MAX], lines[16][1024], *end;
	const char *expect[16];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", BAD_DIR, name);
	assert_non_null(f = fopen(path, "rb"));
	while (n < 16 && fgets(lines[n], sizeof(lines[n]), f)) {
		const char *tag = n == 0 ? "# expect: " : "# also: ";
		if (strncmp(lines[n], tag, strlen(tag)) != 0)
			break;
		if ((end = strpbrk(lines[n], "\r\n")) != NULL)
			*end = '\0';
		expect[n] = lines[n] + strlen(tag);
		n++;
	}
	fclose(f);
	if (n == 0)
		fail_msg("%s: the first line must be '# expect: MESSAGE'", name);
	expect_rejected_all(BAD_DIR, name, expect, n, true);
}

/* ---- generated inputs (as in test_spec_bad.c) --------------------------------- */

static void write_file(const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", engine.dir, name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_spec_no_api__generated(void **state)
{
	static const char latin1[] = "services:\n  web:\n    image: nginx\n"
		"    env: { GREETING: \"gr\xfc\xdf gott\" }\n";
	static const char head[] = "services:\n  web:\n    image: nginx\n";
	static const char nul[] = "services:\n  web:\n    image: ngi\0nx\n";
	size_t len = (size_t)10 * 1024 * 1024, i;
	char *big, *p;

	(void)state;
	write_file("latin1.yaml", latin1, sizeof(latin1) - 1);
	expect_rejected(engine.dir, "latin1.yaml",
		"latin1.yaml:4:25: invalid leading UTF-8 octet (#xFC)", true);
	write_file("empty.yaml", "", 0);
	expect_rejected(engine.dir, "empty.yaml", "empty.yaml:1:1: the spec is empty", true);

	assert_non_null(big = malloc(len));
	memcpy(big, head, sizeof(head) - 1);
	for (i = sizeof(head) - 1; i < len; i++)
		big[i] = (i % 80 == 79) ? '\n' : '#';
	write_file("big.yaml", big, len);
	free(big);
	/* an error about the file as a whole: no position (compose/spec.h) */
	expect_rejected(engine.dir, "big.yaml",
		"big.yaml: the spec is larger than 1 MiB (10485760 bytes)", false);
	expect_rejected(engine.dir, "missing.yaml",
		"missing.yaml: No such file or directory", false);

	write_file("nul.yaml", nul, sizeof(nul) - 1);
	expect_rejected(engine.dir, "nul.yaml",
		"nul.yaml:3:15: control characters are not allowed (#x0)", true);

	/* 99000 aliases of a 400 KiB scalar: 40 GB of copies without the text limit */
	assert_non_null(big = malloc(len));
	p = big + snprintf(big, len, "x-big: &a \"");
	memset(p, 'x', (size_t)400 * 1024);
	p += 400 * 1024;
	p += snprintf(p, len - (size_t)(p - big), "\"\nx-bomb: [*a");
	for (i = 1; i < 99000; i++, p += 3)
		memcpy(p, ",*a", 3);
	p += snprintf(p, len - (size_t)(p - big), "]\n%s", head);
	write_file("scalar_bomb.yaml", big, (size_t)(p - big));
	free(big);
	expect_rejected(engine.dir, "scalar_bomb.yaml", "scalar_bomb.yaml:2:67: x-bomb[19]: "
		"too much text (alias expansion?): the limit is 8 MiB", true);

	if (geteuid() != 0) { /* root reads anything */
		char path[PATH_MAX];
		write_file("locked.yaml", head, sizeof(head) - 1);
		snprintf(path, sizeof(path), "%s/locked.yaml", engine.dir);
		assert_int_equal(chmod(path, 0), 0);
		expect_rejected(engine.dir, "locked.yaml", "locked.yaml: Permission denied", false);
	}
}

/* ---- bad arguments: exit 2, one line, no connection ---------------------------- */

static void test_spec_no_api__bad_arguments(void **state)
{
	static const char good[] = "services:\n  web:\n    image: nginx\n";
	static const struct { const char *a, *b, *expect; } cases[] = {
		{"--timeout", "nan", "--timeout takes a number of seconds"},
		{"--timeout", "inf", "--timeout takes a number of seconds"},
		{"--timeout", "-1", "--timeout takes a number of seconds"},
		{"--timeout", "1e30", "--timeout takes a number of seconds"},
		{"--timeout", "", "--timeout takes a number of seconds"},
		{"--ttl", "inf", "--ttl takes a duration"},
		{"--ttl", "nan", "--ttl takes a duration"},
		{"--ttl", "1e30", "--ttl takes a duration"},
		{"--ttl", "31d", "--ttl takes a duration"},
		{"--ttl", "0", "--ttl takes a duration"},
		{"--ttl", "5x", "--ttl takes a duration"},
		{"--owner-pid", "abc", "--owner-pid takes a process id"},
		{"--format", "xml", "unknown format 'xml'"},
		/* env -i: no $GITHUB_ENV */
		{"--format", "github", "$GITHUB_ENV"},
	};
	envup_buf out = ENVUP_BUF_INIT, err = ENVUP_BUF_INIT;
	size_t i;

	(void)state;
	write_file("args.yaml", good, sizeof(good) - 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char arg[64];
		size_t before = engine_connections();
		int status;
		snprintf(arg, sizeof(arg), "%s=%s", cases[i].a, cases[i].b);
		status = run_up(&out, &err, engine.dir, "args.yaml", arg);
		if (status != 2 || out.size != 0 || !strstr(envup_buf_cstr(&err), cases[i].expect) ||
		    strchr(envup_buf_cstr(&err), '\n') != envup_buf_cstr(&err) + err.size - 1)
			fail_msg("up %s: exit %d, stderr:\n%s(want exit 2 and one line with \"%s\")", arg,
				status, envup_buf_cstr(&err), cases[i].expect);
		if (engine_connections() != before)
			fail_msg("up %s: connected to the engine", arg);
	}
	envup_buf_dispose(&out);
	envup_buf_dispose(&err);
}

/* ---- the control: a good spec does reach the fake engine ---------------------- */

static void test_spec_no_api__good_spec_connects(void **state)
{
	static const char good[] = "name: noapi-control\nservices:\n  web:\n    image: nginx\n";
	envup_buf out = ENVUP_BUF_INIT, err = ENVUP_BUF_INIT;
	size_t before, after;
	int status;

	(void)state;
	write_file("good.yaml", good, sizeof(good) - 1);
	before = engine_connections();
	status = run_up(&out, &err, engine.dir, "good.yaml", "--timeout=20");
	after = engine_connections();
	if (after == before)
		fail_msg("a good spec made no connection (status %d): the fake engine is "
			"not reached, so the zero counts prove nothing; stderr:\n%s",
			status, envup_buf_cstr(&err));
	assert_int_equal(status, 1);
	assert_int_equal(out.size, 0);
	envup_buf_dispose(&out);
	envup_buf_dispose(&err);
}

static int is_yaml(const struct dirent *e)
{
	size_t n = strlen(e->d_name);
	return n > 5 && strcmp(e->d_name + n - 5, ".yaml") == 0;
}

int main(void)
{
	struct dirent **entries = NULL;
	struct CMUnitTest *tests;
	size_t n, i, ncases;
	int found, rc;

	if ((found = scandir(BAD_DIR, &entries, is_yaml, alphasort)) < 0) {
		perror(BAD_DIR);
		return 1;
	}
	ncases = (size_t)found;
	if ((tests = calloc(ncases + 3, sizeof(*tests))) == NULL)
		return 1;
	for (i = 0; i < ncases; i++) {
		tests[i].name = entries[i]->d_name;
		tests[i].test_func = test_spec_no_api__case;
		tests[i].initial_state = entries[i]->d_name;
	}
	n = ncases;
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spec_no_api__generated);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spec_no_api__bad_arguments);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spec_no_api__good_spec_connects);
	rc = _cmocka_run_group_tests("spec_no_api", tests, n, engine_start, engine_stop);
	for (i = 0; i < ncases; i++)
		free(entries[i]);
	free(entries);
	free(tests);
	return rc;
}
