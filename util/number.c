/*
 * Whole numbers from text, checked: the one replacement for atoi(3).
 */
#include <errno.h>
#include <stdlib.h>
#include "util/util.h"

int envup_parse_int(int *out, const char *s, int min, int max)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}
