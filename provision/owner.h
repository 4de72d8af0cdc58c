/*
 * Who owns an environment: a process, identified so that PID reuse,
 * reboots and containers cannot fool us. Written on every resource as the
 * label dev.envup.owner = "HOST/BOOT_ID/PID/START/PIDNS" where START is the
 * process's start time in clock ticks since boot (/proc/PID/stat field 22)
 * and PIDNS the inode of the pid namespace PID is numbered in: a container
 * that shares the host's name and boot id (host networking) has pids of its
 * own, and must never take a host process's absence for proof.
 *
 * Which process that is depends on how envup was asked (see
 * envup_owner_resolve): the caller (envup run, the library), a given pid
 * (--owner-pid), or, for `envup up`, the work the caller is part of: its
 * CI job, else its terminal session. Never merely envup's parent: a CI
 * step's shell, a make recipe line, `timeout` or the subshell bash forks
 * for `$(envup up 2>log)` all exit long before the work is done.
 *
 * Linux only: /proc and the kernel's boot id.
 */
#ifndef ENVUP_PROVISION_OWNER_H
#define ENVUP_PROVISION_OWNER_H

#include <stdbool.h>
#include <sys/types.h>
#include "util/util.h"

typedef struct {
	char host[256];
	char boot_id[64];
	long pid;
	unsigned long long start;
	unsigned long long pidns;  /* 0: unknown (labels of envup 0.1) */
} envup_owner;

/** What kind of thing the owner process stands for. */
typedef enum {
	ENVUP_OWNER_KIND_PROCESS = 0, /* that one process */
	ENVUP_OWNER_KIND_SESSION,     /* a terminal session: its leader */
	ENVUP_OWNER_KIND_JOB          /* a CI job: the runner's per-job process */
} envup_owner_kind;

/** "process", "session", "job" (the dev.envup.owner-kind label). */
const char *envup_owner_kind_name(envup_owner_kind kind);
/** The kind named by a label value; -1 when it names none. */
int envup_owner_kind_parse(const char *s);

/** A process as /proc/PID/stat describes it. */
typedef struct {
	long pid;
	long ppid;
	long pgrp;
	long sid;
	char state;              /* R, S, Z, ... */
	unsigned long long start;
	char comm[32];           /* the command name, made printable */
} envup_proc;

/** Read /proc/PID/stat. ENVUP_ENOTFOUND when there is no such process. */
int envup_proc_read(envup_proc *out, pid_t pid);

/** Describe running process `pid` (on this machine). ENVUP_ENOTFOUND if it is gone. */
int envup_owner_of(envup_owner *out, pid_t pid);

/**
 * The owner of an environment brought up by `envup up` run as process
 * `self` (getpid()), with no --owner-pid or --keep:
 *
 *  1. a CI job: under GitHub Actions (GITHUB_ACTIONS=true), the runner's
 *     Runner.Worker process, which lives exactly as long as the job and
 *     runs every step's shell; under GitLab CI (GITLAB_CI=true), the
 *     child of gitlab-runner that runs the job's script (after_script
 *     runs after it). Where no such process is visible (a job that runs
 *     in a container, each step a `docker exec`), the first process of
 *     the pid namespace: the job's container;
 *  2. else the terminal session: its leader (the terminal's or ssh's
 *     shell, a tmux pane), found among the ancestors of `self`; a
 *     session made by `sudo` on a pty stands for the session of the
 *     process that ran sudo. When the leader has exited (`nohup make
 *     test &` in a terminal since closed, a wrapper that went away), the
 *     oldest ancestor still in the session, as a process;
 *  3. else, when `self` leads its own session: with a parent outside
 *     its pid namespace (`docker exec C envup up`), the container's first
 *     process; with a parent of its own (a program that setsid's its
 *     children), that parent.
 *
 * It refuses (nothing would own the environment, so it would vanish at
 * once or live until its expiry unannounced) when envup's parent has
 * exited, when envup was started by init or systemd, or is the
 * container's first process.
 *
 * @param[out] kind  what the owner stands for
 * @param[out] comm  the owner's command name (printable, 32 bytes)
 * @return 0, or ENVUP_ENOTFOUND with the error set saying why and what to
 *         use instead (--keep, --owner-pid)
 */
int envup_owner_resolve(envup_owner *out, envup_owner_kind *kind, char comm[32], pid_t self);

/** "HOST/BOOT_ID/PID/START/PIDNS" into out (size >= 400). */
void envup_owner_format(char *out, size_t len, const envup_owner *o);

/** Parse the label value (also the 4-field form of envup 0.1); ENVUP_ERROR when malformed. */
int envup_owner_parse(envup_owner *out, const char *label);

typedef enum {
	ENVUP_OWNER_ALIVE = 0,
	ENVUP_OWNER_GONE,     /* this machine, and the process is gone (or rebooted since) */
	ENVUP_OWNER_UNKNOWN   /* another machine: only the expiry applies */
} envup_owner_state;

envup_owner_state envup_owner_check(const envup_owner *o);

/**
 * True when the live owner `o` is the caller's: the calling process, one
 * of its ancestors (its shell, its session's leader, an `envup run`
 * around it, its CI job), or the owner `envup up` would pick here.
 */
bool envup_owner_is_callers(const envup_owner *o);

/**
 * "session 4711 (bash)", "CI job 812 (Runner.Worker)", "process 77 (sh)":
 * how messages name an owner. `comm` may be NULL or empty.
 */
void envup_owner_describe(char *out, size_t len, envup_owner_kind kind, long pid,
	const char *comm);

#endif
