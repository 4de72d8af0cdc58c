/*
 * Export rendering: shell quoting, the three formats, and, for every
 * tricky value, a real round trip through /bin/sh (and bash when present):
 *   sh -c 'eval "$(cat FILE)"; printf %s "$NAME"'      (shell format)
 *   sh -c 'set -a; . FILE; printf %s "$NAME"'           (dotenv format)
 * must print the value exactly. JSON is parsed back with cJSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "envup/env.h"
#include "templates/template.h"
#include "compose/spec.h"
#include "provision/format.h"

static const char *const tricky[] = {
	"plain",
	"",
	"it's",
	"''",
	"'",
	"a'b'c'",
	"\"double\" quotes",
	"$HOME and ${HOME} and $(id) and $((1+2))",
	"`id`",
	"back\\slash \\n \\\\ \\'",
	"line1\nline2",
	"trailing newline\n",
	"\n\nleading newlines",
	"  spaces  around  ",
	"\ttab\t",
	"unicode: äöü ß € 日本語 🚀",
	"!bang !! history",
	"*glob? [a-z] ~tilde",
	"semi;colon & amp | pipe > redirect < in",
	"-n",
	"%s %d %% printf",
	"#not a comment",
	"=equals=",
	"\x01\x02\x1f control \x7f",
	"'; rm -rf /tmp/envup-never; echo '",
};

static void it_contains(const char *h, const char *n)
{
	if (!h || !strstr(h, n))
		fail_msg("\"%s\" does not contain \"%s\"", h ? h : "(null)", n);
}

static void test_exports__name_valid(void **state)
{
	(void)state;
	assert_true(envup_export_name_valid("A"));
	assert_true(envup_export_name_valid("_"));
	assert_true(envup_export_name_valid("DATABASE_URL"));
	assert_true(envup_export_name_valid("pg_1"));
	assert_false(envup_export_name_valid(""));
	assert_false(envup_export_name_valid(NULL));
	assert_false(envup_export_name_valid("1A"));
	assert_false(envup_export_name_valid("A-B"));
	assert_false(envup_export_name_valid("A.B"));
	assert_false(envup_export_name_valid("A B"));
	assert_false(envup_export_name_valid("Ä"));
	assert_false(envup_export_name_valid("A="));
}

static void test_exports__shell_quote(void **state)
{
	static const char *const cases[][2] = {
		{"", "''"},
		{"abc", "'abc'"},
		{"it's", "'it'\\''s'"},
		{"'", "''\\'''"},
		{"a b\nc", "'a b\nc'"},
		{"$x `y` \\z \"w\"", "'$x `y` \\z \"w\"'"},
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		envup_buf b = ENVUP_BUF_INIT;
		assert_int_equal(envup_buf_puts(&b, ">"), 0);
		assert_int_equal(envup_shell_quote(&b, cases[i][0]), 0);
		assert_string_equal(envup_buf_cstr(&b) + 1, cases[i][1]);
		envup_buf_dispose(&b);
	}
}

static void test_exports__formats(void **state)
{
	envup_kvlist ex = ENVUP_KVLIST_INIT;
	envup_buf b = ENVUP_BUF_INIT;
	(void)state;
	assert_int_equal(envup_kvlist_set(&ex, "DATABASE_URL", "postgresql://u:p@h:1/d"), 0);
	assert_int_equal(envup_kvlist_set(&ex, "PGPASSWORD", "it's"), 0);
	assert_int_equal(envup_kvlist_set(&ex, "EMPTY", ""), 0);

	assert_int_equal(envup_exports_format(&b, &ex, ENVUP_FORMAT_SHELL), 0);
	assert_string_equal(envup_buf_cstr(&b),
		"export DATABASE_URL='postgresql://u:p@h:1/d'\n"
		"export PGPASSWORD='it'\\''s'\n"
		"export EMPTY=''\n");
	envup_buf_clear(&b);
	assert_int_equal(envup_exports_format(&b, &ex, ENVUP_FORMAT_DOTENV), 0);
	assert_string_equal(envup_buf_cstr(&b),
		"DATABASE_URL='postgresql://u:p@h:1/d'\n"
		"PGPASSWORD=\"it's\"\n"
		"EMPTY=''\n");
	envup_buf_clear(&b);
	assert_int_equal(envup_exports_format(&b, &ex, ENVUP_FORMAT_JSON), 0);
	assert_string_equal(envup_buf_cstr(&b),
		"{\"DATABASE_URL\":\"postgresql://u:p@h:1/d\",\"PGPASSWORD\":\"it's\",\"EMPTY\":\"\"}\n");
	/* appends */
	assert_int_equal(envup_exports_format(&b, &ex, ENVUP_FORMAT_JSON), 0);
	assert_int_equal(b.size, 2 * strlen("{\"DATABASE_URL\":\"postgresql://u:p@h:1/d\","
		"\"PGPASSWORD\":\"it's\",\"EMPTY\":\"\"}\n"));
	envup_buf_dispose(&b);
	envup_kvlist_dispose(&ex);
}

static void test_exports__empty(void **state)
{
	envup_kvlist ex = ENVUP_KVLIST_INIT;
	envup_buf b = ENVUP_BUF_INIT;
	(void)state;
	assert_int_equal(envup_exports_format(&b, &ex, ENVUP_FORMAT_SHELL), 0);
	assert_string_equal(envup_buf_cstr(&b), "");
	assert_int_equal(envup_exports_format(&b, &ex, ENVUP_FORMAT_JSON), 0);
	assert_string_equal(envup_buf_cstr(&b), "{}\n");
	envup_buf_dispose(&b);
}

static void test_exports__invalid(void **state)
{
	envup_kvlist ex = ENVUP_KVLIST_INIT;
	envup_buf b = ENVUP_BUF_INIT;
	(void)state;
	assert_int_equal(envup_buf_puts(&b, "kept"), 0);
	assert_int_equal(envup_kvlist_set(&ex, "GOOD", "x"), 0);
	assert_int_equal(envup_kvlist_set(&ex, "BAD-NAME", "y"), 0);
	assert_int_equal(envup_exports_format(&b, &ex, ENVUP_FORMAT_SHELL), ENVUP_ESPEC);
	assert_string_equal(envup_error_last()->message, "invalid export name \"BAD-NAME\"");
	assert_int_equal(envup_exports_format(&b, &ex, ENVUP_FORMAT_JSON), ENVUP_ESPEC);
	envup_kvlist_dispose(&ex);
	assert_int_equal(envup_kvlist_set(&ex, "GOOD", "x"), 0);
	assert_int_equal(envup_exports_format(&b, &ex, 42), ENVUP_ERROR);
	/* nothing appended on failure */
	assert_string_equal(envup_buf_cstr(&b), "kept");
	envup_buf_dispose(&b);
	envup_kvlist_dispose(&ex);
}

static void test_exports__json_round_trip(void **state)
{
	envup_kvlist ex = ENVUP_KVLIST_INIT;
	envup_buf b = ENVUP_BUF_INIT;
	cJSON *root, *item;
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		char name[16];
		snprintf(name, sizeof(name), "V%zu", i);
		assert_int_equal(envup_kvlist_set(&ex, name, tricky[i]), 0);
	}
	assert_int_equal(envup_exports_format(&b, &ex, ENVUP_FORMAT_JSON), 0);
	/* one line, one object */
	assert_int_equal(strchr(envup_buf_cstr(&b), '\n') - envup_buf_cstr(&b), (long)b.size - 1);
	root = cJSON_Parse(envup_buf_cstr(&b));
	assert_non_null(root);
	assert_true(cJSON_IsObject(root));
	i = 0;
	cJSON_ArrayForEach(item, root) {
		char name[16];
		snprintf(name, sizeof(name), "V%zu", i);
		assert_string_equal(item->string, name); /* in order */
		assert_true(cJSON_IsString(item));
		assert_string_equal(item->valuestring, tricky[i]);
		i++;
	}
	assert_int_equal(i, sizeof(tricky) / sizeof(tricky[0]));
	cJSON_Delete(root);
	envup_buf_dispose(&b);
	envup_kvlist_dispose(&ex);
}

/* Run `shell -c script` with FILE in $1; its stdout (malloc'd) or NULL. */
static char *run_shell(const char *shell, const char *script, const char *file, size_t *len)
{
	int fds[2], status;
	pid_t pid;
	envup_buf out = ENVUP_BUF_INIT;
	char chunk[4096];
	ssize_t n;

	if (pipe(fds) < 0)
		return NULL;
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(shell, shell, "-c", script, "envup-test", file, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
		if (envup_buf_put(&out, chunk, (size_t)n) < 0)
			break;
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		envup_buf_dispose(&out);
		return NULL;
	}
	*len = out.size;
	return envup_buf_detach(&out);
}

static void round_trip(const char *shell, int format, const char *script)
{
	char path[] = "/tmp/envup-test-exports-XXXXXX";
	size_t i;

	for (i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		envup_kvlist ex = ENVUP_KVLIST_INIT;
		envup_buf b = ENVUP_BUF_INIT;
		char *got;
		size_t len = 0;
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		assert_int_equal(envup_kvlist_set(&ex, "BEFORE", "b"), 0);
		assert_int_equal(envup_kvlist_set(&ex, "ENVUP_VALUE", tricky[i]), 0);
		assert_int_equal(envup_kvlist_set(&ex, "AFTER", "a"), 0);
		assert_int_equal(envup_exports_format(&b, &ex, format), 0);
		assert_int_equal(write(fd, b.ptr, b.size), (ssize_t)b.size);
		close(fd);
		got = run_shell(shell, script, path, &len);
		if (!got || len != strlen(tricky[i]) + 2 || memcmp(got, tricky[i], len - 2) != 0 ||
		    memcmp(got + len - 2, "|a", 2) != 0) {
			print_error("%s format %d value %zu \"%s\": got \"%s\"\n", shell, format, i,
				tricky[i], got ? got : "(shell failed)");
			fail();
		}
		envup__free(got);
		unlink(path);
		snprintf(path, sizeof(path), "/tmp/envup-test-exports-XXXXXX");
		envup_buf_dispose(&b);
		envup_kvlist_dispose(&ex);
	}
}

static void test_exports__shell_round_trip(void **state)
{
	(void)state;
	round_trip("/bin/sh", ENVUP_FORMAT_SHELL,
		"eval \"$(cat \"$1\")\"; printf '%s|%s' \"$ENVUP_VALUE\" \"$AFTER\"");
	if (access("/bin/bash", X_OK) == 0)
		round_trip("/bin/bash", ENVUP_FORMAT_SHELL,
			"eval \"$(cat \"$1\")\"; printf '%s|%s' \"$ENVUP_VALUE\" \"$AFTER\"");
}

static void test_exports__shell_exported(void **state)
{
	(void)state;
	/* `export` really exports: a child process sees the value */
	round_trip("/bin/sh", ENVUP_FORMAT_SHELL,
		"eval \"$(cat \"$1\")\"; exec /usr/bin/env sh -c "
		"'printf \"%s|%s\" \"$ENVUP_VALUE\" \"$AFTER\"'");
}

/* python3 with python-dotenv, or NULL (CI installs python3-dotenv, and
 * there its absence is a failure). */
static const char *python_dotenv(void)
{
	static const char *py = "/usr/bin/python3";
	const char *argv_check = "import dotenv";
	pid_t pid;
	int status;

	if (access(py, X_OK) != 0)
		goto none;
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execl(py, py, "-c", argv_check, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return py;
none:
	if (getenv("CI") && strcmp(getenv("CI"), "true") == 0)
		fail_msg("python3-dotenv is missing (.ci/packages.txt installs it)");
	return NULL;
}

/* A value can be carried by dotenv exactly when sh and python-dotenv read
 * it back identically; otherwise the format is an error naming it. */
static bool dotenv_can_carry(const char *v)
{
	size_t len = strlen(v);
	if (strstr(v, "${"))
		return false;
	if (!strchr(v, '\'') && !strstr(v, "\\\\") && !(len && v[len - 1] == '\\'))
		return true;
	return !strpbrk(v, "\"$`\\");
}

static void test_exports__dotenv_round_trip(void **state)
{
	const char *py = python_dotenv();
	char path[] = "/tmp/envup-test-dotenv-XXXXXX";
	size_t i, carried = 0, refused = 0;

	(void)state;
	for (i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		envup_kvlist ex = ENVUP_KVLIST_INIT;
		envup_buf b = ENVUP_BUF_INIT;
		char *got;
		size_t len = 0;
		int fd, rc;

		assert_int_equal(envup_kvlist_set(&ex, "BEFORE", "b"), 0);
		assert_int_equal(envup_kvlist_set(&ex, "ENVUP_VALUE", tricky[i]), 0);
		assert_int_equal(envup_kvlist_set(&ex, "AFTER", "a"), 0);
		rc = envup_exports_format(&b, &ex, ENVUP_FORMAT_DOTENV);
		if (!dotenv_can_carry(tricky[i])) {
			assert_int_equal(rc, ENVUP_ESPEC);
			it_contains(envup_error_last()->message, "ENVUP_VALUE");
			assert_int_equal(b.size, 0);
			refused++;
			goto next;
		}
		assert_int_equal(rc, 0);
		carried++;
		assert_true((fd = mkstemp(path)) >= 0);
		assert_int_equal(write(fd, b.ptr, b.size), (ssize_t)b.size);
		close(fd);
		got = run_shell("/bin/sh", "set -a; . \"$1\"; printf '%s|%s' \"$ENVUP_VALUE\" \"$AFTER\"",
			path, &len);
		if (!got || len != strlen(tricky[i]) + 2 || memcmp(got, tricky[i], len - 2) != 0)
			fail_msg("sh: value %zu \"%s\": got \"%s\"", i, tricky[i], got ? got : "(failed)");
		envup__free(got);
		if (py) {
			char script[512];
			snprintf(script, sizeof(script), "import sys, dotenv; v = dotenv.dotenv_values(\"%s\"); "
				"sys.stdout.write(v['ENVUP_VALUE'] + '|' + v['AFTER'])", path);
			got = run_shell(py, script, path, &len);
			if (!got || len != strlen(tricky[i]) + 2 || memcmp(got, tricky[i], len - 2) != 0)
				fail_msg("python-dotenv: value %zu \"%s\": got \"%s\"", i, tricky[i],
					got ? got : "(failed)");
			envup__free(got);
		}
		unlink(path);
		snprintf(path, sizeof(path), "/tmp/envup-test-dotenv-XXXXXX");
next:
		envup_buf_dispose(&b);
		envup_kvlist_dispose(&ex);
	}
	assert_true(carried > 10);
	assert_true(refused >= 1);
}

/* $GITHUB_ENV as the runner reads it (actions/runner FileCommandManager):
 * NAME<<DELIM, the value lines, DELIM; one value per heredoc. */
static void github_parse(envup_kvlist *out, const char *text)
{
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n'), *lt, *end;
		char name[256], delim[256];
		envup_buf v = ENVUP_BUF_INIT;
		assert_non_null(nl);
		lt = strstr(p, "<<");
		assert_true(lt && lt < nl && !memchr(p, '=', (size_t)(lt - p)));
		snprintf(name, sizeof(name), "%.*s", (int)(lt - p), p);
		snprintf(delim, sizeof(delim), "%.*s", (int)(nl - lt - 2), lt + 2);
		assert_true(strlen(delim) > 0);
		/* the value runs to the first line equal to DELIM */
		for (p = nl + 1;;) {
			const char *e = strchr(p, '\n');
			assert_non_null(e);
			if ((size_t)(e - p) == strlen(delim) && strncmp(p, delim, strlen(delim)) == 0) {
				end = e + 1;
				break;
			}
			if (v.ptr || e > p || 1) {
				if (v.size || v.ptr)
					assert_int_equal(envup_buf_putc(&v, '\n'), 0);
				assert_int_equal(envup_buf_put(&v, p, (size_t)(e - p)), 0);
			}
			p = e + 1;
		}
		assert_int_equal(envup_kvlist_set(out, name, envup_buf_cstr(&v)), 0);
		envup_buf_dispose(&v);
		p = end;
	}
}

static void test_exports__github(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		envup_kvlist ex = ENVUP_KVLIST_INIT, got = ENVUP_KVLIST_INIT;
		envup_buf b = ENVUP_BUF_INIT;
		assert_int_equal(envup_kvlist_set(&ex, "ENVUP_VALUE", tricky[i]), 0);
		assert_int_equal(envup_kvlist_set(&ex, "AFTER", "a"), 0);
		assert_int_equal(envup_exports_format(&b, &ex, ENVUP_FORMAT_GITHUB), 0);
		github_parse(&got, b.ptr);
		assert_int_equal(got.n, 2);
		assert_string_equal(envup_kvlist_get(&got, "ENVUP_VALUE"), tricky[i]);
		assert_string_equal(envup_kvlist_get(&got, "AFTER"), "a");
		envup_buf_dispose(&b);
		envup_kvlist_dispose(&ex);
		envup_kvlist_dispose(&got);
	}
	/* names GitHub refuses are refused here, by name */
	{
		static const char *const reserved[] = {"NODE_OPTIONS", "GITHUB_TOKEN", "RUNNER_TEMP"};
		for (i = 0; i < 3; i++) {
			envup_kvlist ex = ENVUP_KVLIST_INIT;
			envup_buf b = ENVUP_BUF_INIT;
			assert_int_equal(envup_kvlist_set(&ex, reserved[i], "x"), 0);
			assert_int_equal(envup_exports_format(&b, &ex, ENVUP_FORMAT_GITHUB), ENVUP_ESPEC);
			it_contains(envup_error_last()->message, reserved[i]);
			envup_buf_dispose(&b);
			envup_kvlist_dispose(&ex);
		}
	}
}

/* A GitLab dotenv report as GitLab reads it (ParseDotenvArtifactService):
 * each line ^(.*?)=(.*)$, both sides stripped, no quote processing. */
static void test_exports__gitlab(void **state)
{
	static const char *const good[] = {"plain", "postgres://u:p@127.0.0.1:5432/d?sslmode=disable",
		"it's", "\"quoted\"", "=equals=", "redis://default:Ab9@127.0.0.1:6379/1", ""};
	static const char *const bad[] = {"line1\nline2", " lead", "trail ", "two words",
		"$HOME", "cr\r"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		envup_kvlist ex = ENVUP_KVLIST_INIT;
		envup_buf b = ENVUP_BUF_INIT, want = ENVUP_BUF_INIT;
		assert_int_equal(envup_kvlist_set(&ex, "VALUE", good[i]), 0);
		assert_int_equal(envup_exports_format(&b, &ex, ENVUP_FORMAT_GITLAB), 0);
		assert_int_equal(envup_buf_printf(&want, "VALUE=%s\n", good[i]), 0);
		assert_string_equal(b.ptr, want.ptr);
		envup_buf_dispose(&b);
		envup_buf_dispose(&want);
		envup_kvlist_dispose(&ex);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		envup_kvlist ex = ENVUP_KVLIST_INIT;
		envup_buf b = ENVUP_BUF_INIT;
		assert_int_equal(envup_kvlist_set(&ex, "BAD_VALUE", bad[i]), 0);
		assert_int_equal(envup_exports_format(&b, &ex, ENVUP_FORMAT_GITLAB), ENVUP_ESPEC);
		it_contains(envup_error_last()->message, "BAD_VALUE");
		assert_int_equal(b.size, 0);
		envup_buf_dispose(&b);
		envup_kvlist_dispose(&ex);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exports__name_valid),
		cmocka_unit_test(test_exports__shell_quote),
		cmocka_unit_test(test_exports__formats),
		cmocka_unit_test(test_exports__empty),
		cmocka_unit_test(test_exports__invalid),
		cmocka_unit_test(test_exports__json_round_trip),
		cmocka_unit_test(test_exports__shell_round_trip),
		cmocka_unit_test(test_exports__shell_exported),
		cmocka_unit_test(test_exports__dotenv_round_trip),
		cmocka_unit_test(test_exports__github),
		cmocka_unit_test(test_exports__gitlab),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
