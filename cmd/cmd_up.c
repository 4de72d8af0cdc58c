/*
 * envup up: start every service, wait until each really answers, print the
 * exports on stdout (and nothing else). On failure stdout stays empty.
 */
#include <time.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static const char up_usage[] =
	"usage: envup up [-f FILE] [-n NAME] [--format shell|dotenv|json] [--timeout SECONDS] [-q]\n"
	"\n"
	"Start the environment described by FILE (default envup.yaml), wait until\n"
	"every service answers its real protocol, and print the exports on stdout:\n"
	"  eval \"$(envup up)\"\n"
	"\n"
	"  -f, --file FILE        the spec (default envup.yaml)\n"
	"  -n, --name NAME        environment name (default: the spec's name:, else\n"
	"                         the spec's directory name)\n"
	"      --format FORMAT    shell (default), dotenv or json\n"
	"      --timeout SECONDS  bound for the whole up (default 120)\n"
	"      --owner-pid PID    remove the environment when process PID exits\n"
	"                         (default: the calling shell, envup's parent)\n"
	"      --keep             no owner: the environment stays until envdown,\n"
	"                         'envup gc' after its expiry, or its watchdog's expiry\n"
	"      --ttl DURATION     expiry, e.g. 90s, 30m, 2h (default 1h); the\n"
	"                         environment is removed then, owner or not\n"
	"  -q, --quiet            print only errors on stderr\n"
	"  -h, --help             this help\n";

static const struct option up_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"name", required_argument, NULL, 'n'},
	{"format", required_argument, NULL, 'F'},
	{"timeout", required_argument, NULL, 't'},
	{"quiet", no_argument, NULL, 'q'},
	{"owner-pid", required_argument, NULL, 'O'},
	{"keep", no_argument, NULL, 'K'},
	{"ttl", required_argument, NULL, 'T'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

/* "90", "90s", "30m", "2h", "1d" -> seconds; -1 when invalid */
static double parse_duration(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || v <= 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		return v;
	if (strcmp(end, "m") == 0)
		return v * 60;
	if (strcmp(end, "h") == 0)
		return v * 3600;
	if (strcmp(end, "d") == 0)
		return v * 86400;
	return -1;
}

/* The envup binary, so the watchdog can be exec'd cleanly. */
static const char *self_exe(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	return path;
}

int cli_up_parse(envup_up_options *opts, int *format, bool *quiet, int argc, char **argv,
	const char *cmd, const char *usage_text)
{
	int c;
	char *end;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:f:n:qh", up_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			opts->spec_path = optarg;
			break;
		case 'n':
			opts->name = optarg;
			break;
		case 'F':
			if ((*format = cli_parse_format(optarg)) < 0)
				return cli_usage_error(cmd, "unknown format '%s' (shell, dotenv or json)", optarg);
			break;
		case 't':
			opts->timeout = strtod(optarg, &end);
			if (*end || opts->timeout <= 0 || opts->timeout > 86400)
				return cli_usage_error(cmd, "--timeout takes a number of seconds, not '%s'", optarg);
			break;
		case 'q':
			*quiet = true;
			break;
		case 'O':
			opts->owner_pid = strtol(optarg, &end, 10);
			if (*end || opts->owner_pid <= 0)
				return cli_usage_error(cmd, "--owner-pid takes a process id, not '%s'", optarg);
			break;
		case 'K':
			opts->keep = 1;
			break;
		case 'T':
			if ((opts->ttl = parse_duration(optarg)) <= 0)
				return cli_usage_error(cmd, "--ttl takes a duration such as 90s, 30m or 2h, not '%s'",
					optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		case ':':
			return cli_usage_error(cmd, "%s needs a value", argv[optind - 1]);
		default:
			return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	return 0;
}

void cli_up_prepare(envup_up_options *opts, cli_progress *progress, bool quiet)
{
	opts->watchdog_exe = self_exe();
	cli_progress_init(progress, quiet);
	opts->progress = cli_progress_cb;
	opts->progress_payload = progress;
	opts->cancel = &cli_cancel;
	cli_signals_install();
}

int cmd_up(int argc, char **argv)
{
	envup_up_options opts = ENVUP_UP_OPTIONS_INIT;
	cli_progress progress;
	envup_env *env = NULL;
	char *text = NULL;
	int format = ENVUP_FORMAT_SHELL, error, rc;
	bool quiet = false;
	double start = 0;

	if ((rc = cli_up_parse(&opts, &format, &quiet, argc, argv, "up", up_usage)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (optind < argc)
		return cli_usage_error("up", "unexpected argument '%s'", argv[optind]);
	if (opts.keep && opts.owner_pid)
		return cli_usage_error("up", "--keep and --owner-pid exclude each other");
	/* the owner is the shell that runs envup: with eval "$(envup up)" it is
	 * the shell the tests run in */
	if (!opts.keep && !opts.owner_pid)
		opts.owner_pid = (long)getppid();
	cli_up_prepare(&opts, &progress, quiet);
	{
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		start = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	}
	if ((error = envup_up(&env, &opts)) < 0)
		return cli_fail(error);
	if ((error = envup_env_format(&text, env, (envup_format)format)) < 0) {
		envup_env_free(env);
		return cli_fail(error);
	}
	{
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		cli_progress_summary(&progress, envup_env_name(env),
			(double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - start);
	}
	fputs(text, stdout);
	fflush(stdout);
	envup_free(text);
	envup_env_free(env);
	return CLI_EXIT_OK;
}
