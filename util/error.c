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
static _Thread_local unsigned long oom_count;

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

/*
 * Masking does not allocate: an error is often recorded because memory ran
 * out, and falling back to the unmasked text would print a password.
 */
static void error_store(int klass, const char *text, bool truncated)
{
	size_t i;

	envup_secret_mask_into(error_text, ERROR_MAX, text, truncated);
	for (i = 0; error_text[i] && error_text[i] != '\n'; i++)
		if (error_text[i] == '\r' || error_text[i] == '\t')
			error_text[i] = ' ';
	while (i > 0 && error_text[i - 1] == ' ')
		i--;
	error_text[i] = '\0';
	/* engine messages and names are input: no escape reaches a terminal */
	envup_printable_into(error_text, ERROR_MAX, error_text);
	error_last.klass = klass;
}

int envup_error_vset(int code, int klass, const char *fmt, va_list ap)
{
	/* larger than the message kept: what is cut is cut after masking */
	char text[4 * ERROR_MAX];
	int saved = errno;
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	bool truncated = n >= (int)sizeof(text);

	if (n < 0)
		text[0] = '\0';
	if (klass == ENVUP_ERROR_OS && saved != 0 && !truncated) {
		size_t len = strlen(text);
		snprintf(text + len, sizeof(text) - len, ": %s", strerror(saved));
	}
	error_store(klass, text, truncated);
	return code;
}

int envup_error_set(int code, int klass, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	envup_error_vset(code, klass, fmt, ap);
	va_end(ap);
	return code;
}

int envup_error_set_str(int code, int klass, const char *message)
{
	error_store(klass, message ? message : "", false);
	return code;
}

int envup_error_set_oom(void)
{
	static const char oom[] = "out of memory";
	memcpy(error_text, oom, sizeof(oom));
	error_last.klass = ENVUP_ERROR_NOMEMORY;
	oom_count++;
	return ENVUP_ERROR;
}

unsigned long envup__oom_count(void)
{
	return oom_count;
}
