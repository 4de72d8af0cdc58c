/*
 * Secrets and their mask. Every generated or configured password is added
 * to a set, and every error message and progress detail passes through
 * envup_secret_mask(), so a password cannot leak to stderr by accident.
 *
 * Sets are scoped to what needs them: each `up` has one (envup_secrets_new),
 * which its threads use (envup_secrets_use) and which goes when the up
 * ends, so a test runner's threads bringing up environments at once do
 * not share, grow or keep each other's passwords. A secret added on a
 * thread that uses no set goes to a small process-wide one (the last
 * FALLBACK_MAX), for code that runs outside an `up` (the probes' own
 * tests). A text is masked with the thread's set and the process-wide one.
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
 *
 * Masking never allocates in envup_secret_mask_into(): an error is often
 * recorded because memory ran out, and an unmasked fallback would print a
 * password.
 */
#include <pthread.h>
#include <string.h>
#include "util/util.h"

#define FALLBACK_MAX 256
#define SECRET_ANYWHERE 8

struct envup_secrets {
	pthread_mutex_t lock;
	char **v;
	size_t n;
	size_t cap;     /* 0: grows; else v holds cap, and the oldest goes past it */
};

static char *fallback_v[FALLBACK_MAX];
static envup_secrets fallback = {PTHREAD_MUTEX_INITIALIZER, fallback_v, 0, FALLBACK_MAX};
static _Thread_local envup_secrets *current;

int envup_secrets_new(envup_secrets **out)
{
	envup_secrets *s = envup__calloc(1, sizeof(*s));
	*out = NULL;
	ENVUP_ERROR_CHECK_ALLOC(s);
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		envup__free(s);
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "pthread_mutex_init");
	}
	*out = s;
	return 0;
}

void envup_secrets_free(envup_secrets *s)
{
	size_t i;
	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		envup__free(s->v[i]);
	envup__free(s->v);
	pthread_mutex_destroy(&s->lock);
	envup__free(s);
}

envup_secrets *envup_secrets_use(envup_secrets *s)
{
	envup_secrets *prev = current;
	current = s;
	return prev;
}

static int set_add(envup_secrets *s, const char *secret)
{
	char **grown, *copy = NULL;
	size_t i;
	int error = 0;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], secret) == 0)
			goto done;
	if (s->cap && s->n == s->cap) {
		/* forget the oldest rather than fail: it is a best effort mask */
		envup__free(s->v[0]);
		memmove(s->v, s->v + 1, (s->n - 1) * sizeof(char *));
		s->n--;
	}
	if ((copy = envup__strdup(secret)) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	if (!s->cap) {
		if ((grown = envup__realloc(s->v, (s->n + 1) * sizeof(char *))) == NULL) {
			envup__free(copy);
			error = ENVUP_ERROR;
			goto done;
		}
		s->v = grown;
	}
	s->v[s->n++] = copy;
done:
	pthread_mutex_unlock(&s->lock);
	return error;
}

int envup_secrets_add(envup_secrets *s, const char *secret)
{
	if (!secret || !*secret)
		return 0;
	return set_add(s ? s : &fallback, secret);
}

int envup_secret_add(const char *secret)
{
	return envup_secrets_add(current, secret);
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

/*
 * The longest secret of `set` at s + at (0: none). With `truncated`, a tail
 * of s that is the start of a secret counts: the producer cut the text
 * inside it. Called with set->lock held.
 */
static size_t match_at(const envup_secrets *set, const char *s, size_t at, size_t rest,
	bool truncated, size_t best)
{
	size_t i;
	for (i = 0; set && i < set->n; i++) {
		const char *sec = set->v[i];
		size_t len = strlen(sec);
		if (len > best && len <= rest && strncmp(s + at, sec, len) == 0 &&
		    stands_alone(s, at, rest, sec, len))
			best = len;
		else if (truncated && !best && len > rest && strncmp(s + at, sec, rest) == 0 &&
		         stands_alone(s, at, rest, sec, rest))
			best = rest;
	}
	return best;
}

/* The sets a text on this thread is masked with, locked in order. */
static void lock_sets(envup_secrets **a, envup_secrets **b)
{
	*a = current;
	*b = &fallback;
	if (*a == *b)
		*a = NULL;
	if (*a)
		pthread_mutex_lock(&(*a)->lock);
	pthread_mutex_lock(&(*b)->lock);
}

static void unlock_sets(envup_secrets *a, envup_secrets *b)
{
	pthread_mutex_unlock(&b->lock);
	if (a)
		pthread_mutex_unlock(&a->lock);
}

char *envup_secret_mask(const char *s)
{
	envup_buf out = ENVUP_BUF_INIT;
	envup_secrets *a, *b;
	size_t at = 0, slen;

	if (!s)
		return NULL;
	slen = strlen(s);
	/* "***" may be longer than a short secret: 3 bytes per input byte is
	 * the bound; an explicit cap keeps buf from raising its size error
	 * (which masks, and would take the locks again) */
	out.max = 3 * slen + 1;
	lock_sets(&a, &b);
	while (at < slen) {
		size_t best = match_at(b, s, at, slen - at, false, match_at(a, s, at, slen - at, false, 0));
		if (best) {
			if (envup_buf_puts(&out, "***") < 0)
				goto oom;
			at += best;
		} else {
			if (envup_buf_putc(&out, s[at]) < 0)
				goto oom;
			at++;
		}
	}
	unlock_sets(a, b);
	if (!out.ptr)
		return envup__strdup("");
	return envup_buf_detach(&out);
oom:
	unlock_sets(a, b);
	envup_buf_dispose(&out);
	return NULL;
}

void envup_secret_mask_into(char *dst, size_t size, const char *s, bool truncated)
{
	envup_secrets *a, *b;
	size_t o = 0, slen, at = 0;

	if (!dst || size == 0)
		return;
	dst[0] = '\0';
	if (!s)
		return;
	slen = strlen(s);
	lock_sets(&a, &b);
	while (at < slen && o + 1 < size) {
		size_t rest = slen - at;
		size_t best = match_at(b, s, at, rest, truncated, match_at(a, s, at, rest, truncated, 0));
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
	unlock_sets(a, b);
}
