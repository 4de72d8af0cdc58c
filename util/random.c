/*
 * Randomness from getrandom(2): bytes, and the passwords envup generates.
 */
#include <errno.h>
#include <sys/random.h>
#include "util/util.h"

int envup_random_bytes(unsigned char *out, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(out + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "getrandom");
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
