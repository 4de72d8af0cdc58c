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

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
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
int cmd_services(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_reset(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);


/* ---- error.c: library errors to messages and exit codes ------------------ */

/** Print "envup: MESSAGE" for the last library error; return the exit code for `error`. */
int cli_fail(int error);

#define CLI_MAX_NAMES 64
extern const char *cli_profiles[CLI_MAX_NAMES];
extern const char *cli_services[CLI_MAX_NAMES];

/** The spec used without -f (envup.yaml, else a Compose file), said on
 *  stderr when it is a Compose file; NULL when there is none (the library
 *  then says where it looked). */
const char *cli_default_spec(bool quiet);
/** Print "envup: MESSAGE" (usage errors) and return CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ---- output.c: exports and times ------------------------------------------ */

/** Parse --format (shell, dotenv, json, github, gitlab); -1 when unknown. */
int cli_parse_format(const char *s);
#define CLI_FORMATS "shell, dotenv, json, github or gitlab"
/** What a format needs before anything starts ($GITHUB_ENV); 0 or an exit code. */
int cli_check_format(const char *cmd, int format);
/** Print the exports in `format` (github: masks on stdout, the file appended). Exit code. */
int cli_print_exports(const envup_env *env, int format);
/** "11:32" today, "2026-12-02 11:32" another day. */
void cli_format_time(char *out, size_t len, long long t);
/** "10:32:05" today, "2026-12-02 10:32:05" another day. */
void cli_format_clock(char *out, size_t len, long long t);
/** "42s", "7m", "3h". */
void cli_format_age(char *out, size_t len, long long created);
/** A JSON string, escaped. */
void cli_json_string(FILE *f, const char *s);
/** An RFC 3339 UTC time as a JSON string, or null for 0. */
void cli_json_time(FILE *f, long long t);
/** The members of an environment summary (name ... keep), without braces. */
void cli_json_summary(FILE *f, const envup_env_summary *s);

/* ---- progress.c: progress lines on stderr ---------------------------------- */

#define CLI_PROGRESS_ROWS 64

typedef struct {
	char service[64];
	envup_state state;
	char detail[160];
	bool done;
	double done_at;
} cli_progress_row;

typedef struct {
	bool quiet;
	bool tty;            /* redraw in place */
	bool color;
	int width;
	double start;
	int nready;
	char ready[CLI_PROGRESS_ROWS][96];      /* "postgres 1.23s" */
	cli_progress_row rows[CLI_PROGRESS_ROWS];
	int nrows;
	int drawn;           /* lines of the block on screen */
	bool closed;         /* the block is final; plain lines from now on */
	bool stop;
	bool ticking;
	pthread_t tick;
	pthread_mutex_t lock;
} cli_progress;

void cli_progress_init(cli_progress *p, bool quiet);
/** An envup_progress_cb: payload is a cli_progress. */
void cli_progress_cb(const char *service, envup_state state, const char *detail,
	double elapsed, void *payload);
/** Stop redrawing (the final state stays on screen). Safe to call twice. */
void cli_progress_finish(cli_progress *p);
/** "ready in 2.31s (postgres 2.10s, redis 0.40s)" (finishes first) */
void cli_progress_summary(cli_progress *p, const char *env_name, double elapsed);

/* ---- cmd_up.c: shared by up and run --------------------------------------- */

/** Parse up's options into opts; 0, -1 after --help, or an exit code. */
int cli_up_parse(envup_up_options *opts, int *format, bool *quiet, int argc, char **argv,
	const char *cmd, const char *usage_text);
/** Progress on stderr, the cancel flag, signal handlers, the watchdog binary. */
void cli_up_prepare(envup_up_options *opts, cli_progress *progress, bool quiet);
/** The one line saying who owns an environment and when it expires. */
void cli_up_ownership(const envup_env *env, bool quiet);
/** Take a just-made environment down again (its exports could not be given). */
void cli_teardown_env(const envup_env *env, bool quiet);
/** Monotonic seconds. */
double cli_now(void);

/* ---- signals.c ------------------------------------------------------------- */

extern volatile int cli_cancel;       /* raised by SIGINT/SIGTERM/SIGHUP */
extern volatile sig_atomic_t cli_signal;
/** Install handlers that raise cli_cancel (no SA_RESTART). */
void cli_signals_install(void);
/** Ignore the signals (during teardown). */
void cli_signals_ignore(void);

#endif
