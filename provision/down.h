/*
 * Private: taking environments down, for `down`, a failed `up`, `run`
 * and the watchdog.
 */
#ifndef ENVUP_PROVISION_DOWN_H
#define ENVUP_PROVISION_DOWN_H

#include "provision/backend.h"

/**
 * Remove everything of environment `name` (containers in parallel, then
 * networks and volumes, by id), or with `instance` only what that one
 * `up` created. Removing the whole name also forgets its saved state.
 * When something remains, the error names it and how to remove it by hand.
 */
int envup_down__remove(envup_backend *b, const char *name, const char *instance,
	size_t *removed, envup_cleanup_cb cb, void *payload);

/**
 * Remove the saved exports of environment `name` if it has no container
 * left (a newer `up` of the name keeps them). Best effort; 1 when the name
 * has no container left, else 0.
 */
int envup_down__forget_if_gone(envup_backend *b, const char *name);

#endif
