/*
 * The watchdog process (see watchdog.h).
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

#define STATUS_FD 3
#define ENV_CHECK_MS 5000
#define POLL_OWNER_MS 1000

/* ---- spawning (in envup up) -------------------------------------------- */

static void close_from(int lowest)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0)
		return;
#endif
	{
		long max = sysconf(_SC_OPEN_MAX);
		int fd;
		for (fd = lowest; fd < (max > 0 ? max : 1024); fd++)
			close(fd);
	}
}

typedef struct {
	const char *env;
	const char *instance;
	const char *docker_host;
	const char *owner;        /* label value or NULL */
	const char *owner_text;   /* or NULL */
	long long expires;
} wd_args;

static int run(const wd_args *a, int status_fd);

extern char **environ;

/* The environment without RUNNER_TRACKING_ID (see watchdog.h): what
 * GitHub's runner reads is /proc/PID/environ, the environment a process
 * was exec'd with. The strings are environ's; the array is malloc'd. */
static char **watchdog_environ(void)
{
	size_t n = 0, i, k = 0;
	char **out;

	while (environ && environ[n])
		n++;
	if ((out = envup__calloc(n + 1, sizeof(char *))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "RUNNER_TRACKING_ID=", 19) != 0)
			out[k++] = environ[i];
	out[k] = NULL;
	return out;
}

static char *exe_if(const char *dir, const char *rel)
{
	char *p = envup__sprintf("%s/%s", dir, rel);
	if (p && access(p, X_OK) == 0)
		return p;
	envup__free(p);
	return NULL;
}

/* The directory of a file (malloc'd), or NULL. */
static char *dir_of(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash && slash > path ? envup__strndup(path, (size_t)(slash - path)) : NULL;
}

int envup_watchdog__find(char **out, const char *exe)
{
	const char *env = getenv("ENVUP_WATCHDOG");
	char self[4096], *dirs[2] = {NULL, NULL};
	Dl_info info;
	ssize_t n;
	size_t i;

	*out = NULL;
	if (exe && *exe) {
		if (access(exe, X_OK) < 0)
			return envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_OS,
				"the watchdog helper %s cannot be run", exe);
		*out = envup__strdup(exe);
		return *out ? 0 : ENVUP_ERROR;
	}
	if (env && *env) {
		if (access(env, X_OK) < 0)
			return envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_OS,
				"ENVUP_WATCHDOG=%s cannot be run", env);
		*out = envup__strdup(env);
		return *out ? 0 : ENVUP_ERROR;
	}
	/* next to the shared library holding this code, or to the program it
	 * is linked into */
	if (dladdr((void *)envup_watchdog__find, &info) && info.dli_fname && info.dli_fname[0] == '/')
		dirs[0] = dir_of(info.dli_fname);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		dirs[1] = dir_of(self);
	}
	/* a build tree has it beside them; an installed prefix in libexec */
	for (i = 0; i < 2 && !*out; i++) {
		if (!dirs[i])
			continue;
		if ((*out = exe_if(dirs[i], "envup-watchdog")) == NULL)
			*out = exe_if(dirs[i], i == 0 ? ENVUP_LIB_TO_WATCHDOG : ENVUP_BIN_TO_WATCHDOG);
	}
	envup__free(dirs[0]);
	envup__free(dirs[1]);
	if (!*out && access(ENVUP_WATCHDOG_PATH, X_OK) == 0)
		*out = envup__strdup(ENVUP_WATCHDOG_PATH);
	if (*out)
		return 0;
	return envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_OS,
		"cannot find the watchdog helper envup-watchdog (not next to the library or program, "
		"nor at %s); install envup, or set ENVUP_WATCHDOG to its path", ENVUP_WATCHDOG_PATH);
}

int envup_watchdog_spawn(envup_watchdog *w, const envup_watchdog_options *o)
{
	char expires[32];
	const char *argv[20];
	char *helper = NULL;
	size_t n = 0;
	char **envp = NULL;
	int p[2], k, error;
	pid_t pid;

	ENVUP_ASSERT_ARG(w && o && o->env_name && o->instance);
	w->fd = -1;
	if ((error = envup_watchdog__find(&helper, o->exe)) < 0)
		return error;
	snprintf(expires, sizeof(expires), "%lld", o->expires);
	argv[n++] = "envup-watchdog";
	argv[n++] = "--env";
	argv[n++] = o->env_name;
	argv[n++] = "--instance";
	argv[n++] = o->instance;
	argv[n++] = "--expires";
	argv[n++] = expires;
	if (o->owner) {
		argv[n++] = "--owner";
		argv[n++] = o->owner;
	}
	if (o->owner_text) {
		argv[n++] = "--owner-text";
		argv[n++] = o->owner_text;
	}
	if (o->state_dir) {
		argv[n++] = "--state-dir";
		argv[n++] = o->state_dir;
	}
	if (o->docker_host) {
		argv[n++] = "--docker-host";
		argv[n++] = o->docker_host;
	}
	argv[n] = NULL;
	/* made before the fork: the child only calls what is safe there */
	if ((envp = watchdog_environ()) == NULL) {
		envup__free(helper);
		return ENVUP_ERROR;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		envup__free(helper);
		envup__free(envp);
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot create the watchdog's pipe");
	}
	/* with stdin or stdout closed the pipe gets fds 0..2, which the child
	 * points at /dev/null: keep both ends above them */
	for (k = 0; k < 2; k++) {
		if (p[k] <= STATUS_FD) {
			int moved = fcntl(p[k], F_DUPFD_CLOEXEC, STATUS_FD + 1);
			if (moved < 0) {
				close(p[0]);
				close(p[1]);
				envup__free(helper);
				envup__free(envp);
				return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot create the watchdog's pipe");
			}
			close(p[k]);
			p[k] = moved;
		}
	}
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		envup__free(helper);
		envup__free(envp);
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot start the watchdog");
	}
	if (pid == 0) {
		/* the first child: a new session, then the grandchild is orphaned
		 * to init so nothing waits for it and no terminal signals reach it */
		int devnull;
		sigset_t none;
		if (setsid() < 0 || (pid = fork()) != 0)
			_exit(pid < 0 ? 1 : 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		if ((devnull = open("/dev/null", O_RDWR)) >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		dup2(p[0], STATUS_FD);   /* p[0] > STATUS_FD: see above */
		close_from(STATUS_FD + 1);
		if (chdir("/") < 0)
			_exit(1);
		execve(helper, (char *const *)argv, envp);
		_exit(127);
	}
	envup__free(helper);
	envup__free(envp);
	close(p[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	w->fd = p[1];
	w->pid = pid;
	return 0;
}

void envup_watchdog_release(envup_watchdog *w, envup_watchdog_status status)
{
	char c = (char)status;
	envup_sigpipe_guard guard;
	ssize_t n;

	if (!w || w->fd < 0)
		return;
	/* the watchdog may be gone: never die of SIGPIPE for it */
	envup_sigpipe_block(&guard);
	n = write(w->fd, &c, 1);
	(void)n; /* a watchdog that is gone needs no word */
	envup_sigpipe_restore(&guard);
	close(w->fd);
	w->fd = -1;
}

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
