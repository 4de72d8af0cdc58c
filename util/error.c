/*
 * The thread-local error. One message per thread, one line, secrets masked.
 * Out-of-memory is recorded without allocating.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "util/util.h"

#define ERROR_MAX 1024

static _Thread_local char error_text[ERROR_MAX];
static _Thread_local envup_error error_last = {"", ENVUP_ERROR_NONE};

const envup_error *envup_error_last(void)
{
	error_last.message = error_text;
	return &error_last;
}

void envup_error_clear(void)
{
	error_text[0] = '\0';
	error_last.klass = ENVUP_ERROR_NONE;
}

static void error_store(int klass, const char *text)
{
	char *masked = envup_secret_mask(text);
	const char *src = masked ? masked : text;
	size_t i;

	for (i = 0; i + 1 < ERROR_MAX && src[i] && src[i] != '\n'; i++)
		error_text[i] = (src[i] == '\r' || src[i] == '\t') ? ' ' : src[i];
	while (i > 0 && error_text[i - 1] == ' ')
		i--;
	error_text[i] = '\0';
	error_last.klass = klass;
	envup__free(masked);
}

int envup_error_vset(int klass, const char *fmt, va_list ap)
{
	char text[ERROR_MAX];
	int saved = errno;
	int n = vsnprintf(text, sizeof(text), fmt, ap);

	if (n < 0)
		text[0] = '\0';
	if (klass == ENVUP_ERROR_OS && saved != 0) {
		size_t len = strlen(text);
		snprintf(text + len, sizeof(text) - len, ": %s", strerror(saved));
	}
	error_store(klass, text);
	return ENVUP_ERROR;
}

int envup_error_set(int klass, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	envup_error_vset(klass, fmt, ap);
	va_end(ap);
	return ENVUP_ERROR;
}

int envup_error_set_str(int klass, const char *message)
{
	error_store(klass, message ? message : "");
	return ENVUP_ERROR;
}

int envup_error_set_oom(void)
{
	static const char oom[] = "out of memory";
	memcpy(error_text, oom, sizeof(oom));
	error_last.klass = ENVUP_ERROR_NOMEMORY;
	return ENVUP_ERROR;
}
