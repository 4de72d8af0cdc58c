/*
 * Names: an environment's (they prefix every container, network and label
 * of an environment, so they are DNS-label-like: [a-z0-9][a-z0-9_.-]{0,62}),
 * and the variable names exports take from services.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "compose/spec.h"

#define NAME_MAX_LEN 63
#define NAME_FALLBACK "envup"
/* room for "-" and 8 hex digits */
#define NAME_BASE_LEN (NAME_MAX_LEN - 9)

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

/* FNV-1a, 64 bits: a stable short fingerprint of a path, not a MAC. */
static unsigned long long fnv1a(const char *s)
{
	unsigned long long h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/*
 * The default name of the spec in `dir`: its basename made valid
 * (lower-cased, other characters to '-', runs of '-' folded, no leading
 * or trailing non-alphanumerics, "envup" if nothing is left), then '-' and
 * 8 hex digits of a hash of the directory's absolute, symlink-free path.
 * Two checkouts named "app" (parallel CI jobs, worktrees) get different
 * names, and `envdown` in the same directory finds the same one again.
 */
static char *name_from_dir(const char *dir)
{
	const char *base, *end;
	char buf[NAME_MAX_LEN + 1], *real;
	size_t n = 0;
	char *out;

	if (!dir || !*dir)
		dir = ".";
	real = realpath(dir, NULL);   /* libc's malloc: freed with free() */
	if (real)
		dir = real;
	end = dir + strlen(dir);
	while (end > dir && end[-1] == '/')
		end--;
	for (base = end; base > dir && base[-1] != '/'; base--)
		;
	for (; base < end && n < NAME_BASE_LEN; base++) {
		char c = *base;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!(is_alnum(c) || c == '_' || c == '.' || c == '-'))
			c = '-';
		if (n == 0 && !is_alnum(c))
			continue;
		if (c == '-' && buf[n - 1] == '-')
			continue;
		buf[n++] = c;
	}
	while (n > 0 && !is_alnum(buf[n - 1]))
		n--;
	buf[n] = '\0';
	out = envup__sprintf("%s-%08llx", n ? buf : NAME_FALLBACK,
		fnv1a(dir) & 0xffffffffULL);
	free(real);
	return out;
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
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"invalid environment name '%s': use lower-case letters, digits, "
			"'.', '_' and '-'", bad);
	}
	if (override || spec_name)
		*out = envup__strdup(override ? override : spec_name);
	else
		*out = name_from_dir(dir);
	return *out ? 0 : ENVUP_ERROR;
}

bool envup_export_name_valid(const char *s)
{
	const char *p;

	if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (p = s + 1; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

char *envup_env_stem(const char *service)
{
	char *s = envup__strdup(service);
	char *p;
	if (!s)
		return NULL;
	for (p = s; *p; p++) {
		if (*p == '-' || *p == '.')
			*p = '_';
		else
			*p = (char)toupper((unsigned char)*p);
	}
	return s;
}

/* The length of the valid UTF-8 sequence at p (1 to 4), or 0 when the
 * bytes there are not one (overlong forms and surrogates included). */
