/*
 * Labels written and read back (see identity.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "provision/identity.h"
#include "compose/spec.h"
#include "compose/service.h"

bool envup_instance_valid(const char *s)
{
	size_t i;
	if (!s)
		return false;
	for (i = 0; i < ENVUP_INSTANCE_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0';
}

static long long parse_expires(const char *s)
{
	char *end;
	long long v;
	size_t i;

	if (!s || !*s || strlen(s) > 12)
		return 0;
	for (i = 0; s[i]; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	return errno || *end || v <= 0 ? 0 : v;
}

static void copy_capped(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s ? s : "");
}

void envup_identity_read(envup_identity *out, const envup_kvlist *labels)
{
	const char *env = envup_kvlist_get(labels, ENVUP_LABEL_ENV);
	const char *inst = envup_kvlist_get(labels, ENVUP_LABEL_INSTANCE);
	const char *svc = envup_kvlist_get(labels, ENVUP_LABEL_SERVICE);
	const char *owner = envup_kvlist_get(labels, ENVUP_LABEL_OWNER);
	const char *kind = envup_kvlist_get(labels, ENVUP_LABEL_OWNER_KIND);
	const char *comm = envup_kvlist_get(labels, ENVUP_LABEL_OWNER_COMM);
	const char *exp = envup_kvlist_get(labels, ENVUP_LABEL_EXPIRES);
	int k;

	memset(out, 0, sizeof(*out));
	if (env && envup_name_valid(env))
		copy_capped(out->env, sizeof(out->env), env);
	if (inst && envup_instance_valid(inst))
		copy_capped(out->instance, sizeof(out->instance), inst);
	if (svc && envup_service__name_valid(svc))
		copy_capped(out->service, sizeof(out->service), svc);
	if (owner && strlen(owner) < sizeof(out->owner_raw) && envup_is_printable(owner) &&
	    envup_owner_parse(&out->owner, owner) == 0) {
		out->has_owner = true;
		copy_capped(out->owner_raw, sizeof(out->owner_raw), owner);
	} else if (owner) {
		/* unparsable: still keeps it apart from resources without one */
		copy_capped(out->owner_raw, sizeof(out->owner_raw), "?");
	}
	k = envup_owner_kind_parse(kind);
	out->owner_kind = k < 0 ? ENVUP_OWNER_KIND_PROCESS : (envup_owner_kind)k;
	envup_printable_into(out->owner_comm, sizeof(out->owner_comm), comm);
	out->expires = parse_expires(exp);
	if (exp)
		copy_capped(out->expires_raw, sizeof(out->expires_raw), out->expires ? exp : "?");
}

bool envup_identity_same_group(const envup_identity *a, const envup_identity *b)
{
	return strcmp(a->env, b->env) == 0 && strcmp(a->instance, b->instance) == 0 &&
		strcmp(a->owner_raw, b->owner_raw) == 0 && strcmp(a->expires_raw, b->expires_raw) == 0;
}

int envup_identity_labels(envup_kvlist *out, const envup_identity *id)
{
	if (envup_kvlist_set(out, ENVUP_LABEL_MANAGED, "true") < 0 ||
	    envup_kvlist_set(out, ENVUP_LABEL_ENV, id->env) < 0 ||
	    envup_kvlist_set(out, ENVUP_LABEL_VERSION, ENVUP_VERSION_STRING) < 0 ||
	    (id->service[0] && envup_kvlist_set(out, ENVUP_LABEL_SERVICE, id->service) < 0) ||
	    envup_kvlist_set(out, ENVUP_LABEL_INSTANCE, id->instance) < 0 ||
	    envup_kvlist_set(out, ENVUP_LABEL_EXPIRES, id->expires_raw) < 0)
		return ENVUP_ERROR;
	if (id->has_owner &&
	    (envup_kvlist_set(out, ENVUP_LABEL_OWNER, id->owner_raw) < 0 ||
	     envup_kvlist_set(out, ENVUP_LABEL_OWNER_KIND, envup_owner_kind_name(id->owner_kind)) < 0 ||
	     (id->owner_comm[0] && envup_kvlist_set(out, ENVUP_LABEL_OWNER_COMM, id->owner_comm) < 0)))
		return ENVUP_ERROR;
	return 0;
}

int envup_identity_filter(envup_strlist *out, const char *name, const char *instance)
{
	char *env = envup__sprintf("%s=%s", ENVUP_LABEL_ENV, name);
	char *inst = instance ? envup__sprintf("%s=%s", ENVUP_LABEL_INSTANCE, instance) : NULL;
	int error = ENVUP_ERROR;
	if (env && (!instance || inst) &&
	    envup_strlist_push(out, ENVUP_LABEL_MANAGED "=true") == 0 &&
	    envup_strlist_push(out, env) == 0 && (!inst || envup_strlist_push(out, inst) == 0))
		error = 0;
	envup__free(env);
	envup__free(inst);
	return error;
}

void envup_identity_owner_text(char *out, size_t len, const envup_identity *id)
{
	if (!id->has_owner) {
		if (len)
			out[0] = '\0';
		return;
	}
	envup_owner_describe(out, len, id->owner_kind, id->owner.pid, id->owner_comm);
}
