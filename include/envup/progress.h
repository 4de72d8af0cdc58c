/*
 * Progress: what envup_up() and envup_down() report while they work.
 */
#ifndef ENVUP_PROGRESS_H
#define ENVUP_PROGRESS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Progress events, reported while an environment comes up or goes down. */
typedef enum {
	ENVUP_STATE_PULLING = 0,
	ENVUP_STATE_CREATING,
	ENVUP_STATE_STARTING,
	ENVUP_STATE_WAITING,     /**< started, probing for readiness */
	ENVUP_STATE_INITIALIZING,/**< running init scripts / loading mocks */
	ENVUP_STATE_READY,
	ENVUP_STATE_FAILED,
	ENVUP_STATE_REMOVING,
	ENVUP_STATE_REMOVED,
	ENVUP_STATE_NOTICE       /**< something the user should know (service NULL):
	                          *   a key of a Compose file envup ignores, the file used */
} envup_state;

/**
 * Progress callback. `service` is NULL for environment-wide events;
 * `detail` may be NULL and never contains a secret; `elapsed` is seconds
 * since the operation began. Called from several threads, one call at a time.
 */
typedef void (*envup_progress_cb)(const char *service, envup_state state,
	const char *detail, double elapsed, void *payload);

/** Name of a state ("pulling", "ready", ...). */
ENVUP_EXTERN(const char *) envup_state_name(envup_state state);

#ifdef __cplusplus
}
#endif

#endif
