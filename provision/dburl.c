/*
 * The URLs of databases per test (dburl.h).
 */
#include <string.h>
#include "provision/dburl.h"
#include "util/util.h"

int envup_dburl_split(envup_dburl *u, const char *url)
{
	const char *auth = strstr(url, "://"), *end, *at, *colon;

	memset(u, 0, sizeof(*u));
	u->port = -1;
	if (!auth)
		return -1;
	u->postgres = (auth - url == 8 && strncmp(url, "postgres", 8) == 0) ||
		(auth - url == 10 && strncmp(url, "postgresql", 10) == 0);
	u->redis = auth - url == 5 && strncmp(url, "redis", 5) == 0;
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	/* the port: after the last '@' (a password may hold ':'), after a
	 * ']' (an IPv6 address holds ':') */
	for (at = auth; (colon = memchr(at, '@', (size_t)(end - at))) != NULL; at = colon + 1)
		;
	if ((colon = memchr(at, ']', (size_t)(end - at))) != NULL)
		at = colon;
	for (colon = end; colon > at && *colon != ':'; colon--)
		;
	if (*colon == ':' && colon + 1 < end) {
		char num[8];
		size_t len = (size_t)(end - colon - 1);
		if (len < sizeof(num)) {
			memcpy(num, colon + 1, len);
			num[len] = '\0';
			envup_parse_int(&u->port, num, 1, 65535);
		}
	}
	u->path_start = (size_t)(end - url);
	u->path_end = u->path_start + strcspn(url + u->path_start, "?#");
	return 0;
}

char *envup_dburl_with_path(const char *url, const char *path)
{
	envup_dburl u;

	if (envup_dburl_split(&u, url) < 0)
		return NULL;
	return envup__sprintf("%.*s/%s%s", (int)u.path_start, url, path, url + u.path_end);
}

static int hex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

char *envup_dburl_path(const char *url, const envup_dburl *u)
{
	const char *p = url + u->path_start;
	size_t n = u->path_end - u->path_start, i, k = 0;
	char *out;

	if (n && *p == '/') {
		p++;
		n--;
	}
	if ((out = envup__malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (p[i] == '%' && i + 2 < n && hex(p[i + 1]) >= 0 && hex(p[i + 2]) >= 0) {
			out[k] = (char)(hex(p[i + 1]) * 16 + hex(p[i + 2]));
			i += 2;
			if (out[k++] == '\0') {
				envup__free(out);
				return NULL;
			}
		} else {
			out[k++] = p[i];
		}
	}
	out[k] = '\0';
	return out;
}
