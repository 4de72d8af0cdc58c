/*
 * Owner identity, liveness and the default owner of `envup up` (see
 * owner.h). Linux only: /proc and the kernel's boot id.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "provision/owner.h"

/* Ancestors walked at most: a loop in /proc (it cannot happen) stops here. */
#define MAX_DEPTH 256

static const char *kind_names[] = {"process", "session", "job"};

const char *envup_owner_kind_name(envup_owner_kind kind)
{
	if ((size_t)kind < ENVUP_ARRAY_SIZE(kind_names))
		return kind_names[kind];
	return "process";
}

int envup_owner_kind_parse(const char *s)
{
	size_t i;
	for (i = 0; s && i < ENVUP_ARRAY_SIZE(kind_names); i++)
		if (strcmp(s, kind_names[i]) == 0)
			return (int)i;
	return -1;
}

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

/*
 * /proc/PID/stat: "pid (comm) state ppid pgrp session ... starttime(22)".
 * The command name may hold spaces and parentheses, so the fields after
 * it are parsed from the last ')'.
 */
int envup_proc_read(envup_proc *out, pid_t pid)
{
	char path[64], buf[2048], comm[64];
	const char *open, *close, *p;
	int field;
	size_t n;
	FILE *f;

	memset(out, 0, sizeof(*out));
	if (pid <= 0)
		return ENVUP_ENOTFOUND;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT || errno == ESRCH ? ENVUP_ENOTFOUND : ENVUP_ERROR;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((open = strchr(buf, '(')) == NULL || (close = strrchr(buf, ')')) == NULL ||
	    close < open || close[1] != ' ')
		return ENVUP_ERROR;
	n = (size_t)(close - open - 1);
	if (n >= sizeof(comm))
		n = sizeof(comm) - 1;
	memcpy(comm, open + 1, n);
	comm[n] = '\0';
	envup_printable_into(out->comm, sizeof(out->comm), comm);
	out->pid = (long)pid;
	p = close + 2;
	out->state = *p;
	/* p is at field 3; fields 4, 5, 6 and 22 are wanted */
	for (field = 3; field < 22; field++) {
		char *end;
		if ((p = strchr(p, ' ')) == NULL)
			return ENVUP_ERROR;
		p++;
		switch (field + 1) {
		case 4: out->ppid = strtol(p, &end, 10); break;
		case 5: out->pgrp = strtol(p, &end, 10); break;
		case 6: out->sid = strtol(p, &end, 10); break;
		case 22: out->start = strtoull(p, &end, 10); break;
		default: break;
		}
	}
	return 0;
}

/* The pid namespace our pids are numbered in: its inode, 0 when unknown. */
static unsigned long long pid_namespace(void)
{
	char link[64];
	ssize_t n = readlink("/proc/self/ns/pid", link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	return strncmp(link, "pid:[", 5) == 0 ? strtoull(link + 5, NULL, 10) : 0;
}

int envup_owner_of(envup_owner *out, pid_t pid)
{
	envup_proc proc;
	int error;

	memset(out, 0, sizeof(*out));
	out->pidns = pid_namespace();
	if (gethostname(out->host, sizeof(out->host) - 1) < 0)
		snprintf(out->host, sizeof(out->host), "unknown");
	/* '/' separates the fields */
	for (char *p = out->host; *p; p++)
		if (*p == '/')
			*p = '_';
	read_line(out->boot_id, sizeof(out->boot_id), "/proc/sys/kernel/random/boot_id");
	out->pid = (long)pid;
	if ((error = envup_proc_read(&proc, pid)) < 0 || proc.state == 'Z') {
		if (error == ENVUP_ENOTFOUND || proc.state == 'Z')
			return envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_OS, "no process %ld", (long)pid);
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot read /proc/%ld/stat", (long)pid);
	}
	out->start = proc.start;
	return 0;
}

/* The nearest ancestor of `from` (itself included) for which `match`
 * holds, or 0. */
typedef bool (*proc_match)(const envup_proc *p, const envup_proc *parent);

static long find_ancestor(pid_t from, proc_match match, envup_proc *found)
{
	envup_proc p, parent;
	long cur = (long)from;
	int depth;

	for (depth = 0; cur > 1 && depth < MAX_DEPTH; depth++) {
		if (envup_proc_read(&p, (pid_t)cur) < 0)
			return 0;
		if (envup_proc_read(&parent, (pid_t)p.ppid) < 0)
			memset(&parent, 0, sizeof(parent));
		if (match(&p, &parent)) {
			*found = p;
			return cur;
		}
		cur = p.ppid;
	}
	return 0;
}

/* GitHub Actions: one Runner.Worker process per job runs every step. */
static bool is_github_worker(const envup_proc *p, const envup_proc *parent)
{
	(void)parent;
	return strcmp(p->comm, "Runner.Worker") == 0;
}

/* GitLab's shell executor: gitlab-runner starts the job's shell (or `su`
 * running it) as its child, and that child ends with the job. */
static bool is_gitlab_job(const envup_proc *p, const envup_proc *parent)
{
	return strcmp(parent->comm, "gitlab-runner") == 0 && strcmp(p->comm, "gitlab-runner") != 0;
}

static bool env_is(const char *name, const char *value)
{
	const char *v = getenv(name);
	return v && strcmp(v, value) == 0;
}

/*
 * The topmost ancestor of `from` (itself included) in session `sid`: the
 * session's leader when it lives (returns 1), else the oldest process of
 * the session that is still an ancestor (returns 2: the terminal closed
 * under `nohup make test &`, a CI wrapper that went away), or 0 when
 * `from` is not in the session at all.
 */
static int session_top(envup_proc *top, pid_t from, long sid)
{
	envup_proc p;
	long cur = (long)from;
	int depth, found = 0;

	for (depth = 0; cur > 0 && depth < MAX_DEPTH; depth++) {
		if (envup_proc_read(&p, (pid_t)cur) < 0 || p.sid != sid || p.state == 'Z')
			break;
		*top = p;
		found = 2;
		if (p.pid == p.sid)
			return 1;
		cur = p.ppid;
	}
	return found;
}

/* The first process of our pid namespace, when it is not `self`: in a
 * container, the container's main process. */
static int namespace_init(envup_proc *top, pid_t self)
{
	return self != 1 && envup_proc_read(top, 1) == 0 && top->state != 'Z';
}

int envup_owner_resolve(envup_owner *out, envup_owner_kind *kind, char comm[32], pid_t self)
{
	envup_proc me, top, parent;
	const char *why;
	int error, hops;

	comm[0] = '\0';
	if ((error = envup_proc_read(&me, self)) < 0)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot read /proc/%ld/stat", (long)self);

	/* a CI job: its runner's per-job process; where that is not visible
	 * (a job in a container: every step is `docker exec`), the job's
	 * container, whose first process lives as long as the job */
	if (env_is("GITHUB_ACTIONS", "true")) {
		if (find_ancestor((pid_t)me.ppid, is_github_worker, &top) > 0 ||
		    namespace_init(&top, self)) {
			*kind = ENVUP_OWNER_KIND_JOB;
			goto found;
		}
	}
	if (env_is("GITLAB_CI", "true")) {
		if (find_ancestor((pid_t)me.ppid, is_gitlab_job, &top) > 0 ||
		    namespace_init(&top, self)) {
			*kind = ENVUP_OWNER_KIND_JOB;
			goto found;
		}
	}

	if (me.sid == me.pid) {
		/* envup leads its own session: `setsid envup up`, a service,
		 * `docker exec C envup up` */
		if (me.ppid == 0) {
			/* its parent is outside this pid namespace (docker exec):
			 * the container is the work */
			if (!namespace_init(&top, self)) {
				why = "envup runs as the container's first process";
				goto gone;
			}
			*kind = ENVUP_OWNER_KIND_PROCESS;
			goto found;
		}
		if (envup_proc_read(&top, (pid_t)me.ppid) < 0 || top.state == 'Z' ||
		    top.pid == 1 || strcmp(top.comm, "systemd") == 0) {
			why = "it was started on its own (by init or systemd, or by setsid, whose parent "
				"has exited)";
			goto gone;
		}
		*kind = ENVUP_OWNER_KIND_PROCESS;
		goto found;
	}
	switch (session_top(&top, (pid_t)me.ppid, me.sid)) {
	case 0:
		why = "the process that started it has exited";
		goto gone;
	case 2:
		/* no leader: the oldest ancestor still in the session stands
		 * for it, and is named as the process it is */
		*kind = ENVUP_OWNER_KIND_PROCESS;
		goto found;
	default:
		break;
	}
	/* sudo on a pty runs the command in a session of its own whose leader
	 * is sudo's monitor: the work is the session of whoever ran sudo */
	for (hops = 0; hops < 4 && top.pid == top.sid && strcmp(top.comm, "sudo") == 0; hops++) {
		envup_proc outer;
		if (envup_proc_read(&parent, (pid_t)top.ppid) < 0 || parent.sid == top.sid ||
		    session_top(&outer, (pid_t)parent.pid, parent.sid) != 1)
			break;
		top = outer;
	}
	*kind = ENVUP_OWNER_KIND_SESSION;
found:
	snprintf(comm, 32, "%s", top.comm);
	if ((error = envup_owner_of(out, (pid_t)top.pid)) < 0)
		return error;
	return 0;
gone:
	return envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_OS,
		"nothing would own the environment: %s; keep it with --keep (and --ttl), or name "
		"its owner with --owner-pid", why);
}

void envup_owner_format(char *out, size_t len, const envup_owner *o)
{
	snprintf(out, len, "%s/%s/%ld/%llu/%llu", o->host, o->boot_id, o->pid, o->start, o->pidns);
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
	if (b[1] < '0' || b[1] > '9')
		return ENVUP_ERROR;
	errno = 0;
	out->pid = strtol(b + 1, &end, 10);
	if (end != c || out->pid <= 0 || errno)
		return ENVUP_ERROR;
	if (c[1] < '0' || c[1] > '9')
		return ENVUP_ERROR;
	out->start = strtoull(c + 1, &end, 10);
	/* envups before 0.2 wrote no pid namespace */
	if (*end == '/') {
		if (end[1] < '1' || end[1] > '9')
			return ENVUP_ERROR;
		out->pidns = strtoull(end + 1, &end, 10);
	}
	if (*end || errno)
		return ENVUP_ERROR;
	return 0;
}

envup_owner_state envup_owner_check(const envup_owner *o)
{
	envup_owner now;
	envup_proc proc;
	int error;

	if (envup_owner_of(&now, getpid()) < 0)
		return ENVUP_OWNER_UNKNOWN;
	if (strcmp(now.host, o->host) != 0)
		return ENVUP_OWNER_UNKNOWN;
	/* same host, another boot: every process of that boot is gone */
	if (strcmp(now.boot_id, o->boot_id) != 0)
		return ENVUP_OWNER_GONE;
	/* another pid namespace (a container sharing the host's name): its
	 * pids are not ours to look up */
	if (o->pidns && now.pidns && o->pidns != now.pidns)
		return ENVUP_OWNER_UNKNOWN;
	if ((error = envup_proc_read(&proc, (pid_t)o->pid)) == ENVUP_ENOTFOUND)
		return ENVUP_OWNER_GONE;
	if (error < 0)
		return ENVUP_OWNER_UNKNOWN;
	/* the pid was reused by another process, or it is a zombie */
	if (proc.start != o->start || proc.state == 'Z')
		return ENVUP_OWNER_GONE;
	return ENVUP_OWNER_ALIVE;
}

void envup_owner_describe(char *out, size_t len, envup_owner_kind kind, long pid,
	const char *comm)
{
	char safe[32];
	const char *what = kind == ENVUP_OWNER_KIND_SESSION ? "session" :
		kind == ENVUP_OWNER_KIND_JOB ? "CI job" : "process";

	envup_printable_into(safe, sizeof(safe), comm);
	if (safe[0])
		snprintf(out, len, "%s %ld (%s)", what, pid, safe);
	else
		snprintf(out, len, "%s %ld", what, pid);
}

static bool same_process(const envup_owner *o, const envup_proc *p)
{
	return o->pid == p->pid && o->start == p->start;
}

bool envup_owner_is_callers(const envup_owner *o)
{
	envup_owner mine;
	envup_owner_kind kind;
	envup_proc p;
	char comm[32];
	long cur = (long)getpid();
	int depth;

	if (envup_owner_check(o) != ENVUP_OWNER_ALIVE)
		return false;
	/* the caller itself, or a process it runs under (its shell, its
	 * session's leader, `envup run` around it, its CI job) */
	for (depth = 0; cur > 0 && depth < MAX_DEPTH; depth++) {
		if (envup_proc_read(&p, (pid_t)cur) < 0)
			break;
		if (same_process(o, &p))
			return true;
		cur = p.ppid;
	}
	/* or what `envup up` run here would have chosen (a job's container) */
	return envup_owner_resolve(&mine, &kind, comm, getpid()) == 0 &&
		mine.pid == o->pid && mine.start == o->start;
}
