/*
 * A C suite's whole use of the library against the real engine: up from a
 * spec in memory with progress, every getter of the handle (the URLs
 * checked with libpq and hiredis), every export format, open by name,
 * status, list, summary, logs, down by handle and by name, the removal
 * record, the owner refusal and --force, gc of an environment whose owner
 * and watchdog are gone, and down_all. The host program's own cJSON hooks
 * stay as it set them.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "api.h"

/* ---- the host's own cJSON --------------------------------------------- */

/* (envup's threads use cJSON too, through these hooks: counted atomically) */
static atomic_size_t host_cjson_mallocs;

static void *host_malloc(size_t n)
{
	atomic_fetch_add(&host_cjson_mallocs, 1);
	return malloc(n);
}

static void host_cjson_parse(void)
{
	cJSON *j = cJSON_Parse("{\"host\": [1, 2, 3]}");
	assert_non_null(j);
	cJSON_Delete(j);
}

/* ---- progress --------------------------------------------------------------- */

typedef struct {
	pthread_mutex_t lock;
	int ready[8];       /* READY events per service index of the spec */
	int events;
	int concurrent;     /* callbacks running at once: must stay 1 */
	int max_concurrent;
} progress_log;

static void on_progress(const char *service, envup_state state, const char *detail,
	double elapsed, void *payload)
{
	progress_log *p = payload;

	(void)detail;
	assert_true(elapsed >= 0);
	pthread_mutex_lock(&p->lock);
	p->events++;
	if (state == ENVUP_STATE_READY && service)
		p->ready[strcmp(service, "postgres") == 0 ? 0 : 1]++;
	pthread_mutex_unlock(&p->lock);
}

/* ---- helpers ------------------------------------------------------------------ */

static envup_env *up(const char *name, progress_log *log, long owner_pid, int keep)
{
	envup_up_options o = ENVUP_UP_OPTIONS_INIT;
	envup_env *env = NULL;

	o.spec_text = api_spec;
	o.name = name;
	o.timeout = 120;
	o.owner_pid = owner_pid;
	o.keep = keep;
	if (log) {
		o.progress = on_progress;
		o.progress_payload = log;
	}
	api_ok(envup_up(&env, &o));
	assert_non_null(env);
	return env;
}

/* The watchdog helper of environment `name`, found in /proc. */
static pid_t find_watchdog(const char *name)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	assert_non_null(d);
	while (!found && (e = readdir(d)) != NULL) {
		char path[300], cmd[4096];
		size_t n, i;
		FILE *f;
		int seen_env = 0;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		cmd[n] = '\0';
		if (!strstr(cmd, "envup-watchdog"))
			continue;
		for (i = 0; i < n; i += strlen(cmd + i) + 1) {
			if (seen_env && strcmp(cmd + i, name) == 0)
				found = (pid_t)atol(e->d_name);
			seen_env = strcmp(cmd + i, "--env") == 0;
		}
	}
	closedir(d);
	return found;
}

/* Wait until `pid` is gone (or a zombie): it is not our child. */
static void wait_gone(pid_t pid)
{
	char path[64], buf[512];
	int i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	for (i = 0; i < 10000; i++) {
		FILE *f = fopen(path, "r");
		char *p;
		if (!f)
			return;
		buf[0] = '\0';
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] == 'Z')
			return;
		usleep(1000);
	}
	fail_msg("process %ld did not go", (long)pid);
}

/* A child in a session of its own that lives until killed. */
static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		setsid();
		for (;;)
			pause();
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

typedef struct {
	char buf[65536];
	size_t len;
	int calls;
	int stop_after;
} log_sink;

static int on_log(const char *data, size_t len, void *payload)
{
	log_sink *s = payload;
	size_t room = sizeof(s->buf) - 1 - s->len;

	if (len > room)
		len = room;
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
	s->calls++;
	return s->stop_after && s->calls >= s->stop_after;
}

/* ---- tests ------------------------------------------------------------------------ */

static void check_handle(const envup_env *env, const char *name)
{
	const char *db, *redis, *pw = NULL;
	size_t i, n;
	int found = 0;

	assert_string_equal(envup_env_name(env), name);

	/* exports, by index and by name */
	n = envup_env_export_count(env);
	assert_true(n >= 8); /* POSTGRES_HOST/PORT/URL, REDIS_*, the two of the spec */
	for (i = 0; i < n; i++) {
		const char *k = envup_env_export_name(env, i), *v = envup_env_export_value(env, i);
		assert_non_null(k);
		assert_non_null(v);
		assert_string_equal(envup_env_export_get(env, k), v);
		found += strcmp(k, "TEST_DATABASE_URL") == 0 || strcmp(k, "REDIS_TEST_URL") == 0;
	}
	assert_int_equal(found, 2);
	assert_null(envup_env_export_name(env, n));
	assert_null(envup_env_export_value(env, n));
	assert_null(envup_env_export_get(env, "NOT_EXPORTED"));

	/* services */
	assert_int_equal(envup_env_service_count(env), 2);
	assert_string_equal(envup_env_service_name(env, 0), "postgres");
	assert_string_equal(envup_env_service_name(env, 1), "redis");
	assert_null(envup_env_service_name(env, 2));
	assert_string_equal(envup_env_service_host(env, "postgres"), "127.0.0.1");
	assert_null(envup_env_service_host(env, "nosuch"));
	assert_true(envup_env_service_port(env, "postgres", 0) > 0);
	assert_int_equal(envup_env_service_port(env, "postgres", 5432),
		envup_env_service_port(env, "postgres", 0));
	assert_int_equal(envup_env_service_port(env, "postgres", 1234), -1);
	assert_int_equal(envup_env_service_port(env, "nosuch", 0), -1);
	assert_int_equal(atoi(envup_env_export_get(env, "REDIS_PORT")),
		envup_env_service_port(env, "redis", 6379));
	assert_null(envup_env_service_url(env, "nosuch"));

	/* the URLs answer their real clients */
	db = envup_env_service_url(env, "postgres");
	redis = envup_env_service_url(env, "redis");
	assert_string_equal(db, envup_env_export_get(env, "POSTGRES_URL"));
	assert_string_equal(db, envup_env_export_get(env, "TEST_DATABASE_URL"));
	api_check_postgres_url(db);
	api_check_redis_url(redis);
	api_check_redis_url(envup_env_export_get(env, "REDIS_TEST_URL"));

	/* secrets: the passwords, each in the URLs */
	n = envup_env_secret_count(env);
	assert_true(n >= 2);
	for (i = 0; i < n; i++) {
		const char *s = envup_env_secret(env, i);
		assert_non_null(s);
		if (strstr(db, s))
			pw = s;
	}
	assert_non_null(pw);
	assert_null(envup_env_secret(env, n));
}

static void check_formats(const envup_env *env)
{
	const char *db = envup_env_export_get(env, "TEST_DATABASE_URL");
	char *out = NULL, want[1024];
	cJSON *j;

	api_ok(envup_env_format(&out, env, ENVUP_FORMAT_SHELL));
	snprintf(want, sizeof(want), "export TEST_DATABASE_URL='%s'\n", db);
	assert_non_null(strstr(out, want));
	envup_free(out);

	api_ok(envup_env_format(&out, env, ENVUP_FORMAT_DOTENV));
	snprintf(want, sizeof(want), "\nTEST_DATABASE_URL='%s'\n", db);
	assert_non_null(strstr(out, want));
	envup_free(out);

	api_ok(envup_env_format(&out, env, ENVUP_FORMAT_JSON));
	assert_non_null(j = cJSON_Parse(out));
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "TEST_DATABASE_URL")->valuestring, db);
	cJSON_Delete(j);
	envup_free(out);

	api_ok(envup_env_format(&out, env, ENVUP_FORMAT_GITHUB));
	assert_non_null(strstr(out, "TEST_DATABASE_URL<<ghadelimiter_"));
	assert_non_null(strstr(out, db));
	envup_free(out);

	api_ok(envup_env_format(&out, env, ENVUP_FORMAT_GITLAB));
	snprintf(want, sizeof(want), "TEST_DATABASE_URL=%s\n", db);
	assert_non_null(strstr(out, want));
	envup_free(out);
}

static void check_by_name(const envup_env *env, const char *name)
{
	envup_target t = ENVUP_TARGET_INIT;
	envup_service_status *st = NULL;
	envup_env_summary *ls = NULL, *one = NULL;
	envup_env *again = NULL;
	size_t n = 0, i;
	log_sink logs = {.len = 0};
	int mine = 0;

	t.name = name;
	/* open: the same exports */
	api_ok(envup_env_open(&again, &t));
	assert_int_equal(envup_env_export_count(again), envup_env_export_count(env));
	assert_string_equal(envup_env_export_get(again, "TEST_DATABASE_URL"),
		envup_env_export_get(env, "TEST_DATABASE_URL"));
	assert_int_equal(envup_env_service_port(again, "redis", 0), envup_env_service_port(env, "redis", 0));
	envup_env_free(again);

	/* status: both running, published on 127.0.0.1 at the handle's ports */
	api_ok(envup_status(&st, &n, &t));
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		assert_string_equal(st[i].state, "running");
		assert_true(st[i].nports >= 1);
		assert_string_equal(st[i].port_list[0].host_ip, "127.0.0.1");
		assert_int_equal(st[i].port_list[0].host_port,
			envup_env_service_port(env, st[i].service, st[i].port_list[0].container_port));
		assert_null(st[i].node);   /* one engine: no node (a swarm names it) */
	}
	envup_status_free(st, n);

	/* list and summary: owned by this process */
	api_ok(envup_list(&ls, &n, NULL));
	for (i = 0; i < n; i++) {
		if (strcmp(ls[i].name, name) != 0)
			continue;
		mine++;
		assert_int_equal(ls[i].containers, 2);
		assert_int_equal(ls[i].running, 2);
		assert_string_equal(ls[i].owner_kind, "process");
		assert_int_equal(ls[i].owner_pid, (long)getpid());
		assert_int_equal(ls[i].owner_alive, 1);
	}
	envup_list_free(ls, n);
	assert_int_equal(mine, 1);
	api_ok(envup_env_summary_get(&one, &t));
	assert_string_equal(one->name, name);
	assert_int_equal(one->owner_pid, (long)getpid());
	assert_true(one->expires > (long long)time(NULL) + 3000);
	assert_int_equal(one->expires, envup_env_expires(env));
	envup_list_free(one, 1);
	{
		char pid[32];
		snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		assert_non_null(strstr(envup_env_owner(env), pid));
	}

	/* logs: everything so far, then a callback that stops at once */
	api_ok(envup_logs(&t, "postgres", -1, 0, on_log, &logs));
	assert_true(logs.len > 0);
	logs.len = 0;
	logs.calls = 0;
	logs.stop_after = 1;
	api_ok(envup_logs(&t, "postgres", -1, 1, on_log, &logs));
	assert_int_equal(logs.calls, 1);
	assert_int_not_equal(envup_logs(&t, "nosuch", -1, 0, on_log, &logs), 0);
	assert_non_null(strstr(envup_error_last()->message, "postgres"));
}

static void test_a_suite_from_up_to_down(void **state)
{
	progress_log log = {.lock = PTHREAD_MUTEX_INITIALIZER};
	envup_target t = ENVUP_TARGET_INIT;
	envup_removal why;
	envup_env *env, *gone = NULL;
	envup_env_summary *sum = NULL;
	envup_service_status *st = NULL;
	char name[64];
	size_t removed = 0, n = 99;
	size_t before;

	(void)state;
	host_cjson_parse();
	before = atomic_load(&host_cjson_mallocs);
	assert_true(before > 0);

	api_name(name, sizeof(name));
	env = up(name, &log, 0, 0);
	assert_int_equal(log.ready[0], 1);
	assert_int_equal(log.ready[1], 1);
	check_handle(env, name);
	check_formats(env);
	check_by_name(env, name);

	/* down by handle, then nothing is left, and envup says why it went */
	api_ok(envup_env_down(&removed, env, NULL, NULL));
	assert_true(removed >= 3); /* two containers and the network */
	assert_int_equal(api_leftovers(name), 0);
	t.name = name;
	api_ok(envup_env_removed(&why, &t));
	assert_string_equal(why.by, "envdown");
	assert_true(why.at > 0);
	assert_int_equal(envup_env_open(&gone, &t), ENVUP_ENOTFOUND);
	assert_non_null(strstr(envup_error_last()->message, "is not up"));
	assert_int_equal(envup_env_summary_get(&sum, &t), ENVUP_ENOTFOUND);
	api_ok(envup_status(&st, &n, &t));
	assert_int_equal(n, 0);
	envup_status_free(st, n);
	/* down by name: nothing to remove is success */
	removed = 99;
	api_ok(envup_down(&removed, &t));
	assert_int_equal(removed, 0);
	envup_env_free(env);
	envup_env_free(NULL);

	/* the host's cJSON hooks are still its own */
	before = atomic_load(&host_cjson_mallocs);
	host_cjson_parse();
	assert_true(atomic_load(&host_cjson_mallocs) > before);
}

/* Owned by a live process in another session: envup_down refuses, naming
 * it; with force it removes. */
static void test_down_refuses_a_live_foreign_owner(void **state)
{
	envup_target t = ENVUP_TARGET_INIT;
	pid_t owner = spawn_sleeper();
	char name[64], pid[32];
	size_t removed = 0;
	envup_env *env;

	(void)state;
	api_name(name, sizeof(name));
	env = up(name, NULL, (long)owner, 0);
	t.name = name;
	assert_int_equal(envup_down(&removed, &t), ENVUP_ENOTOWNER);
	snprintf(pid, sizeof(pid), "%ld", (long)owner);
	assert_non_null(strstr(envup_error_last()->message, pid));
	assert_int_equal(removed, 0);
	assert_true(api_leftovers(name) >= 3);
	t.force = 1;
	api_ok(envup_down(&removed, &t));
	assert_true(removed >= 3);
	assert_int_equal(api_leftovers(name), 0);
	envup_env_free(env);
	reap(owner);
}

/* The owner and the watchdog are gone: gc removes it, saying why. */
static void test_gc_after_the_owner_and_watchdog(void **state)
{
	envup_gc_entry *gc = NULL;
	pid_t owner = spawn_sleeper(), wd;
	char name[64];
	size_t n = 0, i;
	envup_env *env;
	int mine = 0;

	(void)state;
	api_name(name, sizeof(name));
	env = up(name, NULL, (long)owner, 0);
	wd = find_watchdog(name);
	assert_true(wd > 0);
	kill(wd, SIGKILL);
	wait_gone(wd);
	reap(owner);
	assert_true(api_leftovers(name) >= 3);

	api_ok(envup_gc(&gc, &n, NULL));
	for (i = 0; i < n; i++) {
		if (strcmp(gc[i].name, name) != 0)
			continue;
		mine++;
		assert_int_equal(gc[i].failed, 0);
		assert_true(gc[i].removed >= 3);
		assert_non_null(strstr(gc[i].reason, "gone"));
	}
	envup_gc_free(gc, n);
	assert_int_equal(mine, 1);
	assert_int_equal(api_leftovers(name), 0);
	envup_env_free(env);
}

/* down_all removes every envup environment on the engine: only where the
 * engine is this test's (CI, or ENVUP_TEST_DESTRUCTIVE=1). */
static void test_down_all(void **state)
{
	const char *ci = getenv("CI"), *allow = getenv("ENVUP_TEST_DESTRUCTIVE");
	char name[64];
	size_t removed = 0;
	envup_env *env;

	(void)state;
	if (!((ci && strcmp(ci, "true") == 0) || (allow && strcmp(allow, "1") == 0))) {
		fprintf(stderr, "note: envup_down_all skipped: it removes every environment on a "
			"shared engine (runs with CI=true or ENVUP_TEST_DESTRUCTIVE=1)\n");
		skip();
	}
	api_name(name, sizeof(name));
	env = up(name, NULL, 0, 1);
	api_ok(envup_down_all(&removed, NULL));
	assert_true(removed >= 3);
	assert_int_equal(api_leftovers(name), 0);
	envup_env_free(env);
}

int main(void)
{
	static const cJSON_Hooks hooks = {host_malloc, free};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_suite_from_up_to_down),
		cmocka_unit_test(test_down_refuses_a_live_foreign_owner),
		cmocka_unit_test(test_gc_after_the_owner_and_watchdog),
		cmocka_unit_test(test_down_all),
	};

	api_require_engine();
	api_private_state_dir();
	cJSON_InitHooks((cJSON_Hooks *)&hooks);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
