/*
 * The PostgreSQL probe against a real, throwaway server (initdb + postgres
 * on a free loopback port). Exits 77 when the server binaries are missing,
 * unless ENVUP_TEST_REQUIRE_SERVERS=1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test_probe_servers.h"

#define HOST "127.0.0.1"

static servers_pg pg;

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
	servers_pg_start(&pg);
	fprintf(stderr, "# postgres on port %d ready after %.0f ms (first reason: %s)\n",
		pg.port, pg.startup_s * 1000, pg.first_reason[0] ? pg.first_reason : "-");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	servers_pg_stop(&pg);
	servers_stop_all();
	return 0;
}

static void test_probe_postgres__ready(void **state)
{
	char *why = (char *)"junk";
	double t0, total = 0, worst = 0;
	int i, n = 50;
	(void)state;
	for (i = 0; i < n; i++) {
		double ms;
		t0 = envup_now();
		assert_int_equal(envup_probe_postgres(&why, HOST, pg.port, pg.user, pg.password,
			pg.database, 1000), 0);
		ms = SERVERS_MS(t0);
		total += ms;
		if (ms > worst)
			worst = ms;
		assert_null(why);
	}
	fprintf(stderr, "# postgres ready probe: %.2f ms average, %.2f ms worst (%d attempts)\n",
		total / n, worst, n);
}

static void test_probe_postgres__not_listening(void **state)
{
	char *why = NULL;
	double t0 = envup_now();
	(void)state;
	assert_int_equal(envup_probe_postgres(&why, HOST, servers_free_port(), pg.user,
		pg.password, pg.database, 1000), 1);
	fprintf(stderr, "# postgres refused probe: %.2f ms: %s\n", SERVERS_MS(t0), why);
	assert_contains(why, "Connection refused");
	envup__free(why);
}

static void test_probe_postgres__wrong_password(void **state)
{
	const char *wrong = "Wrong-Passw0rd-xyz";
	char *why = NULL;
	(void)state;
	assert_int_equal(envup_probe_postgres(&why, HOST, pg.port, pg.user, wrong, pg.database,
		1000), 1);
	assert_contains(why, "password authentication failed");
	assert_null(strstr(why, wrong));
	assert_null(strstr(why, pg.password));
	assert_null(strchr(why, '\n'));
	envup__free(why);
}

static void test_probe_postgres__no_such_database(void **state)
{
	char *why = NULL;
	(void)state;
	assert_int_equal(envup_probe_postgres(&why, HOST, pg.port, pg.user, pg.password,
		"nope_db", 1000), 1);
	assert_contains(why, "database \"nope_db\" does not exist");
	envup__free(why);
}

static void test_probe_postgres__tcp_and_waiter_agree(void **state)
{
	char *why = NULL;
	(void)state;
	assert_int_equal(envup_probe_tcp(&why, HOST, pg.port, 1000), 0);
	assert_null(why);
}

static void test_probe_postgres__stopped_server(void **state)
{
	servers_pg other;
	char *why = NULL;
	int port;
	(void)state;
	/* a second cluster, stopped: its port refuses again */
	servers_pg_start(&other);
	port = other.port;
	assert_int_equal(envup_probe_postgres(&why, HOST, port, other.user, other.password,
		other.database, 1000), 0);
	servers_pg_stop(&other);
	assert_int_equal(envup_probe_postgres(&why, HOST, port, other.user, other.password,
		other.database, 1000), 1);
	assert_non_null(why);
	envup__free(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_postgres__ready),
		cmocka_unit_test(test_probe_postgres__not_listening),
		cmocka_unit_test(test_probe_postgres__wrong_password),
		cmocka_unit_test(test_probe_postgres__no_such_database),
		cmocka_unit_test(test_probe_postgres__tcp_and_waiter_agree),
		cmocka_unit_test(test_probe_postgres__stopped_server),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
