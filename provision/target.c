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
#include "provision/identity.h"

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

/*
 * After a failed removal, say what remains and the exact commands that
 * remove it, by id (several networks may share a name). When the listing
 * itself failed, we cannot know what remains: say how to find it.
 */
static int advice_cmd(envup_buf *b, const char *cmd, const envup_strlist *what, bool ids)
{
	size_t i;
	if (what->n == 0)
		return 0;
	if (envup_buf_printf(b, "%s%s", b->size ? "; " : "", cmd) < 0)
		return ENVUP_ERROR;
	for (i = 0; i < what->n; i++)
		if (envup_buf_printf(b, " %.*s", ids ? 12 : 255, what->v[i]) < 0)
			return ENVUP_ERROR;
	return 0;
}

static void remove_advice(const envup_cleanup_report *report, const char *name)
{
	envup_buf msg = ENVUP_BUF_INIT, cmds = ENVUP_BUF_INIT;
	size_t i;

	if (report->failed.n == 0) {
		if (envup_buf_printf(&msg, "%s; the environment may still have resources: remove "
		    "them with 'envdown -n %s', or 'docker rm -f $(docker ps -aq --filter label=%s=%s)' "
		    "and 'docker network rm $(docker network ls -q --filter label=%s=%s)'",
		    envup_error_last()->message, name, ENVUP_LABEL_ENV, name, ENVUP_LABEL_ENV, name) == 0)
			envup_error_set_str(ENVUP_ERROR, ENVUP_ERROR_DOCKER, msg.ptr);
		goto done;
	}
	if (advice_cmd(&cmds, "docker rm -f", &report->left_containers, true) < 0 ||
	    advice_cmd(&cmds, "docker network rm", &report->left_networks, true) < 0 ||
	    advice_cmd(&cmds, "docker volume rm", &report->left_volumes, false) < 0)
		goto done;
	if (envup_buf_printf(&msg, "could not remove %zu resource%s: ", report->failed.n,
	    report->failed.n == 1 ? "" : "s") < 0)
		goto done;
	for (i = 0; i < report->failed.n; i++)
		if (envup_buf_printf(&msg, "%s%s", i ? "; " : "", report->failed.v[i]) < 0)
			goto done;
	if (envup_buf_printf(&msg, " (remove by hand: %s)", envup_buf_cstr(&cmds)) == 0)
		envup_error_set_str(ENVUP_ERROR, ENVUP_ERROR_DOCKER, msg.ptr);
done:
	envup_buf_dispose(&msg);
	envup_buf_dispose(&cmds);
}

int envup_env__remove(envup_engine *e, const char *name, const char *instance,
	size_t *removed, envup_cleanup_cb cb, void *payload)
{
	envup_cleanup_report report = ENVUP_CLEANUP_REPORT_INIT;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	int error, pass;

	if ((error = envup_identity_filter(&labels, name, instance)) < 0)
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
	/* the saved exports belong to the whole name: only a removal of the
	 * whole name forgets them (a failed `up` removes its instance only) */
	if (error == 0 && !instance)
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

/*
 * May the caller take environment `name` down? Every instance of the name
 * must be without owner (--keep), its owner gone or elsewhere, or the
 * caller's own (owner.h): otherwise a job that lost the race for a name
 * (claim.h), or a second terminal, would take down an environment a live
 * process is using. `instances` receives the instances found, for the
 * removal record.
 */
static int check_owner(envup_engine *e, const char *name, bool force, envup_buf *instances)
{
	envup_container_summary *cs = NULL;
	envup_network_info *ns = NULL;
	envup_strlist filter = ENVUP_STRLIST_INIT;
	size_t nc = 0, nn = 0, i;
	int error;

	if ((error = envup_identity_filter(&filter, name, NULL)) < 0 ||
	    (error = envup_container_list(&cs, &nc, e, &filter)) < 0 ||
	    (error = envup_network_find(&ns, &nn, e, NULL, &filter)) < 0)
		goto done;
	for (i = 0; i < nc + nn; i++) {
		const envup_kvlist *labels = i < nc ? &cs[i].labels : &ns[i - nc].labels;
		envup_identity id;
		char owner[128];
		envup_identity_read(&id, labels);
		if (id.instance[0] && !strstr(envup_buf_cstr(instances), id.instance) &&
		    (error = envup_buf_printf(instances, "%s%s", instances->size ? " " : "",
		    id.instance)) < 0)
			goto done;
		if (force || !id.has_owner || envup_owner_check(&id.owner) != ENVUP_OWNER_ALIVE ||
		    envup_owner_is_callers(&id.owner))
			continue;
		envup_identity_owner_text(owner, sizeof(owner), &id);
		error = envup_error_set(ENVUP_ENOTOWNER, ENVUP_ERROR_DOCKER,
			"environment '%s' belongs to %s, which is still running, not to this "
			"process or its session; it goes when that ends, or take it down anyway with: "
			"envdown --force -n %s", name, owner, name);
		goto done;
	}
done:
	envup_container_summaries_free(cs, nc);
	envup_network_infos_free(ns, nn);
	envup_strlist_dispose(&filter);
	return error;
}

int envup_down(size_t *removed, const envup_target *target)
{
	envup_target defaults = ENVUP_TARGET_INIT;
	envup_engine *e = NULL;
	envup_buf instances = ENVUP_BUF_INIT;
	char *name = NULL;
	down_progress p;
	size_t n = 0;
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
	if ((error = check_owner(e, name, target->force != 0, &instances)) < 0)
		goto done;
	if (target->progress)
		target->progress(NULL, ENVUP_STATE_REMOVING, name, 0, target->progress_payload);
	error = envup_env__remove(e, name, NULL, &n, down_cb, &p);
	if (removed)
		*removed = n;
	if (error == 0 && n > 0)
		envup_state_record_removal(name, envup_buf_cstr(&instances), "envdown",
			"it was taken down");
done:
	envup_buf_dispose(&instances);
	envup_engine_free(e);
	envup__free(name);
	return error;
}

int envup_env_down(size_t *removed, const envup_env *env, envup_progress_cb progress,
	void *payload)
{
	envup_target target = ENVUP_TARGET_INIT;
	envup_engine *e = NULL;
	down_progress p;
	size_t n = 0;
	int error;

	ENVUP_ASSERT_ARG(env);
	if (removed)
		*removed = 0;
	target.progress = progress;
	target.progress_payload = payload;
	p.target = &target;
	p.start = envup_now();
	if ((error = open_engine(&e, env->docker_host)) < 0)
		goto done;
	if (progress)
		progress(NULL, ENVUP_STATE_REMOVING, env->name, 0, payload);
	/* this handle's own `up` only, and its saved exports when no other
	 * instance of the name is left */
	error = envup_env__remove(e, env->name, env->instance[0] ? env->instance : NULL, &n,
		down_cb, &p);
	if (error == 0 && env->instance[0])
		envup_env__forget_if_gone(e, env->name);
	if (removed)
		*removed = n;
	if (error == 0 && n > 0)
		envup_state_record_removal(env->name, env->instance, "envdown", "it was taken down");
done:
	envup_engine_free(e);
	return error;
}

static int list_env(envup_container_summary **list, size_t *n, envup_engine *e, const char *name)
{
	envup_strlist labels = ENVUP_STRLIST_INIT;
	int error;
	if ((error = envup_identity_filter(&labels, name, NULL)) == 0)
		error = envup_container_list(list, n, e, &labels);
	envup_strlist_dispose(&labels);
	return error;
}

int envup_env__forget_if_gone(envup_engine *e, const char *name)
{
	envup_container_summary *list = NULL;
	size_t n = 1;
	int gone = 0;
	if (list_env(&list, &n, e, name) == 0 && n == 0) {
		envup_state_remove(name);
		gone = 1;
	}
	envup_container_summaries_free(list, n);
	return gone;
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

/* "environment 'x' is not up", with when and why it was removed if envup
 * removed it, as the error; returns ENVUP_ENOTFOUND. */
int envup_env__not_up(const char *name)
{
	envup_removal r;
	char text[512];
	if (envup_state_removal(&r, name) == 0) {
		envup_state_removal_text(text, sizeof(text), &r);
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "environment '%s' is not up: %s", name, text);
	} else {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "environment '%s' is not up", name);
	}
	return ENVUP_ENOTFOUND;
}

int envup_env_removed(envup_removal *out, const envup_target *target)
{
	char *name = NULL;
	int error;

	ENVUP_ASSERT_ARG(out);
	memset(out, 0, sizeof(*out));
	if ((error = envup_target_name(&name, target)) == 0)
		error = envup_state_removal(out, name);
	envup__free(name);
	return error;
}

int envup_env_open(envup_env **out, const envup_target *target)
{
	envup_target defaults = ENVUP_TARGET_INIT;
	envup_engine *e = NULL;
	envup_container_summary *list = NULL;
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
		error = envup_env__not_up(name);
		goto done;
	}
	if ((error = envup_state_load(out, NULL, name)) < 0) {
		if (error == ENVUP_ENOTFOUND)
			envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
				"environment '%s' is up, but its exports were saved by another user or machine",
				name);
		goto done;
	}
done:
	envup_container_summaries_free(list, n);
	envup_engine_free(e);
	envup__free(name);
	return error;
}

/* "127.0.0.1:49153->5432/tcp, ..." from the summary's port map, and the
 * same parsed; both made printable (the engine's text is input). */
static int ports_of(envup_service_status *st, const envup_kvlist *ports)
{
	envup_buf b = ENVUP_BUF_INIT;
	size_t i;

	if ((st->port_list = envup__calloc(ports->n ? ports->n : 1, sizeof(envup_port))) == NULL)
		return ENVUP_ERROR;
	for (i = 0; i < ports->n; i++) {
		envup_port *p = &st->port_list[st->nports];
		const char *key = ports->v[i].key, *val = ports->v[i].value;
		const char *slash = strchr(key, '/'), *colon = strrchr(val, ':');
		char text[256];
		snprintf(text, sizeof(text), "%s->%s", val, key);
		envup_printable_into(text, sizeof(text), text);
		if (envup_buf_printf(&b, "%s%s", i ? ", " : "", text) < 0) {
			envup_buf_dispose(&b);
			return ENVUP_ERROR;
		}
		p->container_port = (int)strtol(key, NULL, 10);
		envup_printable_into(p->protocol, sizeof(p->protocol), slash ? slash + 1 : "tcp");
		if (colon) {
			char ip[64];
			snprintf(ip, sizeof(ip), "%.*s", (int)(colon - val), val);
			envup_printable_into(p->host_ip, sizeof(p->host_ip), ip);
			p->host_port = (int)strtol(colon + 1, NULL, 10);
		}
		if (p->container_port > 0 && p->host_port > 0)
			st->nports++;
	}
	if ((st->ports = envup_buf_detach(&b)) == NULL && (st->ports = envup__strdup("")) == NULL)
		return ENVUP_ERROR;
	return 0;
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
		envup_identity id;
		envup_identity_read(&id, &list[i].labels);
		st[i].service = envup__strdup(id.service[0] ? id.service : "?");
		st[i].container = envup_printable(list[i].name ? list[i].name : "");
		st[i].image = envup_printable(list[i].image ? list[i].image : "");
		st[i].state = envup_printable(list[i].state ? list[i].state : "");
		st[i].status = envup_printable(list[i].status ? list[i].status : "");
		st[i].created = list[i].created;
		if (!st[i].service || !st[i].container || !st[i].image || !st[i].state ||
		    !st[i].status || ports_of(&st[i], &list[i].ports) < 0) {
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
		envup__free(s[i].port_list);
	}
	envup__free(s);
}

/* Fill the owner and expiry of a summary from a resource's identity. */
static int summary_identity(envup_env_summary *s, const envup_identity *id)
{
	char owner[128];

	s->expires = id->expires;
	s->owner_alive = -1;
	if (!id->has_owner)
		return 0;
	envup_identity_owner_text(owner, sizeof(owner), id);
	if ((s->owner = envup__strdup(owner)) == NULL ||
	    (s->owner_kind = envup__strdup(envup_owner_kind_name(id->owner_kind))) == NULL ||
	    (s->owner_command = envup__strdup(id->owner_comm)) == NULL)
		return ENVUP_ERROR;
	s->owner_pid = id->owner.pid;
	switch (envup_owner_check(&id->owner)) {
	case ENVUP_OWNER_ALIVE: s->owner_alive = 1; break;
	case ENVUP_OWNER_GONE: s->owner_alive = 0; break;
	default: s->owner_alive = -1; break;
	}
	return 0;
}

/* Group containers into environments by their (validated) env label; an
 * invalid name is shown made printable, never raw. */
static int summarize(envup_env_summary **out, size_t *count, envup_container_summary *list,
	size_t n)
{
	envup_env_summary *envs = NULL;
	size_t nenvs = 0, i, j;
	int error = ENVUP_ERROR;

	*out = NULL;
	*count = 0;
	if ((envs = envup__calloc(n ? n : 1, sizeof(*envs))) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		envup_identity id;
		char shown[64];
		const char *raw = envup_kvlist_get(&list[i].labels, ENVUP_LABEL_ENV);
		if (!raw)
			continue;
		envup_identity_read(&id, &list[i].labels);
		envup_printable_into(shown, sizeof(shown), id.env[0] ? id.env : raw);
		for (j = 0; j < nenvs; j++)
			if (strcmp(envs[j].name, shown) == 0)
				break;
		if (j == nenvs) {
			if ((envs[j].name = envup__strdup(shown)) == NULL)
				goto done;
			nenvs++;
			envs[j].created = list[i].created;
			if (summary_identity(&envs[j], &id) < 0)
				goto done;
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
	error = 0;
done:
	envup_list_free(envs, nenvs);
	return error;
}

int envup_list(envup_env_summary **out, size_t *count, const char *docker_host)
{
	envup_engine *e = NULL;
	envup_container_summary *list = NULL;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	size_t n = 0;
	int error;

	ENVUP_ASSERT_ARG(out && count);
	*out = NULL;
	*count = 0;
	if ((error = open_engine(&e, docker_host)) < 0)
		goto done;
	if ((error = envup_strlist_push(&labels, ENVUP_LABEL_MANAGED "=true")) < 0 ||
	    (error = envup_container_list(&list, &n, e, &labels)) < 0)
		goto done;
	error = summarize(out, count, list, n);
done:
	envup_container_summaries_free(list, n);
	envup_strlist_dispose(&labels);
	envup_engine_free(e);
	return error;
}

int envup_env_summary_get(envup_env_summary **out, const envup_target *target)
{
	envup_target defaults = ENVUP_TARGET_INIT;
	envup_engine *e = NULL;
	envup_container_summary *list = NULL;
	size_t n = 0, got = 0;
	char *name = NULL;
	int error;

	ENVUP_ASSERT_ARG(out);
	*out = NULL;
	if (!target)
		target = &defaults;
	if ((error = open_target(&name, &e, &list, &n, target)) < 0)
		goto done;
	if (n == 0) {
		error = envup_env__not_up(name);
		goto done;
	}
	if ((error = summarize(out, &got, list, n)) == 0 && got != 1) {
		envup_list_free(*out, got);
		*out = NULL;
		error = envup_env__not_up(name);
	}
done:
	envup_container_summaries_free(list, n);
	envup_engine_free(e);
	envup__free(name);
	return error;
}

void envup_list_free(envup_env_summary *s, size_t count)
{
	size_t i;
	if (!s)
		return;
	for (i = 0; i < count; i++) {
		envup__free(s[i].name);
		envup__free(s[i].owner);
		envup__free(s[i].owner_kind);
		envup__free(s[i].owner_command);
	}
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
	size_t n = 0, i;
	char *name = NULL;
	const char *id = NULL;
	int error;

	ENVUP_ASSERT_ARG(service && cb);
	if (!target)
		target = &defaults;
	if ((error = open_target(&name, &e, &list, &n, target)) < 0)
		goto done;
	/* following has no end; a plain read of a long log gets ten minutes */
	envup_engine_set_deadline(e, follow ? 0 : envup_now() + 600);
	for (i = 0; i < n; i++) {
		const char *svc = envup_kvlist_get(&list[i].labels, ENVUP_LABEL_SERVICE);
		if (svc && strcmp(svc, service) == 0)
			id = list[i].id;
	}
	if (!id) {
		envup_buf names = ENVUP_BUF_INIT;
		char shown[64];
		if (n == 0) {
			error = envup_env__not_up(name);
			goto done;
		}
		for (i = 0; i < n; i++) {
			envup_identity ident;
			envup_identity_read(&ident, &list[i].labels);
			if (ident.service[0] && envup_buf_printf(&names, "%s%s", names.size ? ", " : "",
			    ident.service) < 0)
				break;
		}
		envup_printable_into(shown, sizeof(shown), service);
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "environment '%s' has no service '%s'; its "
			"services: %s", name, shown, envup_buf_cstr(&names));
		envup_buf_dispose(&names);
		error = ENVUP_ENOTFOUND;
		goto done;
	}
	/* streamed, never collected: a service may have logged gigabytes */
	{
		log_forward f = {cb, payload};
		error = envup_container_logs_stream(e, id, tail, follow != 0, forward_log, &f);
	}
done:
	envup_container_summaries_free(list, n);
	envup_engine_free(e);
	envup__free(name);
	return error;
}
