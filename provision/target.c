/*
 * Commands about an environment that is (or was) up: down, env, status,
 * ls and logs. They find the environment by label on the engine, never by
 * a state file, so `envdown` works from any shell in the same directory.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "envup.h"
#include "compose/peek.h"
#include "compose/spec.h"
#include "provision/container.h"
#include "provision/env_internal.h"
#include "provision/network.h"
#include "provision/state.h"
#include "provision/owner.h"

int envup_target_name(char **out, const envup_target *target)
{
	char *spec_name = NULL, *dir = NULL;
	const char *path = target && target->spec_path ? target->spec_path : ENVUP_DEFAULT_SPEC;
	int error;

	ENVUP_ASSERT_ARG(out);
	*out = NULL;
	if (target && target->name) {
		error = envup_name_resolve(out, target->name, NULL, ".");
		goto done;
	}
	if ((error = envup_spec_peek_name(&spec_name, &dir, path)) < 0)
		goto done;
	error = envup_name_resolve(out, NULL, spec_name, dir);
done:
	if (error == ENVUP_ERROR && envup_error_last()->klass == ENVUP_ERROR_SPEC)
		error = ENVUP_ESPEC;
	envup__free(spec_name);
	envup__free(dir);
	return error;
}

#define TARGET_ENGINE_SECONDS 60.0

int envup_env__open_engine(envup_engine **e, const char *docker_host, double seconds)
{
	envup_engine_options eo = {0};
	eo.docker_host = docker_host;
	eo.deadline = envup_now() + seconds;
	envup__cjson_init();
	return envup_engine_open(e, &eo);
}

static int open_engine(envup_engine **e, const char *docker_host)
{
	return envup_env__open_engine(e, docker_host, TARGET_ENGINE_SECONDS);
}

int envup_env__labels(envup_strlist *labels, const char *name, const char *instance)
{
	char *env = envup__sprintf("%s=%s", ENVUP_LABEL_ENV, name);
	char *inst = instance ? envup__sprintf("%s=%s", ENVUP_LABEL_INSTANCE, instance) : NULL;
	int error = ENVUP_ERROR;
	if (env && (!instance || inst) &&
	    envup_strlist_push(labels, ENVUP_LABEL_MANAGED "=true") == 0 &&
	    envup_strlist_push(labels, env) == 0 && (!inst || envup_strlist_push(labels, inst) == 0))
		error = 0;
	envup__free(env);
	envup__free(inst);
	return error;
}

/*
 * After a failed removal, say what remains and the exact commands that
 * remove it, built from what failed (cleanup.c writes "container NAME
 * (ID): ...", "network NAME: ...", "volume NAME: ..."). When the listing
 * itself failed, we cannot know what remains: say how to find it.
 */
static void remove_advice(const envup_cleanup_report *report, const char *name)
{
	envup_buf msg = ENVUP_BUF_INIT, containers = ENVUP_BUF_INIT, others = ENVUP_BUF_INIT;
	size_t i;

	if (report->failed.n == 0) {
		if (envup_buf_printf(&msg, "%s; the environment may still have resources: remove "
		    "them with 'envdown -n %s', or 'docker rm -f $(docker ps -aq --filter label=%s=%s)' "
		    "and 'docker network rm envup-%s'", envup_error_last()->message, name,
		    ENVUP_LABEL_ENV, name, name) == 0)
			envup_error_set_str(ENVUP_ERROR_DOCKER, msg.ptr);
		goto done;
	}
	for (i = 0; i < report->failed.n; i++) {
		const char *f = report->failed.v[i], *open, *close, *colon;
		if (strncmp(f, "container ", 10) == 0 && (open = strchr(f, '(')) != NULL &&
		    (close = strchr(open, ')')) != NULL) {
			if (envup_buf_printf(&containers, " %.*s", (int)(close - open - 1), open + 1) < 0)
				goto done;
		} else if ((colon = strchr(f, ':')) != NULL) {
			const char *sp = strchr(f, ' ');
			if (sp && sp < colon && envup_buf_printf(&others, "; docker %.*s rm %.*s",
			    (int)(sp - f), f, (int)(colon - sp - 1), sp + 1) < 0)
				goto done;
		}
	}
	if (envup_buf_printf(&msg, "could not remove %zu resource%s: ", report->failed.n,
	    report->failed.n == 1 ? "" : "s") < 0)
		goto done;
	for (i = 0; i < report->failed.n; i++)
		if (envup_buf_printf(&msg, "%s%s", i ? "; " : "", report->failed.v[i]) < 0)
			goto done;
	if (envup_buf_printf(&msg, " (remove by hand: %s%s%s)",
	    containers.size ? "docker rm -f" : "", envup_buf_cstr(&containers),
	    containers.size ? envup_buf_cstr(&others) : (others.size ? others.ptr + 2 : "")) == 0)
		envup_error_set_str(ENVUP_ERROR_DOCKER, msg.ptr);
done:
	envup_buf_dispose(&msg);
	envup_buf_dispose(&containers);
	envup_buf_dispose(&others);
}

int envup_env__remove(envup_engine *e, const char *name, size_t *removed,
	envup_cleanup_cb cb, void *payload)
{
	envup_cleanup_report report = ENVUP_CLEANUP_REPORT_INIT;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	int error, pass;

	if ((error = envup_env__labels(&labels, name, NULL)) < 0)
		goto done;
	/* A second pass catches a container whose create was still in flight
	 * in the engine when the first listing ran (a cancelled request). */
	for (pass = 0; pass < 2; pass++) {
		size_t before = report.containers + report.networks + report.volumes;
		if ((error = envup_cleanup_by_labels(&report, e, &labels, cb, payload)) < 0)
			break;
		if (pass == 0 && report.containers + report.networks + report.volumes == before)
			break;
	}
	if (error < 0 && error != ENVUP_ECANCELLED)
		remove_advice(&report, name);
	if (error == 0)
		error = envup_state_remove(name);
	if (removed)
		*removed = report.containers + report.networks + report.volumes;
done:
	envup_cleanup_report_dispose(&report);
	envup_strlist_dispose(&labels);
	return error;
}

typedef struct {
	const envup_target *target;
	double start;
} down_progress;

static void down_cb(const char *kind, const char *name, void *payload)
{
	down_progress *p = payload;
	char *detail;
	if (!p->target->progress)
		return;
	detail = envup__sprintf("%s %s", kind, name);
	p->target->progress(NULL, ENVUP_STATE_REMOVED, detail ? detail : kind,
		envup_now() - p->start, p->target->progress_payload);
	envup__free(detail);
}

int envup_down(size_t *removed, const envup_target *target)
{
	envup_target defaults = ENVUP_TARGET_INIT;
	envup_engine *e = NULL;
	char *name = NULL;
	down_progress p;
	int error;

	if (removed)
		*removed = 0;
	if (!target)
		target = &defaults;
	p.target = target;
	p.start = envup_now();
	if ((error = envup_target_name(&name, target)) < 0)
		goto done;
	if ((error = open_engine(&e, target->docker_host)) < 0)
		goto done;
	if (target->progress)
		target->progress(NULL, ENVUP_STATE_REMOVING, name, 0, target->progress_payload);
	error = envup_env__remove(e, name, removed, down_cb, &p);
done:
	envup_engine_free(e);
	envup__free(name);
	return error;
}

static int list_env(envup_container_summary **list, size_t *n, envup_engine *e, const char *name)
{
	envup_strlist labels = ENVUP_STRLIST_INIT;
	int error;
	if ((error = envup_env__labels(&labels, name, NULL)) == 0)
		error = envup_container_list(list, n, e, &labels);
	envup_strlist_dispose(&labels);
	return error;
}

void envup_env__forget_if_gone(envup_engine *e, const char *name)
{
	envup_container_summary *list = NULL;
	size_t n = 1;
	if (list_env(&list, &n, e, name) == 0 && n == 0)
		envup_state_remove(name);
	envup_container_summaries_free(list, n);
}

/* Resolve the target's name, open the engine and list the environment's
 * containers: the first steps of env, status and logs. */
static int open_target(char **name, envup_engine **e, envup_container_summary **list,
	size_t *n, const envup_target *target)
{
	int error;
	if ((error = envup_target_name(name, target)) < 0 ||
	    (error = open_engine(e, target->docker_host)) < 0)
		return error;
	return list_env(list, n, *e, *name);
}

int envup_env_open(envup_env **out, const envup_target *target)
{
	envup_target defaults = ENVUP_TARGET_INIT;
	envup_engine *e = NULL;
	envup_container_summary *list = NULL;
	envup_kvlist exports = ENVUP_KVLIST_INIT;
	size_t n = 0;
	char *name = NULL;
	int error;

	ENVUP_ASSERT_ARG(out);
	*out = NULL;
	if (!target)
		target = &defaults;
	if ((error = open_target(&name, &e, &list, &n, target)) < 0)
		goto done;
	if (n == 0) {
		error = envup_error_set(ENVUP_ERROR_DOCKER, "environment '%s' is not up", name);
		error = ENVUP_ENOTFOUND;
		goto done;
	}
	if ((error = envup_state_load(&exports, NULL, name)) < 0) {
		if (error == ENVUP_ENOTFOUND)
			envup_error_set(ENVUP_ERROR_DOCKER,
				"environment '%s' is up, but its exports were saved by another user or machine",
				name);
		goto done;
	}
	error = envup_env__new(out, name, &exports);
done:
	envup_container_summaries_free(list, n);
	envup_kvlist_dispose(&exports);
	envup_engine_free(e);
	envup__free(name);
	return error;
}

/* "127.0.0.1:49153->5432/tcp, ..." from the summary's port map */
static char *ports_text(const envup_kvlist *ports)
{
	envup_buf b = ENVUP_BUF_INIT;
	size_t i;
	for (i = 0; i < ports->n; i++)
		if (envup_buf_printf(&b, "%s%s->%s", i ? ", " : "", ports->v[i].value, ports->v[i].key) < 0) {
			envup_buf_dispose(&b);
			return NULL;
		}
	return envup_buf_detach(&b);
}

int envup_status(envup_service_status **out, size_t *count, const envup_target *target)
{
	envup_target defaults = ENVUP_TARGET_INIT;
	envup_engine *e = NULL;
	envup_container_summary *list = NULL;
	envup_service_status *st = NULL;
	size_t n = 0, i;
	char *name = NULL;
	int error;

	ENVUP_ASSERT_ARG(out && count);
	*out = NULL;
	*count = 0;
	if (!target)
		target = &defaults;
	if ((error = open_target(&name, &e, &list, &n, target)) < 0)
		goto done;
	if ((st = envup__calloc(n ? n : 1, sizeof(*st))) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	for (i = 0; i < n; i++) {
		const char *svc = envup_kvlist_get(&list[i].labels, ENVUP_LABEL_SERVICE);
		st[i].service = envup__strdup(svc ? svc : "?");
		st[i].container = envup__strdup(list[i].name ? list[i].name : "");
		st[i].image = envup__strdup(list[i].image ? list[i].image : "");
		st[i].state = envup__strdup(list[i].state ? list[i].state : "");
		st[i].status = envup__strdup(list[i].status ? list[i].status : "");
		st[i].ports = ports_text(&list[i].ports);
		st[i].created = list[i].created;
		if (!st[i].service || !st[i].container || !st[i].image || !st[i].state ||
		    !st[i].status || !st[i].ports) {
			envup_status_free(st, n);
			st = NULL;
			error = ENVUP_ERROR;
			goto done;
		}
	}
	*out = st;
	*count = n;
done:
	envup_container_summaries_free(list, n);
	envup_engine_free(e);
	envup__free(name);
	return error;
}

void envup_status_free(envup_service_status *s, size_t count)
{
	size_t i;
	if (!s)
		return;
	for (i = 0; i < count; i++) {
		envup__free(s[i].service);
		envup__free(s[i].container);
		envup__free(s[i].image);
		envup__free(s[i].state);
		envup__free(s[i].status);
		envup__free(s[i].ports);
	}
	envup__free(s);
}

int envup_list(envup_env_summary **out, size_t *count, const char *docker_host)
{
	envup_engine *e = NULL;
	envup_container_summary *list = NULL;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	envup_env_summary *envs = NULL;
	size_t n = 0, nenvs = 0, i, j;
	int error;

	ENVUP_ASSERT_ARG(out && count);
	*out = NULL;
	*count = 0;
	if ((error = open_engine(&e, docker_host)) < 0)
		goto done;
	if ((error = envup_strlist_push(&labels, ENVUP_LABEL_MANAGED "=true")) < 0 ||
	    (error = envup_container_list(&list, &n, e, &labels)) < 0)
		goto done;
	if ((envs = envup__calloc(n ? n : 1, sizeof(*envs))) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	for (i = 0; i < n; i++) {
		const char *env = envup_kvlist_get(&list[i].labels, ENVUP_LABEL_ENV);
		if (!env)
			continue;
		for (j = 0; j < nenvs; j++)
			if (strcmp(envs[j].name, env) == 0)
				break;
		if (j == nenvs) {
			if ((envs[j].name = envup__strdup(env)) == NULL) {
				error = ENVUP_ERROR;
				goto done;
			}
			envs[j].created = list[i].created;
			nenvs++;
		}
		envs[j].containers++;
		if (list[i].state && strcmp(list[i].state, "running") == 0)
			envs[j].running++;
		if (list[i].created < envs[j].created)
			envs[j].created = list[i].created;
	}
	*out = envs;
	*count = nenvs;
	envs = NULL;
done:
	envup_list_free(envs, nenvs);
	envup_container_summaries_free(list, n);
	envup_strlist_dispose(&labels);
	envup_engine_free(e);
	return error;
}

void envup_list_free(envup_env_summary *s, size_t count)
{
	size_t i;
	if (!s)
		return;
	for (i = 0; i < count; i++)
		envup__free(s[i].name);
	envup__free(s);
}

typedef struct {
	envup_log_write_cb cb;
	void *payload;
} log_forward;

static int forward_log(const char *data, size_t len, void *payload)
{
	log_forward *f = payload;
	return f->cb(data, len, f->payload) ? 1 : 0;
}

int envup_logs(const envup_target *target, const char *service, int tail, int follow,
	envup_log_write_cb cb, void *payload)
{
	envup_target defaults = ENVUP_TARGET_INIT;
	envup_engine *e = NULL;
	envup_container_summary *list = NULL;
	envup_buf logs = ENVUP_BUF_INIT;
	size_t n = 0, i;
	char *name = NULL;
	const char *id = NULL;
	int error;

	ENVUP_ASSERT_ARG(service && cb);
	if (!target)
		target = &defaults;
	if ((error = open_target(&name, &e, &list, &n, target)) < 0)
		goto done;
	if (follow)
		envup_engine_set_deadline(e, 0);
	for (i = 0; i < n; i++) {
		const char *svc = envup_kvlist_get(&list[i].labels, ENVUP_LABEL_SERVICE);
		if (svc && strcmp(svc, service) == 0)
			id = list[i].id;
	}
	if (!id) {
		if (n == 0)
			envup_error_set(ENVUP_ERROR_DOCKER, "environment '%s' is not up", name);
		else
			envup_error_set(ENVUP_ERROR_DOCKER, "environment '%s' has no service '%s'",
				name, service);
		error = ENVUP_ENOTFOUND;
		goto done;
	}
	if (follow) {
		log_forward f = {cb, payload};
		(void)tail;
		error = envup_container_logs_follow(e, id, forward_log, &f);
		goto done;
	}
	if ((error = envup_container_logs(&logs, e, id, tail)) < 0)
		goto done;
	if (logs.size)
		cb(logs.ptr, logs.size, payload);
done:
	envup_buf_dispose(&logs);
	envup_container_summaries_free(list, n);
	envup_engine_free(e);
	envup__free(name);
	return error;
}
