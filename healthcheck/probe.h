/*
 * Readiness probes, each speaking the service's real protocol. A probe
 * makes ONE attempt, bounded by `timeout_ms`, and returns:
 *    0  ready
 *    1  not ready (yet); *why is a malloc'd one-line reason, secrets masked
 *   <0  a failure that retrying cannot fix (error set)
 * The waiter (waiter.h) calls a probe at short intervals until it answers.
 */
#ifndef ENVUP_HEALTHCHECK_PROBE_H
#define ENVUP_HEALTHCHECK_PROBE_H

#include "util/util.h"

/**
 * A TCP connection to host:port is accepted and the peer does not hang up
 * within 20 ms. Docker's userland proxy accepts on a published port even
 * while nothing listens inside, then closes at once; that is reported as
 * not ready ("connection closed by peer"). Every address of `host` is tried.
 */
int envup_probe_tcp(char **why, const char *host, int port, long timeout_ms);

/** `method path` over HTTP/1.1 answers `expect_status`. */
int envup_probe_http(char **why, const char *host, int port, const char *method,
	const char *path, int expect_status, long timeout_ms);

/**
 * libpq connects with these credentials (sslmode=disable) and SELECT 1
 * returns 1. Uses the non-blocking connect so `timeout_ms` is honoured to
 * the millisecond.
 */
int envup_probe_postgres(char **why, const char *host, int port, const char *user,
	const char *password, const char *database, long timeout_ms);

/** hiredis connects, AUTH (when password is non-NULL) and PING answers PONG. */
int envup_probe_redis(char **why, const char *host, int port, const char *password,
	long timeout_ms);

/**
 * PUT /mockserver/status answers 200.
 *
 * HTTP probes never use a proxy; a status mismatch reads
 * "HTTP 503 from GET /health: BODY START".
 */
int envup_probe_mockserver(char **why, const char *host, int port, long timeout_ms);

#endif
