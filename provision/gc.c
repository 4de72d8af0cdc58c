/*
 * envup gc and envdown --all.
 *
 * gc reads every envup-managed container, network and volume, and groups
 * them by their identity labels exactly as written: environment, instance,
 * owner and expiry. A group is removed only on proof read from its own
 * labels (see identity.h: labels are untrusted and validated first):
 *
 *   - its expiry (dev.envup.expires) has passed, or
 *   - its owner (dev.envup.owner) is on this machine and gone.
 *
 * and it is removed by the ids of its own members, never by a label
 * filter. So a stray or forged resource (no instance label, another
 * instance's id with a past expiry, a name like ../x) can only ever get
 * itself removed, never a live environment of the same name, and a name
 * from a label is used for a state file only when it is a valid name.
 *
 * A resource already gone counts as removed, so two gc runs at once, or gc
 * racing a watchdog or envdown, are safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "envup.h"
#include "provision/backend.h"
#include "provision/down.h"
#include "provision/target.h"
#include "provision/identity.h"
#include "provision/owner.h"
#include "provision/state.h"

typedef struct {
	envup_identity id;
	char *raw_env;             /* the env label as written, made printable */
	envup_resource *members;   /* containers, then networks and volumes */
	size_t nmembers;
} gc_group;

typedef struct {
	gc_group *v;
	size_t n;
} gc_groups;

#define GC_ENGINE_SECONDS 120.0

static int open_backend(envup_backend **b, const char *docker_host)
{
	return envup_backend_open_for(b, docker_host, GC_ENGINE_SECONDS);
}

/* The group of a resource with these labels (made when new), or NULL on OOM. */
static gc_group *group_of(gc_groups *g, const envup_kvlist *labels)
{
	envup_identity id;
	gc_group *v;
	size_t i;

	envup_identity_read(&id, labels);
	for (i = 0; i < g->n; i++)
		if (envup_identity_same_group(&g->v[i].id, &id))
			return &g->v[i];
	if ((v = envup__realloc(g->v, (g->n + 1) * sizeof(*v))) == NULL)
		return NULL;
	g->v = v;
	v = &g->v[g->n];
	memset(v, 0, sizeof(*v));
	v->id = id;
	if ((v->raw_env = envup_printable(envup_kvlist_get(labels, ENVUP_LABEL_ENV))) == NULL)
		return NULL;
	g->n++;
	return v;
}

static void groups_dispose(gc_groups *g)
{
	size_t i;
	for (i = 0; i < g->n; i++) {
		envup__free(g->v[i].raw_env);
		envup_resources_free(g->v[i].members, g->v[i].nmembers);
	}
	envup__free(g->v);
}

static int collect(gc_groups *g, envup_backend *b)
{
	envup_strlist want = ENVUP_STRLIST_INIT;
	envup_resource *rs = NULL;
	size_t nr = 0, i;
	gc_group *grp;
	int error;

	/* containers first, then networks and volumes (the backend's order):
	 * an `up` killed between its network and its first container leaves
	 * only a network, which is a group of its own */
	if ((error = envup_strlist_push(&want, ENVUP_LABEL_MANAGED "=true")) < 0 ||
	    (error = b->ops->resources(&rs, &nr, b, &want)) < 0)
		goto done;
	error = ENVUP_ERROR;
	for (i = 0; i < nr; i++)
		if ((grp = group_of(g, &rs[i].labels)) == NULL ||
		    envup_resource_push(&grp->members, &grp->nmembers, &rs[i]) < 0)
			goto done;
	error = 0;
done:
	envup_resources_free(rs, nr);
	envup_strlist_dispose(&want);
	return error;
}

/* "42s", "7m", "3h", "12d" */
static void ago(char *out, size_t len, long long s)
{
	if (s < 120)
		snprintf(out, len, "%llds", s);
	else if (s < 7200)
		snprintf(out, len, "%lldm", s / 60);
	else if (s < 2 * 86400)
		snprintf(out, len, "%lldh", s / 3600);
	else
		snprintf(out, len, "%lldd", s / 86400);
}

/* Why group g should go (malloc'd), or NULL when nothing proves it should. */
static char *reason_to_remove(const gc_group *g, long long now)
{
	char owner[128], when[32];

	if (g->id.expires > 0 && g->id.expires <= now) {
		ago(when, sizeof(when), now - g->id.expires);
		return envup__sprintf("it expired %s ago", when);
	}
	if (g->id.has_owner && envup_owner_check(&g->id.owner) == ENVUP_OWNER_GONE) {
		envup_identity_owner_text(owner, sizeof(owner), &g->id);
		return envup__sprintf("its owner, %s, is gone", owner);
	}
	return NULL;
}

/* Remove the group's own members, by id: containers, networks, volumes. */
static int remove_group(size_t *removed, envup_backend *b, const gc_group *g)
{
	size_t i;
	int error = 0, rc;

	*removed = 0;
	for (i = 0; i < g->nmembers; i++) {
		if ((rc = b->ops->remove_resource(b, &g->members[i])) < 0)
			error = rc;
		else
			(*removed)++;
	}
	return error;
}

int envup_gc(envup_gc_entry **out, size_t *count, const envup_target *target)
{
	envup_backend *b = NULL;
	gc_groups groups = {NULL, 0};
	envup_gc_entry *entries = NULL;
	size_t i, n = 0;
	long long now = (long long)time(NULL);
	int error;

	ENVUP_ASSERT_ARG(out && count);
	*out = NULL;
	*count = 0;
	if ((error = envup_target__check(target)) < 0 ||
	    (error = open_backend(&b, target ? target->docker_host : NULL)) < 0 ||
	    (error = collect(&groups, b)) < 0)
		goto done;
	if ((entries = envup__calloc(groups.n ? groups.n : 1, sizeof(*entries))) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	for (i = 0; i < groups.n; i++) {
		const gc_group *g = &groups.v[i];
		char *why = reason_to_remove(g, now);
		envup_gc_entry *en;
		if (!why)
			continue;
		en = &entries[n++];
		en->reason = why;
		if ((en->name = envup__strdup(g->id.env[0] ? g->id.env : g->raw_env)) == NULL) {
			error = ENVUP_ERROR;
			goto done;
		}
		if (remove_group(&en->removed, b, g) < 0) {
			en->failed = 1;
			en->message = envup__strdup(envup_error_last()->message);
			continue;
		}
		/* state files only for names that are names (never a path) */
		if (g->id.env[0] && envup_down__forget_if_gone(b, g->id.env) == 1)
			envup_state_record_removal(g->id.env, g->id.instance, "envup gc", why);
	}
	envup_state_prune();
	*out = entries;
	*count = n;
	entries = NULL;
	error = 0;
done:
	envup_gc_free(entries, n);
	groups_dispose(&groups);
	envup_backend_free(b);
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

int envup_down_all(size_t *removed, const envup_target *target)
{
	envup_backend *b = NULL;
	envup_cleanup_report report = ENVUP_CLEANUP_REPORT_INIT;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	gc_groups groups = {NULL, 0};
	all_progress p = {target ? target->progress : NULL, target ? target->progress_payload : NULL,
		envup_now()};
	size_t i;
	int error;

	if (removed)
		*removed = 0;
	if ((error = envup_target__check(target)) < 0 ||
	    (error = open_backend(&b, target ? target->docker_host : NULL)) < 0 ||
	    (error = collect(&groups, b)) < 0)
		goto done;
	/* removal by labels always adds dev.envup.managed=true itself */
	error = b->ops->remove_by_labels(&report, b, &labels, all_cb, &p);
	if (removed)
		*removed = ENVUP_CLEANUP_REMOVED(&report);
	if (error == 0)
		for (i = 0; i < groups.n; i++)
			if (groups.v[i].id.env[0]) {
				envup_state_remove(groups.v[i].id.env);
				envup_state_record_removal(groups.v[i].id.env, groups.v[i].id.instance,
					"envdown --all", "every environment was taken down");
			}
done:
	groups_dispose(&groups);
	envup_cleanup_report_dispose(&report);
	envup_strlist_dispose(&labels);
	envup_backend_free(b);
	return error;
}
