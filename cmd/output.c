/*
 * Exports on stdout, in every format, for up and env; times for humans.
 *
 * --format github writes the exports where GitHub Actions reads them, the
 * file named by $GITHUB_ENV, which later steps (not this one) see as
 * variables, and prints "::add-mask::VALUE" on stdout for every secret
 * first, so GitHub shows *** wherever a password would appear in the log,
 * including the environment every later step prints in its header.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

int cli_parse_format(const char *s)
{
	static const struct { const char *name; int format; } formats[] = {
		{"shell", ENVUP_FORMAT_SHELL}, {"dotenv", ENVUP_FORMAT_DOTENV},
		{"json", ENVUP_FORMAT_JSON}, {"github", ENVUP_FORMAT_GITHUB},
		{"gitlab", ENVUP_FORMAT_GITLAB},
	};
	size_t i;
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(s, formats[i].name) == 0)
			return formats[i].format;
	return -1;
}

int cli_check_format(const char *cmd, int format)
{
	const char *path = getenv("GITHUB_ENV");
	if (format == ENVUP_FORMAT_GITHUB && (!path || !*path))
		return cli_usage_error(cmd, "--format github writes to the file named by $GITHUB_ENV, "
			"which is not set (GitHub Actions sets it in every step)");
	return 0;
}

/* "::add-mask::" takes one line: % CR LF are escaped as GitHub unescapes. */
static void print_mask(const char *v)
{
	fputs("::add-mask::", stdout);
	for (; *v; v++) {
		if (*v == '%')
			fputs("%25", stdout);
		else if (*v == '\r')
			fputs("%0D", stdout);
		else if (*v == '\n')
			fputs("%0A", stdout);
		else
			fputc(*v, stdout);
	}
	fputc('\n', stdout);
}

static int append_file(const char *path, const char *text)
{
	size_t len = strlen(text), off = 0;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		fprintf(stderr, "envup: cannot open $GITHUB_ENV (%s): %s\n", path, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "envup: cannot write $GITHUB_ENV (%s): %s\n", path,
				strerror(errno));
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0) {
		fprintf(stderr, "envup: cannot write $GITHUB_ENV (%s): %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int cli_print_exports(const envup_env *env, int format)
{
	char *text = NULL;
	size_t i;
	int error;

	if ((error = envup_env_format(&text, env, (envup_format)format)) < 0)
		return cli_fail(error);
	if (format == ENVUP_FORMAT_GITHUB) {
		for (i = 0; i < envup_env_secret_count(env); i++)
			print_mask(envup_env_secret(env, i));
		fflush(stdout);
		error = append_file(getenv("GITHUB_ENV"), text);
		if (error == 0)
			fprintf(stderr, "envup: %zu variables written to $GITHUB_ENV for the next steps\n",
				envup_env_export_count(env));
	} else {
		if (format == ENVUP_FORMAT_GITLAB &&
		    (envup_env_export_count(env) > 20 || strlen(text) > 5120))
			fprintf(stderr, "envup: note: %zu variables, %zu bytes: a self-managed GitLab takes "
				"at most 20 variables and 5 KB from a dotenv report unless its limits "
				"were raised (gitlab.com: 50 to 150)\n", envup_env_export_count(env),
				strlen(text));
		fputs(text, stdout);
		error = fflush(stdout) == 0 ? 0 : -1;
		if (error < 0)
			fprintf(stderr, "envup: cannot write the exports: %s\n", strerror(errno));
	}
	envup_free(text);
	return error < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

void cli_format_time(char *out, size_t len, long long t)
{
	time_t when = (time_t)t, now = time(NULL);
	struct tm tm, today;

	localtime_r(&now, &today);
	localtime_r(&when, &tm);
	if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
		strftime(out, len, "%H:%M", &tm);
	else
		strftime(out, len, "%Y-%m-%d %H:%M", &tm);
}

void cli_format_clock(char *out, size_t len, long long t)
{
	time_t when = (time_t)t, now = time(NULL);
	struct tm tm, today;

	localtime_r(&now, &today);
	localtime_r(&when, &tm);
	strftime(out, len, tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday ?
		"%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
}

void cli_format_age(char *out, size_t len, long long created)
{
	long long age = (long long)time(NULL) - created;
	if (age < 0)
		age = 0;
	if (age < 120)
		snprintf(out, len, "%llds", age);
	else if (age < 7200)
		snprintf(out, len, "%lldm", age / 60);
	else
		snprintf(out, len, "%lldh", age / 3600);
}

void cli_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	fputc('"', f);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void cli_json_time(FILE *f, long long t)
{
	char buf[32];
	time_t when = (time_t)t;
	struct tm tm;
	if (t <= 0) {
		fputs("null", f);
		return;
	}
	gmtime_r(&when, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "\"%s\"", buf);
}

void cli_json_summary(FILE *f, const envup_env_summary *s)
{
	fputs("\"name\":", f);
	cli_json_string(f, s->name);
	fprintf(f, ",\"containers\":%zu,\"running\":%zu,\"created\":", s->containers, s->running);
	cli_json_time(f, s->created);
	fputs(",\"owner\":", f);
	if (s->owner) {
		fputs("{\"kind\":", f);
		cli_json_string(f, s->owner_kind);
		fprintf(f, ",\"pid\":%ld,\"command\":", s->owner_pid);
		cli_json_string(f, s->owner_command);
		fprintf(f, ",\"alive\":%s,\"text\":", s->owner_alive == 1 ? "true" :
			s->owner_alive == 0 ? "false" : "null");
		cli_json_string(f, s->owner);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"expires\":", f);
	cli_json_time(f, s->expires);
	fprintf(f, ",\"keep\":%s", s->owner ? "false" : "true");
}
