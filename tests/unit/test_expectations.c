/*
 * envup_mockserver_load against a canned HTTP server thread: the request
 * it sends, success on any 2xx, and MockServer's rejection text in the
 * error, folded and bounded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "healthcheck/load.h"
#include "tests/unit/test_probe_servers.h"

#define HOST "127.0.0.1"
#define EXPECTATIONS ENVUP_TEST_DATA "/init/expectations.json"

static void assert_contains(const char *s, const char *needle)
{
	if (!s || !strstr(s, needle)) {
		print_error("\"%s\" does not contain \"%s\"\n", s ? s : "(null)", needle);
		fail();
	}
}

static void test_mockserver_load__created(void **state)
{
	canned_server *s = canned_http(201, "Created", "[{\"id\":\"x\"}]");
	envup_buf file = ENVUP_BUF_INIT;
	char *req, *body;
	(void)state;
	assert_int_equal(envup_mockserver_load(HOST, s->port, EXPECTATIONS, "mocks.json", 2000), 0);
	req = canned_request(s);
	assert_contains(req, "PUT /mockserver/expectation HTTP/1.1\r\n");
	assert_contains(req, "Content-Type: application/json\r\n");
	assert_null(strstr(req, "Expect:"));
	/* the body is the file, byte for byte */
	assert_int_equal(envup_read_file(&file, EXPECTATIONS, 0), 0);
	body = strstr(req, "\r\n\r\n");
	assert_non_null(body);
	assert_string_equal(body + 4, envup_buf_cstr(&file));
	envup_buf_dispose(&file);
	free(req);
	canned_stop(s);
}

static void test_mockserver_load__any_2xx(void **state)
{
	canned_server *s = canned_http(200, "OK", "");
	(void)state;
	assert_int_equal(envup_mockserver_load(HOST, s->port, EXPECTATIONS, NULL, 2000), 0);
	canned_stop(s);
}

static void test_mockserver_load__rejected(void **state)
{
	/* what MockServer 5.15 answers: the echo of the expectation, then the errors */
	canned_server *s = canned_http(400, "Bad Request",
		"incorrect expectation json format for:\n\n  {\n    \"httpRequest\" : {\n"
		"      \"path\" : 42\n    }\n  }\n\n schema validation errors:\n\n  1 error:\n"
		"   - $.httpRequest.path: integer found, string expected\n");
	(void)state;
	assert_int_equal(envup_mockserver_load(HOST, s->port, EXPECTATIONS, "mocks.json", 2000),
		ENVUP_ERROR);
	assert_string_equal(envup_error_last()->message,
		"expectations mocks.json rejected by MockServer (HTTP 400): incorrect expectation "
		"json format for; schema validation errors: 1 error: - $.httpRequest.path: "
		"integer found, string expected");
	assert_int_equal(envup_error_last()->klass, ENVUP_ERROR_HTTP);
	canned_stop(s);
}

static void test_mockserver_load__rejected_plain(void **state)
{
	char body[4096];
	canned_server *s;
	size_t len;
	(void)state;
	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	memcpy(body, "invalid\nexpectation ", 20);
	s = canned_http(406, "Not Acceptable", body);
	assert_int_equal(envup_mockserver_load(HOST, s->port, EXPECTATIONS, "m.json", 2000),
		ENVUP_ERROR);
	assert_contains(envup_error_last()->message,
		"expectations m.json rejected by MockServer (HTTP 406): invalid expectation xxx");
	len = strlen(envup_error_last()->message);
	assert_true(len < 400);
	assert_string_equal(envup_error_last()->message + len - 3, "...");
	canned_stop(s);
}

static void test_mockserver_load__unreachable(void **state)
{
	(void)state;
	assert_int_equal(envup_mockserver_load(HOST, servers_free_port(), EXPECTATIONS,
		"mocks.json", 1000), ENVUP_ERROR);
	assert_contains(envup_error_last()->message,
		"expectations mocks.json: cannot reach MockServer: PUT /mockserver/expectation: "
		"connection refused");
}

static void test_mockserver_load__missing_file(void **state)
{
	(void)state;
	assert_int_equal(envup_mockserver_load(HOST, 1, "/nonexistent/mocks.json", NULL, 1000),
		ENVUP_ERROR);
	assert_contains(envup_error_last()->message, "/nonexistent/mocks.json: cannot open");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mockserver_load__created),
		cmocka_unit_test(test_mockserver_load__any_2xx),
		cmocka_unit_test(test_mockserver_load__rejected),
		cmocka_unit_test(test_mockserver_load__rejected_plain),
		cmocka_unit_test(test_mockserver_load__unreachable),
		cmocka_unit_test(test_mockserver_load__missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
