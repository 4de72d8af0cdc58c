/*
 * envup_up(): bring a whole environment up.
 *
 * The plan is made first, in the calling thread: load and validate the
 * spec, resolve the name and credentials, check the name is free, and
 * create the environment's network. Then one thread per service:
 *
 *   wait for depends_on -> ensure image -> create -> start -> probe until
 *   ready (real protocol) -> init scripts / expectations -> ready
 *
 * Independent services therefore start concurrently, and a service starts
 * the moment its dependencies are ready. The first failure raises `abort`,
 * which stops every other thread at its next engine request or probe; the
 * calling thread then joins them all and removes everything labelled with
 * the environment's name (only after the joins, so that nothing is being
 * created while we list what to remove).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include "envup.h"
#include "compose/spec.h"
#include "templates/template.h"
#include "provision/engine.h"
#include "provision/image.h"
#include "provision/container.h"
#include "provision/network.h"
#include "provision/cleanup.h"
#include "provision/env_internal.h"
#include "provision/state.h"
#include "provision/owner.h"
#include "provision/watchdog.h"
#include "provision/identity.h"
#include "provision/claim.h"
#include "healthcheck/probe.h"
#include "healthcheck/waiter.h"
#include "healthcheck/init.h"

#define DEFAULT_TIMEOUT 120.0
#define FAILURE_LOG_LINES 20
#define CLEANUP_TIMEOUT 60.0
#define LOG_FETCH_SECONDS 5.0
#define NONE_SETTLE_SECONDS 0.3

typedef enum { SVC_PENDING = 0, SVC_RUNNING, SVC_READY, SVC_FAILED, SVC_SKIPPED } svc_phase;

typedef struct up_ctx up_ctx;

typedef struct {
	up_ctx *ctx;
	const envup_service *spec;
	char *image;            /* after the hub prefix rewrite */
	char *container_name;
	char *id;               /* container id once created */
	envup_kvlist env;       /* final environment */
	envup_strlist cmd;      /* final command (when the spec/template has one) */
	envup_strlist entrypoint;
	envup_kvlist vars;      /* placeholders: user, password, database */
	envup_kvlist host_ports;/* "5432" -> "49153" */
	svc_phase phase;
	double ready_at;        /* seconds since start */
	pthread_t thread;
	bool thread_started;
	regex_t log_re;         /* ENVUP_WAIT_LOG */
	bool log_re_compiled;
	double started_at;      /* envup_now() when start returned */
	char *ip;               /* the container's address on its network */
	enum { IP_UNTRIED = 0, IP_REACHABLE, IP_UNREACHABLE } ip_state;
} up_service;

struct up_ctx {
	const envup_up_options *opts;
	envup_spec *spec;
	char *name;
	char *network;          /* its name, envup-NAME */
	char *network_id;       /* what containers join: names may be shared (claim.h) */
	envup_engine *engine;
	up_service *svcs;
	size_t nsvcs;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_mutex_t progress_lock;
	volatile int abort;     /* raised on the first failure or on cancel */
	bool failed;
	int fail_code;
	int fail_class;
	char *fail_message;     /* "SERVICE: what happened" */
	double start;
	double deadline;
	envup_identity id;      /* this one `up`: name, instance, owner, expiry */
	char owner_text[128];   /* "session 4711 (bash)", "" without owner */
	envup_strlist secrets;  /* the environment's passwords (and encoded forms) */
	envup_watchdog watchdog;
};

/* ---- progress --------------------------------------------------------- */

const char *envup_state_name(envup_state state)
{
	static const char *names[] = {"pulling", "creating", "starting", "waiting",
		"initializing", "ready", "failed", "removing", "removed"};
	if ((size_t)state < ENVUP_ARRAY_SIZE(names))
		return names[state];
	return "unknown";
}

static void emit(up_ctx *ctx, const char *service, envup_state state, const char *detail)
{
	char *masked = NULL;

	if (!ctx->opts->progress)
		return;
	if (detail && (masked = envup_secret_mask(detail)) != NULL)
		envup_printable_lines(masked);
	pthread_mutex_lock(&ctx->progress_lock);
	ctx->opts->progress(service, state, detail ? (masked ? masked : "") : NULL,
		envup_now() - ctx->start, ctx->opts->progress_payload);
	pthread_mutex_unlock(&ctx->progress_lock);
	envup__free(masked);
}

static void image_progress(const char *image, const char *detail, void *payload)
{
	up_service *s = payload;
	char *line = envup__sprintf("%s: %s", image, detail ? detail : "");
	emit(s->ctx, s->spec->name, ENVUP_STATE_PULLING, line ? line : image);
	envup__free(line);
}

/* ---- planning ---------------------------------------------------------- */

static const char *cred_names[ENVUP_CRED_COUNT] = {"user", "password", "database"};

/* Expand {{user}}/{{password}}/{{database}} in one value, if it has any. */
static int expand_creds(char **out, const char *value, const envup_kvlist *vars)
{
	if (!strstr(value, "{{")) {
		*out = envup__strdup(value);
		return *out ? 0 : ENVUP_ERROR;
	}
	return envup_placeholder_expand(out, value, vars, false);
}

static int expand_list(envup_strlist *out, const envup_strlist *in, const envup_kvlist *vars,
	const char *what, const char *service)
{
	size_t i;
	for (i = 0; i < in->n; i++) {
		char *v = NULL;
		int error;
		if (expand_creds(&v, in->v[i], vars) < 0)
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "services.%s.%s: %s",
				service, what, envup_error_last()->message);
		error = envup_strlist_push(out, v);
		envup__free(v);
		if (error < 0)
			return error;
	}
	return 0;
}

/* A password: masked on stderr from now on, and listed for the formats
 * that mask secrets themselves (--format github), with its URL form. */
static int add_secret(up_ctx *ctx, const char *value)
{
	envup_kvlist vars = ENVUP_KVLIST_INIT;
	char *encoded = NULL;
	int error;

	if (!*value || envup_strlist_contains(&ctx->secrets, value))
		return 0;
	if ((error = envup_secret_add(value)) < 0 ||
	    (error = envup_strlist_push(&ctx->secrets, value)) < 0 ||
	    (error = envup_kvlist_set(&vars, "v", value)) < 0 ||
	    (error = envup_placeholder_expand(&encoded, "{{v}}", &vars, true)) < 0)
		goto done;
	if (strcmp(encoded, value) != 0 && !envup_strlist_contains(&ctx->secrets, encoded) &&
	    ((error = envup_secret_add(encoded)) < 0 ||
	     (error = envup_strlist_push(&ctx->secrets, encoded)) < 0))
		goto done;
done:
	envup__free(encoded);
	envup_kvlist_dispose(&vars);
	return error;
}

static int plan_service(up_service *s, up_ctx *ctx, const envup_service *spec)
{
	const char *prefix = ctx->opts->image_prefix;
	size_t i;

	s->ctx = ctx;
	s->spec = spec;
	if (!prefix)
		prefix = getenv("ENVUP_HUB_IMAGE_PREFIX");
	if ((s->image = envup_image_rewrite(spec->image, prefix)) == NULL)
		return ENVUP_ERROR;
	if ((s->container_name = envup__sprintf("envup-%s-%s", ctx->name, spec->name)) == NULL)
		return ENVUP_ERROR;
	if (envup_kvlist_copy(&s->env, &spec->env) < 0)
		return ENVUP_ERROR;

	/* credentials: the spec's env wins, else the template's default */
	for (i = 0; i < ENVUP_CRED_COUNT; i++) {
		const envup_cred *c = &spec->cred[i];
		const char *given = c->env ? envup_kvlist_get(&s->env, c->env) : NULL;
		char *value = NULL;
		int error;

		if (!c->def)
			continue;
		if (given)
			value = envup__strdup(given);
		else if (strcmp(c->def, "random") == 0)
			value = envup_random_password();
		else
			value = envup__strdup(c->def);
		if (!value)
			return ENVUP_ERROR;
		error = envup_kvlist_set(&s->vars, cred_names[i], value);
		if (!error && c->env && !given)
			error = envup_kvlist_set(&s->env, c->env, value);
		if (!error && i == ENVUP_CRED_PASSWORD)
			error = add_secret(ctx, value);
		envup__free(value);
		if (error < 0)
			return error;
	}

	/* placeholders in the env values and the command */
	for (i = 0; i < s->env.n; i++) {
		char *v = NULL;
		if (!strstr(s->env.v[i].value, "{{"))
			continue;
		if (expand_creds(&v, s->env.v[i].value, &s->vars) < 0)
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "services.%s.env.%s: %s",
				spec->name, s->env.v[i].key, envup_error_last()->message);
		envup__free(s->env.v[i].value);
		s->env.v[i].value = v;
	}
	if (spec->has_command && expand_list(&s->cmd, &spec->command, &s->vars, "command", spec->name) < 0)
		return ENVUP_ERROR;
	if (spec->has_entrypoint &&
	    expand_list(&s->entrypoint, &spec->entrypoint, &s->vars, "entrypoint", spec->name) < 0)
		return ENVUP_ERROR;

	if (spec->wait.kind == ENVUP_WAIT_LOG) {
		if (regcomp(&s->log_re, spec->wait.pattern, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "services.%s.wait.log.pattern: invalid regex",
				spec->name);
		s->log_re_compiled = true;
	}
	return 0;
}

static void service_dispose(up_service *s)
{
	envup__free(s->image);
	envup__free(s->container_name);
	envup__free(s->id);
	envup_kvlist_dispose(&s->env);
	envup_strlist_dispose(&s->cmd);
	envup_strlist_dispose(&s->entrypoint);
	envup_kvlist_dispose(&s->vars);
	envup_kvlist_dispose(&s->host_ports);
	envup__free(s->ip);
	if (s->log_re_compiled)
		regfree(&s->log_re);
}

/* ---- probes ------------------------------------------------------------ */

static int host_port_of(const up_service *s, int container_port)
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

static long attempt_timeout(const up_ctx *ctx)
{
	double left = ctx->deadline - envup_now();
	long ms = (long)(left * 1000.0);
	if (ms > 1000)
		ms = 1000;
	if (ms < 50)
		ms = 50;
	return ms;
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
static int probe_tcp(char **why, up_service *s, const char *host, int port, long t)
{
	int container_port = s->spec->wait.port ? s->spec->wait.port :
		(s->spec->nports ? s->spec->ports[0] : 0);
	int r;

	if (s->ip && s->ip_state != IP_UNREACHABLE &&
	    strcmp(envup_engine_bind_ip(s->ctx->engine), "127.0.0.1") == 0 && container_port > 0) {
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

static int probe_service(char **why, void *payload)
{
	up_service *s = payload;
	up_ctx *ctx = s->ctx;
	const envup_wait *w = &s->spec->wait;
	const char *host = envup_engine_port_host(ctx->engine);
	long t = attempt_timeout(ctx);
	int port = host_port_of(s, w->port);

	switch (w->kind) {
	case ENVUP_WAIT_NONE:
		/* running, and still running a moment later: a command that
		 * exits at once must not count as ready */
		if (envup_now() - s->started_at < NONE_SETTLE_SECONDS) {
			*why = envup__strdup("started; checking it keeps running");
			return 1;
		}
		return 0;
	case ENVUP_WAIT_TCP:
		return probe_tcp(why, s, host, port, t);
	case ENVUP_WAIT_HTTP:
		return envup_probe_http(why, host, port, w->method ? w->method : "GET",
			w->path ? w->path : "/", w->status ? w->status : 200, t);
	case ENVUP_WAIT_POSTGRES:
		return envup_probe_postgres(why, host, port,
			envup_kvlist_get(&s->vars, "user"), envup_kvlist_get(&s->vars, "password"),
			envup_kvlist_get(&s->vars, "database"), t);
	case ENVUP_WAIT_REDIS:
		return envup_probe_redis(why, host, port, envup_kvlist_get(&s->vars, "password"), t);
	case ENVUP_WAIT_MOCKSERVER:
		return envup_probe_mockserver(why, host, port, t);
	case ENVUP_WAIT_LOG:
		break;   /* followed as a stream: see wait_log() */
	case ENVUP_WAIT_HEALTHCHECK: {
		envup_container_info info = ENVUP_CONTAINER_INFO_INIT;
		int r;
		if (envup_container_inspect(&info, ctx->engine, s->id) < 0) {
			envup_container_info_dispose(&info);
			return ENVUP_ERROR;
		}
		if (!info.health) {
			r = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_HEALTH,
				"wait: healthcheck, but image %s defines no HEALTHCHECK", s->image);
		} else if (strcmp(info.health, "healthy") == 0) {
			r = 0;
		} else if (strcmp(info.health, "unhealthy") == 0) {
			r = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_HEALTH, "healthcheck reports unhealthy: %s",
				info.health_output ? info.health_output : "(no output)");
		} else {
			*why = envup__sprintf("healthcheck status %s%s%s", info.health,
				info.health_output ? ": " : "", info.health_output ? info.health_output : "");
			r = 1;
		}
		envup_container_info_dispose(&info);
		return r;
	}
	}
	return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_INTERNAL, "unknown wait kind");
}

/* The container must still be running while we wait for it. */
static int service_alive(void *payload)
{
	up_service *s = payload;
	envup_container_info info = ENVUP_CONTAINER_INFO_INIT;
	int error = 0;

	if (envup_container_inspect(&info, s->ctx->engine, s->id) < 0) {
		error = ENVUP_ERROR;
		goto done;
	}
	if (info.running && strcmp(info.status ? info.status : "", "restarting") != 0)
		goto done;
	if (info.oom_killed)
		error = envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH,
			"container was killed: out of memory (exit code %d)", info.exit_code);
	else if (info.error && *info.error)
		error = envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH, "container %s: %s",
			info.status ? info.status : "stopped", info.error);
	else
		error = envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH, "container exited with code %d",
			info.exit_code);
done:
	envup_container_info_dispose(&info);
	return error;
}

/* ---- one service ------------------------------------------------------- */

static int read_ports(up_service *s)
{
	envup_container_info info = ENVUP_CONTAINER_INFO_INIT;
	int error = 0;
	size_t i;

	if ((error = envup_container_inspect(&info, s->ctx->engine, s->id)) < 0)
		goto done;
	if (info.ip && (s->ip = envup__strdup(info.ip)) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	for (i = 0; i < s->spec->nports; i++) {
		char key[16], val[16];
		int hp = envup_container_host_port(&info, s->spec->ports[i]);
		if (hp <= 0) {
			if (!info.running) {
				envup_container_info_dispose(&info);
				error = service_alive(s);
				goto done;
			}
			error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
				"the engine published no host port for %d/tcp", s->spec->ports[i]);
			goto done;
		}
		snprintf(key, sizeof(key), "%d", s->spec->ports[i]);
		snprintf(val, sizeof(val), "%d", hp);
		if ((error = envup_kvlist_set(&s->host_ports, key, val)) < 0)
			goto done;
	}
done:
	envup_container_info_dispose(&info);
	return error;
}

static int load_data(up_service *s)
{
	up_ctx *ctx = s->ctx;
	const envup_service *spec = s->spec;
	const char *host = envup_engine_port_host(ctx->engine);
	long left = (long)((ctx->deadline - envup_now()) * 1000.0);
	envup_strlist display = ENVUP_STRLIST_INIT;
	size_t i;
	int error = 0;

	if (left < 100)
		left = 100;
	if (spec->init.n) {
		emit(ctx, spec->name, ENVUP_STATE_INITIALIZING, "running init scripts");
		for (i = 0; i < spec->init.n; i++) {
			const char *p = spec->init.v[i];
			size_t dl = strlen(ctx->spec->dir);
			/* show paths relative to the spec's directory */
			if (strncmp(p, ctx->spec->dir, dl) == 0 && p[dl] == '/')
				p += dl + 1;
			if ((error = envup_strlist_push(&display, p)) < 0)
				goto done;
		}
		if ((error = envup_pg_run_files(host, host_port_of(s, 0),
		    envup_kvlist_get(&s->vars, "user"), envup_kvlist_get(&s->vars, "password"),
		    envup_kvlist_get(&s->vars, "database"), &spec->init, &display, left)) < 0)
			goto done;
	}
	if (spec->expectations) {
		const char *p = spec->expectations;
		size_t dl = strlen(ctx->spec->dir);
		if (strncmp(p, ctx->spec->dir, dl) == 0 && p[dl] == '/')
			p += dl + 1;
		emit(ctx, spec->name, ENVUP_STATE_INITIALIZING, "loading expectations");
		if ((error = envup_mockserver_load(host, host_port_of(s, 0), spec->expectations,
		    p, left)) < 0)
			goto done;
	}
done:
	envup_strlist_dispose(&display);
	return error;
}

static int labels_for(envup_kvlist *labels, const up_ctx *ctx, const char *service)
{
	envup_identity id = ctx->id;
	snprintf(id.service, sizeof(id.service), "%s", service ? service : "");
	return envup_identity_labels(labels, &id);
}

/* Who owns this environment, when it expires, and the watchdog that
 * enforces both. Spawned before anything exists on the engine. */
static int plan_ownership(up_ctx *ctx)
{
	const envup_up_options *opts = ctx->opts;
	envup_watchdog_options wo = {0};
	envup_identity *id = &ctx->id;
	unsigned char raw[ENVUP_INSTANCE_LEN / 2];
	double ttl = opts->ttl > 0 ? opts->ttl : ENVUP_DEFAULT_TTL;
	envup_owner_scope scope = opts->owner;
	char *state_dir = NULL;
	size_t i;
	int error;

	snprintf(id->env, sizeof(id->env), "%s", ctx->name);
	if (envup_random_bytes(raw, sizeof(raw)) < 0)
		return ENVUP_ERROR;
	for (i = 0; i < sizeof(raw); i++)
		snprintf(id->instance + 2 * i, 3, "%02x", raw[i]);
	id->expires = (long long)time(NULL) + (long long)ttl;
	snprintf(id->expires_raw, sizeof(id->expires_raw), "%lld", id->expires);

	if (opts->keep)
		scope = ENVUP_OWNER_NONE;
	else if (opts->owner_pid > 0)
		scope = ENVUP_OWNER_PID;
	if (scope == ENVUP_OWNER_SESSION) {
		if ((error = envup_owner_resolve(&id->owner, &id->owner_kind, id->owner_comm,
		    getpid())) < 0)
			return error == ENVUP_ENOTFOUND ? ENVUP_ERROR : error;
		id->has_owner = true;
	} else if (scope != ENVUP_OWNER_NONE) {
		pid_t pid = scope == ENVUP_OWNER_PID && opts->owner_pid > 0 ?
			(pid_t)opts->owner_pid : getpid();
		envup_proc proc;
		error = envup_owner_of(&id->owner, pid);
		if (error == ENVUP_ENOTFOUND)
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "owner process %ld does not exist",
				(long)pid);
		if (error < 0)
			return error;
		id->has_owner = true;
		id->owner_kind = ENVUP_OWNER_KIND_PROCESS;
		if (envup_proc_read(&proc, pid) == 0)
			snprintf(id->owner_comm, sizeof(id->owner_comm), "%s", proc.comm);
	}
	if (id->has_owner) {
		envup_owner_format(id->owner_raw, sizeof(id->owner_raw), &id->owner);
		envup_identity_owner_text(ctx->owner_text, sizeof(ctx->owner_text), id);
	}
	wo.env_name = ctx->name;
	wo.instance = id->instance;
	wo.docker_host = opts->docker_host;
	wo.owner = id->has_owner ? id->owner_raw : NULL;
	wo.owner_text = id->has_owner ? ctx->owner_text : NULL;
	wo.expires = id->expires;
	wo.exe = opts->watchdog_exe;
	if ((error = envup_state_dir(&state_dir, true)) < 0)
		return error;
	wo.state_dir = state_dir;
	error = envup_watchdog_spawn(&ctx->watchdog, &wo);
	envup__free(state_dir);
	return error;
}

/*
 * wait: log. The log is followed as one stream from its first line, so a
 * line is read once, however long the service has been logging and
 * however much (no size limit), and the wait ends the moment the line
 * that completes the count arrives. A line longer than LOG_LINE_MAX is
 * matched on its first LOG_LINE_MAX bytes.
 */
#define LOG_LINE_MAX (64 * 1024)

typedef struct {
	up_service *s;
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

static int wait_log(up_service *s)
{
	up_ctx *ctx = s->ctx;
	const envup_wait *wt = &s->spec->wait;
	log_watch w;
	int error;

	memset(&w, 0, sizeof(w));
	w.s = s;
	w.want = wt->times > 0 ? wt->times : 1;
	w.line.max = LOG_LINE_MAX + 1;
	error = envup_container_logs_follow(ctx->engine, s->id, log_watch_data, &w);
	/* the last line may have no newline when the container ends */
	if (error == 0 && w.seen < w.want && w.line.size)
		log_line_done(&w);
	envup_buf_dispose(&w.line);
	if (error == 0 && w.seen >= w.want)
		return 0;
	if (error == ENVUP_ETIMEOUT)
		return envup_error_set(ENVUP_ETIMEOUT, ENVUP_ERROR_HEALTH,
			"timed out waiting for log pattern /%s/: seen %d of %d times (timeout %.0fs)",
			wt->pattern, w.seen, w.want,
			ctx->opts->timeout > 0 ? ctx->opts->timeout : DEFAULT_TIMEOUT);
	if (error < 0)
		return error;
	/* the stream ended: the container stopped before the pattern came */
	if ((error = service_alive(s)) < 0) {
		char *msg = envup__sprintf("%s before log pattern /%s/ was seen %d times (seen %d)",
			envup_error_last()->message, wt->pattern, w.want, w.seen);
		if (msg)
			envup_error_set_str(ENVUP_ERROR, ENVUP_ERROR_HEALTH, msg);
		envup__free(msg);
		return error;
	}
	return envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH,
		"the log stream ended before log pattern /%s/ was seen %d times (seen %d)",
		wt->pattern, w.want, w.seen);
}

static int bring_up(up_service *s)
{
	up_ctx *ctx = s->ctx;
	const envup_service *spec = s->spec;
	envup_kvlist labels = ENVUP_KVLIST_INIT;
	envup_container_config cfg = {0};
	envup_wait_options wopts = ENVUP_WAIT_OPTIONS_INIT;
	int error;

	if ((error = envup_image_ensure(ctx->engine, s->image, image_progress, s)) < 0)
		goto done;
	if (ctx->abort) {
		error = ENVUP_ECANCELLED;
		goto done;
	}
	emit(ctx, spec->name, ENVUP_STATE_CREATING, s->image);
	if ((error = labels_for(&labels, ctx, spec->name)) < 0)
		goto done;
	cfg.name = s->container_name;
	cfg.image = s->image;
	cfg.env = &s->env;
	cfg.cmd = spec->has_command ? &s->cmd : NULL;
	cfg.entrypoint = spec->has_entrypoint ? &s->entrypoint : NULL;
	cfg.labels = &labels;
	cfg.ports = spec->ports;
	cfg.nports = spec->nports;
	cfg.tmpfs = &spec->tmpfs;
	cfg.network = ctx->network_id;
	cfg.alias = spec->name;
	if ((error = envup_container_create(&s->id, ctx->engine, &cfg)) < 0) {
		if (error == ENVUP_EEXISTS)
			error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
				"container name %s is already in use", s->container_name);
		goto done;
	}
	emit(ctx, spec->name, ENVUP_STATE_STARTING, NULL);
	if ((error = envup_container_start(ctx->engine, s->id)) < 0)
		goto done;
	s->started_at = envup_now();
	if ((error = read_ports(s)) < 0)
		goto done;
	emit(ctx, spec->name, ENVUP_STATE_WAITING, NULL);
	wopts.deadline = ctx->deadline;
	wopts.cancel = &ctx->abort;
	/* probes are cheap (a refused attempt costs well under a millisecond),
	 * and every millisecond between "answers" and "ready" is the user's */
	wopts.interval_ms = 5;
	wopts.max_interval_ms = 10;
	if (spec->wait.kind == ENVUP_WAIT_NONE)
		wopts.alive_every_ms = 50;
	/* log and healthcheck waits ask the engine, which re-sends the whole
	 * log or re-reads state that changes only at the healthcheck's own
	 * interval: poll those less eagerly than a protocol probe */
	if (spec->wait.kind == ENVUP_WAIT_HEALTHCHECK) {
		wopts.interval_ms = 25;
		wopts.max_interval_ms = 100;
	}
	if (spec->wait.kind == ENVUP_WAIT_LOG) {
		if ((error = wait_log(s)) < 0)
			goto done;
	} else if ((error = envup_wait_until(probe_service, service_alive, s, &wopts)) < 0) {
		if (error == ENVUP_ETIMEOUT) {
			char *msg = envup__sprintf("%s (timeout %.0fs)", envup_error_last()->message,
				ctx->opts->timeout > 0 ? ctx->opts->timeout : DEFAULT_TIMEOUT);
			if (msg)
				envup_error_set_str(ENVUP_ERROR, ENVUP_ERROR_HEALTH, msg);
			envup__free(msg);
		}
		goto done;
	}
	if ((error = load_data(s)) < 0)
		goto done;
	/* a container that answered and then died is not ready */
	if ((error = service_alive(s)) < 0)
		goto done;
done:
	envup_kvlist_dispose(&labels);
	return error;
}

static bool deps_ready(const up_service *s, bool *failed)
{
	const up_ctx *ctx = s->ctx;
	size_t i;
	bool ready = true;

	for (i = 0; i < s->spec->depends_on.n; i++) {
		int j = envup_spec_find(ctx->spec, s->spec->depends_on.v[i]);
		if (j < 0)
			continue;
		if (ctx->svcs[j].phase == SVC_FAILED || ctx->svcs[j].phase == SVC_SKIPPED)
			*failed = true;
		if (ctx->svcs[j].phase != SVC_READY)
			ready = false;
	}
	return ready;
}

/* Record the first failure; later ones are consequences of the abort. */
static void record_failure(up_service *s, int error)
{
	up_ctx *ctx = s->ctx;
	envup_buf detail = ENVUP_BUF_INIT;
	envup_buf logs = ENVUP_BUF_INIT;
	char *message = envup__sprintf("%s: %s", s->spec->name, envup_error_last()->message);
	int klass = envup_error_last()->klass;
	bool first;

	pthread_mutex_lock(&ctx->lock);
	first = !ctx->failed && !ctx->abort;
	if (first) {
		ctx->failed = true;
		ctx->fail_code = error == ENVUP_ECANCELLED ? ENVUP_ERROR : error;
		ctx->fail_class = klass;
		ctx->fail_message = message;
		message = NULL;
	}
	pthread_mutex_unlock(&ctx->lock);

	if (first) {
		/* the last log lines, through a handle of their own with a short
		 * deadline: a hanging engine must not hold the report back */
		envup_engine *le = NULL;
		if (envup_buf_puts(&detail, envup_error_last()->message) == 0 && s->id &&
		    envup_env__open_engine(&le, ctx->opts->docker_host, LOG_FETCH_SECONDS) == 0 &&
		    envup_container_logs(&logs, le, s->id, FAILURE_LOG_LINES) == 0 &&
		    logs.size > 0) {
			if (envup_buf_printf(&detail, "\nlast %d log lines of %s:\n", FAILURE_LOG_LINES,
			    s->spec->name) < 0 || envup_buf_puts(&detail, logs.ptr) < 0)
				envup_buf_clear(&detail);
		}
		envup_engine_free(le);
		emit(ctx, s->spec->name, ENVUP_STATE_FAILED, envup_buf_cstr(&detail));
	}
	pthread_mutex_lock(&ctx->lock);
	s->phase = first ? SVC_FAILED : SVC_SKIPPED;
	ctx->abort = 1;
	pthread_cond_broadcast(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);
	envup__free(message);
	envup_buf_dispose(&detail);
	envup_buf_dispose(&logs);
}

static void *service_main(void *arg)
{
	up_service *s = arg;
	up_ctx *ctx = s->ctx;
	bool dep_failed = false;
	int error;

	pthread_mutex_lock(&ctx->lock);
	while (!ctx->abort && !deps_ready(s, &dep_failed) && !dep_failed)
		pthread_cond_wait(&ctx->cond, &ctx->lock);
	if (ctx->abort || dep_failed) {
		s->phase = SVC_SKIPPED;
		pthread_cond_broadcast(&ctx->cond);
		pthread_mutex_unlock(&ctx->lock);
		return NULL;
	}
	s->phase = SVC_RUNNING;
	pthread_mutex_unlock(&ctx->lock);

	if ((error = bring_up(s)) < 0) {
		record_failure(s, error);
		return NULL;
	}
	pthread_mutex_lock(&ctx->lock);
	s->phase = SVC_READY;
	s->ready_at = envup_now() - ctx->start;
	pthread_cond_broadcast(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);
	{
		char detail[32];
		snprintf(detail, sizeof(detail), "%.2fs", s->ready_at);
		emit(ctx, s->spec->name, ENVUP_STATE_READY, detail);
	}
	return NULL;
}

/* ---- exports ----------------------------------------------------------- */

static int service_exports(envup_kvlist *exports, const up_service *s, const char *host)
{
	const envup_service *spec = s->spec;
	envup_kvlist vars = ENVUP_KVLIST_INIT;
	char *stem = NULL, *url = NULL, *name = NULL, *value = NULL;
	char port[16] = "";
	size_t i;
	int error = ENVUP_ERROR;

	if ((stem = envup_env_stem(spec->name)) == NULL)
		goto done;
	if (envup_kvlist_copy(&vars, &s->vars) < 0 || envup_kvlist_set(&vars, "host", host) < 0)
		goto done;
	if (spec->nports)
		snprintf(port, sizeof(port), "%d", host_port_of(s, 0));
	if (envup_kvlist_set(&vars, "port", port) < 0)
		goto done;
	for (i = 0; i < s->host_ports.n; i++) {
		char key[32];
		snprintf(key, sizeof(key), "port:%s", s->host_ports.v[i].key);
		if (envup_kvlist_set(&vars, key, s->host_ports.v[i].value) < 0)
			goto done;
	}
	if (spec->url) {
		if (envup_placeholder_expand(&url, spec->url, &vars, true) < 0 ||
		    envup_kvlist_set(&vars, "url", url) < 0)
			goto done;
	}

	/* automatic exports first, then the spec's, in the order written */
	if ((name = envup__sprintf("%s_HOST", stem)) == NULL || envup_kvlist_set(exports, name, host) < 0)
		goto done;
	envup__free(name);
	name = NULL;
	if (spec->nports) {
		if ((name = envup__sprintf("%s_PORT", stem)) == NULL ||
		    envup_kvlist_set(exports, name, port) < 0)
			goto done;
		envup__free(name);
		name = NULL;
	}
	if (url) {
		if ((name = envup__sprintf("%s_URL", stem)) == NULL || envup_kvlist_set(exports, name, url) < 0)
			goto done;
		envup__free(name);
		name = NULL;
	}
	for (i = 0; i < spec->exports.n; i++) {
		if (envup_placeholder_expand(&value, spec->exports.v[i].value, &vars, false) < 0 ||
		    envup_kvlist_set(exports, spec->exports.v[i].key, value) < 0)
			goto done;
		envup__free(value);
		value = NULL;
	}
	error = 0;
done:
	envup__free(stem);
	envup__free(url);
	envup__free(name);
	envup__free(value);
	envup_kvlist_dispose(&vars);
	return error;
}

/* ---- envup_up ---------------------------------------------------------- */

static void cleanup_progress(const char *kind, const char *name, void *payload)
{
	up_ctx *ctx = payload;
	char *detail = envup__sprintf("%s %s", kind, name);
	emit(ctx, NULL, ENVUP_STATE_REMOVED, detail ? detail : kind);
	envup__free(detail);
}

/* Cleanup after a failure gets as long as the up had, within [10, 60] s:
 * enough to remove containers from a slow engine, and --timeout 5 does not
 * turn into a minute when the engine hangs. */
static double cleanup_seconds(const up_ctx *ctx)
{
	double t = ctx->opts->timeout > 0 ? ctx->opts->timeout : DEFAULT_TIMEOUT;
	if (t < 10)
		t = 10;
	if (t > CLEANUP_TIMEOUT)
		t = CLEANUP_TIMEOUT;
	return t;
}

/* Remove everything labelled with this environment, with a fresh engine
 * handle: the main one is cancelled by now. */
static int teardown(up_ctx *ctx)
{
	envup_engine *e = NULL;
	int error;

	emit(ctx, NULL, ENVUP_STATE_REMOVING, ctx->name);
	if ((error = envup_env__open_engine(&e, ctx->opts->docker_host, cleanup_seconds(ctx))) < 0)
		return error;
	/* only what this up created: a failed up must never remove another
	 * instance's environment of the same name */
	error = envup_env__remove(e, ctx->name, ctx->id.instance, NULL, cleanup_progress, ctx);
	envup_engine_free(e);
	return error;
}

/* Teardown after an error that must stay the reported one. */
static void teardown_keep_error(up_ctx *ctx)
{
	char *saved = envup__strdup(envup_error_last()->message);
	int klass = envup_error_last()->klass;
	teardown(ctx);
	if (saved)
		envup_error_set_str(ENVUP_ERROR, klass, saved);
	envup__free(saved);
}

static bool all_done(const up_ctx *ctx)
{
	size_t i;
	for (i = 0; i < ctx->nsvcs; i++)
		if (ctx->svcs[i].phase == SVC_PENDING || ctx->svcs[i].phase == SVC_RUNNING)
			return false;
	return true;
}

static void raise_abort(up_ctx *ctx, int code, const char *message)
{
	if (!ctx->failed) {
		ctx->failed = true;
		ctx->fail_code = code;
		ctx->fail_class = code == ENVUP_ECANCELLED ? ENVUP_ERROR_CANCELLED : ENVUP_ERROR_HEALTH;
		ctx->fail_message = envup__strdup(message);
	}
	ctx->abort = 1;
	pthread_cond_broadcast(&ctx->cond);
}

/* Wait for the service threads, watching the caller's cancel flag and
 * the deadline (a backstop: probes and requests have their own). */
static void supervise(up_ctx *ctx)
{
	const volatile int *cancel = ctx->opts->cancel;

	pthread_mutex_lock(&ctx->lock);
	while (!all_done(ctx)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ctx->cond, &ctx->lock, &ts);
		if (cancel && *cancel && !ctx->abort)
			raise_abort(ctx, ENVUP_ECANCELLED, "interrupted");
		if (!ctx->abort && envup_now() > ctx->deadline + 2.0) {
			envup_buf pending = ENVUP_BUF_INIT;
			size_t i;
			for (i = 0; i < ctx->nsvcs; i++)
				if (ctx->svcs[i].phase == SVC_PENDING || ctx->svcs[i].phase == SVC_RUNNING)
					if (envup_buf_printf(&pending, "%s%s", pending.size ? ", " : "",
					    ctx->svcs[i].spec->name) < 0)
						break;
			{
				char *msg = envup__sprintf("timed out waiting for %s", envup_buf_cstr(&pending));
				raise_abort(ctx, ENVUP_ETIMEOUT, msg ? msg : "timed out");
				envup__free(msg);
			}
			envup_buf_dispose(&pending);
		}
	}
	pthread_mutex_unlock(&ctx->lock);
}

static int check_name_free(up_ctx *ctx)
{
	envup_container_summary *list = NULL;
	size_t n = 0;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	int error;

	if ((error = envup_identity_filter(&labels, ctx->name, NULL)) < 0 ||
	    (error = envup_container_list(&list, &n, ctx->engine, &labels)) < 0)
		goto done;
	if (n > 0) {
		envup_identity id;
		char owner[128] = "", why[256] = "";
		long long now = (long long)time(NULL);
		envup_identity_read(&id, &list[0].labels);
		envup_identity_owner_text(owner, sizeof(owner), &id);
		if (id.expires > 0 && id.expires <= now)
			snprintf(why, sizeof(why), "; it expired, so 'envup gc' removes it too");
		else if (id.has_owner && envup_owner_check(&id.owner) == ENVUP_OWNER_GONE)
			snprintf(why, sizeof(why), "; its owner, %s, is gone, so 'envup gc' removes it too",
				owner);
		else if (owner[0])
			snprintf(why, sizeof(why), ", owned by %s", owner);
		error = envup_error_set(ENVUP_EEXISTS, ENVUP_ERROR_SPEC,
			"environment '%s' is already up (%zu container%s%s); take it down with: envdown -n %s",
			ctx->name, n, n == 1 ? "" : "s", why, ctx->name);
	}
done:
	envup_container_summaries_free(list, n);
	envup_strlist_dispose(&labels);
	return error;
}

/* The environment's network, which is also the claim on its name (see
 * claim.h): of two ups of one name at once, at most one gets past here. */
static int create_network(up_ctx *ctx)
{
	envup_kvlist labels = ENVUP_KVLIST_INIT;
	char *id = NULL;
	int error;

	if ((ctx->network = envup__sprintf("envup-%s", ctx->name)) == NULL)
		return ENVUP_ERROR;
	if ((error = labels_for(&labels, ctx, NULL)) == 0)
		error = envup_claim_network(&id, ctx->engine, ctx->network, &ctx->id, &labels);
	ctx->network_id = id;
	envup_kvlist_dispose(&labels);
	return error;
}

/* Numbers from a command line or a caller: NaN compares false with
 * everything, and a huge TTL would overflow the expiry label. */
static int check_options(const envup_up_options *opts)
{
	if (!isfinite(opts->timeout) || opts->timeout < 0 || opts->timeout > ENVUP_TIMEOUT_MAX)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"timeout must be a number of seconds from 0 to %d", (int)ENVUP_TIMEOUT_MAX);
	if (!isfinite(opts->ttl) || opts->ttl < 0 || opts->ttl > ENVUP_TTL_MAX)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"ttl must be a number of seconds from 0 to %d (30 days)", (int)ENVUP_TTL_MAX);
	if (opts->owner < ENVUP_OWNER_CALLER || opts->owner > ENVUP_OWNER_NONE)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "unknown owner scope %d", (int)opts->owner);
	return 0;
}

static int ctx_init(up_ctx *ctx, const envup_up_options *opts)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->watchdog.fd = -1;
	ctx->opts = opts;
	ctx->start = envup_now();
	ctx->deadline = ctx->start + (opts->timeout > 0 ? opts->timeout : DEFAULT_TIMEOUT);
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_mutex_init(&ctx->progress_lock, NULL);
	pthread_cond_init(&ctx->cond, NULL);
	return 0;
}

static void ctx_dispose(up_ctx *ctx)
{
	size_t i;
	/* a watchdog not told otherwise by now: up failed and cleaned up */
	envup_watchdog_release(&ctx->watchdog, ENVUP_WATCHDOG_FAILED);
	for (i = 0; i < ctx->nsvcs; i++)
		service_dispose(&ctx->svcs[i]);
	envup__free(ctx->svcs);
	envup_spec_free(ctx->spec);
	envup_engine_free(ctx->engine);
	envup__free(ctx->name);
	envup__free(ctx->network);
	envup__free(ctx->network_id);
	envup__free(ctx->fail_message);
	envup_strlist_dispose(&ctx->secrets);
	pthread_mutex_destroy(&ctx->lock);
	pthread_mutex_destroy(&ctx->progress_lock);
	pthread_cond_destroy(&ctx->cond);
}

static int build_env(envup_env **out, up_ctx *ctx)
{
	envup_env *env = envup__calloc(1, sizeof(*env));
	const char *host = envup_engine_port_host(ctx->engine);
	size_t i;

	ENVUP_ERROR_CHECK_ALLOC(env);
	if ((env->name = envup__strdup(ctx->name)) == NULL ||
	    (ctx->owner_text[0] && (env->owner = envup__strdup(ctx->owner_text)) == NULL) ||
	    envup_strlist_copy(&env->secrets, &ctx->secrets) < 0)
		goto fail;
	env->expires = ctx->id.expires;
	snprintf(env->instance, sizeof(env->instance), "%s", ctx->id.instance);
	if (ctx->opts->docker_host && (env->docker_host = envup__strdup(ctx->opts->docker_host)) == NULL)
		goto fail;
	for (i = 0; i < ctx->nsvcs; i++)
		if (service_exports(&env->exports, &ctx->svcs[i], host) < 0)
			goto fail;
	*out = env;
	return 0;
fail:
	envup_env_free(env);
	return ENVUP_ERROR;
}

int envup_up(envup_env **out, const envup_up_options *opts)
{
	envup_up_options defaults = ENVUP_UP_OPTIONS_INIT;
	up_ctx ctx;
	envup_engine_options eo = {0};
	envup_env *env = NULL;
	size_t i, started = 0;
	int error;

	ENVUP_ASSERT_ARG(out);
	*out = NULL;
	if (!opts)
		opts = &defaults;
	envup__cjson_init();
	ctx_init(&ctx, opts);

	/* 1. the plan: nothing touches the engine until the spec is valid */
	if ((error = check_options(opts)) < 0)
		goto done;
	if (!opts->spec_path && access(ENVUP_DEFAULT_SPEC, F_OK) < 0 && errno == ENOENT) {
		char cwd[1024];
		error = envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"no %s in %s (the spec envup looks for when -f is not given): write one, or "
			"name the spec with -f FILE", ENVUP_DEFAULT_SPEC,
			getcwd(cwd, sizeof(cwd)) ? cwd : "the current directory");
		goto done;
	}
	if ((error = envup_spec_load(&ctx.spec, opts->spec_path ? opts->spec_path : ENVUP_DEFAULT_SPEC,
	    NULL, NULL)) < 0)
		goto done;
	if ((error = envup_name_resolve(&ctx.name, opts->name, ctx.spec->name, ctx.spec->dir)) < 0)
		goto done;
	ctx.nsvcs = ctx.spec->nservices;
	if ((ctx.svcs = envup__calloc(ctx.nsvcs ? ctx.nsvcs : 1, sizeof(up_service))) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	for (i = 0; i < ctx.nsvcs; i++)
		if ((error = plan_service(&ctx.svcs[i], &ctx, &ctx.spec->services[i])) < 0)
			goto done;

	/* the state directory holds the passwords: refuse a bad one before
	 * anything exists on the engine */
	{
		char *dir = NULL;
		error = envup_state_dir(&dir, true);
		envup__free(dir);
		if (error < 0)
			goto done;
		envup_state_prune();
	}

	/* 2. the engine */
	eo.docker_host = opts->docker_host;
	eo.cancel = &ctx.abort;
	eo.deadline = ctx.deadline;
	if ((error = envup_engine_open(&ctx.engine, &eo)) < 0)
		goto done;
	if ((error = check_name_free(&ctx)) < 0)
		goto done;
	if ((error = plan_ownership(&ctx)) < 0)
		goto done;
	if ((error = create_network(&ctx)) < 0) {
		teardown_keep_error(&ctx);
		goto done;
	}

	/* 3. one thread per service */
	for (i = 0; i < ctx.nsvcs; i++) {
		up_service *s = &ctx.svcs[ctx.spec->order[i]];
		if (pthread_create(&s->thread, NULL, service_main, s) != 0) {
			pthread_mutex_lock(&ctx.lock);
			s->phase = SVC_SKIPPED;
			raise_abort(&ctx, ENVUP_ERROR, "cannot start a thread");
			pthread_mutex_unlock(&ctx.lock);
			break;
		}
		s->thread_started = true;
		started++;
	}
	supervise(&ctx);
	for (i = 0; i < ctx.nsvcs; i++)
		if (ctx.svcs[i].thread_started)
			pthread_join(ctx.svcs[i].thread, NULL);

	/* every service is ready: check none has died since it became so */
	for (i = 0; !ctx.failed && i < ctx.nsvcs; i++) {
		up_service *s = &ctx.svcs[i];
		if (s->phase == SVC_READY && (error = service_alive(s)) < 0) {
			char *msg = envup__sprintf("%s after it was ready", envup_error_last()->message);
			if (msg)
				envup_error_set_str(ENVUP_ERROR, ENVUP_ERROR_HEALTH, msg);
			envup__free(msg);
			record_failure(s, error);
		}
	}
	if (!ctx.failed && (error = build_env(&env, &ctx)) < 0) {
		pthread_mutex_lock(&ctx.lock);
		raise_abort(&ctx, ENVUP_ERROR, envup_error_last()->message);
		pthread_mutex_unlock(&ctx.lock);
	}
	/* the owner died while we worked: its watchdog is about to remove the
	 * environment, so its exports must not be printed */
	if (!ctx.failed && ctx.id.has_owner && envup_owner_check(&ctx.id.owner) == ENVUP_OWNER_GONE) {
		char *msg = envup__sprintf("the environment's owner, %s, ended before up finished",
			ctx.owner_text);
		pthread_mutex_lock(&ctx.lock);
		raise_abort(&ctx, ENVUP_ERROR, msg ? msg : "its owner ended before up finished");
		ctx.fail_class = ENVUP_ERROR_OS;
		pthread_mutex_unlock(&ctx.lock);
		envup__free(msg);
	}
	if (!ctx.failed && (error = envup_state_save(ctx.name, envup_engine_address(ctx.engine),
	    env)) < 0) {
		pthread_mutex_lock(&ctx.lock);
		raise_abort(&ctx, ENVUP_ERROR, envup_error_last()->message);
		pthread_mutex_unlock(&ctx.lock);
	}
	if (ctx.failed) {
		envup_env_free(env);
		env = NULL;
		if (teardown(&ctx) < 0) {
			/* the watchdog keeps trying what the engine refused now */
			envup_watchdog_release(&ctx.watchdog, ENVUP_WATCHDOG_TAKE_OVER);
			/* say what the engine refused to remove, after the cause */
			char *msg = envup__sprintf("%s; cleanup incomplete: %s",
				ctx.fail_message ? ctx.fail_message : "failed", envup_error_last()->message);
			envup_error_set_str(ENVUP_ERROR, ctx.fail_class, msg ? msg : "cleanup incomplete");
			envup__free(msg);
		} else {
			envup_error_set_str(ENVUP_ERROR, ctx.fail_class, ctx.fail_message ? ctx.fail_message : "failed");
		}
		error = ctx.fail_code ? ctx.fail_code : ENVUP_ERROR;
		goto done;
	}
	envup_watchdog_release(&ctx.watchdog, ENVUP_WATCHDOG_READY);
	envup_state_forget_removal(ctx.name);
	*out = env;
	error = 0;
done:
	ctx_dispose(&ctx);
	return error;
}

/* ---- the envup_env handle --------------------------------------------- */

int envup_env__new(envup_env **out, const char *name, const envup_kvlist *exports)
{
	envup_env *env = envup__calloc(1, sizeof(*env));
	ENVUP_ERROR_CHECK_ALLOC(env);
	if ((env->name = envup__strdup(name)) == NULL || envup_kvlist_copy(&env->exports, exports) < 0) {
		envup_env_free(env);
		return ENVUP_ERROR;
	}
	*out = env;
	return 0;
}

const char *envup_env_name(const envup_env *env)
{
	return env ? env->name : NULL;
}

size_t envup_env_export_count(const envup_env *env)
{
	return env ? env->exports.n : 0;
}

const char *envup_env_export_name(const envup_env *env, size_t i)
{
	return env && i < env->exports.n ? env->exports.v[i].key : NULL;
}

const char *envup_env_export_value(const envup_env *env, size_t i)
{
	return env && i < env->exports.n ? env->exports.v[i].value : NULL;
}

const char *envup_env_export_get(const envup_env *env, const char *name)
{
	return env ? envup_kvlist_get(&env->exports, name) : NULL;
}

int envup_env_format(char **out, const envup_env *env, envup_format format)
{
	envup_buf b = ENVUP_BUF_INIT;
	int error;
	ENVUP_ASSERT_ARG(out && env);
	*out = NULL;
	if ((error = envup_exports_format(&b, &env->exports, format)) < 0) {
		envup_buf_dispose(&b);
		return error;
	}
	*out = envup_buf_detach(&b);
	return *out ? 0 : ENVUP_ERROR;
}

const char *envup_env_owner(const envup_env *env)
{
	return env ? env->owner : NULL;
}

long long envup_env_expires(const envup_env *env)
{
	return env ? env->expires : 0;
}

size_t envup_env_secret_count(const envup_env *env)
{
	return env ? env->secrets.n : 0;
}

const char *envup_env_secret(const envup_env *env, size_t i)
{
	return env && i < env->secrets.n ? env->secrets.v[i] : NULL;
}

void envup_env_free(envup_env *env)
{
	if (!env)
		return;
	envup__free(env->name);
	envup__free(env->owner);
	envup__free(env->docker_host);
	envup_kvlist_dispose(&env->exports);
	envup_strlist_dispose(&env->secrets);
	envup__free(env);
}
