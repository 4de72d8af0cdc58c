/*
 * Loading a service's data before it counts as ready: SQL init scripts
 * through libpq (sql_files.c), MockServer expectations through its REST
 * API (expectations.c).
 */
#ifndef ENVUP_HEALTHCHECK_LOAD_H
#define ENVUP_HEALTHCHECK_LOAD_H

#include "util/util.h"

/**
 * Run each SQL file, in order, in one connection, statement by statement
 * as `psql -v ON_ERROR_STOP=1 -f` does in the official image (autocommit,
 * so a file is atomic only if it says BEGIN/COMMIT; CREATE DATABASE and
 * VACUUM work; "COPY ... FROM stdin" reads the following lines up to "\."
 * as in pg_dump output; other psql backslash commands are an error).
 * `display` gives the names used in messages (same order as `files`; may be
 * NULL to use `files`). Failure: ENVUP_ERROR with
 * "init script DISPLAY line N: SERVER MESSAGE" (SERVER MESSAGE is the
 * primary message plus " (DETAIL)"; N is where the server's error position
 * points, else the line where the failing statement starts). Statements
 * and files after a failing one are not run.
 * `timeout_ms` (<= 0: 60 s) bounds the whole call, connecting included;
 * when it passes, the running statement is cancelled and ENVUP_ETIMEOUT
 * returned. A connection failure is ENVUP_ERROR "init scripts: cannot
 * connect: REASON" (passwords masked).
 */
int envup_pg_run_files(const char *host, int port, const char *user,
	const char *password, const char *database, const envup_strlist *files,
	const envup_strlist *display, long timeout_ms);

/**
 * PUT the JSON file to /mockserver/expectation. A non-2xx answer fails with
 * "expectations DISPLAY rejected by MockServer (HTTP 400): MESSAGE" where
 * MESSAGE is MockServer's own text folded to one line (the expectation it
 * echoes back is left out) and cut to about 300 bytes. Any 2xx is success.
 * `display` NULL means `path`; `timeout_ms` (<= 0: 30 s) bounds the request.
 */
int envup_mockserver_load(const char *host, int port, const char *path,
	const char *display, long timeout_ms);

#endif
