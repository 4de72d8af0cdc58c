/*
 * The secret registry. Every generated or configured password is added
 * here, and every error message and progress detail passes through
 * envup_secret_mask(), so a password cannot leak to stderr by accident.
 *
 * Every secret is masked, whatever its length. One of SECRET_ANYWHERE
 * bytes or more (every generated password) is masked wherever it occurs.
 * A shorter one is masked wherever it stands as a word of its own: an
 * occurrence is left alone only when it is part of a longer word, that is
 * when an ASCII letter, digit or '_' touches it on a side where the secret
 * itself begins or ends with one. So the password "test" is masked in
 * "user test:", "://u:test@h", "'test'" and "„test“", and
 * "mockserver:latest" or "fixtures/test_seed.sql" stay as they are (and
 * so would "-ptest": a password that short cannot be told from words).
 */
#include <pthread.h>
#include <string.h>
#include "util/util.h"

#define SECRETS_MAX 256
#define SECRET_ANYWHERE 8

static pthread_mutex_t secret_lock = PTHREAD_MUTEX_INITIALIZER;
static char *secrets[SECRETS_MAX];
static size_t nsecrets;

int envup_secret_add(const char *secret)
{
	size_t i;
	int error = 0;

	if (!secret || !*secret)
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

static bool word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_';
}

/* Does the secret of `len` bytes found at s + at stand alone? `avail` is
 * how many bytes of s follow `at`; a secret cut by the end of a truncated
 * text (avail < len) has nothing after it. */
static bool stands_alone(const char *s, size_t at, size_t avail, const char *secret, size_t len)
{
	if (strlen(secret) >= SECRET_ANYWHERE)
		return true;
	if (word_byte((unsigned char)secret[0]) && at > 0 && word_byte((unsigned char)s[at - 1]))
		return false;
	if (avail > len && word_byte((unsigned char)secret[len - 1]) &&
	    word_byte((unsigned char)s[at + len]))
		return false;
	return true;
}

char *envup_secret_mask(const char *s)
{
	envup_buf out = ENVUP_BUF_INIT;
	const char *p = s;

	if (!s)
		return NULL;
	/* "***" may be longer than a short secret: 3 bytes per input byte is
	 * the bound; an explicit cap keeps buf from raising its size error
	 * (which masks, and would take secret_lock again) */
	out.max = 3 * strlen(s) + 1;
	pthread_mutex_lock(&secret_lock);
	while (*p) {
		size_t i, best = 0, at = (size_t)(p - s), rest = strlen(p);
		for (i = 0; i < nsecrets; i++) {
			size_t len = strlen(secrets[i]);
			if (len > best && strncmp(p, secrets[i], len) == 0 &&
			    stands_alone(s, at, rest, secrets[i], len))
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
			if (len > best && len <= rest && strncmp(s + at, secrets[i], len) == 0 &&
			    stands_alone(s, at, rest, secrets[i], len))
				best = len;
			else if (truncated && !best && len > rest &&
			         strncmp(s + at, secrets[i], rest) == 0 &&
			         stands_alone(s, at, rest, secrets[i], rest))
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
