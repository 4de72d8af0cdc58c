/*
 * Masking secrets (util/secret.c): every secret, of any length, wherever
 * it stands as a word of its own, and never inside a longer word. A table
 * of registered secrets and texts with what must come out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "util/util.h"

static const char *const secrets[] = {
	"test",        /* a short, word-like password */
	"Zq9",         /* three characters */
	"x",           /* one */
	"p@ss!",       /* punctuation at the end */
	"-dash-",      /* punctuation at both ends */
	"p%40ss%21",   /* the URL form of p@ss! */
	"Kx8Yq2Wm7Rt4Vn6Bp3Zs9Lh5", /* a generated one */
};

static const struct { const char *in, *out; } cases[] = {
	/* standing alone: masked */
	{"password test rejected", "password *** rejected"},
	{"postgres://app:test@127.0.0.1:5432/db", "postgres://app:***@127.0.0.1:5432/db"},
	{"redis://default:Zq9@127.0.0.1:6379/1", "redis://default:***@127.0.0.1:6379/1"},
	{"AUTH Zq9", "AUTH ***"},
	{"'test'", "'***'"},
	{"\"Zq9\".", "\"***\"."},
	{"test", "***"},
	{"x", "***"},
	{"a x b", "a *** b"},
	{"test:test", "***:***"},
	{"password=test\nnext", "password=***\nnext"},
	{"invalid input syntax for type integer: \"Zq9\"", "invalid input syntax for type integer: \"***\""},
	{"pw p@ss! ok", "pw *** ok"},
	{"pw p@ss!ok", "pw ***ok"},           /* '!' ends it: nothing to join */
	{"u:p%40ss%21@h", "u:***@h"},
	{"a-dash-b", "a***b"},
	{"Kx8Yq2Wm7Rt4Vn6Bp3Zs9Lh5", "***"},
	{"[Kx8Yq2Wm7Rt4Vn6Bp3Zs9Lh5]", "[***]"},
	/* a long one, anywhere: glued to an option, to letters, to UTF-8 */
	{"mysql -uroot -pKx8Yq2Wm7Rt4Vn6Bp3Zs9Lh5", "mysql -uroot -p***"},
	{"Kx8Yq2Wm7Rt4Vn6Bp3Zs9Lh5Z", "***Z"},
	{"aKx8Yq2Wm7Rt4Vn6Bp3Zs9Lh5\xc3\xa9", "a***\xc3\xa9"},
	/* non-ASCII next to a short one is not a letter of the same word */
	{"\xe2\x80\x9etest\xe2\x80\x9c", "\xe2\x80\x9e***\xe2\x80\x9c"},
	{"\xc2\xabZq9\xc2\xbb", "\xc2\xab***\xc2\xbb"},
	{"test\xc3\xa9", "***\xc3\xa9"},
	/* inside a longer word: left alone */
	{"image mockserver/mockserver:latest", "image mockserver/mockserver:latest"},
	{"fixtures/test_seed.sql line 3", "fixtures/test_seed.sql line 3"},
	{"testdata/mocks", "testdata/mocks"},
	{"contest attested testing", "contest attested testing"},
	{"Zq9abc abcZq9 _Zq9", "Zq9abc abcZq9 _Zq9"},
	{"max next xx", "max next xx"},
	{"-ptest", "-ptest"},                 /* too short to tell from a word */
	{"", ""},
};

static void test_secret__table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		assert_int_equal(envup_secret_add(secrets[i]), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = envup_secret_mask(cases[i].in);
		char fixed[256];
		assert_non_null(got);
		if (strcmp(got, cases[i].out) != 0)
			fail_msg("mask(\"%s\") = \"%s\", want \"%s\"", cases[i].in, got, cases[i].out);
		envup__free(got);
		/* the allocation-free variant agrees */
		envup_secret_mask_into(fixed, sizeof(fixed), cases[i].in, false);
		if (strcmp(fixed, cases[i].out) != 0)
			fail_msg("mask_into(\"%s\") = \"%s\", want \"%s\"", cases[i].in, fixed, cases[i].out);
	}
}

/* A text cut inside a secret by its producer never shows the secret's
 * first characters, wherever the cut falls. */
static void test_secret__truncated(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(envup_secret_add("Kx8Yq2Wm7Rt4Vn6Bp3Zs9Lh5"), 0);
	envup_secret_mask_into(out, sizeof(out), "failed for Kx8Yq2", true);
	assert_string_equal(out, "failed for ***");
	envup_secret_mask_into(out, sizeof(out), "failed for aKx8Yq2", true);
	assert_string_equal(out, "failed for a***");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret__table),
		cmocka_unit_test(test_secret__truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
