/*
 * Databases per test for a redis service: numbers nobody else holds.
 *
 * Which numbers are held is kept on the host, in the state directory
 * (NAME.SERVICE.redis, 0600, under flock): a test's FLUSHALL, which would
 * wipe any bookkeeping kept in Redis itself, cannot make two tests share
 * a number. The file names the environment's instance; a new `up` of the
 * same name starts with none held. Number 0 and every number an export
 * names (REDIS_TEST_URL=.../1) belong to the suite and are never handed
 * out. A number is flushed when handed out and when given back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include "provision/redisdb.h"
#include "provision/state.h"

#define REDIS_TIMEOUT_MS 5000
#define REDIS_MAX_DATABASES 4096

/* ---- the server --------------------------------------------------------- */

static int redis_fail(const redisContext *c, const redisReply *r, const char *service, const char *step)
{
	const char *why = r && r->type == REDIS_REPLY_ERROR ? r->str : c && c->errstr[0] ? c->errstr : "no answer";
	return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_REDIS, "%s: %s: %s", service, step, why);
}

static int redis_open(redisContext **out, const envup_redis_where *w)
{
	struct timeval tv = {REDIS_TIMEOUT_MS / 1000, 0};
	redisContext *c = redisConnectWithTimeout(w->host, w->port, tv);
	redisReply *r = NULL;
	int error = 0;

	*out = NULL;
	if (!c)
		return envup_error_set_oom();
	if (c->err) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_REDIS, "%s: cannot connect to %s:%d: %s",
			w->service, w->host, w->port, c->errstr);
		goto done;
	}
	redisSetTimeout(c, tv);
	if (w->password) {
		r = redisCommand(c, "AUTH %s", w->password);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			error = redis_fail(c, r, w->service, "AUTH");
			goto done;
		}
	}
	*out = c;
	c = NULL;
done:
	if (r)
		freeReplyObject(r);
	if (c)
		redisFree(c);
	return error;
}

/* SELECT n, FLUSHDB (n < 0: FLUSHALL), in one round trip. */
static int redis_flush(redisContext *c, const envup_redis_where *w, int n)
{
	redisReply *r = NULL;
	int error = 0, k, replies = n < 0 ? 1 : 2;

	if (n < 0) {
		redisAppendCommand(c, "FLUSHALL");
	} else {
		redisAppendCommand(c, "SELECT %d", n);
		redisAppendCommand(c, "FLUSHDB");
	}
	for (k = 0; k < replies; k++) {
		if (redisGetReply(c, (void **)&r) != REDIS_OK || !r || r->type == REDIS_REPLY_ERROR) {
			if (error == 0)
				error = redis_fail(c, r, w->service, n < 0 ? "FLUSHALL" : "FLUSHDB");
			if (!r)
				break;
		}
		freeReplyObject(r);
		r = NULL;
	}
	return error;
}

/* How many databases the server has (CONFIG GET databases; 16 when
 * CONFIG is renamed away, as the default). */
static int redis_databases(redisContext *c)
{
	redisReply *r = redisCommand(c, "CONFIG GET databases");
	int n = 16;

	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING)
		envup_parse_int(&n, r->element[1]->str, 1, REDIS_MAX_DATABASES);
	if (r)
		freeReplyObject(r);
	return n;
}

/* ---- the held numbers ------------------------------------------------------ */

typedef struct {
	bool held;
	long long since;      /* unix seconds */
	char holder[64];
} held_slot;

typedef struct {
	int fd;
	held_slot slot[REDIS_MAX_DATABASES];
} held_file;

static int held_open(held_file *h, const envup_redis_where *w)
{
	char *path = NULL, *suffix = envup__sprintf(".%s.redis", w->service), chunk[4096];
	envup_buf text = ENVUP_BUF_INIT;
	char *buf;
	ssize_t n;
	int error = 0;

	memset(h->slot, 0, sizeof(h->slot));
	h->fd = -1;
	ENVUP_ERROR_CHECK_ALLOC(suffix);
	if ((error = envup_state_path(&path, w->env_name, suffix, true)) < 0)
		goto done;
	if ((h->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    flock(h->fd, LOCK_EX) < 0) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot open %s: %s", path, strerror(errno));
		goto done;
	}
	/* all of it: up to 4095 lines of about 80 bytes */
	text.max = 1024 * 1024;
	while ((n = read(h->fd, chunk, sizeof(chunk))) > 0)
		if ((error = envup_buf_put(&text, chunk, (size_t)n)) < 0)
			goto done;
	buf = (char *)envup_buf_cstr(&text);
	/* "instance\nN SINCE HOLDER\n..."; another instance's numbers mean nothing */
	{
		char *line = buf, *nl = strchr(buf, '\n');
		if (nl && (size_t)(nl - buf) == strlen(w->instance) && strncmp(buf, w->instance, (size_t)(nl - buf)) == 0) {
			for (line = nl + 1; *line; line = nl + 1) {
				char *end, *rest;
				long k = strtol(line, &end, 10);
				long long since = strtoll(end, &rest, 10);
				nl = strchr(line, '\n');
				if (k > 0 && k < REDIS_MAX_DATABASES) {
					size_t hl;
					h->slot[k].held = true;
					h->slot[k].since = since > 0 ? since : 0;
					if (*rest == ' ')
						rest++;
					hl = nl ? (size_t)(nl - rest) : strlen(rest);
					if (hl >= sizeof(h->slot[k].holder))
						hl = sizeof(h->slot[k].holder) - 1;
					memcpy(h->slot[k].holder, rest, hl);
					h->slot[k].holder[hl] = '\0';
				}
				if (!nl)
					break;
			}
		}
	}
done:
	envup_buf_dispose(&text);
	envup__free(path);
	envup__free(suffix);
	return error;
}

static int held_save(held_file *h, const envup_redis_where *w)
{
	envup_buf b = ENVUP_BUF_INIT;
	int k, error = 0;

	if (envup_buf_printf(&b, "%s\n", w->instance) < 0)
		return ENVUP_ERROR;
	for (k = 1; k < REDIS_MAX_DATABASES; k++)
		if (h->slot[k].held && envup_buf_printf(&b, "%d %lld %s\n", k, h->slot[k].since, h->slot[k].holder) < 0) {
			envup_buf_dispose(&b);
			return ENVUP_ERROR;
		}
	/* written over, then cut to size: a crash in between keeps every hold */
	if (pwrite(h->fd, b.ptr, b.size, 0) != (ssize_t)b.size || ftruncate(h->fd, (off_t)b.size) < 0)
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot record redis databases: %s",
			strerror(errno));
	envup_buf_dispose(&b);
	return error;
}

static void held_close(held_file *h)
{
	if (h->fd >= 0)
		close(h->fd);  /* and the lock with it */
	h->fd = -1;
}

/* A call's state: the holds file (locked) and, when asked, the server;
 * SIGPIPE held off meanwhile (hiredis writes with plain write(2)). */
typedef struct {
	held_file *h;
	redisContext *c;
	envup_sigpipe_guard guard;
} redis_session;

static int session_open(redis_session *s, const envup_redis_where *w, bool connect)
{
	int error;

	s->c = NULL;
	envup_sigpipe_block(&s->guard);  /* session_close restores it, whatever fails */
	if ((s->h = envup__calloc(1, sizeof(*s->h))) == NULL)
		return envup_error_set_oom();
	s->h->fd = -1;
	if (connect && (error = redis_open(&s->c, w)) < 0)
		return error;
	return held_open(s->h, w);
}

static void session_close(redis_session *s)
{
	if (s->h)
		held_close(s->h);
	if (s->c)
		redisFree(s->c);
	envup_sigpipe_restore(&s->guard);
	envup__free(s->h);
	s->h = NULL;
}

/* Numbers the exports name: "URL/N" of this service. */
static void reserve_exported(bool *reserved, const envup_redis_where *w)
{
	size_t i, ul = w->url ? strlen(w->url) : 0;

	reserved[0] = true;
	for (i = 0; ul && i < w->nexports; i++) {
		const char *v = w->exports[i];
		char *end;
		long k;
		if (strncmp(v, w->url, ul) != 0 || v[ul] != '/')
			continue;
		k = strtol(v + ul + 1, &end, 10);
		if (end != v + ul + 1 && k >= 0 && k < REDIS_MAX_DATABASES)
			reserved[k] = true;
	}
}

/* ---- the calls ----------------------------------------------------------------- */

int envup_redisdb_new(int *number, const envup_redis_where *w, const char *holder)
{
	redis_session ss;
	bool *mine = envup__calloc(REDIS_MAX_DATABASES, sizeof(bool));
	held_file *h;
	int error, k, total, free_count = 0;

	ENVUP_ASSERT_ARG(number && w);
	*number = -1;
	ENVUP_ERROR_CHECK_ALLOC(mine);
	error = session_open(&ss, w, true);
	h = ss.h;
	if (error < 0)
		goto done;
	total = redis_databases(ss.c);
	reserve_exported(mine, w);
	/* from the top down: far from the numbers a suite writes by hand */
	for (k = total - 1; k > 0; k--) {
		if (mine[k] || h->slot[k].held)
			continue;
		free_count++;
		if (*number < 0)
			*number = k;
	}
	if (*number < 0) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_REDIS,
			"%s: every database is held (%d numbers, 0 and those the exports name kept for the suite); "
			"give one back with envup db drop, or run redis-server with more --databases",
			w->service, total);
		goto done;
	}
	{
		held_slot *sl = &h->slot[*number];
		size_t i;
		sl->held = true;
		sl->since = (long long)time(NULL);
		snprintf(sl->holder, sizeof(sl->holder), "%s", holder ? holder : "");
		/* one line per number in the file */
		for (i = 0; sl->holder[i]; i++)
			if ((unsigned char)sl->holder[i] < 0x20)
				sl->holder[i] = ' ';
	}
	if ((error = held_save(h, w)) < 0 || (error = redis_flush(ss.c, w, *number)) < 0) {
		*number = -1;
		goto done;
	}
done:
	session_close(&ss);
	envup__free(mine);
	return error;
}

int envup_redisdb_drop(const envup_redis_where *w, int number)
{
	redis_session ss;
	held_file *h;
	int error = session_open(&ss, w, false);

	h = ss.h;
	if (error < 0)
		goto done;
	if (number <= 0 || number >= REDIS_MAX_DATABASES || !h->slot[number].held) {
		error = envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_REDIS,
			"%s: database %d was not handed out by envup db new (or was given back already)",
			w->service, number);
		goto done;
	}
	if ((error = redis_open(&ss.c, w)) < 0 || (error = redis_flush(ss.c, w, number)) < 0)
		goto done;
	memset(&h->slot[number], 0, sizeof(h->slot[number]));
	error = held_save(h, w);
done:
	session_close(&ss);
	return error;
}

int envup_redisdb_reset(const envup_redis_where *w)
{
	redis_session ss;
	held_file *h;
	int error = session_open(&ss, w, true), k, total, any = 0;

	h = ss.h;
	if (error < 0)
		goto done;
	for (k = 1; k < REDIS_MAX_DATABASES; k++)
		any |= h->slot[k].held;
	if (!any) {
		error = redis_flush(ss.c, w, -1);
		goto done;
	}
	/* some are held by tests: flush every other one */
	total = redis_databases(ss.c);
	for (k = 0; k < total; k++)
		if (!h->slot[k].held)
			if ((error = redis_flush(ss.c, w, k)) < 0)
				goto done;
done:
	session_close(&ss);
	return error;
}

int envup_redisdb_held(envup_redis_held **out, size_t *count, const envup_redis_where *w)
{
	redis_session ss;
	envup_redis_held *v = NULL;
	held_file *h;
	size_t n = 0;
	int k, error;

	*out = NULL;
	*count = 0;
	error = session_open(&ss, w, false);
	h = ss.h;
	if (error < 0)
		goto done;
	for (k = 1; k < REDIS_MAX_DATABASES; k++)
		n += h->slot[k].held;
	if ((v = envup__calloc(n + 1, sizeof(*v))) == NULL) {
		error = envup_error_set_oom();
		goto done;
	}
	n = 0;
	for (k = 1; k < REDIS_MAX_DATABASES; k++) {
		if (!h->slot[k].held)
			continue;
		v[n].number = k;
		v[n].since = h->slot[k].since;
		snprintf(v[n].holder, sizeof(v[n].holder), "%s", h->slot[k].holder);
		n++;
	}
	*out = v;
	*count = n;
done:
	session_close(&ss);
	return error;
}
