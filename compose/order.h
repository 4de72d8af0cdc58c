/*
 * depends_on: every name must be another service of the spec, and the
 * dependencies must not form a cycle. The start order is topological,
 * and otherwise follows the spec: among the services whose dependencies
 * are placed, the one written first goes next.
 */
#ifndef ENVUP_COMPOSE_ORDER_H
#define ENVUP_COMPOSE_ORDER_H

#include "compose/service.h"

/**
 * Check depends_on and fill spec->order (spec->nservices indexes).
 * Errors: "depends on 'x', which is not a service (did you mean 'y'?)",
 * "a service cannot depend on itself", "dependency cycle: a -> b -> a"
 * (at the depends_on entry of the cycle's first service in spec order).
 */
int envup_spec__order(envup_spec *spec, envup_service_src *srcs, envup_decode *d);

#endif
