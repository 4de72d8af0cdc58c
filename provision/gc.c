/*
 * envup gc and envdown --all.
 *
 * gc groups every envup-managed container and network by (environment,
 * instance) and removes the groups that expired (dev.envup.expires) or
 * whose owner process is gone on this machine (dev.envup.owner). Removal
 * goes by label and a resource already gone counts as removed, so two gc
 * runs at once, or gc racing a watchdog or envdown, are safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "envup.h"
#include "provision/engine.h"
#include "provision/container.h"
#include "provision/cleanup.h"
#include "provision/env_internal.h"
#include "provision/owner.h"
#include "provision/state.h"

typedef struct {
	char *env;
	char *instance;   /* NULL for resources of envup versions without it */
	char *owner;
	long long expires;
} gc_group;

typedef struct {
	gc_group *v;
	size_t n;
} gc_groups;

#define GC_ENGINE_SECONDS 120.0

static int open_engine(envup_engine **e, const char *docker_host)
{
	return envup_env__open_engine(e, docker_host, GC_ENGINE_SECONDS);
}

static int add_group(gc_groups *g, const envup_kvlist *labels)
{
	const char *env = envup_kvlist_get(labels, ENVUP_LABEL_ENV);
	const char *inst = envup_kvlist_get(labels, ENVUP_LABEL_INSTANCE);
	const char *owner = envup_kvlist_get(labels, ENVUP_LABEL_OWNER);
	const char *exp = envup_kvlist_get(labels, ENVUP_LABEL_EXPIRES);
	gc_group *v;
	size_t i;

	if (!env)
		return 0;
	for (i = 0; i < g->n; i++)
		if (strcmp(g->v[i].env, env) == 0 &&
		    ((!inst && !g->v[i].instance) ||
		     (inst && g->v[i].instance && strcmp(inst, g->v[i].instance) == 0)))
			return 0;
	if ((v = envup__realloc(g->v, (g->n + 1) * sizeof(*v))) == NULL)
		return ENVUP_ERROR;
	g->v = v;
	memset(&g->v[g->n], 0, sizeof(gc_group));
	g->v[g->n].env = envup__strdup(env);
	g->v[g->n].instance = inst ? envup__strdup(inst) : NULL;
	g->v[g->n].owner = owner ? envup__strdup(owner) : NULL;
	g->v[g->n].expires = exp ? strtoll(exp, NULL, 10) : 0;
	g->n++;
	if (!g->v[g->n - 1].env || (inst && !g->v[g->n - 1].instance) ||
	    (owner && !g->v[g->n - 1].owner))
		return envup_error_set_oom();
	return 0;
}

static void groups_dispose(gc_groups *g)
{
	size_t i;
	for (i = 0; i < g->n; i++) {
		envup__free(g->v[i].env);
		envup__free(g->v[i].instance);
		envup__free(g->v[i].owner);
	}
	envup__free(g->v);
}

/* Managed networks with their labels: an `up` killed between creating its
 * network and its first container leaves only a network. */
static int collect_networks(gc_groups *g, envup_engine *e)
{
	envup_strlist want = ENVUP_STRLIST_INIT;
	envup_buf resp = ENVUP_BUF_INIT;
	char *filter = NULL, *path = NULL;
	cJSON *root = NULL, *net;
	long status = 0;
	int error = ENVUP_ERROR;

	if (envup_strlist_push(&want, ENVUP_LABEL_MANAGED "=true") < 0 ||
	    (filter = envup_engine_label_filter(&want)) == NULL ||
	    (path = envup__sprintf("/networks?filters=%s", filter)) == NULL)
		goto done;
	if ((error = envup_engine_request(e, "GET", path, NULL, NULL, 0, &status, &resp)) < 0)
		goto done;
	if (status != 200) {
		error = envup_engine_api_error(status, &resp, "list networks");
		goto done;
	}
	if ((error = envup_engine_parse_json(&root, &resp, "the network list")) < 0)
		goto done;
	cJSON_ArrayForEach(net, root) {
		cJSON *labels = cJSON_GetObjectItemCaseSensitive(net, "Labels"), *l;
		envup_kvlist kv = ENVUP_KVLIST_INIT;
		cJSON_ArrayForEach(l, labels) {
			if (cJSON_IsString(l) && envup_kvlist_set(&kv, l->string, l->valuestring) < 0) {
				envup_kvlist_dispose(&kv);
				error = ENVUP_ERROR;
				goto done;
			}
		}
		error = envup_engine_labels_match(&kv, &want) ? add_group(g, &kv) : 0;
		envup_kvlist_dispose(&kv);
		if (error < 0)
			goto done;
	}
	error = 0;
done:
	cJSON_Delete(root);
	envup_buf_dispose(&resp);
	envup_strlist_dispose(&want);
	envup__free(filter);
	envup__free(path);
	return error;
}

static int collect(gc_groups *g, envup_engine *e)
{
	envup_strlist want = ENVUP_STRLIST_INIT;
	envup_container_summary *list = NULL;
	size_t n = 0, i;
	int error;

	if ((error = envup_strlist_push(&want, ENVUP_LABEL_MANAGED "=true")) < 0 ||
	    (error = envup_container_list(&list, &n, e, &want)) < 0)
		goto done;
	for (i = 0; i < n; i++)
		if ((error = add_group(g, &list[i].labels)) < 0)
			goto done;
	error = collect_networks(g, e);
done:
	envup_container_summaries_free(list, n);
	envup_strlist_dispose(&want);
	return error;
}

/* Why group g should go, or NULL when it stays. */
static char *reason_to_remove(const gc_group *g, long long now)
{
	envup_owner o;

	if (g->expires > 0 && g->expires <= now)
		return envup__sprintf("expired %llds ago", now - g->expires);
	if (g->owner && envup_owner_parse(&o, g->owner) == 0 &&
	    envup_owner_check(&o) == ENVUP_OWNER_GONE)
		return envup__sprintf("its owner, process %ld, is gone", o.pid);
	return NULL;
}

static int remove_group(size_t *removed, envup_engine *e, const gc_group *g)
{
	envup_cleanup_report report = ENVUP_CLEANUP_REPORT_INIT;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	int error;

	if ((error = envup_env__labels(&labels, g->env, g->instance)) < 0)
		goto done;
	error = envup_cleanup_by_labels(&report, e, &labels, NULL, NULL);
	*removed = report.containers + report.networks + report.volumes;
done:
	envup_cleanup_report_dispose(&report);
	envup_strlist_dispose(&labels);
	return error;
}

int envup_gc(envup_gc_entry **out, size_t *count, const char *docker_host)
{
	envup_engine *e = NULL;
	gc_groups groups = {NULL, 0};
	envup_gc_entry *entries = NULL;
	size_t i, n = 0;
	long long now = (long long)time(NULL);
	int error;

	ENVUP_ASSERT_ARG(out && count);
	*out = NULL;
	*count = 0;
	if ((error = open_engine(&e, docker_host)) < 0 || (error = collect(&groups, e)) < 0)
		goto done;
	if ((entries = envup__calloc(groups.n ? groups.n : 1, sizeof(*entries))) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	for (i = 0; i < groups.n; i++) {
		char *why = reason_to_remove(&groups.v[i], now);
		envup_gc_entry *en;
		if (!why)
			continue;
		en = &entries[n++];
		en->reason = why;
		if ((en->name = envup__strdup(groups.v[i].env)) == NULL) {
			error = ENVUP_ERROR;
			goto done;
		}
		if (remove_group(&en->removed, e, &groups.v[i]) < 0) {
			en->failed = 1;
			en->message = envup__strdup(envup_error_last()->message);
		}
	}
	/* saved exports of environments that no longer have any container */
	for (i = 0; i < n; i++)
		envup_env__forget_if_gone(e, entries[i].name);
	*out = entries;
	*count = n;
	entries = NULL;
	error = 0;
done:
	envup_gc_free(entries, n);
	groups_dispose(&groups);
	envup_engine_free(e);
	return error;
}

void envup_gc_free(envup_gc_entry *entries, size_t count)
{
	size_t i;
	if (!entries)
		return;
	for (i = 0; i < count; i++) {
		envup__free(entries[i].name);
		envup__free(entries[i].reason);
		envup__free(entries[i].message);
	}
	envup__free(entries);
}

typedef struct {
	envup_progress_cb cb;
	void *payload;
	double start;
} all_progress;

static void all_cb(const char *kind, const char *name, void *payload)
{
	all_progress *p = payload;
	char *detail;
	if (!p->cb)
		return;
	detail = envup__sprintf("%s %s", kind, name);
	p->cb(NULL, ENVUP_STATE_REMOVED, detail ? detail : kind, envup_now() - p->start, p->payload);
	envup__free(detail);
}

int envup_down_all(size_t *removed, const char *docker_host,
	envup_progress_cb progress, void *payload)
{
	envup_engine *e = NULL;
	envup_cleanup_report report = ENVUP_CLEANUP_REPORT_INIT;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	gc_groups groups = {NULL, 0};
	all_progress p = {progress, payload, envup_now()};
	size_t i;
	int error;

	if (removed)
		*removed = 0;
	if ((error = open_engine(&e, docker_host)) < 0 || (error = collect(&groups, e)) < 0)
		goto done;
	/* cleanup_by_labels always adds dev.envup.managed=true itself */
	error = envup_cleanup_by_labels(&report, e, &labels, all_cb, &p);
	if (removed)
		*removed = report.containers + report.networks + report.volumes;
	if (error == 0)
		for (i = 0; i < groups.n; i++)
			envup_state_remove(groups.v[i].env);
done:
	groups_dispose(&groups);
	envup_cleanup_report_dispose(&report);
	envup_strlist_dispose(&labels);
	envup_engine_free(e);
	return error;
}
