/*
 * The output formats of exports (format.c): shell, dotenv, json, github,
 * gitlab, as envup_env_format() and `envup up --format` write them.
 */
#ifndef ENVUP_PROVISION_FORMAT_H
#define ENVUP_PROVISION_FORMAT_H

#include "util/util.h"

/** Quote s for a POSIX shell: 'it'\''s' (appended to out). */
int envup_shell_quote(envup_buf *out, const char *s);

/**
 * Render exports (ordered) in one of the envup_format formats.
 * @return 0, ENVUP_ESPEC when a name or value cannot be written in that
 *         format (the error names the variable), or ENVUP_ERROR
 */
int envup_exports_format(envup_buf *out, const envup_kvlist *exports, int format);

#endif
