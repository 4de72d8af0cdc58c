/*
 * {{placeholder}} expansion: table-driven cases for plain and URL-encoded
 * expansion, then the failures (unknown name, unterminated "{{") and
 * envup_placeholder_check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "templates/template.h"

static envup_kvlist vars;

static int group_setup(void **state)
{
	(void)state;
	if (envup_kvlist_set(&vars, "user", "app user") < 0 ||
	    envup_kvlist_set(&vars, "password", "p@ss:w/rd?#[]% é~-._!$&'()*+,;=") < 0 ||
	    envup_kvlist_set(&vars, "host", "127.0.0.1") < 0 ||
	    envup_kvlist_set(&vars, "port", "49153") < 0 ||
	    envup_kvlist_set(&vars, "database", "app") < 0 ||
	    envup_kvlist_set(&vars, "empty", "") < 0 ||
	    envup_kvlist_set(&vars, "braces", "{{user}}") < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	envup_kvlist_dispose(&vars);
	return 0;
}

typedef struct {
	const char *tmpl;
	bool url;
	const char *want;
} expand_case;

static const expand_case expand_cases[] = {
	{"", false, ""},
	{"no placeholders at all", false, "no placeholders at all"},
	{"{{user}}", false, "app user"},
	{"{{ user }}", false, "app user"},
	{"{{\tuser  }}", false, "app user"},
	{"[{{host}}:{{port}}]", false, "[127.0.0.1:49153]"},
	{"{{host}}{{port}}", false, "127.0.0.149153"},
	{"a{{empty}}b", false, "ab"},
	{"{ single } braces }} stay", false, "{ single } braces }} stay"},
	{"{\"k\":{{port}}}", false, "{\"k\":49153}"},
	{"{{{port}}}", false, "{49153}"},
	{"{{braces}}", false, "{{user}}"}, /* values are not expanded again */
	{"postgresql://{{user}}:{{password}}@{{host}}:{{port}}/{{database}}?sslmode=disable",
	 true, "postgresql://app%20user:p%40ss%3Aw%2Frd%3F%23%5B%5D%25%20%C3%A9~-._%21%24%26"
	       "%27%28%29%2A%2B%2C%3B%3D@127.0.0.1:49153/app?sslmode=disable"},
	{"{{ password }}", false, "p@ss:w/rd?#[]% é~-._!$&'()*+,;="},
	{"redis://:{{password}}@{{host}}", true,
	 "redis://:p%40ss%3Aw%2Frd%3F%23%5B%5D%25%20%C3%A9~-._%21%24%26%27%28%29%2A%2B%2C%3B%3D"
	 "@127.0.0.1"},
	{"{{empty}}", true, ""},
};

static void test_placeholder__expand_table(void **state)
{
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(expand_cases) / sizeof(expand_cases[0]); i++) {
		const expand_case *c = &expand_cases[i];
		char *out = NULL;
		int r = envup_placeholder_expand(&out, c->tmpl, &vars, c->url);
		if (r != 0 || strcmp(out, c->want) != 0) {
			print_error("case %zu \"%s\": got %d \"%s\", want \"%s\"\n", i, c->tmpl, r,
				out ? out : "(null)", c->want);
			fail();
		}
		envup__free(out);
	}
}

typedef struct {
	const char *tmpl;
	const char *message;
} fail_case;

static const fail_case fail_cases[] = {
	{"{{nope}}", "unknown placeholder {{nope}}"},
	{"x {{ nope }} y", "unknown placeholder {{nope}}"},
	{"{{}}", "unknown placeholder {{}}"},
	{"{{User}}", "unknown placeholder {{User}}"},
	{"{{user}} and {{user", "unterminated placeholder \"{{user\""},
	{"abc {{", "unterminated placeholder \"{{\""},
	{"{{user} }", "unterminated placeholder \"{{user} }\""},
	{"{{ 0123456789012345678901234567890123456789012345",
	 "unterminated placeholder \"{{ 0123456789012345678901234567890123456...\""},
};

static void test_placeholder__expand_failures(void **state)
{
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(fail_cases) / sizeof(fail_cases[0]); i++) {
		const fail_case *c = &fail_cases[i];
		char *out = (char *)"junk";
		int r = envup_placeholder_expand(&out, c->tmpl, &vars, false);
		if (r != ENVUP_ESPEC || out != NULL ||
		    strcmp(envup_error_last()->message, c->message) != 0) {
			print_error("case %zu \"%s\": got %d \"%s\", want \"%s\"\n", i, c->tmpl, r,
				envup_error_last()->message, c->message);
			fail();
		}
		assert_int_equal(envup_error_last()->klass, ENVUP_ERROR_SPEC);
	}
}

static void test_placeholder__check(void **state)
{
	static const char *const allowed[] = {"user", "password", "host", "port", "database", NULL};
	char *bad = (char *)"junk";
	(void)state;
	assert_int_equal(envup_placeholder_check(&bad, "postgresql://{{user}}:{{ password }}@"
		"{{host}}:{{port}}/{{database}}", allowed), 0);
	assert_null(bad);
	assert_int_equal(envup_placeholder_check(&bad, "plain", allowed), 0);
	assert_int_equal(envup_placeholder_check(&bad, "{{user}}{{ usr }}{{nope}}", allowed),
		ENVUP_ESPEC);
	assert_string_equal(bad, "usr");
	envup__free(bad);
	assert_int_equal(envup_placeholder_check(&bad, "{{users}}", allowed), ENVUP_ESPEC);
	assert_string_equal(bad, "users");
	envup__free(bad);
	assert_int_equal(envup_placeholder_check(&bad, "{{use}}", allowed), ENVUP_ESPEC);
	assert_string_equal(bad, "use");
	envup__free(bad);
	assert_int_equal(envup_placeholder_check(&bad, "{{user}} {{port", allowed), ENVUP_ESPEC);
	assert_string_equal(bad, "{{port");
	envup__free(bad);
	assert_int_equal(envup_placeholder_check(&bad, "{{user}}", NULL), ENVUP_ESPEC);
	assert_string_equal(bad, "user");
	envup__free(bad);
}

static void test_placeholder__bad_arguments(void **state)
{
	char *out = NULL;
	(void)state;
	assert_int_equal(envup_placeholder_expand(NULL, "x", &vars, false), ENVUP_ERROR);
	assert_int_equal(envup_placeholder_expand(&out, NULL, &vars, false), ENVUP_ERROR);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholder__expand_table),
		cmocka_unit_test(test_placeholder__expand_failures),
		cmocka_unit_test(test_placeholder__check),
		cmocka_unit_test(test_placeholder__bad_arguments),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
