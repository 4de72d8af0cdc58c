/*
 * Passwords never reach stderr (issue #3, section 4), against the real
 * engine: the full stack comes up with random passwords, read back from
 * `up --format json`; they must appear where they belong (stdout of up,
 * `envup env`, the 0600 state file in its 0700 directory) and nowhere
 * else (progress on stderr, `envup status`, `envup ls`). Then failing ups
 * where a password would naturally end up in the error: a postgres init
 * script whose error text quotes the (configured) password, a redis whose
 * probe gets WRONGPASS until the timeout, and a container that prints the
 * password in its own log, which envup shows when it exits.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "support.h"
#include "provision/engine.h"

/* ---- helpers ------------------------------------------------------------ */

static char state_root[256];   /* a temp dir; ENVUP_STATE_DIR lives below it */

static void set_state_dir(char *out, size_t len, const char *leaf)
{
	snprintf(out, len, "%s/%s", state_root, leaf);
	setenv("ENVUP_STATE_DIR", out, 1);
}

/* "...://user:PASSWORD@host..." -> PASSWORD (no percent-encoding: random
 * passwords are alphanumeric) */
static char *url_password(const char *url)
{
	const char *at = strrchr(url, '@'), *colon;
	assert_non_null(at);
	colon = at;
	while (colon > url && *colon != ':')
		colon--;
	assert_true(colon < at);
	return strndup(colon + 1, (size_t)(at - colon - 1));
}

static void assert_mode(const char *path, unsigned want)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		fail_msg("%s: cannot stat", path);
	if ((st.st_mode & 0777) != want)
		fail_msg("%s: mode %03o, expected %03o", path, st.st_mode & 0777, want);
	assert_int_equal(st.st_uid, geteuid());
}

static void assert_secret_free(const char *what, const char *text, const char *const *secrets)
{
	size_t i;
	for (i = 0; secrets[i]; i++)
		if (text && strstr(text, secrets[i]))
			fail_msg("%s shows a password (%s):\n%s", what, secrets[i], text);
}

/* Every file in the state directory is private; only `keep` (the state
 * itself) may hold a password (watchdog logs and the like must not). */
static void assert_state_dir_private(const char *dir, const char *keep, const char *const *secrets)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char path[600];
		envup_buf text = ENVUP_BUF_INIT;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_mode(path, 0600);
		if (keep && strcmp(de->d_name, keep) == 0)
			continue;
		assert_int_equal(envup_read_file(&text, path, 0), 0);
		assert_secret_free(path, text.ptr, secrets);
		envup_buf_dispose(&text);
	}
	closedir(d);
}

/* ---- the happy path: where passwords go and where they never go -------------- */

static const char stack_spec[] =
	"services:\n"
	"  postgres:\n"
	"    template: postgres\n"
	"    init: [schema.sql]\n"
	"    export:\n"
	"      PG_PASSWORD: \"{{password}}\"\n"
	"  redis:\n"
	"    template: redis\n"
	"    export:\n"
	"      REDIS_PASSWORD: \"{{password}}\"\n"
	"  mockserver:\n"
	"    template: mockserver\n"
	"    expectations: expectations.json\n";

static void test_passwords_only_where_they_belong(void **state)
{
	it_env *t = *state;
	envup_kvlist ex = ENVUP_KVLIST_INIT;
	char dir[512], path[600];
	char *pg, *rd;
	const char *secrets[3];

	it_env_init(t, stack_spec);
	it_write(t, "schema.sql", "CREATE TABLE items (id serial PRIMARY KEY, name text);\n");
	it_write(t, "expectations.json",
		"[{\"httpRequest\":{\"path\":\"/hello\"},\"httpResponse\":{\"statusCode\":200}}]\n");
	/* envup creates the directory: it must be 0700 */
	set_state_dir(dir, sizeof(dir), "fresh");

	it_envup(t, "up", "--format", "json", NULL);
	if (t->status != 0)
		fail_msg("up failed (%d):\n%s", t->status, envup_buf_cstr(&t->err));
	it_parse_json_exports(&ex, t->out.ptr);
	pg = url_password(envup_kvlist_get(&ex, "POSTGRES_URL"));
	rd = url_password(envup_kvlist_get(&ex, "REDIS_URL"));
	assert_string_equal(pg, envup_kvlist_get(&ex, "PG_PASSWORD"));
	assert_string_equal(rd, envup_kvlist_get(&ex, "REDIS_PASSWORD"));
	assert_true(strlen(pg) >= 16 && strlen(rd) >= 16);
	assert_string_not_equal(pg, rd);
	secrets[0] = pg;
	secrets[1] = rd;
	secrets[2] = NULL;

	/* up: exports on stdout (they are the point), progress on stderr */
	it_assert_contains(t->out.ptr, pg);
	it_assert_contains(t->out.ptr, rd);
	it_assert_contains(t->err.ptr, "ready");
	assert_secret_free("stderr of up", t->err.ptr, secrets);

	/* the state file: 0600 in a 0700 directory, holding the exports */
	assert_mode(dir, 0700);
	snprintf(path, sizeof(path), "%s/%s.json", dir, t->name);
	assert_mode(path, 0600);
	{
		envup_buf text = ENVUP_BUF_INIT;
		char keep[128];
		assert_int_equal(envup_read_file(&text, path, 0), 0);
		it_assert_contains(text.ptr, pg);
		envup_buf_dispose(&text);
		snprintf(keep, sizeof(keep), "%s.json", t->name);
		assert_state_dir_private(dir, keep, secrets);
	}

	/* env: the exports again, on stdout only */
	it_envup(t, "env", NULL);
	assert_int_equal(t->status, 0);
	it_assert_contains(t->out.ptr, pg);
	it_assert_contains(t->out.ptr, rd);
	assert_secret_free("stderr of env", t->err.ptr, secrets);
	it_envup(t, "env", "--format", "dotenv", NULL);
	assert_int_equal(t->status, 0);
	it_assert_contains(t->out.ptr, pg);

	/* status and ls: never a password, on either stream */
	it_envup(t, "status", NULL);
	assert_int_equal(t->status, 0);
	it_assert_contains(t->out.ptr, "postgres");
	assert_secret_free("stdout of status", t->out.ptr, secrets);
	assert_secret_free("stderr of status", t->err.ptr, secrets);
	it_envup(t, "--no-name", "ls", NULL);
	assert_int_equal(t->status, 0);
	it_assert_contains(t->out.ptr, t->name);
	assert_secret_free("stdout of ls", t->out.ptr, secrets);
	assert_secret_free("stderr of ls", t->err.ptr, secrets);

	/* down: progress without passwords */
	it_envup(t, "down", NULL);
	assert_int_equal(t->status, 0);
	assert_secret_free("stderr of down", t->err.ptr, secrets);
	/* the state (with the passwords) goes with the environment */
	assert_int_equal(access(path, F_OK), -1);
	assert_state_dir_private(dir, NULL, secrets);

	free(pg);
	free(rd);
	envup_kvlist_dispose(&ex);
}

/* A state directory that exists with loose permissions is made private. */
/*
 * A state directory others can reach (0755, a shared 1777 one) or that
 * belongs to someone else is refused before anything exists on the
 * engine, with a message that says what is wrong, and its mode is never
 * changed.
 */
static void refused_state_dir(it_env *t, const char *leaf, unsigned mode, uid_t owner,
	const char *expect)
{
	char dir[512];
	struct stat st;

	set_state_dir(dir, sizeof(dir), leaf);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, mode), 0);
	if (owner != geteuid())
		assert_int_equal(chown(dir, owner, (gid_t)-1), 0);
	assert_int_equal(it_envup(t, "up", "-q", NULL), 2);
	it_assert_contains(t->err.ptr, dir);
	it_assert_contains(t->err.ptr, expect);
	/* one line */
	assert_true(t->err.size > 0 && strchr(t->err.ptr, '\n') == t->err.ptr + t->err.size - 1);
	assert_int_equal(it_leftovers(t->name), 0);
	assert_int_equal(lstat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
}

static void test_state_dir_refused(void **state)
{
	it_env *t = *state;
	char dir[512];

	it_env_init(t, "services:\n  redis: { template: redis }\n");
	refused_state_dir(t, "loose", 0755, geteuid(), "has mode 0755: others can reach it");
	refused_state_dir(t, "shared", 01777, geteuid(), "has mode 1777: others can reach it");
	if (geteuid() == 0)
		refused_state_dir(t, "theirs", 0700, 65534, "is owned by uid 65534, not by you");
	/* a private one works, and is left as it was */
	set_state_dir(dir, sizeof(dir), "private");
	assert_int_equal(mkdir(dir, 0700), 0);
	it_envup(t, "up", "-q", NULL);
	if (t->status != 0)
		fail_msg("up failed (%d):\n%s", t->status, envup_buf_cstr(&t->err));
	assert_mode(dir, 0700);
	{
		char path[600];
		snprintf(path, sizeof(path), "%s/%s.json", dir, t->name);
		assert_mode(path, 0600);
	}
}

/* ---- failures where a password would naturally show ----------------------- */

/*
 * The spec sets the postgres password (from the environment, as a user
 * would), and an init script fails with a server message that quotes it:
 * invalid input syntax for type integer: "PASSWORD". The error on stderr
 * names the file and line and keeps the server's words, masked.
 */
static void test_init_error_quoting_the_password(void **state)
{
	it_env *t = *state;
	char secret[64], sql[256];
	const char *secrets[2];

	snprintf(secret, sizeof(secret), "Init%dSecret%ldXy", (int)getpid(), (long)time(NULL));
	setenv("IT_SECRET_PG_PASSWORD", secret, 1);
	secrets[0] = secret;
	secrets[1] = NULL;
	it_env_init(t, "services:\n"
		"  db:\n"
		"    template: postgres\n"
		"    env: { POSTGRES_PASSWORD: \"${IT_SECRET_PG_PASSWORD}\" }\n"
		"    init: [leak.sql]\n");
	snprintf(sql, sizeof(sql), "CREATE TABLE t (x int);\n-- the next line fails\n"
		"SELECT '%s'::int;\n", secret);
	it_write(t, "leak.sql", sql);
	it_envup(t, "up", NULL);
	unsetenv("IT_SECRET_PG_PASSWORD");
	if (t->status != 1)
		fail_msg("up: exit %d, expected 1:\n%s", t->status, envup_buf_cstr(&t->err));
	assert_int_equal(t->out.size, 0);
	it_assert_contains(t->err.ptr, "leak.sql line 3");
	it_assert_contains(t->err.ptr, "invalid input syntax for type integer");
	it_assert_contains(t->err.ptr, "***");
	assert_secret_free("stderr of a failing up (init script)", t->err.ptr, secrets);
	assert_int_equal(it_leftovers(t->name), 0);
}

/*
 * Short passwords are masked too (a 3-character one once reached stderr),
 * and masking a word-like one ("test") leaves words that merely contain
 * it alone: the init file fixtures/test_seed.sql keeps its name.
 */
static void short_password(it_env *t, const char *password, const char *file)
{
	char sql[256], where[128], quoted[64];

	setenv("IT_SHORT_PG_PASSWORD", password, 1);
	{
		char spec[512];
		snprintf(spec, sizeof(spec), "services:\n"
			"  db:\n"
			"    template: postgres\n"
			"    env: { POSTGRES_PASSWORD: \"${IT_SHORT_PG_PASSWORD}\" }\n"
			"    init: [%s]\n", file);
		it_env_init(t, spec);
	}
	snprintf(sql, sizeof(sql), "-- the next line quotes the password\nSELECT '%s'::int;\n", password);
	it_write(t, file, sql);
	it_envup(t, "up", NULL);
	unsetenv("IT_SHORT_PG_PASSWORD");
	if (t->status != 1)
		fail_msg("up: exit %d, expected 1:\n%s", t->status, envup_buf_cstr(&t->err));
	snprintf(where, sizeof(where), "%s line 2", file);
	it_assert_contains(t->err.ptr, where);
	it_assert_contains(t->err.ptr, "invalid input syntax for type integer: \"***\"");
	snprintf(quoted, sizeof(quoted), "\"%s\"", password);
	it_assert_not_contains(t->err.ptr, quoted);
	snprintf(quoted, sizeof(quoted), ":%s@", password);
	it_assert_not_contains(t->err.ptr, quoted);
	assert_int_equal(it_leftovers(t->name), 0);
}

static void test_short_passwords(void **state)
{
	it_env *t = *state;
	short_password(t, "Zq9", "init.sql");
	it_assert_not_contains(t->err.ptr, "Zq9");
	it_env_cleanup(t);
	short_password(t, "test", "fixtures/test_seed.sql");
	it_assert_contains(t->err.ptr, "fixtures/test_seed.sql");
	it_assert_not_contains(t->err.ptr, "***_seed");
}

/* Run envup up in the background: stdout/stderr to files in t->dir. */
static pid_t spawn_up(it_env *t, const char *timeout)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char out[512], err[512];
		int fo, fe;
		snprintf(out, sizeof(out), "%s/up.out", t->dir);
		snprintf(err, sizeof(err), "%s/up.err", t->dir);
		fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fo < 0 || fe < 0 || chdir(t->dir) < 0)
			_exit(126);
		dup2(fo, 1);
		dup2(fe, 2);
		execl(ENVUP_BIN, ENVUP_BIN, "up", "-n", t->name, "--timeout", timeout, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The entrypoint the engine holds for a container, joined with ' ' (or NULL). */
static char *container_entrypoint(const char *container)
{
	envup_engine *e = NULL;
	envup_engine_options eo = {0};
	envup_buf resp = ENVUP_BUF_INIT, joined = ENVUP_BUF_INIT;
	char path[300];
	long status = 0;
	cJSON *json, *ep, *it;
	char *result = NULL;

	assert_int_equal(envup_engine_open(&e, &eo), 0);
	snprintf(path, sizeof(path), "/containers/%s/json", container);
	if (envup_engine_request(e, "GET", path, NULL, NULL, 0, &status, &resp) == 0 &&
	    status == 200 && (json = cJSON_Parse(resp.ptr)) != NULL) {
		ep = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(json, "Config"),
			"Entrypoint");
		cJSON_ArrayForEach(it, ep)
			if (cJSON_IsString(it))
				assert_int_equal(envup_buf_printf(&joined, "%s ", it->valuestring), 0);
		cJSON_Delete(json);
		if (joined.size)
			result = strdup(joined.ptr);
	}
	envup_buf_dispose(&resp);
	envup_buf_dispose(&joined);
	envup_engine_free(e);
	return result;
}

/*
 * Read the password a redis template service was given from its container
 * while `up` runs (it is random and envup never prints it): the entrypoint
 * below holds it after "booting with password ".
 */
static char *password_while_up(it_env *t, const char *service, pid_t up_pid, int *status)
{
	char container[160], *ep = NULL, *at, *pw;
	double until = envup_now() + 60;

	snprintf(container, sizeof(container), "envup-%s-%s", t->name, service);
	while (!ep && envup_now() < until) {
		if ((ep = container_entrypoint(container)) == NULL)
			envup_sleep_ms(20);
	}
	assert_int_equal(waitpid(up_pid, status, 0), up_pid);
	if (!ep)
		fail_msg("never saw container %s while up ran", container);
	at = strstr(ep, "booting with password ");
	assert_non_null(at);
	at += strlen("booting with password ");
	pw = strndup(at, strcspn(at, "\""));
	free(ep);
	assert_true(strlen(pw) >= 16);
	return pw;
}

static void read_up_output(it_env *t, envup_buf *out, envup_buf *err)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/up.out", t->dir);
	assert_int_equal(envup_read_file(out, path, 0), 0);
	snprintf(path, sizeof(path), "%s/up.err", t->dir);
	assert_int_equal(envup_read_file(err, path, 0), 0);
}

/*
 * A redis template service whose command sets a DIFFERENT requirepass
 * ("{{password}}-other") than the template's password, after printing the
 * real one: the probe's AUTH gets WRONGPASS until --timeout 5 ends the up.
 */
static void test_wrongpass_probe_timeout(void **state)
{
	it_env *t = *state;
	envup_buf err = ENVUP_BUF_INIT, out = ENVUP_BUF_INIT;
	const char *secrets[2];
	char *pw;
	int status = 0, attempt;
	pid_t pid;

	it_env_init(t, "services:\n"
		"  cache:\n"
		"    template: redis\n"
		"    entrypoint: [sh, -c, 'echo \"booting with password {{password}}\"; "
		"exec redis-server --requirepass \"{{password}}-other\" --save \"\"']\n");
	/* on a loaded machine 5 s may end before redis even answers: then the
	 * probe never saw WRONGPASS, and the scenario is tried again */
	for (attempt = 1; attempt <= 3; attempt++) {
		envup_buf_clear(&err);
		envup_buf_clear(&out);
		pid = spawn_up(t, "5");
		pw = password_while_up(t, "cache", pid, &status);
		secrets[0] = pw;
		secrets[1] = NULL;
		read_up_output(t, &out, &err);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
			fail_msg("up: status %d, expected exit 1:\n%s", status, envup_buf_cstr(&err));
		assert_int_equal(out.size, 0);
		it_assert_contains(err.ptr, "cache:");
		assert_secret_free("stderr of a failing up (WRONGPASS)", err.ptr, secrets);
		assert_int_equal(it_leftovers(t->name), 0);
		free(pw);
		if (strstr(err.ptr, "WRONGPASS"))
			break;
		fprintf(stderr, "note: attempt %d timed out before the probe met WRONGPASS:\n%s",
			attempt, err.ptr);
	}
	it_assert_contains(err.ptr, "WRONGPASS");
	envup_buf_dispose(&err);
	envup_buf_dispose(&out);
}

/*
 * The container prints the password and exits: the failure report shows
 * its last log lines, where the password must be masked.
 */
static void test_logs_of_a_failed_container_masked(void **state)
{
	it_env *t = *state;
	envup_buf err = ENVUP_BUF_INIT, out = ENVUP_BUF_INIT;
	const char *secrets[2];
	char *pw;
	int status = 0;
	pid_t pid;

	it_env_init(t, "services:\n"
		"  cache:\n"
		"    template: redis\n"
		"    entrypoint: [sh, -c, 'echo \"booting with password {{password}}\"; "
		"echo \"url redis://:{{password}}@x\" >&2; sleep 1; exit 3']\n");
	pid = spawn_up(t, "60");
	pw = password_while_up(t, "cache", pid, &status);
	secrets[0] = pw;
	secrets[1] = NULL;
	read_up_output(t, &out, &err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
		fail_msg("up: status %d, expected exit 1:\n%s", status, envup_buf_cstr(&err));
	assert_int_equal(out.size, 0);
	it_assert_contains(err.ptr, "cache: container exited with code 3");
	it_assert_contains(err.ptr, "booting with password ***");
	it_assert_contains(err.ptr, "url redis://:***@x");
	assert_secret_free("stderr of a failing up (container logs)", err.ptr, secrets);
	assert_int_equal(it_leftovers(t->name), 0);
	free(pw);
	envup_buf_dispose(&err);
	envup_buf_dispose(&out);
}

/* ---- main ------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_passwords_only_where_they_belong, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_refused, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_init_error_quoting_the_password, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_short_passwords, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_wrongpass_probe_timeout, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_logs_of_a_failed_container_masked, it_setup, it_teardown),
	};
	int rc;

	it_require_engine();
	snprintf(state_root, sizeof(state_root), "/tmp/envup-it-secrets-XXXXXX");
	if (!mkdtemp(state_root)) {
		perror("mkdtemp");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	nftw(state_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
