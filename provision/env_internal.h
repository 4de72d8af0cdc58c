/*
 * Internals shared by environment.c (up) and target.c (down, env, status,
 * ls, logs).
 */
#ifndef ENVUP_PROVISION_ENV_INTERNAL_H
#define ENVUP_PROVISION_ENV_INTERNAL_H

#include "envup.h"
#include "provision/engine.h"
#include "provision/cleanup.h"

#define ENVUP_DEFAULT_SPEC "envup.yaml"

struct envup_env {
	char *name;
	envup_kvlist exports; /* in spec order: automatic exports, then the spec's */
};

/** A handle holding a copy of `exports`. */
int envup_env__new(envup_env **out, const char *name, const envup_kvlist *exports);

/**
 * Remove everything of environment `name` (containers in parallel, then
 * networks and volumes) and its saved state. When something remains, the
 * error names it and how to remove it by hand.
 */
int envup_env__remove(envup_engine *e, const char *name, size_t *removed,
	envup_cleanup_cb cb, void *payload);


/**
 * Remove the saved exports of environment `name` if it has no container
 * left on the engine (a newer `up` of the name keeps them). Best effort.
 */
void envup_env__forget_if_gone(envup_engine *e, const char *name);

#endif
