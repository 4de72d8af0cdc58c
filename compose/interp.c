/*
 * ${VAR} interpolation of spec values, as in Compose:
 *   ${VAR}          the value, or "" when unset
 *   ${VAR:-word}    word when VAR is unset or empty;  ${VAR-word}: only unset
 *   ${VAR:?msg}     error "VAR: msg" when unset or empty; ${VAR?msg}: only unset
 *   ${VAR:+word}    word when VAR is set and not empty; ${VAR+word}: when set
 *   $$              a literal $
 * A $ followed by anything else stays as it is ($VAR is not expanded),
 * except in Compose files (envup_interp__compose): there $VAR is ${VAR}.
 * `word` and `msg` are interpolated themselves, only when used; values
 * read from the environment are not. {{placeholders}} are left alone.
 */
#include <stdlib.h>
#include <string.h>
#include "compose/spec.h"

#define INTERP_MAX_NESTING 16

typedef struct {
	envup_getenv_fn getenv_fn;
	void *payload;
	char *why;
	bool bare;       /* $VAR too (Compose) */
} interp;

static const char *lookup(const interp *ip, const char *name)
{
	if (ip->getenv_fn)
		return ip->getenv_fn(name, ip->payload);
	return getenv(name);
}

/* Keep the first reason (`why` is malloc'd; NULL when out of memory). */
static int fail(interp *ip, char *why)
{
	if (!why)
		return ENVUP_ERROR;
	if (ip->why)
		envup__free(why);
	else
		ip->why = why;
	return ENVUP_ESPEC;
}

static bool is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Offset of the '}' closing the "${" at s[0], counting every '{' inside. */
static size_t closing_brace(const char *s, size_t len)
{
	size_t i, depth = 1;

	for (i = 2; i < len; i++) {
		if (s[i] == '{')
			depth++;
		else if (s[i] == '}' && --depth == 0)
			return i;
	}
	return (size_t)-1;
}

static int expand(envup_buf *out, interp *ip, const char *s, size_t len, int nesting);

/* One ${...}: `body` is what is between the braces. */
static int substitute(envup_buf *out, interp *ip, const char *body, size_t len,
	int nesting)
{
	size_t nlen = 0;
	const char *value, *word;
	char name[256], op;
	size_t wlen;
	bool set, colon = false;

	while (nlen < len && is_name_char(body[nlen]))
		nlen++;
	if (nlen == 0 || !is_name_start(body[0]) || nlen >= sizeof(name))
		return fail(ip, envup__sprintf("invalid variable name in '${%.*s}'",
			(int)len, body));
	memcpy(name, body, nlen);
	name[nlen] = '\0';
	value = lookup(ip, name);
	set = value != NULL;
	if (nlen == len)
		return value ? envup_buf_puts(out, value) : 0;

	word = body + nlen;
	if (*word == ':') {
		colon = true;
		word++;
	}
	op = *word++;
	wlen = len - (size_t)(word - body);
	if (op != '-' && op != '?' && op != '+')
		return fail(ip, envup__sprintf("invalid substitution '${%.*s}'",
			(int)len, body));
	if (colon && set && value[0] == '\0')
		set = false; /* ':' forms treat empty like unset */

	switch (op) {
	case '-':
		return set ? envup_buf_puts(out, value) : expand(out, ip, word, wlen, nesting + 1);
	case '+':
		return set ? expand(out, ip, word, wlen, nesting + 1) : 0;
	default: /* '?' */
		if (set)
			return envup_buf_puts(out, value);
		if (wlen == 0)
			return fail(ip, envup__sprintf("%s is required", name));
		{
			envup_buf msg = ENVUP_BUF_INIT;
			int error = expand(&msg, ip, word, wlen, nesting + 1);
			if (error == 0)
				error = fail(ip, envup__sprintf("%s: %s", name,
					envup_buf_cstr(&msg)));
			envup_buf_dispose(&msg);
			return error;
		}
	}
}

static int expand(envup_buf *out, interp *ip, const char *s, size_t len, int nesting)
{
	size_t i = 0, start, end;
	int error;

	if (nesting > INTERP_MAX_NESTING)
		return fail(ip, envup__sprintf("substitutions nested deeper than %d levels",
			INTERP_MAX_NESTING));
	while (i < len) {
		start = i;
		while (i < len && s[i] != '$')
			i++;
		if (i > start && (error = envup_buf_put(out, s + start, i - start)) < 0)
			return error;
		if (i >= len)
			break;
		if (i + 1 < len && s[i + 1] == '$') {
			if ((error = envup_buf_putc(out, '$')) < 0)
				return error;
			i += 2;
		} else if (i + 1 < len && s[i + 1] == '{') {
			end = closing_brace(s + i, len - i);
			if (end == (size_t)-1)
				return fail(ip, envup__sprintf("unterminated ${ in '%.*s'",
					(int)(len - i > 40 ? 40 : len - i), s + i));
			if ((error = substitute(out, ip, s + i + 2, end - 2, nesting)) < 0)
				return error;
			i += end + 1;
		} else if (ip->bare && i + 1 < len && is_name_start(s[i + 1])) {
			size_t n = 1;
			while (i + 1 + n < len && is_name_char(s[i + 1 + n]))
				n++;
			if ((error = substitute(out, ip, s + i + 1, n, nesting)) < 0)
				return error;
			i += 1 + n;
		} else {
			if ((error = envup_buf_putc(out, '$')) < 0)
				return error;
			i++;
		}
	}
	return 0;
}

static int interp_run(char **out, char **why, const char *in,
	envup_getenv_fn getenv_fn, void *payload, bool bare)
{
	envup_buf b = ENVUP_BUF_INIT;
	interp ip = {getenv_fn, payload, NULL, bare};
	int error;

	ENVUP_ASSERT_ARG(out && in);
	*out = NULL;
	if (why)
		*why = NULL;
	b.max = strlen(in) * 2 + (size_t)1024 * 1024;
	if ((error = envup_buf_puts(&b, "")) < 0)
		goto done;
	if ((error = expand(&b, &ip, in, strlen(in), 0)) < 0)
		goto done;
	*out = envup_buf_detach(&b);
	error = *out ? 0 : ENVUP_ERROR;
done:
	if (error == ENVUP_ESPEC) {
		envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s", ip.why);
		if (why)
			*why = ip.why;
		else
			envup__free(ip.why);
	} else {
		envup__free(ip.why);
	}
	envup_buf_dispose(&b);
	return error;
}

int envup_interp(char **out, char **why, const char *in,
	envup_getenv_fn getenv_fn, void *payload)
{
	return interp_run(out, why, in, getenv_fn, payload, false);
}

int envup_interp__compose(char **out, char **why, const char *in,
	envup_getenv_fn getenv_fn, void *payload)
{
	return interp_run(out, why, in, getenv_fn, payload, true);
}
