/*
 * Parsers for the engine's streams, separate from the transport so they can
 * be unit-tested and fuzzed:
 *  - the pull progress stream: one JSON object per line; an object with
 *    "error"/"errorDetail" is a failure even though the HTTP status was 200;
 *  - the multiplexed log stream (Tty=false): 8-byte headers
 *    [stream, 0, 0, 0, size32be] followed by `size` bytes.
 * Both accept input split at any byte.
 */
#ifndef ENVUP_PROVISION_STREAM_H
#define ENVUP_PROVISION_STREAM_H

#include "util/util.h"

/* ---- pull progress ------------------------------------------------------ */

typedef struct {
	envup_buf line;      /* partial line carried between feeds (capped at 1 MiB) */
	char *error;         /* first in-stream error message, or NULL */
	char *last_status;   /* last "status" seen (e.g. "Status: Downloaded newer image...") */
	size_t layers_seen;  /* distinct layer ids */
	size_t layers_done;  /* "Pull complete" / "Already exists" */
	envup_strlist ids;   /* layer ids seen */
	envup_strlist done_ids; /* layer ids counted in layers_done (each once) */
} envup_pullstream;

#define ENVUP_PULLSTREAM_INIT {ENVUP_BUF_INIT, NULL, NULL, 0, 0, ENVUP_STRLIST_INIT, ENVUP_STRLIST_INIT}
#define ENVUP_PULLSTREAM_LINE_MAX ((size_t)1024 * 1024)

/**
 * Called for each complete status object: `status` e.g. "Downloading",
 * `id` the layer (may be NULL), current/total bytes (0 when absent).
 */
typedef void (*envup_pull_status_cb)(const char *status, const char *id,
	long long current, long long total, void *payload);

/**
 * Feed bytes. Returns ENVUP_ERROR with the error set ("pull: MESSAGE") as
 * soon as an error object arrives; ENVUP_ERROR for a line that is not JSON.
 */
int envup_pullstream_feed(envup_pullstream *ps, const char *data, size_t len,
	envup_pull_status_cb cb, void *payload);

/** End of stream: a trailing partial line is parsed; truncation is an error. */
int envup_pullstream_finish(envup_pullstream *ps, envup_pull_status_cb cb, void *payload);

void envup_pullstream_dispose(envup_pullstream *ps);

/* ---- multiplexed logs --------------------------------------------------- */

enum { ENVUP_STREAM_STDIN = 0, ENVUP_STREAM_STDOUT = 1, ENVUP_STREAM_STDERR = 2,
	ENVUP_STREAM_SYSTEMERR = 3 };

typedef struct {
	unsigned char hdr[8];
	size_t hdr_have;
	size_t remaining;  /* payload bytes left in the current frame */
	int stream;
	char syserr[256];  /* start of a type 3 (daemon error) frame's message */
	size_t syserr_len;
} envup_demux;

#define ENVUP_DEMUX_INIT {{0}, 0, 0, 0, {0}, 0}

/** Payload bytes of one frame (possibly split across calls). */
typedef int (*envup_demux_cb)(int stream, const char *data, size_t len, void *payload);

/**
 * Feed bytes. A stream type 3 frame is an error carrying the daemon's
 * message; an unknown stream type is a protocol error. Stream 0 (stdin)
 * is reported as stdout. A non-zero return from `cb` stops the feed and
 * is returned as is (so 1 can mean "stop", < 0 an error).
 */
int envup_demux_feed(envup_demux *d, const char *data, size_t len,
	envup_demux_cb cb, void *payload);

/** End of stream: ending inside a header or frame is an error. */
int envup_demux_finish(const envup_demux *d);

#endif
