/*
 * Specs that load (compose/): the structure envup_spec_load() builds from
 * tests/data/spec/good/ and from buffers: templates merged, defaults,
 * order, exports, credentials, absolute paths; plus allocation failures
 * at every step of a load.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "compose/spec.h"

#define GOOD ENVUP_TEST_DATA "/spec/good"

static const char *fake_getenv(const char *name, void *payload)
{
	(void)payload;
	if (strcmp(name, "WEB_PORT") == 0)
		return "8081";
	if (strcmp(name, "TAG") == 0)
		return "1.27";
	return NULL;
}

static const envup_service *service(const envup_spec *spec, const char *name)
{
	int i = envup_spec_find(spec, name);
	if (i < 0)
		fail_msg("no service '%s'", name);
	return &spec->services[i];
}

static void assert_ports(const envup_service *s, size_t n, ...)
{
	va_list ap;
	size_t i;

	assert_int_equal(s->nports, n);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_int_equal(s->ports[i], va_arg(ap, int));
	va_end(ap);
}

static void assert_list(const envup_strlist *l, size_t n, ...)
{
	va_list ap;
	size_t i;

	assert_int_equal(l->n, n);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_string_equal(l->v[i], va_arg(ap, const char *));
	va_end(ap);
}

static void assert_order(const envup_spec *spec, size_t n, ...)
{
	va_list ap;
	size_t i;

	assert_int_equal(spec->nservices, n);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_string_equal(spec->services[spec->order[i]].name,
			va_arg(ap, const char *));
	va_end(ap);
}

static envup_spec *load_text(const char *text)
{
	envup_spec *spec = NULL;
	int rc = envup_spec_load_buffer(&spec, "mem.yaml", GOOD, text, strlen(text),
		fake_getenv, NULL);
	if (rc != 0)
		fail_msg("load failed (%d): %s", rc, envup_error_last()->message);
	return spec;
}

static void test_spec_load__full_example(void **state)
{
	envup_spec *spec = NULL;
	const envup_service *pg, *redis, *mock, *worker;
	char dir[PATH_MAX], path[PATH_MAX + 64];

	(void)state;
	assert_non_null(realpath(GOOD "/full", dir));
	assert_int_equal(envup_spec_load(&spec, GOOD "/full/envup.yaml", fake_getenv, NULL), 0);
	assert_string_equal(spec->path, GOOD "/full/envup.yaml");
	assert_string_equal(spec->dir, dir);
	assert_string_equal(spec->name, "isx-test");
	assert_int_equal(spec->nservices, 4);
	assert_string_equal(spec->services[0].name, "postgres");
	assert_string_equal(spec->services[3].name, "worker");
	assert_int_equal(envup_spec_find(spec, "nope"), -1);
	assert_int_equal(envup_spec_find(spec, "redis"), 1);

	pg = service(spec, "postgres");
	assert_string_equal(pg->template_name, "postgres");
	assert_string_equal(pg->image, "postgres:16-alpine");
	assert_int_equal(pg->env.n, 1);
	assert_string_equal(envup_kvlist_get(&pg->env, "POSTGRES_DB"), "testdb");
	assert_ports(pg, 1, 5432);
	assert_list(&pg->tmpfs, 1, "/var/lib/postgresql/data");
	assert_int_equal(pg->wait.kind, ENVUP_WAIT_POSTGRES);
	assert_false(pg->has_command);
	assert_false(pg->has_entrypoint);
	assert_string_equal(pg->url,
		"postgres://{{user}}:{{password}}@{{host}}:{{port}}/{{database}}?sslmode=disable");
	assert_string_equal(pg->cred[ENVUP_CRED_USER].env, "POSTGRES_USER");
	assert_string_equal(pg->cred[ENVUP_CRED_USER].def, "test");
	assert_string_equal(pg->cred[ENVUP_CRED_PASSWORD].env, "POSTGRES_PASSWORD");
	assert_string_equal(pg->cred[ENVUP_CRED_PASSWORD].def, "random");
	assert_string_equal(pg->cred[ENVUP_CRED_DATABASE].env, "POSTGRES_DB");
	assert_string_equal(pg->cred[ENVUP_CRED_DATABASE].def, "test");
	assert_int_equal(pg->init.n, 2);
	snprintf(path, sizeof(path), "%s/migrations/001_schema.sql", dir);
	assert_string_equal(pg->init.v[0], path);
	snprintf(path, sizeof(path), "%s/testdata/seed.sql", dir);
	assert_string_equal(pg->init.v[1], path);
	assert_null(pg->expectations);
	assert_int_equal(pg->exports.n, 1);
	assert_string_equal(pg->exports.v[0].key, "TEST_DATABASE_URL");
	assert_string_equal(pg->exports.v[0].value, "{{url}}");
	assert_int_equal(pg->depends_on.n, 0);

	redis = service(spec, "redis");
	assert_string_equal(redis->image, "redis:7-alpine");
	assert_ports(redis, 1, 6379);
	assert_int_equal(redis->wait.kind, ENVUP_WAIT_REDIS);
	assert_true(redis->has_command);
	assert_list(&redis->command, 9, "redis-server", "--requirepass", "{{password}}",
		"--save", "", "--appendonly", "no", "--databases", "128");
	assert_list(&redis->tmpfs, 1, "/data");
	assert_null(redis->cred[ENVUP_CRED_USER].def);
	assert_null(redis->cred[ENVUP_CRED_PASSWORD].env);
	assert_string_equal(redis->cred[ENVUP_CRED_PASSWORD].def, "random");
	assert_null(redis->cred[ENVUP_CRED_DATABASE].def);
	assert_string_equal(redis->url, "redis://default:{{password}}@{{host}}:{{port}}");
	assert_string_equal(envup_kvlist_get(&redis->exports, "REDIS_TEST_URL"), "{{url}}/1");

	mock = service(spec, "mockserver");
	assert_string_equal(mock->image, "mockserver/mockserver:5.15.0");
	assert_ports(mock, 1, 1080);
	assert_int_equal(mock->wait.kind, ENVUP_WAIT_MOCKSERVER);
	assert_string_equal(envup_kvlist_get(&mock->env, "MOCKSERVER_LOG_LEVEL"), "WARN");
	snprintf(path, sizeof(path), "%s/testdata/mocks/expectations.json", dir);
	assert_string_equal(mock->expectations, path);
	assert_string_equal(mock->url, "http://{{host}}:{{port}}");
	assert_int_equal(mock->exports.n, 0);

	worker = service(spec, "worker");
	assert_null(worker->template_name);
	assert_string_equal(worker->image, "nginx:1.27-alpine");
	assert_string_equal(envup_kvlist_get(&worker->env, "MODE"), "test");
	assert_true(worker->has_command);
	assert_list(&worker->command, 3, "nginx", "-g", "daemon off;");
	assert_ports(worker, 1, 80);
	assert_int_equal(worker->wait.kind, ENVUP_WAIT_HTTP);
	assert_int_equal(worker->wait.port, 80);
	assert_string_equal(worker->wait.path, "/");
	assert_string_equal(worker->wait.method, "GET");
	assert_int_equal(worker->wait.status, 200);
	assert_list(&worker->depends_on, 2, "postgres", "redis");
	assert_null(worker->url);
	assert_null(worker->cred[ENVUP_CRED_PASSWORD].def);

	assert_order(spec, 4, "postgres", "redis", "mockserver", "worker");
	envup_spec_free(spec);
}

static void test_spec_load__features(void **state)
{
	envup_spec *spec = NULL;
	const envup_service *api, *db, *cache, *plain, *web, *hc, *raw;

	(void)state;
	assert_int_equal(envup_spec_load(&spec, GOOD "/features/envup.yaml",
		fake_getenv, NULL), 0);
	assert_null(spec->name);
	assert_int_equal(spec->nservices, 7);

	api = service(spec, "api");
	assert_string_equal(api->image, "example/api:1"); /* ${API_IMAGE:-...} */
	/* merge key: the mapping's own keys win, merged keys take the << place */
	assert_int_equal(api->env.n, 5);
	assert_string_equal(api->env.v[0].key, "LOG_LEVEL");
	assert_string_equal(api->env.v[1].key, "REGION");
	assert_string_equal(api->env.v[1].value, "us");
	assert_string_equal(envup_kvlist_get(&api->env, "DEBUG"), "true");
	assert_string_equal(envup_kvlist_get(&api->env, "WORKERS"), "4");
	assert_string_equal(envup_kvlist_get(&api->env, "PRICE"), "$5");
	assert_list(&api->command, 4, "sh", "-c", "echo \"hi there\" && exec serve",
		"--flag=a b");
	assert_true(api->has_entrypoint);
	assert_list(&api->entrypoint, 1, "/bin/entry");
	assert_ports(api, 1, 8080);
	assert_list(&api->tmpfs, 1, "/tmp");
	assert_int_equal(api->wait.kind, ENVUP_WAIT_LOG);
	assert_string_equal(api->wait.pattern, "listening on [0-9]+");
	assert_int_equal(api->wait.times, 2);
	assert_list(&api->depends_on, 1, "db");
	assert_string_equal(envup_kvlist_get(&api->exports, "API_ADDR"),
		"http://{{host}}:{{port}}");

	db = service(spec, "db");
	assert_string_equal(db->image, "postgres:15-alpine");
	assert_ports(db, 2, 5432, 9187);
	assert_int_equal(db->wait.kind, ENVUP_WAIT_TCP);
	assert_int_equal(db->wait.port, 9187);
	assert_string_equal(envup_kvlist_get(&db->env, "POSTGRES_USER"), "admin");
	assert_string_equal(db->cred[ENVUP_CRED_USER].def, "test");

	cache = service(spec, "cache");
	assert_int_equal(cache->tmpfs.n, 0); /* tmpfs: [] replaces the template's */
	assert_list(&cache->command, 3, "redis-server", "--requirepass", "{{password}}");
	assert_int_equal(cache->wait.kind, ENVUP_WAIT_REDIS);

	plain = service(spec, "plain");
	assert_int_equal(plain->nports, 0);
	assert_int_equal(plain->wait.kind, ENVUP_WAIT_NONE);
	assert_false(plain->has_command);

	web = service(spec, "web");
	assert_ports(web, 1, 80);
	assert_int_equal(web->wait.kind, ENVUP_WAIT_HTTP);
	assert_int_equal(web->wait.port, 80);
	assert_string_equal(web->wait.path, "/");
	assert_int_equal(web->wait.status, 200);

	hc = service(spec, "hc");
	assert_int_equal(hc->wait.kind, ENVUP_WAIT_HEALTHCHECK);

	raw = service(spec, "raw");
	assert_int_equal(raw->wait.kind, ENVUP_WAIT_TCP);
	assert_int_equal(raw->wait.port, 7000);

	assert_order(spec, 7, "db", "api", "cache", "plain", "web", "hc", "raw");
	envup_spec_free(spec);
}

static void test_spec_load__defaults(void **state)
{
	envup_spec *spec;
	const envup_service *s;

	(void)state;
	spec = load_text(
		"services:\n"
		"  web:\n"
		"    image: nginx:${TAG}\n"
		"    ports: [\"${WEB_PORT}\", 443]\n"
		"  quiet:\n"
		"    image: busybox\n"
		"    command: sleep infinity\n"
		"    tmpfs: [/run, /tmp]\n");
	s = service(spec, "web");
	assert_string_equal(s->image, "nginx:1.27");
	assert_ports(s, 2, 8081, 443);
	assert_int_equal(s->wait.kind, ENVUP_WAIT_TCP); /* ports, no wait: tcp */
	assert_int_equal(s->wait.port, 8081);
	assert_false(s->has_command);
	s = service(spec, "quiet");
	assert_int_equal(s->wait.kind, ENVUP_WAIT_NONE);
	assert_list(&s->command, 2, "sleep", "infinity");
	assert_list(&s->tmpfs, 2, "/run", "/tmp");
	envup_spec_free(spec);
}

static void test_spec_load__template_merge(void **state)
{
	envup_spec *spec;
	const envup_service *s;

	(void)state;
	spec = load_text(
		"services:\n"
		"  pg:\n"
		"    template: postgres\n"
		"    ports: [5432, 6432]\n"
		"    env: { POSTGRES_PASSWORD: fixed, TZ: UTC }\n"
		"    tmpfs: [/scratch]\n"
		"    command: [postgres, -c, fsync=off]\n"
		"    wait: { log: { pattern: 'ready to accept', times: 2 } }\n"
		"    export:\n"
		"      PG_DSN: 'host={{host}} port={{port}} user={{user}} dbname={{database}}'\n"
		"      PG_BOUNCER: '{{host}}:{{port:6432}}'\n"
		"  mock:\n"
		"    template: mockserver\n"
		"    env: { MOCKSERVER_LOG_LEVEL: INFO }\n"
		"    wait: none\n"
		"    expectations: full/testdata/mocks/expectations.json\n"
		"  pg2:\n"
		"    image: postgres:14\n"
		"    wait: postgres\n"
		"    init: full/testdata/seed.sql\n");
	s = service(spec, "pg");
	assert_ports(s, 2, 5432, 6432);
	assert_int_equal(s->env.n, 2);
	assert_string_equal(s->env.v[0].key, "POSTGRES_PASSWORD");
	assert_list(&s->tmpfs, 1, "/scratch");
	assert_list(&s->command, 3, "postgres", "-c", "fsync=off");
	assert_int_equal(s->wait.kind, ENVUP_WAIT_LOG);
	assert_string_equal(s->cred[ENVUP_CRED_PASSWORD].def, "random");
	s = service(spec, "mock");
	assert_int_equal(s->env.n, 1);
	assert_string_equal(envup_kvlist_get(&s->env, "MOCKSERVER_LOG_LEVEL"), "INFO");
	assert_int_equal(s->wait.kind, ENVUP_WAIT_NONE);
	assert_non_null(strstr(s->expectations, "/full/testdata/mocks/expectations.json"));
	/* init needs template postgres or a postgres wait */
	s = service(spec, "pg2");
	assert_null(s->template_name);
	assert_int_equal(s->init.n, 1);
	assert_null(s->cred[ENVUP_CRED_USER].def);
	envup_spec_free(spec);
}

static void test_spec_load__order(void **state)
{
	envup_spec *spec;

	(void)state;
	/* dependencies first; otherwise the order written */
	spec = load_text(
		"services:\n"
		"  front: { image: x, depends_on: [api] }\n"
		"  api:   { image: x, depends_on: [db, cache] }\n"
		"  tool:  { image: x }\n"
		"  cache: { image: x }\n"
		"  db:    { image: x, depends_on: cache }\n"
		"  last:  { image: x, depends_on: [front, tool] }\n");
	assert_order(spec, 6, "tool", "cache", "db", "api", "front", "last");
	envup_spec_free(spec);

	spec = load_text("services:\n  only: { image: x }\n");
	assert_order(spec, 1, "only");
	envup_spec_free(spec);
}

static void test_spec_load__anchors_and_merge(void **state)
{
	envup_spec *spec;
	const envup_service *s;

	(void)state;
	spec = load_text(
		"x-base: &base\n"
		"  image: busybox\n"
		"  env: &env { A: '1', B: '2' }\n"
		"x-more: &more\n"
		"  image: ignored\n"
		"  command: [sleep, '1']\n"
		"services:\n"
		"  one:\n"
		"    <<: [*base, *more]\n"
		"  two:\n"
		"    <<: *base\n"
		"    env:\n"
		"      <<: *env\n"
		"      B: '3'\n"
		"  three:\n"
		"    image: busybox\n"
		"    env: *env\n");
	s = service(spec, "one");
	assert_string_equal(s->image, "busybox"); /* the first merged mapping wins */
	assert_list(&s->command, 2, "sleep", "1");
	s = service(spec, "two");
	assert_string_equal(envup_kvlist_get(&s->env, "A"), "1");
	assert_string_equal(envup_kvlist_get(&s->env, "B"), "3");
	s = service(spec, "three");
	assert_string_equal(envup_kvlist_get(&s->env, "B"), "2");
	envup_spec_free(spec);
}

static void test_spec_load__interpolation_scope(void **state)
{
	envup_spec *spec;
	const envup_service *s;

	(void)state;
	/* keys are not interpolated; x-* values are never read */
	spec = load_text(
		"x-unused: ${NOT_SET:?never read}\n"
		"services:\n"
		"  web:\n"
		"    image: busybox\n"
		"    env:\n"
		"      ${KEY}: '${TAG}'\n"
		"      LITERAL: '$$TAG $TAG'\n"
		"    x-note: ${ALSO_NOT_SET:?never read}\n");
	s = service(spec, "web");
	assert_string_equal(envup_kvlist_get(&s->env, "${KEY}"), "1.27");
	assert_string_equal(envup_kvlist_get(&s->env, "LITERAL"), "$TAG $TAG");
	envup_spec_free(spec);
}

static void test_spec_load__buffer_dir(void **state)
{
	envup_spec *spec = NULL;
	char cwd[PATH_MAX], expect[PATH_MAX + 32];
	const char *text = "services:\n  pg:\n    template: postgres\n"
		"    init: migrations/001_schema.sql\n";

	(void)state;
	/* a relative dir is taken from the working directory */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(GOOD), 0);
	assert_int_equal(envup_spec_load_buffer(&spec, "inline", "full", text,
		strlen(text), NULL, NULL), 0);
	assert_non_null(realpath("full/migrations/001_schema.sql", expect));
	assert_string_equal(spec->services[0].init.v[0], expect);
	assert_string_equal(spec->path, "inline");
	assert_int_equal(spec->dir[0], '/');
	envup_spec_free(spec);

	/* a spec named without a directory lives in the working directory */
	assert_int_equal(chdir("full"), 0);
	assert_int_equal(envup_spec_load(&spec, "envup.yaml", fake_getenv, NULL), 0);
	assert_non_null(realpath(".", expect));
	assert_string_equal(spec->dir, expect);
	assert_string_equal(spec->path, "envup.yaml");
	envup_spec_free(spec);
	assert_int_equal(chdir(cwd), 0);
}

static void test_spec_load__absolute_init_path(void **state)
{
	char text[PATH_MAX + 128], sql[PATH_MAX];
	envup_spec *spec;

	(void)state;
	assert_non_null(realpath(GOOD "/full/testdata/seed.sql", sql));
	snprintf(text, sizeof(text),
		"services:\n  pg:\n    template: postgres\n    init: ['%s']\n", sql);
	spec = load_text(text);
	assert_string_equal(spec->services[0].init.v[0], sql);
	envup_spec_free(spec);
}

/* A long chain: order and cycle detection must not recurse per service. */
static void test_spec_load__many_services(void **state)
{
	const size_t n = 8000;
	size_t i, len = 0, cap = n * 64;
	char *text = malloc(cap);
	envup_spec *spec = NULL;
	const char *msg;

	(void)state;
	assert_non_null(text);
	len += (size_t)snprintf(text + len, cap - len, "services:\n");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
			"  s%zu: {image: x, depends_on: s%zu}\n", i, (i + 1) % n);
	/* the last one closes the cycle: s7999 -> s0 */
	assert_int_equal(envup_spec_load_buffer(&spec, "chain.yaml", NULL, text, len,
		NULL, NULL), ENVUP_ESPEC);
	msg = envup_error_last()->message;
	assert_non_null(strstr(msg,
		"chain.yaml:2:30: services.s0.depends_on: dependency cycle: s0 -> s1 -> s2 -> "));

	/* break the cycle: the last service depends on nothing */
	len -= strlen(" depends_on: s0}\n");
	len += (size_t)snprintf(text + len, cap - len, "}\n");
	assert_int_equal(envup_spec_load_buffer(&spec, "chain.yaml", NULL, text, len,
		NULL, NULL), 0);
	assert_int_equal(spec->nservices, n);
	for (i = 0; i < n; i++)
		assert_int_equal(spec->order[i], n - 1 - i);
	envup_spec_free(spec);
	free(text);
}

static void test_spec_load__free_accepts_null(void **state)
{
	(void)state;
	envup_spec_free(NULL);
	assert_int_equal(envup_spec_find(NULL, "x"), -1);
}

/* ---- allocation failures ------------------------------------------------- */

static long alloc_budget = -1; /* allocations left before failing; -1 = no limit */

static void *failing_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return malloc(n);
}

static void *failing_realloc(void *p, size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return realloc(p, n);
}

static void test_spec_load__allocation_failures(void **state)
{
	static const envup_allocator failing = {failing_malloc, failing_realloc, free};
	envup_spec *spec;
	long n;
	int rc;

	(void)state;
	envup_set_allocator(&failing);
	for (n = 0; n < 100000; n++) {
		spec = (envup_spec *)&n;
		alloc_budget = n;
		rc = envup_spec_load(&spec, GOOD "/full/envup.yaml", fake_getenv, NULL);
		alloc_budget = -1;
		if (rc == 0)
			break;
		assert_null(spec);
		if (rc != ENVUP_ERROR)
			fail_msg("allocation %ld failing gave %d: %s", n, rc,
				envup_error_last()->message);
	}
	envup_set_allocator(NULL);
	assert_int_equal(rc, 0);
	assert_true(n > 50);
	envup_spec_free(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_load__full_example),
		cmocka_unit_test(test_spec_load__features),
		cmocka_unit_test(test_spec_load__defaults),
		cmocka_unit_test(test_spec_load__template_merge),
		cmocka_unit_test(test_spec_load__order),
		cmocka_unit_test(test_spec_load__anchors_and_merge),
		cmocka_unit_test(test_spec_load__interpolation_scope),
		cmocka_unit_test(test_spec_load__buffer_dir),
		cmocka_unit_test(test_spec_load__absolute_init_path),
		cmocka_unit_test(test_spec_load__many_services),
		cmocka_unit_test(test_spec_load__free_accepts_null),
		cmocka_unit_test(test_spec_load__allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
