/*
 * Base64 (RFC 4648): decoding the standard alphabet (the `auth` of a docker
 * config.json), encoding the URL-safe one with padding (X-Registry-Auth, as
 * the Engine API reads it) and the standard one (a swarm config's Data).
 */
#include <string.h>
#include "util/util.h"

static const char url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char std_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *encode(const char *alphabet, const void *data, size_t len);

char *envup_base64url_encode(const void *data, size_t len)
{
	return encode(url_alphabet, data, len);
}

char *envup_base64_encode(const void *data, size_t len)
{
	return encode(std_alphabet, data, len);
}

static char *encode(const char *alphabet, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i, o = 0;
	char *out = envup__malloc((len + 2) / 3 * 4 + 1);

	if (!out)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < len) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

static int value_of(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int envup_base64_decode(envup_buf *out, const char *s)
{
	unsigned v = 0;
	int bits = 0, d;

	for (; *s && *s != '='; s++) {
		if ((d = value_of(*s)) < 0)
			return ENVUP_ESPEC;
		v = v << 6 | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (envup_buf_putc(out, (char)(v >> bits & 0xff)) < 0)
				return ENVUP_ERROR;
		}
	}
	return envup_buf_puts(out, "");
}
