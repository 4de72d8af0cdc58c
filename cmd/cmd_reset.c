/*
 * envup reset: put the environment's services back as up left them, for
 * suites that isolate tests by resetting between them.
 */
#include <getopt.h>
#include <stdio.h>
#include <time.h>
#include "cli.h"

static const char reset_usage[] =
	"usage: envup reset [SERVICE...] [-f FILE] [-n NAME] [-q]\n"
	"\n"
	"Put services back as 'envup up' left them: a postgres main database is\n"
	"recreated from its template (connections to it are ended), a redis is\n"
	"flushed (every database no test holds), a MockServer's expectations are\n"
	"cleared and the spec's loaded again. No SERVICE: all of those, at once.\n"
	"Databases from 'envup db new' are left alone.\n"
	"\n"
	"  -f, --file FILE   the spec, read only for its name: (default envup.yaml)\n"
	"  -n, --name NAME   environment name\n"
	"  -q, --quiet       print only errors\n"
	"  -h, --help        this help\n";

static const struct option reset_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"name", required_argument, NULL, 'n'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_reset(int argc, char **argv)
{
	envup_target target = ENVUP_TARGET_INIT;
	envup_env *env = NULL;
	bool quiet = false;
	double t0;
	int c, error, rc = CLI_EXIT_OK;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":f:n:qh", reset_options, NULL)) != -1) {
		switch (c) {
		case 'f': target.spec_path = optarg; break;
		case 'n': target.name = optarg; break;
		case 'q': quiet = true; break;
		case 'h': fputs(reset_usage, stdout); return CLI_EXIT_OK;
		case ':': return cli_usage_error("reset", "%s needs a value", argv[optind - 1]);
		default: return cli_usage_error("reset", "unknown option '%s'", argv[optind - 1]);
		}
	}
	t0 = now_s();
	if ((error = envup_env_open(&env, &target)) < 0)
		return cli_fail(error);
	if ((error = envup_env_reset(env, (const char *const *)argv + optind, (size_t)(argc - optind))) < 0) {
		rc = cli_fail(error);
		if (error == ENVUP_ENOTFOUND)
			rc = CLI_EXIT_USAGE;
	} else if (!quiet) {
		fprintf(stderr, "envup: %s reset in %.0f ms\n", envup_env_name(env), (now_s() - t0) * 1000.0);
	}
	envup_env_free(env);
	return rc;
}
