/*
 * Source analysis: a spec value can never reach a shell, and the house
 * style's banned functions stay banned. Every .c and .h under the
 * library's and the CLI's directories is read, comments are dropped and
 * string literals set aside, and the test fails on:
 *  - a call of system() or popen() (each runs /bin/sh -c);
 *  - an exec*() or posix_spawn*() call whose arguments name a shell
 *    ("sh", "/bin/sh", "bash", ...) or pass "-c";
 *  - a string literal naming a shell ("/bin/sh" ...) anywhere, but for
 *    the one exemption below (a Compose healthcheck's CMD-SHELL, which
 *    the engine runs inside the container, as Docker itself does);
 *  - a call of strcpy, strcat, sprintf, vsprintf, gets, strtok or atoi
 *    (house style §7, 23; snprintf, envup__sprintf, fgets, strtok_r are
 *    other names and fine).
 * Each offence is reported as FILE:LINE with the text found.
 *
 * The source tree is found from ENVUP_SOURCE_DIR when defined, else from
 * ENVUP_TEST_DATA (tests/data, two levels down).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <ctype.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "util/util.h"

#ifndef ENVUP_SOURCE_DIR
#define ENVUP_SOURCE_DIR ENVUP_TEST_DATA "/../.."
#endif

static const char *const scanned_dirs[] = {"util", "compose", "templates", "provision",
	"healthcheck", "cmd"};

/* A shell inside the container, never on the host: compose's
 * healthcheck `test: "..."` and [CMD-SHELL, "..."] mean /bin/sh -c there,
 * sent to the engine's exec API; a snapshot is taken by a script exec'd in
 * the postgres container and restored by its entrypoint (snapshot.c: the
 * only spec value in them, the database name, is single-quoted and then
 * only expanded in double quotes and as a psql :"variable"). */
static const struct { const char *file, *literal; } container_shell[] = {
	{"compose/compose_service.c", "/bin/sh"},
	{"provision/snapshot.c", "/bin/sh"},
};

static bool exempt(const char *file, const char *lit)
{
	size_t i, fl = strlen(file);
	for (i = 0; i < ENVUP_ARRAY_SIZE(container_shell); i++) {
		size_t el = strlen(container_shell[i].file);
		if (fl >= el && strcmp(file + fl - el, container_shell[i].file) == 0 &&
		    strcmp(lit, container_shell[i].literal) == 0)
			return true;
	}
	return false;
}

static const char *const shell_calls[] = {"system", "popen"};
static const char *const exec_calls[] = {"execl", "execlp", "execle", "execv", "execvp",
	"execvpe", "execve", "fexecve", "posix_spawn", "posix_spawnp"};
static const char *const shell_words[] = {"sh", "/bin/sh", "/usr/bin/sh", "bash",
	"/bin/bash", "/usr/bin/bash", "dash", "/bin/dash", "-c"};
static const char *const banned_calls[] = {"strcpy", "strcat", "sprintf", "vsprintf",
	"gets", "strtok", "atoi"};

/* ---- the scanner ---------------------------------------------------------- */

/*
 * A source file split in two views of the same length: `code` with
 * comments and the contents of string and character literals blanked,
 * and the literals themselves, each with its line.
 */
typedef struct {
	char *code;
	size_t len;
	envup_strlist literals;
	int *literal_lines;
	size_t *literal_offsets;
} source_view;

static int line_at(const char *text, size_t offset)
{
	int line = 1;
	size_t i;

	for (i = 0; i < offset; i++)
		line += text[i] == '\n';
	return line;
}

static void view_add_literal(source_view *v, const char *text, size_t start, size_t end)
{
	char *lit = envup__strndup(text + start, end - start);
	size_t n = v->literals.n;

	assert_non_null(lit);
	assert_int_equal(envup_strlist_push(&v->literals, lit), 0);
	envup__free(lit);
	v->literal_lines = realloc(v->literal_lines, (n + 1) * sizeof(int));
	v->literal_offsets = realloc(v->literal_offsets, (n + 1) * sizeof(size_t));
	assert_non_null(v->literal_lines);
	assert_non_null(v->literal_offsets);
	v->literal_lines[n] = line_at(text, start);
	v->literal_offsets[n] = start;
}

/* Blank comments and literal contents (newlines kept, so lines still count). */
static void view_build(source_view *v, const char *text, size_t len)
{
	size_t i = 0, start;

	memset(v, 0, sizeof(*v));
	v->code = malloc(len + 1);
	assert_non_null(v->code);
	memcpy(v->code, text, len);
	v->code[len] = '\0';
	v->len = len;
	while (i < len) {
		if (text[i] == '/' && i + 1 < len && text[i + 1] == '*') {
			for (; i < len && !(text[i] == '*' && i + 1 < len && text[i + 1] == '/'); i++)
				if (text[i] != '\n')
					v->code[i] = ' ';
			if (i < len)
				v->code[i] = v->code[i + 1] = ' ';
			i += 2;
		} else if (text[i] == '/' && i + 1 < len && text[i + 1] == '/') {
			for (; i < len && text[i] != '\n'; i++)
				v->code[i] = ' ';
		} else if (text[i] == '"' || text[i] == '\'') {
			char q = text[i++];
			start = i;
			for (; i < len && text[i] != q && text[i] != '\n'; i++) {
				if (text[i] == '\\' && i + 1 < len)
					v->code[i++] = ' ';
				v->code[i] = ' ';
			}
			if (q == '"')
				view_add_literal(v, text, start, i);
			i++;
		} else {
			i++;
		}
	}
}

static void view_dispose(source_view *v)
{
	free(v->code);
	envup_strlist_dispose(&v->literals);
	free(v->literal_lines);
	free(v->literal_offsets);
}

static bool is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/*
 * Offset of the next call of `name` at or after `from` in code: the name
 * not preceded by an identifier character, '.' or "->", followed by
 * blanks and '('. (size_t)-1 when there is none.
 */
static size_t find_call(const char *code, size_t from, const char *name)
{
	size_t n = strlen(name);
	const char *p = code + from;

	while ((p = strstr(p, name)) != NULL) {
		const char *after = p + n;
		bool starts = p == code || (!is_ident(p[-1]) && p[-1] != '.' &&
			!(p[-1] == '>' && p - 1 > code && p[-2] == '-'));
		while (*after == ' ' || *after == '\t' || *after == '\n')
			after++;
		if (starts && !is_ident(p[n]) && *after == '(')
			return (size_t)(p - code);
		p += n;
	}
	return (size_t)-1;
}

/* Offset just past the ')' closing the call that starts at `at`. */
static size_t call_end(const char *code, size_t len, size_t at)
{
	size_t i = at, depth = 0;

	while (i < len && code[i] != '(')
		i++;
	for (; i < len; i++) {
		if (code[i] == '(')
			depth++;
		else if (code[i] == ')' && --depth == 0)
			return i + 1;
	}
	return len;
}

static bool is_shell_word(const char *lit)
{
	size_t i;

	for (i = 0; i < ENVUP_ARRAY_SIZE(shell_words); i++)
		if (strcmp(lit, shell_words[i]) == 0)
			return true;
	return false;
}

/* Append "FILE:LINE: what" lines to `out` for every offence in one file. */
static void scan_text(envup_buf *out, const char *file, const char *text, size_t len)
{
	source_view v;
	size_t i, j, at;

	view_build(&v, text, len);
	for (i = 0; i < ENVUP_ARRAY_SIZE(shell_calls); i++)
		for (at = 0; (at = find_call(v.code, at, shell_calls[i])) != (size_t)-1; at++)
			assert_int_equal(envup_buf_printf(out, "%s:%d: %s() runs a shell\n",
				file, line_at(text, at), shell_calls[i]), 0);
	for (i = 0; i < ENVUP_ARRAY_SIZE(exec_calls); i++) {
		for (at = 0; (at = find_call(v.code, at, exec_calls[i])) != (size_t)-1; at++) {
			size_t end = call_end(v.code, v.len, at);
			for (j = 0; j < v.literals.n; j++)
				if (v.literal_offsets[j] > at && v.literal_offsets[j] < end &&
				    is_shell_word(v.literals.v[j]))
					assert_int_equal(envup_buf_printf(out,
						"%s:%d: %s() with \"%s\" runs a shell\n", file,
						line_at(text, at), exec_calls[i], v.literals.v[j]), 0);
		}
	}
	for (j = 0; j < v.literals.n; j++)
		if (is_shell_word(v.literals.v[j]) && strcmp(v.literals.v[j], "-c") != 0 &&
		    !exempt(file, v.literals.v[j]))
			assert_int_equal(envup_buf_printf(out,
				"%s:%d: the string \"%s\" names a shell\n", file,
				v.literal_lines[j], v.literals.v[j]), 0);
	for (i = 0; i < ENVUP_ARRAY_SIZE(banned_calls); i++)
		for (at = 0; (at = find_call(v.code, at, banned_calls[i])) != (size_t)-1; at++)
			assert_int_equal(envup_buf_printf(out, "%s:%d: %s() is banned "
				"(house style: use the bounded or checked variant)\n",
				file, line_at(text, at), banned_calls[i]), 0);
	view_dispose(&v);
}

/* ---- the tree --------------------------------------------------------------- */

static envup_buf found = ENVUP_BUF_INIT;
static size_t files_scanned;

static int scan_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	size_t n = strlen(path);
	envup_buf text = ENVUP_BUF_INIT;

	(void)st;
	(void)ftw;
	if (flag != FTW_F || n < 3 || (strcmp(path + n - 2, ".c") != 0 &&
	    strcmp(path + n - 2, ".h") != 0))
		return 0;
	if (envup_read_file(&text, path, 0) < 0)
		fail_msg("%s", envup_error_last()->message);
	scan_text(&found, path + strlen(ENVUP_SOURCE_DIR) + 1, envup_buf_cstr(&text), text.size);
	envup_buf_dispose(&text);
	files_scanned++;
	return 0;
}

static void test_no_shell__source_tree(void **state)
{
	char dir[4096];
	size_t i;

	(void)state;
	for (i = 0; i < ENVUP_ARRAY_SIZE(scanned_dirs); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", ENVUP_SOURCE_DIR, scanned_dirs[i]);
		if (nftw(dir, scan_entry, 16, FTW_PHYS) != 0)
			fail_msg("%s: cannot walk the directory", dir);
	}
	print_message("scanned %zu files under %s\n", files_scanned, ENVUP_SOURCE_DIR);
	/* guards against scanning the wrong place and passing on nothing */
	assert_true(files_scanned >= 40);
	if (found.size)
		fail_msg("offences in the source:\n%s", envup_buf_cstr(&found));
	envup_buf_dispose(&found);
}

/* ---- the scanner on known text: it cannot pass by seeing nothing ---------- */

static void expect_offences(const char *text, size_t want, const char *needle)
{
	envup_buf out = ENVUP_BUF_INIT;
	size_t lines = 0, i;

	scan_text(&out, "t.c", text, strlen(text));
	for (i = 0; i < out.size; i++)
		lines += out.ptr[i] == '\n';
	if (lines != want || (needle && !strstr(envup_buf_cstr(&out), needle)))
		fail_msg("scanning:\n%s\nfound %zu, want %zu%s%s:\n%s", text, lines, want,
			needle ? " containing " : "", needle ? needle : "",
			envup_buf_cstr(&out));
	envup_buf_dispose(&out);
}

static void test_no_shell__scanner(void **state)
{
	(void)state;
	expect_offences("int f(void) { return system(cmd); }\n", 1, "t.c:1: system()");
	expect_offences("FILE *p = popen (cmd, \"r\");\n", 1, "popen()");
	expect_offences("execl(\"/bin/sh\", \"sh\", \"-c\", s, NULL);\n", 5,
		"execl() with \"-c\"");
	expect_offences("\n\nexeclp(\"bash\", \"bash\", NULL);\n", 4,
		"t.c:3: the string \"bash\"");
	expect_offences("char a[4]; strcpy(a, b); strcat(a, b);\n", 2, "strcpy()");
	expect_offences("sprintf(b, \"%d\", 1); n = atoi(s);\n", 2, "atoi()");
	expect_offences("t = strtok(s, \",\"); gets(b);\n", 2, "gets()");
	/* not offences */
	expect_offences("snprintf(b, n, \"x\"); vsnprintf(b, n, f, ap);\n", 0, NULL);
	expect_offences("p = envup__sprintf(\"%s\", x); fgets(b, n, f);\n", 0, NULL);
	expect_offences("t = strtok_r(s, \",\", &save); my_system(x);\n"
		"o.system(x); o->popen(x);\n", 0, NULL);
	expect_offences("/* system(cmd) */ // popen(x)\nint x; /* strcpy(a, b)\n * sprintf */\n",
		0, NULL);
	expect_offences("puts(\"do not call system(x) or execl(sh)\");\n", 0, NULL);
	expect_offences("execvp(argv[0], argv);\n", 0, NULL);
	expect_offences("int system_ready; int atoi_count;\n", 0, NULL);
	expect_offences("char c = '\"'; system(x);\n", 1, "system()");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_shell__scanner),
		cmocka_unit_test(test_no_shell__source_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
