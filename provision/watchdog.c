/*
 * Starting the watchdog (see watchdog.h), in envup up: find the
 * envup-watchdog helper, fork and exec it at once with its pipe, and tell
 * it how up ended. The helper's own code is watchdog_main.c.
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
	int p[2], error;
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
	w->envp = envp;
	if (pipe2(p, O_CLOEXEC) < 0) {
		envup__free(helper);
		envup__free(envp);
		w->envp = NULL;
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot create the watchdog's pipe");
	}
	error = envup_watchdog__detach(&pid, helper, argv, envp, p[0], -1);
	envup__free(helper);
	envup__free(envp);
	w->envp = NULL;
	close(p[0]);
	if (error < 0) {
		close(p[1]);
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot start the watchdog");
	}
	w->fd = p[1];
	w->pid = pid;
	return 0;
}

/* An fd above STATUS_FD (the child points 0..2 at /dev/null and moves
 * its own fds to 0 and STATUS_FD): the same fd, or a close-on-exec copy. */
static int above_status_fd(int fd, int *copy)
{
	*copy = -1;
	if (fd < 0 || fd > STATUS_FD)
		return fd;
	return *copy = fcntl(fd, F_DUPFD_CLOEXEC, STATUS_FD + 1);
}

int envup_watchdog__detach(pid_t *first, const char *helper, const char *const *argv, char **envp,
	int status_fd, int stdin_fd)
{
	int copy3, copy0, fd3, fd0;
	pid_t pid;

	fd3 = above_status_fd(status_fd, &copy3);
	fd0 = above_status_fd(stdin_fd, &copy0);
	if ((status_fd >= 0 && fd3 < 0) || (stdin_fd >= 0 && fd0 < 0) || (pid = fork()) < 0) {
		if (copy3 >= 0)
			close(copy3);
		if (copy0 >= 0)
			close(copy0);
		return ENVUP_ERROR;
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
		if (fd3 >= 0)
			dup2(fd3, STATUS_FD);   /* fd3 > STATUS_FD: see above */
		if (fd0 >= 0)
			dup2(fd0, 0);
		close_from(STATUS_FD + 1);
		if (chdir("/") < 0)
			_exit(1);
		execve(helper, (char *const *)argv, envp);
		_exit(127);
	}
	if (copy3 >= 0)
		close(copy3);
	if (copy0 >= 0)
		close(copy0);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	*first = pid;
	return 0;
}

int envup_watchdog__spawn_fed(const char *mode, const char *input, int status_fd, bool strip_runner)
{
	const char *argv[3] = {"envup-watchdog", mode, NULL};
	extern char **environ;
	char *helper = NULL, **envp = NULL;
	size_t len = strlen(input), off = 0;
	ssize_t n;
	int p[2] = {-1, -1}, error;
	pid_t pid;

	if ((error = envup_watchdog__find(&helper, NULL)) < 0)
		return error;
	error = ENVUP_ERROR;
	if (strip_runner && (envp = watchdog_environ()) == NULL)
		goto done;
	if (pipe2(p, O_CLOEXEC) < 0) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot create a pipe for the %s helper", mode);
		goto done;
	}
	if (envup_watchdog__detach(&pid, helper, argv, envp ? envp : environ, status_fd, p[0]) < 0) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot start the %s helper", mode);
		goto done;
	}
	close(p[0]);
	p[0] = -1;
	/* what it needs comes on a pipe, never on its command line, written
	 * once it runs and reads: a pipe of one page (a user over
	 * pipe-user-pages-soft) never blocks us for good */
	{
		envup_sigpipe_guard guard;
		envup_sigpipe_block(&guard);
		while (off < len && ((n = write(p[1], input + off, len - off)) > 0 || (n < 0 && errno == EINTR)))
			if (n > 0)
				off += (size_t)n;
		envup_sigpipe_restore(&guard);
	}
	if (off != len) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot hand the %s helper its job", mode);
		goto done;
	}
	error = 0;
done:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	envup__free(helper);
	envup__free(envp);
	return error;
}

int envup_watchdog_spawn_filler(const char *conninfo_lines)
{
	return envup_watchdog__spawn_fed("--pool-fill", conninfo_lines, -1, true);
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
