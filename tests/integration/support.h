/*
 * Helpers for the integration tests: they run the real envup binary
 * against the real engine, then check its exports with real clients.
 *
 * Every test environment gets a unique name (it-PID-N) so runs never
 * collide, and the teardown of every test runs `envdown` and then checks
 * that nothing labelled with that name is left on the engine.
 */
#ifndef ENVUP_TESTS_INTEGRATION_SUPPORT_H
#define ENVUP_TESTS_INTEGRATION_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>
#include <setjmp.h>
#include <cmocka.h>
#include "util/util.h"

/** Exit 77 (ctest: skipped) unless ENVUP_TEST_ENGINE is set; with
 *  ENVUP_TEST_REQUIRE_ENGINE=1, fail instead of skipping. */
void it_require_engine(void);

typedef struct {
	char dir[256];      /* temp dir holding envup.yaml and data files */
	char name[64];      /* environment name */
	envup_buf out;      /* stdout of the last command */
	envup_buf err;      /* stderr of the last command */
	int status;         /* exit status of the last command (128+N if signalled) */
	double seconds;     /* its duration */
	bool initialized;
} it_env;

/** Make a temp dir with `spec` as envup.yaml and a fresh environment name. */
void it_env_init(it_env *t, const char *spec);
/** Write a data file (relative path, directories created) into the dir. */
void it_write(it_env *t, const char *rel, const char *content);
/** Run envup with args (NULL terminated) in the dir, with -n NAME added
 *  after the subcommand unless the first arg is "--no-name". */
int it_envup(it_env *t, ...);
/** Same with an argv array. */
int it_envupv(it_env *t, const char *const *args);
/** envdown -n NAME, then assert nothing labelled with NAME remains; frees. */
void it_env_cleanup(it_env *t);

/** cmocka fixtures: *state is an it_env; the teardown runs envdown and
 *  checks for leftovers even when the test failed half-way. */
int it_setup(void **state);
int it_teardown(void **state);

/** Number of containers + networks + volumes labelled dev.envup.env=NAME. */
size_t it_leftovers(const char *name);

/** Parse the JSON exports printed by `up --format json` into a kvlist. */
void it_parse_json_exports(envup_kvlist *out, const char *json);

/** Read the child's stdout and stderr pipes to the end (into out/err, which
 *  may be NULL), close them and reap it; its exit status, or 128+signal. */
int it_collect(pid_t pid, int out_fd, int err_fd, envup_buf *out, envup_buf *err);

/** Run argv (NULL terminated) in dir with extra env ("K=V", NULL terminated). */
int it_exec(const char *dir, const char *const *argv, const char *const *env,
	envup_buf *out, envup_buf *err, double *seconds);

/** Assert that haystack contains needle, printing both otherwise. */
#define it_assert_contains(haystack, needle) \
	it__assert_contains((haystack), (needle), __FILE__, __LINE__)
void it__assert_contains(const char *h, const char *n, const char *file, int line);
#define it_assert_not_contains(haystack, needle) \
	it__assert_not_contains((haystack), (needle), __FILE__, __LINE__)
void it__assert_not_contains(const char *h, const char *n, const char *file, int line);

#endif
