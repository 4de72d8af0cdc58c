/*
 * Splitting a command written as one string ("nginx -g 'daemon off;'")
 * into arguments, like a shell would split words but without running
 * one: no variables, globs, pipes or redirections.
 */
#ifndef ENVUP_COMPOSE_CMDLINE_H
#define ENVUP_COMPOSE_CMDLINE_H

#include "util/util.h"

/**
 * Split `s` into words: separated by blanks (space, tab, newline);
 * '...' keeps everything literally; "..." keeps everything but \" \\ \$
 * and \` which lose their backslash; outside quotes a backslash makes the
 * next character literal. Quotes join with adjacent text (a'b'"c" is abc).
 * @param[out] out words appended (empty when s is blank)
 * @param[out] why on ENVUP_ESPEC, a static reason ("unterminated quote")
 * @return 0, ENVUP_ESPEC or ENVUP_ERROR (out of memory)
 */
int envup_cmdline__split(envup_strlist *out, const char **why, const char *s);

#endif
