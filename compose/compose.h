/*
 * Compose files as input: a docker-compose.yml read with the Compose
 * specification's semantics into the same validated envup_spec an
 * envup.yaml gives (no second orchestrator).
 *
 *   compose_file.c     recognising a Compose file; the top level (version,
 *                      name, services, volumes, x-*); which services are
 *                      selected (positional names with their depends_on,
 *                      profiles); .env and --env-file for interpolation
 *   compose_service.c  one service's keys, mapped onto envup_service; known
 *                      images (postgres, redis, mockserver) get their
 *                      template's probe, URL and exports
 *   compose_forms.c    the short and long forms of ports, volumes,
 *                      durations, byte sizes, KEY=VALUE lists
 *
 * Decisions are in compose/README.md ("Compose files").
 *
 * Ownership: what is decoded belongs to the spec; nodes are borrowed from
 * the tree, which outlives the decoding.
 */
#ifndef ENVUP_COMPOSE_COMPOSE_H
#define ENVUP_COMPOSE_COMPOSE_H

#include "compose/service.h"

/* While decoding: a depends_on entry with required: false (the bit is
 * cleared, or the entry dropped when the service is not in the file). */
#define ENVUP_DEP_OPTIONAL 0x100

/* What selects the services of a Compose file (spec.h). */
typedef envup_spec_select envup_compose_options;

/** True when the tree is a Compose file rather than an envup spec. */
bool envup_compose__detect(const envup_yaml_node *root);

/**
 * The names of the Compose files envup looks for, in compose's order:
 * compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml.
 */
extern const char *const envup_compose__default_files[];

/**
 * Decode the Compose file `root` into spec (services in file order, their
 * srcs, spec->name, spec->volumes, spec->notices). Every error is recorded
 * in d (one run reports all). `o` may be NULL.
 */
int envup_compose__decode(envup_spec *spec, envup_service_src **srcs, envup_decode *d,
	envup_yaml_node *root, const envup_compose_options *o);

/* ---- compose_service.c -------------------------------------------------- */

/**
 * Decode one selected service mapping `map` into svc (files relative to
 * spec->dir; `declared` the top-level volumes:, or NULL). A known image
 * gets svc->template_name; apply the template, then envup_compose__known().
 */
int envup_compose__service(envup_spec *spec, envup_service *svc, envup_service_src *src,
	envup_decode *d, envup_yaml_node *map, const envup_yaml_node *declared);

/** After the template: what the file says of a known image (redis'
 *  --requirepass, MockServer's initialization file, mounted paths). */
int envup_compose__known(envup_service *svc, envup_service_src *src, envup_decode *d);

/** True for a key of a Compose service (supported or not). */
bool envup_compose__is_compose_key(const char *key);

/** True when `key` looks like a misspelt Compose key, not an envup one. */
bool envup_compose__near_compose_key(const char *key);

/* ---- compose_forms.c ---------------------------------------------------- */

/** A Compose duration ("1m30s", "500ms", "2h", "10": seconds) in seconds. */
int envup_compose__duration(double *out, envup_decode *d, envup_yaml_node *n);

/** A byte size (1024, "64m", "1gb", "512k") in bytes. */
int envup_compose__bytes(long long *out, envup_decode *d, envup_yaml_node *n);

/** `ports:` (short and long forms, ranges) appended to svc's ports and binds. */
int envup_compose__ports(envup_service *svc, envup_decode *d, envup_yaml_node *v);

/** `volumes:` of a service (short and long forms); named volumes must be declared. */
int envup_compose__volumes(envup_service *svc, envup_decode *d, envup_yaml_node *v,
	const envup_spec *spec, const envup_yaml_node *declared);

/**
 * A mapping or a list of "KEY=VALUE" (environment, labels; extra_hosts
 * with `sep` ':'). With `from_env`, a KEY written without a value takes
 * its value from the environment, or is left out when unset (as Compose
 * does); without, it is an empty value.
 */
int envup_compose__kv(envup_kvlist *out, envup_decode *d, envup_yaml_node *v, char sep,
	bool from_env);

/** Read a KEY=VALUE file (.env, env_file) into out; missing files are ENOENT. */
int envup_compose__read_env_file(envup_kvlist *out, const char *path, int *err);

#endif
