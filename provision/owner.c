/*
 * Owner identity and liveness (see owner.h). Linux only: /proc and the
 * kernel's boot id.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "provision/owner.h"

static void read_line(char *out, size_t len, const char *path)
{
	FILE *f = fopen(path, "re");
	out[0] = '\0';
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* Field 22 of /proc/PID/stat; the command name (field 2) may hold spaces
 * and parentheses, so parse from the last ')'. */
static int start_time(unsigned long long *out, pid_t pid)
{
	char path[64], buf[2048];
	char *p;
	int field;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return ENVUP_ENOTFOUND;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return ENVUP_ERROR;
	p++;
	for (field = 3; field < 22 && p; field++) {
		p = strchr(p + 1, ' ');
	}
	if (!p)
		return ENVUP_ERROR;
	*out = strtoull(p + 1, NULL, 10);
	return 0;
}

int envup_owner_of(envup_owner *out, pid_t pid)
{
	int error;
	memset(out, 0, sizeof(*out));
	if (gethostname(out->host, sizeof(out->host) - 1) < 0)
		snprintf(out->host, sizeof(out->host), "unknown");
	/* '/' separates the fields */
	for (char *p = out->host; *p; p++)
		if (*p == '/')
			*p = '_';
	read_line(out->boot_id, sizeof(out->boot_id), "/proc/sys/kernel/random/boot_id");
	out->pid = (long)pid;
	if ((error = start_time(&out->start, pid)) < 0) {
		if (error == ENVUP_ENOTFOUND)
			return envup_error_set(ENVUP_ERROR_OS, "no process %ld", (long)pid), ENVUP_ENOTFOUND;
		return envup_error_set(ENVUP_ERROR_OS, "cannot read /proc/%ld/stat", (long)pid);
	}
	return 0;
}

void envup_owner_format(char *out, size_t len, const envup_owner *o)
{
	snprintf(out, len, "%s/%s/%ld/%llu", o->host, o->boot_id, o->pid, o->start);
}

int envup_owner_parse(envup_owner *out, const char *label)
{
	const char *a, *b, *c;
	char *end;

	memset(out, 0, sizeof(*out));
	if (!label || (a = strchr(label, '/')) == NULL || (b = strchr(a + 1, '/')) == NULL ||
	    (c = strchr(b + 1, '/')) == NULL)
		return ENVUP_ERROR;
	if ((size_t)(a - label) >= sizeof(out->host) || (size_t)(b - a - 1) >= sizeof(out->boot_id))
		return ENVUP_ERROR;
	memcpy(out->host, label, (size_t)(a - label));
	memcpy(out->boot_id, a + 1, (size_t)(b - a - 1));
	out->pid = strtol(b + 1, &end, 10);
	if (end != c || out->pid <= 0)
		return ENVUP_ERROR;
	out->start = strtoull(c + 1, &end, 10);
	if (*end)
		return ENVUP_ERROR;
	return 0;
}

envup_owner_state envup_owner_check(const envup_owner *o)
{
	envup_owner now;
	unsigned long long start;
	int error;

	if (envup_owner_of(&now, getpid()) < 0)
		return ENVUP_OWNER_UNKNOWN;
	if (strcmp(now.host, o->host) != 0)
		return ENVUP_OWNER_UNKNOWN;
	/* same host, another boot: every process of that boot is gone */
	if (strcmp(now.boot_id, o->boot_id) != 0)
		return ENVUP_OWNER_GONE;
	if ((error = start_time(&start, (pid_t)o->pid)) == ENVUP_ENOTFOUND)
		return ENVUP_OWNER_GONE;
	if (error < 0)
		return ENVUP_OWNER_UNKNOWN;
	/* the pid was reused by another process */
	if (start != o->start)
		return ENVUP_OWNER_GONE;
	/* a zombie still has /proc/PID/stat: treat it as gone */
	{
		char path[64], buf[512];
		FILE *f;
		snprintf(path, sizeof(path), "/proc/%ld/stat", o->pid);
		if ((f = fopen(path, "re")) != NULL) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			char *p;
			fclose(f);
			buf[n] = '\0';
			if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] == 'Z')
				return ENVUP_OWNER_GONE;
		}
	}
	return ENVUP_OWNER_ALIVE;
}
