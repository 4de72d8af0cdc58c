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
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
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
	expect_name(NULL, NULL, "/work/project", "project-fa92bd8b");
}

/* The default name is BASE-HASH: BASE from the directory's basename, HASH
 * 8 hex digits of its absolute path. */
static void test_spec_name__from_dir(void **state)
{
	static const struct { const char *dir; const char *want; } cases[] = {
		{"/home/me/MyProject", "myproject"},
		{"/home/me/my project (copy)", "my-project-copy"},
		{"/srv/app/", "app"},
		{"/srv/app//", "app"},
		{"/srv/__init__", "init"},
		{"/srv/.hidden", "hidden"},
		{"/srv/-._x", "x"},
		{"/srv/v1.2_beta", "v1.2_beta"},
		{"/srv/caf\xc3\xa9", "caf"},
		{"/srv/\xc3\xa9t\xc3\xa9", "t"},
		{"/srv/\xd0\xbf\xd1\x80\xd0\xbe\xd0\xb5\xd0\xba\xd1\x82", "envup"},
		{"/", "envup"},
		{"/srv/---", "envup"},
		{"/x/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;
		size_t len, k;
		assert_int_equal(envup_name_resolve(&out, NULL, NULL, cases[i].dir), 0);
		len = strlen(out);
		if (len < 9 || strncmp(out, cases[i].want, len - 9) != 0 ||
		    strlen(cases[i].want) != len - 9 || out[len - 9] != '-')
			fail_msg("dir \"%s\": got \"%s\", want \"%s-XXXXXXXX\"", cases[i].dir, out,
				cases[i].want);
		for (k = len - 8; k < len; k++)
			assert_non_null(strchr("0123456789abcdef", out[k]));
		assert_true(envup_name_valid(out));
		envup_free(out);
	}
}

/* Two checkouts of one name differ; one directory, reached any way, is
 * one name; the current directory is the default. */
static void test_spec_name__unique_per_directory(void **state)
{
	char tmpl[] = "/tmp/envup-name-XXXXXX";
	char a[PATH_MAX], b[PATH_MAX], link[PATH_MAX], cwd[PATH_MAX];
	char *na = NULL, *nb = NULL, *nl = NULL, *nrel = NULL, *ndot = NULL;
	const char *root;

	(void)state;
	assert_non_null(root = mkdtemp(tmpl));
	snprintf(a, sizeof(a), "%s/one", root);
	snprintf(b, sizeof(b), "%s/two", root);
	assert_int_equal(mkdir(a, 0700), 0);
	assert_int_equal(mkdir(b, 0700), 0);
	snprintf(a, sizeof(a), "%s/one/app", root);
	snprintf(b, sizeof(b), "%s/two/app", root);
	snprintf(link, sizeof(link), "%s/alias", root);
	assert_int_equal(mkdir(a, 0700), 0);
	assert_int_equal(mkdir(b, 0700), 0);
	assert_int_equal(symlink(a, link), 0);

	assert_int_equal(envup_name_resolve(&na, NULL, NULL, a), 0);
	assert_int_equal(envup_name_resolve(&nb, NULL, NULL, b), 0);
	assert_int_equal(envup_name_resolve(&nl, NULL, NULL, link), 0);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(a), 0);
	assert_int_equal(envup_name_resolve(&nrel, NULL, NULL, "."), 0);
	assert_int_equal(envup_name_resolve(&ndot, NULL, NULL, NULL), 0);
	assert_int_equal(chdir(cwd), 0);

	assert_int_equal(strncmp(na, "app-", 4), 0);
	assert_int_equal(strncmp(nb, "app-", 4), 0);
	assert_string_not_equal(na, nb);
	assert_string_equal(na, nl);
	assert_string_equal(na, nrel);
	assert_string_equal(na, ndot);
	envup_free(na);
	envup_free(nb);
	envup_free(nl);
	envup_free(nrel);
	envup_free(ndot);
	unlink(link);
	rmdir(a);
	rmdir(b);
	snprintf(a, sizeof(a), "%s/one", root);
	snprintf(b, sizeof(b), "%s/two", root);
	rmdir(a);
	rmdir(b);
	rmdir(root);
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
		cmocka_unit_test(test_spec_name__unique_per_directory),
		cmocka_unit_test(test_spec_name__invalid_override),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
