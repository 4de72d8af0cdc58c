/*
 * Built-in templates (templates/NAME.yaml, embedded at build time by
 * cmake/embed.cmake), placeholder expansion and export formatting.
 *
 * A template is a YAML mapping with the same keys as a service in a spec
 * plus four keys only templates may use:
 *   port:        the main container port ({{port}}, the URL, the probe)
 *   url:         URL pattern with {{user}} {{password}} {{host}} {{port}} {{database}}
 *   credentials: {user|password|database: {env: VAR, default: VALUE|random}}
 *   wait:        may also be a scalar naming a built-in probe:
 *                postgres | redis | mockserver
 * Values in env/command may use {{user}}, {{password}}, {{database}}.
 */
#ifndef ENVUP_TEMPLATES_TEMPLATE_H
#define ENVUP_TEMPLATES_TEMPLATE_H

#include <stdbool.h>
#include "util/util.h"

typedef struct {
	const char *name;
	const char *text;
	size_t len;
} envup_template_source;

/** Generated table, terminated by a {NULL, NULL, 0} entry. */
extern const envup_template_source envup_template__sources[];

/** The embedded source of template `name`, or NULL. */
const envup_template_source *envup_template_find(const char *name);

/**
 * Expand {{name}} placeholders from `vars`. An unknown placeholder is an
 * error naming it. With `url_encode`, values are percent-encoded
 * (RFC 3986 userinfo-safe) as they are inserted.
 * @param[out] out malloc'd result
 */
int envup_placeholder_expand(char **out, const char *tmpl,
	const envup_kvlist *vars, bool url_encode);

/**
 * Check that `tmpl` only uses placeholders listed in `allowed` (NULL
 * terminated); on failure `*bad` is the first unknown name (malloc'd).
 * Returns 0 when fine, ENVUP_ESPEC otherwise (no error set).
 */
int envup_placeholder_check(char **bad, const char *tmpl, const char *const *allowed);


#endif
