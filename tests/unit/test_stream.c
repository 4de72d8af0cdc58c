/*
 * The engine stream parsers (provision/stream.c): the pull progress stream
 * and the multiplexed log demuxer, fed whole, split at every byte, and
 * fed garbage. Recorded streams live in tests/data/stream/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "provision/stream.h"

#define DATA ENVUP_TEST_DATA "/stream/"

/* ---- helpers ------------------------------------------------------------- */

static void load(envup_buf *out, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), DATA "%s", name);
	out->max = 0;
	assert_int_equal(envup_read_file(out, path, 0), 0);
}

typedef struct {
	size_t calls;
	size_t with_id;
	long long bytes_current;   /* sum of "current" values (order-independent check) */
	envup_buf statuses;        /* "status|id\n" for every call */
} pull_seen;

static void pull_cb(const char *status, const char *id, long long current,
	long long total, void *payload)
{
	pull_seen *s = payload;

	s->calls++;
	if (id)
		s->with_id++;
	s->bytes_current += current;
	assert_true(total >= 0 && current >= 0);
	assert_int_equal(envup_buf_printf(&s->statuses, "%s|%s\n", status, id ? id : "-"), 0);
}

typedef struct {
	int rc_feed;           /* first failing feed's return, or 0 */
	int rc_finish;
	char *error;           /* ps.error copy */
	char *last_status;
	size_t seen, done;
	pull_seen cb;
} pull_result;

static void pull_result_dispose(pull_result *r)
{
	free(r->error);
	free(r->last_status);
	envup_buf_dispose(&r->cb.statuses);
	memset(r, 0, sizeof(*r));
}

/* Feed `data` in pieces cut at `cuts` (sorted, ncuts entries), then finish. */
static void pull_run(pull_result *r, const char *data, size_t len, const size_t *cuts, size_t ncuts)
{
	envup_pullstream ps = ENVUP_PULLSTREAM_INIT;
	size_t start = 0, i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		int rc = envup_pullstream_feed(&ps, data + start, end - start, pull_cb, &r->cb);
		start = end;
		if (rc < 0) {
			r->rc_feed = rc;
			break;
		}
	}
	if (!r->rc_feed)
		r->rc_finish = envup_pullstream_finish(&ps, pull_cb, &r->cb);
	r->error = ps.error ? strdup(ps.error) : NULL;
	r->last_status = ps.last_status ? strdup(ps.last_status) : NULL;
	r->seen = ps.layers_seen;
	r->done = ps.layers_done;
	envup_pullstream_dispose(&ps);
}

static void pull_assert_same(const pull_result *a, const pull_result *b)
{
	assert_int_equal(a->rc_feed, b->rc_feed);
	assert_int_equal(a->rc_finish, b->rc_finish);
	if (a->error || b->error) {
		assert_non_null(a->error);
		assert_non_null(b->error);
		assert_string_equal(a->error, b->error);
	}
	if (a->last_status || b->last_status)
		assert_string_equal(a->last_status, b->last_status);
	assert_int_equal(a->seen, b->seen);
	assert_int_equal(a->done, b->done);
	assert_int_equal(a->cb.calls, b->cb.calls);
	assert_int_equal(a->cb.bytes_current, b->cb.bytes_current);
	assert_string_equal(envup_buf_cstr(&a->cb.statuses), envup_buf_cstr(&b->cb.statuses));
}

/* Whole, then cut once at every byte, then byte by byte: same outcome. */
static void pull_split_everywhere(const char *data, size_t len, pull_result *whole)
{
	size_t i, *cuts;
	pull_result r;

	pull_run(whole, data, len, NULL, 0);
	for (i = 0; i <= len; i++) {
		pull_run(&r, data, len, &i, 1);
		pull_assert_same(whole, &r);
		pull_result_dispose(&r);
	}
	cuts = calloc(len + 1, sizeof(size_t));
	assert_non_null(cuts);
	for (i = 0; i < len; i++)
		cuts[i] = i;
	pull_run(&r, data, len, cuts, len);
	pull_assert_same(whole, &r);
	pull_result_dispose(&r);
	free(cuts);
}

/* ---- pull stream ----------------------------------------------------------- */

static void test_stream_pull__recorded_ok_split_everywhere(void **state)
{
	envup_buf data = ENVUP_BUF_INIT;
	pull_result whole;

	load(&data, "pull_redis_ok.jsonl");
	pull_split_everywhere(data.ptr, data.size, &whole);
	assert_int_equal(whole.rc_feed, 0);
	assert_int_equal(whole.rc_finish, 0);
	assert_null(whole.error);
	assert_true(whole.seen > 0);
	assert_int_equal(whole.seen, whole.done);
	assert_non_null(whole.last_status);
	assert_true(strncmp(whole.last_status, "Status: Downloaded newer image", 30) == 0);
	assert_true(whole.cb.calls > whole.seen);
	pull_result_dispose(&whole);
	envup_buf_dispose(&data);
}

static void test_stream_pull__recorded_up_to_date(void **state)
{
	envup_buf data = ENVUP_BUF_INIT;
	pull_result whole;

	load(&data, "pull_redis_uptodate.jsonl");
	pull_split_everywhere(data.ptr, data.size, &whole);
	assert_int_equal(whole.rc_feed, 0);
	assert_int_equal(whole.rc_finish, 0);
	assert_int_equal(whole.seen, 0);
	assert_true(strncmp(whole.last_status, "Status: Image is up to date", 27) == 0);
	pull_result_dispose(&whole);
	envup_buf_dispose(&data);
}

static void test_stream_pull__normal_progress_counts(void **state)
{
	static const char s[] =
		"{\"status\":\"Pulling from library/postgres\",\"id\":\"16-alpine\"}\r\n"
		"{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"a1\"}\r\n"
		"{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"b2\"}\r\n"
		"{\"status\":\"Already exists\",\"progressDetail\":{},\"id\":\"c3\"}\r\n"
		"{\"status\":\"Downloading\",\"progressDetail\":{\"current\":500,\"total\":1000},\"id\":\"a1\"}\r\n"
		"{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"a1\"}\r\n"
		"{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"a1\"}\r\n"   /* repeated: counted once */
		"\r\n"
		"   \n"
		"{\"aux\":{\"ID\":\"sha256:x\"}}\n"
		"{\"status\":\"Digest: sha256:0123\"}\r\n"
		"{\"status\":\"Status: Downloaded newer image for postgres:16-alpine\"}\r\n";
	pull_result r;

	pull_split_everywhere(s, sizeof(s) - 1, &r);
	assert_int_equal(r.rc_feed, 0);
	assert_int_equal(r.rc_finish, 0);
	assert_int_equal(r.seen, 3);
	assert_int_equal(r.done, 2);
	assert_int_equal(r.cb.calls, 9);
	assert_int_equal(r.cb.bytes_current, 500);
	assert_string_equal(r.last_status, "Status: Downloaded newer image for postgres:16-alpine");
	assert_non_null(strstr(envup_buf_cstr(&r.cb.statuses), "Pulling from library/postgres|16-alpine\n"));
	pull_result_dispose(&r);
}

static void test_stream_pull__error_mid_stream(void **state)
{
	envup_buf data = ENVUP_BUF_INIT;
	envup_pullstream ps = ENVUP_PULLSTREAM_INIT;
	pull_result whole;

	load(&data, "pull_error_midstream.jsonl");
	pull_split_everywhere(data.ptr, data.size, &whole);
	assert_int_equal(whole.rc_feed, ENVUP_ERROR);
	assert_string_equal(whole.error, "received unexpected HTTP status: 500 Internal Server Error");
	assert_int_equal(whole.seen, 2);
	assert_int_equal(whole.cb.calls, 4);
	pull_result_dispose(&whole);

	/* the error stays: later feeds and finish fail the same way */
	assert_int_equal(envup_pullstream_feed(&ps, data.ptr, data.size, NULL, NULL), ENVUP_ERROR);
	assert_string_equal(envup_error_last()->message,
		"pull: received unexpected HTTP status: 500 Internal Server Error");
	envup_error_clear();
	assert_int_equal(envup_pullstream_feed(&ps, "{\"status\":\"x\"}\n", 15, NULL, NULL), ENVUP_ERROR);
	assert_string_equal(envup_error_last()->message,
		"pull: received unexpected HTTP status: 500 Internal Server Error");
	assert_int_equal(envup_pullstream_finish(&ps, NULL, NULL), ENVUP_ERROR);
	envup_pullstream_dispose(&ps);
	envup_buf_dispose(&data);
}

static void test_stream_pull__error_forms(void **state)
{
	static const struct { const char *line; const char *msg; } cases[] = {
		{"{\"error\":\"only the old field\"}\n", "only the old field"},
		{"{\"errorDetail\":{\"message\":\"detail wins\"},\"error\":\"old\"}\n", "detail wins"},
		{"{\"errorDetail\":{\"code\":1}}\n", "the engine reported an error without a message"},
		{"{\"errorDetail\":{\"message\":\"\"},\"error\":\"fallback\"}\n", "fallback"},
		{"{\"error\":null}\n", "the engine reported an error without a message"},
	};
	size_t i;

	for (i = 0; i < ENVUP_ARRAY_SIZE(cases); i++) {
		envup_pullstream ps = ENVUP_PULLSTREAM_INIT;
		assert_int_equal(envup_pullstream_feed(&ps, cases[i].line, strlen(cases[i].line),
			NULL, NULL), ENVUP_ERROR);
		assert_string_equal(ps.error, cases[i].msg);
		envup_pullstream_dispose(&ps);
	}
}

static void test_stream_pull__malformed_json(void **state)
{
	static const char *bad[] = {
		"{\"status\":\"ok\"}\r\nnot json at all\r\n",
		"{\"status\":\"ok\"}\n{\"status\":\n",
		"42\n",
		"\"just a string\"\n",
		"[1,2,3]\n",
		"{\"status\":\"a\"}{\"status\":\"b\"}\n",
		"{\"status\":\"a\"} trailing\n",
		"\x01\x02\x03\xff\n",
	};
	size_t i;

	for (i = 0; i < ENVUP_ARRAY_SIZE(bad); i++) {
		pull_result r;
		pull_split_everywhere(bad[i], strlen(bad[i]), &r);
		assert_int_equal(r.rc_feed, ENVUP_ERROR);
		assert_non_null(strstr(r.error, "invalid JSON from the engine"));
		pull_result_dispose(&r);
	}
}

static void test_stream_pull__truncated_last_line(void **state)
{
	static const char cut[] = "{\"status\":\"Pull complete\",\"id\":\"a\"}\r\n{\"status\":\"Downl";
	static const char whole_noeol[] = "{\"status\":\"Pull complete\",\"id\":\"a\"}\r\n{\"status\":\"Status: done\"}";
	pull_result r;

	pull_split_everywhere(cut, sizeof(cut) - 1, &r);
	assert_int_equal(r.rc_feed, 0);
	assert_int_equal(r.rc_finish, ENVUP_ERROR);
	assert_non_null(strstr(r.error, "truncated"));
	assert_int_equal(r.done, 1);
	pull_result_dispose(&r);

	/* a complete object without its newline is fine */
	pull_split_everywhere(whole_noeol, sizeof(whole_noeol) - 1, &r);
	assert_int_equal(r.rc_feed, 0);
	assert_int_equal(r.rc_finish, 0);
	assert_string_equal(r.last_status, "Status: done");
	assert_int_equal(r.cb.calls, 2);
	pull_result_dispose(&r);
}

static void test_stream_pull__long_line_capped(void **state)
{
	envup_pullstream ps = ENVUP_PULLSTREAM_INIT;
	char chunk[4096];
	size_t fed = 0;
	int rc = 0;

	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(envup_pullstream_feed(&ps, "{\"status\":\"", 11, NULL, NULL), 0);
	while (fed < 3 * ENVUP_PULLSTREAM_LINE_MAX && rc == 0) {
		rc = envup_pullstream_feed(&ps, chunk, sizeof(chunk), NULL, NULL);
		fed += sizeof(chunk);
	}
	assert_int_equal(rc, ENVUP_ERROR);
	assert_true(fed <= ENVUP_PULLSTREAM_LINE_MAX + sizeof(chunk));
	assert_non_null(strstr(ps.error, "longer than 1 MiB"));
	assert_true(ps.line.size == 0);
	envup_pullstream_dispose(&ps);

	/* just under the cap is accepted */
	{
		envup_buf big = ENVUP_BUF_INIT;
		envup_pullstream ps2 = ENVUP_PULLSTREAM_INIT;
		size_t pad = ENVUP_PULLSTREAM_LINE_MAX - 64, i;
		assert_int_equal(envup_buf_puts(&big, "{\"status\":\"Downloading\",\"x\":\""), 0);
		for (i = 0; i < pad; i++)
			assert_int_equal(envup_buf_putc(&big, 'y'), 0);
		assert_int_equal(envup_buf_puts(&big, "\"}\n"), 0);
		assert_true(big.size < ENVUP_PULLSTREAM_LINE_MAX);
		assert_int_equal(envup_pullstream_feed(&ps2, big.ptr, big.size, NULL, NULL), 0);
		assert_string_equal(ps2.last_status, "Downloading");
		envup_pullstream_dispose(&ps2);
		envup_buf_dispose(&big);
	}
}

/* What a feed of garbage produced: the callbacks, in order, and the end. */
typedef struct {
	envup_buf calls;     /* "status|id|current|total\n" per callback */
	int rc;              /* <0 when the stream failed (feed or finish) */
	char message[512];   /* the error then */
} garbage_run;

static void garbage_cb(const char *status, const char *id, long long current,
	long long total, void *payload)
{
	garbage_run *g = payload;

	assert_non_null(status);
	assert_true(current >= 0 && total >= 0);
	assert_int_equal(envup_buf_printf(&g->calls, "%s|%s|%lld|%lld\n", status, id ? id : "",
		current, total), 0);
}

/* Feed buf in chunks of the given sizes (cycled; 0 means all at once). */
static void garbage_feed(garbage_run *g, const unsigned char *buf, size_t len,
	const size_t *chunks, size_t nchunks)
{
	envup_pullstream ps = ENVUP_PULLSTREAM_INIT;
	size_t i = 0, k = 0;

	g->rc = 0;
	g->message[0] = '\0';
	while (i < len) {
		size_t n = nchunks ? chunks[k++ % nchunks] : len;
		if (n > len - i)
			n = len - i;
		if ((g->rc = envup_pullstream_feed(&ps, (const char *)buf + i, n, garbage_cb, g)) < 0)
			break;
		i += n;
	}
	if (g->rc == 0)
		g->rc = envup_pullstream_finish(&ps, garbage_cb, g);
	if (g->rc < 0) {
		snprintf(g->message, sizeof(g->message), "%s", envup_error_last()->message);
		/* a broken stream stays broken */
		assert_true(envup_pullstream_feed(&ps, "{\"status\":\"x\"}\n", 15, garbage_cb, g) < 0);
	}
	envup_pullstream_dispose(&ps);
}

/*
 * Random bytes, biased towards JSON: never a crash (the sanitizer builds
 * check that), and the outcome does not depend on how the bytes are cut
 * into chunks: the same callbacks in the same order, and the same error,
 * whether the stream comes in one piece or in random small chunks. A
 * failure is a one-line "pull: ..." message.
 */
static void test_stream_pull__garbage_is_chunk_invariant(void **state)
{
	unsigned char buf[2048];
	unsigned int seed = 12345;
	int round, failed = 0, passed = 0;

	(void)state;
	for (round = 0; round < 300; round++) {
		garbage_run whole = {ENVUP_BUF_INIT, 0, ""}, cut = {ENVUP_BUF_INIT, 0, ""};
		size_t chunks[16], i, len = (size_t)(rand_r(&seed) % sizeof(buf));

		if (round % 3 == 0) {
			/* whole lines the engine writes, one byte changed now and then */
			static const char *const lines[] = {
				"{\"status\":\"Pulling from redis\",\"id\":\"7\"}\r\n",
				"{\"status\":\"Downloading\",\"id\":\"a1\",\"progressDetail\":"
				"{\"current\":5,\"total\":9}}\n",
				"{\"status\":\"Pull complete\",\"id\":\"a1\"}\n", "{}\n", "\n", " \r\n",
				"{\"aux\":{\"Tag\":\"7\"}}\n",
			};
			for (len = 0; len < 1500;) {
				const char *l = lines[(unsigned int)rand_r(&seed) % ENVUP_ARRAY_SIZE(lines)];
				memcpy(buf + len, l, strlen(l));
				len += strlen(l);
			}
			if (rand_r(&seed) % 2)
				buf[(unsigned int)rand_r(&seed) % len] = (unsigned char)rand_r(&seed);
		} else {
			for (i = 0; i < len; i++) {
				unsigned int r = (unsigned int)rand_r(&seed);
				buf[i] = r % 4 == 0 ? (unsigned char)"{}\":,\n\r[]0a"[r % 12] : (unsigned char)r;
			}
		}
		for (i = 0; i < ENVUP_ARRAY_SIZE(chunks); i++)
			chunks[i] = 1 + (size_t)(rand_r(&seed) % 64);
		garbage_feed(&whole, buf, len, NULL, 0);
		garbage_feed(&cut, buf, len, chunks, ENVUP_ARRAY_SIZE(chunks));
		if ((whole.rc < 0) != (cut.rc < 0) || strcmp(whole.message, cut.message) != 0 ||
		    strcmp(envup_buf_cstr(&whole.calls), envup_buf_cstr(&cut.calls)) != 0)
			fail_msg("round %d: in one piece: rc %d '%s', %zu bytes of callbacks; in chunks: "
				"rc %d '%s', %zu bytes", round, whole.rc, whole.message, whole.calls.size,
				cut.rc, cut.message, cut.calls.size);
		if (whole.rc < 0) {
			failed++;
			assert_int_equal(strncmp(whole.message, "pull: ", 6), 0);
			assert_null(strchr(whole.message, '\n'));
		} else {
			passed++;
		}
		envup_buf_dispose(&whole.calls);
		envup_buf_dispose(&cut.calls);
	}
	/* both outcomes were exercised */
	assert_true(failed > 0);
	assert_true(passed > 0);
}

/* ---- demux ------------------------------------------------------------------ */

typedef struct {
	envup_buf out, err;
	size_t calls;
	int stop_after;        /* return 1 after this many calls (0 = never) */
} demux_seen;

static int demux_cb(int stream, const char *data, size_t len, void *payload)
{
	demux_seen *s = payload;

	s->calls++;
	assert_true(len > 0);
	assert_true(stream == ENVUP_STREAM_STDOUT || stream == ENVUP_STREAM_STDERR);
	assert_int_equal(envup_buf_put(stream == ENVUP_STREAM_STDOUT ? &s->out : &s->err, data, len), 0);
	if (s->stop_after && s->calls >= (size_t)s->stop_after)
		return 1;
	return 0;
}

static void frame(envup_buf *b, int type, const char *payload, size_t len)
{
	unsigned char h[8] = {(unsigned char)type, 0, 0, 0,
		(unsigned char)(len >> 24), (unsigned char)(len >> 16),
		(unsigned char)(len >> 8), (unsigned char)len};
	assert_int_equal(envup_buf_put(b, h, 8), 0);
	assert_int_equal(envup_buf_put(b, payload, len), 0);
}

typedef struct {
	int rc_feed, rc_finish;
	char *out, *err;
	char message[1024];
} demux_result;

static void demux_run(demux_result *r, const char *data, size_t len, const size_t *cuts, size_t ncuts)
{
	envup_demux d = ENVUP_DEMUX_INIT;
	demux_seen s;
	size_t start = 0, i;

	memset(r, 0, sizeof(*r));
	memset(&s, 0, sizeof(s));
	envup_error_clear();
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		int rc = envup_demux_feed(&d, data + start, end - start, demux_cb, &s);
		start = end;
		if (rc != 0) {
			r->rc_feed = rc;
			break;
		}
	}
	if (!r->rc_feed)
		r->rc_finish = envup_demux_finish(&d);
	snprintf(r->message, sizeof(r->message), "%s", envup_error_last()->message);
	r->out = strdup(envup_buf_cstr(&s.out));
	r->err = strdup(envup_buf_cstr(&s.err));
	envup_buf_dispose(&s.out);
	envup_buf_dispose(&s.err);
}

static void demux_result_dispose(demux_result *r)
{
	free(r->out);
	free(r->err);
}

static void demux_split_everywhere(const char *data, size_t len, demux_result *whole)
{
	size_t i, *cuts;
	demux_result r;

	demux_run(whole, data, len, NULL, 0);
	for (i = 0; i <= len; i++) {
		demux_run(&r, data, len, &i, 1);
		assert_int_equal(r.rc_feed, whole->rc_feed);
		assert_int_equal(r.rc_finish, whole->rc_finish);
		assert_string_equal(r.out, whole->out);
		assert_string_equal(r.err, whole->err);
		assert_string_equal(r.message, whole->message);
		demux_result_dispose(&r);
	}
	cuts = calloc(len + 1, sizeof(size_t));
	assert_non_null(cuts);
	for (i = 0; i < len; i++)
		cuts[i] = i;
	demux_run(&r, data, len, cuts, len);
	assert_int_equal(r.rc_feed, whole->rc_feed);
	assert_string_equal(r.out, whole->out);
	assert_string_equal(r.err, whole->err);
	demux_result_dispose(&r);
	free(cuts);
}

static void test_stream_demux__frames_split_everywhere(void **state)
{
	envup_buf b = ENVUP_BUF_INIT;
	char big[1000];
	demux_result r;
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	frame(&b, 1, "hello ", 6);
	frame(&b, 2, "oops\n", 5);
	frame(&b, 1, "", 0);                 /* empty frames are legal */
	frame(&b, 0, "stdin-as-stdout\n", 16);
	frame(&b, 1, big, sizeof(big));
	frame(&b, 2, "done\n", 5);
	demux_split_everywhere(b.ptr, b.size, &r);
	assert_int_equal(r.rc_feed, 0);
	assert_int_equal(r.rc_finish, 0);
	assert_int_equal(strlen(r.out), 6 + 16 + sizeof(big));
	assert_true(strncmp(r.out, "hello stdin-as-stdout\nabcdef", 28) == 0);
	assert_string_equal(r.err, "oops\ndone\n");
	demux_result_dispose(&r);
	envup_buf_dispose(&b);
}

static void test_stream_demux__many_frames_one_chunk(void **state)
{
	envup_buf b = ENVUP_BUF_INIT, want = ENVUP_BUF_INIT;
	demux_result r;
	int i;

	for (i = 0; i < 500; i++) {
		char line[32];
		int n = snprintf(line, sizeof(line), "line %d\n", i);
		frame(&b, 1, line, (size_t)n);
		assert_int_equal(envup_buf_put(&want, line, (size_t)n), 0);
	}
	demux_run(&r, b.ptr, b.size, NULL, 0);
	assert_int_equal(r.rc_feed, 0);
	assert_int_equal(r.rc_finish, 0);
	assert_string_equal(r.out, want.ptr);
	demux_result_dispose(&r);
	envup_buf_dispose(&b);
	envup_buf_dispose(&want);
}

static void test_stream_demux__recorded_logs(void **state)
{
	envup_buf data = ENVUP_BUF_INIT;
	demux_result r;

	load(&data, "logs_redis.bin");
	demux_split_everywhere(data.ptr, data.size, &r);
	assert_int_equal(r.rc_feed, 0);
	assert_int_equal(r.rc_finish, 0);
	assert_non_null(strstr(r.out, "Ready to accept connections"));
	demux_result_dispose(&r);
	envup_buf_dispose(&data);
}

static void test_stream_demux__systemerr(void **state)
{
	envup_buf b = ENVUP_BUF_INIT;
	demux_result r;

	frame(&b, 1, "before\n", 7);
	frame(&b, 3, "error from daemon in stream: log file is gone", 45);
	frame(&b, 1, "after\n", 6);
	demux_split_everywhere(b.ptr, b.size, &r);
	assert_int_equal(r.rc_feed, ENVUP_ERROR);
	assert_string_equal(r.out, "before\n");
	assert_string_equal(r.message,
		"the Docker engine reported an error in the log stream: "
		"error from daemon in stream: log file is gone");
	demux_result_dispose(&r);

	/* the stream ends in the middle of the daemon's message: still reported */
	envup_buf_clear(&b);
	frame(&b, 3, "cut short", 9);
	demux_run(&r, b.ptr, b.size - 3, NULL, 0);
	assert_int_equal(r.rc_finish, ENVUP_ERROR);
	assert_non_null(strstr(r.message, "cut s"));
	demux_result_dispose(&r);

	/* empty message */
	envup_buf_clear(&b);
	frame(&b, 3, "", 0);
	demux_run(&r, b.ptr, b.size, NULL, 0);
	assert_int_equal(r.rc_feed, ENVUP_ERROR);
	assert_non_null(strstr(r.message, "(no message)"));
	demux_result_dispose(&r);
	envup_buf_dispose(&b);
}

static void test_stream_demux__unknown_type(void **state)
{
	envup_buf b = ENVUP_BUF_INIT;
	demux_result r;
	envup_demux d = ENVUP_DEMUX_INIT;

	frame(&b, 1, "ok\n", 3);
	frame(&b, 7, "what", 4);
	demux_split_everywhere(b.ptr, b.size, &r);
	assert_int_equal(r.rc_feed, ENVUP_ERROR);
	assert_string_equal(r.out, "ok\n");
	assert_non_null(strstr(r.message, "unknown stream type 7"));
	demux_result_dispose(&r);

	/* raw (Tty) text is not a multiplexed stream */
	demux_run(&r, "Ready to accept connections\n", 28, NULL, 0);
	assert_int_equal(r.rc_feed, ENVUP_ERROR);
	demux_result_dispose(&r);

	/* padding bytes must be zero; the error sticks */
	assert_int_equal(envup_demux_feed(&d, "\x01\x00\x05\x00\x00\x00\x00\x01x", 9, NULL, NULL), ENVUP_ERROR);
	assert_non_null(strstr(envup_error_last()->message, "invalid frame header"));
	assert_int_equal(envup_demux_feed(&d, "more", 4, NULL, NULL), ENVUP_ERROR);
	assert_int_equal(envup_demux_finish(&d), ENVUP_ERROR);
	envup_buf_dispose(&b);
}

static void test_stream_demux__truncated(void **state)
{
	envup_buf b = ENVUP_BUF_INIT;
	demux_result r;
	size_t i;

	frame(&b, 1, "complete\n", 9);
	frame(&b, 2, "partial frame", 13);
	for (i = 1; i < 8 + 13; i++) {
		demux_run(&r, b.ptr, b.size - i, NULL, 0);
		assert_int_equal(r.rc_feed, 0);
		assert_int_equal(r.rc_finish, ENVUP_ERROR);
		if (i > 13)
			assert_non_null(strstr(r.message, "inside a frame header"));
		else
			assert_non_null(strstr(r.message, "inside a frame ("));
		demux_result_dispose(&r);
	}
	demux_run(&r, b.ptr, 17, NULL, 0);      /* exactly after the first frame */
	assert_int_equal(r.rc_finish, 0);
	assert_string_equal(r.out, "complete\n");
	demux_result_dispose(&r);
	envup_buf_dispose(&b);
}

static void test_stream_demux__callback_stops(void **state)
{
	envup_buf b = ENVUP_BUF_INIT;
	envup_demux d = ENVUP_DEMUX_INIT;
	demux_seen s;

	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	frame(&b, 1, "one\n", 4);
	frame(&b, 1, "two\n", 4);
	frame(&b, 1, "three\n", 6);
	assert_int_equal(envup_demux_feed(&d, b.ptr, b.size, demux_cb, &s), 1);
	assert_string_equal(envup_buf_cstr(&s.out), "one\ntwo\n");
	envup_buf_dispose(&s.out);
	envup_buf_dispose(&s.err);
	envup_buf_dispose(&b);
}

/* Feed buf to a demuxer in chunks (cycled; none: all at once); the
 * outcome: <0 feed error, else finish's result. */
static int demux_garbage_run(demux_seen *s, const unsigned char *buf, size_t len,
	const size_t *chunks, size_t nchunks)
{
	envup_demux d = ENVUP_DEMUX_INIT;
	size_t i = 0, k = 0;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	while (i < len) {
		size_t n = nchunks ? chunks[k++ % nchunks] : len;
		if (n > len - i)
			n = len - i;
		if ((rc = envup_demux_feed(&d, (const char *)buf + i, n, demux_cb, s)) != 0)
			break;
		i += n;
	}
	if (rc == 0)
		rc = envup_demux_finish(&d);
	return rc;
}

/*
 * Random frames (mostly small headers, so frames complete): never a crash,
 * and what comes out on stdout and stderr, and whether the stream is
 * broken, does not depend on how it was cut into chunks.
 */
static void test_stream_demux__garbage_is_chunk_invariant(void **state)
{
	unsigned char buf[4096];
	unsigned int seed = 777;
	int round, broken = 0, whole_ok = 0;

	(void)state;
	for (round = 0; round < 300; round++) {
		demux_seen a, b;
		size_t chunks[16], i, len = (size_t)(rand_r(&seed) % sizeof(buf));
		int ra, rb;

		if (round % 2 == 0) {
			/* well-formed frames (stdout, stderr, the odd stdin), then
			 * now and then one byte changed or the end cut off */
			for (len = 0; len + 8 + 64 < sizeof(buf) && rand_r(&seed) % 40;) {
				size_t n = (size_t)(rand_r(&seed) % 64);
				buf[len] = (unsigned char)(rand_r(&seed) % 5 ? 1 + rand_r(&seed) % 2 : 0);
				buf[len + 1] = buf[len + 2] = buf[len + 3] = buf[len + 4] = buf[len + 5] = 0;
				buf[len + 6] = (unsigned char)(n >> 8);
				buf[len + 7] = (unsigned char)n;
				for (i = 0; i < n; i++)
					buf[len + 8 + i] = (unsigned char)rand_r(&seed);
				len += 8 + n;
			}
			if (len && rand_r(&seed) % 3 == 0)
				buf[(unsigned int)rand_r(&seed) % len] = (unsigned char)rand_r(&seed);
			if (len && rand_r(&seed) % 3 == 0)
				len -= (unsigned int)rand_r(&seed) % len;
		} else {
			for (i = 0; i < len; i++) {
				unsigned int r = (unsigned int)rand_r(&seed);
				buf[i] = (r % 3 == 0) ? (unsigned char)(r % 4) : (r % 3 == 1) ? 0 : (unsigned char)r;
			}
		}
		for (i = 0; i < ENVUP_ARRAY_SIZE(chunks); i++)
			chunks[i] = 1 + (size_t)(rand_r(&seed) % 100);
		ra = demux_garbage_run(&a, buf, len, NULL, 0);
		rb = demux_garbage_run(&b, buf, len, chunks, ENVUP_ARRAY_SIZE(chunks));
		if ((ra < 0) != (rb < 0) || a.out.size != b.out.size || a.err.size != b.err.size ||
		    (a.out.size && memcmp(a.out.ptr, b.out.ptr, a.out.size) != 0) ||
		    (a.err.size && memcmp(a.err.ptr, b.err.ptr, a.err.size) != 0))
			fail_msg("round %d: in one piece rc %d, %zu+%zu bytes; in chunks rc %d, %zu+%zu",
				round, ra, a.out.size, a.err.size, rb, b.out.size, b.err.size);
		/* never more payload than input */
		assert_true(a.out.size + a.err.size <= len);
		if (ra < 0)
			broken++;
		else
			whole_ok++;
		envup_buf_dispose(&a.out);
		envup_buf_dispose(&a.err);
		envup_buf_dispose(&b.out);
		envup_buf_dispose(&b.err);
	}
	assert_true(broken > 0);
	assert_true(whole_ok > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_pull__recorded_ok_split_everywhere),
		cmocka_unit_test(test_stream_pull__recorded_up_to_date),
		cmocka_unit_test(test_stream_pull__normal_progress_counts),
		cmocka_unit_test(test_stream_pull__error_mid_stream),
		cmocka_unit_test(test_stream_pull__error_forms),
		cmocka_unit_test(test_stream_pull__malformed_json),
		cmocka_unit_test(test_stream_pull__truncated_last_line),
		cmocka_unit_test(test_stream_pull__long_line_capped),
		cmocka_unit_test(test_stream_pull__garbage_is_chunk_invariant),
		cmocka_unit_test(test_stream_demux__frames_split_everywhere),
		cmocka_unit_test(test_stream_demux__many_frames_one_chunk),
		cmocka_unit_test(test_stream_demux__recorded_logs),
		cmocka_unit_test(test_stream_demux__systemerr),
		cmocka_unit_test(test_stream_demux__unknown_type),
		cmocka_unit_test(test_stream_demux__truncated),
		cmocka_unit_test(test_stream_demux__callback_stops),
		cmocka_unit_test(test_stream_demux__garbage_is_chunk_invariant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
