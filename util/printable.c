/*
 * Text from outside (engine labels, names, messages) made safe to print:
 * control characters replaced, UTF-8 kept.
 */
#include <string.h>
#include "util/util.h"

static size_t utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80 ||
		    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/*
 * At p: how many bytes to replace by one '?' (a control character: C0,
 * DEL, C1 (U+0080-U+009F, which UTF-8 writes 0xc2 0x80-0x9f), or a byte
 * that is not valid UTF-8, which some terminals read as C1), 0 to keep
 * the character, whose length goes to *keep.
 */
static size_t control_len(const unsigned char *p, size_t *keep)
{
	size_t n = utf8_len(p);
	*keep = n;
	if (n == 0)
		return 1;
	if (n == 1 && (p[0] < 0x20 || p[0] == 0x7f))
		return 1;
	if (n == 2 && p[0] == 0xc2 && p[1] <= 0x9f)
		return 2;
	return 0;
}

void envup_printable_into(char *dst, size_t size, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0;

	if (!dst || size == 0)
		return;
	while (*p && o + 1 < size) {
		size_t keep, c = control_len(p, &keep);
		if (c) {
			dst[o++] = '?';
			p += c;
		} else if (o + keep < size) {
			memmove(dst + o, p, keep);   /* dst may be p (in place) */
			o += keep;
			p += keep;
		} else {
			break;                       /* never half a character */
		}
	}
	dst[o] = '\0';
}

char *envup_printable(const char *s)
{
	size_t len = strlen(s ? s : "") + 1;
	char *out = envup__malloc(len);
	if (out)
		envup_printable_into(out, len, s);
	return out;
}

bool envup_is_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		size_t keep;
		if (control_len(p, &keep))
			return false;
		p += keep;
	}
	return true;
}

void envup_printable_lines(char *s)
{
	unsigned char *p = (unsigned char *)s, *o = (unsigned char *)s;
	if (!s)
		return;
	while (*p) {
		size_t keep = 1, c = *p == '\n' || *p == '\t' ? 0 : control_len(p, &keep);
		if (c) {
			*o++ = '?';
			p += c;
		} else {
			memmove(o, p, keep);
			o += keep;
			p += keep;
		}
	}
	*o = '\0';
}
