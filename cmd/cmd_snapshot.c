/*
 * envup snapshot: the warm-start snapshots of postgres services.
 *   envup snapshot ls [--format text|json]
 *   envup snapshot rm KEY... | --all
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char snapshot_usage[] =
	"usage: envup snapshot ls [--format text|json]\n"
	"       envup snapshot rm KEY... | --all\n"
	"\n"
	"After an up, envup keeps a snapshot of each postgres service just after\n"
	"its init scripts (an image envup-snapshot:KEY); the next up with the same\n"
	"key (the image, the environment, the command, the init files' contents)\n"
	"starts from it and skips initdb and the init scripts. envup gc keeps the\n"
	"newest 3 per environment and service. Only envup's own images are listed\n"
	"or removed.\n"
	"\n"
	"ls: every snapshot, newest first.\n"
	"rm: the snapshots whose key starts with KEY (4 hex digits or more), or all.\n"
	"\n"
	"      --format FORMAT  text (default) or json (ls)\n"
	"      --all            every snapshot (rm)\n"
	"  -h, --help           this help\n";

static const struct option snapshot_options[] = {
	{"format", required_argument, NULL, 'F'},
	{"all", no_argument, NULL, 'A'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

static int snapshot_ls(bool json)
{
	envup_snapshot_info *v = NULL;
	size_t n = 0, i;
	int error;

	if ((error = envup_snapshot_list(&v, &n, NULL)) < 0)
		return cli_fail(error);
	if (json) {
		fputs("[", stdout);
		for (i = 0; i < n; i++) {
			fputs(i ? ",\n {" : "\n {", stdout);
			fputs("\"key\": ", stdout);
			cli_json_string(stdout, v[i].key);
			fputs(", \"image\": ", stdout);
			cli_json_string(stdout, v[i].image);
			fputs(", \"env\": ", stdout);
			cli_json_string(stdout, v[i].env_name);
			fputs(", \"service\": ", stdout);
			cli_json_string(stdout, v[i].service);
			fputs(", \"created\": ", stdout);
			cli_json_time(stdout, v[i].created);
			printf(", \"size\": %lld}", v[i].size);
		}
		fputs(n ? "\n]\n" : "]\n", stdout);
	} else {
		printf("%-14s %-24s %-12s %-9s %s\n", "KEY", "ENVIRONMENT", "SERVICE", "AGE", "SIZE");
		for (i = 0; i < n; i++) {
			char age[32];
			cli_format_age(age, sizeof(age), v[i].created);
			printf("%-14.12s %-24s %-12s %-9s %.0f MB\n", v[i].key, v[i].env_name, v[i].service, age,
				(double)v[i].size / 1e6);
		}
	}
	envup_snapshot_list_free(v, n);
	return CLI_EXIT_OK;
}

int cmd_snapshot(int argc, char **argv)
{
	const char *verb;
	bool json = false, all = false;
	size_t removed = 0, total = 0;
	int c, error, i;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(snapshot_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	verb = argv[1];
	if (strcmp(verb, "ls") != 0 && strcmp(verb, "rm") != 0)
		return cli_usage_error("snapshot", "unknown subcommand '%s' (ls or rm)", verb);
	opterr = 0;
	optind = 1;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, ":h", snapshot_options, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") != 0)
				return cli_usage_error("snapshot", "unknown format '%s' (text or json)", optarg);
			break;
		case 'A': all = true; break;
		case 'h': fputs(snapshot_usage, stdout); return CLI_EXIT_OK;
		case ':': return cli_usage_error("snapshot", "%s needs a value", argv[optind - 1]);
		default: return cli_usage_error("snapshot", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (strcmp(verb, "ls") == 0) {
		if (optind < argc || all)
			return cli_usage_error("snapshot", "ls takes no arguments");
		return snapshot_ls(json);
	}
	if (json || (all && optind < argc) || (!all && optind >= argc))
		return cli_usage_error("snapshot", "rm takes keys or --all");
	cli_signals_ignore();
	if (all) {
		if ((error = envup_snapshot_remove(&total, NULL, NULL)) < 0)
			return cli_fail(error);
	}
	for (i = optind; i < argc; i++) {
		if ((error = envup_snapshot_remove(&removed, argv[i], NULL)) < 0)
			return cli_fail(error);
		total += removed;
	}
	fprintf(stderr, "envup: removed %zu snapshot%s\n", total, total == 1 ? "" : "s");
	return CLI_EXIT_OK;
}
