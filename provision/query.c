/*
 * What is up, for env, status and ls: the exports of an environment (from
 * the state `up` saved, once its containers are found), its services and
 * their ports, every environment with its owner and expiry, and why one
 * that is gone went. Every string that came from the engine is made
 * printable here: labels and names are anyone's to write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "provision/handle.h"
#include "provision/identity.h"
#include "provision/owner.h"
#include "provision/state.h"
#include "provision/target.h"

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
	envup_backend *b = NULL;
	envup_container_summary *list = NULL;
	size_t n = 0;
	char *name = NULL;
	int error;

	ENVUP_ASSERT_ARG(out);
	*out = NULL;
	if (!target)
		target = &defaults;
	if ((error = envup_target__open(&name, &b, &list, &n, target)) < 0)
		goto done;
	if (n == 0) {
		error = envup_target__not_up(name);
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
	envup_backend_free(b);
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
	envup_backend *b = NULL;
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
	if ((error = envup_target__open(&name, &b, &list, &n, target)) < 0)
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
		if (list[i].node && (st[i].node = envup_printable(list[i].node)) == NULL) {
			envup_status_free(st, n);
			st = NULL;
			error = ENVUP_ERROR;
			goto done;
		}
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
	envup_backend_free(b);
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
		envup__free(s[i].node);
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

int envup_list(envup_env_summary **out, size_t *count, const envup_target *target)
{
	envup_backend *b = NULL;
	envup_container_summary *list = NULL;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	size_t n = 0;
	int error;

	ENVUP_ASSERT_ARG(out && count);
	*out = NULL;
	*count = 0;
	if ((error = envup_target__check(target)) < 0 ||
	    (error = envup_backend_open_for(&b, target ? target->docker_host : NULL,
	    ENVUP_TARGET_SECONDS)) < 0)
		goto done;
	if ((error = envup_strlist_push(&labels, ENVUP_LABEL_MANAGED "=true")) < 0 ||
	    (error = b->ops->list(&list, &n, b, &labels)) < 0)
		goto done;
	error = summarize(out, count, list, n);
done:
	envup_container_summaries_free(list, n);
	envup_strlist_dispose(&labels);
	envup_backend_free(b);
	return error;
}

int envup_env_summary_get(envup_env_summary **out, const envup_target *target)
{
	envup_target defaults = ENVUP_TARGET_INIT;
	envup_backend *b = NULL;
	envup_container_summary *list = NULL;
	size_t n = 0, got = 0;
	char *name = NULL;
	int error;

	ENVUP_ASSERT_ARG(out);
	*out = NULL;
	if (!target)
		target = &defaults;
	if ((error = envup_target__open(&name, &b, &list, &n, target)) < 0)
		goto done;
	if (n == 0) {
		error = envup_target__not_up(name);
		goto done;
	}
	if ((error = summarize(out, &got, list, n)) == 0 && got != 1) {
		envup_list_free(*out, got);
		*out = NULL;
		error = envup_target__not_up(name);
	}
done:
	envup_container_summaries_free(list, n);
	envup_backend_free(b);
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
