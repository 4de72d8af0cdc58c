/*
 * Loading data before a service counts as ready.
 *
 * SQL files run the way the official image's entrypoint runs them
 * (psql -v ON_ERROR_STOP=1 -f): statement by statement in one connection,
 * each in autocommit unless the file says BEGIN/COMMIT, stopping at the
 * first error. Sending a whole file as one query would not do: the server
 * runs a multi-statement query as one implicit transaction, where
 * CREATE DATABASE, VACUUM, ALTER SYSTEM or CREATE INDEX CONCURRENTLY fail
 * ("cannot run inside a transaction block").
 *
 * Statements are split with psql's own rules: quotes, E'' strings, dollar
 * quotes, nested comments, parentheses, and its heuristic for BEGIN ATOMIC
 * bodies of CREATE [OR REPLACE] FUNCTION/PROCEDURE. "COPY ... FROM stdin"
 * takes its data from the lines that follow, up to "\.", as in pg_dump
 * output. Other psql meta-commands (\connect, \set...) are refused.
 *
 * The line in a message: the server's error position (in characters from
 * the start of the statement) when it gives one, else for COPY data the
 * data line its context names, else the line where the statement starts.
 *
 * MockServer: the file is PUT to /mockserver/expectation as is.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "healthcheck/health.h"
#include "healthcheck/init.h"

#define MOCK_MESSAGE_MAX 300

/* ---- splitting a file into statements ---------------------------------- */

typedef struct {
	const char *text;
	size_t len;
	size_t pos;
} sql_lexer;

static bool ident_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
		(unsigned char)c >= 0x80;
}

static bool ident_char(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool sql_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Length of a dollar-quote delimiter ("$$", "$fn$") at t[i], else 0. */
static size_t dollar_tag(const char *t, size_t i)
{
	size_t k = i + 1;

	if (i > 0 && ident_char(t[i - 1]))
		return 0; /* inside an identifier such as a$b */
	if (t[k] == '$')
		return 2;
	if (!ident_start(t[k]))
		return 0;
	while (t[k] && t[k] != '$' && ident_char(t[k]))
		k++;
	return t[k] == '$' ? k - i + 1 : 0;
}

/* Index just past the comment, quote or dollar quote starting at t[i]. */
static size_t skip_comment(const char *t, size_t n, size_t i)
{
	int depth = 1;

	if (t[i] == '-') {
		while (i < n && t[i] != '\n')
			i++;
		return i;
	}
	for (i += 2; i < n && depth; ) {
		if (t[i] == '/' && t[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (t[i] == '*' && t[i + 1] == '/') {
			depth--;
			i += 2;
		} else {
			i++;
		}
	}
	return i;
}

static size_t skip_quoted(const char *t, size_t n, size_t i, bool backslash)
{
	char q = t[i];

	for (i++; i < n; i++) {
		if (backslash && t[i] == '\\' && i + 1 < n)
			i++;
		else if (t[i] == q && t[i + 1] == q)
			i++;
		else if (t[i] == q)
			return i + 1;
	}
	return n;
}

static size_t skip_dollar(const char *t, size_t n, size_t i, size_t tag)
{
	size_t k;

	for (k = i + tag; k + tag <= n; k++)
		if (t[k] == '$' && memcmp(t + k, t + i, tag) == 0)
			return k + tag;
	return n;
}

/*
 * psql's heuristic: inside CREATE [OR REPLACE] {FUNCTION|PROCEDURE},
 * BEGIN ... END (and CASE ... END within) nest, and semicolons in them do
 * not end the statement.
 */
typedef struct {
	char words[4];
	size_t nwords;
	int begin_depth;
	int paren_depth;
} sql_nesting;

static void sql_word(sql_nesting *st, const char *w, size_t len)
{
	static const char *const tracked[] = {"create", "function", "procedure", "or", "replace"};
	size_t i;

	if (st->nwords < sizeof(st->words)) {
		for (i = 0; i < ENVUP_ARRAY_SIZE(tracked); i++)
			if (strlen(tracked[i]) == len && strncasecmp(w, tracked[i], len) == 0)
				st->words[st->nwords] = tracked[i][0];
	}
	st->nwords++;
	if (st->words[0] != 'c' || st->paren_depth != 0)
		return;
	if (!(st->words[1] == 'f' || st->words[1] == 'p' ||
	      (st->words[1] == 'o' && st->words[2] == 'r' &&
	       (st->words[3] == 'f' || st->words[3] == 'p'))))
		return;
	if (len == 5 && strncasecmp(w, "begin", 5) == 0)
		st->begin_depth++;
	else if (len == 4 && strncasecmp(w, "case", 4) == 0 && st->begin_depth > 0)
		st->begin_depth++;
	else if (len == 3 && strncasecmp(w, "end", 3) == 0 && st->begin_depth > 0)
		st->begin_depth--;
}

/*
 * The next statement: [*start, *end), *end just past its ';' (or the end
 * of the text). *meta is set when it is a psql backslash command (which
 * then runs to the end of its line). false when nothing is left.
 */
static bool sql_next(sql_lexer *lx, size_t *start, size_t *end, bool *meta)
{
	const char *t = lx->text;
	size_t n = lx->len, i = lx->pos;
	sql_nesting st;
	bool started = false;

	memset(&st, 0, sizeof(st));
	*meta = false;
	while (i < n) {
		char c = t[i];
		if ((c == '-' && t[i + 1] == '-') || (c == '/' && t[i + 1] == '*')) {
			i = skip_comment(t, n, i);
			continue;
		}
		if (sql_space(c)) {
			i++;
			continue;
		}
		if (c == ';' && !started) {
			i++; /* an empty statement */
			continue;
		}
		if (!started) {
			started = true;
			*start = i;
			if (c == '\\') {
				*meta = true;
				while (i < n && t[i] != '\n')
					i++;
				break;
			}
		}
		if (c == ';') {
			if (st.paren_depth == 0 && st.begin_depth == 0) {
				i++;
				break;
			}
			i++;
		} else if (c == '(') {
			st.paren_depth++;
			i++;
		} else if (c == ')') {
			if (st.paren_depth > 0)
				st.paren_depth--;
			i++;
		} else if (c == '\'' || c == '"') {
			bool e = c == '\'' && i > 0 && (t[i - 1] == 'E' || t[i - 1] == 'e') &&
				(i == 1 || !ident_char(t[i - 2]));
			i = skip_quoted(t, n, i, e);
		} else if (c == '$' && dollar_tag(t, i)) {
			i = skip_dollar(t, n, i, dollar_tag(t, i));
		} else if (ident_start(c)) {
			size_t w = i;
			while (i < n && ident_char(t[i]))
				i++;
			/* E'...' : the quote right after is handled as an E string */
			if (!(i - w == 1 && (c == 'E' || c == 'e') && t[i] == '\''))
				sql_word(&st, t + w, i - w);
		} else if (c >= '0' && c <= '9') {
			while (i < n && (ident_char(t[i]) || t[i] == '.'))
				i++;
		} else {
			i++;
		}
	}
	lx->pos = i;
	*end = i;
	return started;
}

/* ---- error positions ------------------------------------------------------ */

/* The byte offset of the `chars`-th character (0-based) of s. */
static size_t char_offset(const char *s, size_t len, long chars, bool bytes)
{
	size_t i = 0;

	if (bytes)
		return (size_t)chars < len ? (size_t)chars : len;
	while (i < len && chars > 0) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		chars--;
	}
	return i;
}

static long line_at(const char *text, size_t offset)
{
	long line = 1;
	size_t i;

	for (i = 0; i < offset && text[i]; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

/* N from a COPY error's context "COPY t, line N[, column c: ...]", or 0. */
static long copy_context_line(const PGresult *error)
{
	const char *ctx = PQresultErrorField(error, PG_DIAG_CONTEXT);
	const char *p;

	if (!ctx || strncmp(ctx, "COPY ", 5) != 0 || (p = strstr(ctx, ", line ")) == NULL)
		return 0;
	return strtol(p + 7, NULL, 10);
}

/*
 * The 1-based line of the file an error in the statement at `start` points
 * at: the error position, else the COPY data line, else the statement.
 */
static long error_line(PGconn *conn, const char *text, size_t start, size_t end,
	size_t copy_at, const PGresult *error)
{
	const char *pos = PQresultErrorField(error, PG_DIAG_STATEMENT_POSITION);
	const char *enc = PQparameterStatus(conn, "server_encoding");
	long chars = pos ? strtol(pos, NULL, 10) : 0, copy_line;
	bool bytes = enc && strcmp(enc, "SQL_ASCII") == 0;

	if (chars >= 1)
		return line_at(text, start + char_offset(text + start, end - start, chars - 1, bytes));
	if ((copy_line = copy_context_line(error)) > 0)
		return line_at(text, copy_at) + copy_line - 1;
	return line_at(text, start);
}

/* ---- SQL files -------------------------------------------------------- */

/*
 * Run one statement. A COPY FROM stdin reads the text after the statement's
 * line, up to a "\." line; *skip says how many bytes of it were used.
 */
static int run_statement(envup_health_pg_outcome *outcome, char **why, bool *late,
	PGconn *conn, const char *text, size_t len, size_t start, size_t end, double deadline,
	size_t *skip, size_t *copy_at)
{
	envup_health_pg_copy copy;
	char *sql = envup__strndup(text + start, end - start);
	const char *nl;
	int r;

	*skip = 0;
	if (!sql)
		return ENVUP_ERROR;
	nl = memchr(text + end, '\n', len - end);
	copy.data = nl ? nl + 1 : text + len;
	copy.len = (size_t)(text + len - copy.data);
	copy.consumed = 0;
	r = envup_health__pg_run(outcome, why, late, conn, sql, &copy, deadline);
	*copy_at = (size_t)(copy.data - text);
	if (copy.consumed)
		*skip = (size_t)(copy.data - (text + end)) + copy.consumed;
	envup__free(sql);
	return r;
}

static int run_one(PGconn *conn, const char *path, const char *display, double deadline,
	long timeout_ms)
{
	envup_health_pg_outcome outcome = ENVUP_HEALTH_PG_OUTCOME_INIT;
	envup_buf text = ENVUP_BUF_INIT;
	sql_lexer lx;
	char *why = NULL, *msg = NULL;
	size_t start = 0, end = 0, skip, copy_at = 0;
	bool late = false, meta;
	int r, error = ENVUP_ERROR;

	if (envup_read_file(&text, path, 0) < 0)
		goto done;
	if (strlen(envup_buf_cstr(&text)) != text.size) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_PG, "init script %s contains a NUL byte", display);
		goto done;
	}
	lx.text = envup_buf_cstr(&text);
	lx.len = text.size;
	lx.pos = 0;
	while (sql_next(&lx, &start, &end, &meta)) {
		if (meta) {
			size_t w = 1;
			while (start + w < end && !sql_space(lx.text[start + w]))
				w++;
			envup_error_set(ENVUP_ERROR, ENVUP_ERROR_PG,
				"init script %s line %ld: psql meta-command %.*s is not supported",
				display, line_at(lx.text, start), (int)w, lx.text + start);
			goto done;
		}
		envup_health__pg_outcome_dispose(&outcome);
		r = run_statement(&outcome, &why, &late, conn, lx.text, lx.len, start, end,
			deadline, &skip, &copy_at);
		if (r < 0)
			goto done;
		if (r > 0) {
			if (late) {
				error = envup_error_set(ENVUP_ETIMEOUT, ENVUP_ERROR_PG,
					"init script %s line %ld: did not finish within %.1fs",
					display, line_at(lx.text, start), (double)timeout_ms / 1000.0);
			} else {
				envup_error_set(ENVUP_ERROR, ENVUP_ERROR_PG, "init script %s line %ld: %s",
					display, line_at(lx.text, start), why);
			}
			goto done;
		}
		if (outcome.error) {
			if ((msg = envup_health__pg_result_message(outcome.error)) == NULL)
				goto done;
			envup_error_set(ENVUP_ERROR, ENVUP_ERROR_PG, "init script %s line %ld: %s", display,
				error_line(conn, lx.text, start, end, copy_at, outcome.error), msg);
			goto done;
		}
		lx.pos += skip;
	}
	error = 0;
done:
	envup_health__pg_outcome_dispose(&outcome);
	envup_buf_dispose(&text);
	envup__free(why);
	envup__free(msg);
	return error;
}

int envup_pg_run_files(const char *host, int port, const char *user,
	const char *password, const char *database, const envup_strlist *files,
	const envup_strlist *display, long timeout_ms)
{
	PGconn *conn = NULL;
	char *why = NULL;
	double deadline;
	size_t i;
	int r, error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(host && files);
	ENVUP_ASSERT_ARG(!display || display->n == files->n);
	if (files->n == 0)
		return 0;
	if (timeout_ms <= 0)
		timeout_ms = 60000;
	deadline = envup_now() + (double)timeout_ms / 1000.0;
	r = envup_health__pg_connect(&conn, &why, host, port, user, password, database, deadline);
	if (r < 0)
		goto done;
	if (r > 0) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_PG, "init scripts: cannot connect: %s", why);
		goto done;
	}
	for (i = 0; i < files->n; i++) {
		const char *name = display ? display->v[i] : files->v[i];
		if ((error = run_one(conn, files->v[i], name, deadline, timeout_ms)) < 0)
			goto done;
	}
	error = 0;
done:
	envup__free(why);
	PQfinish(conn);
	return error;
}

/* ---- MockServer expectations -------------------------------------------- */

/*
 * MockServer's 400 text echoes the whole expectation before saying what is
 * wrong ("incorrect expectation json format for: {...} schema validation
 * errors: ..."). Keep the first line and the errors, drop the echo.
 */
static char *mock_message(const char *body)
{
	static const char marker[] = "schema validation errors:";
	const char *errors = strstr(body, marker);
	const char *nl = strchr(body, '\n');
	char *first = NULL, *r;

	if (!*body)
		return envup__strdup("(empty answer)");
	if (!errors || !nl || nl > errors)
		return envup_health__fold(body, MOCK_MESSAGE_MAX);
	if ((first = envup__strndup(body, (size_t)(nl - body))) == NULL)
		return NULL;
	if (first[0] && first[strlen(first) - 1] == ':')
		first[strlen(first) - 1] = '\0';
	r = envup_health__reasonf("%s; %s", first, errors);
	envup__free(first);
	if (r && strlen(r) > MOCK_MESSAGE_MAX) {
		char *cut = envup_health__fold(r, MOCK_MESSAGE_MAX);
		envup__free(r);
		r = cut;
	}
	return r;
}

int envup_mockserver_load(const char *host, int port, const char *path,
	const char *display, long timeout_ms)
{
	envup_health_http_reply reply = ENVUP_HEALTH_HTTP_REPLY_INIT;
	envup_buf json = ENVUP_BUF_INIT;
	char *why = NULL, *msg = NULL;
	int r, error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(host && path);
	if (!display)
		display = path;
	if (timeout_ms <= 0)
		timeout_ms = 30000;
	if (envup_read_file(&json, path, 0) < 0)
		goto done;
	r = envup_health__http(&reply, &why, "PUT", host, port, "/mockserver/expectation",
		"application/json", envup_buf_cstr(&json), json.size, timeout_ms);
	if (r < 0)
		goto done;
	if (r > 0) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_HTTP, "expectations %s: cannot reach MockServer: %s",
			display, why);
		goto done;
	}
	if (reply.status < 200 || reply.status > 299) {
		if ((msg = mock_message(envup_buf_cstr(&reply.body))) == NULL)
			goto done;
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_HTTP, "expectations %s rejected by MockServer (HTTP %ld): %s",
			display, reply.status, msg);
		goto done;
	}
	error = 0;
done:
	envup_buf_dispose(&reply.body);
	envup_buf_dispose(&json);
	envup__free(why);
	envup__free(msg);
	return error;
}
