/*
 * SHA-256 (util/sha256.c) against the FIPS 180-4 / NIST vectors, lengths
 * around the block and padding edges, and a docker context name (the
 * docker CLI keeps context "ci" under sha256("ci")).
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256__vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
