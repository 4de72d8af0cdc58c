/*
 * Image names (provision/image.c): Docker Hub detection, mirror rewriting
 * and the repo/tag/digest split used for pulls. No engine needed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "provision/image.h"

static void test_image_names__is_hub(void **state)
{
	static const struct { const char *image; bool hub; } cases[] = {
		{"postgres", true},
		{"postgres:16-alpine", true},
		{"redis@sha256:0123456789abcdef", true},
		{"library/redis:7", true},
		{"mockserver/mockserver:5.15.0", true},
		{"docker.io/library/redis:7", true},
		{"docker.io/mockserver/mockserver", true},
		{"index.docker.io/library/postgres:16", true},
		{"registry-1.docker.io/library/postgres", true},
		{"localhost/app:1", false},
		{"localhost:5000/x", false},
		{"127.0.0.1:5858/postgres:16-alpine", false},
		{"ghcr.io/org/app:1.2", false},
		{"host.tld/x", false},
		{"quay.io/prometheus/node-exporter", false},
		{"myregistry:443/a/b/c:tag", false},
		{"user/repo:with:colons", true},
		{"", false},
	};
	size_t i;

	for (i = 0; i < ENVUP_ARRAY_SIZE(cases); i++) {
		if (envup_image_is_hub(cases[i].image) != cases[i].hub)
			fail_msg("is_hub(\"%s\") should be %d", cases[i].image, cases[i].hub);
	}
	assert_false(envup_image_is_hub(NULL));
}

static void test_image_names__rewrite_table(void **state)
{
	static const struct { const char *image, *prefix, *want; } cases[] = {
		{"postgres:16-alpine", "host:5000/", "host:5000/postgres:16-alpine"},
		{"postgres:16-alpine", "host:5000", "host:5000/postgres:16-alpine"},
		{"redis", "127.0.0.1:5858/", "127.0.0.1:5858/redis"},
		{"redis:7-alpine", "127.0.0.1:5858/", "127.0.0.1:5858/redis:7-alpine"},
		{"docker.io/library/redis:7", "host:5000/", "host:5000/redis:7"},
		{"index.docker.io/library/redis:7", "host:5000/", "host:5000/redis:7"},
		{"registry-1.docker.io/library/redis", "host:5000/", "host:5000/redis"},
		{"library/postgres:16", "host:5000/", "host:5000/postgres:16"},
		{"docker.io/mockserver/mockserver:5.15.0", "m:1/", "m:1/mockserver/mockserver:5.15.0"},
		{"mockserver/mockserver:5.15.0", "host:5000/", "host:5000/mockserver/mockserver:5.15.0"},
		{"redis@sha256:abcdef0123", "host:5000/", "host:5000/redis@sha256:abcdef0123"},
		{"docker.io/library/redis:7@sha256:ab", "h:1/", "h:1/redis:7@sha256:ab"},
		{"localhost:5000/x", "host:5000/", "localhost:5000/x"},
		{"localhost/x:1", "host:5000/", "localhost/x:1"},
		{"host.tld/x", "host:5000/", "host.tld/x"},
		{"ghcr.io/org/app:1", "host:5000/", "ghcr.io/org/app:1"},
		{"127.0.0.1:5858/redis:7-alpine", "127.0.0.1:5858/", "127.0.0.1:5858/redis:7-alpine"},
		{"postgres:16", NULL, "postgres:16"},
		{"postgres:16", "", "postgres:16"},
		{"mirror.example.com/lib/postgres", "h:1/", "mirror.example.com/lib/postgres"},
		{"postgres", "mirror.example.com/hub/", "mirror.example.com/hub/postgres"},
		{"library/a/b", "h:1/", "h:1/library/a/b"},
	};
	size_t i;

	for (i = 0; i < ENVUP_ARRAY_SIZE(cases); i++) {
		char *got = envup_image_rewrite(cases[i].image, cases[i].prefix);
		assert_non_null(got);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("rewrite(\"%s\", \"%s\") = \"%s\", want \"%s\"", cases[i].image,
				cases[i].prefix ? cases[i].prefix : "(null)", got, cases[i].want);
		envup__free(got);
	}
}

static void test_image_names__split(void **state)
{
	static const struct { const char *image, *repo, *tag, *digest; } cases[] = {
		{"postgres", "postgres", "latest", NULL},
		{"postgres:16-alpine", "postgres", "16-alpine", NULL},
		{"127.0.0.1:5858/postgres:16-alpine", "127.0.0.1:5858/postgres", "16-alpine", NULL},
		{"127.0.0.1:5858/postgres", "127.0.0.1:5858/postgres", "latest", NULL},
		{"localhost:5000/a/b/c", "localhost:5000/a/b/c", "latest", NULL},
		{"localhost:5000/a/b/c:v1.2", "localhost:5000/a/b/c", "v1.2", NULL},
		{"mockserver/mockserver:5.15.0", "mockserver/mockserver", "5.15.0", NULL},
		{"redis@sha256:abc", "redis", NULL, "sha256:abc"},
		{"redis:7@sha256:abc", "redis", NULL, "sha256:abc"},
		{"host:5000/redis@sha256:abc", "host:5000/redis", NULL, "sha256:abc"},
	};
	static const char *bad[] = {":tag", "redis:", "redis@", "@sha256:x"};
	size_t i;

	for (i = 0; i < ENVUP_ARRAY_SIZE(cases); i++) {
		char *repo, *tag, *digest;
		assert_int_equal(envup_image__split(&repo, &tag, &digest, cases[i].image), 0);
		assert_string_equal(repo, cases[i].repo);
		if (cases[i].tag)
			assert_string_equal(tag, cases[i].tag);
		else
			assert_null(tag);
		if (cases[i].digest)
			assert_string_equal(digest, cases[i].digest);
		else
			assert_null(digest);
		envup__free(repo);
		envup__free(tag);
		envup__free(digest);
	}
	for (i = 0; i < ENVUP_ARRAY_SIZE(bad); i++) {
		char *repo, *tag, *digest;
		assert_int_equal(envup_image__split(&repo, &tag, &digest, bad[i]), ENVUP_ESPEC);
		assert_non_null(strstr(envup_error_last()->message, "invalid image name"));
		envup__free(repo);
		envup__free(tag);
		envup__free(digest);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_names__is_hub),
		cmocka_unit_test(test_image_names__rewrite_table),
		cmocka_unit_test(test_image_names__split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
