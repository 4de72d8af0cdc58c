/*
 * envup_buf: a growable, always NUL-terminated byte buffer with a size cap,
 * so data read from a socket can never grow without bound.
 */
#include <stdio.h>
#include <string.h>
#include "util/util.h"

#define BUF_DEFAULT_MAX ((size_t)64 * 1024 * 1024)

static int buf_grow(envup_buf *b, size_t need)
{
	size_t max = b->max ? b->max : BUF_DEFAULT_MAX;
	size_t asize;
	char *p;

	if (need > max || need < b->size)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_INTERNAL,
			"buffer limit of %zu bytes exceeded", max);
	if (need + 1 <= b->asize)
		return 0;
	asize = b->asize ? b->asize : 64;
	while (asize < need + 1)
		asize = asize + asize / 2 + 64;
	if ((p = envup__realloc(b->ptr, asize)) == NULL)
		return ENVUP_ERROR;
	b->ptr = p;
	b->asize = asize;
	return 0;
}

int envup_buf_put(envup_buf *b, const void *data, size_t len)
{
	if (buf_grow(b, b->size + len) < 0)
		return ENVUP_ERROR;
	if (len)
		memcpy(b->ptr + b->size, data, len);
	b->size += len;
	b->ptr[b->size] = '\0';
	return 0;
}

int envup_buf_puts(envup_buf *b, const char *s)
{
	return envup_buf_put(b, s, strlen(s));
}

int envup_buf_putc(envup_buf *b, char c)
{
	return envup_buf_put(b, &c, 1);
}

int envup_buf_printf(envup_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_INTERNAL, "bad format");
	if (buf_grow(b, b->size + (size_t)n) < 0)
		return ENVUP_ERROR;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->size, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->size += (size_t)n;
	return 0;
}

const char *envup_buf_cstr(const envup_buf *b)
{
	return b->ptr ? b->ptr : "";
}

void envup_buf_clear(envup_buf *b)
{
	b->size = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void envup_buf_consume(envup_buf *b, size_t n)
{
	if (n >= b->size) {
		envup_buf_clear(b);
		return;
	}
	memmove(b->ptr, b->ptr + n, b->size - n);
	b->size -= n;
	b->ptr[b->size] = '\0';
}

char *envup_buf_detach(envup_buf *b)
{
	char *p = b->ptr;
	if (!p)
		p = envup__strdup("");
	b->ptr = NULL;
	b->size = b->asize = 0;
	return p;
}

void envup_buf_dispose(envup_buf *b)
{
	if (!b)
		return;
	envup__free(b->ptr);
	b->ptr = NULL;
	b->size = b->asize = 0;
}
