/*
 * Environment names: they prefix every container, network and label of
 * an environment, so they are DNS-label-like: [a-z0-9][a-z0-9_.-]{0,62}.
 */
#include <string.h>
#include "compose/spec.h"

#define NAME_MAX_LEN 63
#define NAME_FALLBACK "envup"

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool envup_name_valid(const char *s)
{
	size_t i;

	if (!s || !is_alnum(s[0]))
		return false;
	for (i = 1; s[i]; i++)
		if (i >= NAME_MAX_LEN || !(is_alnum(s[i]) || s[i] == '_' ||
		    s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

/* The basename of dir made valid: lower-cased, others to '-', no leading
 * non-alphanumerics, at most 63 characters; "envup" if nothing is left. */
static char *name_from_dir(const char *dir)
{
	const char *base, *end;
	char buf[NAME_MAX_LEN + 1];
	size_t n = 0;

	if (!dir)
		dir = "";
	end = dir + strlen(dir);
	while (end > dir && end[-1] == '/')
		end--;
	for (base = end; base > dir && base[-1] != '/'; base--)
		;
	for (; base < end && n < NAME_MAX_LEN; base++) {
		char c = *base;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!(is_alnum(c) || c == '_' || c == '.' || c == '-'))
			c = '-';
		if (n == 0 && !is_alnum(c))
			continue;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return envup__strdup(n ? buf : NAME_FALLBACK);
}

int envup_name_resolve(char **out, const char *override, const char *spec_name,
	const char *dir)
{
	const char *bad = NULL;

	ENVUP_ASSERT_ARG(out);
	*out = NULL;
	if (override)
		bad = envup_name_valid(override) ? NULL : override;
	else if (spec_name)
		bad = envup_name_valid(spec_name) ? NULL : spec_name;
	if (bad) {
		envup_error_set(ENVUP_ERROR_SPEC,
			"invalid environment name '%s': use lower-case letters, digits, "
			"'.', '_' and '-'", bad);
		return ENVUP_ESPEC;
	}
	if (override || spec_name)
		*out = envup__strdup(override ? override : spec_name);
	else
		*out = name_from_dir(dir);
	return *out ? 0 : ENVUP_ERROR;
}
