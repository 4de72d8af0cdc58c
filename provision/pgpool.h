/*
 * Databases per test, for a postgres service (pgpool.c).
 *
 * At `up`, once the init scripts ran, the main database is copied into a
 * template (ENVUP_PG_TEMPLATE: IS_TEMPLATE, no connections allowed), and
 * a small bookkeeping database (ENVUP_PG_META) gets the pool's table:
 *
 *   pool(datname PRIMARY KEY, state 'making' | 'ready' | 'held', holder,
 *        made, claimed)
 *
 * A database is handed out by one statement that moves the oldest 'ready'
 * row to 'held' (FOR UPDATE SKIP LOCKED: concurrent callers, in any
 * process on any machine, never get the same row and never wait for each
 * other) and notifies the filler. The filler (envup-watchdog --pool-fill,
 * one per server, held by an advisory lock) keeps `pool_size` databases
 * 'ready', cloning the template with CREATE DATABASE ... TEMPLATE (FILE_COPY
 * on PostgreSQL 15+, measured faster than WAL_LOG for small templates on
 * tmpfs). When the pool is empty the caller clones one itself: slower,
 * never shared. Everything lives in the server: it goes with the
 * environment, and nothing on the host needs cleaning.
 *
 * Ownership: *name and *meta outputs are the caller's (envup__free,
 * PQfinish). Errors name the service's database or the server's message.
 */
#ifndef ENVUP_PROVISION_PGPOOL_H
#define ENVUP_PROVISION_PGPOOL_H

#include <stdbool.h>
#include <libpq-fe.h>
#include "util/util.h"

#define ENVUP_PG_TEMPLATE "envup_template"
#define ENVUP_PG_META "envup_meta"
/* The cluster's roles and the settings of roles and databases, as one
 * md5 (passwords left out): recorded at up, compared when a snapshot is
 * taken, so that roles a test made after up never enter a snapshot, and a
 * main database with settings of its own (ALTER DATABASE ... SET, which a
 * clone does not carry) gets none. One SQL expression. */
#define ENVUP_PG_CLUSTER_DIGEST \
	"SELECT md5(coalesce((SELECT string_agg(concat_ws('|', rolname, rolsuper, rolinherit, " \
	"rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit, " \
	"rolvaliduntil), ',' ORDER BY rolname) FROM pg_roles), '') || ';' || " \
	"coalesce((SELECT string_agg(concat_ws('|', setrole, coalesce(d.datname, ''), " \
	"array_to_string(setconfig, ',')), ',' ORDER BY setrole, d.datname) FROM pg_db_role_setting s " \
	"LEFT JOIN pg_database d ON d.oid = s.setdatabase), ''))"
#define ENVUP_PG_POOL_DEFAULT 4
#define ENVUP_PG_POOL_MAX 64

typedef struct {
	const char *host;
	int port;
	const char *user;
	const char *password;
	const char *database;  /* the main database */
} envup_pg_where;

/** The pool size `up` uses: $ENVUP_DB_POOL (more than 64 is 64; not a
 *  number: 4), else 4. */
int envup_pgpool_size(void);

/**
 * At up: make the template from the main database and the bookkeeping
 * database. Nobody may be connected to the main database. Idempotent.
 */
int envup_pgpool_prepare(const envup_pg_where *w, int pool_size, long timeout_ms);

/**
 * A server started from a snapshot: check the key recorded in it (a
 * mismatch is ENVUP_ERROR "... holds snapshot X, not Y") and set the pool's
 * size for this environment.
 */
int envup_pgpool_check_restored(const envup_pg_where *w, const char *key, int pool_size, long timeout_ms);

/** A connection to the bookkeeping database (autocommit). */
int envup_pgpool_connect(PGconn **out, const envup_pg_where *w, long timeout_ms);

/**
 * Hand out a database nobody else holds, cloned from the template:
 * from the pool, or made now when the pool is empty.
 * @param[out] name its name (malloc'd)
 * @param[out] from_pool true when it came ready from the pool (may be NULL)
 */
int envup_pgpool_claim(char **name, bool *from_pool, PGconn *meta, const char *main_db,
	const char *holder);

/** Give back a database envup handed out: dropped (WITH FORCE). A name
 *  envup did not hand out is ENVUP_ENOTFOUND, and nothing is dropped. */
int envup_pgpool_drop(PGconn *meta, const char *name);

/** Recreate the main database from the template (connections to it are
 *  ended): a clone under another name first, then swapped in, so that a
 *  server refusing the clone leaves the main database as it was. */
int envup_pgpool_reset_main(PGconn *meta, const char *main_db);

/**
 * The filler: keeps the pool full until the server goes away. Returns 0
 * when another filler holds the lock, or when the connection is lost.
 */
int envup_pgpool_fill(const envup_pg_where *w);

/** Main of `envup-watchdog --pool-fill`: reads host, port, user, password
 *  and the main database, one per line, on stdin. */
int envup_pgpool__fill_main(void);

#endif
