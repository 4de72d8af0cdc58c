/*
 * The Redis probe against real, throwaway redis-server processes: one with
 * --requirepass, one without. Exits 77 when redis-server is missing,
 * unless ENVUP_TEST_REQUIRE_SERVERS=1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test_probe_servers.h"

#define HOST "127.0.0.1"
#define PASSWORD "redis-Secret-pw-42"

static servers_redis locked, open_redis;

static void assert_contains(const char *s, const char *needle)
{
	if (!s || !strstr(s, needle)) {
		print_error("\"%s\" does not contain \"%s\"\n", s ? s : "(null)", needle);
		fail();
	}
}

static int group_setup(void **state)
{
	(void)state;
	servers_redis_start(&locked, PASSWORD);
	servers_redis_start(&open_redis, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	servers_redis_stop(&locked);
	servers_redis_stop(&open_redis);
	servers_stop_all();
	return 0;
}

static void measure(const char *what, int port, const char *password)
{
	char *why = NULL;
	double total = 0, worst = 0;
	int i, n = 200;

	for (i = 0; i < n; i++) {
		double t0 = envup_now(), ms;
		assert_int_equal(envup_probe_redis(&why, HOST, port, password, 1000), 0);
		ms = SERVERS_MS(t0);
		total += ms;
		if (ms > worst)
			worst = ms;
		assert_null(why);
	}
	fprintf(stderr, "# redis ready probe (%s): %.3f ms average, %.3f ms worst (%d attempts)\n",
		what, total / n, worst, n);
}

static void test_probe_redis__with_password(void **state)
{
	(void)state;
	measure("AUTH + PING", locked.port, PASSWORD);
}

static void test_probe_redis__without_password(void **state)
{
	(void)state;
	measure("PING", open_redis.port, NULL);
}

static void test_probe_redis__password_missing(void **state)
{
	char *why = NULL;
	(void)state;
	assert_int_equal(envup_probe_redis(&why, HOST, locked.port, NULL, 1000), 1);
	assert_contains(why, "PING: NOAUTH");
	envup__free(why);
}

static void test_probe_redis__wrong_password(void **state)
{
	const char *wrong = "Wrong-redis-pw-77";
	char *why = NULL;
	(void)state;
	assert_int_equal(envup_probe_redis(&why, HOST, locked.port, wrong, 1000), 1);
	assert_contains(why, "AUTH: WRONGPASS");
	assert_null(strstr(why, wrong));
	assert_null(strstr(why, PASSWORD));
	envup__free(why);
}

static void test_probe_redis__password_not_configured(void **state)
{
	char *why = NULL;
	(void)state;
	/* a password the server does not expect is a mistake worth reporting */
	assert_int_equal(envup_probe_redis(&why, HOST, open_redis.port, PASSWORD, 1000), 1);
	assert_contains(why, "AUTH: ERR");
	assert_null(strstr(why, PASSWORD));
	envup__free(why);
}

static void test_probe_redis__tcp_probe(void **state)
{
	char *why = NULL;
	(void)state;
	assert_int_equal(envup_probe_tcp(&why, HOST, locked.port, 1000), 0);
	assert_null(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_redis__with_password),
		cmocka_unit_test(test_probe_redis__without_password),
		cmocka_unit_test(test_probe_redis__password_missing),
		cmocka_unit_test(test_probe_redis__wrong_password),
		cmocka_unit_test(test_probe_redis__password_not_configured),
		cmocka_unit_test(test_probe_redis__tcp_probe),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
