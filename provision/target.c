/*
 * Which environment a command is about (a target: -n, the spec's name:,
 * or the spec directory's name and the hash of its path), found on the
 * engine by label, never by a state file, so `envdown` works from any
 * shell in the same directory; and what to say when it is not up.
 */
#include <stdio.h>
#include <string.h>
#include "compose/peek.h"
#include "compose/spec.h"
#include "provision/identity.h"
#include "provision/state.h"
#include "provision/target.h"

int envup_target_init(envup_target *target, int version)
{
	ENVUP_ASSERT_ARG(target);
	memset(target, 0, sizeof(*target));
	target->version = version;
	return envup_target__check(target);
}

int envup_target__check(const envup_target *target)
{
	if (target && target->version != ENVUP_TARGET_VERSION)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"envup_target version %d: this libenvup (%s) takes version %d; rebuild against "
			"its headers", target->version, ENVUP_VERSION_STRING, ENVUP_TARGET_VERSION);
	return 0;
}

int envup_target_name(char **out, const envup_target *target)
{
	char *spec_name = NULL, *dir = NULL;
	const char *path = target && target->spec_path ? target->spec_path : NULL;
	int error;

	ENVUP_ASSERT_ARG(out);
	*out = NULL;
	if ((error = envup_target__check(target)) < 0)
		return error;
	if (target && target->name) {
		error = envup_name_resolve(out, target->name, NULL, ".");
		goto done;
	}
	if (!path && (path = envup_spec_default_path()) == NULL)
		path = ENVUP_DEFAULT_SPEC;
	if ((error = envup_spec_peek_name(&spec_name, &dir, path)) < 0)
		goto done;
	error = envup_name_resolve(out, NULL, spec_name, dir);
done:
	envup__free(spec_name);
	envup__free(dir);
	return error;
}

int envup_target__list(envup_container_summary **list, size_t *n, envup_backend *b,
	const char *name)
{
	envup_strlist labels = ENVUP_STRLIST_INIT;
	int error;
	if ((error = envup_identity_filter(&labels, name, NULL)) == 0)
		error = b->ops->list(list, n, b, &labels);
	envup_strlist_dispose(&labels);
	return error;
}

int envup_target__open(char **name, envup_backend **b, envup_container_summary **list,
	size_t *n, const envup_target *target)
{
	int error;
	if ((error = envup_target_name(name, target)) < 0 ||
	    (error = envup_backend_open_for(b, target->docker_host, ENVUP_TARGET_SECONDS)) < 0)
		return error;
	return envup_target__list(list, n, *b, *name);
}

/* "environment 'x' is not up", with when and why it was removed if envup
 * removed it, as the error; returns ENVUP_ENOTFOUND. */
int envup_target__not_up(const char *name)
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
