/*
 * envup env: print the exports of a running environment again.
 */
#include <getopt.h>
#include <stdio.h>
#include "cli.h"

static const char env_usage[] =
	"usage: envup env [-f FILE] [-n NAME] [--format FORMAT]\n"
	"\n"
	"Print the exports of an environment that is up, as 'envup up' did.\n"
	"\n"
	"  -f, --file FILE     the spec, read only for its name: (default envup.yaml)\n"
	"  -n, --name NAME     environment name\n"
	"      --format FORMAT shell (default), dotenv, json, github or gitlab\n"
	"  -h, --help          this help\n";

static const struct option env_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"name", required_argument, NULL, 'n'},
	{"format", required_argument, NULL, 'F'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

int cmd_env(int argc, char **argv)
{
	envup_target target = ENVUP_TARGET_INIT;
	envup_env *env = NULL;
	int c, error, format = ENVUP_FORMAT_SHELL;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":f:n:h", env_options, NULL)) != -1) {
		switch (c) {
		case 'f': target.spec_path = optarg; break;
		case 'n': target.name = optarg; break;
		case 'F':
			if ((format = cli_parse_format(optarg)) < 0)
				return cli_usage_error("env", "unknown format '%s' (" CLI_FORMATS ")", optarg);
			break;
		case 'h': fputs(env_usage, stdout); return CLI_EXIT_OK;
		case ':': return cli_usage_error("env", "%s needs a value", argv[optind - 1]);
		default: return cli_usage_error("env", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("env", "unexpected argument '%s'", argv[optind]);
	if ((c = cli_check_format("env", format)) != 0)
		return c;
	if ((error = envup_env_open(&env, &target)) < 0)
		return cli_fail(error);
	c = cli_print_exports(env, format);
	envup_env_free(env);
	return c;
}
