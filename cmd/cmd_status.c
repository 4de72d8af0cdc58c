/*
 * envup status: the services of an environment, their state, ports, age.
 * Never prints a secret.
 */
#include <getopt.h>
#include <stdio.h>
#include <time.h>
#include "cli.h"

static const char status_usage[] =
	"usage: envup status [-f FILE] [-n NAME]\n"
	"\n"
	"Show the services of an environment: state, published ports and age.\n"
	"Exits 1 when the environment is not up.\n"
	"\n"
	"  -f, --file FILE   the spec, read only for its name: (default envup.yaml)\n"
	"  -n, --name NAME   environment name\n"
	"  -h, --help        this help\n";

static const struct option status_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"name", required_argument, NULL, 'n'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

void cli_format_age(char *out, size_t len, long long created);

void cli_format_age(char *out, size_t len, long long created)
{
	long long age = (long long)time(NULL) - created;
	if (age < 0)
		age = 0;
	if (age < 120)
		snprintf(out, len, "%llds", age);
	else if (age < 7200)
		snprintf(out, len, "%lldm", age / 60);
	else
		snprintf(out, len, "%lldh", age / 3600);
}

int cmd_status(int argc, char **argv)
{
	envup_target target = ENVUP_TARGET_INIT;
	envup_service_status *st = NULL;
	size_t n = 0, i;
	char *name = NULL;
	int c, error;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":f:n:h", status_options, NULL)) != -1) {
		switch (c) {
		case 'f': target.spec_path = optarg; break;
		case 'n': target.name = optarg; break;
		case 'h': fputs(status_usage, stdout); return CLI_EXIT_OK;
		case ':': return cli_usage_error("status", "%s needs a value", argv[optind - 1]);
		default: return cli_usage_error("status", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
	if ((error = envup_target_name(&name, &target)) < 0)
		return cli_fail(error);
	if ((error = envup_status(&st, &n, &target)) < 0) {
		envup_free(name);
		return cli_fail(error);
	}
	if (n == 0) {
		fprintf(stderr, "envup: environment '%s' is not up\n", name);
		envup_status_free(st, n);
		envup_free(name);
		return CLI_EXIT_FAILURE;
	}
	printf("environment %s\n", name);
	printf("%-16s %-10s %-6s %-40s %s\n", "SERVICE", "STATE", "AGE", "PORTS", "STATUS");
	for (i = 0; i < n; i++) {
		char age[32];
		cli_format_age(age, sizeof(age), st[i].created);
		printf("%-16s %-10s %-6s %-40s %s\n", st[i].service, st[i].state, age,
			st[i].ports, st[i].status);
	}
	envup_status_free(st, n);
	envup_free(name);
	return CLI_EXIT_OK;
}
