/*
 * {{placeholder}} expansion for URLs, exports and template values.
 *
 * Syntax: "{{" optional blanks, a name, optional blanks, "}}". A brace run
 * longer than two ("{{{x}}}") leaves the extra braces as text, so JSON
 * such as {"k":{{v}}} works. Nothing else is special.
 *
 * Errors (ENVUP_ESPEC): "unknown placeholder {{name}}" and
 * "unterminated placeholder \"{{user...\"". envup_placeholder_check()
 * reports an unterminated "{{" by setting *bad to the text from "{{" on
 * (at most 40 bytes, then "..."); ENVUP_ERROR only when out of memory.
 */
#include <string.h>
#include "templates/template.h"

#define PLACEHOLDER_SHOW_MAX 40

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Find the next placeholder from *p. On one, *lit_len is the literal text
 * before it, name/name_len the trimmed name, *p moves past "}}", return 1.
 * No more placeholders: *lit_len covers the rest, return 0. "{{" without
 * "}}": return -1 with *lit_len at the "{{".
 */
static int next_placeholder(const char **p, size_t *lit_len, const char **name,
	size_t *name_len)
{
	const char *s = *p, *open = strstr(s, "{{"), *close, *b, *e;

	if (!open) {
		*lit_len = strlen(s);
		return 0;
	}
	while (open[2] == '{')
		open++;
	*lit_len = (size_t)(open - s);
	if ((close = strstr(open + 2, "}}")) == NULL)
		return -1;
	for (b = open + 2; b < close && is_blank(*b); b++)
		;
	for (e = close; e > b && is_blank(e[-1]); e--)
		;
	*name = b;
	*name_len = (size_t)(e - b);
	*p = close + 2;
	return 1;
}

/* The start of an unterminated placeholder, shortened for a message. */
static char *unterminated_text(const char *at)
{
	size_t n = strlen(at);

	if (n <= PLACEHOLDER_SHOW_MAX)
		return envup__strdup(at);
	return envup__sprintf("%.*s...", PLACEHOLDER_SHOW_MAX, at);
}

int envup_placeholder_expand(char **out, const char *tmpl,
	const envup_kvlist *vars, bool url_encode)
{
	envup_buf result = ENVUP_BUF_INIT, name = ENVUP_BUF_INIT;
	const char *p = tmpl, *start, *n = NULL, *value;
	char *shown;
	size_t lit, nlen = 0;
	int r, error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(out);
	*out = NULL;
	ENVUP_ASSERT_ARG(tmpl && vars);
	if (envup_buf_put(&result, "", 0) < 0)
		goto done;
	for (;;) {
		start = p;
		r = next_placeholder(&p, &lit, &n, &nlen);
		if (r < 0) {
			if ((shown = unterminated_text(start + lit)) == NULL)
				goto done;
			envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "unterminated placeholder \"%s\"", shown);
			envup__free(shown);
			error = ENVUP_ESPEC;
			goto done;
		}
		if (envup_buf_put(&result, start, lit) < 0)
			goto done;
		if (r == 0)
			break;
		envup_buf_clear(&name);
		if (envup_buf_put(&name, n, nlen) < 0)
			goto done;
		if ((value = envup_kvlist_get(vars, envup_buf_cstr(&name))) == NULL) {
			error = envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "unknown placeholder {{%s}}",
				envup_buf_cstr(&name));
			goto done;
		}
		if (url_encode ? envup_url_escape_into(&result, value) < 0 :
		    envup_buf_puts(&result, value) < 0)
			goto done;
	}
	*out = envup_buf_detach(&result);
	error = 0;
done:
	envup_buf_dispose(&result);
	envup_buf_dispose(&name);
	return error;
}

int envup_placeholder_check(char **bad, const char *tmpl, const char *const *allowed)
{
	const char *p = tmpl, *start, *n = NULL;
	const char *const *a;
	size_t lit, nlen = 0;
	int r;

	ENVUP_ASSERT_ARG(bad);
	*bad = NULL;
	ENVUP_ASSERT_ARG(tmpl);
	for (;;) {
		start = p;
		r = next_placeholder(&p, &lit, &n, &nlen);
		if (r == 0)
			return 0;
		if (r < 0) {
			/* no name to give: hand back the unterminated text itself */
			if ((*bad = unterminated_text(start + lit)) == NULL)
				return ENVUP_ERROR;
			return ENVUP_ESPEC;
		}
		for (a = allowed; a && *a; a++)
			if (strlen(*a) == nlen && strncmp(*a, n, nlen) == 0)
				break;
		if (!a || !*a) {
			if ((*bad = envup__strndup(n, nlen)) == NULL)
				return ENVUP_ERROR;
			return ENVUP_ESPEC;
		}
	}
}
