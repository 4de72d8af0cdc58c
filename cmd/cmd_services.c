/*
 * envup services: the services of a spec, one per line, after checking
 * the whole spec (nothing touches the engine). Shell completion uses it.
 */
#include <getopt.h>
#include <stdio.h>
#include "cli.h"

static const char services_usage[] =
	"usage: envup services [-f FILE]\n"
	"\n"
	"Check the spec and print its services, one per line, in the order\n"
	"written. Nothing is created; a bad spec exits 2 naming file, line and key.\n"
	"\n"
	"  -f, --file FILE   the spec (default envup.yaml)\n"
	"  -h, --help        this help\n";

static const struct option services_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

int cmd_services(int argc, char **argv)
{
	const char *path = NULL;
	envup_spec *spec = NULL;
	size_t i;
	int c, error;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":f:h", services_options, NULL)) != -1) {
		switch (c) {
		case 'f': path = optarg; break;
		case 'h': fputs(services_usage, stdout); return CLI_EXIT_OK;
		case ':': return cli_usage_error("services", "%s needs a value", argv[optind - 1]);
		default: return cli_usage_error("services", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("services", "unexpected argument '%s'", argv[optind]);
	if ((error = envup_spec_read(&spec, path)) < 0)
		return cli_fail(error);
	for (i = 0; i < envup_spec_service_count(spec); i++)
		printf("%s\n", envup_spec_service_name(spec, i));
	envup_spec_free(spec);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "envup: cannot write to stdout\n");
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}
