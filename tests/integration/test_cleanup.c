/*
 * Crash-safe cleanup, against the real engine: whatever happens to the
 * process that owns an environment, SIGKILL included, the environment is
 * removed within 30 seconds, by its watchdog or by `envup gc`.
 *
 * The 30 s bound is the guarantee under test, not a speed goal: the
 * watchdog typically needs well under a second (see bench/).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "support.h"
#include "provision/state.h"

#define GUARANTEE_SECONDS 30.0

static const char *SLOW_SPEC =
	"services:\n"
	"  cache: { template: redis }\n"
	"  never:\n"
	"    image: nginx:1.27-alpine\n"
	"    command: [sleep, \"1000\"]\n"
	"    ports: [80]\n"
	"    wait: { tcp: 80 }\n";

/* Start envup with args in the test dir, output discarded. */
static pid_t spawn_envup(it_env *t, const char *const *args)
{
	const char *argv[32];
	size_t n = 0, i;
	pid_t pid;

	argv[n++] = ENVUP_BIN;
	for (i = 0; args[i] && n < 30; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *f = freopen("/dev/null", "w", stdout);
		(void)f;
		f = freopen("/dev/null", "w", stderr);
		(void)f;
		if (chdir(t->dir) < 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Wait until the environment has `count` running containers. */
static void wait_for_containers(const char *name, size_t count)
{
	double until = envup_now() + 120;
	while (it_leftovers(name) < count + 1) { /* + the network */
		if (envup_now() > until)
			fail_msg("environment %s never got %zu containers", name, count);
		usleep(50 * 1000);
	}
}

/* Assert the environment disappears within the guarantee; returns seconds. */
static double assert_removed_within_guarantee(const char *name)
{
	double start = envup_now();
	while (it_leftovers(name) > 0) {
		if (envup_now() - start > GUARANTEE_SECONDS)
			fail_msg("environment %s still exists %.0fs after its owner died", name,
				GUARANTEE_SECONDS);
		usleep(100 * 1000);
	}
	return envup_now() - start;
}

/* Wait until the FIFO at path is written to (the command run by `envup
 * run` says it started): an event, not a guess at how long it takes. */
static void wait_for_fifo(const char *path)
{
	struct pollfd p;
	char c;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	assert_true(fd >= 0);
	p.fd = fd;
	p.events = POLLIN;
	/* (POLLHUP before a writer ever opened does not happen on Linux FIFOs) */
	if (poll(&p, 1, 120 * 1000) != 1 || read(fd, &c, 1) != 1)
		fail_msg("the command under envup run never started");
	close(fd);
}

/* Wait until the environment's watchdog logs `needle`. */
static void wait_for_watchdog_log(const char *name, const char *needle)
{
	char *dir = NULL, path[512];
	double until = envup_now() + 60;

	assert_int_equal(envup_state_dir(&dir, false), 0);
	snprintf(path, sizeof(path), "%s/%s.watchdog.log", dir, name);
	envup__free(dir);
	for (;;) {
		envup_buf b = ENVUP_BUF_INIT;
		bool found = envup_read_file(&b, path, 0) == 0 && strstr(envup_buf_cstr(&b), needle);
		envup_buf_dispose(&b);
		if (found)
			return;
		if (envup_now() > until)
			fail_msg("the watchdog of %s never logged \"%s\"", name, needle);
		usleep(20 * 1000);
	}
}

/* Wait until the environment's expiry (its dev.envup.expires, as `envup
 * status --format json` shows it) has passed on the wall clock. */
static void wait_until_expired(it_env *t)
{
	const char *p;
	long long expires;
	long nsec;
	char stamp[40];

	assert_int_equal(it_envup(t, "status", "--format", "json", NULL), 0);
	/* ..."expires": "2026-12-01T11:31:04Z"... */
	p = strstr(envup_buf_cstr(&t->out), "\"expires\":");
	assert_non_null(p);
	p = strchr(p + strlen("\"expires\":"), '"');
	assert_non_null(p);
	p++;
	snprintf(stamp, sizeof(stamp), "%.*s", (int)strcspn(p, "\""), p);
	assert_int_equal(envup_time_parse(stamp, &expires, &nsec), 0);
	while ((long long)time(NULL) <= expires)
		usleep((useconds_t)((expires + 1 - (long long)time(NULL)) * 1000000LL));
}

static void test_sigkill_run_after_ready(void **state)
{
	it_env *t = *state;
	const char *args[] = {"run", "-q", "-n", NULL, "--", "sh", "-c",
		"echo started > ready.fifo; exec sleep 600", NULL};
	char fifo[512];
	pid_t pid;
	double took;

	it_env_init(t, "services:\n  cache: { template: redis }\n");
	snprintf(fifo, sizeof(fifo), "%s/ready.fifo", t->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	args[3] = t->name;
	pid = spawn_envup(t, args);
	/* ready: the command runs, so up has finished */
	wait_for_fifo(fifo);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	took = assert_removed_within_guarantee(t->name);
	print_message("removed %.2fs after SIGKILL of envup run\n", took);
}

static void test_sigkill_up_half_way(void **state)
{
	it_env *t = *state;
	const char *args[] = {"up", "-q", "-n", NULL, NULL};
	pid_t pid;
	double took;

	it_env_init(t, SLOW_SPEC);
	args[3] = t->name;
	pid = spawn_envup(t, args);
	/* cache is up, never is being probed: up is half-way */
	wait_for_containers(t->name, 2);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	took = assert_removed_within_guarantee(t->name);
	print_message("removed %.2fs after SIGKILL of envup up\n", took);
}

static void test_owner_dies(void **state)
{
	it_env *t = *state;
	char owner_pid[32];
	pid_t owner;
	double took;

	it_env_init(t, "services:\n  cache: { template: redis }\n");
	/* the owner: a process that is not envup's parent */
	owner = fork();
	assert_true(owner >= 0);
	if (owner == 0) {
		pause();
		_exit(0);
	}
	snprintf(owner_pid, sizeof(owner_pid), "%ld", (long)owner);
	assert_int_equal(it_envup(t, "up", "--owner-pid", owner_pid, NULL), 0);
	/* while the owner lives, the environment stays (and gc leaves it):
	 * checked once the watchdog watches it */
	wait_for_watchdog_log(t->name, "envup up finished; watching the owner");
	assert_int_equal(it_envup(t, "--no-name", "gc", NULL), 0);
	assert_true(it_leftovers(t->name) > 0);
	kill(owner, SIGKILL);
	waitpid(owner, NULL, 0);
	took = assert_removed_within_guarantee(t->name);
	print_message("removed %.2fs after the owner died\n", took);
}

static void test_owner_must_exist(void **state)
{
	it_env *t = *state;
	it_env_init(t, "services:\n  cache: { template: redis }\n");
	/* pid_max is below this on every Linux */
	assert_int_equal(it_envup(t, "up", "--owner-pid", "999999999", NULL), 2);
	it_assert_contains(t->err.ptr, "owner process 999999999 does not exist");
	assert_int_equal(it_leftovers(t->name), 0);
}

/* Without a watchdog (it was killed too), `envup gc` is the safety net. */
static void test_gc_removes_expired(void **state)
{
	it_env *t = *state;
	char pattern[128];
	envup_buf err1 = ENVUP_BUF_INIT, err2 = ENVUP_BUF_INIT;
	const char *gc[] = {ENVUP_BIN, "gc", NULL};
	const char *pk[] = {"/usr/bin/pkill", "-f", pattern, NULL};
	pid_t a, b;
	int sa = 0, sb = 0;

	it_env_init(t, "services:\n  cache: { template: redis }\n");
	assert_int_equal(it_envup(t, "up", "--keep", "--ttl", "3s", NULL), 0);
	snprintf(pattern, sizeof(pattern), "envup-watchdog --env %s ", t->name);
	it_exec(NULL, pk, NULL, NULL, NULL, NULL);
	/* not expired yet: gc leaves it */
	assert_int_equal(it_envup(t, "--no-name", "gc", NULL), 0);
	assert_true(it_leftovers(t->name) > 0);
	wait_until_expired(t);
	/* two gc at once: both succeed, the environment goes exactly once */
	a = fork();
	if (a == 0)
		_exit(it_exec(NULL, gc, NULL, NULL, &err1, NULL));
	b = fork();
	if (b == 0)
		_exit(it_exec(NULL, gc, NULL, NULL, &err2, NULL));
	waitpid(a, &sa, 0);
	waitpid(b, &sb, 0);
	assert_int_equal(WEXITSTATUS(sa), 0);
	assert_int_equal(WEXITSTATUS(sb), 0);
	assert_int_equal(it_leftovers(t->name), 0);
	/* and once more: nothing to do */
	assert_int_equal(it_envup(t, "--no-name", "gc", NULL), 0);
	envup_buf_dispose(&err1);
	envup_buf_dispose(&err2);
}

static void test_gc_reports(void **state)
{
	it_env *t = *state;
	char pattern[128];
	const char *pk[] = {"/usr/bin/pkill", "-f", pattern, NULL};

	it_env_init(t, "services:\n  cache: { template: redis }\n");
	assert_int_equal(it_envup(t, "up", "--keep", "--ttl", "1s", NULL), 0);
	snprintf(pattern, sizeof(pattern), "envup-watchdog --env %s ", t->name);
	it_exec(NULL, pk, NULL, NULL, NULL, NULL);
	wait_until_expired(t);
	assert_int_equal(it_envup(t, "--no-name", "gc", NULL), 0);
	it_assert_contains(t->err.ptr, "removed ");
	it_assert_contains(t->err.ptr, t->name);
	it_assert_contains(t->err.ptr, "expired");
	assert_int_equal(it_leftovers(t->name), 0);
}

/* `envdown --all` removes every envup environment on the engine: on a
 * developer's machine that includes theirs, so it runs only when asked. */
static void test_down_all(void **state)
{
	it_env *t = *state;
	it_env other;

	if (!getenv("ENVUP_TEST_DESTRUCTIVE")) {
		print_message("skipped: set ENVUP_TEST_DESTRUCTIVE=1 (removes every envup environment)\n");
		skip();
	}
	it_env_init(t, "services:\n  cache: { template: redis }\n");
	it_env_init(&other, "services:\n  cache: { template: redis }\n");
	assert_int_equal(it_envup(t, "up", NULL), 0);
	assert_int_equal(it_envup(&other, "up", NULL), 0);
	assert_int_equal(it_envup(t, "--no-name", "down", "--all", NULL), 0);
	assert_int_equal(it_leftovers(t->name), 0);
	assert_int_equal(it_leftovers(other.name), 0);
	it_env_cleanup(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_owner_must_exist, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_run_after_ready, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_up_half_way, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_owner_dies, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_gc_removes_expired, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_gc_reports, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_down_all, it_setup, it_teardown),
	};
	it_require_engine();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
