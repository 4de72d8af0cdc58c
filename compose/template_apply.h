/*
 * Applying a built-in template (templates/NAME.yaml) to a spec service:
 *   image        the spec's, else the template's
 *   env          the template's, then the spec's over it (in order)
 *   command, entrypoint, tmpfs, wait   the spec's if written, else the template's
 *   ports        the template's port, then the spec's ports not already there
 *   url, credentials                   the template's
 */
#ifndef ENVUP_COMPOSE_TEMPLATE_APPLY_H
#define ENVUP_COMPOSE_TEMPLATE_APPLY_H

#include "compose/service.h"

/**
 * Merge the template named by svc->template_name (if any) into svc.
 * `d`'s path names the service. An unknown template is an error at the
 * template: value listing the known ones.
 */
int envup_spec__apply_template(envup_service *svc, envup_service_src *src,
	envup_decode *d);

#endif
