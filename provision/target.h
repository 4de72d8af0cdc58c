/*
 * Private: what the commands about one environment share (down, env,
 * status, logs): which environment a target names, and what to say when
 * it is not up.
 */
#ifndef ENVUP_PROVISION_TARGET_H
#define ENVUP_PROVISION_TARGET_H

#include "envup.h"
#include "provision/backend.h"
#include "provision/container.h"

#define ENVUP_TARGET_SECONDS 60.0

/** ENVUP_ESPEC unless target is NULL or of ENVUP_TARGET_VERSION. */
int envup_target__check(const envup_target *target);

/**
 * Set "environment 'NAME' is not up" as the error, with when and why
 * envup removed it when it did; returns ENVUP_ENOTFOUND.
 */
int envup_target__not_up(const char *name);

/** The containers of environment `name` (every instance). */
int envup_target__list(envup_container_summary **list, size_t *n, envup_backend *b,
	const char *name);

/**
 * The first steps of env, status and logs: the target's name, a backend
 * with a deadline of ENVUP_TARGET_SECONDS, and the environment's containers.
 */
int envup_target__open(char **name, envup_backend **b, envup_container_summary **list,
	size_t *n, const envup_target *target);

#endif
