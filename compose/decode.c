/*
 * Typed reads from the YAML tree, with positions and key paths in every
 * message. Interpolation happens here, on a scalar's first read, so values
 * under ignored keys (x-*) are never interpolated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compose/cmdline.h"
#include "compose/decode.h"

/* Append ".key" (or "key" at the start) or "[index]"; truncates quietly. */
static size_t path_append(envup_decode *d, const char *key, size_t index)
{
	size_t mark = d->plen, room = sizeof(d->path) - d->plen;
	int w;

	if (room <= 1)
		return mark;
	if (key)
		w = snprintf(d->path + d->plen, room, "%s%s", d->plen ? "." : "", key);
	else
		w = snprintf(d->path + d->plen, room, "[%zu]", index);
	if (w > 0)
		d->plen += (size_t)w < room ? (size_t)w : room - 1;
	return mark;
}

size_t envup_decode__push(envup_decode *d, const char *key)
{
	return path_append(d, key, 0);
}

size_t envup_decode__push_index(envup_decode *d, size_t index)
{
	return path_append(d, NULL, index);
}

void envup_decode__pop(envup_decode *d, size_t mark)
{
	d->plen = mark;
	d->path[mark] = '\0';
}

int envup_decode__error(const envup_decode *d, envup_pos pos, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->plen)
		envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s:%d:%d: %.*s: %s", d->file,
			pos.line, pos.col, (int)d->plen, d->path, msg);
	else
		envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s:%d:%d: %s", d->file,
			pos.line, pos.col, msg);
	if (d->errors && envup_strlist_push(d->errors, envup_error_last()->message) < 0)
		return ENVUP_ERROR;
	return ENVUP_ESPEC;
}

int envup_decode__file_error(const envup_decode *d, const char *fmt, ...)
{
	char msg[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s", msg);
	if (d->errors && envup_strlist_push(d->errors, envup_error_last()->message) < 0)
		return ENVUP_ERROR;
	return ENVUP_ESPEC;
}

int envup_decode__go_on(int error, bool *failed)
{
	if (error == ENVUP_ESPEC) {
		*failed = true;
		return 0;
	}
	return error;
}

int envup_decode__command(envup_strlist *out, envup_decode *d, envup_yaml_node *v)
{
	const char *s, *why;
	int error;

	envup_strlist_dispose(out);
	if (v->kind == ENVUP_YAML_SCALAR && !v->is_null) {
		if ((error = envup_decode__string(&s, d, v, NULL)) < 0)
			return error;
		error = envup_cmdline__split(out, &why, s);
		if (error == ENVUP_ESPEC)
			return envup_decode__error(d, v->pos, "%s", why);
		return error;
	}
	return envup_decode__strlist(out, d, v, false);
}

static const char *kind_name(const envup_yaml_node *n)
{
	if (n->kind == ENVUP_YAML_MAP)
		return "a mapping";
	if (n->kind == ENVUP_YAML_SEQ)
		return "a sequence";
	return n->is_null ? "nothing" : "a value";
}

/* Interpolate a scalar in place, once (aliases share nodes). */
static int expand(envup_decode *d, envup_yaml_node *n)
{
	char *out = NULL, *why = NULL;
	int error;

	if (!d->interpolate || n->expanded || n->is_null || !strchr(n->text, '$'))
		return 0;
	error = (d->bare_vars ? envup_interp__compose : envup_interp)(&out, &why, n->text,
		d->getenv_fn, d->payload);
	if (error == ENVUP_ESPEC) {
		envup_decode__error(d, n->pos, "%s", why);
		envup__free(why);
		return ENVUP_ESPEC;
	}
	if (error < 0)
		return error;
	envup__free(n->text);
	n->text = out;
	n->expanded = true;
	return 0;
}

int envup_decode__string(const char **out, envup_decode *d, envup_yaml_node *n,
	const char *expected)
{
	int error;

	*out = NULL;
	if (n->kind != ENVUP_YAML_SCALAR || n->is_null)
		return envup_decode__error(d, n->pos, "expected %s, found %s",
			expected ? expected : "a string", kind_name(n));
	if ((error = expand(d, n)) < 0)
		return error;
	*out = n->text;
	return 0;
}

int envup_decode__int(int *out, envup_decode *d, envup_yaml_node *n, int min, int max)
{
	const char *s;
	char *end;
	long v;
	int error;

	*out = 0;
	if (n->kind != ENVUP_YAML_SCALAR || n->is_null)
		return envup_decode__error(d, n->pos,
			"expected an integer from %d to %d", min, max);
	if ((error = expand(d, n)) < 0)
		return error;
	s = n->text;
	errno = 0;
	v = (s[0] >= '0' && s[0] <= '9') ? strtol(s, &end, 10) : 0;
	if (!(s[0] >= '0' && s[0] <= '9') || *end || errno || v < min || v > max)
		return envup_decode__error(d, n->pos,
			"expected an integer from %d to %d, found '%s'", min, max, s);
	*out = (int)v;
	return 0;
}

int envup_decode__bool(bool *out, envup_decode *d, envup_yaml_node *n)
{
	static const char *const yes[] = {"true", "True", "TRUE"};
	static const char *const no[] = {"false", "False", "FALSE"};
	const char *s;
	size_t i;
	int error;

	*out = false;
	if ((error = envup_decode__string(&s, d, n, "true or false")) < 0)
		return error;
	for (i = 0; i < ENVUP_ARRAY_SIZE(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0)
			return 0;
	}
	return envup_decode__error(d, n->pos, "expected true or false, found '%s'", s);
}

int envup_decode__strlist(envup_strlist *out, envup_decode *d, envup_yaml_node *n,
	bool single)
{
	const char *s;
	size_t i, mark;
	int error;

	if (single && n->kind == ENVUP_YAML_SCALAR && !n->is_null) {
		if ((error = envup_decode__string(&s, d, n, NULL)) < 0)
			return error;
		return envup_strlist_push(out, s);
	}
	if (n->kind != ENVUP_YAML_SEQ)
		return envup_decode__error(d, n->pos, "expected a sequence of strings%s",
			single ? " or a string" : "");
	for (i = 0; i < n->n; i++) {
		if (n->items[i]->kind != ENVUP_YAML_SCALAR || n->items[i]->is_null) {
			mark = envup_decode__push_index(d, i);
			error = envup_decode__error(d, n->items[i]->pos,
				"expected a sequence of strings");
			envup_decode__pop(d, mark);
			return error;
		}
		mark = envup_decode__push_index(d, i);
		error = envup_decode__string(&s, d, n->items[i], NULL);
		envup_decode__pop(d, mark);
		if (error < 0)
			return error;
		if ((error = envup_strlist_push(out, s)) < 0)
			return error;
	}
	return 0;
}

int envup_decode__mapping(envup_decode *d, const envup_yaml_node *n)
{
	if (n->kind != ENVUP_YAML_MAP)
		return envup_decode__error(d, n->pos, "expected a mapping, found %s",
			kind_name(n));
	return 0;
}

bool envup_decode__is_extension(const char *key)
{
	return strncmp(key, "x-", 2) == 0;
}

/* Levenshtein distance, capped: anything over `cap` returns cap + 1. */
static size_t distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[65], prev, tmp;

	if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb] > cap ? cap + 1 : row[lb];
}

const char *envup_decode__suggest_in(const char *word, const void *base, size_t n,
	size_t stride, size_t offset)
{
	const char *best = NULL;
	size_t best_d = 3, i;

	for (i = 0; i < n; i++) {
		const char *c = *(const char *const *)((const char *)base + i * stride + offset);
		size_t dist = c ? distance(word, c, 2) : 3;
		if (dist < best_d) {
			best = c;
			best_d = dist;
		}
	}
	return best;
}

const char *envup_decode__suggest(const char *word, const char *const *candidates)
{
	size_t n = 0;

	while (candidates[n])
		n++;
	return envup_decode__suggest_in(word, candidates, n, sizeof(char *), 0);
}

int envup_decode__unknown_key(envup_decode *d, const envup_yaml_node *key,
	const char *const *known)
{
	const char *guess = envup_decode__suggest(key->text, known);
	char list[400];
	size_t len = 0, i;

	if (guess)
		return envup_decode__error(d, key->pos,
			"unknown key (did you mean '%s'?)", guess);
	list[0] = '\0';
	for (i = 0; known[i] && len < sizeof(list) - 1; i++) {
		int w = snprintf(list + len, sizeof(list) - len, "%s%s",
			i ? ", " : "", known[i]);
		if (w < 0 || (size_t)w >= sizeof(list) - len)
			break;
		len += (size_t)w;
	}
	return envup_decode__error(d, key->pos, "unknown key (known keys: %s)", list);
}
