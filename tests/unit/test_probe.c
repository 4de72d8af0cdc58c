/*
 * Probes against local fakes (no server packages needed): the TCP probe
 * (refused, accepting, closed at once as docker-proxy does), the HTTP and
 * MockServer probes against a canned HTTP server, and the Redis and
 * PostgreSQL probes against peers that refuse, hang up or stay silent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test_probe_servers.h"

#define HOST "127.0.0.1"

static void assert_contains(const char *s, const char *needle)
{
	if (!s || !strstr(s, needle)) {
		print_error("\"%s\" does not contain \"%s\"\n", s ? s : "(null)", needle);
		fail();
	}
}

/* ---- tcp ---------------------------------------------------------------- */

static void test_probe_tcp__refused(void **state)
{
	char *why = NULL;
	(void)state;
	assert_int_equal(envup_probe_tcp(&why, HOST, servers_free_port(), 500), 1);
	assert_contains(why, "connection refused");
	assert_contains(why, "127.0.0.1:");
	envup__free(why);
}

static void test_probe_tcp__accepting(void **state)
{
	char *why = (char *)"junk";
	int port, fd = servers_listen(&port);
	(void)state;
	/* the kernel completes the handshake from the backlog; nobody calls accept */
	assert_int_equal(envup_probe_tcp(&why, HOST, port, 500), 0);
	assert_null(why);
	close(fd);
}

static void test_probe_tcp__closed_by_peer(void **state)
{
	canned_server *s = canned_start(CANNED_CLOSE, NULL);
	char *why = NULL;
	(void)state;
	assert_int_equal(envup_probe_tcp(&why, HOST, s->port, 1000), 1);
	assert_non_null(why);
	if (!strstr(why, "closed by peer"))
		assert_contains(why, "reset by peer");
	envup__free(why);
	canned_stop(s);
}

static void test_probe_tcp__greeting_is_ready(void **state)
{
	canned_server *s = canned_start(CANNED_REPLY, "hello\r\n");
	char *why = NULL;
	int fd, port;
	(void)state;
	/* a server that only answers after a read: silence means ready */
	assert_int_equal(envup_probe_tcp(&why, HOST, s->port, 1000), 0);
	canned_stop(s);
	fd = servers_listen(&port);
	assert_int_equal(envup_probe_tcp(&why, "localhost", port, 1000), 0);
	close(fd);
}

static void test_probe_tcp__bad_arguments(void **state)
{
	char *why = NULL;
	(void)state;
	assert_true(envup_probe_tcp(&why, HOST, 0, 100) < 0);
	assert_true(envup_probe_tcp(&why, HOST, 70000, 100) < 0);
	assert_true(envup_probe_tcp(&why, NULL, 80, 100) < 0);
	assert_null(why);
}

/* ---- http --------------------------------------------------------------- */

static void test_probe_http__ok(void **state)
{
	canned_server *s = canned_http(200, "OK", "fine");
	char *why = NULL, *req;
	(void)state;
	assert_int_equal(envup_probe_http(&why, HOST, s->port, "GET", "/health", 200, 1000), 0);
	assert_null(why);
	req = canned_request(s);
	assert_contains(req, "GET /health HTTP/1.1\r\n");
	free(req);
	canned_stop(s);
}

static void test_probe_http__status_mismatch(void **state)
{
	canned_server *s = canned_http(503, "Service Unavailable", "warming\nup");
	char *why = NULL;
	(void)state;
	assert_int_equal(envup_probe_http(&why, HOST, s->port, "GET", "/health", 200, 1000), 1);
	assert_string_equal(why, "HTTP 503 from GET /health: warming up");
	envup__free(why);
	canned_stop(s);
}

static void test_probe_http__other_expected_status(void **state)
{
	canned_server *s = canned_http(204, "No Content", "");
	char *why = NULL, *req;
	(void)state;
	assert_int_equal(envup_probe_http(&why, HOST, s->port, "POST", "ready", 204, 1000), 0);
	req = canned_request(s);
	assert_contains(req, "POST /ready HTTP/1.1\r\n");
	assert_contains(req, "Content-Length: 0\r\n");
	free(req);
	canned_stop(s);
}

static void test_probe_http__refused(void **state)
{
	char *why = NULL;
	(void)state;
	assert_int_equal(envup_probe_http(&why, HOST, servers_free_port(), "GET", "/", 200, 500), 1);
	assert_contains(why, "GET /: connection refused");
	envup__free(why);
}

static void test_probe_http__closed_by_peer(void **state)
{
	canned_server *s = canned_start(CANNED_CLOSE, NULL);
	char *why = NULL;
	(void)state;
	assert_int_equal(envup_probe_http(&why, HOST, s->port, "GET", "/", 200, 1000), 1);
	assert_non_null(why);
	if (!strstr(why, "closed by peer"))
		assert_contains(why, "reset by peer");
	envup__free(why);
	canned_stop(s);
}

static void test_probe_http__timeout(void **state)
{
	canned_server *s = canned_start(CANNED_SILENT, NULL);
	char *why = NULL;
	double t0 = envup_now(), ms;
	(void)state;
	assert_int_equal(envup_probe_http(&why, HOST, s->port, "GET", "/", 200, 200), 1);
	ms = SERVERS_MS(t0);
	assert_contains(why, "no answer within 200 ms");
	assert_true(ms >= 190 && ms < 1500);
	envup__free(why);
	canned_stop(s);
}

static void test_probe_http__ignores_proxy_env(void **state)
{
	canned_server *s = canned_http(200, "OK", "");
	char *why = NULL;
	(void)state;
	setenv("http_proxy", "http://127.0.0.1:1", 1);
	setenv("HTTP_PROXY", "http://127.0.0.1:1", 1);
	assert_int_equal(envup_probe_http(&why, HOST, s->port, "GET", "/", 200, 1000), 0);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	canned_stop(s);
}

static void test_probe_mockserver__status(void **state)
{
	canned_server *s = canned_http(200, "OK", "{\"ports\":[1080]}");
	char *why = NULL, *req;
	(void)state;
	assert_int_equal(envup_probe_mockserver(&why, HOST, s->port, 1000), 0);
	req = canned_request(s);
	assert_contains(req, "PUT /mockserver/status HTTP/1.1\r\n");
	free(req);
	canned_stop(s);

	s = canned_http(404, "Not Found", "");
	assert_int_equal(envup_probe_mockserver(&why, HOST, s->port, 1000), 1);
	assert_string_equal(why, "HTTP 404 from PUT /mockserver/status");
	envup__free(why);
	canned_stop(s);
}

/* ---- redis against fakes -------------------------------------------------- */

static void test_probe_redis__loading(void **state)
{
	canned_server *s = canned_start(CANNED_REPLY,
		"-LOADING Redis is loading the dataset in memory\r\n");
	char *why = NULL;
	(void)state;
	assert_int_equal(envup_probe_redis(&why, HOST, s->port, NULL, 1000), 1);
	assert_contains(why, "PING: LOADING Redis is loading the dataset in memory");
	envup__free(why);
	canned_stop(s);
}

static void test_probe_redis__closed_by_peer(void **state)
{
	canned_server *s = canned_start(CANNED_CLOSE, NULL);
	char *why = NULL;
	int i;
	(void)state;
	/* repeated: a write into the closed socket must not raise SIGPIPE */
	for (i = 0; i < 5; i++) {
		assert_int_equal(envup_probe_redis(&why, HOST, s->port, "some-password", 1000), 1);
		assert_non_null(why);
		assert_null(strstr(why, "some-password"));
		envup__free(why);
		why = NULL;
	}
	canned_stop(s);
}

static void test_probe_redis__refused_and_silent(void **state)
{
	canned_server *s;
	char *why = NULL;
	double t0;
	(void)state;
	assert_int_equal(envup_probe_redis(&why, HOST, servers_free_port(), NULL, 500), 1);
	assert_contains(why, "connection refused");
	envup__free(why);
	why = NULL;

	s = canned_start(CANNED_SILENT, NULL);
	t0 = envup_now();
	assert_int_equal(envup_probe_redis(&why, HOST, s->port, NULL, 200), 1);
	assert_true(SERVERS_MS(t0) < 1500);
	assert_contains(why, "no answer within 200 ms");
	envup__free(why);
	canned_stop(s);
}

/* ---- postgres against fakes ----------------------------------------------- */

static void test_probe_postgres__refused(void **state)
{
	char *why = NULL;
	(void)state;
	assert_int_equal(envup_probe_postgres(&why, HOST, servers_free_port(), "u", "pw-never-shown",
		"db", 500), 1);
	assert_contains(why, "Connection refused");
	assert_null(strstr(why, "Is the server running")); /* libpq's hint dropped */
	assert_null(strchr(why, '\n'));
	envup__free(why);
}

static void test_probe_postgres__proxy_closes(void **state)
{
	canned_server *s = canned_start(CANNED_CLOSE, NULL);
	char *why = NULL;
	(void)state;
	assert_int_equal(envup_probe_postgres(&why, HOST, s->port, "u", "pw-never-shown", "db",
		1000), 1);
	assert_contains(why, "server closed the connection unexpectedly");
	assert_null(strchr(why, '\n'));
	envup__free(why);
	canned_stop(s);
}

static void test_probe_postgres__silent_bounded(void **state)
{
	canned_server *s = canned_start(CANNED_SILENT, NULL);
	char *why = NULL;
	double t0 = envup_now(), ms;
	(void)state;
	assert_int_equal(envup_probe_postgres(&why, HOST, s->port, "u", "pw-never-shown", "db",
		250), 1);
	ms = SERVERS_MS(t0);
	assert_true(ms >= 240 && ms < 1500);
	assert_contains(why, "no answer within");
	envup__free(why);
	canned_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_tcp__refused),
		cmocka_unit_test(test_probe_tcp__accepting),
		cmocka_unit_test(test_probe_tcp__closed_by_peer),
		cmocka_unit_test(test_probe_tcp__greeting_is_ready),
		cmocka_unit_test(test_probe_tcp__bad_arguments),
		cmocka_unit_test(test_probe_http__ok),
		cmocka_unit_test(test_probe_http__status_mismatch),
		cmocka_unit_test(test_probe_http__other_expected_status),
		cmocka_unit_test(test_probe_http__refused),
		cmocka_unit_test(test_probe_http__closed_by_peer),
		cmocka_unit_test(test_probe_http__timeout),
		cmocka_unit_test(test_probe_http__ignores_proxy_env),
		cmocka_unit_test(test_probe_mockserver__status),
		cmocka_unit_test(test_probe_redis__loading),
		cmocka_unit_test(test_probe_redis__closed_by_peer),
		cmocka_unit_test(test_probe_redis__refused_and_silent),
		cmocka_unit_test(test_probe_postgres__refused),
		cmocka_unit_test(test_probe_postgres__proxy_closes),
		cmocka_unit_test(test_probe_postgres__silent_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
