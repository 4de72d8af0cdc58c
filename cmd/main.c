/*
 * Entry point: dispatch to a subcommand. Called as `envdown`, envup is
 * `envup down`.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include "cli.h"

static const cli_command commands[] = {
	{"up",     cmd_up,     "start the environment, wait until ready, print exports"},
	{"down",   cmd_down,   "remove everything the environment created (also: envdown)"},
	{"run",    cmd_run,    "up, run a command with the exports, always down"},
	{"env",    cmd_env,    "print the exports of a running environment again"},
	{"status", cmd_status, "services of an environment: state, ports, age"},
	{"logs",   cmd_logs,   "logs of one service"},
	{"ls",     cmd_ls,     "list the environments on the engine"},
	{"gc",     cmd_gc,     "remove environments that expired or whose owner is gone"},
	{"services", cmd_services, "check the spec and list its services"},
	{"config", cmd_config, "the resolved model of a spec or Compose file (masked)"},
	{"db",     cmd_db,     "a database of its own per test: db new SERVICE, db drop URL"},
	{"reset",  cmd_reset,  "put services back as up left them (databases, redis, mocks)"},
	{"snapshot", cmd_snapshot, "the warm-start snapshots: snapshot ls, snapshot rm KEY"},
	{NULL, NULL, NULL}
};

static void usage(FILE *out)
{
	const cli_command *c;
	fprintf(out, "usage: envup [--context NAME] COMMAND [OPTIONS]\n\n"
		"Ephemeral test environments on a Docker Engine.\n\n"
		"Commands:\n");
	for (c = commands; c->name; c++)
		fprintf(out, "  %-9s %s\n", c->name, c->summary);
	fprintf(out, "\n--context NAME: the docker context to use (as DOCKER_CONTEXT).\n"
		"Run 'envup COMMAND --help' for a command's options.\n"
		"Exit codes: 0 ok, 1 failure, 2 usage or spec error, 128+N signal N.\n");
}

/* A closed stdin, stdout or stderr would be the next file opened: a
 * pipe, a socket, the state file. Give each a /dev/null first. */
static void open_std_fds(void)
{
	int fd;
	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd <= 2)
		fcntl(fd, F_SETFD, 0);
	if (fd > 2)
		close(fd);
}

int main(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/');
	const cli_command *c;

	open_std_fds();
	self = self ? self + 1 : argv[0];
	if (strcmp(self, "envdown") == 0)
		return cmd_down(argc, argv);
	/* --context NAME (or --context=NAME) before the command: the docker
	 * CLI's global option, passed on as DOCKER_CONTEXT so that the
	 * watchdog, started later, finds the same engine */
	while (argc >= 2 && strncmp(argv[1], "--context", 9) == 0 &&
	    (argv[1][9] == '\0' || argv[1][9] == '=')) {
		const char *name = argv[1][9] == '=' ? argv[1] + 10 : argc >= 3 ? argv[2] : NULL;
		int used = argv[1][9] == '=' ? 1 : 2;
		if (!name || !*name) {
			fprintf(stderr, "envup: --context needs a context name\n");
			return CLI_EXIT_USAGE;
		}
		if (setenv("DOCKER_CONTEXT", name, 1) < 0 || unsetenv("DOCKER_HOST") < 0) {
			fprintf(stderr, "envup: cannot set DOCKER_CONTEXT\n");
			return CLI_EXIT_FAILURE;
		}
		argv[used] = argv[0];
		argv += used;
		argc -= used;
	}
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("envup %s\n", envup_version());
		return CLI_EXIT_OK;
	}
	for (c = commands; c->name; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "envup: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
