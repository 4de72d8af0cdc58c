/*
 * The pull progress parser (provision/stream.c) on arbitrary bytes, fed
 * twice: whole, and split at a point the fuzzer chooses (the first two
 * bytes, big-endian, modulo the stream's length), each run followed by
 * envup_pullstream_finish().
 *
 * Checks: both runs see the same callbacks, the same result and the same
 * counters (the parser must not care where the engine's chunks end);
 * layers_done never exceeds layers_seen; progress numbers are never
 * negative; a failed stream keeps failing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "provision/stream.h"

typedef struct {
	envup_buf calls;   /* "status|id|current|total\n" per callback */
	int rc_feed;       /* first failing feed, or 0 */
	int rc_finish;
	envup_pullstream ps;
} pull_run;

static void fuzz_fail(const char *what)
{
	fprintf(stderr, "pullstream: %s\n", what);
	abort();
}

static void pull_cb(const char *status, const char *id, long long current,
	long long total, void *payload)
{
	pull_run *r = payload;

	if (current < 0 || total < 0)
		fuzz_fail("negative progress");
	if (envup_buf_printf(&r->calls, "%s|%s|%lld|%lld\n", status, id ? id : "(none)",
	    current, total) < 0)
		abort();
}

static void pull_feed(pull_run *r, const char *data, size_t len)
{
	int rc;

	if (r->rc_feed < 0)
		return; /* callers stop at the first error */
	rc = envup_pullstream_feed(&r->ps, data, len, pull_cb, r);
	if (rc > 0)
		fuzz_fail("feed returned a positive code");
	r->rc_feed = rc;
}

static void pull_end(pull_run *r)
{
	r->rc_finish = envup_pullstream_finish(&r->ps, pull_cb, r);
	if (r->rc_feed < 0 && r->rc_finish == 0)
		fuzz_fail("finish succeeded after a failed feed");
	if (r->ps.error && r->rc_finish == 0)
		fuzz_fail("finish succeeded with an error recorded");
	if (r->ps.layers_done > r->ps.layers_seen)
		fuzz_fail("more layers done than seen");
}

/* An error stays an error: later feeds and finishes fail too. */
static void pull_check_sticky(pull_run *r)
{
	static const char more[] = "{\"status\":\"x\"}\n";

	if (!r->ps.error)
		return;
	if (envup_pullstream_feed(&r->ps, more, sizeof(more) - 1, NULL, NULL) == 0 ||
	    envup_pullstream_finish(&r->ps, NULL, NULL) == 0)
		fuzz_fail("the stream recovered from an error");
}

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pull_run whole, split;
	const char *stream;
	size_t len, at;

	if (size < 2)
		return 0;
	stream = (const char *)data + 2;
	len = size - 2;
	at = len ? (((size_t)data[0] << 8) | data[1]) % (len + 1) : 0;

	memset(&whole, 0, sizeof(whole));
	memset(&split, 0, sizeof(split));
	whole.ps = (envup_pullstream)ENVUP_PULLSTREAM_INIT;
	split.ps = (envup_pullstream)ENVUP_PULLSTREAM_INIT;

	pull_feed(&whole, stream, len);
	pull_end(&whole);
	pull_feed(&split, stream, at);
	pull_feed(&split, stream + at, len - at);
	pull_end(&split);

	if ((whole.rc_feed < 0) != (split.rc_feed < 0) ||
	    whole.rc_finish != split.rc_finish)
		fuzz_fail("the split changed the result");
	if (!str_eq(whole.ps.error, split.ps.error))
		fuzz_fail("the split changed the error");
	if (!str_eq(whole.ps.last_status, split.ps.last_status) ||
	    whole.ps.layers_seen != split.ps.layers_seen ||
	    whole.ps.layers_done != split.ps.layers_done)
		fuzz_fail("the split changed the counters");
	if (whole.calls.size != split.calls.size || (whole.calls.size &&
	    memcmp(whole.calls.ptr, split.calls.ptr, whole.calls.size) != 0))
		fuzz_fail("the split changed the callbacks");
	pull_check_sticky(&whole);
	pull_check_sticky(&split);

	envup_pullstream_dispose(&whole.ps);
	envup_pullstream_dispose(&split.ps);
	envup_buf_dispose(&whole.calls);
	envup_buf_dispose(&split.calls);
	return 0;
}
