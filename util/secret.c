/*
 * The secret registry. Every generated or configured password is added
 * here, and every error message and progress detail passes through
 * envup_secret_mask(), so a password cannot leak to stderr by accident.
 */
#include <pthread.h>
#include <string.h>
#include "util/util.h"

#define SECRETS_MAX 256

static pthread_mutex_t secret_lock = PTHREAD_MUTEX_INITIALIZER;
static char *secrets[SECRETS_MAX];
static size_t nsecrets;

int envup_secret_add(const char *secret)
{
	size_t i;
	int error = 0;

	if (!secret || strlen(secret) < 4)
		return 0;
	pthread_mutex_lock(&secret_lock);
	for (i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i], secret) == 0)
			goto done;
	if (nsecrets == SECRETS_MAX) {
		/* forget the oldest rather than fail: it is a best effort mask */
		envup__free(secrets[0]);
		memmove(secrets, secrets + 1, (SECRETS_MAX - 1) * sizeof(char *));
		nsecrets--;
	}
	if ((secrets[nsecrets] = envup__strdup(secret)) == NULL)
		error = ENVUP_ERROR;
	else
		nsecrets++;
done:
	pthread_mutex_unlock(&secret_lock);
	return error;
}

char *envup_secret_mask(const char *s)
{
	envup_buf out = ENVUP_BUF_INIT;
	const char *p = s;

	if (!s)
		return NULL;
	/* the result is never longer than s ("***" replaces >= 4 bytes): an
	 * explicit cap keeps buf from raising its size error (which masks, and
	 * would take secret_lock again) */
	out.max = strlen(s) + 1;
	pthread_mutex_lock(&secret_lock);
	while (*p) {
		size_t i, best = 0;
		for (i = 0; i < nsecrets; i++) {
			size_t len = strlen(secrets[i]);
			if (len > best && strncmp(p, secrets[i], len) == 0)
				best = len;
		}
		if (best) {
			if (envup_buf_puts(&out, "***") < 0)
				goto oom;
			p += best;
		} else {
			if (envup_buf_putc(&out, *p) < 0)
				goto oom;
			p++;
		}
	}
	pthread_mutex_unlock(&secret_lock);
	if (!out.ptr)
		return envup__strdup("");
	return envup_buf_detach(&out);
oom:
	pthread_mutex_unlock(&secret_lock);
	envup_buf_dispose(&out);
	return NULL;
}

void envup_secret_mask_into(char *dst, size_t size, const char *s, bool truncated)
{
	size_t o = 0, slen, at = 0;

	if (!dst || size == 0)
		return;
	dst[0] = '\0';
	if (!s)
		return;
	slen = strlen(s);
	pthread_mutex_lock(&secret_lock);
	while (at < slen && o + 1 < size) {
		size_t i, best = 0, rest = slen - at;
		for (i = 0; i < nsecrets; i++) {
			size_t len = strlen(secrets[i]);
			if (len > best && len <= rest && strncmp(s + at, secrets[i], len) == 0)
				best = len;
			else if (truncated && !best && len > rest &&
			         strncmp(s + at, secrets[i], rest) == 0)
				best = rest; /* the producer cut the text inside a secret */
		}
		if (best) {
			size_t k;
			for (k = 0; k < 3 && o + 1 < size; k++)
				dst[o++] = '*';
			at += best;
		} else {
			dst[o++] = s[at++];
		}
	}
	dst[o] = '\0';
	pthread_mutex_unlock(&secret_lock);
}
