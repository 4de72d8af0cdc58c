/*
 * envup db: a database of its own per test (include/envup/db.h).
 *   envup db new SERVICE     prints the URL of a database nobody else holds
 *   envup db drop URL        gives it back
 *   envup db reset SERVICE.. the same as envup reset SERVICE..
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char db_usage[] =
	"usage: envup db new SERVICE [-f FILE] [-n NAME]\n"
	"       envup db drop URL [-f FILE] [-n NAME]\n"
	"       envup db reset SERVICE... [-f FILE] [-n NAME]\n"
	"\n"
	"new: print on stdout the URL of a database that nobody else holds, for one\n"
	"test: postgres, a clone of the main database just after its init scripts\n"
	"(ready in a pool); redis, a database number of its own, flushed.\n"
	"drop: give a database from 'new' back (dropped, or flushed and freed).\n"
	"reset: put services back as up left them (see envup reset).\n"
	"Everything handed out goes with the environment at envdown.\n"
	"\n"
	"  -f, --file FILE   the spec, read only for its name: (default envup.yaml)\n"
	"  -n, --name NAME   environment name\n"
	"  -h, --help        this help\n";

static const struct option db_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"name", required_argument, NULL, 'n'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

/* A service or URL that is not there is bad input: exit 2. */
static int db_fail(int error)
{
	int code = cli_fail(error);
	return error == ENVUP_ENOTFOUND ? CLI_EXIT_USAGE : code;
}

int cmd_db(int argc, char **argv)
{
	envup_target target = ENVUP_TARGET_INIT;
	envup_env *env = NULL;
	const char *verb;
	char *url = NULL;
	int c, error, rc = CLI_EXIT_OK;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(db_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	verb = argv[1];
	if (strcmp(verb, "new") != 0 && strcmp(verb, "drop") != 0 && strcmp(verb, "reset") != 0)
		return cli_usage_error("db", "unknown subcommand '%s' (new, drop or reset)", verb);
	opterr = 0;
	optind = 1;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, ":f:n:h", db_options, NULL)) != -1) {
		switch (c) {
		case 'f': target.spec_path = optarg; break;
		case 'n': target.name = optarg; break;
		case 'h': fputs(db_usage, stdout); return CLI_EXIT_OK;
		case ':': return cli_usage_error("db", "%s needs a value", argv[optind - 1]);
		default: return cli_usage_error("db", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (strcmp(verb, "reset") == 0) {
		if (optind >= argc)
			return cli_usage_error("db", "reset needs a service (or use envup reset for all)");
	} else if (optind + 1 != argc) {
		return cli_usage_error("db", optind >= argc ? "%s needs a %s" : "%s takes one %s", verb,
			strcmp(verb, "new") == 0 ? "service" : "URL");
	}
	if ((error = envup_env_open(&env, &target)) < 0)
		return cli_fail(error);
	if (strcmp(verb, "new") == 0) {
		if ((error = envup_db_new(&url, env, argv[optind], NULL)) < 0) {
			rc = db_fail(error);
		} else {
			printf("%s\n", url);
			if (fflush(stdout) != 0)
				rc = CLI_EXIT_FAILURE;
		}
	} else if (strcmp(verb, "drop") == 0) {
		if ((error = envup_db_drop(env, argv[optind])) < 0)
			rc = db_fail(error);
	} else {
		if ((error = envup_env_reset(env, (const char *const *)argv + optind, (size_t)(argc - optind))) < 0)
			rc = db_fail(error);
	}
	envup_free(url);
	envup_env_free(env);
	return rc;
}
