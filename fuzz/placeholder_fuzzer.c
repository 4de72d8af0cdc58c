/*
 * {{placeholder}} expansion (templates/placeholder.c) on arbitrary
 * templates. The first byte chooses percent-encoding (bit 0); the rest,
 * cut at its first NUL, is the template.
 *
 * Checks: envup_placeholder_expand() and envup_placeholder_check() agree
 * (with the allowed list equal to the variables, one succeeds exactly when
 * the other does); a template without "{{" comes back unchanged; a failure
 * is ENVUP_ESPEC and leaves *out NULL; with encoding on, no reserved
 * character of a value reaches the output unencoded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "templates/template.h"

static const char *const names[] = {"url", "host", "port", "port:5432", "user",
	"password", "database", "empty", NULL};
static const char *const values[] = {"postgres://u:p@127.0.0.1:1/db", "127.0.0.1",
	"49153", "49154", "us er", "p@ss:w/rd%{{url}}", "db", ""};

static void fuzz_fail(const char *what, const char *tmpl)
{
	fprintf(stderr, "placeholder: %s\n  template: %s\n", what, tmpl);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	envup_kvlist vars = ENVUP_KVLIST_INIT;
	char *tmpl, *out = NULL, *bad = NULL;
	bool encode;
	int rc, rc_check;
	size_t i;

	if (size < 1)
		return 0;
	encode = data[0] & 1;
	if ((tmpl = malloc(size)) == NULL)
		return 0;
	memcpy(tmpl, data + 1, size - 1);
	tmpl[size - 1] = '\0';
	for (i = 0; names[i]; i++)
		if (envup_kvlist_set(&vars, names[i], values[i]) < 0)
			abort();

	rc = envup_placeholder_expand(&out, tmpl, &vars, encode);
	rc_check = envup_placeholder_check(&bad, tmpl, names);
	if (rc != 0 && rc != ENVUP_ESPEC)
		fuzz_fail("expand: unexpected return code", tmpl);
	if (rc_check != 0 && rc_check != ENVUP_ESPEC)
		fuzz_fail("check: unexpected return code", tmpl);
	if ((rc == 0) != (rc_check == 0))
		fuzz_fail("expand and check disagree", tmpl);
	if (rc == 0 && (!out || bad))
		fuzz_fail("success without a result", tmpl);
	if (rc != 0 && (out || !bad))
		fuzz_fail("failure with a result or without a reason", tmpl);
	if (rc == 0 && !strstr(tmpl, "{{") && strcmp(out, tmpl) != 0)
		fuzz_fail("a template without placeholders changed", tmpl);
	if (rc == 0 && encode && strstr(tmpl, "{{password}}") && !strstr(tmpl, "p@ss") &&
	    strstr(out, "p@ss"))
		fuzz_fail("a value was not encoded", tmpl);
	if (rc == 0 && !encode && strstr(tmpl, "{{password}}") && !strstr(out, values[5]))
		fuzz_fail("a value was changed without encoding", tmpl);

	envup_free(out);
	envup_free(bad);
	envup_kvlist_dispose(&vars);
	free(tmpl);
	return 0;
}
