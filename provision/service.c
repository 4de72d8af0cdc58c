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
#include <unistd.h>
#include "provision/up.h"
#include "healthcheck/load.h"
#include "provision/pgpool.h"
#include "provision/snapshot.h"

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
	envup__free(s->ip);  /* a second start (after a snapshot that failed) */
	envup__free(s->host);
	envup__free(s->node);
	s->ip = s->host = s->node = NULL;
	if ((info.ip && (s->ip = envup__strdup(info.ip)) == NULL) ||
	    (info.port_host && (s->host = envup__strdup(info.port_host)) == NULL) ||
	    (info.node && (s->node = envup__strdup(info.node)) == NULL)) {
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
	const char *host = envup_up__port_host(s);
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


static void pg_where_of(envup_pg_where *w, envup_up_service *s)
{
	w->host = envup_up__port_host(s);
	w->port = envup_up__host_port(s, 0);
	w->user = envup_kvlist_get(&s->vars, "user");
	w->password = envup_kvlist_get(&s->vars, "password");
	w->database = envup_kvlist_get(&s->vars, "database");
}

int envup_up__spawn_filler(envup_up_service *s)
{
	envup_pg_where w;
	char *lines;
	int error;

	pg_where_of(&w, s);
	lines = envup__sprintf("%s\n%d\n%s\n%s\n%s\n", w.host, w.port, w.user ? w.user : "postgres",
		w.password ? w.password : "", w.database);
	ENVUP_ERROR_CHECK_ALLOC(lines);
	/* without a filler, db new makes each database itself: slower, still right */
	if ((error = envup_watchdog_spawn_filler(lines)) < 0)
		envup_up__emit(s->ctx, s->spec->name, ENVUP_STATE_INITIALIZING,
			"no pool filler (databases per test will be made on demand)");
	explicit_bzero(lines, strlen(lines));
	envup__free(lines);
	return error;
}

static bool is_pg_template_service(const envup_up_service *s)
{
	return s->spec->template_name && strcmp(s->spec->template_name, "postgres") == 0 &&
		envup_kvlist_get(&s->vars, "database") && s->spec->nports > 0;
}

/* A postgres service: the template of its main database (now, before
 * anything else connects to it) and the pool of databases per test,
 * filled in the background (pgpool.h). Skipped without a main database.
 * When a snapshot will be taken, its helper fills the pool afterwards. */
static int make_template(envup_up_service *s)
{
	envup_up_ctx *ctx = s->ctx;
	envup_pg_where w;
	long left = (long)((ctx->deadline - envup_now()) * 1000.0);
	int error, size = envup_pgpool_size();

	if (!is_pg_template_service(s))
		return 0;
	pg_where_of(&w, s);
	envup_up__emit(ctx, s->spec->name, ENVUP_STATE_INITIALIZING, "making the template");
	if ((error = envup_pgpool_prepare(&w, size, left > 100 ? left : 100)) < 0) {
		/* the service itself is fine: only what needs the template is off */
		char msg[700];
		snprintf(msg, sizeof(msg), "no template (%s): envup db new, reset and warm starts are off for it",
			envup_error_last()->message);
		envup_up__emit(ctx, s->spec->name, ENVUP_STATE_NOTICE, msg);
		s->snapshot_key[0] = '\0';
		return atomic_load(&ctx->abort) ? ENVUP_ECANCELLED : 0;
	}
	s->pg_template = true;
	if (size > 0 && !s->snapshot_key[0])
		envup_up__spawn_filler(s);
	return 0;
}

/* A server started from a snapshot: the key inside is the one wanted. */
static int finish_restore(envup_up_service *s)
{
	envup_up_ctx *ctx = s->ctx;
	envup_pg_where w;
	long left = (long)((ctx->deadline - envup_now()) * 1000.0);
	int error, size = envup_pgpool_size();

	pg_where_of(&w, s);
	if ((error = envup_pgpool_check_restored(&w, s->snapshot_key, size, left > 100 ? left : 100)) < 0)
		return error;
	s->pg_template = true;
	if (size > 0)
		envup_up__spawn_filler(s);
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

/* The snapshot key of a service that can have one (snapshot.h); "" when
 * snapshots are off or the image cannot be inspected (then: cold). */
static void snapshot_key(envup_up_service *s)
{
	envup_backend *b = s->ctx->backend;
	envup_image_info info = ENVUP_IMAGE_INFO_INIT;

	s->snapshot_key[0] = '\0';
	if (!s->ctx->snapshots || !envup_snapshot_eligible(s->spec, &s->vars))
		return;
	if (b->ops->image_info(&info, b, s->image) == 0 &&
	    envup_snapshot_key(s->snapshot_key, info.id, s->spec, &s->env, s->spec->has_command ? &s->cmd : NULL,
	    envup_kvlist_get(&s->vars, "password")) < 0)
		s->snapshot_key[0] = '\0';
	envup_image_info_dispose(&info);
}

static int bring_up_once(envup_up_service *s)
{
	envup_up_ctx *ctx = s->ctx;
	envup_backend *b = ctx->backend;
	const envup_service *spec = s->spec;
	envup_kvlist labels = ENVUP_KVLIST_INIT;
	envup_container_config cfg = {0};
	envup_mount *mounts = NULL;
	envup_strlist restore_ep = ENVUP_STRLIST_INIT, base_ep = ENVUP_STRLIST_INIT, base_cmd = ENVUP_STRLIST_INIT;
	char *snapshot_ref = NULL, detail[160];
	size_t i;
	int error;

	if ((error = b->ops->ensure_image(b, s->image, image_progress, s)) < 0)
		goto done;
	if (atomic_load(&ctx->abort)) {
		error = ENVUP_ECANCELLED;
		goto done;
	}
	if (!s->no_restore) {
		snapshot_key(s);
		if (s->snapshot_key[0] && envup_snapshot_find(&snapshot_ref, &base_ep, &base_cmd, b, s->snapshot_key) == 0 &&
		    envup_snapshot_entrypoint(&restore_ep, &base_ep) == 0) {
			s->restored = true;
			s->wait_deadline = envup_now() + 30.0;
		}
	}
	if (s->restored) {
		snprintf(detail, sizeof(detail), "%s from snapshot %.12s (initdb and init scripts skipped)",
			s->image, s->snapshot_key);
		envup_up__emit(ctx, spec->name, ENVUP_STATE_CREATING, detail);
	} else {
		envup_up__emit(ctx, spec->name, ENVUP_STATE_CREATING, s->image);
	}
	if ((error = envup_up__labels(&labels, ctx, spec->name)) < 0 ||
	    (error = make_bind_sources(spec)) < 0)
		goto done;
	cfg.name = s->container_name;
	cfg.image = s->restored ? snapshot_ref : s->image;
	cfg.env = &s->env;
	cfg.cmd = spec->has_command ? &s->cmd : s->restored ? &base_cmd : NULL;
	cfg.entrypoint = s->restored ? &restore_ep : spec->has_entrypoint ? &s->entrypoint : NULL;
	cfg.labels = &labels;
	cfg.ports = spec->ports;
	cfg.nports = spec->nports;
	cfg.tmpfs = &spec->tmpfs;
	cfg.network = ctx->network_id;
	cfg.alias = spec->name;
	cfg.binds = spec->binds;
	cfg.rt = spec->compose ? &spec->rt : NULL;
	/* a backend that cannot exec runs a Compose healthcheck itself */
	cfg.image_health = spec->wait.kind == ENVUP_WAIT_HEALTHCHECK;
	if (spec->wait.kind == ENVUP_WAIT_EXEC && !b->ops->exec) {
		cfg.healthcheck = &spec->wait.exec;
		cfg.healthcheck_timeout = spec->wait.exec_timeout;
	}
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
	if (s->restored) {
		if ((error = finish_restore(s)) < 0)
			goto done;
	} else if ((error = load_data(s)) < 0 || (error = make_template(s)) < 0) {
		goto done;
	}
	/* a container that answered and then died is not ready */
	if ((error = envup_up__alive(s)) < 0)
		goto done;
done:
	for (i = 0; mounts && i < cfg.nmounts; i++)
		envup__free(mounts[i].source);
	envup__free(mounts);
	envup_kvlist_dispose(&labels);
	envup_strlist_dispose(&restore_ep);
	envup_strlist_dispose(&base_ep);
	envup_strlist_dispose(&base_cmd);
	envup__free(snapshot_ref);
	return error;
}

/* A snapshot that does not restore is removed, and the service starts
 * cold: it never yields a wrong database. */
static int bring_up(envup_up_service *s)
{
	envup_up_ctx *ctx = s->ctx;
	envup_backend *b = ctx->backend;
	char why[512], msg[700];
	int error = bring_up_once(s);

	bool slow;

	if (error == 0 || !s->restored || atomic_load(&ctx->abort))
		return error;
	snprintf(why, sizeof(why), "%s", envup_error_last()->message);
	/* too slow on a busy machine is no proof the snapshot is bad: kept */
	slow = error == ENVUP_ETIMEOUT;
	if (s->id) {
		envup_resource r;
		memset(&r, 0, sizeof(r));
		r.kind = "container";
		r.id = s->id;
		r.name = s->container_name;
		if (b->ops->remove_resource(b, &r) < 0)
			return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
				"the snapshot did not restore (%s), and its container cannot be removed", why);
		envup__free(s->id);
		s->id = NULL;
	}
	if (envup_now() >= ctx->deadline)
		return envup_error_set(ENVUP_ETIMEOUT, ENVUP_ERROR_HEALTH, "from snapshot %.12s: %s",
			s->snapshot_key, why);
	if (!slow)
		envup_snapshot_remove_key(b, s->snapshot_key);
	snprintf(msg, sizeof(msg), "snapshot %.12s did not restore (%s): %s, starting cold",
		s->snapshot_key, why, slow ? "kept it" : "removed it");
	envup_up__emit(ctx, s->spec->name, ENVUP_STATE_NOTICE, msg);
	pthread_mutex_lock(&ctx->lock);
	s->container_started = false;
	pthread_mutex_unlock(&ctx->lock);
	envup_kvlist_dispose(&s->host_ports);
	envup__free(s->ip);
	envup__free(s->host);
	envup__free(s->node);
	s->ip = s->host = s->node = NULL;
	s->ip_state = IP_UNTRIED;
	s->restored = false;
	s->no_restore = true;
	s->wait_deadline = 0;
	return bring_up_once(s);
}

void envup_up__take_snapshots(envup_up_ctx *ctx)
{
	size_t i, j;
	int lock = -1;

	for (i = 0; i < ctx->nsvcs; i++) {
		envup_up_service *s = &ctx->svcs[i];
		envup_kvlist labels = ENVUP_KVLIST_INIT;
		envup_snapshot_job job;
		envup_pg_where w;

		if (!s->snapshot_key[0] || s->restored || !s->pg_template || !s->id)
			continue;
		/* one lock for every snapshot of this up: envdown waits for all */
		if (lock < 0 && envup_snapshot_lock(&lock, ctx->name) < 0)
			lock = -2;
		pg_where_of(&w, s);
		memset(&job, 0, sizeof(job));
		job.docker_host = ctx->opts->docker_host;
		job.container = s->id;
		job.key = s->snapshot_key;
		job.env_name = ctx->name;
		job.service = s->spec->name;
		job.env = &s->env;
		job.labels = &labels;
		job.password = w.password;
		job.password_var = s->spec->cred[ENVUP_CRED_PASSWORD].env;
		job.host = w.host;
		job.port = w.port;
		job.user = w.user;
		job.database = w.database;
		job.pool_size = envup_pgpool_size();
		job.lock_fd = lock;
		if (lock >= 0 && envup_up__labels(&labels, ctx, s->spec->name) == 0) {
			for (j = 0; j < s->spec->rt.labels.n; j++)
				if (envup_kvlist_set(&labels, s->spec->rt.labels.v[j].key, "") < 0)
					break;
			if (j == s->spec->rt.labels.n && envup_snapshot_spawn(&job) == 0) {
				envup_kvlist_dispose(&labels);
				continue;
			}
		}
		/* no snapshot this time: the pool still gets its filler */
		envup_kvlist_dispose(&labels);
		if (job.pool_size > 0)
			envup_up__spawn_filler(s);
	}
	if (lock >= 0)
		close(lock);  /* the helpers' copies keep it */
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

