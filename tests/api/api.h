/*
 * The harness of the API tests: programs that use libenvup as a C test
 * suite does, through the installed headers alone (<envup.h>; nothing of
 * the source tree), built here against the build tree's libenvup.so and by
 * tests/install/test_install.sh against an installed prefix.
 *
 * Environments are named it-PID-N (scripts/test.sh removes any a crashed
 * test leaves); api_leftovers() asks the engine itself, over libcurl, what
 * is still labelled with a name.
 */
#ifndef ENVUP_TESTS_API_H
#define ENVUP_TESTS_API_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <envup.h>

/** Exit 77 (skipped) unless ENVUP_TEST_ENGINE is set; fail instead with
 *  ENVUP_TEST_REQUIRE_ENGINE=1. */
void api_require_engine(void);

/** A private state directory ($ENVUP_STATE_DIR, 0700) for this program. */
void api_private_state_dir(void);

/** rm -rf PATH (a directory this program made). */
void api_remove_tree(const char *path);

/** A fresh environment name, it-PID-N. */
void api_name(char *out, size_t len);

/** Containers + networks + volumes on the engine labelled dev.envup.env=NAME. */
size_t api_leftovers(const char *name);

/** One request to the engine itself (libcurl, DOCKER_HOST or the local
 *  socket); the HTTP status, the body in *body (malloc'd; may be NULL). */
long api_engine(const char *method, const char *path, const char *json, char **body);

/** Fail the test with envup's last error when `rc` < 0. */
#define api_ok(rc) api__ok((rc), #rc, __FILE__, __LINE__)
void api__ok(int rc, const char *what, const char *file, int line);

/** A redis:// URL answers AUTH and PING with hiredis; a postgres:// URL
 *  answers SELECT 1 with libpq. Fails the test otherwise. */
void api_check_redis_url(const char *url);
void api_check_postgres_url(const char *url);
/** The same for any thread: 0, or -1 with `why` filled. */
int api_try_redis_url(const char *url, char *why, size_t len);
int api_try_postgres_url(const char *url, char *why, size_t len);

/** The spec of the API tests: postgres and redis with exports. */
extern const char api_spec[];

#endif
