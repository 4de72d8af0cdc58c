/*
 * envup_interp() (compose/interp.c) on arbitrary strings: ${VAR} and its
 * forms, nesting, $$, unterminated and invalid substitutions.
 *
 * The input is cut at its first NUL (spec values never hold one). The
 * fake environment's values are at most 8 bytes, so the output can never
 * exceed the interpolator's cap (twice the input plus 1 MiB) and
 * ENVUP_ERROR means a bug, not a limit.
 *
 * Checks: 0 gives a string and no reason; ENVUP_ESPEC gives a reason that
 * is also the thread's error; an input without '$' comes back unchanged;
 * a value from the environment is never interpolated again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compose/spec.h"

static const char *fuzz_getenv(const char *name, void *payload)
{
	static const char *const vars[][2] = {
		{"A", "a"},
		{"B", "bb"},
		{"EMPTY", ""},
		{"DOLLAR", "${A}"},   /* must stay as is: values are not re-expanded */
		{"BRACE", "}{"},
		{"PORT", "8080"},
		{"X_1", "$$"},
	};
	size_t i;

	(void)payload;
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strcmp(name, vars[i][0]) == 0)
			return vars[i][1];
	return NULL;
}

static void fuzz_fail(const char *what, const char *in, const char *detail)
{
	fprintf(stderr, "interp: %s\n  input: %s\n  detail: %s\n", what, in,
		detail ? detail : "(null)");
	abort();
}

/*
 * The thread's error is `why` as util/error.c stores it: cut at the first
 * newline and at 1023 bytes, \r and \t as blanks, trailing blanks dropped.
 */
static bool same_line(const char *msg, const char *why)
{
	size_t i;

	for (i = 0; msg[i]; i++) {
		char c = why[i] == '\r' || why[i] == '\t' ? ' ' : why[i];
		if (c != msg[i])
			return false;
	}
	while (why[i] == ' ' || why[i] == '\r' || why[i] == '\t')
		i++;
	return why[i] == '\0' || why[i] == '\n' || i >= 1023;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *out = (char *)&out, *why = (char *)&why;
	const char *msg;
	int rc;

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';

	rc = envup_interp(&out, &why, in, fuzz_getenv, NULL);
	msg = envup_error_last()->message;
	if (rc == 0) {
		if (!out || why)
			fuzz_fail("success without a result, or with a reason", in, why);
		if (!strchr(in, '$') && strcmp(in, out) != 0)
			fuzz_fail("an input without '$' changed", in, out);
		if (strcmp(in, "${DOLLAR}") == 0 && strcmp(out, "${A}") != 0)
			fuzz_fail("a value was interpolated again", in, out);
	} else if (rc == ENVUP_ESPEC) {
		if (out || !why)
			fuzz_fail("failure with a result, or without a reason", in, out);
		if (!same_line(msg, why))
			fuzz_fail("the error is not the reason", in, msg);
	} else {
		fuzz_fail("unexpected return code", in, msg);
	}
	envup_free(out);
	envup_free(why);
	free(in);
	return 0;
}
