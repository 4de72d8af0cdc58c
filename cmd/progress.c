/*
 * Progress on stderr: one line per state change, with the time since the
 * command started. stdout is reserved for exports.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

void cli_progress_init(cli_progress *p, bool quiet)
{
	memset(p, 0, sizeof(*p));
	p->quiet = quiet;
	p->tty = isatty(STDERR_FILENO);
}

static void print_failure(const char *service, const char *detail)
{
	const char *nl = strchr(detail, '\n');
	const char *line;

	/* the first line is the cause, printed by the caller as the final
	 * error; the rest are the container's last log lines */
	if (!nl)
		return;
	for (line = nl + 1; *line;) {
		const char *end = strchr(line, '\n');
		int len = end ? (int)(end - line) : (int)strlen(line);
		fprintf(stderr, "envup:   %s | %.*s\n", service ? service : "", len, line);
		if (!end)
			break;
		line = end + 1;
	}
}

void cli_progress_cb(const char *service, envup_state state, const char *detail,
	double elapsed, void *payload)
{
	cli_progress *p = payload;

	if (state == ENVUP_STATE_READY && service && p->nready < 64) {
		snprintf(p->ready[p->nready], sizeof(p->ready[0]), "%s %s", service,
			detail ? detail : "");
		p->nready++;
	}
	if (state == ENVUP_STATE_FAILED) {
		fprintf(stderr, "envup: [%6.2fs] %s: failed\n", elapsed, service ? service : "environment");
		if (detail)
			print_failure(service, detail);
		return;
	}
	if (p->quiet)
		return;
	fprintf(stderr, "envup: [%6.2fs] %s%s%s%s%s\n", elapsed,
		service ? service : "", service ? ": " : "",
		envup_state_name(state), detail ? " " : "", detail ? detail : "");
}

void cli_progress_summary(cli_progress *p, const char *env_name, double elapsed)
{
	int i;
	if (p->quiet)
		return;
	fprintf(stderr, "envup: environment '%s' ready in %.2fs", env_name, elapsed);
	for (i = 0; i < p->nready; i++)
		fprintf(stderr, "%s%s", i ? ", " : " (", p->ready[i]);
	fprintf(stderr, "%s\n", p->nready ? ")" : "");
}
