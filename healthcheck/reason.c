/*
 * Reasons: what a server said, made fit for one line of a message. Every
 * reason passes through here, so folding, masking and the length bound are
 * applied in one place.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "healthcheck/health.h"

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char *envup_health__fold(const char *s, size_t max)
{
	envup_buf out = ENVUP_BUF_INIT;
	char *masked = NULL, *result = NULL;
	const unsigned char *p;
	bool pending_space = false;

	if (!max)
		max = ENVUP_HEALTH_REASON_MAX;
	/* mask before cutting: a cut must never leave half a secret visible */
	if ((masked = envup_secret_mask(s ? s : "")) == NULL) {
		envup_error_set_oom();
		goto done;
	}
	for (p = (const unsigned char *)masked; *p; p++) {
		unsigned char c = *p;
		if (is_space(c)) {
			pending_space = out.size > 0;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			c = '?';
		if (pending_space && envup_buf_putc(&out, ' ') < 0)
			goto done;
		pending_space = false;
		if (envup_buf_putc(&out, (char)c) < 0)
			goto done;
	}
	if (out.size > max) {
		size_t cut = max;
		/* back off to the start of a UTF-8 sequence */
		while (cut > 0 && ((unsigned char)out.ptr[cut] & 0xC0) == 0x80)
			cut--;
		while (cut > 0 && out.ptr[cut - 1] == ' ')
			cut--;
		out.size = cut;
		out.ptr[cut] = '\0';
		if (envup_buf_puts(&out, "...") < 0)
			goto done;
	}
	result = envup_buf_detach(&out);
done:
	envup__free(masked);
	envup_buf_dispose(&out);
	return result;
}

static char *reason_vformat(const char *fmt, va_list ap)
{
	char text[2048];
	int n = vsnprintf(text, sizeof(text), fmt, ap);

	if (n < 0)
		text[0] = '\0';
	return envup_health__fold(text, 0);
}

char *envup_health__reasonf(const char *fmt, ...)
{
	va_list ap;
	char *r;

	va_start(ap, fmt);
	r = reason_vformat(fmt, ap);
	va_end(ap);
	return r;
}

int envup_health__not_ready(char **why, const char *fmt, ...)
{
	va_list ap;
	char *r;

	va_start(ap, fmt);
	r = reason_vformat(fmt, ap);
	va_end(ap);
	if (!r)
		return ENVUP_ERROR;
	envup__free(*why);
	*why = r;
	return 1;
}

long envup_health__remaining_ms(double deadline)
{
	double left = (deadline - envup_now()) * 1000.0;

	if (left <= 0)
		return 0;
	if (left > 2147483647.0)
		return 2147483647L;
	return (long)(left + 0.999);
}
