/*
 * A spec, read and validated without touching the engine: which services
 * it describes. envup_up() reads the spec itself; this is for a suite that
 * checks its spec in a unit test, or lists its services (as
 * `envup services` does for shell completion).
 *
 * Ownership: a spec is freed with envup_spec_free(); strings returned by
 * getters are borrowed and live as long as it.
 *
 * Threads: specs may be read in several threads at once; one spec may be
 * read from several threads (it is not changed after it is made).
 */
#ifndef ENVUP_SPEC_H
#define ENVUP_SPEC_H

#include <stddef.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct envup_spec envup_spec;

/**
 * Read and validate the spec in file `path` with ${VAR} taken from the
 * environment. An envup spec or a Compose file, told apart by content.
 * NULL: envup.yaml in the current directory, else the first of
 * compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml.
 * @param[out] out the spec, freed with envup_spec_free()
 * @return 0, or ENVUP_ESPEC with "FILE:LINE:COL: KEY: message"
 */
ENVUP_EXTERN(int) envup_spec_read(envup_spec **out, const char *path);

/**
 * The same from memory: `text` is the YAML, `display_path` names it in
 * messages (NULL: "spec"), relative paths in it start at `dir` (NULL: the
 * current directory).
 */
ENVUP_EXTERN(int) envup_spec_read_text(envup_spec **out, const char *text,
	const char *display_path, const char *dir);

/**
 * The file envup_spec_read(NULL) reads: in the current directory
 * "envup.yaml" when it exists, else the first of compose.yaml,
 * compose.yml, docker-compose.yaml, docker-compose.yml that does; else the
 * same in the directory above ("../envup.yaml"), and so on up to the root,
 * as docker compose looks. The string is static (per thread); NULL when
 * there is none.
 */
ENVUP_EXTERN(const char *) envup_spec_default_path(void);

/** What envup_spec_read_with() selects; fields not named are 0 / NULL. */
typedef struct {
	int version;                  /**< ENVUP_SPEC_OPTIONS_VERSION */
	/** only these services and what they depend on; NULL/0: all (a
	 *  Compose file: the ones its profiles leave active) */
	const char *const *services;
	size_t nservices;
	const char *const *profiles;  /**< Compose profiles to enable */
	size_t nprofiles;
	const char *env_file;         /**< instead of .env next to a Compose file */
} envup_spec_options;

#define ENVUP_SPEC_OPTIONS_VERSION 1
#define ENVUP_SPEC_OPTIONS_INIT {.version = ENVUP_SPEC_OPTIONS_VERSION}

/**
 * envup_spec_read() with a selection of services, Compose profiles and
 * an env file. `opts` may be NULL.
 * @return 0, or ENVUP_ESPEC (every error of the file, envup_error_detail())
 */
ENVUP_EXTERN(int) envup_spec_read_with(envup_spec **out, const char *path,
	const envup_spec_options *opts);

/** How envup_spec_config() writes the model. */
typedef enum {
	ENVUP_CONFIG_JSON = 0,
	ENVUP_CONFIG_YAML
} envup_config_format;

/**
 * The resolved model, as `envup config` prints it: for each service its
 * image, template, command, environment, ports (container, host address,
 * host port), mounts, tmpfs, readiness, depends_on and the exports it will
 * have (host and ports as {{placeholders}}); passwords masked as "***",
 * generated ones "(random)". Nothing touches the engine.
 * @param[out] out malloc'd text ending in a newline, freed with envup_free()
 */
ENVUP_EXTERN(int) envup_spec_config(char **out, const envup_spec *spec,
	envup_config_format format);

/** The spec's name:, or NULL when it has none (borrowed). */
ENVUP_EXTERN(const char *) envup_spec_name(const envup_spec *spec);

/** Number of services. */
ENVUP_EXTERN(size_t) envup_spec_service_count(const envup_spec *spec);

/** The i-th service's name, in the order written (borrowed); NULL when out of range. */
ENVUP_EXTERN(const char *) envup_spec_service_name(const envup_spec *spec, size_t i);

/** Free a spec. Accepts NULL. */
ENVUP_EXTERN(void) envup_spec_free(envup_spec *spec);

#ifdef __cplusplus
}
#endif

#endif
