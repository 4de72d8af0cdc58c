/*
 * envup status: the services of an environment, their state, ports, age,
 * its owner and expiry; in JSON with --format json. Never prints a
 * secret, and nothing read from the engine reaches the terminal unfiltered
 * (the library makes every string printable).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cli.h"

static const char status_usage[] =
	"usage: envup status [-f FILE] [-n NAME] [--format text|json]\n"
	"\n"
	"Show the services of an environment: state, published ports and age,\n"
	"and who owns it and when it expires. Exits 1 when the environment is not\n"
	"up, saying when and why envup removed it if it did.\n"
	"\n"
	"  -f, --file FILE      the spec, read only for its name: (default envup.yaml)\n"
	"  -n, --name NAME      environment name\n"
	"      --format FORMAT  text (default) or json (schema in README.md)\n"
	"  -h, --help           this help\n";

static const struct option status_options[] = {
	{"file", required_argument, NULL, 'f'},
	{"name", required_argument, NULL, 'n'},
	{"format", required_argument, NULL, 'F'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

static void print_json(const envup_env_summary *sum, const envup_service_status *st, size_t n)
{
	size_t i, j;

	fputs("{", stdout);
	cli_json_summary(stdout, sum);
	fputs(",\"up\":true,\"services\":[", stdout);
	for (i = 0; i < n; i++) {
		fputs(i ? ",{\"service\":" : "{\"service\":", stdout);
		cli_json_string(stdout, st[i].service);
		fputs(",\"container\":", stdout);
		cli_json_string(stdout, st[i].container);
		fputs(",\"image\":", stdout);
		cli_json_string(stdout, st[i].image);
		fputs(",\"state\":", stdout);
		cli_json_string(stdout, st[i].state);
		fputs(",\"status\":", stdout);
		cli_json_string(stdout, st[i].status);
		fputs(",\"created\":", stdout);
		cli_json_time(stdout, st[i].created);
		fputs(",\"node\":", stdout);
		if (st[i].node)
			cli_json_string(stdout, st[i].node);
		else
			fputs("null", stdout);
		fputs(",\"ports\":[", stdout);
		for (j = 0; j < st[i].nports; j++) {
			const envup_port *p = &st[i].port_list[j];
			fprintf(stdout, "%s{\"container_port\":%d,\"protocol\":", j ? "," : "",
				p->container_port);
			cli_json_string(stdout, p->protocol);
			fputs(",\"host_ip\":", stdout);
			cli_json_string(stdout, p->host_ip);
			fprintf(stdout, ",\"host_port\":%d}", p->host_port);
		}
		fputs("]}", stdout);
	}
	fputs("]}\n", stdout);
}

static void print_text(const envup_env_summary *sum, const envup_service_status *st, size_t n)
{
	char when[32];
	size_t i;

	cli_format_time(when, sizeof(when), sum->expires);
	printf("environment %s\n", sum->name);
	if (sum->owner)
		printf("owner       %s%s\n", sum->owner,
			sum->owner_alive == 0 ? " (gone: its watchdog or envup gc removes it)" : "");
	else
		printf("owner       none (kept)\n");
	printf("expires     %s\n", sum->expires ? when : "unknown");
	for (i = 0; i < n && !st[i].node; i++)
		;
	if (i < n) {
		/* a swarm's: which node runs each */
		printf("%-16s %-10s %-6s %-16s %-32s %s\n", "SERVICE", "STATE", "AGE", "NODE", "PORTS", "STATUS");
		for (i = 0; i < n; i++) {
			char age[32];
			cli_format_age(age, sizeof(age), st[i].created);
			printf("%-16s %-10s %-6s %-16s %-32s %s\n", st[i].service, st[i].state, age,
				st[i].node ? st[i].node : "-", st[i].ports, st[i].status);
		}
		return;
	}
	printf("%-16s %-10s %-6s %-40s %s\n", "SERVICE", "STATE", "AGE", "PORTS", "STATUS");
	for (i = 0; i < n; i++) {
		char age[32];
		cli_format_age(age, sizeof(age), st[i].created);
		printf("%-16s %-10s %-6s %-40s %s\n", st[i].service, st[i].state, age,
			st[i].ports, st[i].status);
	}
}

/* Not up: text on stderr, or a JSON object on stdout; exit 1 either way. */
static int not_up(const envup_target *target, bool json)
{
	envup_removal r;
	char *name = NULL;

	if (!json)
		return cli_fail(ENVUP_ENOTFOUND);
	envup_target_name(&name, target);
	fputs("{\"name\":", stdout);
	cli_json_string(stdout, name);
	fputs(",\"up\":false,\"removed\":", stdout);
	if (envup_env_removed(&r, target) == 0) {
		fputs("{\"at\":", stdout);
		cli_json_time(stdout, r.at);
		fputs(",\"by\":", stdout);
		cli_json_string(stdout, r.by);
		fputs(",\"reason\":", stdout);
		cli_json_string(stdout, r.reason);
		fputs("}", stdout);
	} else {
		fputs("null", stdout);
	}
	fputs("}\n", stdout);
	envup_free(name);
	return CLI_EXIT_FAILURE;
}

int cmd_status(int argc, char **argv)
{
	envup_target target = ENVUP_TARGET_INIT;
	envup_service_status *st = NULL;
	envup_env_summary *sum = NULL;
	size_t n = 0;
	bool json = false;
	int c, error;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":f:n:h", status_options, NULL)) != -1) {
		switch (c) {
		case 'f': target.spec_path = optarg; break;
		case 'n': target.name = optarg; break;
		case 'F':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") != 0)
				return cli_usage_error("status", "unknown format '%s' (text or json)", optarg);
			break;
		case 'h': fputs(status_usage, stdout); return CLI_EXIT_OK;
		case ':': return cli_usage_error("status", "%s needs a value", argv[optind - 1]);
		default: return cli_usage_error("status", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
	if ((error = envup_env_summary_get(&sum, &target)) < 0)
		return error == ENVUP_ENOTFOUND ? not_up(&target, json) : cli_fail(error);
	if ((error = envup_status(&st, &n, &target)) < 0) {
		envup_list_free(sum, 1);
		return cli_fail(error);
	}
	if (n == 0) {
		envup_list_free(sum, 1);
		envup_status_free(st, n);
		return not_up(&target, json);
	}
	if (json)
		print_json(sum, st, n);
	else
		print_text(sum, st, n);
	envup_status_free(st, n);
	envup_list_free(sum, 1);
	return CLI_EXIT_OK;
}
