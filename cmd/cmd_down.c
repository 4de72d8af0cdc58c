/*
 * envup down / envdown: remove every container, network and volume of the
 * environment, and nothing else. Nothing to remove is success.
 */
#include <getopt.h>
#include <stdio.h>
#include "cli.h"

static const char down_usage[] =
	"usage: envdown [-f FILE] [-n NAME] [--force] [-q]\n"
	"       envdown --all [-q]\n"
	"       envup down [-f FILE] [-n NAME] [--force] [--all] [-q]\n"
	"\n"
	"Remove every container, network and volume of the environment (found by\n"
	"its labels on the engine, never anything envup did not create).\n"
	"An environment whose owner is still running and is not this shell, its\n"
	"session or its CI job (another terminal's, another job's) is left alone\n"
	"unless --force is given.\n"
	"\n"
	"  -f, --file FILE   the spec, read only for its name: (default envup.yaml)\n"
	"  -n, --name NAME   environment name\n"
	"      --force       also when another live owner holds it\n"
	"      --all         every envup environment on the engine (and only those)\n"
	"  -q, --quiet       print only errors\n"
	"  -h, --help        this help\n";

static const struct option down_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"name", required_argument, NULL, 'n'},
	{"quiet", no_argument, NULL, 'q'},
	{"all", no_argument, NULL, 'A'},
	{"force", no_argument, NULL, 'F'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

int cmd_down(int argc, char **argv)
{
	envup_target target = ENVUP_TARGET_INIT;
	cli_progress progress;
	size_t removed = 0;
	bool quiet = false, all = false;
	int c, error;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":f:n:qh", down_options, NULL)) != -1) {
		switch (c) {
		case 'f': target.spec_path = optarg; break;
		case 'n': target.name = optarg; break;
		case 'q': quiet = true; break;
		case 'A': all = true; break;
		case 'F': target.force = 1; break;
		case 'h': fputs(down_usage, stdout); return CLI_EXIT_OK;
		case ':': return cli_usage_error("down", "%s needs a value", argv[optind - 1]);
		default: return cli_usage_error("down", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("down", "unexpected argument '%s'", argv[optind]);
	if (all && (target.name || target.spec_path))
		return cli_usage_error("down", "--all takes no -f or -n");
	cli_progress_init(&progress, quiet);
	target.progress = cli_progress_cb;
	target.progress_payload = &progress;
	/* teardown runs to the end: an interrupted down would leak */
	cli_signals_ignore();
	if (all)
		error = envup_down_all(&removed, &target);
	else
		error = envup_down(&removed, &target);
	if (error < 0)
		return cli_fail(error);
	if (quiet)
		return CLI_EXIT_OK;
	if (removed == 0 && !all) {
		/* nothing to remove: say what became of it, when envup knows */
		envup_removal r;
		char *name = NULL, when[32];
		if (envup_target_name(&name, &target) == 0 && envup_env_removed(&r, &target) == 0) {
			cli_format_clock(when, sizeof(when), r.at);
			fprintf(stderr, "envup: environment '%s' is not up: removed at %s by %s%s%s\n",
				name, when, r.by, r.reason[0] ? ": " : "", r.reason);
		} else {
			fprintf(stderr, "envup: environment '%s' is not up; nothing to remove\n",
				name ? name : "?");
		}
		envup_free(name);
		return CLI_EXIT_OK;
	}
	fprintf(stderr, "envup: removed %zu resource%s\n", removed, removed == 1 ? "" : "s");
	return CLI_EXIT_OK;
}
