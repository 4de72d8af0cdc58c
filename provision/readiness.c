/*
 * When a service is ready: one row per kind of wait (the spec's `wait:`,
 * or a template's built-in probe), saying how to ask and how often.
 *
 * A probe answers 0 (ready), 1 (not yet: *why says what it saw) or an
 * error (it never will be). The waiter (healthcheck/waiter.c) asks at the
 * row's interval, growing to its maximum, and checks in between that the
 * container still runs; the whole up's deadline and abort flag bound it.
 * A log wait is the one kind without polling: the log is followed as one
 * stream from its first line, so a line is read once, however long and
 * however much the service has been logging, and the wait ends the moment
 * the line that completes the count arrives.
 *
 * Probes are cheap (a refused attempt costs well under a millisecond), and
 * every millisecond between "answers" and "ready" is the user's, so the
 * protocol probes run every 5 to 10 ms. A healthcheck's state changes only
 * at its own interval: it is asked less eagerly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "provision/up.h"
#include "healthcheck/probe.h"
#include "healthcheck/waiter.h"

/* wait: none counts a container that still runs this long after start */
#define NONE_SETTLE_SECONDS 0.3
/* a log line longer than this is matched on its first LOG_LINE_MAX bytes */
#define LOG_LINE_MAX (64 * 1024)

typedef int (*readiness_probe)(char **why, envup_up_service *s, const char *host, int port,
	long attempt_ms);

typedef struct {
	envup_wait_kind kind;
	readiness_probe probe;     /* NULL: a stream, not a probe (log) */
	long interval_ms;
	long max_interval_ms;
	long alive_every_ms;       /* 0: the waiter's default */
	bool exits;                /* the container is meant to exit: no liveness check */
} readiness_row;

const char *envup_up__port_host(const envup_up_service *s)
{
	return s->host ? s->host : s->ctx->backend->ops->port_host(s->ctx->backend);
}

int envup_up__host_port(const envup_up_service *s, int container_port)
{
	char key[16];
	const char *v;

	if (container_port == 0) {
		if (s->spec->nports == 0)
			return -1;
		container_port = s->spec->ports[0];
	}
	snprintf(key, sizeof(key), "%d", container_port);
	v = envup_kvlist_get(&s->host_ports, key);
	return v ? (int)strtol(v, NULL, 10) : -1;
}

static long attempt_timeout(const envup_up_ctx *ctx)
{
	double left = ctx->deadline - envup_now();
	long ms = (long)(left * 1000.0);
	if (ms > 1000)
		ms = 1000;
	if (ms < 50)
		ms = 50;
	return ms;
}

/* running, and still running a moment later: a command that exits at
 * once must not count as ready */
static int probe_none(char **why, envup_up_service *s, const char *host, int port, long t)
{
	(void)host;
	(void)port;
	(void)t;
	if (envup_now() - s->started_at < NONE_SETTLE_SECONDS) {
		*why = envup__strdup("started; checking it keeps running");
		return 1;
	}
	return 0;
}

/*
 * A TCP wait asks "does the process listen?". Through the published port
 * the answer can lie: docker-proxy accepts the connection itself and only
 * then finds nothing listening inside, and on a loaded machine it can take
 * a while to hang up. So on engines whose container addresses the host can
 * reach (Linux), connect to the container's own address and port; where
 * that address does not answer at all (Docker Desktop, remote engines), use
 * the published port.
 */
static int probe_tcp(char **why, envup_up_service *s, const char *host, int port, long t)
{
	envup_backend *b = s->ctx->backend;
	int container_port = s->spec->wait.port ? s->spec->wait.port :
		(s->spec->nports ? s->spec->ports[0] : 0);
	int r;

	if (s->ip && s->ip_state != IP_UNREACHABLE &&
	    strcmp(b->ops->bind_ip(b), "127.0.0.1") == 0 && container_port > 0) {
		r = envup_probe_tcp(why, s->ip, container_port, s->ip_state == IP_UNTRIED ? 300 : t);
		if (r == 0 || (r == 1 && *why && strstr(*why, "connection refused"))) {
			s->ip_state = IP_REACHABLE;
			return r;
		}
		if (r < 0 || s->ip_state == IP_REACHABLE)
			return r;
		/* no answer from the address at all: the host cannot reach it */
		s->ip_state = IP_UNREACHABLE;
		envup__free(*why);
		*why = NULL;
	}
	return envup_probe_tcp(why, host, port, t);
}

static int probe_http(char **why, envup_up_service *s, const char *host, int port, long t)
{
	const envup_wait *w = &s->spec->wait;
	return envup_probe_http(why, host, port, w->method ? w->method : "GET",
		w->path ? w->path : "/", w->status ? w->status : 200, t);
}

static int probe_postgres(char **why, envup_up_service *s, const char *host, int port, long t)
{
	return envup_probe_postgres(why, host, port, envup_kvlist_get(&s->vars, "user"),
		envup_kvlist_get(&s->vars, "password"), envup_kvlist_get(&s->vars, "database"), t);
}

static int probe_redis(char **why, envup_up_service *s, const char *host, int port, long t)
{
	return envup_probe_redis(why, host, port, envup_kvlist_get(&s->vars, "password"), t);
}

static int probe_mockserver(char **why, envup_up_service *s, const char *host, int port, long t)
{
	(void)s;
	return envup_probe_mockserver(why, host, port, t);
}

/* The image's HEALTHCHECK, as the engine reports it. */
static int probe_healthcheck(char **why, envup_up_service *s, const char *host, int port, long t)
{
	envup_container_info info = ENVUP_CONTAINER_INFO_INIT;
	envup_backend *b = s->ctx->backend;
	int r;

	(void)host;
	(void)port;
	(void)t;
	if ((r = b->ops->inspect(&info, b, s->id)) < 0)
		goto done;
	if (!info.health)
		r = envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH,
			"wait: healthcheck, but image %s defines no HEALTHCHECK", s->image);
	else if (strcmp(info.health, "healthy") == 0)
		r = 0;
	else if (strcmp(info.health, "unhealthy") == 0)
		r = envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH,
			"healthcheck reports unhealthy: %s",
			info.health_output ? info.health_output : "(no output)");
	else {
		*why = envup__sprintf("healthcheck status %s%s%s", info.health,
			info.health_output ? ": " : "", info.health_output ? info.health_output : "");
		r = 1;
	}
done:
	envup_container_info_dispose(&info);
	return r;
}

/*
 * A Compose healthcheck's test, run by envup itself in the container at
 * short intervals: the file's `interval: 5s` is the engine's pace, and
 * would cost up to 5 s per service on the way to ready.
 */
static int probe_exec(char **why, envup_up_service *s, const char *host, int port, long t)
{
	envup_exec_result r = ENVUP_EXEC_RESULT_INIT;
	envup_backend *b = s->ctx->backend;
	int error;

	/* a backend without exec runs the test as the service's health check */
	if (!b->ops->exec)
		return probe_healthcheck(why, s, host, port, t);
	(void)host;
	(void)port;
	(void)t;
	if ((error = b->ops->exec(&r, b, s->id, &s->spec->wait.exec)) < 0) {
		/* the container going away is the liveness check's to report */
		envup_exec_result_dispose(&r);
		return error;
	}
	if (r.exit_code == 0) {
		envup_exec_result_dispose(&r);
		return 0;
	}
	{
		const char *out = envup_buf_cstr(&r.output);
		size_t len = strcspn(out, "\n");
		*why = envup__sprintf("healthcheck test exited %d%s%.*s", r.exit_code,
			len ? ": " : "", (int)(len > 200 ? 200 : len), out);
	}
	envup_exec_result_dispose(&r);
	return 1;
}

/* A one-shot service (service_completed_successfully): done at exit 0. */
static int probe_exit(char **why, envup_up_service *s, const char *host, int port, long t)
{
	envup_container_info info = ENVUP_CONTAINER_INFO_INIT;
	envup_backend *b = s->ctx->backend;
	int r;

	(void)host;
	(void)port;
	(void)t;
	if ((r = b->ops->inspect(&info, b, s->id)) < 0)
		goto done;
	if (info.running || (info.status && strcmp(info.status, "created") == 0)) {
		*why = envup__strdup("running; waiting for it to complete");
		r = 1;
	} else if (info.exit_code == 0 && !info.oom_killed) {
		r = 0;
	} else {
		r = envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH,
			"did not complete successfully: exited with code %d%s", info.exit_code,
			info.oom_killed ? " (out of memory)" : "");
	}
done:
	envup_container_info_dispose(&info);
	return r;
}

static const readiness_row table[] = {
	{ENVUP_WAIT_NONE,        probe_none,        5,  10, 50, false},
	{ENVUP_WAIT_TCP,         probe_tcp,         5,  10, 0, false},
	{ENVUP_WAIT_HTTP,        probe_http,        5,  10, 0, false},
	{ENVUP_WAIT_POSTGRES,    probe_postgres,    5,  10, 0, false},
	{ENVUP_WAIT_REDIS,       probe_redis,       5,  10, 0, false},
	{ENVUP_WAIT_MOCKSERVER,  probe_mockserver,  5,  10, 0, false},
	{ENVUP_WAIT_HEALTHCHECK, probe_healthcheck, 25, 100, 0, false},
	{ENVUP_WAIT_EXEC,        probe_exec,        20, 100, 0, false},
	{ENVUP_WAIT_EXIT,        probe_exit,        10, 50, 0, true},
	{ENVUP_WAIT_LOG,         NULL,              0,  0,  0, false},
};

int envup_up__alive_why(envup_up_service *s, char *why, size_t len)
{
	envup_container_info info = ENVUP_CONTAINER_INFO_INIT;
	envup_backend *b = s->ctx->backend;
	int error;

	if ((error = b->ops->inspect(&info, b, s->id)) < 0)
		goto done;
	if (info.running && strcmp(info.status ? info.status : "", "restarting") != 0)
		goto done;
	error = ENVUP_EUNHEALTHY;
	if (info.oom_killed)
		snprintf(why, len, "container was killed: out of memory (exit code %d)", info.exit_code);
	else if (info.error && *info.error)
		snprintf(why, len, "container %s: %s", info.status ? info.status : "stopped", info.error);
	else
		snprintf(why, len, "container exited with code %d", info.exit_code);
done:
	envup_container_info_dispose(&info);
	return error;
}

int envup_up__alive(envup_up_service *s)
{
	char why[512];
	int error = envup_up__alive_why(s, why, sizeof(why));
	if (error == ENVUP_EUNHEALTHY)
		envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH, "%s", why);
	return error;
}

/* ---- polling ------------------------------------------------------------ */

typedef struct {
	envup_up_service *s;
	const readiness_row *row;
} poll_ctx;

static int poll_probe(char **why, void *payload)
{
	poll_ctx *p = payload;
	envup_up_service *s = p->s;
	envup_backend *b = s->ctx->backend;
	(void)b;
	return p->row->probe(why, s, envup_up__port_host(s), envup_up__host_port(s, s->spec->wait.port),
		attempt_timeout(s->ctx));
}

static int poll_alive(void *payload)
{
	poll_ctx *p = payload;
	return p->row->exits ? 0 : envup_up__alive(p->s);
}

static int wait_polling(envup_up_service *s, const readiness_row *row)
{
	envup_up_ctx *ctx = s->ctx;
	envup_wait_options wopts = ENVUP_WAIT_OPTIONS_INIT;
	poll_ctx p = {s, row};
	int error;

	wopts.deadline = s->wait_deadline > 0 && s->wait_deadline < ctx->deadline ? s->wait_deadline :
		ctx->deadline;
	wopts.cancel = &ctx->abort;
	wopts.timeout_s = envup_up__timeout(ctx);
	wopts.interval_ms = row->interval_ms;
	wopts.max_interval_ms = row->max_interval_ms;
	if (row->alive_every_ms)
		wopts.alive_every_ms = row->alive_every_ms;
	/* a timeout says "not ready after 3.9s (timeout 4s): what the probe
	 * last saw" */
	error = envup_wait_until(poll_probe, poll_alive, &p, &wopts);
	return error;
}

/* ---- following the log ---------------------------------------------------- */

typedef struct {
	envup_up_service *s;
	envup_buf line;
	int seen;
	int want;
} log_watch;

static int log_line_done(log_watch *w)
{
	if (regexec(&w->s->log_re, envup_buf_cstr(&w->line), 0, NULL, 0) == 0)
		w->seen++;
	envup_buf_clear(&w->line);
	return w->seen >= w->want ? 1 : 0;
}

static int log_watch_data(const char *data, size_t len, void *payload)
{
	log_watch *w = payload;
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (data + i)) : len - i;
		size_t room = LOG_LINE_MAX > w->line.size ? LOG_LINE_MAX - w->line.size : 0;
		if (envup_buf_put(&w->line, data + i, n < room ? n : room) < 0)
			return ENVUP_ERROR;
		i += n;
		if (!nl)
			break;
		i++;
		if (log_line_done(w))
			return 1;
	}
	return 0;
}

static int wait_log(envup_up_service *s)
{
	envup_up_ctx *ctx = s->ctx;
	envup_backend *b = ctx->backend;
	const envup_wait *wt = &s->spec->wait;
	log_watch w;
	int error;

	memset(&w, 0, sizeof(w));
	w.s = s;
	w.want = wt->times > 0 ? wt->times : 1;
	w.line.max = LOG_LINE_MAX + 1;
	error = b->ops->logs(b, s->id, -1, true, log_watch_data, &w);
	/* the last line may have no newline when the container ends */
	if (error == 0 && w.seen < w.want && w.line.size)
		log_line_done(&w);
	envup_buf_dispose(&w.line);
	if (error == 0 && w.seen >= w.want)
		return 0;
	if (error == ENVUP_ETIMEOUT)
		return envup_error_set(ENVUP_ETIMEOUT, ENVUP_ERROR_HEALTH,
			"timed out waiting for log pattern /%s/: seen %d of %d times (timeout %.0fs)",
			wt->pattern, w.seen, w.want, envup_up__timeout(ctx));
	if (error < 0)
		return error;
	/* the stream ended: the container stopped before the pattern came */
	{
		char why[512];
		if ((error = envup_up__alive_why(s, why, sizeof(why))) == ENVUP_EUNHEALTHY)
			return envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH,
				"%s before log pattern /%s/ was seen %d times (seen %d)", why, wt->pattern,
				w.want, w.seen);
		if (error < 0)
			return error;
	}
	return envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH,
		"the log stream ended before log pattern /%s/ was seen %d times (seen %d)",
		wt->pattern, w.want, w.seen);
}

int envup_up__wait_ready(envup_up_service *s)
{
	size_t i;

	for (i = 0; i < ENVUP_ARRAY_SIZE(table); i++) {
		if (table[i].kind != s->spec->wait.kind)
			continue;
		return table[i].probe ? wait_polling(s, &table[i]) : wait_log(s);
	}
	return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_INTERNAL, "unknown wait kind %d",
		(int)s->spec->wait.kind);
}
