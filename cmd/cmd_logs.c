/*
 * envup logs SERVICE: a service's stdout and stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char logs_usage[] =
	"usage: envup logs [-f FILE] [-n NAME] [--tail N] [--follow] SERVICE\n"
	"\n"
	"Print the logs of one service of an environment that is up.\n"
	"\n"
	"  -f, --file FILE   the spec, read only for its name: (default envup.yaml)\n"
	"  -n, --name NAME   environment name\n"
	"      --tail N      only the last N lines\n"
	"      --follow      keep printing new output until the container stops\n"
	"  -h, --help        this help\n";

static const struct option logs_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"name", required_argument, NULL, 'n'},
	{"tail", required_argument, NULL, 't'},
	{"follow", no_argument, NULL, 'F'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

/* stdout may be a pipe whose reader went away: stop, and say so */
static int write_out(const char *data, size_t len, void *payload)
{
	int *write_error = payload;
	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
		*write_error = errno ? errno : EIO;
		return 1;
	}
	return 0;
}

int cmd_logs(int argc, char **argv)
{
	envup_target target = ENVUP_TARGET_INIT;
	int c, error, tail = -1, follow = 0, write_error = 0;
	char *end;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":f:n:h", logs_options, NULL)) != -1) {
		switch (c) {
		case 'f': target.spec_path = optarg; break;
		case 'n': target.name = optarg; break;
		case 't':
			tail = (int)strtol(optarg, &end, 10);
			if (*end || tail < 0)
				return cli_usage_error("logs", "--tail takes a number of lines, not '%s'", optarg);
			break;
		case 'F': follow = 1; break;
		case 'h': fputs(logs_usage, stdout); return CLI_EXIT_OK;
		case ':': return cli_usage_error("logs", "%s needs a value", argv[optind - 1]);
		default: return cli_usage_error("logs", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("logs", "expected one SERVICE");
	signal(SIGPIPE, SIG_IGN);
	if ((error = envup_logs(&target, argv[optind], tail, follow, write_out, &write_error)) < 0)
		return cli_fail(error);
	if (write_error) {
		fprintf(stderr, "envup: cannot write the logs: %s\n", strerror(write_error));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}
