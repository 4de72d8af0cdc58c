/*
 * The URLs of databases per test (provision/dburl.c) on arbitrary text,
 * as `envup db drop URL` gets it from a user. The input, cut at its first
 * NUL, is the URL.
 *
 * Checks: the path lies within the URL; a URL given another path splits
 * again to the same scheme and port and to exactly that path; a decoded
 * path never holds a NUL byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "provision/dburl.h"
#include "util/util.h"

static void fuzz_fail(const char *what, const char *url)
{
	fprintf(stderr, "dburl: %s\n  url: %s\n", what, url);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	envup_dburl u, v;
	char *url, *path, *other, *again;
	size_t len;

	if ((url = malloc(size + 1)) == NULL)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	len = strlen(url);
	if (envup_dburl_split(&u, url) < 0) {
		if (strstr(url, "://"))
			fuzz_fail("a URL with :// did not split", url);
		free(url);
		return 0;
	}
	if (u.path_start > u.path_end || u.path_end > len)
		fuzz_fail("the path lies outside the URL", url);
	if (u.port != -1 && (u.port < 1 || u.port > 65535))
		fuzz_fail("a port out of range", url);
	if ((path = envup_dburl_path(url, &u)) != NULL && strlen(path) > len)
		fuzz_fail("the decoded path is longer than the URL", url);
	if ((other = envup_dburl_with_path(url, "envup_x1")) == NULL)
		fuzz_fail("with_path failed on a URL that split", url);
	if (envup_dburl_split(&v, other) < 0 || v.port != u.port || v.postgres != u.postgres ||
	    v.redis != u.redis)
		fuzz_fail("another path changed the scheme or the port", url);
	if ((again = envup_dburl_path(other, &v)) == NULL || strcmp(again, "envup_x1") != 0)
		fuzz_fail("the new path does not come back", url);
	envup__free(path);
	envup__free(other);
	envup__free(again);
	free(url);
	return 0;
}
