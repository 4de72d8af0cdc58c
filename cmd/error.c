/*
 * Library errors to one-line messages and exit codes, in one place.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"

int cli_fail(int error)
{
	const envup_error *e = envup_error_last();

	if (error == ENVUP_ECANCELLED && cli_signal)
		return 128 + (int)cli_signal;
	if (envup_error_count() > 1) {
		/* every error of a spec, one line each */
		size_t i, shown = envup_error_detail_count();
		for (i = 0; i < shown; i++)
			fprintf(stderr, "envup: %s\n", envup_error_detail(i));
		if (envup_error_count() > shown)
			fprintf(stderr, "envup: ... and %zu more errors\n",
				envup_error_count() - shown);
	} else {
		fprintf(stderr, "envup: %s\n", e->message[0] ? e->message : "failed");
	}
	if (error == ENVUP_ESPEC)
		return CLI_EXIT_USAGE;
	if (error == ENVUP_ECANCELLED)
		return 128 + SIGINT;
	return CLI_EXIT_FAILURE;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "envup %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'envup %s --help')\n", cmd);
	return CLI_EXIT_USAGE;
}

const char *cli_default_spec(bool quiet)
{
	const char *path = envup_spec_default_path();

	if (path && strcmp(path, "envup.yaml") != 0 && !quiet)
		fprintf(stderr, "envup: no envup.yaml here: using %s\n", path);
	return path;
}
