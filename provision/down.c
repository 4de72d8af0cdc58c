/*
 * Taking environments down: `envdown` (every instance of a name, unless
 * a live owner that is not the caller's holds it), envup_env_down() (one
 * handle's own instance: `envup run`), and the removal `up` and the
 * watchdog use, with what to do by hand when the engine refuses.
 */
#include <stdio.h>
#include <string.h>
#include "provision/down.h"
#include "provision/snapshot.h"
#include "provision/handle.h"
#include "provision/identity.h"
#include "provision/owner.h"
#include "provision/state.h"
#include "provision/target.h"

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
	if (advice_cmd(&cmds, "docker service rm", &report->left_services, true) < 0 ||
	    advice_cmd(&cmds, "docker rm -f", &report->left_containers, true) < 0 ||
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

int envup_down__remove(envup_backend *b, const char *name, const char *instance,
	size_t *removed, envup_cleanup_cb cb, void *payload)
{
	envup_cleanup_report report = ENVUP_CLEANUP_REPORT_INIT;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	int error, pass;

	if ((error = envup_identity_filter(&labels, name, instance)) < 0)
		goto done;
	/* a snapshot being taken of it finishes first (snapshot.h) */
	envup_snapshot_wait(name, 120.0, NULL, NULL);
	/* A second pass catches a container whose create was still in flight
	 * in the engine when the first listing ran (a cancelled request). */
	for (pass = 0; pass < 2; pass++) {
		size_t before = ENVUP_CLEANUP_REMOVED(&report);
		if ((error = b->ops->remove_by_labels(&report, b, &labels, cb, payload)) < 0)
			break;
		if (pass == 0 && ENVUP_CLEANUP_REMOVED(&report) == before)
			break;
	}
	if (error < 0 && error != ENVUP_ECANCELLED)
		remove_advice(&report, name);
	/* the saved exports belong to the whole name: only a removal of the
	 * whole name forgets them (a failed `up` removes its instance only) */
	if (error == 0 && !instance)
		error = envup_state_remove(name);
	if (removed)
		*removed = ENVUP_CLEANUP_REMOVED(&report);
done:
	envup_cleanup_report_dispose(&report);
	envup_strlist_dispose(&labels);
	return error;
}

int envup_down__forget_if_gone(envup_backend *b, const char *name)
{
	envup_container_summary *list = NULL;
	size_t n = 1;
	int gone = 0;
	if (envup_target__list(&list, &n, b, name) == 0 && n == 0) {
		envup_state_remove(name);
		gone = 1;
	}
	envup_container_summaries_free(list, n);
	return gone;
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
static int check_owner(envup_backend *b, const char *name, bool force, envup_buf *instances)
{
	envup_resource *rs = NULL;
	envup_strlist filter = ENVUP_STRLIST_INIT;
	size_t nr = 0, i;
	int error;

	if ((error = envup_identity_filter(&filter, name, NULL)) < 0 ||
	    (error = b->ops->resources(&rs, &nr, b, &filter)) < 0)
		goto done;
	for (i = 0; i < nr; i++) {
		const envup_kvlist *labels = &rs[i].labels;
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
	envup_resources_free(rs, nr);
	envup_strlist_dispose(&filter);
	return error;
}

int envup_down(size_t *removed, const envup_target *target)
{
	envup_target defaults = ENVUP_TARGET_INIT;
	envup_backend *b = NULL;
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
	if ((error = envup_backend_open_for(&b, target->docker_host, ENVUP_TARGET_SECONDS)) < 0)
		goto done;
	if ((error = check_owner(b, name, target->force != 0, &instances)) < 0)
		goto done;
	if (target->progress)
		target->progress(NULL, ENVUP_STATE_REMOVING, name, 0, target->progress_payload);
	error = envup_down__remove(b, name, NULL, &n, down_cb, &p);
	if (removed)
		*removed = n;
	if (error == 0 && n > 0)
		envup_state_record_removal(name, envup_buf_cstr(&instances), "envdown",
			"it was taken down");
done:
	envup_buf_dispose(&instances);
	envup_backend_free(b);
	envup__free(name);
	return error;
}

int envup_env_down(size_t *removed, const envup_env *env, envup_progress_cb progress,
	void *payload)
{
	envup_target target = ENVUP_TARGET_INIT;
	envup_backend *b = NULL;
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
	if ((error = envup_backend_open_for(&b, env->docker_host, ENVUP_TARGET_SECONDS)) < 0)
		goto done;
	if (progress)
		progress(NULL, ENVUP_STATE_REMOVING, env->name, 0, payload);
	/* this handle's own `up` only, and its saved exports when no other
	 * instance of the name is left */
	error = envup_down__remove(b, env->name, env->instance[0] ? env->instance : NULL, &n,
		down_cb, &p);
	if (error == 0 && env->instance[0])
		envup_down__forget_if_gone(b, env->name);
	if (removed)
		*removed = n;
	if (error == 0 && n > 0)
		envup_state_record_removal(env->name, env->instance, "envdown", "it was taken down");
done:
	envup_backend_free(b);
	return error;
}
