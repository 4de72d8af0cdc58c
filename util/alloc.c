/*
 * Allocation goes through a pluggable allocator so tests can fail any
 * allocation. The wrappers record an out-of-memory error and return NULL:
 * the library never aborts.
 *
 * It covers envup's own allocations only. cJSON, libcurl, libyaml, libpq
 * and hiredis allocate with their own allocators, as the host program set
 * them: envup never calls cJSON_InitHooks, which would reroute the host's
 * own cJSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/util.h"

static envup_allocator allocator = {malloc, realloc, free};

void envup_set_allocator(const envup_allocator *a)
{
	if (a)
		allocator = *a;
	else {
		allocator.malloc_fn = malloc;
		allocator.realloc_fn = realloc;
		allocator.free_fn = free;
	}
}

void *envup__malloc(size_t n)
{
	void *p = allocator.malloc_fn(n ? n : 1);
	if (!p)
		envup_error_set_oom();
	return p;
}

void *envup__calloc(size_t nmemb, size_t size)
{
	void *p;
	if (size && nmemb > (size_t)-1 / size) {
		envup_error_set_oom();
		return NULL;
	}
	if ((p = envup__malloc(nmemb * size)) != NULL)
		memset(p, 0, nmemb * size);
	return p;
}

void *envup__realloc(void *p, size_t n)
{
	void *q = allocator.realloc_fn(p, n ? n : 1);
	if (!q)
		envup_error_set_oom();
	return q;
}

void envup__free(void *p)
{
	if (p)
		allocator.free_fn(p);
}

void envup_free(void *p)
{
	envup__free(p);
}

char *envup__strndup(const char *s, size_t n)
{
	char *p;
	if (!s)
		return NULL;
	if ((p = envup__malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *envup__strdup(const char *s)
{
	return s ? envup__strndup(s, strlen(s)) : NULL;
}

char *envup__sprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_INTERNAL, "bad format");
		return NULL;
	}
	if ((p = envup__malloc((size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

const char *envup_version(void)
{
	return ENVUP_VERSION_STRING;
}
