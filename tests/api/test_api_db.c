/*
 * Isolation through the library (<envup/db.h>), as a C suite uses it,
 * against the real engine and checked with real clients (libpq, hiredis,
 * libcurl):
 *   - 8 threads x 10 envup_db_new() on one handle: 80 distinct postgres
 *     databases, each with the init script's rows, none seeing another's
 *     writes, the main database untouched;
 *   - the <SERVICE>_TEMPLATE export cloned with SQL by the suite itself;
 *   - redis numbers: distinct, never 0 or an exported one, flushed when
 *     handed out, FLUSHDB in one leaving the others alone;
 *   - envup_db_drop(): the database is gone, a second drop and a URL envup
 *     did not hand out (the main database) are refused, nothing touched;
 *   - envup_env_reset(): the main database back to its template, redis
 *     flushed but a held number kept, MockServer's expectations back to
 *     the spec's; a service of another kind named is refused;
 *   - the errors: no such service, a kind without databases.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include "api.h"

static char spec_dir[] = "/tmp/envup-api-db-XXXXXX";

static const char db_spec[] =
	"services:\n"
	"  postgres:\n"
	"    template: postgres\n"
	"    init: [schema.sql]\n"
	"  redis:\n"
	"    template: redis\n"
	"    export: { REDIS_TEST_URL: \"{{url}}/1\" }\n"
	"  mocks:\n"
	"    template: mockserver\n"
	"    expectations: mocks.json\n"
	"  plain:\n"
	"    image: nginx:1.27-alpine\n"
	"    ports: [80]\n"
	"    wait: { tcp: 80 }\n";

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", spec_dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* ---- clients ---------------------------------------------------------------- */

/* The first column of the first row of `sql` (malloc'd), or NULL on error. */
static char *pg_value(const char *url, const char *sql)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r;
	char *v = NULL;

	if (PQstatus(c) == CONNECTION_OK) {
		r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
			v = strdup(PQgetvalue(r, 0, 0));
		else if (PQresultStatus(r) == PGRES_COMMAND_OK)
			v = strdup("");
		PQclear(r);
	}
	PQfinish(c);
	return v;
}

static void pg_ok(const char *url, const char *sql)
{
	char *v = pg_value(url, sql);
	if (!v)
		fail_msg("%s failed on %s", sql, url);
	free(v);
}

static void assert_pg_value(const char *url, const char *sql, const char *want)
{
	char *v = pg_value(url, sql);
	if (!v || strcmp(v, want) != 0)
		fail_msg("%s on %s: got %s, want %s", sql, url, v ? v : "(error)", want);
	free(v);
}

static redisContext *redis(const char *url)
{
	/* redis://default:PASSWORD@HOST:PORT[/N] */
	char pw[128], host[64];
	int port = 0, db = 0;
	redisContext *c;
	redisReply *r;

	if (sscanf(url, "redis://default:%127[^@]@%63[^:]:%d/%d", pw, host, &port, &db) < 3)
		fail_msg("unexpected redis URL %s", url);
	c = redisConnect(host, port);
	assert_true(c && !c->err);
	r = redisCommand(c, "AUTH %s", pw);
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);
	r = redisCommand(c, "SELECT %d", db);
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);
	return c;
}

static long long redis_int(redisContext *c, const char *cmd)
{
	redisReply *r = redisCommand(c, cmd);
	long long v;
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

static void redis_do(redisContext *c, const char *cmd)
{
	redisReply *r = redisCommand(c, cmd);
	assert_true(r && r->type != REDIS_REPLY_ERROR);
	freeReplyObject(r);
}

/* ---- 8 threads x 10 ------------------------------------------------------------- */

#define THREADS 8
#define CALLS 10

typedef struct {
	const envup_env *env;
	char *urls[CALLS];
	int error;
	char why[512];
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	int i;

	for (i = 0; i < CALLS; i++)
		if (envup_db_new(&w->urls[i], w->env, "postgres", "api test") < 0) {
			w->error = -1;
			snprintf(w->why, sizeof(w->why), "%s", envup_error_last()->message);
			break;
		}
	return NULL;
}

static void test_postgres_databases(envup_env *env)
{
	static worker w[THREADS];
	pthread_t th[THREADS];
	const char *main_url = envup_env_service_url(env, "postgres");
	char *names[THREADS * CALLS];
	size_t n = 0, i, j;
	int k;

	for (k = 0; k < THREADS; k++) {
		w[k].env = env;
		assert_int_equal(pthread_create(&th[k], NULL, work, &w[k]), 0);
	}
	for (k = 0; k < THREADS; k++) {
		pthread_join(th[k], NULL);
		if (w[k].error)
			fail_msg("envup_db_new: %s", w[k].why);
		for (i = 0; i < CALLS; i++)
			names[n++] = w[k].urls[i];
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) == 0)
				fail_msg("handed out twice: %s", names[i]);
	/* each one: the init script's rows, writes of its own */
	for (i = 0; i < n; i++) {
		assert_pg_value(names[i], "SELECT count(*) FROM users", "2");
		if (i < 4)
			pg_ok(names[i], "INSERT INTO users (name) VALUES ('mine')");
	}
	assert_pg_value(names[0], "SELECT count(*) FROM users", "3");
	assert_pg_value(names[5], "SELECT count(*) FROM users", "2");
	/* every one is listed as held, by its holder, with no password */
	{
		envup_db_held *held = NULL;
		size_t nh = 0, h, mine = 0;
		api_ok(envup_db_list(&held, &nh, env));
		for (h = 0; h < nh; h++) {
			if (strcmp(held[h].service, "postgres") == 0 && strcmp(held[h].holder, "api test") == 0) {
				mine++;
				assert_true(held[h].since > 0);
				assert_null(strchr(held[h].database, '@'));
			}
		}
		assert_int_equal(mine, THREADS * CALLS);
		envup_db_list_free(held, nh);
	}
	assert_pg_value(main_url, "SELECT count(*) FROM users", "2");

	/* drop: gone; twice, or the main database: refused, nothing touched */
	api_ok(envup_db_drop(env, names[0]));
	{
		PGconn *c = PQconnectdb(names[0]);
		assert_int_not_equal(PQstatus(c), CONNECTION_OK);
		assert_non_null(strstr(PQerrorMessage(c), "does not exist"));
		PQfinish(c);
	}
	assert_int_equal(envup_db_drop(env, names[0]), ENVUP_ENOTFOUND);
	assert_int_equal(envup_db_drop(env, main_url), ENVUP_ENOTFOUND);
	assert_non_null(strstr(envup_error_last()->message, "is the main database"));
	assert_pg_value(main_url, "SELECT count(*) FROM users", "2");
	assert_int_equal(envup_db_drop(env, "http://127.0.0.1:1/x"), ENVUP_ESPEC);
	for (i = 0; i < n; i++) {
		if (i > 0)
			api_ok(envup_db_drop(env, names[i]));
		envup_free(names[i]);
	}
}

static void test_template_export(envup_env *env)
{
	const char *tpl = envup_env_export_get(env, "POSTGRES_TEMPLATE");
	const char *main_url = envup_env_service_url(env, "postgres");
	char sql[256], url[512];
	const char *q;

	assert_non_null(tpl);
	snprintf(sql, sizeof(sql), "CREATE DATABASE suite_own TEMPLATE %s", tpl);
	pg_ok(main_url, sql);
	q = strchr(main_url + 11, '/');
	assert_non_null(q);
	snprintf(url, sizeof(url), "%.*s/suite_own?sslmode=disable", (int)(q - main_url), main_url);
	assert_pg_value(url, "SELECT count(*) FROM users", "2");
}

static void test_redis_numbers(envup_env *env)
{
	char *a = NULL, *b = NULL;
	const char *exported = envup_env_export_get(env, "REDIS_TEST_URL");
	redisContext *ca, *cb, *c1;

	api_ok(envup_db_new(&a, env, "redis", NULL));
	api_ok(envup_db_new(&b, env, "redis", "redis holder"));
	{
		envup_db_held *held = NULL;
		size_t nh = 0, k, found = 0;
		api_ok(envup_db_list(&held, &nh, env));
		for (k = 0; k < nh; k++)
			if (strcmp(held[k].service, "redis") == 0 && strcmp(held[k].holder, "redis holder") == 0 &&
			    strcmp(held[k].database, strrchr(b, '/') + 1) == 0)
				found++;
		assert_int_equal(found, 1);
		envup_db_list_free(held, nh);
	}
	assert_string_not_equal(a, b);
	assert_null(strstr(a, "/0"));
	assert_string_not_equal(a, exported);
	assert_string_not_equal(b, exported);
	ca = redis(a);
	cb = redis(b);
	c1 = redis(exported);
	assert_int_equal(redis_int(ca, "DBSIZE"), 0);
	redis_do(ca, "SET k a");
	redis_do(cb, "SET k b");
	redis_do(c1, "SET k main");
	redis_do(cb, "FLUSHDB");
	assert_int_equal(redis_int(ca, "DBSIZE"), 1);
	assert_int_equal(redis_int(c1, "DBSIZE"), 1);

	/* reset: the suite's numbers flushed, a held one kept */
	api_ok(envup_env_reset(env, (const char *const[]){"redis"}, 1));
	assert_int_equal(redis_int(c1, "DBSIZE"), 0);
	assert_int_equal(redis_int(ca, "DBSIZE"), 1);

	/* given back: flushed, and refused a second time */
	api_ok(envup_db_drop(env, a));
	assert_int_equal(redis_int(ca, "DBSIZE"), 0);
	assert_int_equal(envup_db_drop(env, a), ENVUP_ENOTFOUND);
	assert_int_equal(envup_db_drop(env, exported), ENVUP_ENOTFOUND);
	api_ok(envup_db_drop(env, b));
	redisFree(ca);
	redisFree(cb);
	redisFree(c1);
	envup_free(a);
	envup_free(b);
}

/* ---- MockServer --------------------------------------------------------------- */

static long http(const char *method, const char *url, const char *body)
{
	CURL *c = curl_easy_init();
	long status = 0;
	FILE *sink = fopen("/dev/null", "w");

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	fclose(sink);
	return status;
}

static void test_reset_all(envup_env *env)
{
	const char *mock = envup_env_service_url(env, "mocks");
	const char *main_url = envup_env_service_url(env, "postgres");
	char url[256];

	/* dirty all three */
	pg_ok(main_url, "INSERT INTO users (name) VALUES ('dirty')");
	snprintf(url, sizeof(url), "%s/mockserver/expectation", mock);
	assert_int_equal(http("PUT", url, "{\"httpRequest\": {\"path\": \"/extra\"}, "
		"\"httpResponse\": {\"statusCode\": 201}}"), 201);
	snprintf(url, sizeof(url), "%s/extra", mock);
	assert_int_equal(http("GET", url, NULL), 201);

	api_ok(envup_env_reset(env, NULL, 0));
	assert_pg_value(main_url, "SELECT count(*) FROM users", "2");
	assert_int_equal(http("GET", url, NULL), 404);
	snprintf(url, sizeof(url), "%s/hello", mock);
	assert_int_equal(http("GET", url, NULL), 200);

	/* a service with nothing to reset, named: refused */
	assert_int_equal(envup_env_reset(env, (const char *const[]){"plain"}, 1), ENVUP_ESPEC);
	assert_int_equal(envup_env_reset(env, (const char *const[]){"nosuch"}, 1), ENVUP_ENOTFOUND);
}

static void test_errors(envup_env *env)
{
	char *u = NULL;

	assert_int_equal(envup_db_new(&u, env, "nosuch", NULL), ENVUP_ENOTFOUND);
	assert_non_null(strstr(envup_error_last()->message, "no service 'nosuch'"));
	assert_int_equal(envup_db_new(&u, env, "mocks", NULL), ENVUP_ESPEC);
	assert_non_null(strstr(envup_error_last()->message, "mocks: db new only works with postgres and redis"));
	assert_int_equal(envup_db_new(&u, env, "plain", NULL), ENVUP_ESPEC);
	assert_null(u);
}

static void test_isolation(void **state)
{
	envup_up_options o = ENVUP_UP_OPTIONS_INIT;
	envup_target t = ENVUP_TARGET_INIT;
	envup_env *env = NULL, *opened = NULL;
	char name[64];
	char *u = NULL;

	(void)state;
	assert_non_null(mkdtemp(spec_dir));
	write_file("schema.sql", "CREATE TABLE users (id serial PRIMARY KEY, name text);\n"
		"INSERT INTO users (name) VALUES ('ada'), ('grace');\n");
	write_file("mocks.json", "[{\"httpRequest\": {\"path\": \"/hello\"}, "
		"\"httpResponse\": {\"statusCode\": 200, \"body\": \"hi\"}}]\n");
	api_name(name, sizeof(name));
	o.spec_text = db_spec;
	o.spec_dir = spec_dir;
	o.name = name;
	o.timeout = 120;
	api_ok(envup_up(&env, &o));

	test_postgres_databases(env);
	test_template_export(env);
	test_redis_numbers(env);
	test_reset_all(env);
	test_errors(env);

	/* a handle opened by name hands out databases the same way */
	t.name = name;
	api_ok(envup_env_open(&opened, &t));
	api_ok(envup_db_new(&u, opened, "postgres", NULL));
	assert_pg_value(u, "SELECT count(*) FROM users", "2");
	envup_free(u);
	envup_env_free(opened);

	/* the redis numbers held are recorded in the state directory until down */
	{
		char held[512];
		snprintf(held, sizeof(held), "%s/%s.redis.redis", getenv("ENVUP_STATE_DIR"), name);
		assert_int_equal(access(held, F_OK), 0);
		api_ok(envup_env_down(NULL, env, NULL, NULL));
		assert_int_not_equal(access(held, F_OK), 0);
	}
	envup_env_free(env);
	assert_int_equal(api_leftovers(name), 0);
	api_remove_tree(spec_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_isolation),
	};
	api_require_engine();
	api_private_state_dir();
	setenv("ENVUP_DB_POOL", "4", 1);  /* the default; the suite runs with 0 */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
