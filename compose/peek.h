/*
 * Reading just the environment name out of a spec, for commands that do
 * not need the whole spec (down, env, status, logs): they must work even
 * when the spec no longer validates, e.g. a ${VAR:?} that is unset in the
 * shell running envdown.
 */
#ifndef ENVUP_COMPOSE_PEEK_H
#define ENVUP_COMPOSE_PEEK_H

#include "util/util.h"

/**
 * The top-level `name:` of the spec at `path`, interpolated.
 * @param[out] name malloc'd, or NULL when the spec has no name:
 * @param[out] dir  malloc'd absolute directory of the spec (or of the
 *                  current directory when the file does not exist)
 * @return 0 (also when the file does not exist), ENVUP_ESPEC for a name
 *         that cannot be read
 */
int envup_spec_peek_name(char **name, char **dir, const char *path);

#endif
