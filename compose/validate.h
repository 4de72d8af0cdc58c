/*
 * Checks that need a whole service (template applied) or the whole spec:
 * wait ports, init and expectations files (resolved to absolute paths),
 * export names and placeholders, and names that would collide once
 * turned into variables.
 */
#ifndef ENVUP_COMPOSE_VALIDATE_H
#define ENVUP_COMPOSE_VALIDATE_H

#include "compose/service.h"

/**
 * Validate spec->services (srcs[i] describes services[i]) and complete
 * them: default waits, wait ports, absolute init/expectations paths.
 * Files are resolved against spec->dir.
 */
int envup_spec__validate(envup_spec *spec, envup_service_src *srcs, envup_decode *d);

/** Set d's path to "services.NAME"; returns the mark of the empty path. */
size_t envup_spec__path_service(envup_decode *d, const char *name);

#endif
