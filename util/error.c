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

/* the errors an error stands for (a spec's), packed, without allocating */
#define DETAILS_TEXT 16384
#define DETAILS_MAX 100
static _Thread_local char details_text[DETAILS_TEXT];
static _Thread_local unsigned short details_at[DETAILS_MAX];
static _Thread_local size_t details_n, details_total;

static void error_store(int klass, const char *text, bool truncated);

const envup_error *envup_error_last(void)
{
	error_last.message = error_text;
	return &error_last;
}

void envup_error_clear(void)
{
	error_text[0] = '\0';
	error_last.klass = ENVUP_ERROR_NONE;
	details_n = details_total = 0;
}

size_t envup_error_count(void)
{
	return details_total;
}

const char *envup_error_detail(size_t i)
{
	if (details_total == 0)
		return i == 0 ? error_text : NULL;
	if (i < details_n)
		return details_text + details_at[i];
	return NULL;
}

size_t envup_error_detail_count(void)
{
	return details_total ? details_n : 1;
}

int envup_error_set_list(int code, int klass, const envup_strlist *lines)
{
	size_t i, used = 0, stored = 0;

	if (!lines || lines->n == 0)
		return code;
	/* the first one is the message, exactly as if it had been alone */
	error_store(klass, lines->v[0], false);
	if (lines->n == 1)
		return code;
	for (i = 0; i < lines->n && stored < DETAILS_MAX; i++) {
		char one[ERROR_MAX];
		size_t len;
		envup_secret_mask_into(one, sizeof(one), lines->v[i], false);
		envup_printable_into(one, sizeof(one), one);
		len = strlen(one);
		if (used + len + 1 > DETAILS_TEXT)
			break;
		memcpy(details_text + used, one, len + 1);
		details_at[stored++] = (unsigned short)used;
		used += len + 1;
	}
	details_n = stored;
	details_total = lines->n;
	return code;
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
	details_n = details_total = 0;
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
	details_n = details_total = 0;
	oom_count++;
	return ENVUP_ERROR;
}

unsigned long envup__oom_count(void)
{
	return oom_count;
}
