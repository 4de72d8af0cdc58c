/*
 * Foreign resources are never touched (issue #3, section 5), against the
 * real engine. The test creates, through the engine API directly,
 * containers, networks and volumes envup did not make:
 *   - plain ones (no labels);
 *   - ones named like envup's: container envup-NAME-postgres, network
 *     envup-NAME;
 *   - ones labelled dev.envup.env=NAME without dev.envup.managed;
 *   - ones labelled dev.envup.env=NAME and dev.envup.managed=false;
 * then runs `envdown -n NAME`, `envup gc` and `envdown --all`, and checks
 * that every one of them still exists, unchanged. `envup up -n NAME` while
 * a foreign container holds envup's name for a service must fail clearly
 * and leave it alone. The foreign resources are removed in the teardown,
 * also when the test failed.
 *
 * `envdown --all` removes every envup environment on the engine, those of
 * other people's runs included, so it runs only in CI (CI=true) or with
 * ENVUP_TEST_DESTRUCTIVE=1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "support.h"
#include "provision/engine.h"
#include "provision/image.h"
#include "provision/container.h"
#include "provision/network.h"

#define FOREIGN_MAX 16

typedef enum { KIND_CONTAINER, KIND_NETWORK, KIND_VOLUME } kind;

typedef struct {
	kind kind;
	char name[160];
	char *id;
} foreign;

typedef struct {
	it_env env;            /* first: it_teardown frees the whole struct */
	envup_engine *engine;
	char *image;
	foreign items[FOREIGN_MAX];
	size_t n;
} fixture;

static const char *kind_name(kind k)
{
	return k == KIND_CONTAINER ? "container" : k == KIND_NETWORK ? "network" : "volume";
}

static int f_setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	envup_engine_options eo = {0};

	if (!f)
		return -1;
	*state = f;
	if (envup_engine_open(&f->engine, &eo) != 0) {
		fprintf(stderr, "engine: %s\n", envup_error_last()->message);
		return -1;
	}
	/* the same image envup would use, so nothing is pulled twice */
	f->image = envup_image_rewrite("nginx:1.27-alpine", getenv("ENVUP_HUB_IMAGE_PREFIX"));
	if (!f->image || envup_image_ensure(f->engine, f->image, NULL, NULL) != 0) {
		fprintf(stderr, "image: %s\n", envup_error_last()->message);
		return -1;
	}
	return 0;
}

/* Remove what the test created (by id: these carry no envup label), then
 * the usual envup teardown (envdown + leftover check). */
static int f_teardown(void **state)
{
	fixture *f = *state;
	size_t i;
	int pass;

	if (!f)
		return 0;
	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < f->n; i++) {
			foreign *r = &f->items[i];
			int rc = 0;
			if (!r->id || (int)r->kind != pass)
				continue;
			if (r->kind == KIND_CONTAINER)
				rc = envup_container_remove(f->engine, r->id);
			else if (r->kind == KIND_NETWORK)
				rc = envup_network_remove(f->engine, r->id);
			else
				rc = envup_volume_remove(f->engine, r->name);
			if (rc < 0)
				fprintf(stderr, "teardown: cannot remove %s %s: %s\n", kind_name(r->kind),
					r->name, envup_error_last()->message);
			free(r->id);
			r->id = NULL;
		}
	}
	envup_engine_free(f->engine);
	free(f->image);
	f->engine = NULL;
	return it_teardown(state);
}

static envup_kvlist labels_of(const char *k1, const char *v1, const char *k2, const char *v2)
{
	envup_kvlist l = ENVUP_KVLIST_INIT;
	if (k1)
		assert_int_equal(envup_kvlist_set(&l, k1, v1), 0);
	if (k2)
		assert_int_equal(envup_kvlist_set(&l, k2, v2), 0);
	return l;
}

static foreign *add(fixture *f, kind k, const char *name)
{
	foreign *r;
	assert_true(f->n < FOREIGN_MAX);
	r = &f->items[f->n++];
	r->kind = k;
	snprintf(r->name, sizeof(r->name), "%s", name);
	return r;
}

static void make_container(fixture *f, const char *name, const envup_kvlist *labels)
{
	static const char *const sleep_cmd[] = {"sleep", "3600"};
	envup_strlist cmd = ENVUP_STRLIST_INIT;
	envup_container_config cfg;
	foreign *r = add(f, KIND_CONTAINER, name);
	size_t i;

	for (i = 0; i < 2; i++)
		assert_int_equal(envup_strlist_push(&cmd, sleep_cmd[i]), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.name = name;
	cfg.image = f->image;
	cfg.cmd = &cmd;
	cfg.labels = labels;
	if (envup_container_create(&r->id, f->engine, &cfg) != 0)
		fail_msg("create container %s: %s", name, envup_error_last()->message);
	if (envup_container_start(f->engine, r->id) != 0)
		fail_msg("start container %s: %s", name, envup_error_last()->message);
	envup_strlist_dispose(&cmd);
}

static void make_network(fixture *f, const char *name, const envup_kvlist *labels)
{
	foreign *r = add(f, KIND_NETWORK, name);
	if (envup_network_create(&r->id, f->engine, name, labels) != 0)
		fail_msg("create network %s: %s", name, envup_error_last()->message);
}

static void make_volume(fixture *f, const char *name, const char *k1, const char *v1,
	const char *k2, const char *v2)
{
	foreign *r = add(f, KIND_VOLUME, name);
	envup_buf body = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT;
	long status = 0;

	assert_int_equal(envup_buf_printf(&body, "{\"Name\":\"%s\",\"Labels\":{", name), 0);
	if (k1)
		assert_int_equal(envup_buf_printf(&body, "\"%s\":\"%s\"", k1, v1), 0);
	if (k2)
		assert_int_equal(envup_buf_printf(&body, ",\"%s\":\"%s\"", k2, v2), 0);
	assert_int_equal(envup_buf_puts(&body, "}}"), 0);
	if (envup_engine_request(f->engine, "POST", "/volumes/create", NULL, body.ptr, body.size,
	    &status, &resp) != 0 || status != 201)
		fail_msg("create volume %s: %ld %s", name, status, envup_buf_cstr(&resp));
	r->id = strdup(name);
	envup_buf_dispose(&body);
	envup_buf_dispose(&resp);
}

/* Every foreign resource still exists (same id; containers still running). */
static void assert_all_there(fixture *f, const char *after)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		foreign *r = &f->items[i];
		char path[300];
		envup_buf resp = ENVUP_BUF_INIT;
		long status = 0;

		if (r->kind == KIND_CONTAINER) {
			envup_container_info info = ENVUP_CONTAINER_INFO_INIT;
			if (envup_container_inspect(&info, f->engine, r->id) != 0)
				fail_msg("after %s: foreign container %s is gone: %s", after, r->name,
					envup_error_last()->message);
			if (!info.running)
				fail_msg("after %s: foreign container %s is %s", after, r->name,
					info.status ? info.status : "?");
			envup_container_info_dispose(&info);
			continue;
		}
		snprintf(path, sizeof(path), "/%s/%s", r->kind == KIND_NETWORK ? "networks" : "volumes",
			r->kind == KIND_NETWORK ? r->id : r->name);
		assert_int_equal(envup_engine_request(f->engine, "GET", path, NULL, NULL, 0,
			&status, &resp), 0);
		if (status != 200)
			fail_msg("after %s: foreign %s %s is gone (HTTP %ld)", after, kind_name(r->kind),
				r->name, status);
		envup_buf_dispose(&resp);
	}
}

static void make_foreign_set(fixture *f)
{
	const char *n = f->env.name;
	char name[160];
	envup_kvlist none = ENVUP_KVLIST_INIT, env_only, managed_false;

	env_only = labels_of("dev.envup.env", n, "dev.envup.service", "postgres");
	managed_false = labels_of("dev.envup.env", n, "dev.envup.managed", "false");

	/* plain */
	snprintf(name, sizeof(name), "%s-plain", n);
	make_container(f, name, &none);
	snprintf(name, sizeof(name), "%s-plain-net", n);
	make_network(f, name, &none);
	snprintf(name, sizeof(name), "%s-plain-vol", n);
	make_volume(f, name, NULL, NULL, NULL, NULL);

	/* envup's names, no labels */
	snprintf(name, sizeof(name), "envup-%s-postgres", n);
	make_container(f, name, &none);
	snprintf(name, sizeof(name), "envup-%s", n);
	make_network(f, name, &none);

	/* dev.envup.env=NAME, no dev.envup.managed */
	snprintf(name, sizeof(name), "%s-envlabel", n);
	make_container(f, name, &env_only);
	snprintf(name, sizeof(name), "%s-envlabel-net", n);
	make_network(f, name, &env_only);
	snprintf(name, sizeof(name), "%s-envlabel-vol", n);
	make_volume(f, name, "dev.envup.env", n, NULL, NULL);

	/* dev.envup.managed=false */
	snprintf(name, sizeof(name), "%s-unmanaged", n);
	make_container(f, name, &managed_false);
	snprintf(name, sizeof(name), "%s-unmanaged-net", n);
	make_network(f, name, &managed_false);
	snprintf(name, sizeof(name), "%s-unmanaged-vol", n);
	make_volume(f, name, "dev.envup.env", n, "dev.envup.managed", "false");

	envup_kvlist_dispose(&env_only);
	envup_kvlist_dispose(&managed_false);
	assert_all_there(f, "creating them");
}

static bool has_command(it_env *t, const char *cmd, const char *option)
{
	it_envup(t, "--no-name", cmd, option ? option : "--help", option ? "--help" : NULL, NULL);
	return t->status == 0;
}

static bool down_all_allowed(void)
{
	const char *ci = getenv("CI"), *allow = getenv("ENVUP_TEST_DESTRUCTIVE");
	return (ci && strcmp(ci, "true") == 0) || (allow && strcmp(allow, "1") == 0);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_down_gc_all_leave_foreign_alone(void **state)
{
	fixture *f = *state;
	it_env *t = &f->env;

	it_env_init(t, "services:\n  postgres: { template: postgres }\n");
	make_foreign_set(f);

	it_envup(t, "down", NULL);
	if (t->status != 0)
		fail_msg("envdown -n %s: exit %d:\n%s", t->name, t->status, envup_buf_cstr(&t->err));
	assert_all_there(f, "envdown -n NAME");

	/* status and env do not take foreign containers for an environment */
	it_envup(t, "status", NULL);
	if (t->status != 1)
		fail_msg("envup status -n %s: exit %d, expected 1:\n%s", t->name, t->status,
			envup_buf_cstr(&t->err));
	it_assert_contains(t->err.ptr, "is not up");

	if (has_command(t, "gc", NULL)) {
		it_envup(t, "--no-name", "gc", NULL);
		if (t->status != 0)
			fail_msg("envup gc: exit %d:\n%s", t->status, envup_buf_cstr(&t->err));
		assert_all_there(f, "envup gc");
	} else {
		fprintf(stderr, "note: this envup has no 'gc' command; skipped\n");
	}

	if (!has_command(t, "down", "--all")) {
		fprintf(stderr, "note: this envup has no 'down --all'; skipped\n");
	} else if (!down_all_allowed()) {
		fprintf(stderr, "note: 'envdown --all' skipped: it removes every environment on a "
			"shared engine (runs with CI=true or ENVUP_TEST_DESTRUCTIVE=1)\n");
	} else {
		it_envup(t, "--no-name", "down", "--all", NULL);
		if (t->status != 0)
			fail_msg("envdown --all: exit %d:\n%s", t->status, envup_buf_cstr(&t->err));
		assert_all_there(f, "envdown --all");
	}
}

/*
 * A foreign container holds envup-NAME-postgres: `up -n NAME` fails,
 * says why, and leaves it (and its network envup-NAME) alone. Then the
 * same with only the container in the way (the network name is free).
 */
static void test_up_refuses_foreign_names(void **state)
{
	fixture *f = *state;
	it_env *t = &f->env;
	char cname[160], nname[160];
	envup_kvlist none = ENVUP_KVLIST_INIT;
	size_t i;

	it_env_init(t, "services:\n  postgres: { template: postgres }\n");
	snprintf(cname, sizeof(cname), "envup-%s-postgres", t->name);
	snprintf(nname, sizeof(nname), "envup-%s", t->name);
	make_container(f, cname, &none);
	make_network(f, nname, &none);

	it_envup(t, "up", "--timeout", "60", NULL);
	if (t->status == 0 || t->status >= 128)
		fail_msg("up over foreign resources: exit %d:\n%s", t->status, envup_buf_cstr(&t->err));
	assert_int_equal(t->out.size, 0);
	if (!strstr(t->err.ptr, cname) && !strstr(t->err.ptr, nname))
		fail_msg("the error names neither %s nor %s:\n%s", cname, nname, t->err.ptr);
	assert_all_there(f, "a refused up (container and network in the way)");
	assert_int_equal(it_leftovers(t->name), 0);

	/* free the network name: now the container create is what conflicts */
	for (i = 0; i < f->n; i++) {
		if (f->items[i].kind == KIND_NETWORK && strcmp(f->items[i].name, nname) == 0) {
			assert_int_equal(envup_network_remove(f->engine, f->items[i].id), 0);
			free(f->items[i].id);
			f->items[i] = f->items[--f->n];
			break;
		}
	}
	it_envup(t, "up", "--timeout", "60", NULL);
	if (t->status == 0 || t->status >= 128)
		fail_msg("up over a foreign container: exit %d:\n%s", t->status, envup_buf_cstr(&t->err));
	assert_int_equal(t->out.size, 0);
	it_assert_contains(t->err.ptr, cname);
	assert_all_there(f, "a refused up (container in the way)");
	/* what up itself created (its network) is gone again */
	assert_int_equal(it_leftovers(t->name), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_down_gc_all_leave_foreign_alone, f_setup, f_teardown),
		cmocka_unit_test_setup_teardown(test_up_refuses_foreign_names, f_setup, f_teardown),
	};
	it_require_engine();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
