/*
 * Warm starts through the library (<envup/snapshot.h>): a C suite's
 * envup_up() takes a snapshot after a cold start (envup_env_down() right
 * after waits for it), the next envup_up() starts from it (the progress
 * callback says so, libpq finds the init script's rows), no_snapshot
 * starts cold; envup_snapshot_list(), _prune(), _remove() by key prefix,
 * and their refusals.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libpq-fe.h>
#include "api.h"

static char spec_dir[] = "/tmp/envup-api-snap-XXXXXX";

/* the audit service's key is this run's own too (its environment) */
static char snap_spec[512];

typedef struct {
	pthread_mutex_t lock;
	int from_snapshot;
	int init_scripts;
	int fallbacks;
} events;

static void on_progress(const char *service, envup_state state, const char *detail, double elapsed,
	void *payload)
{
	events *e = payload;
	(void)service;
	(void)elapsed;
	pthread_mutex_lock(&e->lock);
	if (detail && state == ENVUP_STATE_CREATING && strstr(detail, "from snapshot"))
		e->from_snapshot++;
	if (detail && strstr(detail, "running init scripts"))
		e->init_scripts++;
	if (detail && state == ENVUP_STATE_NOTICE && strstr(detail, "did not restore") &&
	    strstr(detail, "removed it, starting cold"))
		e->fallbacks++;
	pthread_mutex_unlock(&e->lock);
}

static envup_env *up(const char *name, events *e, int no_snapshot)
{
	envup_up_options o = ENVUP_UP_OPTIONS_INIT;
	envup_env *env = NULL;

	o.spec_text = snap_spec;
	o.spec_dir = spec_dir;
	o.name = name;
	o.timeout = 120;
	o.no_snapshot = no_snapshot;
	o.progress = on_progress;
	o.progress_payload = e;
	api_ok(envup_up(&env, &o));
	return env;
}

static void assert_value(const char *url, const char *sql, const char *want)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || strcmp(PQgetvalue(r, 0, 0), want) != 0)
		fail_msg("%s: %s, want %s", sql, PQresultStatus(r) == PGRES_TUPLES_OK ? PQgetvalue(r, 0, 0) :
			PQerrorMessage(c), want);
	PQclear(r);
	PQfinish(c);
}

/* What the init script made, cold and warm alike: its rows, the database
 * it created, the owner it gave the main database (clones too). */
static void assert_rows(const envup_env *env)
{
	const char *url = envup_env_service_url(env, "postgres");
	char *clone = NULL;

	assert_value(url, "SELECT count(*) FROM users", "2");
	assert_value(url, "SELECT count(*) FROM pg_database WHERE datname = 'analytics'", "1");
	assert_value(url, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()",
		"app");
	api_ok(envup_db_new(&clone, env, "postgres", NULL));
	assert_value(clone, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()",
		"app");
	assert_value(clone, "SELECT count(*) FROM users", "2");
	envup_free(clone);
}

/* The snapshots of environment `name` (service `service`; NULL: any): how
 * many, and the newest's key. */
static size_t mine_of(const char *name, const char *service, char *key, size_t len)
{
	envup_snapshot_info *v = NULL;
	size_t n = 0, i, k = 0;

	api_ok(envup_snapshot_list(&v, &n, NULL));
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].env_name, name) != 0 || (service && strcmp(v[i].service, service) != 0))
			continue;
		if (k++ == 0 && key) {
			snprintf(key, len, "%s", v[i].key);
			assert_int_equal(strlen(v[i].key), 64);
			assert_true(strncmp(v[i].image, "envup-snapshot:", 15) == 0);
			assert_true(v[i].created > 0 && v[i].size > 0);
		}
	}
	envup_snapshot_list_free(v, n);
	return k;
}

static size_t mine(const char *name, char *key, size_t len)
{
	return mine_of(name, NULL, key, len);
}

/* The snapshot of `key` damaged, as a disk or a bad copy would: its
 * pg_control overwritten, the image committed again under its name (with
 * its labels, which the container carries over). */
static void damage(const char *key)
{
	char body[512], path[512], *resp = NULL, *id;
	size_t n;

	snprintf(body, sizeof(body), "{\"Image\": \"envup-snapshot:%s\", \"Entrypoint\": [\"/bin/sh\", \"-c\", "
		"\"echo broken > /envup-snapshot/data/global/pg_control\"]}", key);
	assert_int_equal(api_engine("POST", "/containers/create", body, &resp), 201);
	assert_non_null(id = strstr(resp, "\"Id\":\""));
	id += 6;
	n = strcspn(id, "\"");
	id[n] = '\0';
	snprintf(path, sizeof(path), "/containers/%s/start", id);
	assert_int_equal(api_engine("POST", path, NULL, NULL), 204);
	snprintf(path, sizeof(path), "/containers/%s/wait", id);
	assert_int_equal(api_engine("POST", path, NULL, NULL), 200);
	snprintf(path, sizeof(path), "/commit?container=%s&repo=envup-snapshot&tag=%s", id, key);
	assert_int_equal(api_engine("POST", path, "{\"Entrypoint\": [\"docker-entrypoint.sh\"]}", NULL), 201);
	snprintf(path, sizeof(path), "/containers/%s?force=1", id);
	api_engine("DELETE", path, NULL, NULL);
	free(resp);
}

static void test_warm_start(void **state)
{
	events e = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
	envup_env *env;
	char name[64], key[65] = "", path[256];
	size_t removed = 99;
	FILE *f;

	(void)state;
	unsetenv("ENVUP_SNAPSHOTS");
	snprintf(snap_spec, sizeof(snap_spec),
		"services:\n"
		"  postgres:\n"
		"    template: postgres\n"
		"    init: [schema.sql]\n"
		"  audit:\n"
		"    template: postgres\n"
		"    env: { AUDIT_RUN: \"%ld-%ld\" }\n", (long)getpid(), (long)time(NULL));
	assert_non_null(mkdtemp(spec_dir));
	snprintf(path, sizeof(path), "%s/schema.sql", spec_dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "-- api %ld %ld\nCREATE TABLE users (id serial PRIMARY KEY, name text);\n"
		"INSERT INTO users (name) VALUES ('ada'), ('grace');\n"
		"CREATE DATABASE analytics;\n"
		"CREATE ROLE app LOGIN;\n"
		"ALTER DATABASE test OWNER TO app;\n", (long)getpid(), (long)time(NULL));
	fclose(f);
	api_name(name, sizeof(name));

	/* cold: down right after waits for the snapshots, one per service */
	env = up(name, &e, 0);
	assert_int_equal(e.from_snapshot, 0);
	assert_int_equal(e.init_scripts, 1);
	assert_rows(env);
	api_ok(envup_env_down(NULL, env, NULL, NULL));
	envup_env_free(env);
	assert_int_equal(mine_of(name, "audit", NULL, 0), 1);
	assert_int_equal(mine_of(name, "postgres", key, sizeof(key)), 1);

	/* warm: both */
	env = up(name, &e, 0);
	assert_int_equal(e.from_snapshot, 2);
	assert_int_equal(e.init_scripts, 1);
	assert_rows(env);
	api_ok(envup_env_down(NULL, env, NULL, NULL));
	envup_env_free(env);

	/* a damaged snapshot: said, removed, cold, the data right (and a new
	 * snapshot taken after) */
	damage(key);
	env = up(name, &e, 0);
	assert_int_equal(e.fallbacks, 1);
	assert_int_equal(e.init_scripts, 2);
	assert_rows(env);
	api_ok(envup_env_down(NULL, env, NULL, NULL));
	envup_env_free(env);
	e.init_scripts = 1;
	e.from_snapshot = 2;

	/* no_snapshot: cold, and nothing new */
	env = up(name, &e, 1);
	assert_int_equal(e.from_snapshot, 2);
	assert_int_equal(e.init_scripts, 2);
	api_ok(envup_env_down(NULL, env, NULL, NULL));
	envup_env_free(env);
	assert_int_equal(mine(name, NULL, 0), 2);

	/* prune keeps them (one of at most three each); remove by prefix takes one */
	api_ok(envup_snapshot_prune(&removed, NULL));
	assert_int_equal(mine(name, NULL, 0), 2);
	assert_int_equal(envup_snapshot_remove(NULL, "zz", NULL), ENVUP_ESPEC);
	assert_int_equal(envup_snapshot_remove(NULL, "abc", NULL), ENVUP_ESPEC);
	key[12] = '\0';
	api_ok(envup_snapshot_remove(&removed, key, NULL));
	assert_int_equal(removed, 1);
	assert_int_equal(mine_of(name, "postgres", NULL, 0), 0);
	assert_int_equal(envup_snapshot_remove(&removed, key, NULL), ENVUP_ENOTFOUND);
	assert_int_equal(removed, 0);
	key[0] = '\0';
	mine_of(name, "audit", key, sizeof(key));
	api_ok(envup_snapshot_remove(&removed, key, NULL));
	assert_int_equal(mine(name, NULL, 0), 0);
	assert_int_equal(api_leftovers(name), 0);
	api_remove_tree(spec_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_warm_start),
	};
	api_require_engine();
	api_private_state_dir();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
