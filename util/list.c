/*
 * Two small containers: a list of strings and an ordered key/value list
 * (environment variables, labels, exports keep the order they were given).
 */
#include <string.h>
#include "util/util.h"

int envup_strlist_push(envup_strlist *l, const char *s)
{
	char **v;
	char *copy = envup__strdup(s ? s : "");

	ENVUP_ERROR_CHECK_ALLOC(copy);
	if ((v = envup__realloc(l->v, (l->n + 1) * sizeof(char *))) == NULL) {
		envup__free(copy);
		return ENVUP_ERROR;
	}
	l->v = v;
	l->v[l->n++] = copy;
	return 0;
}

int envup_strlist_copy(envup_strlist *dst, const envup_strlist *src)
{
	size_t i;
	for (i = 0; i < src->n; i++)
		if (envup_strlist_push(dst, src->v[i]) < 0)
			return ENVUP_ERROR;
	return 0;
}

bool envup_strlist_contains(const envup_strlist *l, const char *s)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

void envup_strlist_dispose(envup_strlist *l)
{
	size_t i;
	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		envup__free(l->v[i]);
	envup__free(l->v);
	l->v = NULL;
	l->n = 0;
}

int envup_kvlist_set(envup_kvlist *l, const char *key, const char *value)
{
	size_t i;
	char *v = envup__strdup(value ? value : "");
	char *k;
	envup_kv *items;

	ENVUP_ERROR_CHECK_ALLOC(v);
	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].key, key) == 0) {
			envup__free(l->v[i].value);
			l->v[i].value = v;
			return 0;
		}
	}
	if ((k = envup__strdup(key)) == NULL) {
		envup__free(v);
		return ENVUP_ERROR;
	}
	if ((items = envup__realloc(l->v, (l->n + 1) * sizeof(envup_kv))) == NULL) {
		envup__free(k);
		envup__free(v);
		return ENVUP_ERROR;
	}
	l->v = items;
	l->v[l->n].key = k;
	l->v[l->n].value = v;
	l->n++;
	return 0;
}

const char *envup_kvlist_get(const envup_kvlist *l, const char *key)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].value;
	return NULL;
}

int envup_kvlist_copy(envup_kvlist *dst, const envup_kvlist *src)
{
	size_t i;
	for (i = 0; i < src->n; i++)
		if (envup_kvlist_set(dst, src->v[i].key, src->v[i].value) < 0)
			return ENVUP_ERROR;
	return 0;
}

void envup_kvlist_unset(envup_kvlist *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].key, key) != 0)
			continue;
		envup__free(l->v[i].key);
		envup__free(l->v[i].value);
		memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(envup_kv));
		l->n--;
		return;
	}
}

void envup_kvlist_dispose(envup_kvlist *l)
{
	size_t i;
	if (!l)
		return;
	for (i = 0; i < l->n; i++) {
		envup__free(l->v[i].key);
		envup__free(l->v[i].value);
	}
	envup__free(l->v);
	l->v = NULL;
	l->n = 0;
}
