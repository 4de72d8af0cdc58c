/*
 * envup ls: every envup environment on the engine.
 */
#include <getopt.h>
#include <stdio.h>
#include "cli.h"

static const char ls_usage[] =
	"usage: envup ls\n"
	"\n"
	"List the envup environments on the engine: name, containers running, age.\n"
	"\n"
	"  -h, --help   this help\n";

static const struct option ls_options[] = {
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

void cli_format_age(char *out, size_t len, long long created);

int cmd_ls(int argc, char **argv)
{
	envup_env_summary *envs = NULL;
	size_t n = 0, i;
	int c, error;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", ls_options, NULL)) != -1) {
		if (c == 'h') {
			fputs(ls_usage, stdout);
			return CLI_EXIT_OK;
		}
		return cli_usage_error("ls", "unknown option '%s'", argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error("ls", "unexpected argument '%s'", argv[optind]);
	if ((error = envup_list(&envs, &n, NULL)) < 0)
		return cli_fail(error);
	printf("%-32s %-10s %s\n", "ENVIRONMENT", "RUNNING", "AGE");
	for (i = 0; i < n; i++) {
		char age[32], running[32];
		cli_format_age(age, sizeof(age), envs[i].created);
		snprintf(running, sizeof(running), "%zu/%zu", envs[i].running, envs[i].containers);
		printf("%-32s %-10s %s\n", envs[i].name, running, age);
	}
	envup_list_free(envs, n);
	return CLI_EXIT_OK;
}
