/*
 * One service mapping (of a spec or of a template) decoded into an
 * envup_service, remembering which node each key came from so that later
 * checks can point at it.
 *
 * Ownership: the envup_service's fields are its own (free them with
 * envup_service__dispose()); envup_service_src borrows nodes from the
 * tree, which must outlive it.
 */
#ifndef ENVUP_COMPOSE_SERVICE_H
#define ENVUP_COMPOSE_SERVICE_H

#include "compose/decode.h"

typedef enum {
	ENVUP_SVC_TEMPLATE = 0,
	ENVUP_SVC_IMAGE,
	ENVUP_SVC_ENV,
	ENVUP_SVC_COMMAND,
	ENVUP_SVC_ENTRYPOINT,
	ENVUP_SVC_PORTS,
	ENVUP_SVC_TMPFS,
	ENVUP_SVC_WAIT,
	ENVUP_SVC_DEPENDS_ON,
	ENVUP_SVC_INIT,
	ENVUP_SVC_EXPECTATIONS,
	ENVUP_SVC_EXPORT,
	ENVUP_SVC_PORT,         /* template only */
	ENVUP_SVC_URL,          /* template only */
	ENVUP_SVC_CREDENTIALS,  /* template only */
	ENVUP_SVC_KEY_COUNT
} envup_service_key;

typedef struct {
	envup_yaml_node *name;                        /* the service's key (specs) */
	envup_yaml_node *key[ENVUP_SVC_KEY_COUNT];    /* each key written, or NULL */
	envup_yaml_node *value[ENVUP_SVC_KEY_COUNT];  /* its value */
	int port;       /* template: the main port (0 = none) */
	bool has_wait;  /* a wait came from the spec or the template */
} envup_service_src;

/**
 * Decode the service mapping `map`. `d`'s path names the service.
 * Specs may not use the template-only keys; templates may not use
 * template, depends_on, init, expectations and export.
 * `svc->name` is left alone. On failure svc holds what was decoded so far
 * (dispose it).
 */
int envup_service__decode(envup_service *svc, envup_service_src *src,
	envup_decode *d, envup_yaml_node *map, bool is_template);

/** Free what a service holds (not the struct); leaves it zeroed. */
void envup_service__dispose(envup_service *svc);

/** True when s is a valid service name: [a-z0-9][a-z0-9_-]{0,62}. */
bool envup_service__name_valid(const char *s);

/** True when s is a valid exported variable name: [A-Za-z_][A-Za-z0-9_]*. */
bool envup_service__var_valid(const char *s);

#endif
