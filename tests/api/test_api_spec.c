/*
 * The library without an engine: versions, errors, states, options and
 * targets, reading specs from files and memory, and up refusing what is
 * invalid before it touches anything.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "api.h"

static char dir[] = "/tmp/envup-api-spec-XXXXXX";

static void write_file(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void test_version(void **state)
{
	(void)state;
	assert_string_equal(envup_version(), ENVUP_VERSION_STRING);
}

static void test_states_have_names(void **state)
{
	static const struct { envup_state s; const char *name; } rows[] = {
		{ENVUP_STATE_PULLING, "pulling"}, {ENVUP_STATE_CREATING, "creating"},
		{ENVUP_STATE_STARTING, "starting"}, {ENVUP_STATE_WAITING, "waiting"},
		{ENVUP_STATE_INITIALIZING, "initializing"}, {ENVUP_STATE_READY, "ready"},
		{ENVUP_STATE_FAILED, "failed"}, {ENVUP_STATE_REMOVING, "removing"},
		{ENVUP_STATE_REMOVED, "removed"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_string_equal(envup_state_name(rows[i].s), rows[i].name);
}

static void test_error_clear(void **state)
{
	envup_spec *spec = NULL;

	(void)state;
	assert_int_equal(envup_spec_read(&spec, "/nonexistent/envup.yaml"), ENVUP_ESPEC);
	assert_null(spec);
	assert_non_null(strstr(envup_error_last()->message, "/nonexistent/envup.yaml"));
	assert_int_equal(envup_error_last()->klass, ENVUP_ERROR_SPEC);
	envup_error_clear();
	assert_string_equal(envup_error_last()->message, "");
	assert_int_equal(envup_error_last()->klass, ENVUP_ERROR_NONE);
}

/* The INIT macros and the init functions agree; a version this library
 * does not know is refused with a message naming it. */
static void test_options_versions(void **state)
{
	envup_up_options a = ENVUP_UP_OPTIONS_INIT, b;
	envup_target ta = ENVUP_TARGET_INIT, tb;
	envup_env *env = NULL;

	(void)state;
	memset(&b, 0xff, sizeof(b));
	api_ok(envup_up_options_init(&b, ENVUP_UP_OPTIONS_VERSION));
	assert_memory_equal(&a, &b, sizeof(a));
	memset(&tb, 0xff, sizeof(tb));
	api_ok(envup_target_init(&tb, ENVUP_TARGET_VERSION));
	assert_memory_equal(&ta, &tb, sizeof(ta));

	assert_int_equal(envup_up_options_init(&b, 99), ENVUP_ESPEC);
	assert_non_null(strstr(envup_error_last()->message, "99"));
	assert_int_equal(envup_target_init(&tb, 0), ENVUP_ESPEC);

	/* a struct of another version handed to a call */
	a.version = ENVUP_UP_OPTIONS_VERSION + 1;
	a.spec_text = "services: {}\n";
	assert_int_equal(envup_up(&env, &a), ENVUP_ESPEC);
	assert_null(env);
	assert_non_null(strstr(envup_error_last()->message, "version"));
}

static void test_spec_from_file(void **state)
{
	envup_spec *spec = NULL;
	char path[512];

	(void)state;
	write_file("envup.yaml", "name: shop-test\nservices:\n  postgres: { template: postgres }\n"
		"  cache: { template: redis }\n  web: { image: nginx, ports: [80] }\n");
	snprintf(path, sizeof(path), "%s/envup.yaml", dir);
	api_ok(envup_spec_read(&spec, path));
	assert_string_equal(envup_spec_name(spec), "shop-test");
	assert_int_equal(envup_spec_service_count(spec), 3);
	assert_string_equal(envup_spec_service_name(spec, 0), "postgres");
	assert_string_equal(envup_spec_service_name(spec, 1), "cache");
	assert_string_equal(envup_spec_service_name(spec, 2), "web");
	assert_null(envup_spec_service_name(spec, 3));
	envup_spec_free(spec);
	envup_spec_free(NULL);
}

/* No path: envup.yaml in the current directory, or a message saying
 * where it was looked for. */
static void test_spec_default_path(void **state)
{
	char cwd[1024], sub[600];
	envup_spec *spec = NULL;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	/* nowhere, here or above */
	{
		char none[] = "/tmp/envup-api-none-XXXXXX", deep[64];
		assert_non_null(mkdtemp(none));
		snprintf(deep, sizeof(deep), "%s/a", none);
		assert_int_equal(mkdir(deep, 0700), 0);
		assert_int_equal(chdir(deep), 0);
		assert_null(envup_spec_default_path());
		assert_int_equal(envup_spec_read(&spec, NULL), ENVUP_ESPEC);
		assert_non_null(strstr(envup_error_last()->message,
			"no envup.yaml, compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml in"));
		assert_non_null(strstr(envup_error_last()->message, "or a directory above it"));
		assert_non_null(strstr(envup_error_last()->message, deep));
		assert_int_equal(chdir(cwd), 0);
		api_remove_tree(none);
	}
	/* in a directory below the spec's: the spec above, as compose looks */
	snprintf(sub, sizeof(sub), "%s/empty", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/empty/deeper", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(chdir(sub), 0);
	assert_string_equal(envup_spec_default_path(), "../../envup.yaml");
	api_ok(envup_spec_read(&spec, NULL));
	envup_spec_free(spec);
	snprintf(sub, sizeof(sub), "%s/empty", dir);
	assert_int_equal(chdir(sub), 0);
	assert_string_equal(envup_spec_default_path(), "../envup.yaml");
	/* without envup.yaml, a Compose file, in compose's order */
	write_file("empty/docker-compose.yml", "services:\n  web:\n    image: nginx\n"
		"    restart: always\n");
	assert_string_equal(envup_spec_default_path(), "docker-compose.yml");
	api_ok(envup_spec_read(&spec, NULL));
	assert_string_equal(envup_spec_service_name(spec, 0), "web");
	envup_spec_free(spec);
	write_file("empty/compose.yaml", "services:\n  db:\n    image: postgres:16\n"
		"    environment: [POSTGRES_PASSWORD=x]\n");
	assert_string_equal(envup_spec_default_path(), "compose.yaml");
	api_ok(envup_spec_read(&spec, NULL));
	assert_string_equal(envup_spec_service_name(spec, 0), "db");
	envup_spec_free(spec);
	assert_int_equal(chdir(dir), 0);
	assert_string_equal(envup_spec_default_path(), "envup.yaml");
	api_ok(envup_spec_read(&spec, NULL));
	assert_int_equal(envup_spec_service_count(spec), 3);
	envup_spec_free(spec);
	assert_int_equal(chdir(cwd), 0);
}

/* A spec from memory: named in messages as given, relative files start at
 * the directory given. */
static void test_spec_from_text(void **state)
{
	envup_spec *spec = NULL;

	(void)state;
	write_file("seed.sql", "SELECT 1;\n");
	api_ok(envup_spec_read_text(&spec,
		"services:\n  postgres: { template: postgres, init: [seed.sql] }\n", "inline.yaml", dir));
	assert_null(envup_spec_name(spec));
	assert_int_equal(envup_spec_service_count(spec), 1);
	envup_spec_free(spec);

	assert_int_equal(envup_spec_read_text(&spec,
		"services:\n  postgres: { template: postgres, init: [seed.sql] }\n", "inline.yaml", "/"),
		ENVUP_ESPEC);
	assert_non_null(strstr(envup_error_last()->message, "inline.yaml:2:"));
	assert_non_null(strstr(envup_error_last()->message, "seed.sql"));

	assert_int_equal(envup_spec_read_text(&spec, "services:\n  a:\n    imag: x\n", NULL, NULL),
		ENVUP_ESPEC);
	assert_string_equal(envup_error_last()->message,
		"spec:3:5: services.a.imag: unknown key (did you mean 'image'?)");
	/* one mistake: no list beyond the message */
	assert_int_equal(envup_error_count(), 0);
	assert_int_equal(envup_error_detail_count(), 1);
	assert_string_equal(envup_error_detail(0), envup_error_last()->message);
	assert_null(envup_error_detail(1));

	/* every mistake of a spec in one failure, the first as the message */
	assert_int_equal(envup_spec_read_text(&spec,
		"services:\n  a:\n    imag: x\n  b:\n    image: nginx\n    ports: [0]\n", NULL, NULL),
		ENVUP_ESPEC);
	assert_int_equal(envup_error_count(), 2);
	assert_int_equal(envup_error_detail_count(), 2);
	assert_string_equal(envup_error_detail(0),
		"spec:3:5: services.a.imag: unknown key (did you mean 'image'?)");
	assert_string_equal(envup_error_detail(0), envup_error_last()->message);
	assert_string_equal(envup_error_detail(1),
		"spec:6:13: services.b.ports[0]: expected an integer from 1 to 65535, found '0'");
	assert_null(envup_error_detail(2));
	/* any later error forgets the list */
	envup_error_clear();
	assert_int_equal(envup_error_count(), 0);
	assert_null(spec);
}

/* A Compose file through the public API: services selected with what they
 * depend on, a profile, the model with the password masked. */
static void test_spec_compose(void **state)
{
	static const char *const only[] = {"app"};
	static const char *const debug[] = {"debug"};
	envup_spec_options opts = ENVUP_SPEC_OPTIONS_INIT;
	envup_spec *spec = NULL;
	char *text = NULL;

	(void)state;
	write_file("docker-compose.yml",
		"services:\n"
		"  db:\n    image: postgres:16-alpine\n"
		"    environment: {POSTGRES_PASSWORD: very-secret}\n"
		"  app:\n    image: example/app:1\n    ports: [\"8080\"]\n"
		"    depends_on: {db: {condition: service_healthy}}\n"
		"  tools:\n    build: ./tools\n    profiles: [debug]\n"
		"  other:\n    image: example/other:1\n");
	opts.services = only;
	opts.nservices = 1;
	{
		char path[600];
		snprintf(path, sizeof(path), "%s/docker-compose.yml", dir);
		api_ok(envup_spec_read_with(&spec, path, &opts));
		assert_int_equal(envup_spec_service_count(spec), 2);
		assert_string_equal(envup_spec_service_name(spec, 0), "db");
		assert_string_equal(envup_spec_service_name(spec, 1), "app");
		api_ok(envup_spec_config(&text, spec, ENVUP_CONFIG_JSON));
		assert_non_null(strstr(text, "\"POSTGRES_PASSWORD\":\t\"***\""));
		assert_null(strstr(text, "very-secret"));
		assert_non_null(strstr(text, "\"db\":\t\"ready\""));
		envup_free(text);
		api_ok(envup_spec_config(&text, spec, ENVUP_CONFIG_YAML));
		assert_non_null(strstr(text, "  app:\n    image: \"example/app:1\"\n"));
		envup_free(text);
		envup_spec_free(spec);

		/* no selection: the active services; the profile adds tools,
		 * whose build: is then an error naming it */
		api_ok(envup_spec_read_with(&spec, path, NULL));
		assert_int_equal(envup_spec_service_count(spec), 3);
		envup_spec_free(spec);
		opts.services = NULL;
		opts.nservices = 0;
		opts.profiles = debug;
		opts.nprofiles = 1;
		assert_int_equal(envup_spec_read_with(&spec, path, &opts), ENVUP_ESPEC);
		assert_non_null(strstr(envup_error_last()->message, "services.tools.build: not supported"));
		opts.version = 99;
		assert_int_equal(envup_spec_read_with(&spec, path, &opts), ENVUP_ESPEC);
		assert_non_null(strstr(envup_error_last()->message, "envup_spec_options version 99"));
	}
}

/* up refuses an invalid spec or option before touching the engine: these
 * fail the same with DOCKER_HOST pointing nowhere. */
static void test_up_refuses_before_the_engine(void **state)
{
	static const struct {
		const char *spec;
		double timeout, ttl;
		const char *message;
	} rows[] = {
		{"services:\n  a: { image: x, ports: [99999] }\n", 0, 0, "spec:2:"},
		{"services:\n  1cache: { template: redis }\n", 0, 0, "1cache"},
		{"services:\n  a: { template: redis }\n", -1, 0, "timeout"},
		{"services:\n  a: { template: redis }\n", 0, 1e30, "ttl"},
	};
	const char *old = getenv("DOCKER_HOST");
	char *saved = old ? strdup(old) : NULL;
	size_t i;

	(void)state;
	setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock", 1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		envup_up_options o = ENVUP_UP_OPTIONS_INIT;
		envup_env *env = NULL;

		o.spec_text = rows[i].spec;
		o.timeout = rows[i].timeout;
		o.ttl = rows[i].ttl;
		o.name = "it-api-never";
		assert_int_equal(envup_up(&env, &o), ENVUP_ESPEC);
		assert_null(env);
		if (!strstr(envup_error_last()->message, rows[i].message))
			fail_msg("row %zu: '%s' does not mention '%s'", i, envup_error_last()->message,
				rows[i].message);
	}
	if (saved)
		setenv("DOCKER_HOST", saved, 1);
	else
		unsetenv("DOCKER_HOST");
	free(saved);
}

/* The name a target designates: -n, else the spec's name:, else the
 * directory's name and a hash of its path. */
static void test_target_name(void **state)
{
	envup_target t = ENVUP_TARGET_INIT;
	char path[512], *name = NULL;

	(void)state;
	t.name = "given";
	api_ok(envup_target_name(&name, &t));
	assert_string_equal(name, "given");
	envup_free(name);

	snprintf(path, sizeof(path), "%s/envup.yaml", dir);
	t.name = NULL;
	t.spec_path = path;
	api_ok(envup_target_name(&name, &t));
	assert_string_equal(name, "shop-test");
	envup_free(name);

	write_file("noname.yaml", "services:\n  a: { template: redis }\n");
	snprintf(path, sizeof(path), "%s/noname.yaml", dir);
	api_ok(envup_target_name(&name, &t));
	/* envup-api-spec-XXXXXX-1a2b3c4d */
	assert_int_equal(strncmp(name, "envup-api-spec-", 15), 0);
	assert_int_equal(strlen(name), strlen("envup-api-spec-XXXXXX-") + 8);
	envup_free(name);
	envup_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_states_have_names),
		cmocka_unit_test(test_error_clear),
		cmocka_unit_test(test_options_versions),
		cmocka_unit_test(test_spec_from_file),
		cmocka_unit_test(test_spec_default_path),
		cmocka_unit_test(test_spec_from_text),
		cmocka_unit_test(test_spec_compose),
		cmocka_unit_test(test_up_refuses_before_the_engine),
		cmocka_unit_test(test_target_name),
	};
	int rc;

	if (!mkdtemp(dir))
		return 1;
	api_private_state_dir();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	api_remove_tree(dir);
	return rc;
}
