/*
 * Loading a service's data before it counts as ready: SQL init scripts
 * through libpq, MockServer expectations through its REST API.
 */
#ifndef ENVUP_HEALTHCHECK_INIT_H
#define ENVUP_HEALTHCHECK_INIT_H

#include "util/util.h"

/**
 * Run each SQL file, in order, in one connection (each file as a single
 * multi-statement PQexec, so a file is atomic only if it says BEGIN/COMMIT).
 * `display` gives the names used in messages (same order as `files`; may be
 * NULL to use `files`). Failure: ENVUP_ERROR with
 * "init script DISPLAY line N: SERVER MESSAGE".
 */
int envup_pg_run_files(const char *host, int port, const char *user,
	const char *password, const char *database, const envup_strlist *files,
	const envup_strlist *display, long timeout_ms);

/**
 * PUT the JSON file to /mockserver/expectation. A non-2xx answer fails with
 * "expectations DISPLAY rejected by MockServer (HTTP 400): MESSAGE" where
 * MESSAGE is MockServer's own text folded to one line.
 */
int envup_mockserver_load(const char *host, int port, const char *path,
	const char *display, long timeout_ms);

#endif
