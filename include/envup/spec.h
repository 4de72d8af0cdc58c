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
 * The file envup_spec_read(NULL) reads in the current directory:
 * "envup.yaml" when it exists, else the first of compose.yaml,
 * compose.yml, docker-compose.yaml, docker-compose.yml that does (a static
 * string); NULL when there is none.
 */
ENVUP_EXTERN(const char *) envup_spec_default_path(void);

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
