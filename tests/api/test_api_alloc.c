/*
 * envup_set_allocator: envup's own allocations go through the hooks (and
 * memory it hands out is freed with envup_free through them); NULL puts
 * the default back. It is called first, as the header asks.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "api.h"

static size_t mallocs, reallocs, frees;

static void *count_malloc(size_t n) { mallocs++; return malloc(n); }
static void *count_realloc(void *p, size_t n) { reallocs++; return realloc(p, n); }
static void count_free(void *p) { if (p) frees++; free(p); }

static void test_hooks_carry_envup_allocations(void **state)
{
	envup_target t = ENVUP_TARGET_INIT;
	envup_spec *spec = NULL;
	char *name = NULL;
	size_t before;

	(void)state;
	api_ok(envup_spec_read_text(&spec, "services:\n  db: { template: postgres }\n", NULL, NULL));
	assert_true(mallocs > 0);
	before = frees;
	envup_spec_free(spec);
	assert_true(frees > before);

	t.name = "from-the-hooks";
	api_ok(envup_target_name(&name, &t));
	before = frees;
	envup_free(name);
	assert_int_equal(frees, before + 1);
}

static void test_null_restores_the_default(void **state)
{
	envup_spec *spec = NULL;
	size_t m;

	(void)state;
	envup_set_allocator(NULL);
	m = mallocs;
	api_ok(envup_spec_read_text(&spec, "services:\n  db: { template: redis }\n", NULL, NULL));
	envup_spec_free(spec);
	assert_int_equal(mallocs, m);
}

int main(void)
{
	static const envup_allocator hooks = {count_malloc, count_realloc, count_free};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hooks_carry_envup_allocations),
		cmocka_unit_test(test_null_restores_the_default),
	};

	envup_set_allocator(&hooks);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
