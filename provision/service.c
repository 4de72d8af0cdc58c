/*
 * One service's life in an `up` (up.h), in its own thread:
 *
 *   wait for depends_on -> ensure the image -> create -> start -> read the
 *   published ports -> ready (readiness.c) -> init scripts / expectations
 *   -> still running -> ready
 *
 * The first failure of any service is the one reported, with the
 * container's last log lines; it raises the abort flag, which stops every
 * other service at its next engine request or probe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include "provision/up.h"
#include "healthcheck/load.h"
#include "provision/pgpool.h"

#define FAILURE_LOG_LINES 20
#define FAILURE_LOG_MAX (64 * 1024)
#define LOG_FETCH_SECONDS 5.0

static void image_progress(const char *image, const char *detail, void *payload)
{
	envup_up_service *s = payload;
	char *line = envup__sprintf("%s: %s", image, detail ? detail : "");
	envup_up__emit(s->ctx, s->spec->name, ENVUP_STATE_PULLING, line ? line : image);
	envup__free(line);
}

/* The last log lines of a failed service, within FAILURE_LOG_MAX. */
static int collect_log(const char *data, size_t len, void *payload)
{
	envup_buf *b = payload;
	size_t room = b->size + 1 < b->max ? b->max - b->size - 1 : 0;
	if (room == 0)
		return 1;
	return envup_buf_put(b, data, len < room ? len : room) < 0 ? ENVUP_ERROR : 0;
}

static int read_ports(envup_up_service *s)
{
	envup_backend *b = s->ctx->backend;
	envup_container_info info = ENVUP_CONTAINER_INFO_INIT;
	int error = 0;
	size_t i;

	if ((error = b->ops->inspect(&info, b, s->id)) < 0)
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
				error = envup_up__alive(s);
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

static int load_data(envup_up_service *s)
{
	envup_up_ctx *ctx = s->ctx;
	const envup_service *spec = s->spec;
	const char *host = ctx->backend->ops->port_host(ctx->backend);
	long left = (long)((ctx->deadline - envup_now()) * 1000.0);
	envup_strlist display = ENVUP_STRLIST_INIT;
	size_t i;
	int error = 0;

	if (left < 100)
		left = 100;
	if (spec->init.n) {
		envup_up__emit(ctx, spec->name, ENVUP_STATE_INITIALIZING, "running init scripts");
		for (i = 0; i < spec->init.n; i++) {
			const char *p = spec->init.v[i];
			size_t dl = strlen(ctx->spec->dir);
			/* show paths relative to the spec's directory */
			if (strncmp(p, ctx->spec->dir, dl) == 0 && p[dl] == '/')
				p += dl + 1;
			if ((error = envup_strlist_push(&display, p)) < 0)
				goto done;
		}
		if ((error = envup_pg_run_files(host, envup_up__host_port(s, 0),
		    envup_kvlist_get(&s->vars, "user"), envup_kvlist_get(&s->vars, "password"),
		    envup_kvlist_get(&s->vars, "database"), &spec->init, &display, left)) < 0)
			goto done;
	}
	if (spec->expectations) {
		const char *p = spec->expectations;
		size_t dl = strlen(ctx->spec->dir);
		if (strncmp(p, ctx->spec->dir, dl) == 0 && p[dl] == '/')
			p += dl + 1;
		envup_up__emit(ctx, spec->name, ENVUP_STATE_INITIALIZING, "loading expectations");
		if ((error = envup_mockserver_load(host, envup_up__host_port(s, 0), spec->expectations,
		    p, left)) < 0)
			goto done;
	}
done:
	envup_strlist_dispose(&display);
	return error;
}


/* A postgres service: the template of its main database (now, before
 * anything else connects to it) and the pool of databases per test,
 * filled in the background (pgpool.h). Skipped without a main database. */
static int make_template(envup_up_service *s)
{
	envup_up_ctx *ctx = s->ctx;
	const char *host = ctx->backend->ops->port_host(ctx->backend);
	envup_pg_where w;
	long left = (long)((ctx->deadline - envup_now()) * 1000.0);
	char *lines = NULL;
	int error, size = envup_pgpool_size();

	if (!s->spec->template_name || strcmp(s->spec->template_name, "postgres") != 0 ||
	    !envup_kvlist_get(&s->vars, "database") || s->spec->nports == 0)
		return 0;
	w.host = host;
	w.port = envup_up__host_port(s, 0);
	w.user = envup_kvlist_get(&s->vars, "user");
	w.password = envup_kvlist_get(&s->vars, "password");
	w.database = envup_kvlist_get(&s->vars, "database");
	envup_up__emit(ctx, s->spec->name, ENVUP_STATE_INITIALIZING, "making the template");
	if ((error = envup_pgpool_prepare(&w, size, left > 100 ? left : 100)) < 0)
		return error;
	s->pg_template = true;
	if (size == 0)
		return 0;
	lines = envup__sprintf("%s\n%d\n%s\n%s\n%s\n", w.host, w.port, w.user ? w.user : "postgres",
		w.password ? w.password : "", w.database);
	ENVUP_ERROR_CHECK_ALLOC(lines);
	/* without a filler, db new makes each database itself: slower, still right */
	if (envup_watchdog_spawn_filler(lines) < 0)
		envup_up__emit(ctx, s->spec->name, ENVUP_STATE_INITIALIZING,
			"no pool filler (databases per test will be made on demand)");
	explicit_bzero(lines, strlen(lines));
	envup__free(lines);
	return 0;
}

/* A bind source that does not exist is made a directory, as Compose does
 * for its short syntax (mkdir -p, 0755). */
static int make_bind_sources(const envup_service *spec)
{
	size_t i;

	for (i = 0; i < spec->nmounts; i++) {
		char path[4096], *p;
		struct stat st;
		if (spec->mounts[i].kind != ENVUP_MOUNT_BIND || stat(spec->mounts[i].source, &st) == 0)
			continue;
		snprintf(path, sizeof(path), "%s", spec->mounts[i].source);
		for (p = path + 1; ; p++) {
			if (*p == '/' || *p == '\0') {
				char c = *p;
				*p = '\0';
				if (mkdir(path, 0755) < 0 && errno != EEXIST)
					return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS,
						"cannot make the bind mount source %s", path);
				*p = c;
				if (!c)
					break;
			}
		}
	}
	return 0;
}

/* A remote engine (tcp://, ssh://) does not see this machine's files: a
 * Compose file's bind mounts are copied into the container before it
 * starts (read-only or not, they are copies: edits here do not reach it). */
#define COPY_MAX ((size_t)256 * 1024 * 1024)
static int copy_binds(envup_up_service *s)
{
	envup_backend *b = s->ctx->backend;
	const envup_service *spec = s->spec;
	envup_buf tar = ENVUP_BUF_INIT;
	size_t i, n = 0;
	int error = 0;

	tar.max = COPY_MAX;
	for (i = 0; i < spec->nmounts && error == 0; i++) {
		if (spec->mounts[i].kind != ENVUP_MOUNT_BIND)
			continue;
		error = envup_tar_add(&tar, spec->mounts[i].source, spec->mounts[i].target);
		n++;
	}
	if (error == 0 && n) {
		envup_up__emit(s->ctx, spec->name, ENVUP_STATE_CREATING, "copying bind mounts to the engine");
		if ((error = envup_tar_finish(&tar)) == 0)
			error = b->ops->put_archive(b, s->id, "/", tar.ptr, tar.size);
	}
	if (error == ENVUP_ESPEC)
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_SPEC, "copying the bind mounts: %s",
			envup_error_last()->message);
	envup_buf_dispose(&tar);
	return error;
}

static int bring_up(envup_up_service *s)
{
	envup_up_ctx *ctx = s->ctx;
	envup_backend *b = ctx->backend;
	const envup_service *spec = s->spec;
	envup_kvlist labels = ENVUP_KVLIST_INIT;
	envup_container_config cfg = {0};
	envup_mount *mounts = NULL;
	size_t i;
	int error;

	if ((error = b->ops->ensure_image(b, s->image, image_progress, s)) < 0)
		goto done;
	if (atomic_load(&ctx->abort)) {
		error = ENVUP_ECANCELLED;
		goto done;
	}
	envup_up__emit(ctx, spec->name, ENVUP_STATE_CREATING, s->image);
	if ((error = envup_up__labels(&labels, ctx, spec->name)) < 0 ||
	    (error = make_bind_sources(spec)) < 0)
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
	cfg.binds = spec->binds;
	cfg.rt = spec->compose ? &spec->rt : NULL;
	/* named volumes are the environment's own: envup-NAME-VOLUME */
	if (spec->nmounts) {
		if ((mounts = envup__calloc(spec->nmounts, sizeof(*mounts))) == NULL) {
			error = ENVUP_ERROR;
			goto done;
		}
		for (i = 0; i < spec->nmounts; i++) {
			/* an engine that cannot see this machine's files gets copies
			 * (below), not bind mounts */
			if (spec->mounts[i].kind == ENVUP_MOUNT_BIND && !b->ops->sees_host_files(b))
				continue;
			mounts[cfg.nmounts] = spec->mounts[i];
			mounts[cfg.nmounts].source = NULL;
			if (spec->mounts[i].kind == ENVUP_MOUNT_VOLUME && spec->mounts[i].source)
				mounts[cfg.nmounts].source = envup__sprintf("envup-%s-%s", ctx->name,
					spec->mounts[i].source);
			else if (spec->mounts[i].source)
				mounts[cfg.nmounts].source = envup__strdup(spec->mounts[i].source);
			if (spec->mounts[i].source && !mounts[cfg.nmounts].source) {
				error = ENVUP_ERROR;
				goto done;
			}
			cfg.nmounts++;
		}
		cfg.mounts = mounts;
	}
	if ((error = b->ops->create(&s->id, b, &cfg)) < 0) {
		if (error == ENVUP_EEXISTS)
			error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
				"container name %s is already in use", s->container_name);
		goto done;
	}
	if (!b->ops->sees_host_files(b) && (error = copy_binds(s)) < 0)
		goto done;
	envup_up__emit(ctx, spec->name, ENVUP_STATE_STARTING, NULL);
	if ((error = b->ops->start(b, s->id)) < 0)
		goto done;
	s->started_at = envup_now();
	pthread_mutex_lock(&ctx->lock);
	s->container_started = true;
	pthread_cond_broadcast(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);
	if ((error = read_ports(s)) < 0)
		goto done;
	envup_up__emit(ctx, spec->name, ENVUP_STATE_WAITING, NULL);
	if ((error = envup_up__wait_ready(s)) < 0)
		goto done;
	if (spec->wait.kind == ENVUP_WAIT_EXIT)
		goto done;  /* it ran to completion: nothing answers now */
	if ((error = load_data(s)) < 0)
		goto done;
	if ((error = make_template(s)) < 0)
		goto done;
	/* a container that answered and then died is not ready */
	if ((error = envup_up__alive(s)) < 0)
		goto done;
done:
	for (i = 0; mounts && i < cfg.nmounts; i++)
		envup__free(mounts[i].source);
	envup__free(mounts);
	envup_kvlist_dispose(&labels);
	return error;
}

static bool deps_ready(const envup_up_service *s, bool *failed)
{
	const envup_up_ctx *ctx = s->ctx;
	size_t i;
	bool ready = true;

	for (i = 0; i < s->spec->depends_on.n; i++) {
		int j = envup_spec_find(ctx->spec, s->spec->depends_on.v[i]);
		int cond = s->spec->dep_cond ? s->spec->dep_cond[i] : ENVUP_DEP_READY;
		if (j < 0)
			continue;
		if (ctx->svcs[j].phase == SVC_FAILED || ctx->svcs[j].phase == SVC_SKIPPED)
			*failed = true;
		/* compose's service_started: its container runs; else ready (for
		 * service_completed_successfully, ready is "exited 0") */
		if (cond == ENVUP_DEP_STARTED ? !ctx->svcs[j].container_started :
		    ctx->svcs[j].phase != SVC_READY)
			ready = false;
	}
	return ready;
}

/* Record the first failure; later ones are consequences of the abort. */
void envup_up__record_failure(envup_up_service *s, int error)
{
	envup_up_ctx *ctx = s->ctx;
	envup_buf detail = ENVUP_BUF_INIT;
	envup_buf logs = ENVUP_BUF_INIT;
	char *message = envup__sprintf("%s: %s", s->spec->name, envup_error_last()->message);
	int klass = envup_error_last()->klass;
	bool first;

	pthread_mutex_lock(&ctx->lock);
	first = !ctx->failed && !atomic_load(&ctx->abort);
	if (first) {
		ctx->failed = true;
		ctx->fail_code = error == ENVUP_ECANCELLED ? ENVUP_ERROR : error;
		ctx->fail_class = klass;
		ctx->fail_message = message;
		message = NULL;
	}
	pthread_mutex_unlock(&ctx->lock);

	if (first) {
		/* the last log lines, through a backend of its own with a short
		 * deadline: a hanging engine must not hold the report back */
		envup_backend *lb = NULL;
		logs.max = FAILURE_LOG_MAX;
		if (envup_buf_puts(&detail, envup_error_last()->message) == 0 && s->id &&
		    envup_backend_open_for(&lb, ctx->opts->docker_host, LOG_FETCH_SECONDS) == 0 &&
		    lb->ops->logs(lb, s->id, FAILURE_LOG_LINES, false, collect_log, &logs) == 0 &&
		    logs.size > 0) {
			if (envup_buf_printf(&detail, "\nlast %d log lines of %s:\n", FAILURE_LOG_LINES,
			    s->spec->name) < 0 || envup_buf_puts(&detail, logs.ptr) < 0)
				envup_buf_clear(&detail);
		}
		envup_backend_free(lb);
		envup_up__emit(ctx, s->spec->name, ENVUP_STATE_FAILED, envup_buf_cstr(&detail));
	}
	pthread_mutex_lock(&ctx->lock);
	s->phase = first ? SVC_FAILED : SVC_SKIPPED;
	atomic_store(&ctx->abort, 1);
	pthread_cond_broadcast(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);
	envup__free(message);
	envup_buf_dispose(&detail);
	envup_buf_dispose(&logs);
}

void *envup_up__service_main(void *arg)
{
	envup_up_service *s = arg;
	envup_up_ctx *ctx = s->ctx;
	bool dep_failed = false;
	int error;

	envup_secrets_use(ctx->mask);
	pthread_mutex_lock(&ctx->lock);
	while (!atomic_load(&ctx->abort) && !deps_ready(s, &dep_failed) && !dep_failed)
		pthread_cond_wait(&ctx->cond, &ctx->lock);
	if (atomic_load(&ctx->abort) || dep_failed) {
		s->phase = SVC_SKIPPED;
		pthread_cond_broadcast(&ctx->cond);
		pthread_mutex_unlock(&ctx->lock);
		return NULL;
	}
	s->phase = SVC_RUNNING;
	pthread_mutex_unlock(&ctx->lock);

	if ((error = bring_up(s)) < 0) {
		envup_up__record_failure(s, error);
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
		envup_up__emit(ctx, s->spec->name, ENVUP_STATE_READY, detail);
	}
	return NULL;
}

