/*
 * Running SQL init files before a postgres service counts as ready, the
 * way the official image's entrypoint runs them (psql -v ON_ERROR_STOP=1
 * -f): statement by statement in one connection, each in autocommit unless
 * the file says BEGIN/COMMIT, stopping at the first error. Sending a whole
 * file as one query would not do: the server runs a multi-statement query
 * as one implicit transaction, where CREATE DATABASE, VACUUM, ALTER SYSTEM
 * or CREATE INDEX CONCURRENTLY fail ("cannot run inside a transaction
 * block"). Statements are split by healthcheck/sql_split.c.
 *
 * "COPY ... FROM stdin" takes its data from the lines that follow, up to
 * "\.", as in pg_dump output. Other psql meta-commands (\connect, \set...)
 * are refused.
 *
 * The line in a message: the server's error position (in characters from
 * the start of the statement) when it gives one, else for COPY data the
 * data line its context names, else the line where the statement starts.
 */
#include <stdlib.h>
#include <string.h>
#include "healthcheck/health.h"
#include "healthcheck/load.h"
#include "healthcheck/sql_split.h"

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
	envup_sql_lexer lx;
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
	while (envup_sql_next(&lx, &start, &end, &meta)) {
		if (meta) {
			size_t w = 1;
			while (start + w < end && !envup_sql_space(lx.text[start + w]))
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
