/*
 * fault_proxy: the integration tests' fault-injecting Docker Engine API
 * proxy (tests/integration/support_fault.c) as a command, to reproduce a
 * fault by hand:
 *
 *   build/tests/fault/fault_proxy --match 'POST /v[0-9.]+/containers/create' --status 500 \
 *       --body '{"message":"boom"}' &
 *   DOCKER_HOST=unix:///tmp/envup-fault-XXXXXX/proxy.sock build/envup up
 *
 * It prints the DOCKER_HOST to use on stdout, runs until SIGINT or SIGTERM,
 * then prints every request it saw (and which were faulted) on stderr.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "support_fault.h"

static const char usage[] =
	"usage: fault_proxy [--engine SOCKET] [--api-version X.Y] [RULE...]\n"
	"\n"
	"RULE: --match 'METHOD PATH-REGEX' (POSIX ERE on e.g. \"POST /v1.41/containers/create?...\")\n"
	"      then one of\n"
	"        --status CODE [--body TEXT]   answer CODE with TEXT; the engine never sees it\n"
	"        --hang N                      pass the head and N body bytes (-1: nothing), then hang\n"
	"        --close N                     pass the head and N body bytes, then close\n"
	"        --truncate N                  a complete answer with the body cut to N bytes\n"
	"        --replace TEXT                a complete answer with TEXT as the body\n"
	"      and optionally --times N        fault only the first N matches (default: all)\n";

/* The value after argv[*i], or exit with the usage. */
static const char *arg_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "fault_proxy: %s needs a value\n%s", argv[*i], usage);
		exit(2);
	}
	return argv[++*i];
}

/* The number after argv[*i], or exit with the usage. */
static long arg_number(int argc, char **argv, int *i)
{
	const char *v = arg_value(argc, argv, i);
	char *end;
	long n = strtol(v, &end, 10);

	if (end == v || *end) {
		fprintf(stderr, "fault_proxy: %s takes a number, not '%s'\n", argv[*i - 1], v);
		exit(2);
	}
	return n;
}

int main(int argc, char **argv)
{
	fault_rule rules[16];
	const char *engine = NULL, *api = NULL;
	fault_proxy *p = NULL;
	int nrules = 0, i, sig = 0;
	sigset_t set;

	memset(rules, 0, sizeof(rules));
	for (i = 1; i < argc; i++) {
		const char *opt = argv[i];
		fault_rule *r = nrules ? &rules[nrules - 1] : NULL;

		if (strcmp(opt, "--engine") == 0) {
			engine = arg_value(argc, argv, &i);
		} else if (strcmp(opt, "--api-version") == 0) {
			api = arg_value(argc, argv, &i);
		} else if (strcmp(opt, "--match") == 0 && nrules < 16) {
			rules[nrules].match = arg_value(argc, argv, &i);
			rules[nrules].kind = FAULT_STATUS;
			rules[nrules++].status = 500;
		} else if (r && strcmp(opt, "--status") == 0) {
			r->kind = FAULT_STATUS;
			r->status = (int)arg_number(argc, argv, &i);
		} else if (r && strcmp(opt, "--body") == 0) {
			r->body = arg_value(argc, argv, &i);
		} else if (r && strcmp(opt, "--hang") == 0) {
			r->kind = FAULT_HANG;
			r->after = arg_number(argc, argv, &i);
		} else if (r && strcmp(opt, "--close") == 0) {
			r->kind = FAULT_CLOSE;
			r->after = arg_number(argc, argv, &i);
		} else if (r && strcmp(opt, "--truncate") == 0) {
			r->kind = FAULT_TRUNCATE;
			r->after = arg_number(argc, argv, &i);
		} else if (r && strcmp(opt, "--replace") == 0) {
			r->kind = FAULT_REPLACE;
			r->body = arg_value(argc, argv, &i);
		} else if (r && strcmp(opt, "--times") == 0) {
			r->times = (int)arg_number(argc, argv, &i);
		} else {
			fprintf(stderr, "fault_proxy: unexpected '%s'\n%s", opt, usage);
			return 2;
		}
	}

	/* blocked in every thread, taken by sigwait() below */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (fault_proxy_start(&p, engine) < 0) {
		fprintf(stderr, "fault_proxy: cannot reach the engine at %s\n",
			engine ? engine : "$DOCKER_HOST or /var/run/docker.sock");
		return 1;
	}
	for (i = 0; i < nrules; i++)
		fault_proxy_add_rule(p, &rules[i]);
	if (api)
		fault_proxy_set_api_version(p, api);
	printf("DOCKER_HOST=%s\n", fault_proxy_host(p));
	fflush(stdout);
	sigwait(&set, &sig);
	fprintf(stderr, "%sAPI versions used: %s\n", fault_proxy_log(p), fault_proxy_versions(p));
	fault_proxy_stop(p);
	return 0;
}
