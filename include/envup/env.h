/*
 * The environment handle: a running environment's exports, services,
 * owner and secrets, from envup_up() (up.h) or envup_env_open().
 *
 * Ownership: a handle is freed with envup_env_free(). Strings returned by
 * getters are borrowed and live as long as the handle. Strings returned
 * through char **out are the caller's, freed with envup_free().
 *
 * Threads: a handle may be read from several threads at once; it is not
 * changed after it is made.
 */
#ifndef ENVUP_ENV_H
#define ENVUP_ENV_H

#include <stddef.h>
#include "common.h"
#include "progress.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct envup_env envup_env;

/** Output formats for exports. */
typedef enum {
	ENVUP_FORMAT_SHELL = 0, /**< export NAME='value' (safe for eval) */
	ENVUP_FORMAT_DOTENV,    /**< NAME='value', read alike by sh and dotenv libraries */
	ENVUP_FORMAT_JSON,      /**< {"NAME": "value", ...} */
	ENVUP_FORMAT_GITHUB,    /**< NAME<<DELIMITER lines for $GITHUB_ENV */
	ENVUP_FORMAT_GITLAB     /**< NAME=value, a GitLab dotenv report */
} envup_format;

/** The environment's name (borrowed). */
ENVUP_EXTERN(const char *) envup_env_name(const envup_env *env);

/** Number of exported variables. */
ENVUP_EXTERN(size_t) envup_env_export_count(const envup_env *env);

/** The i-th export's name and value (borrowed); NULL when out of range. */
ENVUP_EXTERN(const char *) envup_env_export_name(const envup_env *env, size_t i);
ENVUP_EXTERN(const char *) envup_env_export_value(const envup_env *env, size_t i);

/** The value of export `name` (borrowed), or NULL. */
ENVUP_EXTERN(const char *) envup_env_export_get(const envup_env *env, const char *name);

/** Number of services of the environment. */
ENVUP_EXTERN(size_t) envup_env_service_count(const envup_env *env);

/** The i-th service's name (borrowed); NULL when out of range. */
ENVUP_EXTERN(const char *) envup_env_service_name(const envup_env *env, size_t i);

/** Where service `service`'s ports are reached ("127.0.0.1"), borrowed;
 *  NULL when there is no such service. */
ENVUP_EXTERN(const char *) envup_env_service_host(const envup_env *env, const char *service);

/**
 * The host port published for `container_port` of `service` (0: its
 * first port), or -1 when the service does not exist or publishes none.
 */
ENVUP_EXTERN(int) envup_env_service_port(const envup_env *env, const char *service, int container_port);

/** The service's URL ("postgres://..."), borrowed; NULL without one. */
ENVUP_EXTERN(const char *) envup_env_service_url(const envup_env *env, const char *service);

/**
 * Who owns the environment, as messages name it ("session 4711 (bash)",
 * "CI job 812 (Runner.Worker)", "process 77 (sh)"), borrowed; NULL when
 * it has no owner.
 */
ENVUP_EXTERN(const char *) envup_env_owner(const envup_env *env);

/** When the environment expires (unix seconds); 0 when unknown. */
ENVUP_EXTERN(long long) envup_env_expires(const envup_env *env);

/** The environment's secrets (passwords, and their URL-encoded forms),
 *  for masking them in logs; borrowed. */
ENVUP_EXTERN(size_t) envup_env_secret_count(const envup_env *env);
ENVUP_EXTERN(const char *) envup_env_secret(const envup_env *env, size_t i);

/**
 * Render the exports.
 * @param[out] out a NUL-terminated string, freed with envup_free()
 * @return 0, or ENVUP_ESPEC when a value cannot be written in `format`
 *         (the error names the variable)
 */
ENVUP_EXTERN(int) envup_env_format(char **out, const envup_env *env, envup_format format);

/** Free the handle (does not take the environment down). Accepts NULL. */
ENVUP_EXTERN(void) envup_env_free(envup_env *env);

/**
 * Take down the environment this handle came from: what its own `up`
 * created (by instance), nothing of another `up` of the same name. The
 * handle stays valid (free it with envup_env_free()).
 * @param[out] removed when non-NULL, the number of resources removed
 */
ENVUP_EXTERN(int) envup_env_down(size_t *removed, const envup_env *env, envup_progress_cb progress,
	void *payload);

#ifdef __cplusplus
}
#endif

#endif
