/*
 * See imageref.h.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include "compose/imageref.h"

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* alnum+ ((. | _ | __ | -+) alnum+)* over [p, end) */
static bool path_component(const char *p, const char *end)
{
	if (p == end || !is_lower_alnum(*p))
		return false;
	while (p < end) {
		while (p < end && is_lower_alnum(*p))
			p++;
		if (p == end)
			return true;
		if (*p == '.' || (*p == '_' && !(p + 1 < end && p[1] == '_')))
			p++;
		else if (*p == '_')
			p += 2;
		else if (*p == '-')
			while (p < end && *p == '-')
				p++;
		else
			return false;
		if (p == end || !is_lower_alnum(*p))
			return false;
	}
	return true;
}

/* host[:port], host = labels of [A-Za-z0-9-] separated by '.' */
static bool domain(const char *p, const char *end)
{
	const char *colon = memchr(p, ':', (size_t)(end - p));
	const char *h = p, *hend = colon ? colon : end;
	bool label_start = true;

	if (h == hend)
		return false;
	for (; h < hend; h++) {
		if (*h == '.') {
			if (label_start)
				return false;
			label_start = true;
		} else if (isalnum((unsigned char)*h) || (*h == '-' && !label_start)) {
			label_start = false;
		} else {
			return false;
		}
	}
	if (label_start || hend[-1] == '-')
		return false;
	if (colon) {
		const char *q = colon + 1;
		if (q == end)
			return false;
		for (; q < end; q++)
			if (!isdigit((unsigned char)*q))
				return false;
	}
	return true;
}

int envup_imageref_check(const char *ref, const char **why)
{
	const char *at = strchr(ref, '@');
	const char *name_end = at ? at : ref + strlen(ref);
	const char *slash = memchr(ref, '/', (size_t)(name_end - ref));
	const char *path = ref, *tag = NULL, *p, *last_slash;

	*why = NULL;
	if (at) {
		const char *colon = strchr(at + 1, ':'), *h;
		size_t hex = 0;
		if (!colon || colon == at + 1) {
			*why = "a digest is ALGORITHM:HEX";
			return -1;
		}
		for (h = colon + 1; *h; h++, hex++)
			if (!isxdigit((unsigned char)*h)) {
				*why = "a digest is ALGORITHM:HEX";
				return -1;
			}
		if (hex < 32) {
			*why = "the digest is too short";
			return -1;
		}
	}
	/* the first component is a registry host when it looks like one */
	if (slash) {
		const char *c = memchr(ref, '.', (size_t)(slash - ref));
		const char *d = memchr(ref, ':', (size_t)(slash - ref));
		if (c || d || ((size_t)(slash - ref) == 9 && strncmp(ref, "localhost", 9) == 0)) {
			if (!domain(ref, slash)) {
				*why = "the registry host is not HOST[:PORT]";
				return -1;
			}
			path = slash + 1;
		}
	}
	last_slash = path;
	for (p = path; p < name_end; p++)
		if (*p == '/')
			last_slash = p + 1;
	tag = memchr(last_slash, ':', (size_t)(name_end - last_slash));
	if (tag) {
		const char *t;
		if (tag + 1 == name_end || (size_t)(name_end - tag - 1) > TAG_MAX_LEN) {
			*why = "a tag is 1 to 128 characters";
			return -1;
		}
		if (!(isalnum((unsigned char)tag[1]) || tag[1] == '_')) {
			*why = "a tag starts with a letter, digit or '_'";
			return -1;
		}
		for (t = tag + 1; t < name_end; t++)
			if (!(isalnum((unsigned char)*t) || *t == '_' || *t == '.' || *t == '-')) {
				*why = "a tag has only letters, digits, '_', '.' and '-'";
				return -1;
			}
		name_end = tag;
	}
	if ((size_t)(name_end - ref) > NAME_MAX_LEN) {
		*why = "the name is longer than 255 characters";
		return -1;
	}
	for (p = path; p <= name_end;) {
		const char *e = memchr(p, '/', (size_t)(name_end - p));
		if (!e)
			e = name_end;
		if (!path_component(p, e)) {
			*why = "repository names are lower-case letters and digits, "
				"separated by '.', '_', '__', '-' or '/'";
			return -1;
		}
		p = e + 1;
		if (e == name_end)
			break;
	}
	return 0;
}
