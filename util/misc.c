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

int envup_read_file(envup_buf *out, const char *path, size_t max)
{
	char chunk[8192];
	int fd, error = ENVUP_ERROR;
	ssize_t n;
	size_t limit = max ? max : (size_t)16 * 1024 * 1024;
	struct stat st;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "%s: cannot open", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "%s: is a directory", path);
		goto done;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "%s: read", path);
			goto done;
		}
		if (n == 0)
			break;
		if (out->size + (size_t)n > limit) {
			error = envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s: larger than %zu bytes",
				path, limit);
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

/* The length of the valid UTF-8 sequence at p (1 to 4), or 0 when the
 * bytes there are not one (overlong forms and surrogates included). */
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

static int digits(const char *s, int n, int *out)
{
	int i, v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int envup_time_parse(const char *s, long long *sec, long *nsec)
{
	struct tm tm;
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	long ns = 0, scale = 100000000L;
	const char *p;
	time_t t;

	if (!s || strlen(s) < 20 || digits(s, 4, &y) < 0 || s[4] != '-' ||
	    digits(s + 5, 2, &mo) < 0 || s[7] != '-' || digits(s + 8, 2, &d) < 0 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) < 0 ||
	    s[13] != ':' || digits(s + 14, 2, &mi) < 0 || s[16] != ':' ||
	    digits(s + 17, 2, &se) < 0)
		return ENVUP_ERROR;
	p = s + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			ns += (long)(*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (digits(p + 1, 2, &oh) < 0 || p[3] != ':' || digits(p + 4, 2, &om) < 0)
			return ENVUP_ERROR;
		p += 6;
	} else {
		return ENVUP_ERROR;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return ENVUP_ERROR;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	*sec = (long long)t - (long long)sign * (oh * 3600 + om * 60);
	*nsec = ns;
	return 0;
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
