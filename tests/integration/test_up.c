/*
 * envup up / down end to end, against the real engine: each template
 * alone, the full stack, and the commands around it. Every export is
 * checked with a real client (libpq, hiredis, libcurl), and every test
 * ends with a check that nothing labelled with its environment is left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include "support.h"
#include "compose/spec.h"

/* ---- clients --------------------------------------------------------- */

static char *pg_query(const char *url, const char *sql)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r;
	char *v = NULL;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot connect to %s: %s", url, PQerrorMessage(c));
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	if (PQntuples(r) > 0)
		v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return v;
}

static long http_get(const char *url, envup_buf *body);

static size_t http_write(char *p, size_t s, size_t n, void *ud)
{
	if (envup_buf_put(ud, p, s * n) < 0)
		return 0;
	return s * n;
}

static long http_get(const char *url, envup_buf *body)
{
	CURL *h = curl_easy_init();
	long code = 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	return code;
}

/* redis://default:PASSWORD@HOST:PORT[/DB], as a client library reads it */
static redisContext *redis_connect_url(const char *url, int *db)
{
	char pass[128] = "", host[64] = "";
	int port = 0;
	redisContext *c;
	redisReply *r;

	*db = 0;
	if (sscanf(url, "redis://default:%127[^@]@%63[^:]:%d/%d", pass, host, &port, db) < 3)
		fail_msg("cannot parse %s", url);
	c = redisConnect(host, port);
	if (!c || c->err)
		fail_msg("cannot connect to redis at %s:%d", host, port);
	r = redisCommand(c, "AUTH default %s", pass);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);
	if (*db) {
		r = redisCommand(c, "SELECT %d", *db);
		assert_int_equal(r->type, REDIS_REPLY_STATUS);
		freeReplyObject(r);
	}
	return c;
}

/* ---- specs ------------------------------------------------------------ */

static const char *SCHEMA_SQL =
	"CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL);\n";
static const char *SEED_SQL =
	"INSERT INTO users (name) VALUES ('ada'), ('grace');\n";
static const char *EXPECTATIONS =
	"[{\"httpRequest\": {\"method\": \"GET\", \"path\": \"/api/users\"},\n"
	"  \"httpResponse\": {\"statusCode\": 200, \"body\": \"[{\\\"id\\\":1}]\"}}]\n";

static const char *FULL_SPEC =
	"services:\n"
	"  postgres:\n"
	"    template: postgres\n"
	"    env: { POSTGRES_DB: testdb }\n"
	"    init: [migrations/001_schema.sql, testdata/seed.sql]\n"
	"    export:\n"
	"      TEST_DATABASE_URL: \"{{url}}\"\n"
	"  redis:\n"
	"    template: redis\n"
	"    export:\n"
	"      REDIS_TEST_URL: \"{{url}}/1\"\n"
	"  mockserver:\n"
	"    template: mockserver\n"
	"    expectations: testdata/mocks/expectations.json\n"
	"  worker:\n"
	"    image: nginx:1.27-alpine\n"
	"    env: { MODE: test }\n"
	"    command: [\"nginx\", \"-g\", \"daemon off;\"]\n"
	"    ports: [80]\n"
	"    wait: { http: { port: 80, path: /, status: 200 } }\n"
	"    depends_on: [postgres, redis]\n";

static void write_data(it_env *t)
{
	it_write(t, "migrations/001_schema.sql", SCHEMA_SQL);
	it_write(t, "testdata/seed.sql", SEED_SQL);
	it_write(t, "testdata/mocks/expectations.json", EXPECTATIONS);
}

/* ---- tests ------------------------------------------------------------ */

static void test_postgres_alone(void **state)
{
	it_env *t = *state;
	envup_kvlist ex = ENVUP_KVLIST_INIT;
	char *v;
	const char *url;

	it_env_init(t, "services:\n"
		"  db:\n"
		"    template: postgres\n"
		"    init: [migrations/001_schema.sql, testdata/seed.sql]\n"
		"    export: { TEST_DATABASE_URL: \"{{url}}\", DB_PASSWORD: \"{{password}}\" }\n");
	write_data(t);
	assert_int_equal(it_envup(t, "up", "--format", "json", NULL), 0);
	it_parse_json_exports(&ex, t->out.ptr);
	url = envup_kvlist_get(&ex, "TEST_DATABASE_URL");
	assert_non_null(url);
	assert_string_equal(url, envup_kvlist_get(&ex, "DB_URL"));
	it_assert_contains(url, "postgres://test:");
	it_assert_contains(url, "@127.0.0.1:");
	it_assert_contains(url, "/test?sslmode=disable");
	assert_string_equal(envup_kvlist_get(&ex, "DB_HOST"), "127.0.0.1");
	assert_non_null(envup_kvlist_get(&ex, "DB_PORT"));
	/* the init scripts ran, in order, before "ready" */
	v = pg_query(url, "SELECT string_agg(name, ',' ORDER BY id) FROM users");
	assert_string_equal(v, "ada,grace");
	free(v);
	/* the generated password is never on stderr */
	assert_true(strlen(envup_kvlist_get(&ex, "DB_PASSWORD")) >= 16);
	it_assert_not_contains(t->err.ptr, envup_kvlist_get(&ex, "DB_PASSWORD"));
	envup_kvlist_dispose(&ex);
}

static void test_redis_alone(void **state)
{
	it_env *t = *state;
	envup_kvlist ex = ENVUP_KVLIST_INIT;
	redisContext *c;
	redisReply *r;
	int db;
	char host[64];
	int port;

	it_env_init(t, "services:\n"
		"  cache:\n"
		"    template: redis\n"
		"    export: { REDIS_TEST_URL: \"{{url}}/1\" }\n");
	assert_int_equal(it_envup(t, "up", "--format", "json", NULL), 0);
	it_parse_json_exports(&ex, t->out.ptr);
	it_assert_contains(envup_kvlist_get(&ex, "REDIS_TEST_URL"), "redis://default:");
	c = redis_connect_url(envup_kvlist_get(&ex, "REDIS_TEST_URL"), &db);
	assert_int_equal(db, 1);
	r = redisCommand(c, "SET greeting hello");
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);
	r = redisCommand(c, "GET greeting");
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_string_equal(r->str, "hello");
	freeReplyObject(r);
	redisFree(c);

	/* without the password, the server refuses */
	snprintf(host, sizeof(host), "%s", envup_kvlist_get(&ex, "CACHE_HOST"));
	port = atoi(envup_kvlist_get(&ex, "CACHE_PORT"));
	c = redisConnect(host, port);
	r = redisCommand(c, "GET greeting");
	assert_int_equal(r->type, REDIS_REPLY_ERROR);
	it_assert_contains(r->str, "NOAUTH");
	freeReplyObject(r);
	redisFree(c);
	envup_kvlist_dispose(&ex);
}

static void test_mockserver_alone(void **state)
{
	it_env *t = *state;
	envup_kvlist ex = ENVUP_KVLIST_INIT;
	envup_buf body = ENVUP_BUF_INIT;
	char url[256];

	it_env_init(t, "services:\n"
		"  mocks:\n"
		"    template: mockserver\n"
		"    expectations: testdata/mocks/expectations.json\n");
	write_data(t);
	assert_int_equal(it_envup(t, "up", "--format", "json", NULL), 0);
	it_parse_json_exports(&ex, t->out.ptr);
	snprintf(url, sizeof(url), "%s/api/users", envup_kvlist_get(&ex, "MOCKS_URL"));
	assert_int_equal(http_get(url, &body), 200);
	assert_string_equal(body.ptr, "[{\"id\":1}]");
	envup_buf_clear(&body);
	snprintf(url, sizeof(url), "%s/not/mocked", envup_kvlist_get(&ex, "MOCKS_URL"));
	assert_int_equal(http_get(url, &body), 404);
	envup_buf_dispose(&body);
	envup_kvlist_dispose(&ex);
}

static void test_full_stack(void **state)
{
	it_env *t = *state;
	envup_buf out = ENVUP_BUF_INIT, err = ENVUP_BUF_INIT;
	char script[16384];
	const char *argv[] = {"/bin/sh", "-c", script, NULL};

	it_env_init(t, FULL_SPEC);
	write_data(t);
	assert_int_equal(it_envup(t, "up", NULL), 0);
	/* stdout is only exports, in a form eval accepts */
	snprintf(script, sizeof(script),
		"set -e; eval \"$(cat <<'EOF'\n%sEOF\n)\"; "
		"psql \"$TEST_DATABASE_URL\" -Atc 'select count(*) from users'; "
		/* the URL as exported, database number included, with redis-cli */
		"redis-cli -u \"$REDIS_TEST_URL\" --no-auth-warning ping; "
		"redis-cli -u \"$REDIS_TEST_URL\" --no-auth-warning set k v >/dev/null; "
		"redis-cli -u \"$REDIS_URL/1\" --no-auth-warning get k; "
		"curl -s \"$MOCKSERVER_URL/api/users\"; echo; "
		"curl -s -o /dev/null -w '%%{http_code}\\n' \"http://$WORKER_HOST:$WORKER_PORT/\"; "
		"echo \"$POSTGRES_URL\" | grep -q '/testdb?sslmode=disable' && echo dbname-ok",
		envup_buf_cstr(&t->out));
	if (it_exec(t->dir, argv, NULL, &out, &err, NULL) != 0)
		fail_msg("client script failed:\n%s\n%s", envup_buf_cstr(&out), envup_buf_cstr(&err));
	assert_string_equal(out.ptr, "2\nPONG\nv\n[{\"id\":1}]\n200\ndbname-ok\n");
	/* progress went to stderr, one line per state change, with timings */
	it_assert_contains(t->err.ptr, "postgres: ready");
	it_assert_contains(t->err.ptr, "worker: ready");
	it_assert_contains(t->err.ptr, "ready in");

	/* env prints the same exports again, in every format */
	{
		envup_buf first = ENVUP_BUF_INIT;
		assert_int_equal(envup_buf_puts(&first, t->out.ptr), 0);
		assert_int_equal(it_envup(t, "env", NULL), 0);
		assert_string_equal(t->out.ptr, first.ptr);
		envup_buf_dispose(&first);
		assert_int_equal(it_envup(t, "env", "--format", "dotenv", NULL), 0);
		it_assert_contains(t->out.ptr, "TEST_DATABASE_URL='postgres://");
		assert_int_equal(it_envup(t, "env", "--format", "json", NULL), 0);
		it_assert_contains(t->out.ptr, "\"REDIS_TEST_URL\"");
	}
	/* status lists every service, never a password */
	assert_int_equal(it_envup(t, "status", NULL), 0);
	it_assert_contains(t->out.ptr, "postgres");
	it_assert_contains(t->out.ptr, "mockserver");
	it_assert_contains(t->out.ptr, "127.0.0.1:");
	it_assert_not_contains(t->out.ptr, "requirepass");
	/* ls shows the environment */
	assert_int_equal(it_envup(t, "--no-name", "ls", NULL), 0);
	it_assert_contains(t->out.ptr, t->name);
	it_assert_contains(t->out.ptr, "4/4");
	/* logs of one service */
	assert_int_equal(it_envup(t, "logs", "postgres", NULL), 0);
	it_assert_contains(t->out.ptr, "ready to accept connections");
	assert_int_equal(it_envup(t, "logs", "nosuch", NULL), 1);
	it_assert_contains(t->err.ptr, "no service 'nosuch'");
	/* a second up of the same name fails clearly, and changes nothing */
	assert_int_equal(it_envup(t, "up", NULL), 1);
	it_assert_contains(t->err.ptr, "already up");
	assert_int_equal(t->out.size, 0);
	assert_int_equal(it_envup(t, "status", NULL), 0);
	it_assert_contains(t->out.ptr, "running");

	envup_buf_dispose(&out);
	envup_buf_dispose(&err);
	/* down, then down again: nothing to remove is success */
	assert_int_equal(it_envup(t, "down", NULL), 0);
	assert_int_equal(it_leftovers(t->name), 0);
	assert_int_equal(it_envup(t, "down", NULL), 0);
	assert_int_equal(it_envup(t, "env", NULL), 1);
	it_assert_contains(t->err.ptr, "not up");
}

/* The name comes from the directory when neither -n nor name: is given
 * (its name and a hash of its path), so envdown in the same directory
 * finds what envup up made. */
static void test_name_from_directory(void **state)
{
	it_env *t = *state;
	char expect[300], *name = NULL;
	const char *base;

	it_env_init(t, "services:\n  cache: { template: redis }\n");
	base = strrchr(t->dir, '/') + 1;
	assert_int_equal(it_envup(t, "--no-name", "up", NULL), 0);
	assert_int_equal(envup_name_resolve(&name, NULL, NULL, t->dir), 0);
	snprintf(t->name, sizeof(t->name), "%s", name);
	envup_free(name);
	/* the directory name, lower-cased, then -HASH */
	assert_int_equal(strncasecmp(t->name, base, strlen(base)), 0);
	assert_int_equal(t->name[strlen(base)], '-');
	snprintf(expect, sizeof(expect), "environment '%s' ready", t->name);
	it_assert_contains(t->err.ptr, expect);
	assert_true(it_leftovers(t->name) > 0);
	assert_int_equal(it_envup(t, "--no-name", "down", NULL), 0);
	assert_int_equal(it_leftovers(t->name), 0);
}

static void test_run(void **state)
{
	it_env *t = *state;

	it_env_init(t, "services:\n  cache: { template: redis }\n");
	assert_int_equal(it_envup(t, "run", "--", "/bin/sh", "-c",
		"redis-cli -u \"$CACHE_URL\" --no-auth-warning ping; exit 7", NULL), 7);
	it_assert_contains(t->out.ptr, "PONG");
	assert_int_equal(it_leftovers(t->name), 0);
}

/* wait: log counts matching lines (here the second "ready now") */
static void test_wait_log(void **state)
{
	it_env *t = *state;

	it_env_init(t, "services:\n"
		"  chatty:\n"
		"    image: nginx:1.27-alpine\n"
		"    command: [sh, -c, \"echo booting; sleep 0.3; echo ready now; sleep 0.3; "
		"echo ready now; exec sleep 1000\"]\n"
		"    wait: { log: { pattern: \"^ready now$\", times: 2 } }\n");
	assert_int_equal(it_envup(t, "up", NULL), 0);
	it_assert_contains(t->err.ptr, "chatty: ready");
	assert_int_equal(it_envup(t, "logs", "chatty", NULL), 0);
	assert_string_equal(t->out.ptr, "booting\nready now\nready now\n");
}

/* wait: log and envup logs follow the log as a stream: 25 MB of output
 * before the line that counts (once a 16 MiB cap failed both) */
static void test_wait_log_after_25mb(void **state)
{
	it_env *t = *state;
	const char *tail;

	it_env_init(t, "services:\n"
		"  loud:\n"
		"    image: nginx:1.27-alpine\n"
		"    command: [sh, -c, \"yes 'a log line of some sixty characters, written again and again' "
		"| head -n 400000; echo ready now; exec sleep 1000\"]\n"
		"    wait: { log: { pattern: \"^ready now$\" } }\n");
	assert_int_equal(it_envup(t, "up", "--timeout", "120", NULL), 0);
	assert_int_equal(it_envup(t, "logs", "loud", NULL), 0);
	assert_true(t->out.size > 16u * 1024 * 1024);
	assert_int_equal(t->out.size, 400000u * 61 + strlen("ready now\n"));
	tail = t->out.ptr + t->out.size - strlen("again\nready now\n");
	assert_string_equal(tail, "again\nready now\n");
	assert_int_equal(it_envup(t, "logs", "--tail", "1", "loud", NULL), 0);
	assert_string_equal(t->out.ptr, "ready now\n");
}

/* A log wait that times out says which pattern it waited for, how often
 * it was seen, and shows the last log lines, as other waits do. */
static void test_wait_log_timeout_message(void **state)
{
	it_env *t = *state;

	it_env_init(t, "services:\n"
		"  quiet:\n"
		"    image: nginx:1.27-alpine\n"
		"    command: [sh, -c, \"echo starting; echo still starting; exec sleep 1000\"]\n"
		"    wait: { log: { pattern: \"^listening$\", times: 2 } }\n");
	assert_int_equal(it_envup(t, "up", "--timeout", "3", NULL), 1);
	it_assert_contains(t->err.ptr,
		"quiet: timed out waiting for log pattern /^listening$/: seen 0 of 2 times (timeout 3s)");
	it_assert_contains(t->err.ptr, "quiet | still starting");
	it_assert_not_contains(t->err.ptr, "waiting for the Docker engine");
	assert_int_equal(it_leftovers(t->name), 0);
}

/* wait: healthcheck follows the image's HEALTHCHECK (healthy after ~1 s) */
static void test_wait_healthcheck(void **state)
{
	it_env *t = *state;

	it_env_init(t, "services:\n"
		"  checked:\n"
		"    image: envup-test/healthy:1\n"
		"    wait: { healthcheck: true }\n");
	assert_int_equal(it_envup(t, "up", NULL), 0);
	it_assert_contains(t->err.ptr, "checked: ready");
	assert_int_equal(it_envup(t, "status", NULL), 0);
	it_assert_contains(t->out.ptr, "(healthy)");
}

static void test_wait_healthcheck_missing(void **state)
{
	it_env *t = *state;

	it_env_init(t, "services:\n"
		"  unchecked:\n"
		"    image: nginx:1.27-alpine\n"
		"    wait: { healthcheck: true }\n");
	assert_int_equal(it_envup(t, "up", NULL), 1);
	assert_int_equal(t->out.size, 0);
	it_assert_contains(t->err.ptr, "unchecked: wait: healthcheck, but image ");
	it_assert_contains(t->err.ptr, "defines no HEALTHCHECK");
	assert_int_equal(it_leftovers(t->name), 0);
}

static void test_help(void **state)
{
	static const char *cmds[] = {"up", "down", "run", "env", "status", "logs", "ls"};
	it_env *t = *state;
	size_t i;

	it_env_init(t, NULL);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		assert_int_equal(it_envup(t, "--no-name", cmds[i], "--help", NULL), 0);
		it_assert_contains(t->out.ptr, "usage:");
	}
	assert_int_equal(it_envup(t, "--no-name", "frobnicate", NULL), 2);
	assert_int_equal(it_envup(t, "up", "--format", "xml", NULL), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_help, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_postgres_alone, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_redis_alone, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_mockserver_alone, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_full_stack, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_name_from_directory, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_run, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_wait_log, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_wait_log_after_25mb, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_wait_log_timeout_message, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_wait_healthcheck, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_wait_healthcheck_missing, it_setup, it_teardown),
	};
	it_require_engine();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
