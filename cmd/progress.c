/*
 * Progress on stderr. stdout is reserved for exports.
 *
 * On a terminal (stderr a tty, TERM not "dumb"), `up` keeps one line per
 * service and redraws them in place: its state, and the seconds since up
 * began, ticking until it is ready; when it ends the block stays and the
 * summary follows. Colours
 * only there, and never with NO_COLOR set (https://no-color.org).
 * Otherwise (a pipe, a file, a CI log) one plain line per state change,
 * with the time since the command started.
 *
 * Calls come from the library's threads one at a time, and from the
 * ticker thread; `lock` orders them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

#define TICK_MS 200

static double mono(void)
{
	return cli_now();
}

void cli_progress_init(cli_progress *p, bool quiet)
{
	const char *term = getenv("TERM"), *no_color = getenv("NO_COLOR");

	memset(p, 0, sizeof(*p));
	p->quiet = quiet;
	p->tty = !quiet && isatty(STDERR_FILENO) && !(term && strcmp(term, "dumb") == 0);
	p->color = p->tty && !(no_color && *no_color);
	p->width = 80;
	if (p->tty) {
		struct winsize ws;
		if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
			p->width = ws.ws_col;
	}
	p->start = mono();
	pthread_mutex_init(&p->lock, NULL);
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

static cli_progress_row *row_of(cli_progress *p, const char *service)
{
	int i;
	for (i = 0; i < p->nrows; i++)
		if (strcmp(p->rows[i].service, service) == 0)
			return &p->rows[i];
	if (p->nrows == CLI_PROGRESS_ROWS)
		return NULL;
	snprintf(p->rows[p->nrows].service, sizeof(p->rows[0].service), "%s", service);
	return &p->rows[p->nrows++];
}

static const char *state_color(envup_state s)
{
	switch (s) {
	case ENVUP_STATE_READY: return "\033[32m";
	case ENVUP_STATE_FAILED: return "\033[31m";
	default: return "\033[33m";
	}
}

/* Redraw the block of service lines in place. Called with the lock held. */
static void redraw(cli_progress *p)
{
	double now = mono();
	int i;

	if (p->drawn)
		fprintf(stderr, "\033[%dA", p->drawn);
	for (i = 0; i < p->nrows; i++) {
		const cli_progress_row *r = &p->rows[i];
		char line[512];
		/* seconds since up began: when it became ready, or until now */
		double secs = (r->done ? r->done_at : now) - p->start;
		int n = snprintf(line, sizeof(line), "  %-16s %-13s %6.1fs  %s", r->service,
			envup_state_name(r->state), secs, r->detail);
		if (n > p->width - 1)
			line[p->width - 1 > 0 ? p->width - 1 : 0] = '\0';
		if (p->color)
			fprintf(stderr, "\r\033[2K%s%s\033[0m\n", state_color(r->state), line);
		else
			fprintf(stderr, "\r\033[2K%s\n", line);
	}
	p->drawn = p->nrows;
	fflush(stderr);
}

static void *ticker(void *arg)
{
	cli_progress *p = arg;
	struct timespec ts = {0, TICK_MS * 1000000L};

	for (;;) {
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&p->lock);
		if (p->stop) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		if (!p->closed && p->drawn)
			redraw(p);
		pthread_mutex_unlock(&p->lock);
	}
}

void cli_progress_cb(const char *service, envup_state state, const char *detail,
	double elapsed, void *payload)
{
	cli_progress *p = payload;

	pthread_mutex_lock(&p->lock);
	if (state == ENVUP_STATE_NOTICE) {
		/* before any row is drawn: notices come from reading the spec */
		if (!p->quiet)
			fprintf(stderr, "envup: %s\n", detail ? detail : "");
		pthread_mutex_unlock(&p->lock);
		return;
	}
	if (state == ENVUP_STATE_READY && service && p->nready < CLI_PROGRESS_ROWS) {
		snprintf(p->ready[p->nready], sizeof(p->ready[0]), "%s %s", service,
			detail ? detail : "");
		p->nready++;
	}
	if (p->tty && !p->closed && service) {
		cli_progress_row *r = row_of(p, service);
		if (r) {
			const char *nl;
			r->state = state;
			nl = detail ? strchr(detail, '\n') : NULL;
			snprintf(r->detail, sizeof(r->detail), "%.*s",
				detail ? (int)(nl ? (size_t)(nl - detail) : strlen(detail)) : 0,
				detail ? detail : "");
			if (state == ENVUP_STATE_READY || state == ENVUP_STATE_FAILED) {
				r->done = true;
				r->done_at = mono();
				/* the ready detail is the time since up began */
				if (state == ENVUP_STATE_READY)
					r->detail[0] = '\0';
			}
			redraw(p);
			if (!p->ticking && pthread_create(&p->tick, NULL, ticker, p) == 0)
				p->ticking = true;
			if (state == ENVUP_STATE_FAILED) {
				/* the block ends here: what follows is plain lines */
				p->closed = true;
				if (detail)
					print_failure(service, detail);
			}
			pthread_mutex_unlock(&p->lock);
			return;
		}
	}
	if (p->tty && !p->closed && !service && p->drawn)
		p->closed = true;  /* environment-wide events (removal) go below */
	if (state == ENVUP_STATE_FAILED) {
		fprintf(stderr, "envup: [%6.2fs] %s: failed\n", elapsed, service ? service : "environment");
		if (detail)
			print_failure(service, detail);
	} else if (!p->quiet) {
		fprintf(stderr, "envup: [%6.2fs] %s%s%s%s%s\n", elapsed,
			service ? service : "", service ? ": " : "",
			envup_state_name(state), detail ? " " : "", detail ? detail : "");
	}
	pthread_mutex_unlock(&p->lock);
}

void cli_progress_finish(cli_progress *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	if (p->tty && !p->closed && p->drawn)
		redraw(p);
	p->closed = true;
	pthread_mutex_unlock(&p->lock);
	if (p->ticking) {
		pthread_join(p->tick, NULL);
		p->ticking = false;
	}
}

void cli_progress_summary(cli_progress *p, const char *env_name, double elapsed)
{
	int i;

	cli_progress_finish(p);
	if (p->quiet)
		return;
	if (p->color)
		fprintf(stderr, "\033[1m");
	fprintf(stderr, "envup: environment '%s' ready in %.2fs", env_name, elapsed);
	for (i = 0; i < p->nready; i++)
		fprintf(stderr, "%s%s", i ? ", " : " (", p->ready[i]);
	fprintf(stderr, "%s%s\n", p->nready ? ")" : "", p->color ? "\033[0m" : "");
}
