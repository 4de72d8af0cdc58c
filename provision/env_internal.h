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

/** Open the engine with a deadline `seconds` from now (and cJSON's hooks set). */
int envup_env__open_engine(envup_engine **e, const char *docker_host, double seconds);

/**
 * Push the label filter of environment `name`: managed=true, env=NAME and,
 * when `instance` is not NULL, instance=INSTANCE (one `up`).
 */
int envup_env__labels(envup_strlist *labels, const char *name, const char *instance);

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
