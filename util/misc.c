/*
 * Clocks, randomness, file reading and name mangling used across layers.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "util/util.h"

double envup_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void envup_sleep_ms(long ms)
{
	struct timespec ts;
	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int envup_random_bytes(unsigned char *out, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(out + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return envup_error_set(ENVUP_ERROR_OS, "getrandom");
		}
		got += (size_t)r;
	}
	return 0;
}

char *envup_random_password(void)
{
	static const char alphabet[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char raw[24];
	char *p;
	size_t i;

	if (envup_random_bytes(raw, sizeof(raw)) < 0)
		return NULL;
	if ((p = envup__malloc(sizeof(raw) + 1)) == NULL)
		return NULL;
	/* 62 symbols: reject-free mapping has a tiny bias; 24 chars keep >140 bits */
	for (i = 0; i < sizeof(raw); i++)
		p[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
	p[sizeof(raw)] = '\0';
	return p;
}

int envup_read_file(envup_buf *out, const char *path, size_t max)
{
	char chunk[8192];
	int fd, error = ENVUP_ERROR;
	ssize_t n;
	size_t limit = max ? max : (size_t)16 * 1024 * 1024;
	struct stat st;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return envup_error_set(ENVUP_ERROR_OS, "%s: cannot open", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		envup_error_set(ENVUP_ERROR_OS, "%s: is a directory", path);
		goto done;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			envup_error_set(ENVUP_ERROR_OS, "%s: read", path);
			goto done;
		}
		if (n == 0)
			break;
		if (out->size + (size_t)n > limit) {
			envup_error_set(ENVUP_ERROR_SPEC, "%s: larger than %zu bytes", path, limit);
			goto done;
		}
		if (envup_buf_put(out, chunk, (size_t)n) < 0)
			goto done;
	}
	if (!out->ptr && envup_buf_put(out, "", 0) < 0)
		goto done;
	error = 0;
done:
	close(fd);
	return error;
}

char *envup_env_stem(const char *service)
{
	char *s = envup__strdup(service);
	char *p;
	if (!s)
		return NULL;
	for (p = s; *p; p++) {
		if (*p == '-' || *p == '.')
			*p = '_';
		else
			*p = (char)toupper((unsigned char)*p);
	}
	return s;
}
