/*
 * Environments: bring a spec up, read its exports, take it down.
 *
 * Ownership: envup_up() returns an envup_env the caller frees with
 * envup_env_free(). Strings returned by getters are borrowed and live as
 * long as the envup_env. Strings returned through char **out are owned by
 * the caller and freed with envup_free().
 */
#ifndef ENVUP_ENV_H
#define ENVUP_ENV_H

#include <stddef.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct envup_env envup_env;

/** Output formats for exports. */
typedef enum {
	ENVUP_FORMAT_SHELL = 0, /**< export NAME='value' (safe for eval) */
	ENVUP_FORMAT_DOTENV,    /**< NAME='value' */
	ENVUP_FORMAT_JSON       /**< {"NAME": "value", ...} */
} envup_format;

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
	ENVUP_STATE_REMOVED
} envup_state;

/**
 * Progress callback. `service` is NULL for environment-wide events;
 * `detail` may be NULL and never contains a secret; `elapsed` is seconds
 * since the operation began. Called from several threads, one call at a time.
 */
typedef void (*envup_progress_cb)(const char *service, envup_state state,
	const char *detail, double elapsed, void *payload);

/** Name of a state ("pulling", "ready", ...). */
const char *envup_state_name(envup_state state);

/** Options for envup_up(). Initialise with ENVUP_UP_OPTIONS_INIT. */
typedef struct {
	int version;
	const char *spec_path;   /**< default "envup.yaml" */
	const char *name;        /**< environment name; default: spec name:, then directory */
	double timeout;          /**< seconds for the whole up; default 120 */
	const char *docker_host; /**< default $DOCKER_HOST, then the local socket */
	const char *image_prefix;/**< default $ENVUP_HUB_IMAGE_PREFIX */
	envup_progress_cb progress;
	void *progress_payload;
	/** when non-NULL and set non-zero (e.g. by a signal handler), up stops,
	 *  removes what it created and returns ENVUP_ECANCELLED */
	const volatile int *cancel;
} envup_up_options;

#define ENVUP_UP_OPTIONS_VERSION 1
#define ENVUP_UP_OPTIONS_INIT {ENVUP_UP_OPTIONS_VERSION, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL}

/**
 * Bring an environment up and wait until every service is ready.
 *
 * On failure everything created is removed before returning.
 *
 * @param[out] out the running environment, freed with envup_env_free()
 * @return 0, ENVUP_ESPEC (invalid spec; nothing created), ENVUP_EEXISTS,
 *         ENVUP_EDOCKER, ENVUP_EUNHEALTHY, ENVUP_ETIMEOUT, ENVUP_ECANCELLED
 *         or ENVUP_ERROR
 */
int envup_up(envup_env **out, const envup_up_options *opts);

/** The environment's name (borrowed). */
const char *envup_env_name(const envup_env *env);

/** Number of exported variables. */
size_t envup_env_export_count(const envup_env *env);

/** The i-th export's name and value (borrowed); NULL when out of range. */
const char *envup_env_export_name(const envup_env *env, size_t i);
const char *envup_env_export_value(const envup_env *env, size_t i);

/** The value of export `name` (borrowed), or NULL. */
const char *envup_env_export_get(const envup_env *env, const char *name);

/**
 * Render the exports.
 * @param[out] out a NUL-terminated string, freed with envup_free()
 */
int envup_env_format(char **out, const envup_env *env, envup_format format);

/** Free the handle (does not take the environment down). Accepts NULL. */
void envup_env_free(envup_env *env);

/** Options for envup_down(). Initialise with ENVUP_DOWN_OPTIONS_INIT. */
typedef struct {
	int version;
	const char *spec_path;   /**< used only to find the name; may be missing */
	const char *name;
	const char *docker_host;
	envup_progress_cb progress;
	void *progress_payload;
} envup_down_options;

#define ENVUP_DOWN_OPTIONS_VERSION 1
#define ENVUP_DOWN_OPTIONS_INIT {ENVUP_DOWN_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL}

/**
 * Remove every container, network and volume labelled with the
 * environment's name. Succeeds when there is nothing to remove.
 *
 * @param[out] removed when non-NULL, the number of resources removed
 */
int envup_down(size_t *removed, const envup_down_options *opts);

/**
 * Load the exports of an environment that is up (from the state envup up
 * left behind, checked against the engine).
 */
int envup_env_open(envup_env **out, const envup_down_options *opts);

#ifdef __cplusplus
}
#endif

#endif
