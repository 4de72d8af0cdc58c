/*
 * The multiplexed log demuxer (provision/stream.c) on arbitrary bytes,
 * fed twice: whole, and in chunks whose sizes the fuzzer chooses (the
 * first four bytes seed a xorshift generator; chunks are 0 to 64 bytes,
 * empty feeds included), each run followed by envup_demux_finish().
 *
 * Checks: both runs deliver the same bytes on the same streams, switching
 * streams at the same offsets, and end
 * with the same result and message (chunk boundaries must not matter);
 * the callback never sees an empty or out-of-range piece or a stream
 * other than stdout/stderr; no more payload comes out than went in; a bad
 * frame header keeps failing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "provision/stream.h"

typedef struct {
	envup_buf out[3];  /* bytes per stream (index 1 stdout, 2 stderr) */
	envup_buf runs;    /* "STREAM@OFFSET " each time the stream changes */
	size_t total;      /* bytes delivered so far */
	int last;          /* stream of the last callback */
	const char *lo, *hi; /* the input: every piece must lie inside it */
	int rc;            /* first failing feed, else finish */
	char message[1024];
	envup_demux d;
} demux_run;

static void fuzz_fail(const char *what)
{
	fprintf(stderr, "demux: %s\n", what);
	abort();
}

static int demux_cb(int stream, const char *data, size_t len, void *payload)
{
	demux_run *r = payload;

	if (stream != ENVUP_STREAM_STDOUT && stream != ENVUP_STREAM_STDERR)
		fuzz_fail("a callback for a stream other than stdout or stderr");
	if (len == 0 || data < r->lo || data + len > r->hi)
		fuzz_fail("a piece that is empty or outside the input");
	if (envup_buf_put(&r->out[stream], data, len) < 0)
		abort();
	if (stream != r->last && envup_buf_printf(&r->runs, "%d@%zu ", stream, r->total) < 0)
		abort();
	r->last = stream;
	r->total += len;
	return 0;
}

static void demux_done(demux_run *r, int rc)
{
	r->rc = rc;
	snprintf(r->message, sizeof(r->message), "%s", rc ? envup_error_last()->message : "");
}

/* Feed [lo, hi) in chunks; seed 0 means all at once. */
static void demux_run_feed(demux_run *r, const char *lo, const char *hi, uint32_t seed)
{
	const char *p = lo;
	uint32_t x = seed;
	int rc;

	memset(r, 0, sizeof(*r));
	r->d = (envup_demux)ENVUP_DEMUX_INIT;
	r->lo = lo;
	r->hi = hi;
	while (p < hi) {
		size_t n = (size_t)(hi - p);
		if (seed) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			if (n > x % 65)
				n = x % 65;
		}
		if ((rc = envup_demux_feed(&r->d, p, n, demux_cb, r)) != 0) {
			if (rc > 0)
				fuzz_fail("feed returned a positive code");
			demux_done(r, rc);
			return;
		}
		p += n;
	}
	demux_done(r, envup_demux_finish(&r->d));
}

static int buf_eq(const envup_buf *a, const envup_buf *b)
{
	return a->size == b->size && (a->size == 0 || memcmp(a->ptr, b->ptr, a->size) == 0);
}

static void demux_run_dispose(demux_run *r)
{
	size_t i;

	for (i = 0; i < 3; i++)
		envup_buf_dispose(&r->out[i]);
	envup_buf_dispose(&r->runs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	demux_run whole, chunked;
	const char *lo, *hi;
	uint32_t seed;

	if (size < 4)
		return 0;
	seed = ((uint32_t)data[0] << 24) | ((uint32_t)data[1] << 16) |
		((uint32_t)data[2] << 8) | data[3];
	seed |= 1; /* never 0: that means "whole" */
	lo = (const char *)data + 4;
	hi = (const char *)data + size;

	demux_run_feed(&whole, lo, hi, 0);
	demux_run_feed(&chunked, lo, hi, seed);

	if (whole.rc != chunked.rc || strcmp(whole.message, chunked.message) != 0) {
		fprintf(stderr, "whole: %d %s\nchunked: %d %s\n", whole.rc, whole.message,
			chunked.rc, chunked.message);
		fuzz_fail("the chunks changed the result");
	}
	if (!buf_eq(&whole.out[1], &chunked.out[1]) || !buf_eq(&whole.out[2], &chunked.out[2]) ||
	    !buf_eq(&whole.runs, &chunked.runs))
		fuzz_fail("the chunks changed the output");
	if (whole.out[1].size + whole.out[2].size > (size_t)(hi - lo))
		fuzz_fail("more payload than input");
	if (whole.out[0].size || chunked.out[0].size)
		fuzz_fail("output on stream 0");

	/* a bad header stays in place: feeding more fails the same way */
	if (whole.rc < 0 && whole.d.hdr_have == sizeof(whole.d.hdr)) {
		static const char more[8] = {1, 0, 0, 0, 0, 0, 0, 0};
		if (envup_demux_feed(&whole.d, more, sizeof(more), NULL, NULL) == 0)
			fuzz_fail("a bad header was forgotten");
	}

	demux_run_dispose(&whole);
	demux_run_dispose(&chunked);
	return 0;
}
