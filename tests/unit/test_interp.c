/*
 * ${VAR} interpolation (compose/interp.c), table-driven: every form with
 * the variable set, empty and unset, $$, nesting, and malformed input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "compose/spec.h"

/* SET=value, EMPTY="", DOLLAR="$HOME ${X}"; everything else is unset */
static const char *fake_getenv(const char *name, void *payload)
{
	int *calls = payload;

	if (calls)
		(*calls)++;
	if (strcmp(name, "SET") == 0)
		return "value";
	if (strcmp(name, "EMPTY") == 0)
		return "";
	if (strcmp(name, "DOLLAR") == 0)
		return "$HOME ${X}";
	if (strcmp(name, "_under_1") == 0)
		return "u";
	return NULL;
}

typedef struct {
	const char *in;
	const char *out; /* expected result, or NULL for an error */
	const char *why; /* expected reason when out is NULL */
} interp_case;

static const interp_case cases[] = {
	/* plain text and lone dollars */
	{"", "", NULL},
	{"no variables", "no variables", NULL},
	{"$", "$", NULL},
	{"cost: 5$", "cost: 5$", NULL},
	{"$HOME stays", "$HOME stays", NULL},
	{"a $ b", "a $ b", NULL},
	{"{{url}}/1", "{{url}}/1", NULL},
	{"{{password}}${SET}", "{{password}}value", NULL},

	/* $$ */
	{"$$", "$", NULL},
	{"$${SET}", "${SET}", NULL},
	{"$$$${SET}", "$${SET}", NULL},
	{"$$$", "$$", NULL},
	{"pa$$word", "pa$word", NULL},

	/* ${VAR} */
	{"${SET}", "value", NULL},
	{"x${SET}y${SET}z", "xvalueyvaluez", NULL},
	{"${EMPTY}", "", NULL},
	{"${UNSET}", "", NULL},
	{"<${UNSET}>", "<>", NULL},
	{"${_under_1}", "u", NULL},
	{"${DOLLAR}", "$HOME ${X}", NULL}, /* values are not re-interpolated */

	/* defaults */
	{"${SET:-d}", "value", NULL},
	{"${EMPTY:-d}", "d", NULL},
	{"${UNSET:-d}", "d", NULL},
	{"${SET-d}", "value", NULL},
	{"${EMPTY-d}", "", NULL},
	{"${UNSET-d}", "d", NULL},
	{"${UNSET:-}", "", NULL},
	{"${UNSET:-a b:c}", "a b:c", NULL},
	{"${UNSET:-http://x:1/y}", "http://x:1/y", NULL},

	/* alternatives */
	{"${SET:+alt}", "alt", NULL},
	{"${EMPTY:+alt}", "", NULL},
	{"${EMPTY+alt}", "alt", NULL},
	{"${UNSET+alt}", "", NULL},

	/* nested braces: the word is interpolated, only when used */
	{"${UNSET:-${SET}}", "value", NULL},
	{"${UNSET:-${ALSO_UNSET:-deep}}", "deep", NULL},
	{"${SET:-${MISSING:?never evaluated}}", "value", NULL},
	{"${UNSET:-{{url}}}", "{{url}}", NULL},
	{"${UNSET:-{a}}", "{a}", NULL},
	{"${UNSET:-$$}", "$", NULL},

	/* required */
	{"${SET:?msg}", "value", NULL},
	{"${SET?msg}", "value", NULL},
	{"${EMPTY?msg}", "", NULL},
	{"${UNSET:?set it please}", NULL, "UNSET: set it please"},
	{"${EMPTY:?must not be empty}", NULL, "EMPTY: must not be empty"},
	{"${UNSET?msg}", NULL, "UNSET: msg"},
	{"${UNSET:?}", NULL, "UNSET is required"},
	{"${UNSET?}", NULL, "UNSET is required"},
	{"${UNSET:?need ${SET}}", NULL, "UNSET: need value"},
	{"a ${SET} ${UNSET:?first} ${ALSO:?second}", NULL, "UNSET: first"},

	/* malformed */
	{"${", NULL, "unterminated ${ in '${'"},
	{"${SET", NULL, "unterminated ${ in '${SET'"},
	{"${UNSET:-${SET}", NULL, "unterminated ${ in '${UNSET:-${SET}'"},
	{"${}", NULL, "invalid variable name in '${}'"},
	{"${1A}", NULL, "invalid variable name in '${1A}'"},
	{"${A B}", NULL, "invalid substitution '${A B}'"},
	{"${SET:x}", NULL, "invalid substitution '${SET:x}'"},
	{"${SET/a/b}", NULL, "invalid substitution '${SET/a/b}'"},
};

static void test_interp__table(void **state)
{
	size_t i;
	int failures = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL, *why = NULL;
		int rc = envup_interp(&out, &why, cases[i].in, fake_getenv, NULL);

		if (cases[i].out) {
			if (rc != 0 || !out || strcmp(out, cases[i].out) != 0) {
				print_error("interp(\"%s\"): got rc %d \"%s\" (%s), want \"%s\"\n",
					cases[i].in, rc, out ? out : "(null)",
					why ? why : "", cases[i].out);
				failures++;
			}
		} else if (rc != ENVUP_ESPEC || out || !why ||
		    strcmp(why, cases[i].why) != 0) {
			print_error("interp(\"%s\"): got rc %d out \"%s\" why \"%s\", want \"%s\"\n",
				cases[i].in, rc, out ? out : "(null)", why ? why : "(null)",
				cases[i].why);
			failures++;
		}
		envup_free(out);
		envup_free(why);
	}
	assert_int_equal(failures, 0);
}

static void test_interp__error_is_recorded(void **state)
{
	char *out = NULL, *why = NULL;

	(void)state;
	assert_int_equal(envup_interp(&out, &why, "${X:?gone}", fake_getenv, NULL),
		ENVUP_ESPEC);
	assert_null(out);
	assert_string_equal(why, "X: gone");
	assert_string_equal(envup_error_last()->message, "X: gone");
	envup_free(why);

	/* why may be NULL */
	assert_int_equal(envup_interp(&out, NULL, "${X:?gone}", fake_getenv, NULL),
		ENVUP_ESPEC);
	assert_null(out);
}

static void test_interp__lookup_only_when_needed(void **state)
{
	char *out = NULL;
	int calls = 0;

	(void)state;
	assert_int_equal(envup_interp(&out, NULL, "$$ {{x}} $NAME", fake_getenv, &calls), 0);
	assert_string_equal(out, "$ {{x}} $NAME");
	assert_int_equal(calls, 0);
	envup_free(out);
	assert_int_equal(envup_interp(&out, NULL, "${SET}${SET}", fake_getenv, &calls), 0);
	assert_int_equal(calls, 2);
	envup_free(out);
}

static void test_interp__process_environment(void **state)
{
	char *out = NULL;

	(void)state;
	setenv("ENVUP_TEST_INTERP_VAR", "from-env", 1);
	unsetenv("ENVUP_TEST_INTERP_UNSET");
	assert_int_equal(envup_interp(&out, NULL,
		"${ENVUP_TEST_INTERP_VAR}/${ENVUP_TEST_INTERP_UNSET:-d}", NULL, NULL), 0);
	assert_string_equal(out, "from-env/d");
	envup_free(out);
}

static void test_interp__nesting_limit(void **state)
{
	char in[4096], *out = NULL, *why = NULL;
	size_t n = 0, i;

	(void)state;
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n, "${U:-");
	in[n++] = 'x';
	for (i = 0; i < 100; i++)
		in[n++] = '}';
	in[n] = '\0';
	assert_int_equal(envup_interp(&out, &why, in, fake_getenv, NULL), ENVUP_ESPEC);
	assert_non_null(strstr(why, "nested deeper"));
	envup_free(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interp__table),
		cmocka_unit_test(test_interp__error_is_recorded),
		cmocka_unit_test(test_interp__lookup_only_when_needed),
		cmocka_unit_test(test_interp__process_environment),
		cmocka_unit_test(test_interp__nesting_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
