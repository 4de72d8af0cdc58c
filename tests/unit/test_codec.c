/*
 * The encodings of the docker CLI's files: SHA-256 (util/sha256.c: context
 * directories) against the FIPS 180-4 / NIST vectors, lengths around the
 * block and padding edges, and a context name; base64 (util/base64.c:
 * config.json's auth, X-Registry-Auth) against RFC 4648's vectors; and
 * which registry an image reference names (provision/registry_auth.c);
 * and tar archives (util/tar.c: bind mounts copied to a remote engine),
 * read back by GNU tar: a file, a subdirectory, a link, a name past 100
 * bytes, modes kept.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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
		enc = envup_base64_encode(cases[i].plain, strlen(cases[i].plain));
		assert_non_null(enc);
		assert_string_equal(enc, cases[i].std);
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

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* What envup writes, envup reads back (a swarm's configs are made of it),
 * and a damaged archive is refused, not misread. */
typedef struct { envup_buf seen; } tar_seen;

static int tar_member(const envup_tar_member *m, void *payload)
{
	tar_seen *t = payload;
	return envup_buf_printf(&t->seen, "%c %s %o %zu %.*s|%s\n", m->type, m->name, m->mode, m->size,
		(int)(m->type == '0' ? m->size : 0), m->data ? m->data : "", m->link);
}

static void test_tar__read_back_by_envup(void **state)
{
	char dir[] = "/tmp/envup-tar-XXXXXX", path[512], longname[300];
	envup_buf tar = ENVUP_BUF_INIT;
	tar_seen t;
	FILE *f;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/init.json", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("[1]", f);
	fclose(f);
	assert_int_equal(chmod(path, 0640), 0);
	memset(longname, 'd', 120);
	longname[120] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, longname);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s/x.sql", dir, longname);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	assert_int_equal(envup_tar_add(&tar, dir, "/config"), 0);
	assert_int_equal(envup_tar_finish(&tar), 0);
	assert_int_equal(envup_tar_each(tar.ptr, tar.size, tar_member, &t), 0);
	assert_non_null(strstr(envup_buf_cstr(&t.seen), "0 config/init.json 640 3 [1]|\n"));
	snprintf(path, sizeof(path), "0 config/%s/x.sql 644 0 |\n", longname);
	assert_non_null(strstr(envup_buf_cstr(&t.seen), path));
	assert_non_null(strstr(envup_buf_cstr(&t.seen), "5 config/ 700 0 |\n"));
	/* damaged: a checksum, a cut, a size past the end */
	((char *)tar.ptr)[0] ^= 1;
	assert_int_equal(envup_tar_each(tar.ptr, tar.size, tar_member, &t), ENVUP_ESPEC);
	((char *)tar.ptr)[0] ^= 1;
	assert_int_equal(envup_tar_each(tar.ptr, 700, tar_member, &t), ENVUP_ESPEC);
	assert_int_equal(envup_tar_each(tar.ptr, 0, tar_member, &t), 0);
	envup_buf_dispose(&tar);
	envup_buf_dispose(&t.seen);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

static void test_tar__read_back_by_gnu_tar(void **state)
{
	char dir[] = "/tmp/envup-tar-XXXXXX", path[512], cmd[1200], longdir[300];
	envup_buf tar = ENVUP_BUF_INIT;
	struct stat st;
	FILE *f;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/src", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/src/a.txt", dir);
	put(path, "alpha\n");
	assert_int_equal(chmod(path, 0640), 0);
	snprintf(path, sizeof(path), "%s/src/sub", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/src/sub/b.txt", dir);
	put(path, "beta\n");
	snprintf(path, sizeof(path), "%s/src/link", dir);
	assert_int_equal(symlink("a.txt", path), 0);
	snprintf(longdir, sizeof(longdir), "%s/src/%s", dir,
		"a-directory-name-long-enough-that-the-whole-path-in-the-archive-passes-one-hundred-bytes");
	assert_int_equal(mkdir(longdir, 0755), 0);
	snprintf(path, sizeof(path), "%s/and-a-file-name-too.txt", longdir);
	put(path, "gamma\n");

	tar.max = 1024 * 1024;
	snprintf(path, sizeof(path), "%s/src", dir);
	assert_int_equal(envup_tar_add(&tar, path, "/usr/share/site"), 0);
	snprintf(path, sizeof(path), "%s/src/a.txt", dir);
	assert_int_equal(envup_tar_add(&tar, path, "/etc/single.txt"), 0);
	assert_int_equal(envup_tar_finish(&tar), 0);
	assert_int_equal(tar.size % 512, 0);
	snprintf(path, sizeof(path), "%s/out.tar", dir);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(tar.ptr, 1, tar.size, f), tar.size);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "mkdir %s/x && tar -xpf %s/out.tar -C %s/x 2>&1 && "
		"cmp -s %s/x/usr/share/site/a.txt %s/src/a.txt && cmp -s %s/x/usr/share/site/sub/b.txt %s/src/sub/b.txt && "
		"[ \"$(readlink %s/x/usr/share/site/link)\" = a.txt ] && cmp -s %s/x/etc/single.txt %s/src/a.txt && "
		"[ -f %s/x/usr/share/site/a-directory-name-long-enough-that-the-whole-path-in-the-archive-passes-one-hundred-bytes/and-a-file-name-too.txt ]",
		dir, dir, dir, dir, dir, dir, dir, dir, dir, dir, dir);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("GNU tar did not read back what envup wrote (%d): %s", rc, cmd);
	snprintf(path, sizeof(path), "%s/x/usr/share/site/a.txt", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* the cap */
	envup_buf_dispose(&tar);
	tar.max = 600;
	snprintf(path, sizeof(path), "%s/src", dir);
	assert_true(envup_tar_add(&tar, path, "site") < 0);
	envup_buf_dispose(&tar);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256__vectors),
		cmocka_unit_test(test_base64__vectors),
		cmocka_unit_test(test_registry__of),
		cmocka_unit_test(test_tar__read_back_by_gnu_tar),
		cmocka_unit_test(test_tar__read_back_by_envup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
