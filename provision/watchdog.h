/*
 * The watchdog: one small detached process per environment, so that an
 * environment is removed when the process that owns it dies for any
 * reason, SIGKILL included, with no sidecar container and no socket
 * mounted anywhere.
 *
 * envup_up() spawns it before creating anything, and talks to it over a
 * pipe:
 *   - "F" (up failed; up removed everything itself): the watchdog exits;
 *   - "T" (up failed, and the engine did not let it remove everything):
 *     the watchdog takes over the removal, retrying as below;
 *   - "R" (up succeeded): the watchdog now watches the owner;
 *   - end of file with no message (up was killed half-way): it removes
 *     the environment at once.
 * Then it waits, with pidfd_open()+poll() (instant) or, on old kernels,
 * by polling /proc every second, until:
 *   - the owner exits               -> remove the environment, exit;
 *   - the expiry passes             -> remove the environment, exit;
 *   - the environment is gone       -> (envdown ran) exit.
 * It removes by the labels of this one `up` (dev.envup.instance), so a
 * new environment of the same name is never touched. A removal the engine
 * does not complete (a DELETE that hangs or fails) is retried, with a
 * growing pause, until it is done or the expiry has passed (then `envup
 * gc` takes over); when done, it records when and why in the state
 * directory (NAME.removed), which `status`, `env` and `down` report.
 *
 * It does not inherit RUNNER_TRACKING_ID: GitHub's runner kills every
 * process carrying the job's id when the job ends, before the job's
 * Runner.Worker exits; the watchdog must outlive that to see the job end.
 *
 * It detaches fully (setsid, double fork, stdio on /dev/null, every other
 * descriptor closed), so `eval "$(envup up)"` returns as soon as up exits.
 * What it did goes to DIR/NAME.watchdog.log in the state directory.
 *
 * It is always a fresh process: the helper envup-watchdog (helper/), exec'd
 * right after the fork, so that the library never runs code in a forked
 * copy of a threaded program. The helper is found, in order: at
 * options->exe; at $ENVUP_WATCHDOG; next to the library or program that
 * holds this code (DIR/envup-watchdog, DIR/../libexec/envup/envup-watchdog);
 * at the path it was installed to (ENVUP_WATCHDOG_PATH, set at build time).
 */
#ifndef ENVUP_PROVISION_WATCHDOG_H
#define ENVUP_PROVISION_WATCHDOG_H

#include <stdbool.h>
#include <sys/types.h>
#include "util/util.h"

typedef struct {
	const char *env_name;
	const char *instance;       /* the dev.envup.instance label value */
	const char *docker_host;    /* NULL: the default */
	const char *owner;          /* owner label value, NULL: no owner (--keep) */
	const char *owner_text;     /* "session 4711 (bash)", for its log and record */
	const char *state_dir;      /* absolute; NULL: the default */
	long long expires;          /* unix seconds */
	const char *exe;            /* the helper; NULL: look it up (above) */
} envup_watchdog_options;

typedef struct {
	int fd;       /* write end of the status pipe, -1 once released */
	pid_t pid;    /* the first child (reaped at spawn) */
	char **envp;  /* while spawning: the child's environment, held here so
	               * the forked child (which leaves by _exit, freeing
	               * nothing) still reaches it; NULL otherwise */
} envup_watchdog;

#define ENVUP_WATCHDOG_INIT {-1, 0, NULL}

/** Spawn the watchdog (safe with other threads: fork, then exec at once). */
int envup_watchdog_spawn(envup_watchdog *w, const envup_watchdog_options *opts);

/**
 * Start `helper` with `argv` and `envp` fully detached (as above):
 * `status_fd` (or -1) becomes its fd 3, `stdin_fd` (or -1) its stdin.
 * @param[out] first the first child's pid (already reaped)
 */
int envup_watchdog__detach(pid_t *first, const char *helper, const char *const *argv, char **envp,
	int status_fd, int stdin_fd);

/**
 * Start the helper in `mode` ("--pool-fill", "--snapshot") fully detached,
 * with `input` on its stdin and `status_fd` (or -1) as its fd 3;
 * `strip_runner`: without RUNNER_TRACKING_ID (see above).
 */
int envup_watchdog__spawn_fed(const char *mode, const char *input, int status_fd, bool strip_runner);

/**
 * Start the pool filler of a postgres service (pgpool.h): the helper with
 * --pool-fill, reading `conninfo_lines` (host, port, user, password, main
 * database: one per line) on its stdin.
 */
int envup_watchdog_spawn_filler(const char *conninfo_lines);

/** Where the helper is (malloc'd), or ENVUP_ENOTFOUND saying where it looked. */
int envup_watchdog__find(char **out, const char *exe);

/** How up ended, for the watchdog. */
typedef enum {
	ENVUP_WATCHDOG_READY = 'R',    /* watch the owner and the expiry */
	ENVUP_WATCHDOG_FAILED = 'F',   /* up removed everything: exit */
	ENVUP_WATCHDOG_TAKE_OVER = 'T' /* up could not remove everything: do it */
} envup_watchdog_status;

/** Tell it how up ended, and let go of it. Safe to call twice. */
void envup_watchdog_release(envup_watchdog *w, envup_watchdog_status status);

/** The helper's main(): argv[0] is the helper, then its options. */
int envup_watchdog__main(int argc, char **argv);

#endif
