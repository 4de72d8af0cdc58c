/*
 * Internals shared by the probes and the init loaders (not installed).
 *
 * Ownership: every char * returned here is malloc'd with envup__malloc and
 * freed by the caller with envup__free; an envup_health_http_reply's body is
 * emptied with envup_buf_dispose(); PGconn/PGresult die by PQfinish/PQclear.
 */
#ifndef ENVUP_HEALTHCHECK_HEALTH_H
#define ENVUP_HEALTHCHECK_HEALTH_H

#include <libpq-fe.h>
#include "util/util.h"

/* Longest reason a probe hands back (bytes, before "..."). */
#define ENVUP_HEALTH_REASON_MAX 400

/**
 * `s` on one line: every run of whitespace (newlines included) becomes one
 * space, other control bytes become '?', registered secrets are masked
 * and the text is cut to `max` bytes (0 = ENVUP_HEALTH_REASON_MAX) at a
 * UTF-8 boundary, with "..." appended when cut. NULL on OOM (error set).
 */
char *envup_health__fold(const char *s, size_t max);

/** printf, then envup_health__fold(). NULL on OOM (error set). */
char *envup_health__reasonf(const char *fmt, ...) ENVUP_PRINTF(1, 2);

/**
 * Set *why (freeing an earlier value) to a formatted reason and return 1
 * ("not ready"); on OOM return ENVUP_ERROR with the error set.
 */
int envup_health__not_ready(char **why, const char *fmt, ...) ENVUP_PRINTF(2, 3);

/** Milliseconds left until `deadline` (envup_now() based), never below 0. */
long envup_health__remaining_ms(double deadline);

/* ---- HTTP (healthcheck/http.c) ------------------------------------------ */

typedef struct {
	long status;   /* the HTTP status code */
	envup_buf body;/* the first 64 KiB of the body */
} envup_health_http_reply;

#define ENVUP_HEALTH_HTTP_REPLY_INIT {0, ENVUP_BUF_INIT}

/**
 * One HTTP/1.1 request to http://host:port/path with libcurl: no proxy,
 * no redirects, bounded by `timeout_ms`. `data` (may be NULL) is sent as
 * the body with `content_type`.
 * @return 0 when an answer arrived (any status, see reply); 1 when the
 *         transfer failed (*why says why: "connection refused", ...);
 *         <0 for failures retrying cannot fix (error set)
 */
int envup_health__http(envup_health_http_reply *reply, char **why,
	const char *method, const char *host, int port, const char *path,
	const char *content_type, const char *data, size_t len, long timeout_ms);

/* ---- PostgreSQL (healthcheck/postgres.c) --------------------------------- */

/**
 * Connect with the non-blocking libpq API (sslmode=disable,
 * gssencmode=disable, client_encoding=UTF8, application_name=envup) and
 * give up at `deadline`. Server notices are discarded, never printed.
 * @param[out] out the connection on 0, NULL otherwise
 * @return 0; 1 with *why (PQerrorMessage folded, or a timeout); <0 fatal
 */
int envup_health__pg_connect(PGconn **out, char **why, const char *host, int port,
	const char *user, const char *password, const char *database, double deadline);

typedef struct {
	PGresult *error;  /* the first failed statement's result, or NULL */
	PGresult *last;   /* the last successful result, or NULL */
	size_t nok;       /* how many statements succeeded before `error` */
} envup_health_pg_outcome;

#define ENVUP_HEALTH_PG_OUTCOME_INIT {NULL, NULL, 0}

/* Inline data for COPY ... FROM stdin: lines up to "\." (or the end). */
typedef struct {
	const char *data;
	size_t len;
	size_t consumed; /* out: bytes used, the "\." line included */
} envup_health_pg_copy;

/**
 * Send `sql` (one or more statements, simple query protocol) and collect
 * every result until the server is done or `deadline` passes (then the
 * running statement is cancelled). COPY FROM stdin reads `copy` (NULL:
 * refused); COPY TO stdout output is discarded.
 * @return 0 when the server finished (outcome->error tells whether a
 *         statement failed); 1 with *why when the connection broke or the
 *         deadline passed (*timed_out, when non-NULL, tells which); <0 fatal
 */
int envup_health__pg_run(envup_health_pg_outcome *outcome, char **why,
	bool *timed_out, PGconn *conn, const char *sql, envup_health_pg_copy *copy,
	double deadline);

void envup_health__pg_outcome_dispose(envup_health_pg_outcome *outcome);

/**
 * A server error as one line: the primary message plus " (DETAIL)" when
 * present; falls back on the result's whole message. NULL on OOM.
 */
char *envup_health__pg_result_message(const PGresult *res);

#endif
