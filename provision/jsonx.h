/*
 * Private to provision/: small readers for the engine's JSON answers.
 * Every getter tolerates a NULL or wrongly typed node (the engine's
 * answers are input, not trusted structure).
 */
#ifndef ENVUP_PROVISION_JSONX_H
#define ENVUP_PROVISION_JSONX_H

#include <cjson/cJSON.h>
#include "util/util.h"

/** Borrowed string member, or NULL when absent or not a string. */
static inline const char *jsonx_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/** Copy a string member into *out (NULL when absent). <0 only on OOM. */
static inline int jsonx_dup(char **out, const cJSON *obj, const char *name)
{
	const char *s = jsonx_str(obj, name);
	*out = NULL;
	if (s && (*out = envup__strdup(s)) == NULL)
		return ENVUP_ERROR;
	return 0;
}

/** Integer member (0 when absent). */
static inline long long jsonx_int(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (!cJSON_IsNumber(v) || v->valuedouble < -9.0e18 || v->valuedouble > 9.0e18)
		return 0;
	return (long long)v->valuedouble;
}

static inline bool jsonx_bool(const cJSON *obj, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

/** Append a {"k":"v"} map (e.g. Labels) to a kvlist; non-strings skipped. */
static inline int jsonx_labels(envup_kvlist *out, const cJSON *map)
{
	const cJSON *it;
	if (!cJSON_IsObject(map))
		return 0;
	cJSON_ArrayForEach(it, map)
		if (it->string && cJSON_IsString(it) &&
		    envup_kvlist_set(out, it->string, it->valuestring) < 0)
			return ENVUP_ERROR;
	return 0;
}

#endif
