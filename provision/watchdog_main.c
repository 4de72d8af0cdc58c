/*
 * The watchdog process (see watchdog.h): the envup-watchdog helper's
 * code. It waits on its pipe for how envup up ended, then on the owner and
 * the expiry, and removes the environment, retrying what the engine does
 * not complete; what it does goes to STATE_DIR/NAME.watchdog.log.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "provision/watchdog.h"
#include "provision/owner.h"
#include "provision/engine.h"
#include "provision/container.h"
#include "provision/cleanup.h"
#include "provision/state.h"
#include "provision/backend.h"
#include "provision/down.h"
#include "provision/identity.h"
#include "compose/spec.h"
#include "provision/pgpool.h"
#include "provision/snapshot.h"

#define STATUS_FD 3
#define ENV_CHECK_MS 5000
#define POLL_OWNER_MS 1000

typedef struct {
	const char *env;
	const char *instance;
	const char *docker_host;
	const char *owner;        /* label value or NULL */
	const char *owner_text;   /* or NULL */
	long long expires;
} wd_args;

static int run(const wd_args *a, int status_fd);

/* ---- the watchdog process ------------------------------------------------ */

static FILE *wd_log;

static void say(const char *fmt, ...) ENVUP_PRINTF(1, 2);
static void say(const char *fmt, ...)
{
	va_list ap;
	char when[32];
	time_t now = time(NULL);
	struct tm tm;

	if (!wd_log)
		return;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
	fprintf(wd_log, "%s [%ld] ", when, (long)getpid());
	va_start(ap, fmt);
	vfprintf(wd_log, fmt, ap);
	va_end(ap);
	fputc('\n', wd_log);
	fflush(wd_log);
}

static void open_log(const char *env)
{
	int fd = envup_state_open_log(env);
	if (fd >= 0 && (wd_log = fdopen(fd, "a")) == NULL)
		close(fd);
}

/* 1: the environment still has containers, 0: it has none, <0: unknown */
static int env_exists(const char *env, const char *instance, const char *docker_host)
{
	envup_backend *b = NULL;
	envup_container_summary *list = NULL;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	size_t n = 0;
	int r = -1;

	if (envup_identity_filter(&labels, env, instance) == 0 &&
	    envup_backend_open_for(&b, docker_host, 10) == 0 &&
	    b->ops->list(&list, &n, b, &labels) == 0)
		r = n > 0;
	envup_container_summaries_free(list, n);
	envup_strlist_dispose(&labels);
	envup_backend_free(b);
	return r;
}

static void log_removed(const char *kind, const char *name, void *payload)
{
	(void)payload;
	say("removed %s %s", kind, name);
}

#define ATTEMPT_S 15.0
#define PAUSE_MIN_MS 500
#define PAUSE_MAX_MS 10000

/*
 * Remove this instance, retrying until the engine has removed everything
 * or the expiry has passed. `why` ends the sentence "removed ... because".
 */
/* After the expiry, this long to finish a removal (then envup gc). */
#define GRACE_S 600

static int remove_env(const wd_args *a, const char *why)
{
	envup_strlist labels = ENVUP_STRLIST_INIT;
	long pause = PAUSE_MIN_MS;
	long long now = (long long)time(NULL);
	long long give_up = (a->expires > now ? a->expires : now) + GRACE_S;
	int attempt, error = ENVUP_ERROR;

	say("removing environment %s: %s", a->env, why);
	if (envup_identity_filter(&labels, a->env, a->instance) < 0)
		goto done;
	/* a snapshot being taken of it finishes first (snapshot.h) */
	envup_snapshot_wait(a->env, 120.0, NULL, NULL);
	for (attempt = 1;; attempt++) {
		envup_cleanup_report report = ENVUP_CLEANUP_REPORT_INIT;
		envup_backend *b = NULL;
		if ((error = envup_backend_open_for(&b, a->docker_host, ATTEMPT_S)) == 0)
			error = b->ops->remove_by_labels(&report, b, &labels, log_removed, NULL);
		envup_cleanup_report_dispose(&report);
		envup_backend_free(b);
		if (error == 0)
			break;
		say("attempt %d did not finish: %s", attempt, envup_error_last()->message);
		if (envup_state_instance_removed(a->env, a->instance)) {
			say("envdown removed it meanwhile");
			error = 0;
			goto done;
		}
		if ((long long)time(NULL) > give_up) {
			say("giving up %ds after the expiry (envup gc removes what is left)", GRACE_S);
			goto done;
		}
		say("trying again in %.1fs", pause / 1000.0);
		envup_sleep_ms(pause);
		if ((pause *= 2) > PAUSE_MAX_MS)
			pause = PAUSE_MAX_MS;
	}
	envup_state_record_removal(a->env, a->instance, "its watchdog", why);
	/* the saved exports go too, unless a newer `up` of the name owns them */
	{
		envup_backend *b = NULL;
		if (envup_backend_open_for(&b, a->docker_host, 10) == 0)
			envup_down__forget_if_gone(b, a->env);
		envup_backend_free(b);
	}
	say("environment %s removed", a->env);
done:
	envup_strlist_dispose(&labels);
	return error < 0 ? 1 : 0;
}

/* Phase 1: wait for envup up to say how it ended. 'R', 'F', or 0 (EOF). */
static char wait_status(int fd)
{
	char c = 0;
	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r == 1)
			return c;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return 0;
	}
}

static int pidfd_of(const envup_owner *o)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, (pid_t)o->pid, 0);
	if (fd < 0)
		return -1;
	/* the pid may have been reused between the label and the open */
	if (envup_owner_check(o) != ENVUP_OWNER_ALIVE) {
		close(fd);
		return -2;
	}
	return fd;
#else
	(void)o;
	return -1;
#endif
}

static long ms_until(long long expires)
{
	long long left = expires - (long long)time(NULL);
	if (left <= 0)
		return 0;
	if (left > 3600 * 24)
		left = 3600 * 24;
	return (long)(left * 1000);
}

static int run(const wd_args *a, int status_fd)
{
	envup_owner owner;
	bool have_owner = false;
	int pidfd = -1;
	double last_env_check = envup_now();
	char status, why[256];
	open_log(a->env);
	say("watching environment %s (instance %s, owner %s, expires %lld)", a->env, a->instance,
		a->owner_text ? a->owner_text : a->owner ? a->owner : "none", a->expires);
	status = wait_status(status_fd);
	close(status_fd);
	if (status == 'F') {
		say("envup up failed and cleaned up; nothing to do");
		return 0;
	}
	if (status == 'T')
		return remove_env(a, "envup up failed and could not remove everything");
	if (status != 'R')
		return remove_env(a, "envup up was stopped before it finished");
	say("envup up finished; watching %s", a->owner ? "the owner and the expiry" : "the expiry");
	snprintf(why, sizeof(why), "its owner, %s, ended",
		a->owner_text ? a->owner_text : "process");
	envup_state_prune();

	if (a->owner && envup_owner_parse(&owner, a->owner) == 0) {
		have_owner = true;
		if ((pidfd = pidfd_of(&owner)) == -2)
			return remove_env(a, why);
	}
	for (;;) {
		long wait_ms = ms_until(a->expires);
		bool owner_gone = false;

		if (wait_ms == 0)
			return remove_env(a, "it expired");
		if (wait_ms > ENV_CHECK_MS)
			wait_ms = ENV_CHECK_MS;
		if (have_owner && pidfd >= 0) {
			struct pollfd pfd = {pidfd, POLLIN, 0};
			int r = poll(&pfd, 1, (int)wait_ms);
			if (r > 0)
				owner_gone = true;
		} else if (have_owner) {
			envup_sleep_ms(wait_ms < POLL_OWNER_MS ? wait_ms : POLL_OWNER_MS);
			owner_gone = envup_owner_check(&owner) == ENVUP_OWNER_GONE;
		} else {
			envup_sleep_ms(wait_ms);
		}
		if (owner_gone)
			return remove_env(a, why);
		if (envup_now() - last_env_check >= ENV_CHECK_MS / 1000.0) {
			last_env_check = envup_now();
			/* envdown records what it removed: no need to reach the
			 * engine to know (it may be gone, or a proxy to it) */
			if (envup_state_instance_removed(a->env, a->instance) ||
			    env_exists(a->env, a->instance, a->docker_host) == 0) {
				say("environment %s is gone (taken down); exiting", a->env);
				return 0;
			}
		}
	}
}

int envup_watchdog__main(int argc, char **argv)
{
	wd_args a;
	int i;

	memset(&a, 0, sizeof(a));
	if (argc == 2 && strcmp(argv[1], "--pool-fill") == 0)
		return envup_pgpool__fill_main();
	if (argc == 2 && strcmp(argv[1], "--snapshot") == 0)
		return envup_snapshot__take_main();
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--env") == 0)
			a.env = argv[i + 1];
		else if (strcmp(argv[i], "--instance") == 0)
			a.instance = argv[i + 1];
		else if (strcmp(argv[i], "--owner") == 0)
			a.owner = argv[i + 1];
		else if (strcmp(argv[i], "--owner-text") == 0)
			a.owner_text = argv[i + 1];
		else if (strcmp(argv[i], "--docker-host") == 0)
			a.docker_host = argv[i + 1];
		else if (strcmp(argv[i], "--state-dir") == 0 && argv[i + 1][0] == '/')
			setenv("ENVUP_STATE_DIR", argv[i + 1], 1);   /* a process of its own */
		else if (strcmp(argv[i], "--expires") == 0)
			a.expires = strtoll(argv[i + 1], NULL, 10);
		else
			return 2;
	}
	if (!a.env || !a.instance || a.expires <= 0 || !envup_name_valid(a.env) ||
	    !envup_instance_valid(a.instance))
		return 2;
	return run(&a, STATUS_FD);
}
