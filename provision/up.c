/*
 * envup_up(): bring a whole environment up (the parts are listed in up.h).
 *
 * The plan is made first, in the calling thread: load and validate the
 * spec, resolve the name and credentials, check the state directory and
 * that the name is free, start the watchdog, and claim the name by
 * creating the environment's network. Then one thread per service
 * (service.c), so that independent services start concurrently and a
 * service starts the moment its dependencies are ready. The first failure
 * raises `abort`, which stops every other thread at its next engine
 * request or probe; the calling thread then joins them all and removes
 * what this instance created (only after the joins, so that nothing is
 * being created while we list what to remove).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "provision/up.h"
#include "provision/snapshot.h"
#include "provision/down.h"
#include "provision/owner.h"
#include "provision/state.h"
#include "provision/target.h"

#define CLEANUP_TIMEOUT 60.0

const char *envup_state_name(envup_state state)
{
	static const char *names[] = {"pulling", "creating", "starting", "waiting",
		"initializing", "ready", "failed", "removing", "removed", "notice"};
	if ((size_t)state < ENVUP_ARRAY_SIZE(names))
		return names[state];
	return "unknown";
}

void envup_up__emit(envup_up_ctx *ctx, const char *service, envup_state state, const char *detail)
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

double envup_up__timeout(const envup_up_ctx *ctx)
{
	return ctx->opts->timeout > 0 ? ctx->opts->timeout : ENVUP_UP_DEFAULT_TIMEOUT;
}

static void cleanup_progress(const char *kind, const char *name, void *payload)
{
	envup_up_ctx *ctx = payload;
	char *detail = envup__sprintf("%s %s", kind, name);
	envup_up__emit(ctx, NULL, ENVUP_STATE_REMOVED, detail ? detail : kind);
	envup__free(detail);
}

/* Cleanup after a failure gets as long as the up had, within [10, 60] s:
 * enough to remove containers from a slow engine, and --timeout 5 does not
 * turn into a minute when the engine hangs. */
static double cleanup_seconds(const envup_up_ctx *ctx)
{
	double t = envup_up__timeout(ctx);
	if (t < 10)
		t = 10;
	if (t > CLEANUP_TIMEOUT)
		t = CLEANUP_TIMEOUT;
	return t;
}

/* Remove everything labelled with this environment, with a fresh engine
 * handle: the main one is cancelled by now. */
static int teardown(envup_up_ctx *ctx)
{
	envup_backend *b = NULL;
	int error;

	envup_up__emit(ctx, NULL, ENVUP_STATE_REMOVING, ctx->name);
	if ((error = envup_backend_open_for(&b, ctx->opts->docker_host, cleanup_seconds(ctx))) < 0)
		return error;
	/* only what this up created: a failed up must never remove another
	 * instance's environment of the same name */
	error = envup_down__remove(b, ctx->name, ctx->id.instance, NULL, cleanup_progress, ctx);
	envup_backend_free(b);
	return error;
}

/* Teardown after an error that must stay the reported one. */
static void teardown_keep_error(envup_up_ctx *ctx)
{
	char *saved = envup__strdup(envup_error_last()->message);
	int klass = envup_error_last()->klass;
	teardown(ctx);
	if (saved)
		envup_error_set_str(ENVUP_ERROR, klass, saved);
	envup__free(saved);
}

static bool all_done(const envup_up_ctx *ctx)
{
	size_t i;
	for (i = 0; i < ctx->nsvcs; i++)
		if (ctx->svcs[i].phase == SVC_PENDING || ctx->svcs[i].phase == SVC_RUNNING)
			return false;
	return true;
}

static void raise_abort(envup_up_ctx *ctx, int code, const char *message)
{
	if (!ctx->failed) {
		ctx->failed = true;
		ctx->fail_code = code;
		ctx->fail_class = code == ENVUP_ECANCELLED ? ENVUP_ERROR_CANCELLED : ENVUP_ERROR_HEALTH;
		ctx->fail_message = envup__strdup(message);
	}
	atomic_store(&ctx->abort, 1);
	pthread_cond_broadcast(&ctx->cond);
}

/* Wait for the service threads, watching the caller's cancel flag and
 * the deadline (a backstop: probes and requests have their own). */
static void supervise(envup_up_ctx *ctx)
{
	const volatile int *cancel = ctx->opts->cancel;

	pthread_mutex_lock(&ctx->lock);
	while (!all_done(ctx)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 20 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ctx->cond, &ctx->lock, &ts);
		if (cancel && *cancel && !atomic_load(&ctx->abort))
			raise_abort(ctx, ENVUP_ECANCELLED, "interrupted");
		if (!atomic_load(&ctx->abort) && envup_now() > ctx->deadline + 2.0) {
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

static int check_name_free(envup_up_ctx *ctx)
{
	envup_container_summary *list = NULL;
	size_t n = 0;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	int error;

	if ((error = envup_identity_filter(&labels, ctx->name, NULL)) < 0 ||
	    (error = ctx->backend->ops->list(&list, &n, ctx->backend, &labels)) < 0)
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
static int create_network(envup_up_ctx *ctx)
{
	envup_kvlist labels = ENVUP_KVLIST_INIT;
	char *id = NULL;
	int error;

	if ((ctx->network = envup__sprintf("envup-%s", ctx->name)) == NULL)
		return ENVUP_ERROR;
	if ((error = envup_up__labels(&labels, ctx, NULL)) == 0)
		error = ctx->backend->ops->claim_network(&id, ctx->backend, ctx->network, &ctx->id,
			&labels);
	ctx->network_id = id;
	envup_kvlist_dispose(&labels);
	return error;
}

/* A Compose file's named volumes: envup-NAME-VOLUME, labelled like the
 * rest, so that envdown, gc and the watchdog remove them. */
static int create_volumes(envup_up_ctx *ctx)
{
	envup_kvlist labels = ENVUP_KVLIST_INIT;
	size_t i;
	int error = 0;

	if (!ctx->backend->ops->create_volume)
		return 0;  /* a volume is its container's own (shared_volume_check) */
	if (ctx->spec->volumes.n && (error = envup_up__labels(&labels, ctx, NULL)) < 0)
		return error;
	for (i = 0; i < ctx->spec->volumes.n && error == 0; i++) {
		char *name = envup__sprintf("envup-%s-%s", ctx->name, ctx->spec->volumes.v[i]);
		error = name ? ctx->backend->ops->create_volume(ctx->backend, name, &labels) : ENVUP_ERROR;
		envup__free(name);
	}
	envup_kvlist_dispose(&labels);
	return error;
}

/* A backend whose volumes are each container's own (a swarm: the node of
 * the task makes it) cannot give two services one volume: refused before
 * anything is made. */
static int shared_volume_check(envup_up_ctx *ctx)
{
	size_t v, i, j;

	if (ctx->backend->ops->create_volume)
		return 0;
	for (v = 0; v < ctx->spec->volumes.n; v++) {
		const char *vol = ctx->spec->volumes.v[v], *first = NULL;
		for (i = 0; i < ctx->spec->nservices; i++) {
			const envup_service *sv = &ctx->spec->services[i];
			for (j = 0; j < sv->nmounts; j++) {
				if (sv->mounts[j].kind != ENVUP_MOUNT_VOLUME || !sv->mounts[j].source ||
				    strcmp(sv->mounts[j].source, vol) != 0)
					continue;
				if (first && strcmp(first, sv->name) != 0)
					return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
						"%s: volume '%s' is used by services %s and %s; on the %s backend "
						"a volume is one task's own (they may run on different nodes)",
						ctx->spec->path, vol, first, sv->name, ctx->backend->ops->name);
				first = sv->name;
			}
		}
	}
	return 0;
}

int envup_up_options_init(envup_up_options *opts, int version)
{
	ENVUP_ASSERT_ARG(opts);
	memset(opts, 0, sizeof(*opts));
	opts->version = version;
	if (version != ENVUP_UP_OPTIONS_VERSION)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"envup_up_options version %d: this libenvup (%s) takes version %d; rebuild "
			"against its headers", version, ENVUP_VERSION_STRING, ENVUP_UP_OPTIONS_VERSION);
	return 0;
}

/* Numbers from a command line or a caller: NaN compares false with
 * everything, and a huge TTL would overflow the expiry label. */
static int check_options(const envup_up_options *opts)
{
	if (opts->version != ENVUP_UP_OPTIONS_VERSION)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"envup_up_options version %d: this libenvup (%s) takes version %d; rebuild "
			"against its headers", opts->version, ENVUP_VERSION_STRING,
			ENVUP_UP_OPTIONS_VERSION);
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

static int ctx_init(envup_up_ctx *ctx, const envup_up_options *opts)
{
	pthread_condattr_t attr;

	memset(ctx, 0, sizeof(*ctx));
	ctx->watchdog.fd = -1;
	ctx->opts = opts;
	atomic_init(&ctx->abort, 0);
	ctx->start = envup_now();
	ctx->deadline = ctx->start + envup_up__timeout(ctx);
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_mutex_init(&ctx->progress_lock, NULL);
	/* timed waits on the monotonic clock: a wall clock set back (NTP, a
	 * suspended laptop) must not stretch them */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&ctx->cond, &attr);
	pthread_condattr_destroy(&attr);
	return 0;
}

static void ctx_dispose(envup_up_ctx *ctx)
{
	size_t i;
	/* a watchdog not told otherwise by now: up failed and cleaned up */
	envup_watchdog_release(&ctx->watchdog, ENVUP_WATCHDOG_FAILED);
	for (i = 0; i < ctx->nsvcs; i++)
		envup_up__service_dispose(&ctx->svcs[i]);
	envup__free(ctx->svcs);
	envup_spec_free(ctx->spec);
	envup_backend_free(ctx->backend);
	envup__free(ctx->name);
	envup__free(ctx->network);
	envup__free(ctx->network_id);
	envup__free(ctx->fail_message);
	envup_strlist_dispose(&ctx->secrets);
	pthread_mutex_destroy(&ctx->lock);
	pthread_mutex_destroy(&ctx->progress_lock);
	pthread_cond_destroy(&ctx->cond);
}

int envup_up(envup_env **out, const envup_up_options *opts)
{
	envup_up_options defaults = ENVUP_UP_OPTIONS_INIT;
	envup_up_ctx ctx;
	envup_backend_options bo = {0};
	envup_secrets *prev_mask = NULL;
	envup_env *env = NULL;
	size_t i, started = 0;
	int error;

	ENVUP_ASSERT_ARG(out);
	*out = NULL;
	if (!opts)
		opts = &defaults;
	ctx_init(&ctx, opts);
	if ((error = envup_secrets_new(&ctx.mask)) < 0)
		goto done;
	prev_mask = envup_secrets_use(ctx.mask);

	/* 1. the plan: nothing touches the engine until the spec is valid */
	if ((error = check_options(opts)) < 0)
		goto done;
	{
		envup_spec_select sel;
		memset(&sel, 0, sizeof(sel));
		sel.services = opts->services;
		sel.nservices = opts->nservices;
		sel.profiles = opts->profiles;
		sel.nprofiles = opts->nprofiles;
		sel.env_file = opts->env_file;
		if (opts->spec_text)
			error = envup_spec_load_buffer_sel(&ctx.spec, opts->spec_path ? opts->spec_path :
				"spec", opts->spec_dir ? opts->spec_dir : ".", opts->spec_text,
				strlen(opts->spec_text), NULL, NULL, &sel);
		else
			error = envup_spec__read_sel(&ctx.spec, opts->spec_path, &sel);
	}
	if (error < 0)
		goto done;
	for (i = 0; i < ctx.spec->notices.n; i++)
		envup_up__emit(&ctx, NULL, ENVUP_STATE_NOTICE, ctx.spec->notices.v[i]);
	if ((error = envup_name_resolve(&ctx.name, opts->name, ctx.spec->name, ctx.spec->dir)) < 0)
		goto done;
	ctx.nsvcs = ctx.spec->nservices;
	if ((ctx.svcs = envup__calloc(ctx.nsvcs ? ctx.nsvcs : 1, sizeof(envup_up_service))) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	for (i = 0; i < ctx.nsvcs; i++)
		if ((error = envup_up__plan_service(&ctx.svcs[i], &ctx, &ctx.spec->services[i])) < 0)
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

	/* 2. the engine: the options' backend, $ENVUP_BACKEND, the spec's */
	bo.kind = opts->backend && *opts->backend ? opts->backend :
		getenv("ENVUP_BACKEND") && *getenv("ENVUP_BACKEND") ? getenv("ENVUP_BACKEND") :
		ctx.spec->backend;
	if (bo.kind && !envup_backend_known(bo.kind)) {
		error = envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "unknown backend '%s'%s: docker or swarm",
			bo.kind, opts->backend && *opts->backend ? "" : " (ENVUP_BACKEND)");
		goto done;
	}
	bo.docker_host = opts->docker_host;
	bo.cancel = &ctx.abort;
	bo.deadline = ctx.deadline;
	if ((error = envup_backend_open(&ctx.backend, &bo)) < 0)
		goto done;
	ctx.snapshots = envup_snapshot_wanted(opts->no_snapshot != 0, ctx.backend);
	if ((error = check_name_free(&ctx)) < 0)
		goto done;
	if ((error = envup_up__plan_ownership(&ctx)) < 0)
		goto done;
	if ((error = shared_volume_check(&ctx)) < 0 ||
	    (ctx.backend->ops->check_spec && (error = ctx.backend->ops->check_spec(ctx.backend, ctx.spec)) < 0))
		goto done;
	if ((error = create_network(&ctx)) < 0 || (error = create_volumes(&ctx)) < 0) {
		teardown_keep_error(&ctx);
		goto done;
	}

	/* 3. one thread per service */
	for (i = 0; i < ctx.nsvcs; i++) {
		envup_up_service *s = &ctx.svcs[ctx.spec->order[i]];
		if (pthread_create(&s->thread, NULL, envup_up__service_main, s) != 0) {
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
		envup_up_service *s = &ctx.svcs[i];
		char why[512];
		/* a one-shot service is done when it exited 0 */
		if (s->phase != SVC_READY || s->spec->wait.kind == ENVUP_WAIT_EXIT ||
		    (error = envup_up__alive_why(s, why, sizeof(why))) == 0)
			continue;
		if (error == ENVUP_EUNHEALTHY)
			envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH, "%s after it was ready", why);
		envup_up__record_failure(s, error);
	}
	if (!ctx.failed && (error = envup_up__build_env(&env, &ctx)) < 0) {
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
	if (!ctx.failed && (error = envup_state_save(ctx.name, opts->docker_host, env)) < 0) {
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
	/* after the exports are made, never before: a snapshot costs this up
	 * nothing but a fork */
	envup_up__take_snapshots(&ctx);
	*out = env;
	error = 0;
done:
	ctx_dispose(&ctx);
	/* the error was masked when it was set; this up's secrets go now */
	if (ctx.mask)
		envup_secrets_use(prev_mask);
	envup_secrets_free(ctx.mask);
	return error;
}

