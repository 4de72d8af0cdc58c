/*
 * The envup command line: one file per subcommand (cmd_NAME.c), each with
 * its own option table, all using only the public API in <envup.h>.
 *
 * Exit codes (also in README.md):
 *   0 success, 1 run-time failure, 2 usage or spec error,
 *   128+N interrupted by signal N.
 */
#ifndef ENVUP_CMD_CLI_H
#define ENVUP_CMD_CLI_H

#include <signal.h>
#include <stdbool.h>
#include "envup.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAILURE = 1, CLI_EXIT_USAGE = 2 };

typedef struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} cli_command;

int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_env(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_gc(int argc, char **argv);

/* ---- error.c: library errors to messages and exit codes ------------------ */

/** Print "envup: MESSAGE" for the last library error; return the exit code for `error`. */
int cli_fail(int error);
/** Print "envup: MESSAGE" (usage errors) and return CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Parse --format; -1 when unknown. */
int cli_parse_format(const char *s);

/* ---- progress.c: progress lines on stderr ---------------------------------- */

typedef struct {
	bool quiet;
	bool tty;
	int nready;
	char ready[64][96];      /* "postgres 1.23s" */
} cli_progress;

void cli_progress_init(cli_progress *p, bool quiet);
/** An envup_progress_cb: payload is a cli_progress. */
void cli_progress_cb(const char *service, envup_state state, const char *detail,
	double elapsed, void *payload);
/** "ready in 2.31s (postgres 2.10s, redis 0.40s)" */
void cli_progress_summary(cli_progress *p, const char *env_name, double elapsed);

/* ---- cmd_up.c: shared by up and run --------------------------------------- */

/** Parse up's options into opts; 0, -1 after --help, or an exit code. */
int cli_up_parse(envup_up_options *opts, int *format, bool *quiet, int argc, char **argv,
	const char *cmd, const char *usage_text);
/** Progress on stderr, the cancel flag, signal handlers, the watchdog binary. */
void cli_up_prepare(envup_up_options *opts, cli_progress *progress, bool quiet);

/* ---- signals.c ------------------------------------------------------------- */

extern volatile int cli_cancel;       /* raised by SIGINT/SIGTERM/SIGHUP */
extern volatile sig_atomic_t cli_signal;
/** Install handlers that raise cli_cancel (no SA_RESTART). */
void cli_signals_install(void);
/** Ignore the signals (during teardown). */
void cli_signals_ignore(void);

#endif
