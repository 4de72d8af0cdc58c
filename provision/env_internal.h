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
	envup_strlist secrets;/* values to mask: passwords, and their URL forms */
	char *owner;          /* "session 4711 (bash)", NULL without owner */
	long long expires;    /* unix seconds, 0 unknown */
	char instance[17];    /* "" unknown */
	char *docker_host;    /* as given to up; NULL: the default */
};

/** Open the engine with a deadline `seconds` from now (and cJSON's hooks set). */
int envup_env__open_engine(envup_engine **e, const char *docker_host, double seconds);

/**
 * Set "environment 'NAME' is not up" as the error, with when and why
 * envup removed it when it did; returns ENVUP_ENOTFOUND.
 */
int envup_env__not_up(const char *name);

/** A handle holding a copy of `exports`. */
int envup_env__new(envup_env **out, const char *name, const envup_kvlist *exports);

/**
 * Remove everything of environment `name` (containers in parallel, then
 * networks and volumes, by id), or with `instance` only what that one
 * `up` created. Removing the whole name also forgets its saved state.
 * When something remains, the error names it and how to remove it by hand.
 */
int envup_env__remove(envup_engine *e, const char *name, const char *instance,
	size_t *removed, envup_cleanup_cb cb, void *payload);


/**
 * Remove the saved exports of environment `name` if it has no container
 * left on the engine (a newer `up` of the name keeps them). Best effort;
 * 1 when the name has no container left, else 0.
 */
int envup_env__forget_if_gone(envup_engine *e, const char *name);

#endif
