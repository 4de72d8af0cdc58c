/*
 * The PostgreSQL probe and the libpq plumbing init.c shares: a connect
 * and a query runner that never block past a deadline.
 *
 * Not ready, with the server's own words as the reason, covers everything
 * a starting server says: nothing listening ("Connection refused"),
 * docker-proxy accepting while postgres is not listening yet ("server
 * closed the connection unexpectedly"), "the database system is starting
 * up", and also authentication failures: the official image's temporary
 * init server has no TCP listener, so a wrong password is most likely a
 * real mistake, but treating it as "not yet" only costs the deadline and
 * the reason names it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include "healthcheck/health.h"
#include "healthcheck/probe.h"

static void pg_notice_ignore(void *payload, const char *message)
{
	(void)payload;
	(void)message;
}

/*
 * libpq's text minus its own tab-indented hint lines ("\tIs the server
 * running on that host...", "\tThis probably means the server terminated
 * abnormally..."), folded. Server lines (FATAL:, DETAIL:) are kept.
 */
static char *pg_conn_message(PGconn *conn)
{
	envup_buf text = ENVUP_BUF_INIT;
	const char *p = conn ? PQerrorMessage(conn) : "out of memory";
	char *r = NULL;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (p[0] != '\t' &&
		    envup_buf_put(&text, p, len) < 0)
			goto done;
		p += len;
	}
	r = envup_health__fold(envup_buf_cstr(&text), 0);
done:
	envup_buf_dispose(&text);
	return r;
}

static int pg_not_ready_conn(char **why, PGconn *conn)
{
	char *msg = pg_conn_message(conn);

	if (!msg)
		return ENVUP_ERROR;
	envup__free(*why);
	*why = msg;
	return 1;
}

/* Wait for the socket; 1 ready, 0 deadline passed, -1 error (errno). */
static int pg_poll(PGconn *conn, short events, double deadline)
{
	struct pollfd pfd;
	int r;

	for (;;) {
		pfd.fd = PQsocket(conn);
		pfd.events = events;
		pfd.revents = 0;
		if (pfd.fd < 0) {
			errno = EBADF;
			return -1;
		}
		r = poll(&pfd, 1, (int)envup_health__remaining_ms(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r;
	}
}

int envup_health__pg_connect(PGconn **out, char **why, const char *host, int port,
	const char *user, const char *password, const char *database, double deadline)
{
	const char *keys[12], *vals[12];
	char portstr[16], timeout[32];
	PGconn *conn = NULL;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	long left;
	size_t n = 0;
	int r;

	ENVUP_ASSERT_ARG(out && why && host && *host && port > 0 && port <= 65535);
	*out = NULL;
	if (password && envup_secret_add(password) < 0)
		return ENVUP_ERROR;
	left = envup_health__remaining_ms(deadline);
	snprintf(portstr, sizeof(portstr), "%d", port);
	/* libpq's own bound, in whole seconds; our poll loop is the real one */
	snprintf(timeout, sizeof(timeout), "%ld", left / 1000 + 2);
	keys[n] = "host";             vals[n++] = host;
	keys[n] = "port";             vals[n++] = portstr;
	keys[n] = "user";             vals[n++] = user ? user : "postgres";
	keys[n] = "dbname";           vals[n++] = database ? database : (user ? user : "postgres");
	keys[n] = "sslmode";          vals[n++] = "disable";
	keys[n] = "gssencmode";       vals[n++] = "disable";
	keys[n] = "connect_timeout";  vals[n++] = timeout;
	keys[n] = "application_name"; vals[n++] = "envup";
	keys[n] = "client_encoding";  vals[n++] = "UTF8";
	if (password) {
		keys[n] = "password";
		vals[n++] = password;
	}
	keys[n] = NULL;
	vals[n] = NULL;

	if ((conn = PQconnectStartParams(keys, vals, 0)) == NULL)
		return envup_error_set_oom();
	PQsetNoticeProcessor(conn, pg_notice_ignore, NULL);
	if (PQstatus(conn) == CONNECTION_BAD) {
		r = pg_not_ready_conn(why, conn);
		goto done;
	}
	/* the documented dance: start as if PQconnectPoll said WRITING */
	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED) {
			r = pg_not_ready_conn(why, conn);
			goto done;
		}
		r = pg_poll(conn, st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
		if (r == 0) {
			r = envup_health__not_ready(why,
				"connection to server at \"%s\", port %d: no answer within %ld ms",
				host, port, left);
			goto done;
		}
		if (r < 0) {
			r = envup_health__not_ready(why, "connection to server at \"%s\", port %d: %s",
				host, port, strerror(errno));
			goto done;
		}
		st = PQconnectPoll(conn);
	}
	*out = conn;
	conn = NULL;
	r = 0;
done:
	PQfinish(conn);
	return r;
}

/* Push everything queued out; 0 done, 1 not ready (why), <0 fatal. */
static int pg_flush(char **why, bool *timed_out, PGconn *conn, double deadline)
{
	int f, r;

	while ((f = PQflush(conn)) == 1) {
		r = pg_poll(conn, POLLIN | POLLOUT, deadline);
		if (r == 0) {
			*timed_out = true;
			return envup_health__not_ready(why, "no answer from the server in time");
		}
		if (r < 0 || !PQconsumeInput(conn))
			return pg_not_ready_conn(why, conn);
	}
	if (f < 0)
		return pg_not_ready_conn(why, conn);
	return 0;
}

/* Wait until a result can be taken without blocking. */
static int pg_wait_result(char **why, bool *timed_out, PGconn *conn, double deadline)
{
	int r;

	while (PQisBusy(conn)) {
		r = pg_poll(conn, POLLIN, deadline);
		if (r == 0) {
			*timed_out = true;
			return envup_health__not_ready(why, "no answer from the server in time");
		}
		if (r < 0 || !PQconsumeInput(conn))
			return pg_not_ready_conn(why, conn);
	}
	return 0;
}

/* Drain a COPY ... TO STDOUT, which an init script has no use for. */
static int pg_drain_copy_out(char **why, bool *timed_out, PGconn *conn, double deadline)
{
	char *row;
	int n, r;

	while ((n = PQgetCopyData(conn, &row, 1)) != -1) {
		if (n > 0) {
			PQfreemem(row);
			continue;
		}
		if (n == -2)
			return pg_not_ready_conn(why, conn);
		r = pg_poll(conn, POLLIN, deadline);
		if (r == 0) {
			*timed_out = true;
			return envup_health__not_ready(why, "no answer from the server in time");
		}
		if (r < 0 || !PQconsumeInput(conn))
			return pg_not_ready_conn(why, conn);
	}
	return 0;
}

static void pg_cancel(PGconn *conn)
{
	char err[256];
	PGcancel *cancel = PQgetCancel(conn);

	if (cancel) {
		PQcancel(cancel, err, sizeof(err));
		PQfreeCancel(cancel);
	}
}

/* Send the inline COPY data: lines up to one that is exactly "\.". */
static int pg_copy_in(char **why, bool *late, PGconn *conn, envup_health_pg_copy *copy,
	double deadline)
{
	size_t i = 0, line_end, send_len;
	const char *d = copy->data;
	int r;

	while (i < copy->len) {
		const char *nl = memchr(d + i, '\n', copy->len - i);
		line_end = nl ? (size_t)(nl - d) + 1 : copy->len;
		if ((line_end - i == 3 && memcmp(d + i, "\\.\n", 3) == 0) ||
		    (line_end - i == 4 && memcmp(d + i, "\\.\r\n", 4) == 0) ||
		    (line_end - i == 2 && memcmp(d + i, "\\.", 2) == 0)) {
			copy->consumed = line_end;
			break;
		}
		i = line_end;
		copy->consumed = i;
	}
	send_len = i;
	for (i = 0; i < send_len; ) {
		size_t chunk = send_len - i < 65536 ? send_len - i : 65536;
		int put = PQputCopyData(conn, d + i, (int)chunk);
		if (put < 0)
			return pg_not_ready_conn(why, conn);
		if (put == 0 || PQisnonblocking(conn)) {
			if ((r = pg_flush(why, late, conn, deadline)) != 0)
				return r;
		}
		if (put == 1)
			i += chunk;
	}
	if (PQputCopyEnd(conn, NULL) < 0)
		return pg_not_ready_conn(why, conn);
	return pg_flush(why, late, conn, deadline);
}

int envup_health__pg_run(envup_health_pg_outcome *outcome, char **why,
	bool *timed_out, PGconn *conn, const char *sql, envup_health_pg_copy *copy,
	double deadline)
{
	PGresult *res;
	bool late = false;
	int r;

	ENVUP_ASSERT_ARG(outcome && why && conn && sql);
	if (PQsetnonblocking(conn, 1) != 0 || !PQsendQuery(conn, sql)) {
		r = pg_not_ready_conn(why, conn);
		goto done;
	}
	if ((r = pg_flush(why, &late, conn, deadline)) != 0)
		goto done;
	for (;;) {
		if ((r = pg_wait_result(why, &late, conn, deadline)) != 0)
			goto done;
		if ((res = PQgetResult(conn)) == NULL)
			break;
		switch (PQresultStatus(res)) {
		case PGRES_COPY_IN:
			PQclear(res);
			if (copy) {
				if ((r = pg_copy_in(why, &late, conn, copy, deadline)) != 0)
					goto done;
				copy = NULL; /* one COPY per statement */
				continue;
			}
			if (PQputCopyEnd(conn, "COPY FROM stdin has no data here") < 0) {
				r = pg_not_ready_conn(why, conn);
				goto done;
			}
			if ((r = pg_flush(why, &late, conn, deadline)) != 0)
				goto done;
			continue;
		case PGRES_COPY_OUT:
			PQclear(res);
			if ((r = pg_drain_copy_out(why, &late, conn, deadline)) != 0)
				goto done;
			continue;
		case PGRES_BAD_RESPONSE:
		case PGRES_FATAL_ERROR:
		case PGRES_NONFATAL_ERROR:
			if (outcome->error)
				PQclear(res);
			else
				outcome->error = res;
			continue;
		default:
			if (outcome->error) {
				PQclear(res);
				continue;
			}
			PQclear(outcome->last);
			outcome->last = res;
			outcome->nok++;
			continue;
		}
	}
	r = 0;
done:
	if (late)
		pg_cancel(conn);
	if (timed_out)
		*timed_out = late;
	return r;
}

void envup_health__pg_outcome_dispose(envup_health_pg_outcome *outcome)
{
	if (!outcome)
		return;
	PQclear(outcome->error);
	PQclear(outcome->last);
	outcome->error = outcome->last = NULL;
	outcome->nok = 0;
}

char *envup_health__pg_result_message(const PGresult *res)
{
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

	if (!primary)
		return envup_health__fold(PQresultErrorMessage(res), 0);
	if (detail)
		return envup_health__reasonf("%s (%s)", primary, detail);
	return envup_health__fold(primary, 0);
}

int envup_probe_postgres(char **why, const char *host, int port, const char *user,
	const char *password, const char *database, long timeout_ms)
{
	envup_health_pg_outcome outcome = ENVUP_HEALTH_PG_OUTCOME_INIT;
	PGconn *conn = NULL;
	const char *value;
	char *msg = NULL;
	double deadline;
	int r;

	ENVUP_ASSERT_ARG(why);
	*why = NULL;
	if (timeout_ms <= 0)
		timeout_ms = 1000;
	deadline = envup_now() + (double)timeout_ms / 1000.0;
	if ((r = envup_health__pg_connect(&conn, why, host, port, user, password,
			database, deadline)) != 0)
		goto done;
	if ((r = envup_health__pg_run(&outcome, why, NULL, conn, "SELECT 1", NULL, deadline)) != 0)
		goto done;
	if (outcome.error) {
		if ((msg = envup_health__pg_result_message(outcome.error)) == NULL) {
			r = ENVUP_ERROR;
			goto done;
		}
		r = envup_health__not_ready(why, "SELECT 1: %s", msg);
		goto done;
	}
	if (!outcome.last || PQresultStatus(outcome.last) != PGRES_TUPLES_OK ||
	    PQntuples(outcome.last) != 1 || PQnfields(outcome.last) != 1) {
		r = envup_health__not_ready(why, "SELECT 1: unexpected answer");
		goto done;
	}
	value = PQgetvalue(outcome.last, 0, 0);
	if (strcmp(value, "1") != 0) {
		r = envup_health__not_ready(why, "SELECT 1 answered \"%s\"", value);
		goto done;
	}
	r = 0;
done:
	envup_health__pg_outcome_dispose(&outcome);
	envup__free(msg);
	PQfinish(conn);
	if (r == 0) {
		envup__free(*why);
		*why = NULL;
	}
	return r;
}
