/*
 * The URLs of databases per test (provision/dburl.c), from a table: which
 * service a URL names (scheme, port), the database its path names, and a
 * service's URL with another database. Passwords holding ':', '@' or '/'
 * (percent-encoded), IPv6 hosts, queries and fragments, ports out of
 * range, and paths that decode to a NUL byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "provision/dburl.h"
#include "util/util.h"

static void test_dburl__split(void **state)
{
	static const struct {
		const char *url;
		int split, port, postgres, redis;
		const char *path;      /* NULL: decodes to NUL */
	} cases[] = {
		{"postgres://test:pw@127.0.0.1:49153/test_k3x9?sslmode=disable", 0, 49153, 1, 0, "test_k3x9"},
		{"postgresql://u@localhost:5432/db", 0, 5432, 1, 0, "db"},
		{"redis://default:pw@127.0.0.1:6379/12", 0, 6379, 0, 1, "12"},
		{"redis://default:pw@127.0.0.1:6379", 0, 6379, 0, 1, ""},
		{"redis://:p:w@h:1/3", 0, 1, 0, 1, "3"},
		{"postgres://u:p%40ss%3Aw@h:7/d%20b", 0, 7, 1, 0, "d b"},
		{"postgres://u:pw@[::1]:5433/x#frag", 0, 5433, 1, 0, "x"},
		{"postgres://u:pw@[::1]/x", 0, -1, 1, 0, "x"},
		{"postgres://h:99999/x", 0, -1, 1, 0, "x"},
		{"postgres://h:0/x", 0, -1, 1, 0, "x"},
		{"postgres://h:12ab/x", 0, -1, 1, 0, "x"},
		{"postgres://h:5432/x%00y", 0, 5432, 1, 0, NULL},
		{"postgres://h:5432/x%4", 0, 5432, 1, 0, "x%4"},
		{"postgres://h:5432/%zz", 0, 5432, 1, 0, "%zz"},
		{"http://h:80/x", 0, 80, 0, 0, "x"},
		{"mysql://h:3306/x", 0, 3306, 0, 0, "x"},
		{"postgres:/h:5432/x", -1, -1, 0, 0, ""},
		{"", -1, -1, 0, 0, ""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		envup_dburl u;
		char *path;
		int r = envup_dburl_split(&u, cases[i].url);
		if (r != cases[i].split)
			fail_msg("%s: split %d, want %d", cases[i].url, r, cases[i].split);
		if (r < 0)
			continue;
		if (u.port != cases[i].port || u.postgres != cases[i].postgres || u.redis != cases[i].redis)
			fail_msg("%s: port %d postgres %d redis %d", cases[i].url, u.port, u.postgres, u.redis);
		path = envup_dburl_path(cases[i].url, &u);
		if (!cases[i].path) {
			assert_null(path);
		} else {
			if (!path || strcmp(path, cases[i].path) != 0)
				fail_msg("%s: path '%s', want '%s'", cases[i].url, path ? path : "(null)", cases[i].path);
		}
		envup__free(path);
	}
}

static void test_dburl__with_path(void **state)
{
	static const struct { const char *url, *path, *want; } cases[] = {
		{"postgres://u:p@h:5432/test?sslmode=disable", "test_ab", "postgres://u:p@h:5432/test_ab?sslmode=disable"},
		{"postgres://u:p@h:5432?sslmode=disable", "x", "postgres://u:p@h:5432/x?sslmode=disable"},
		{"redis://default:p@h:6379", "7", "redis://default:p@h:6379/7"},
		{"redis://default:p@h:6379/", "7", "redis://default:p@h:6379/7"},
		{"redis://default:p%2Fq@h:6379/1#f", "9", "redis://default:p%2Fq@h:6379/9#f"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = envup_dburl_with_path(cases[i].url, cases[i].path);
		assert_non_null(got);
		assert_string_equal(got, cases[i].want);
		envup__free(got);
	}
	assert_null(envup_dburl_with_path("no scheme", "x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dburl__split),
		cmocka_unit_test(test_dburl__with_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
