/*
 * envup run -- CMD ARGS...: up, run CMD with the exports in its
 * environment, always tear down, exit with CMD's status.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"

static const char run_usage[] =
	"usage: envup run [-f FILE] [-n NAME] [--timeout SECONDS] [-q] -- CMD [ARGS...]\n"
	"\n"
	"Bring the environment up, run CMD with its exports in the environment,\n"
	"then always take it down. Exits with CMD's status (128+N if CMD or envup\n"
	"was killed by signal N).\n"
	"\n"
	"  -f, --file FILE        the spec (default envup.yaml)\n"
	"  -n, --name NAME        environment name\n"
	"      --timeout SECONDS  bound for the up (default 120)\n"
	"      --ttl DURATION     expiry, e.g. 30m or 2h (default 1h)\n"
	"      --owner-pid PID    also remove everything if PID exits (default:\n"
	"                         this envup run process, so kill -9 of it cleans up)\n"
	"      --no-snapshot      a cold start, and no snapshot taken\n"
	"      --backend NAME     docker (default) or swarm (also ENVUP_BACKEND)\n"
	"      --keep             do not take the environment down after CMD (to\n"
	"                         look at it after a failure): envdown or the expiry\n"
	"                         removes it\n"
	"  -q, --quiet            print only errors on stderr\n"
	"  -h, --help             this help\n";


/* What this run brought up, and nothing else of the name. */
static int teardown(const envup_env *env, bool quiet)
{
	cli_progress progress;
	int error;

	cli_progress_init(&progress, quiet);
	if ((error = envup_env_down(NULL, env, cli_progress_cb, &progress)) < 0) {
		cli_fail(error);
		return -1;
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	envup_up_options opts = ENVUP_UP_OPTIONS_INIT;
	cli_progress progress;
	envup_env *env = NULL;
	int format = 0, error, rc, status = 0, exit_code;
	bool quiet = false;
	pid_t child;
	size_t i;

	if ((rc = cli_up_parse(&opts, &format, &quiet, argc, argv, "run", run_usage)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (optind >= argc)
		return cli_usage_error("run", "missing the command to run after --");
	if (opts.keep && opts.owner_pid)
		return cli_usage_error("run", "--keep and --owner-pid exclude each other");
	/* if this process dies, even by SIGKILL, the watchdog removes everything */
	if (!opts.owner_pid)
		opts.owner_pid = (long)getpid();
	cli_up_prepare(&opts, &progress, quiet);
	error = envup_up(&env, &opts);
	cli_progress_finish(&progress);
	if (error < 0)
		return cli_fail(error);

	if (cli_cancel) {
		exit_code = 128 + (int)cli_signal;
		goto down;
	}
	for (i = 0; i < envup_env_export_count(env); i++)
		setenv(envup_env_export_name(env, i), envup_env_export_value(env, i), 1);
	fflush(NULL);
	if ((child = fork()) < 0) {
		fprintf(stderr, "envup: cannot fork: %s\n", strerror(errno));
		exit_code = CLI_EXIT_FAILURE;
		goto down;
	}
	if (child == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "envup: cannot run %s: %s\n", argv[optind], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	/* forward signals to CMD until it exits */
	for (;;) {
		pid_t r = waitpid(child, &status, 0);
		if (r == child)
			break;
		if (r < 0 && errno == EINTR) {
			if (cli_signal)
				kill(child, (int)cli_signal);
			continue;
		}
		status = 1 << 8;
		break;
	}
	if (WIFEXITED(status))
		exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		exit_code = 128 + WTERMSIG(status);
	else
		exit_code = CLI_EXIT_FAILURE;
down:
	cli_signals_ignore();
	if (opts.keep) {
		cli_up_ownership(env, quiet);
	} else if (teardown(env, quiet) < 0 && exit_code == 0) {
		exit_code = CLI_EXIT_FAILURE;
	}
	envup_env_free(env);
	return exit_code;
}
