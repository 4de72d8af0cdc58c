/*
 * envup db: a database of its own per test (include/envup/db.h).
 *   envup db new SERVICE     prints the URL of a database nobody else holds
 *   envup db drop URL        gives it back
 *   envup db reset SERVICE.. the same as envup reset SERVICE..
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static const char db_usage[] =
	"usage: envup db new SERVICE [-f FILE] [-n NAME] [--holder TEXT]\n"
	"       envup db drop URL [-f FILE] [-n NAME]\n"
	"       envup db ls [-f FILE] [-n NAME] [--format text|json]\n"
	"       envup db reset [SERVICE...] [-f FILE] [-n NAME] [-q]\n"
	"\n"
	"new: print on stdout the URL of a database that nobody else holds, for one\n"
	"test: postgres, a clone of the main database just after its init scripts\n"
	"(ready in a pool); redis, a database number of its own, flushed.\n"
	"drop: give a database from 'new' back (dropped, or flushed and freed); URL\n"
	"  '-' reads it from stdin (the URL holds the password; ps shows arguments);\n"
	"  only its port and database count, so postgres://127.0.0.1:PORT/NAME does too.\n"
	"ls: the databases handed out and not given back, and who holds them.\n"
	"reset: put services back as up left them (see envup reset).\n"
	"Everything handed out goes with the environment at envdown.\n"
	"\n"
	"  -f, --file FILE   the spec, read only for its name: (default envup.yaml)\n"
	"  -n, --name NAME   environment name\n"
	"      --holder TEXT who holds it, for db ls (default: the calling process)\n"
	"      --format FMT  text (default) or json (ls)\n"
	"  -h, --help        this help\n";

static const struct option db_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"name", required_argument, NULL, 'n'},
	{"holder", required_argument, NULL, 'H'},
	{"format", required_argument, NULL, 'F'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

/* "pid 4711 (cargo)": the process that ran this one, a test or its runner. */
static void default_holder(char *out, size_t len)
{
	char path[64], comm[64] = "";
	FILE *f;
	long pp = (long)getppid();

	snprintf(path, sizeof(path), "/proc/%ld/comm", pp);
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	if (comm[0])
		snprintf(out, len, "pid %ld (%s)", pp, comm);
	else
		snprintf(out, len, "pid %ld", pp);
}

static int db_ls(const envup_env *env, bool json)
{
	envup_db_held *v = NULL;
	size_t n = 0, i;
	int error;

	if ((error = envup_db_list(&v, &n, env)) < 0)
		return cli_fail(error);
	if (json) {
		fputs("[", stdout);
		for (i = 0; i < n; i++) {
			fputs(i ? ",\n {\"service\": " : "\n {\"service\": ", stdout);
			cli_json_string(stdout, v[i].service);
			fputs(", \"database\": ", stdout);
			cli_json_string(stdout, v[i].database);
			fputs(", \"holder\": ", stdout);
			cli_json_string(stdout, v[i].holder);
			fputs(", \"since\": ", stdout);
			cli_json_time(stdout, v[i].since);
			fputs("}", stdout);
		}
		fputs(n ? "\n]\n" : "]\n", stdout);
	} else {
		printf("%-16s %-28s %-8s %s\n", "SERVICE", "DATABASE", "AGE", "HOLDER");
		for (i = 0; i < n; i++) {
			char age[32] = "-";
			if (v[i].since > 0)
				cli_format_age(age, sizeof(age), v[i].since);
			printf("%-16s %-28s %-8s %s\n", v[i].service, v[i].database, age, v[i].holder);
		}
	}
	envup_db_list_free(v, n);
	return CLI_EXIT_OK;
}

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
	const char *verb, *holder = NULL;
	char *url = NULL, who[128];
	bool json = false;
	int c, error, rc = CLI_EXIT_OK;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(db_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	verb = argv[1];
	/* db reset is envup reset, output and options alike */
	if (strcmp(verb, "reset") == 0)
		return cmd_reset(argc - 1, argv + 1);
	if (strcmp(verb, "new") != 0 && strcmp(verb, "drop") != 0 && strcmp(verb, "ls") != 0)
		return cli_usage_error("db", "unknown subcommand '%s' (new, drop, ls or reset)", verb);
	opterr = 0;
	optind = 1;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, ":f:n:h", db_options, NULL)) != -1) {
		switch (c) {
		case 'f': target.spec_path = optarg; break;
		case 'n': target.name = optarg; break;
		case 'H': holder = optarg; break;
		case 'F':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") != 0)
				return cli_usage_error("db", "unknown format '%s' (text or json)", optarg);
			break;
		case 'h': fputs(db_usage, stdout); return CLI_EXIT_OK;
		case ':': return cli_usage_error("db", "%s needs a value", argv[optind - 1]);
		default: return cli_usage_error("db", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (strcmp(verb, "ls") == 0) {
		if (optind < argc)
			return cli_usage_error("db", "ls takes no arguments");
	} else if (optind + 1 != argc) {
		return cli_usage_error("db", optind >= argc ? "%s needs a %s" : "%s takes one %s", verb,
			strcmp(verb, "new") == 0 ? "service" : "URL");
	}
	if ((error = envup_env_open(&env, &target)) < 0)
		return cli_fail(error);
	if (!holder) {
		default_holder(who, sizeof(who));
		holder = who;
	}
	if (strcmp(verb, "ls") == 0) {
		rc = db_ls(env, json);
	} else if (strcmp(verb, "new") == 0) {
		if ((error = envup_db_new(&url, env, argv[optind], holder)) < 0) {
			rc = db_fail(error);
		} else {
			printf("%s\n", url);
			if (fflush(stdout) != 0)
				rc = CLI_EXIT_FAILURE;
		}
	} else if (strcmp(verb, "drop") == 0) {
		/* "-": the URL on stdin, off the command line (ps shows argv, and
		 * the URL holds the password) */
		char line[4096];
		const char *u = argv[optind];
		if (strcmp(u, "-") == 0) {
			if (!fgets(line, sizeof(line), stdin)) {
				envup_env_free(env);
				return cli_usage_error("db", "drop -: no URL on stdin");
			}
			line[strcspn(line, "\r\n")] = '\0';
			u = line;
		}
		if ((error = envup_db_drop(env, u)) < 0)
			rc = db_fail(error);
	}
	envup_free(url);
	envup_env_free(env);
	return rc;
}
