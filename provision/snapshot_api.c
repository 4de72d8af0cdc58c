/*
 * The public calls of include/envup/snapshot.h over snapshot.c.
 */
#include <string.h>
#include "envup.h"
#include "provision/snapshot.h"
#include "provision/target.h"

#define SNAPSHOT_ENGINE_SECONDS 120.0

static int open_for(envup_backend **b, const envup_target *target)
{
	int error;
	if ((error = envup_target__check(target)) < 0)
		return error;
	return envup_backend_open_for(b, target ? target->docker_host : NULL, SNAPSHOT_ENGINE_SECONDS);
}

int envup_snapshot_list(envup_snapshot_info **out, size_t *count, const envup_target *target)
{
	envup_backend *b = NULL;
	envup_snapshot_entry *v = NULL;
	envup_snapshot_info *o = NULL;
	size_t n = 0, i;
	int error;

	ENVUP_ASSERT_ARG(out && count);
	*out = NULL;
	*count = 0;
	if ((error = open_for(&b, target)) < 0 || (error = envup_snapshot__list(&v, &n, b)) < 0)
		goto done;
	if ((o = envup__calloc(n + 1, sizeof(*o))) == NULL) {
		error = envup_error_set_oom();
		goto done;
	}
	for (i = 0; i < n; i++) {
		o[i].created = v[i].created;
		o[i].size = v[i].size;
		if ((o[i].key = envup__strdup(v[i].key)) == NULL ||
		    (o[i].image = envup__sprintf("%s:%s", ENVUP_SNAPSHOT_REPO, v[i].key)) == NULL ||
		    (o[i].env_name = envup__strdup(v[i].env_name)) == NULL ||
		    (o[i].service = envup__strdup(v[i].service)) == NULL) {
			envup_snapshot_list_free(o, i + 1);
			o = NULL;
			error = ENVUP_ERROR;
			goto done;
		}
	}
	*out = o;
	*count = n;
done:
	envup_snapshot__list_free(v, n);
	envup_backend_free(b);
	return error;
}

void envup_snapshot_list_free(envup_snapshot_info *v, size_t count)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < count; i++) {
		envup__free(v[i].key);
		envup__free(v[i].image);
		envup__free(v[i].env_name);
		envup__free(v[i].service);
	}
	envup__free(v);
}

static bool hex_prefix(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i >= 4 && i <= 64;
}

int envup_snapshot_remove(size_t *removed, const char *key_prefix, const envup_target *target)
{
	envup_backend *b = NULL;
	envup_snapshot_entry *v = NULL;
	size_t n = 0, i, done_n = 0;
	int error;

	if (removed)
		*removed = 0;
	if (key_prefix && !hex_prefix(key_prefix))
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"'%s' is not a snapshot key (4 to 64 hex digits, as envup snapshot ls shows)", key_prefix);
	if ((error = open_for(&b, target)) < 0 || (error = envup_snapshot__list(&v, &n, b)) < 0)
		goto done;
	/* every match is tried: one in use (a container runs from it) does not
	 * keep the others; the first refusal is the error */
	for (i = 0; i < n; i++) {
		int e;
		if (key_prefix && strncmp(v[i].key, key_prefix, strlen(key_prefix)) != 0)
			continue;
		if ((e = envup_snapshot_remove_key(b, v[i].key)) < 0) {
			if (error == 0)
				error = e;
			continue;
		}
		done_n++;
	}
	if (error == 0 && key_prefix && done_n == 0)
		error = envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_DOCKER, "no snapshot's key starts with %s",
			key_prefix);
done:
	if (removed)
		*removed = done_n;
	envup_snapshot__list_free(v, n);
	envup_backend_free(b);
	return error;
}

int envup_snapshot_prune(size_t *removed, const envup_target *target)
{
	envup_backend *b = NULL;
	size_t n = 0;
	int error;

	if ((error = open_for(&b, target)) == 0)
		error = envup_snapshot__prune(&n, b);
	if (removed)
		*removed = n;
	envup_backend_free(b);
	return error;
}
