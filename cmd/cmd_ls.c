/*
 * envup ls: every envup environment on the engine, with its owner and
 * expiry; in JSON with --format json.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char ls_usage[] =
	"usage: envup ls [--format text|json]\n"
	"\n"
	"List the envup environments on the engine: name, containers running,\n"
	"age, owner and expiry.\n"
	"\n"
	"      --format FORMAT  text (default) or json (schema in README.md)\n"
	"  -h, --help           this help\n";

static const struct option ls_options[] = {
	{"format", required_argument, NULL, 'F'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

int cmd_ls(int argc, char **argv)
{
	envup_env_summary *envs = NULL;
	size_t n = 0, i;
	bool json = false;
	int c, error;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", ls_options, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") != 0)
				return cli_usage_error("ls", "unknown format '%s' (text or json)", optarg);
			break;
		case 'h': fputs(ls_usage, stdout); return CLI_EXIT_OK;
		case ':': return cli_usage_error("ls", "%s needs a value", argv[optind - 1]);
		default: return cli_usage_error("ls", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("ls", "unexpected argument '%s'", argv[optind]);
	if ((error = envup_list(&envs, &n, NULL)) < 0)
		return cli_fail(error);
	if (json) {
		fputs("[", stdout);
		for (i = 0; i < n; i++) {
			fputs(i ? ",{" : "{", stdout);
			cli_json_summary(stdout, &envs[i]);
			fputs("}", stdout);
		}
		fputs("]\n", stdout);
		envup_list_free(envs, n);
		return CLI_EXIT_OK;
	}
	printf("%-32s %-8s %-6s %-8s %s\n", "ENVIRONMENT", "RUNNING", "AGE", "EXPIRES", "OWNER");
	for (i = 0; i < n; i++) {
		char age[32], running[32], when[32];
		cli_format_age(age, sizeof(age), envs[i].created);
		cli_format_time(when, sizeof(when), envs[i].expires);
		snprintf(running, sizeof(running), "%zu/%zu", envs[i].running, envs[i].containers);
		printf("%-32s %-8s %-6s %-8s %s%s\n", envs[i].name, running, age,
			envs[i].expires ? when : "?", envs[i].owner ? envs[i].owner : "none (kept)",
			envs[i].owner_alive == 0 ? " (gone)" : "");
	}
	envup_list_free(envs, n);
	return CLI_EXIT_OK;
}
