/*
 * Environment names (compose/name.c): validity, and the choice between
 * an override, the spec's name: and the spec's directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "compose/spec.h"

static void test_spec_name__valid(void **state)
{
	static const struct { const char *name; bool ok; } cases[] = {
		{"a", true},
		{"0", true},
		{"isx-test", true},
		{"my_env.v2", true},
		{"ci-1234-job.7", true},
		{"123456789012345678901234567890123456789012345678901234567890123", true},
		{"1234567890123456789012345678901234567890123456789012345678901234", false},
		{"", false},
		{"-a", false},
		{".a", false},
		{"_a", false},
		{"Upper", false},
		{"a b", false},
		{"a/b", false},
		{"a:b", false},
		{"caf\xc3\xa9", false},
	};
	size_t i;

	(void)state;
	assert_false(envup_name_valid(NULL));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (envup_name_valid(cases[i].name) != cases[i].ok)
			fail_msg("envup_name_valid(\"%s\") should be %d", cases[i].name,
				cases[i].ok);
}

static void expect_name(const char *override, const char *spec_name,
	const char *dir, const char *want)
{
	char *out = NULL;
	int rc = envup_name_resolve(&out, override, spec_name, dir);

	if (rc != 0)
		fail_msg("resolve(%s, %s, %s) failed: %s", override ? override : "NULL",
			spec_name ? spec_name : "NULL", dir ? dir : "NULL",
			envup_error_last()->message);
	assert_string_equal(out, want);
	envup_free(out);
}

static void test_spec_name__precedence(void **state)
{
	(void)state;
	expect_name("cli", "spec", "/work/project", "cli");
	expect_name(NULL, "spec", "/work/project", "spec");
	expect_name(NULL, NULL, "/work/project", "project");
}

static void test_spec_name__from_dir(void **state)
{
	static const struct { const char *dir; const char *want; } cases[] = {
		{"/home/me/MyProject", "myproject"},
		{"/home/me/my project (copy)", "my-project--copy-"},
		{"/srv/app/", "app"},
		{"/srv/app//", "app"},
		{"/srv/__init__", "init__"},
		{"/srv/.hidden", "hidden"},
		{"/srv/-._x", "x"},
		{"/srv/v1.2_beta", "v1.2_beta"},
		{"/srv/caf\xc3\xa9", "caf--"},
		{"/srv/\xc3\xa9t\xc3\xa9", "t--"},
		{"/", "envup"},
		{"", "envup"},
		{"/srv/---", "envup"},
		{"relative/dir", "dir"},
		{"plain", "plain"},
		{"/x/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;
		assert_int_equal(envup_name_resolve(&out, NULL, NULL, cases[i].dir), 0);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("dir \"%s\": got \"%s\", want \"%s\"", cases[i].dir, out,
				cases[i].want);
		assert_true(envup_name_valid(out));
		envup_free(out);
	}
	expect_name(NULL, NULL, NULL, "envup");
}

static void test_spec_name__invalid_override(void **state)
{
	char *out = (char *)&out;

	(void)state;
	assert_int_equal(envup_name_resolve(&out, "My Env", "spec", "/x"), ENVUP_ESPEC);
	assert_null(out);
	assert_string_equal(envup_error_last()->message,
		"invalid environment name 'My Env': use lower-case letters, digits, "
		"'.', '_' and '-'");
	assert_int_equal(envup_name_resolve(&out, "", NULL, "/x"), ENVUP_ESPEC);
	assert_int_equal(envup_name_resolve(&out, "-x", NULL, "/x"), ENVUP_ESPEC);

	/* a spec name is checked at load, and again here */
	assert_int_equal(envup_name_resolve(&out, NULL, "Bad", "/x"), ENVUP_ESPEC);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_name__valid),
		cmocka_unit_test(test_spec_name__precedence),
		cmocka_unit_test(test_spec_name__from_dir),
		cmocka_unit_test(test_spec_name__invalid_override),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
