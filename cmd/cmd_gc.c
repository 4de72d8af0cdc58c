/*
 * envup gc: remove environments that expired or whose owner process is
 * gone, and say what was removed. Safe to run twice or concurrently.
 */
#include <getopt.h>
#include <stdio.h>
#include "cli.h"

static const char gc_usage[] =
	"usage: envup gc [-q]\n"
	"\n"
	"Remove every envup environment on the engine that expired (--ttl) or\n"
	"whose owner process is gone on this machine, and report each one.\n"
	"Environments owned by a live process, or from another machine and not\n"
	"yet expired, are left alone. Of the warm-start snapshots, the newest 3\n"
	"per environment and service are kept, older ones removed.\n"
	"\n"
	"  -q, --quiet   print only errors\n"
	"  -h, --help    this help\n";

static const struct option gc_options[] = {
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

int cmd_gc(int argc, char **argv)
{
	envup_gc_entry *entries = NULL;
	size_t n = 0, i;
	int c, error, rc = CLI_EXIT_OK;
	bool quiet = false;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", gc_options, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case 'h': fputs(gc_usage, stdout); return CLI_EXIT_OK;
		default: return cli_usage_error("gc", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("gc", "unexpected argument '%s'", argv[optind]);
	cli_signals_ignore();
	if ((error = envup_gc(&entries, &n, NULL)) < 0)
		return cli_fail(error);
	for (i = 0; i < n; i++) {
		if (entries[i].failed) {
			fprintf(stderr, "envup: gc: %s (%s): %s\n", entries[i].name, entries[i].reason,
				entries[i].message ? entries[i].message : "not removed");
			rc = CLI_EXIT_FAILURE;
		} else if (!quiet) {
			fprintf(stderr, "envup: gc: removed %s (%s): %zu resource%s\n", entries[i].name,
				entries[i].reason, entries[i].removed, entries[i].removed == 1 ? "" : "s");
		}
	}
	{
		size_t pruned = 0;
		if ((error = envup_snapshot_prune(&pruned, NULL)) < 0) {
			fprintf(stderr, "envup: gc: snapshots: %s\n", envup_error_last()->message);
			rc = CLI_EXIT_FAILURE;
		} else if (!quiet && pruned) {
			fprintf(stderr, "envup: gc: removed %zu older snapshot%s\n", pruned, pruned == 1 ? "" : "s");
		}
		if (!quiet && n == 0 && pruned == 0)
			fprintf(stderr, "envup: gc: nothing to remove\n");
	}
	envup_gc_free(entries, n);
	return rc;
}
