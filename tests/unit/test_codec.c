/*
 * The encodings of the docker CLI's files: SHA-256 (util/sha256.c: context
 * directories) against the FIPS 180-4 / NIST vectors, lengths around the
 * block and padding edges, and a context name; base64 (util/base64.c:
 * config.json's auth, X-Registry-Auth) against RFC 4648's vectors; and
 * which registry an image reference names (provision/registry_auth.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "util/util.h"
#include "provision/registry_auth.h"

static void test_sha256__vectors(void **state)
{
	static const struct { const char *in; size_t repeat; const char *hex; } cases[] = {
		{"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
		{"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
		/* 55, 56 and 64 bytes: one block, two blocks of padding, a full block */
		{"a", 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
		{"a", 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
		{"a", 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
		{"ci", 1, "1b158839f8aa339e89bb50b1603e90ec68e0fd5565fe10a7cb32729fddf7070a"},
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in) * cases[i].repeat;
		char *buf = malloc(len + 1), hex[65];
		assert_non_null(buf);
		for (k = 0; k < cases[i].repeat; k++)
			memcpy(buf + k * strlen(cases[i].in), cases[i].in, strlen(cases[i].in));
		envup_sha256_hex(hex, buf, len);
		if (strcmp(hex, cases[i].hex) != 0)
			fail_msg("case %zu (%zu bytes): %s, want %s", i, len, hex, cases[i].hex);
		free(buf);
	}
}

static void test_base64__vectors(void **state)
{
	static const struct { const char *plain, *url, *std; } cases[] = {
		{"", "", ""}, {"f", "Zg==", "Zg=="}, {"fo", "Zm8=", "Zm8="}, {"foo", "Zm9v", "Zm9v"},
		{"foob", "Zm9vYg==", "Zm9vYg=="}, {"fooba", "Zm9vYmE=", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy", "Zm9vYmFy"},
		/* the two letters where the alphabets differ */
		{"\xfb\xff\xbf", "-_-_", "+/+/"},
		{"ci-user:S3cret-pw", "Y2ktdXNlcjpTM2NyZXQtcHc=", "Y2ktdXNlcjpTM2NyZXQtcHc="},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		envup_buf b = ENVUP_BUF_INIT;
		char *enc = envup_base64url_encode(cases[i].plain, strlen(cases[i].plain));
		assert_non_null(enc);
		assert_string_equal(enc, cases[i].url);
		envup__free(enc);
		assert_int_equal(envup_base64_decode(&b, cases[i].std), 0);
		assert_string_equal(envup_buf_cstr(&b), cases[i].plain);
		envup_buf_clear(&b);
		assert_int_equal(envup_base64_decode(&b, cases[i].url), 0);
		assert_string_equal(envup_buf_cstr(&b), cases[i].plain);
		envup_buf_dispose(&b);
	}
	{
		envup_buf b = ENVUP_BUF_INIT;
		assert_int_equal(envup_base64_decode(&b, "Zm9v!"), ENVUP_ESPEC);
		envup_buf_dispose(&b);
	}
}

static void test_registry__of(void **state)
{
	static const struct { const char *image, *registry; } cases[] = {
		{"postgres:16", "docker.io"}, {"library/postgres", "docker.io"},
		{"mockserver/mockserver:5.15.0", "docker.io"},
		{"ghcr.io/org/app:1", "ghcr.io"}, {"127.0.0.1:5000/x/y:1", "127.0.0.1:5000"},
		{"localhost/app", "localhost"}, {"localhost:5000/app", "localhost:5000"},
		{"registry.example.com/app@sha256:00", "registry.example.com"},
		{"user/app", "docker.io"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = envup_registry_of(cases[i].image);
		assert_non_null(r);
		if (strcmp(r, cases[i].registry) != 0)
			fail_msg("%s: registry %s, want %s", cases[i].image, r, cases[i].registry);
		envup__free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256__vectors),
		cmocka_unit_test(test_base64__vectors),
		cmocka_unit_test(test_registry__of),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
