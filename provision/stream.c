/*
 * The engine's two stream formats, parsed incrementally: the pull progress
 * stream (JSON lines) and the multiplexed log stream (8-byte frame
 * headers). Neither trusts its input: every length is checked, every
 * line is capped, and a broken stream is an error that stays an error.
 */
#include <string.h>
#include <cjson/cJSON.h>
#include "provision/stream.h"

/* ---- pull progress ------------------------------------------------------ */

static bool pull_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static int pull_fail(envup_pullstream *ps, const char *message)
{
	if (!ps->error && (ps->error = envup__strdup(message)) == NULL)
		return ENVUP_ERROR;
	return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "pull: %s", ps->error);
}

static bool pull_is_layer_status(const char *status)
{
	/* "Pulling from library/redis" carries the tag as id; "Digest:" and
	 * "Status:" lines carry none. Everything else is about one layer. */
	return strncmp(status, "Pulling from", 12) != 0 &&
		strncmp(status, "Digest:", 7) != 0 && strncmp(status, "Status:", 7) != 0;
}

static long long pull_number(const cJSON *obj, const char *name)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > 9.0e18)
		return 0;
	return (long long)n->valuedouble;
}

/* One complete line (without its '\n'). `at_end`: the stream ended here. */
static int pull_line(envup_pullstream *ps, const char *s, size_t n, bool at_end,
	envup_pull_status_cb cb, void *payload)
{
	cJSON *obj = NULL;
	const cJSON *err, *detail, *status, *id, *progress;
	const char *end = NULL;
	unsigned long oom = envup__oom_count();
	int error = ENVUP_ERROR;

	while (n > 0 && pull_is_space(s[n - 1]))
		n--;
	while (n > 0 && pull_is_space(*s)) {
		s++;
		n--;
	}
	if (n == 0)
		return 0;
	obj = cJSON_ParseWithLengthOpts(s, n, &end, false);
	/* cJSON says NULL for bad input and for out of memory alike; the
	 * latter is not the stream's fault and must not stick in ps->error */
	if (!obj && envup__oom_count() != oom)
		return envup_error_set_oom();
	if (obj && end) {
		while (end < s + n && pull_is_space(*end))
			end++;
	}
	if (!cJSON_IsObject(obj) || !end || end != s + n) {
		error = pull_fail(ps, at_end ?
			"the progress stream from the engine ended in the middle of a line (truncated)" :
			"invalid JSON from the engine for the pull progress");
		goto done;
	}

	err = cJSON_GetObjectItemCaseSensitive(obj, "error");
	detail = cJSON_GetObjectItemCaseSensitive(obj, "errorDetail");
	if (err || detail) {
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(detail, "message");
		const char *text = cJSON_IsString(msg) && msg->valuestring[0] ? msg->valuestring :
			cJSON_IsString(err) && err->valuestring[0] ? err->valuestring :
			"the engine reported an error without a message";
		error = pull_fail(ps, text);
		goto done;
	}

	status = cJSON_GetObjectItemCaseSensitive(obj, "status");
	id = cJSON_GetObjectItemCaseSensitive(obj, "id");
	progress = cJSON_GetObjectItemCaseSensitive(obj, "progressDetail");
	if (cJSON_IsString(status)) {
		const char *idv = cJSON_IsString(id) && id->valuestring[0] ? id->valuestring : NULL;
		char *copy;

		if ((copy = envup__strdup(status->valuestring)) == NULL)
			goto done;
		envup__free(ps->last_status);
		ps->last_status = copy;
		if (idv && pull_is_layer_status(status->valuestring)) {
			if (!envup_strlist_contains(&ps->ids, idv)) {
				if (envup_strlist_push(&ps->ids, idv) < 0)
					goto done;
				ps->layers_seen++;
			}
			if ((strcmp(status->valuestring, "Pull complete") == 0 ||
			     strcmp(status->valuestring, "Already exists") == 0) &&
			    !envup_strlist_contains(&ps->done_ids, idv)) {
				if (envup_strlist_push(&ps->done_ids, idv) < 0)
					goto done;
				ps->layers_done++;
			}
		}
		if (cb)
			cb(status->valuestring, idv, pull_number(progress, "current"),
				pull_number(progress, "total"), payload);
	}
	/* objects with only "aux" or "progress" carry nothing we need */
	error = 0;
done:
	cJSON_Delete(obj);
	return error;
}

int envup_pullstream_feed(envup_pullstream *ps, const char *data, size_t len,
	envup_pull_status_cb cb, void *payload)
{
	int error = 0;

	if (ps->error)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "pull: %s", ps->error);
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;

		if (ps->line.size + n > ENVUP_PULLSTREAM_LINE_MAX) {
			envup_buf_clear(&ps->line);
			return pull_fail(ps, "a progress line from the engine is longer than 1 MiB");
		}
		if (nl && ps->line.size == 0) {
			/* common case: a whole line inside this chunk, no copy */
			error = pull_line(ps, data, n, false, cb, payload);
		} else {
			if (envup_buf_put(&ps->line, data, n) < 0)
				return ENVUP_ERROR;
			if (nl) {
				error = pull_line(ps, ps->line.ptr, ps->line.size, false, cb, payload);
				envup_buf_clear(&ps->line);
			}
		}
		if (error < 0 || !nl)
			break;
		data = nl + 1;
		len -= n + 1;
	}
	return error;
}

int envup_pullstream_finish(envup_pullstream *ps, envup_pull_status_cb cb, void *payload)
{
	int error;

	if (ps->error)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "pull: %s", ps->error);
	if (ps->line.size == 0)
		return 0;
	error = pull_line(ps, ps->line.ptr, ps->line.size, true, cb, payload);
	envup_buf_clear(&ps->line);
	return error;
}

void envup_pullstream_dispose(envup_pullstream *ps)
{
	if (!ps)
		return;
	envup_buf_dispose(&ps->line);
	envup__free(ps->error);
	envup__free(ps->last_status);
	envup_strlist_dispose(&ps->ids);
	envup_strlist_dispose(&ps->done_ids);
	ps->error = ps->last_status = NULL;
	ps->layers_seen = ps->layers_done = 0;
}

/* ---- multiplexed logs --------------------------------------------------- */

static int demux_syserr(const envup_demux *d)
{
	if (d->syserr_len == 0)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
			"the Docker engine reported an error in the log stream: (no message)");
	return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
		"the Docker engine reported an error in the log stream: %.*s",
		(int)d->syserr_len, d->syserr);
}

/* Header complete: check it and enter the frame. */
static int demux_header(envup_demux *d)
{
	const unsigned char *h = d->hdr;
	unsigned int type = h[0];

	if (type > ENVUP_STREAM_SYSTEMERR)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
			"log stream: unknown stream type %u (not a multiplexed stream?)", type);
	if (h[1] || h[2] || h[3])
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
			"log stream: invalid frame header (not a multiplexed stream?)");
	d->stream = type == ENVUP_STREAM_STDIN ? ENVUP_STREAM_STDOUT : (int)type;
	d->remaining = ((size_t)h[4] << 24) | ((size_t)h[5] << 16) | ((size_t)h[6] << 8) | h[7];
	d->hdr_have = 0;
	d->syserr_len = 0;
	if (d->stream == ENVUP_STREAM_SYSTEMERR && d->remaining == 0)
		return demux_syserr(d);
	return 0;
}

int envup_demux_feed(envup_demux *d, const char *data, size_t len,
	envup_demux_cb cb, void *payload)
{
	while (len > 0 || (d->remaining == 0 && d->hdr_have == sizeof(d->hdr))) {
		size_t take;
		int rc = 0;

		if (d->remaining == 0) {
			take = sizeof(d->hdr) - d->hdr_have;
			if (take > len)
				take = len;
			memcpy(d->hdr + d->hdr_have, data, take);
			d->hdr_have += take;
			data += take;
			len -= take;
			if (d->hdr_have < sizeof(d->hdr))
				break;
			/* a bad header stays in place: every later call fails the same way */
			if ((rc = demux_header(d)) < 0)
				return rc;
			continue;
		}
		take = d->remaining < len ? d->remaining : len;
		if (d->stream == ENVUP_STREAM_SYSTEMERR) {
			size_t room = sizeof(d->syserr) - d->syserr_len;
			size_t n = take < room ? take : room;
			memcpy(d->syserr + d->syserr_len, data, n);
			d->syserr_len += n;
		} else if (cb) {
			rc = cb(d->stream, data, take, payload);
		}
		d->remaining -= take;
		data += take;
		len -= take;
		if (d->stream == ENVUP_STREAM_SYSTEMERR && d->remaining == 0)
			return demux_syserr(d);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int envup_demux_finish(const envup_demux *d)
{
	if (d->remaining > 0 && d->stream == ENVUP_STREAM_SYSTEMERR)
		return demux_syserr(d);
	if (d->hdr_have == sizeof(d->hdr))
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
			"log stream: invalid frame header (not a multiplexed stream?)");
	if (d->hdr_have > 0)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
			"the log stream from the engine ended inside a frame header (truncated)");
	if (d->remaining > 0)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
			"the log stream from the engine ended inside a frame (%zu bytes missing)",
			d->remaining);
	return 0;
}
