/*
 * Specs that must not load: a data-driven catalogue. Each
 * tests/data/spec/bad/NAME.yaml starts with
 *     # expect: MESSAGE
 * and loading it (as "NAME.yaml", from that directory) must fail with
 * ENVUP_ESPEC and exactly MESSAGE, or, when MESSAGE does not start with
 * "NAME.yaml:", a message containing it. A file with several mistakes
 * lists the others on the lines that follow, each "# also: MESSAGE": one
 * run reports exactly those errors, in that order, and no others (a file
 * without "# also:" must give one error, never a cascade). Inputs awkward to commit (not
 * UTF-8, control characters, 10 MB, a 700 KB alias bomb, truly empty,
 * unreadable) are written to a temporary directory here.
 *
 * ${VAR} in the catalogue sees only EMPTY_VAR="" and SET_VAR="value".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "compose/spec.h"

#define BAD_DIR ENVUP_TEST_DATA "/spec/bad"

static const char *fake_getenv(const char *name, void *payload)
{
	(void)payload;
	if (strcmp(name, "EMPTY_VAR") == 0)
		return "";
	if (strcmp(name, "SET_VAR") == 0)
		return "value";
	return NULL;
}

static void expect_one(const char *file, const char *msg, const char *expect)
{
	assert_null(strchr(msg, '\n'));
	if (strncmp(expect, file, strlen(file)) == 0 && expect[strlen(file)] == ':') {
		if (strcmp(msg, expect) != 0)
			fail_msg("%s:\n  got:  %s\n  want: %s", file, msg, expect);
	} else if (!strstr(msg, expect)) {
		fail_msg("%s:\n  got: %s\n  want a message containing: %s", file, msg, expect);
	}
}

/* Load `file` from `dir`; it must fail with exactly the errors `expect`
 * (n of them; the first is the message). */
static void expect_failures(const char *dir, const char *file, const char *const *expect,
	size_t n)
{
	char cwd[PATH_MAX];
	envup_spec *spec = (envup_spec *)&spec;
	size_t i, got;
	int rc;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	rc = envup_spec_load(&spec, file, fake_getenv, NULL);
	assert_int_equal(chdir(cwd), 0);
	if (rc != ENVUP_ESPEC)
		fail_msg("%s: expected ENVUP_ESPEC, got %d (%s)", file, rc,
			rc ? envup_error_last()->message : "loaded");
	assert_null(spec);
	got = envup_error_count();
	if ((n == 1 && got > 1) || (n > 1 && got != n)) {
		for (i = 0; i < envup_error_detail_count(); i++)
			print_message("  %s\n", envup_error_detail(i));
		fail_msg("%s: %zu errors reported, want %zu", file, got ? got : 1, n);
	}
	expect_one(file, envup_error_last()->message, expect[0]);
	for (i = 0; i < n; i++)
		expect_one(file, envup_error_detail(i), expect[i]);
	assert_null(envup_error_detail(n));
}

/* Load `file` from `dir`; it must fail with the one error `expect`. */
static void expect_failure(const char *dir, const char *file, const char *expect)
{
	expect_failures(dir, file, &expect, 1);
}

/* ---- the catalogue --------------------------------------------------------- */

static void test_spec_bad__case(void **state)
{
	const char *name = *state;
	char path[PATH_MAX], lines[16][1024], *end;
	const char *expect[16];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", BAD_DIR, name);
	assert_non_null(f = fopen(path, "rb"));
	while (n < 16 && fgets(lines[n], sizeof(lines[n]), f)) {
		const char *tag = n == 0 ? "# expect: " : "# also: ";
		if (strncmp(lines[n], tag, strlen(tag)) != 0)
			break;
		if ((end = strpbrk(lines[n], "\r\n")) != NULL)
			*end = '\0';
		expect[n] = lines[n] + strlen(tag);
		n++;
	}
	fclose(f);
	if (n == 0)
		fail_msg("%s: the first line must be '# expect: MESSAGE'", name);
	expect_failures(BAD_DIR, name, expect, n);
}

/* ---- generated inputs ------------------------------------------------------- */

static char tmpdir[] = "/tmp/envup-test-spec-XXXXXX";

static void write_file(const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_spec_bad__not_utf8(void **state)
{
	static const char latin1[] = "services:\n  web:\n    image: nginx\n"
		"    env: { GREETING: \"gr\xfc\xdf gott\" }\n";
	/* libyaml points at the octet that breaks the sequence: the quote */
	static const char truncated[] = "services:\n  web:\n    image: \"caf\xc3\"\n";

	(void)state;
	write_file("latin1.yaml", latin1, sizeof(latin1) - 1);
	expect_failure(tmpdir, "latin1.yaml",
		"latin1.yaml:4:25: invalid leading UTF-8 octet (#xFC)");
	write_file("truncated.yaml", truncated, sizeof(truncated) - 1);
	expect_failure(tmpdir, "truncated.yaml",
		"truncated.yaml:3:17: invalid trailing UTF-8 octet (#x22)");
}

static void test_spec_bad__too_large(void **state)
{
	size_t len = (size_t)10 * 1024 * 1024, i;
	char *big = malloc(len);
	static const char head[] = "services:\n  web:\n    image: nginx\n";
	envup_spec *spec = NULL;

	(void)state;
	assert_non_null(big);
	memcpy(big, head, sizeof(head) - 1);
	for (i = sizeof(head) - 1; i < len; i++)
		big[i] = (i % 80 == 79) ? '\n' : '#';
	write_file("big.yaml", big, len);
	expect_failure(tmpdir, "big.yaml",
		"big.yaml: the spec is larger than 1 MiB (10485760 bytes)");

	/* the same from memory, and just over the limit */
	assert_int_equal(envup_spec_load_buffer(&spec, "mem.yaml", tmpdir, big,
		1024 * 1024 + 1, NULL, NULL), ENVUP_ESPEC);
	assert_null(spec);
	assert_string_equal(envup_error_last()->message,
		"mem.yaml: the spec is larger than 1 MiB (1048577 bytes)");
	free(big);
}

static void test_spec_bad__empty(void **state)
{
	(void)state;
	write_file("empty.yaml", "", 0);
	expect_failure(tmpdir, "empty.yaml", "empty.yaml:1:1: the spec is empty");
	write_file("blank.yaml", "\n\n   \n", 6);
	expect_failure(tmpdir, "blank.yaml", "blank.yaml:1:1: the spec is empty");
	write_file("tilde.yaml", "--- ~\n", 6);
	expect_failure(tmpdir, "tilde.yaml", "tilde.yaml:1:5: the spec is empty");
}

static void test_spec_bad__unreadable(void **state)
{
	(void)state;
	expect_failure(tmpdir, "missing.yaml", "missing.yaml: No such file or directory");
	expect_failure(tmpdir, ".", ".: Is a directory");
}

static void test_spec_bad__unreadable_init(void **state)
{
	static const char spec[] = "services:\n  pg:\n    template: postgres\n"
		"    init: [locked.sql]\n";
	char path[PATH_MAX];

	(void)state;
	if (geteuid() == 0)
		skip(); /* root reads anything */
	write_file("locked.sql", "SELECT 1;\n", 10);
	snprintf(path, sizeof(path), "%s/locked.sql", tmpdir);
	assert_int_equal(chmod(path, 0), 0);
	write_file("locked.yaml", spec, sizeof(spec) - 1);
	expect_failure(tmpdir, "locked.yaml",
		"locked.yaml:4:12: services.pg.init[0]: init file locked.sql: Permission denied");
}

static void test_spec_bad__not_utf8_more(void **state)
{
	/* an overlong '/' (C0 AF) and a UTF-16 surrogate (ED A0 80) */
	static const char overlong[] = "services:\n  web:\n    image: \"\xc0\xaf" "etc\"\n";
	static const char surrogate[] = "services:\n  web:\n    image: \"\xed\xa0\x80\"\n";

	(void)state;
	write_file("overlong.yaml", overlong, sizeof(overlong) - 1);
	expect_failure(tmpdir, "overlong.yaml",
		"overlong.yaml:3:13: invalid length of a UTF-8 sequence");
	write_file("surrogate.yaml", surrogate, sizeof(surrogate) - 1);
	expect_failure(tmpdir, "surrogate.yaml",
		"surrogate.yaml:3:13: invalid Unicode character (#xD800)");
}

static void test_spec_bad__control_characters(void **state)
{
	static const char nul[] = "services:\n  web:\n    image: ngi\0nx\n";
	static const char soh[] = "services:\n  web:\n    image: \"ngi\x01nx\"\n";

	(void)state;
	write_file("nul.yaml", nul, sizeof(nul) - 1);
	expect_failure(tmpdir, "nul.yaml",
		"nul.yaml:3:15: control characters are not allowed (#x0)");
	write_file("soh.yaml", soh, sizeof(soh) - 1);
	expect_failure(tmpdir, "soh.yaml",
		"soh.yaml:3:16: control characters are not allowed (#x1)");
}

/*
 * 99000 aliases of a 400 KiB scalar fit in 700 KB and stay under the node
 * limit, but each alias copies the scalar: 40 GB before the text limit.
 */
static void test_spec_bad__scalar_alias_bomb(void **state)
{
	static const char head[] = "x-big: &a \"";
	static const char tail[] = "services:\n  web:\n    image: nginx\n";
	size_t scalar = (size_t)400 * 1024, aliases = 99000, len, i;
	char *text, *p;

	(void)state;
	len = sizeof(head) - 1 + scalar + 2 + 9 + aliases * 3 + 2 + sizeof(tail) - 1;
	assert_non_null(text = malloc(len));
	p = text;
	memcpy(p, head, sizeof(head) - 1);
	p += sizeof(head) - 1;
	memset(p, 'x', scalar);
	p += scalar;
	memcpy(p, "\"\nx-bomb: [", 11);
	p += 11;
	for (i = 0; i < aliases; i++) {
		memcpy(p, i ? ",*a" : "*a", i ? 3 : 2);
		p += i ? 3 : 2;
	}
	memcpy(p, "]\n", 2);
	p += 2;
	memcpy(p, tail, sizeof(tail) - 1);
	p += sizeof(tail) - 1;
	write_file("scalar_bomb.yaml", text, (size_t)(p - text));
	free(text);
	expect_failure(tmpdir, "scalar_bomb.yaml", "scalar_bomb.yaml:2:67: x-bomb[19]: "
		"too much text (alias expansion?): the limit is 8 MiB");
}

/* An init file that is a FIFO: refused at once, not waited on for a writer */
static void test_spec_bad__fifo_init(void **state)
{
	static const char spec[] = "services:\n  pg:\n    template: postgres\n"
		"    init: [fifo.sql]\n";
	char path[PATH_MAX];

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo.sql", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	write_file("fifo.yaml", spec, sizeof(spec) - 1);
	expect_failure(tmpdir, "fifo.yaml",
		"fifo.yaml:4:12: services.pg.init[0]: init file fifo.sql: not a regular file");
}

/* 20000 nested groups: glibc's regcomp() would overflow its stack */
static void test_spec_bad__regex_deep_groups(void **state)
{
	static const char head[] = "services:\n  web:\n    image: nginx\n"
		"    wait: { log: { pattern: \"";
	size_t depth = 20000, len = sizeof(head) - 1 + 2 * depth + 8;
	char *text, *p;

	(void)state;
	assert_non_null(text = malloc(len));
	p = text + snprintf(text, len, "%s", head);
	memset(p, '(', depth);
	p += depth;
	*p++ = 'a';
	memset(p, ')', depth);
	p += depth;
	memcpy(p, "\" } }\n", 6);
	p += 6;
	write_file("deep_groups.yaml", text, (size_t)(p - text));
	free(text);
	expect_failure(tmpdir, "deep_groups.yaml", "deep_groups.yaml:4:29: "
		"services.web.wait.log.pattern: invalid regular expression: "
		"groups nested deeper than 64 levels");
}

static void test_spec_bad__unreadable_spec(void **state)
{
	static const char spec[] = "services:\n  web:\n    image: nginx\n";
	char path[PATH_MAX];

	(void)state;
	if (geteuid() == 0)
		skip(); /* root reads anything */
	write_file("locked_spec.yaml", spec, sizeof(spec) - 1);
	snprintf(path, sizeof(path), "%s/locked_spec.yaml", tmpdir);
	assert_int_equal(chmod(path, 0), 0);
	expect_failure(tmpdir, "locked_spec.yaml", "locked_spec.yaml: Permission denied");
}

static void test_spec_bad__every_case_has_a_file(void **state)
{
	(void)state;
	/* guards against the catalogue silently shrinking */
	assert_true(*(size_t *)*state >= 30);
}

static int setup_tmp(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	static const char *const files[] = {"latin1.yaml", "truncated.yaml", "big.yaml",
		"empty.yaml", "blank.yaml", "tilde.yaml", "locked.sql", "locked.yaml",
		"overlong.yaml", "surrogate.yaml", "nul.yaml", "soh.yaml", "scalar_bomb.yaml",
		"locked_spec.yaml", "deep_groups.yaml", "fifo.sql", "fifo.yaml"};
	char path[PATH_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	return rmdir(tmpdir);
}

static int is_yaml(const struct dirent *e)
{
	size_t n = strlen(e->d_name);
	return n > 5 && strcmp(e->d_name + n - 5, ".yaml") == 0;
}

int main(void)
{
	struct dirent **entries = NULL;
	struct CMUnitTest *tests;
	size_t n, i, ncases;
	int found, rc;

	if ((found = scandir(BAD_DIR, &entries, is_yaml, alphasort)) < 0) {
		perror(BAD_DIR);
		return 1;
	}
	ncases = (size_t)found;
	/* the catalogue, then room for the generated tests below (12 so far) */
	if ((tests = calloc(ncases + 16, sizeof(*tests))) == NULL)
		return 1;
	for (i = 0; i < ncases; i++) {
		tests[i].name = entries[i]->d_name;
		tests[i].test_func = test_spec_bad__case;
		tests[i].initial_state = entries[i]->d_name;
	}
	n = ncases;
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spec_bad__not_utf8);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spec_bad__too_large);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spec_bad__empty);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spec_bad__unreadable);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spec_bad__unreadable_init);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spec_bad__not_utf8_more);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spec_bad__control_characters);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spec_bad__scalar_alias_bomb);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spec_bad__unreadable_spec);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spec_bad__regex_deep_groups);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spec_bad__fifo_init);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_prestate(
		test_spec_bad__every_case_has_a_file, &ncases);
	rc = _cmocka_run_group_tests("spec_bad", tests, n, setup_tmp, teardown_tmp);
	for (i = 0; i < ncases; i++)
		free(entries[i]);
	free(entries);
	free(tests);
	return rc;
}
