/*
 * What envup keeps on this machine about environments, in one private
 * directory: $ENVUP_STATE_DIR, else $XDG_RUNTIME_DIR/envup, else
 * /tmp/envup-UID. The engine's labels remain the source of truth for what
 * exists; the directory only holds what the engine cannot tell:
 *
 *   NAME.json          the exports of an environment that is up (they hold
 *                      its passwords), its secrets, owner and expiry; 0600
 *   NAME.removed       why and when the watchdog or gc removed NAME, so
 *                      `status`, `env` and `down` can say so; 0600
 *   NAME.watchdog.log  what the watchdogs of NAME did
 *
 * The directory must be a directory, owned by the user, and reachable by
 * nobody else (mode 0700 or stricter): envup creates it so, and refuses
 * one that is not, without changing its mode. Removal records and watchdog
 * logs older than ENVUP_STATE_KEEP_S are pruned by `up` and `gc`; a log
 * is rotated (NAME.watchdog.log.1) past ENVUP_STATE_LOG_MAX bytes.
 */
#ifndef ENVUP_PROVISION_STATE_H
#define ENVUP_PROVISION_STATE_H

#include "util/util.h"
#include "envup/target.h"

struct envup_env;

#define ENVUP_STATE_KEEP_S (7 * 24 * 3600)
#define ENVUP_STATE_LOG_MAX (256 * 1024)

/**
 * The state directory (malloc'd). With `create`, made (0700) when missing;
 * whenever it exists it is checked: a directory, ours, mode without group
 * or other bits. Errors say what is wrong and what to do.
 */
int envup_state_dir(char **out, bool create);

/** DIR/NAME.SUFFIX (malloc'd), for a valid environment name only. */
int envup_state_path(char **out, const char *env_name, const char *suffix, bool create);

/** Save an environment's exports, secrets, owner and expiry: atomically
 *  (temp file + rename), 0600. */
int envup_state_save(const char *env_name, const char *engine_address,
	const struct envup_env *env);

/**
 * Load what envup_state_save() wrote.
 * @param[out] out a handle (envup_env_free)
 * @param[out] engine_address malloc'd, may be NULL
 * @return ENVUP_ENOTFOUND when there is no state for env_name
 */
int envup_state_load(struct envup_env **out, char **engine_address, const char *env_name);

/** Remove; a missing file is success. */
int envup_state_remove(const char *env_name);

/**
 * Record that environment `env_name` (the instances `instance`, separated
 * by spaces; may be NULL) was removed by `by` ("its watchdog", "envup gc") because `reason`
 * ("its owner, session 4711 (bash), ended"). Best effort.
 */
void envup_state_record_removal(const char *env_name, const char *instance, const char *by,
	const char *reason);

/**
 * The removal record of `env_name` (strings made printable).
 * @return ENVUP_ENOTFOUND (no error set) when there is none
 */
int envup_state_removal(envup_removal *out, const char *env_name);

/** "removed at 10:32:05 by its watchdog: REASON" (local time; the date
 *  too when it was not today). */
void envup_state_removal_text(char *out, size_t len, const envup_removal *r);

/** True when the removal record of `env_name` lists `instance` (its
 *  "instance" holds the instances removed, separated by spaces). */
bool envup_state_instance_removed(const char *env_name, const char *instance);

/** Forget the removal record (a new `up` of the name). */
void envup_state_forget_removal(const char *env_name);

/** Remove removal records and watchdog logs older than ENVUP_STATE_KEEP_S. */
void envup_state_prune(void);

/** Open NAME.watchdog.log for appending (rotated when large); NULL on failure. */
int envup_state_open_log(const char *env_name);

#endif
