/*
 * envup up when things go wrong, against the real engine. Each failure
 * must: exit with the documented code, leave stdout empty, name the
 * service and what happened on stderr, and leave nothing behind.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "support.h"

static void assert_failed_cleanly(it_env *t, int code)
{
	if (t->status != code)
		fail_msg("exit %d, expected %d; stderr:\n%s", t->status, code, envup_buf_cstr(&t->err));
	assert_int_equal(t->out.size, 0);
	assert_int_equal(it_leftovers(t->name), 0);
}

static void test_container_exits(void **state)
{
	it_env *t = *state;
	it_env_init(t, "services:\n"
		"  crash:\n"
		"    image: nginx:1.27-alpine\n"
		"    command: [sh, -c, \"echo boom-marker >&2; exit 3\"]\n"
		"    ports: [80]\n");
	it_envup(t, "up", NULL);
	assert_failed_cleanly(t, 1);
	it_assert_contains(t->err.ptr, "crash: container exited with code 3");
	it_assert_contains(t->err.ptr, "boom-marker");
}

static void test_init_script_error(void **state)
{
	it_env *t = *state;
	it_env_init(t, "services:\n"
		"  db:\n"
		"    template: postgres\n"
		"    init: [sql/ok.sql, sql/bad.sql]\n");
	it_write(t, "sql/ok.sql", "CREATE TABLE a (x int);\n");
	it_write(t, "sql/bad.sql", "-- a comment\nINSERT INTO a VALUES (1);\n\nSELECT * FROM nope;\n");
	it_envup(t, "up", NULL);
	assert_failed_cleanly(t, 1);
	it_assert_contains(t->err.ptr, "db: init script sql/bad.sql line 4");
	it_assert_contains(t->err.ptr, "relation \"nope\" does not exist");
}

static void test_expectations_rejected(void **state)
{
	it_env *t = *state;
	it_env_init(t, "services:\n"
		"  mocks:\n"
		"    template: mockserver\n"
		"    expectations: bad.json\n");
	it_write(t, "bad.json",
		"[{\"httpRequest\": {\"path\": \"/x\"}, \"httpResponse\": {\"statusCode\": \"abc\"}}]\n");
	it_envup(t, "up", NULL);
	assert_failed_cleanly(t, 1);
	it_assert_contains(t->err.ptr, "mocks: expectations bad.json rejected by MockServer");
	it_assert_contains(t->err.ptr, "statusCode");
}

static void test_probe_timeout(void **state)
{
	it_env *t = *state;
	it_env_init(t, "services:\n"
		"  silent:\n"
		"    image: nginx:1.27-alpine\n"
		"    command: [sleep, \"1000\"]\n"
		"    ports: [80]\n"
		"    wait: { tcp: 80 }\n");
	it_envup(t, "up", "--timeout", "4", NULL);
	assert_failed_cleanly(t, 1);
	it_assert_contains(t->err.ptr, "silent: not ready after");
	it_assert_contains(t->err.ptr, "timeout 4s");
	/* the whole up is bounded: a little over 4 s, never much more */
	if (t->seconds > 15)
		fail_msg("up took %.1fs with --timeout 4", t->seconds);
}

static void test_pull_error(void **state)
{
	it_env *t = *state;
	it_env_init(t, "services:\n"
		"  ghost:\n"
		"    image: envup-test/does-not-exist:1\n");
	it_envup(t, "up", NULL);
	assert_failed_cleanly(t, 1);
	it_assert_contains(t->err.ptr, "ghost: pull");
	it_assert_contains(t->err.ptr, "does-not-exist");
}

static void test_spec_error_creates_nothing(void **state)
{
	it_env *t = *state;
	it_env_init(t, "services:\n"
		"  db:\n"
		"    template: postgres\n"
		"    envv: { A: b }\n");
	it_envup(t, "up", NULL);
	assert_failed_cleanly(t, 2);
	it_assert_contains(t->err.ptr, "envup.yaml:4:5: services.db.envv: unknown key");
	/* one line */
	assert_non_null(strchr(t->err.ptr, '\n'));
	assert_null(strchr(strchr(t->err.ptr, '\n') + 1, '\n'));
}

static void test_dependency_failure_stops_the_rest(void **state)
{
	it_env *t = *state;
	it_env_init(t, "services:\n"
		"  base:\n"
		"    image: nginx:1.27-alpine\n"
		"    command: [sh, -c, \"exit 5\"]\n"
		"  app:\n"
		"    template: redis\n"
		"    depends_on: [base]\n");
	it_envup(t, "up", NULL);
	assert_failed_cleanly(t, 1);
	it_assert_contains(t->err.ptr, "base: container exited with code 5");
	/* app never started: it waited for base */
	it_assert_not_contains(t->err.ptr, "app: creating");
}

static void test_sigint_during_up(void **state)
{
	it_env *t = *state;
	int status = 0;
	pid_t pid;

	it_env_init(t, "services:\n"
		"  db: { template: postgres }\n"
		"  never:\n"
		"    image: nginx:1.27-alpine\n"
		"    command: [sleep, \"1000\"]\n"
		"    ports: [80]\n"
		"    wait: { tcp: 80 }\n");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", 1);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (chdir(t->dir) < 0)
			_exit(126);
		execl(ENVUP_BIN, ENVUP_BIN, "up", "-n", t->name, (char *)NULL);
		_exit(127);
	}
	/* wait until something exists, then interrupt */
	{
		int i;
		for (i = 0; i < 200 && it_leftovers(t->name) == 0; i++)
			usleep(50 * 1000);
		usleep(500 * 1000);
	}
	kill(pid, SIGINT);
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 128 + SIGINT);
	assert_int_equal(it_leftovers(t->name), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spec_error_creates_nothing, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_container_exits, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_init_script_error, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_expectations_rejected, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_probe_timeout, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_pull_error, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_dependency_failure_stops_the_rest, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_sigint_during_up, it_setup, it_teardown),
	};
	it_require_engine();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
