/*
 * Saved state of an environment that is up: its exports, so `envup env`
 * can print them again. One JSON file per environment, mode 0600, in a
 * 0700 directory owned by the user:
 *   $ENVUP_STATE_DIR, else $XDG_RUNTIME_DIR/envup, else /tmp/envup-UID.
 * The engine's labels remain the source of truth for what exists; the
 * state only holds what the engine cannot tell (the generated passwords).
 */
#ifndef ENVUP_PROVISION_STATE_H
#define ENVUP_PROVISION_STATE_H

#include "util/util.h"

/** The state directory, created (0700) and checked when `create`. Malloc'd. */
int envup_state_dir(char **out, bool create);

/** Save atomically (temp file + rename), 0600. */
int envup_state_save(const char *env_name, const char *engine_address,
	const envup_kvlist *exports);

/**
 * Load. @return ENVUP_ENOTFOUND when there is no state for env_name
 * @param[out] engine_address malloc'd, may be NULL
 */
int envup_state_load(envup_kvlist *exports, char **engine_address, const char *env_name);

/** Remove; a missing file is success. */
int envup_state_remove(const char *env_name);

#endif
