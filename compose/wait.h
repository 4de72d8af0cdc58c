/*
 * The wait: key, which says when a service counts as ready.
 *
 *   wait: none | tcp | http | healthcheck | postgres | redis | mockserver
 *   wait: {tcp: PORT}                         (null PORT: the first port)
 *   wait: {http: {port: P, path: /x, status: 200, method: GET}}
 *   wait: {log: {pattern: REGEX, times: N}}   (or {log: REGEX})
 *   wait: {healthcheck: true}
 *
 * Ownership: an envup_wait owns its strings; envup_wait__dispose() frees them.
 */
#ifndef ENVUP_COMPOSE_WAIT_H
#define ENVUP_COMPOSE_WAIT_H

#include "compose/decode.h"

/** Decode a wait: value; `d`'s path names it. */
int envup_wait__decode(envup_wait *out, envup_decode *d, envup_yaml_node *n);

void envup_wait__dispose(envup_wait *w);

/** "tcp", "http", ... */
const char *envup_wait__kind_name(envup_wait_kind kind);

#endif
