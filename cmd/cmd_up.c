/*
 * envup up: start every service, wait until each really answers, print the
 * exports on stdout (and nothing else). On failure stdout stays empty.
 */
#include <math.h>
#include <time.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static const char up_usage[] =
	"usage: envup up [-f FILE] [-n NAME] [--format FORMAT] [--timeout SECONDS] [-q]\n"
	"                [--profile P]... [--env-file FILE] [SERVICE...]\n"
	"\n"
	"Start the environment described by FILE (default envup.yaml, else\n"
	"compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml), wait\n"
	"until every service answers its real protocol, and print the exports on\n"
	"stdout:\n"
	"  exports=$(envup up) && eval \"$exports\"\n"
	"SERVICEs: only these and what they depend on.\n"
	"\n"
	"The environment lives until envdown, its expiry, or the end of the CI job\n"
	"or terminal session that ran envup up, whichever comes first.\n"
	"\n"
	"  -f, --file FILE        the spec: an envup.yaml or a Compose file\n"
	"      --profile PROFILE  a Compose profile to enable (repeatable)\n"
	"      --env-file FILE    a Compose file's variables from FILE, not .env\n"
	"  -n, --name NAME        environment name (default: the spec's name:, else\n"
	"                         the spec's directory name and a hash of its path)\n"
	"      --format FORMAT    shell (default), dotenv, json, github ($GITHUB_ENV\n"
	"                         and ::add-mask::) or gitlab (a dotenv report)\n"
	"      --timeout SECONDS  bound for the whole up (default 120)\n"
	"      --owner-pid PID    remove the environment when process PID exits\n"
	"                         (default: the CI job, else the terminal session)\n"
	"      --keep             no owner: the environment stays until envdown or\n"
	"                         its expiry\n"
	"      --ttl DURATION     expiry, e.g. 90s, 30m, 2h (default 1h, at most 30d);\n"
	"                         the environment is removed then, owner or not\n"
	"      --no-snapshot      no warm start from a snapshot, and none taken\n"
	"                         (also ENVUP_SNAPSHOTS=0)\n"
	"      --backend NAME     docker (default) or swarm: services on the swarm\n"
	"                         whose manager DOCKER_HOST is (also ENVUP_BACKEND,\n"
	"                         or backend: in the spec)\n"
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
	{"profile", required_argument, NULL, 'P'},
	{"env-file", required_argument, NULL, 'E'},
	{"no-snapshot", no_argument, NULL, 'S'},
	{"backend", required_argument, NULL, 'B'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

/* "90", "90s", "30m", "2h", "1d" -> seconds; -1 when invalid, not a
 * finite number, or above `max` */
static double parse_duration(const char *s, double max)
{
	char *end;
	double v = strtod(s, &end), unit = 0;
	if (end == s || !isfinite(v) || v <= 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		unit = 1;
	else if (strcmp(end, "m") == 0)
		unit = 60;
	else if (strcmp(end, "h") == 0)
		unit = 3600;
	else if (strcmp(end, "d") == 0)
		unit = 86400;
	if (unit == 0 || v * unit > max)
		return -1;
	return v * unit;
}

const char *cli_profiles[CLI_MAX_NAMES];
const char *cli_services[CLI_MAX_NAMES];

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
				return cli_usage_error(cmd, "unknown format '%s' (" CLI_FORMATS ")", optarg);
			break;
		case 't':
			opts->timeout = strtod(optarg, &end);
			if (end == optarg || *end || !isfinite(opts->timeout) || opts->timeout <= 0 ||
			    opts->timeout > ENVUP_TIMEOUT_MAX)
				return cli_usage_error(cmd, "--timeout takes a number of seconds from 1 to "
					"86400, not '%s'", optarg);
			break;
		case 'q':
			*quiet = true;
			break;
		case 'O':
			opts->owner_pid = strtol(optarg, &end, 10);
			if (end == optarg || *end || opts->owner_pid <= 0)
				return cli_usage_error(cmd, "--owner-pid takes a process id, not '%s'", optarg);
			break;
		case 'K':
			opts->keep = 1;
			break;
		case 'S':
			opts->no_snapshot = 1;
			break;
		case 'B':
			if (strcmp(optarg, "docker") != 0 && strcmp(optarg, "swarm") != 0)
				return cli_usage_error(cmd, "unknown backend '%s' (docker or swarm)", optarg);
			opts->backend = optarg;
			break;
		case 'T':
			if ((opts->ttl = parse_duration(optarg, ENVUP_TTL_MAX)) <= 0)
				return cli_usage_error(cmd, "--ttl takes a duration such as 90s, 30m or 2h, "
					"at most 30d, not '%s'", optarg);
			break;
		case 'P':
			if (opts->nprofiles >= CLI_MAX_NAMES)
				return cli_usage_error(cmd, "at most %d profiles", CLI_MAX_NAMES);
			cli_profiles[opts->nprofiles++] = optarg;
			opts->profiles = cli_profiles;
			break;
		case 'E':
			opts->env_file = optarg;
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
	cli_progress_init(progress, quiet);
	opts->progress = cli_progress_cb;
	opts->progress_payload = progress;
	opts->cancel = &cli_cancel;
	cli_signals_install();
}

/* "owned by session 4711 (bash), expires 11:32; envdown removes it" */
void cli_up_ownership(const envup_env *env, bool quiet)
{
	char when[32];
	const char *owner = envup_env_owner(env);

	if (quiet)
		return;
	cli_format_time(when, sizeof(when), envup_env_expires(env));
	if (owner)
		fprintf(stderr, "envup: owned by %s, expires %s; `envdown%s%s` removes it sooner\n",
			owner, when, " -n ", envup_env_name(env));
	else
		fprintf(stderr, "envup: kept (no owner), expires %s; `envdown -n %s` removes it sooner\n",
			when, envup_env_name(env));
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
	for (; optind < argc; optind++) {
		if (argv[optind][0] == '-')
			return cli_usage_error("up", "options go before the service names: '%s'",
				argv[optind]);
		if (opts.nservices >= CLI_MAX_NAMES)
			return cli_usage_error("up", "at most %d services", CLI_MAX_NAMES);
		cli_services[opts.nservices++] = argv[optind];
		opts.services = cli_services;
	}
	if (!opts.spec_path && (opts.spec_path = cli_default_spec(quiet)) == NULL)
		opts.spec_path = NULL;
	if (opts.keep && opts.owner_pid)
		return cli_usage_error("up", "--keep and --owner-pid exclude each other");
	if ((rc = cli_check_format("up", format)) != 0)
		return rc;
	/* the owner is the work envup runs in, not its parent: a CI step's
	 * shell, a make recipe line, timeout(1) or the subshell of
	 * $(envup up 2>log) all exit long before the environment is done */
	opts.owner = ENVUP_OWNER_SESSION;
	cli_up_prepare(&opts, &progress, quiet);
	start = cli_now();
	error = envup_up(&env, &opts);
	cli_progress_finish(&progress);
	if (error < 0)
		return cli_fail(error);
	/* the values must fit the format before anything is printed; when
	 * they do not, nothing may stay up */
	if ((error = envup_env_format(&text, env, (envup_format)format)) < 0) {
		rc = cli_fail(error);
		cli_teardown_env(env, quiet);
		envup_env_free(env);
		return rc;
	}
	envup_free(text);
	cli_progress_summary(&progress, envup_env_name(env), cli_now() - start);
	cli_up_ownership(env, quiet);
	rc = cli_print_exports(env, format);
	if (rc != CLI_EXIT_OK)
		cli_teardown_env(env, quiet);
	envup_env_free(env);
	return rc;
}

void cli_teardown_env(const envup_env *env, bool quiet)
{
	cli_progress progress;
	int error;

	cli_progress_init(&progress, quiet);
	cli_signals_ignore();
	if ((error = envup_env_down(NULL, env, cli_progress_cb, &progress)) < 0)
		cli_fail(error);
}

double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
