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
