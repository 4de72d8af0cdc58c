/*
 * envup config: the resolved model of a spec or a Compose file (after
 * interpolation, .env, profiles, selection and image inference), without
 * touching the engine, as `docker compose config` does. Secrets masked.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char config_usage[] =
	"usage: envup config [-f FILE] [--format yaml|json] [--profile P]... [--env-file FILE]\n"
	"                    [SERVICE...]\n"
	"\n"
	"Check the spec (an envup.yaml or a Compose file) and print what envup would\n"
	"run: images, ports, mounts, readiness, depends_on and the exports, with\n"
	"passwords masked. Nothing touches the engine; a bad file exits 2 with every\n"
	"error in it. SERVICEs: only these and what they depend on.\n"
	"\n"
	"  -f, --file FILE        the spec (default envup.yaml, else a Compose file)\n"
	"      --format FORMAT    yaml (default) or json\n"
	"      --profile PROFILE  a Compose profile to enable (repeatable)\n"
	"      --env-file FILE    a Compose file's variables from FILE, not .env\n"
	"  -h, --help             this help\n";

static const struct option config_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"format", required_argument, NULL, 'F'},
	{"profile", required_argument, NULL, 'P'},
	{"env-file", required_argument, NULL, 'E'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

int cmd_config(int argc, char **argv)
{
	envup_spec_options opts = ENVUP_SPEC_OPTIONS_INIT;
	envup_config_format format = ENVUP_CONFIG_YAML;
	const char *path = NULL;
	envup_spec *spec = NULL;
	char *text = NULL;
	int c, error;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":f:h", config_options, NULL)) != -1) {
		switch (c) {
		case 'f': path = optarg; break;
		case 'F':
			if (strcmp(optarg, "yaml") == 0)
				format = ENVUP_CONFIG_YAML;
			else if (strcmp(optarg, "json") == 0)
				format = ENVUP_CONFIG_JSON;
			else
				return cli_usage_error("config", "unknown format '%s' (yaml, json)", optarg);
			break;
		case 'P':
			if (opts.nprofiles >= CLI_MAX_NAMES)
				return cli_usage_error("config", "at most %d profiles", CLI_MAX_NAMES);
			cli_profiles[opts.nprofiles++] = optarg;
			opts.profiles = cli_profiles;
			break;
		case 'E': opts.env_file = optarg; break;
		case 'h': fputs(config_usage, stdout); return CLI_EXIT_OK;
		case ':': return cli_usage_error("config", "%s needs a value", argv[optind - 1]);
		default: return cli_usage_error("config", "unknown option '%s'", argv[optind - 1]);
		}
	}
	for (; optind < argc; optind++) {
		if (argv[optind][0] == '-')
			return cli_usage_error("config", "options go before the service names: '%s'",
				argv[optind]);
		if (opts.nservices >= CLI_MAX_NAMES)
			return cli_usage_error("config", "at most %d services", CLI_MAX_NAMES);
		cli_services[opts.nservices++] = argv[optind];
		opts.services = cli_services;
	}
	if ((error = envup_spec_read_with(&spec, path, &opts)) < 0 ||
	    (error = envup_spec_config(&text, spec, format)) < 0) {
		envup_spec_free(spec);
		return cli_fail(error);
	}
	fputs(text, stdout);
	envup_free(text);
	envup_spec_free(spec);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "envup: cannot write to stdout\n");
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}
