/*
 * Databases per test for a postgres service: the template, the pool and
 * its filler (see pgpool.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "provision/pgpool.h"
#include "healthcheck/health.h"

#define FILL_LOCK "74310001" /* pg_try_advisory_lock: one filler per server */
#define FILL_RECHECK_MS 30000

int envup_pgpool_size(void)
{
	const char *v = getenv("ENVUP_DB_POOL");
	char *end;
	long n;

	if (!v || !*v)
		return ENVUP_PG_POOL_DEFAULT;
	n = strtol(v, &end, 10);
	if (*end || end == v || n < 0)
		return ENVUP_PG_POOL_DEFAULT;
	return n > ENVUP_PG_POOL_MAX ? ENVUP_PG_POOL_MAX : (int)n;
}

/* ---- statements ------------------------------------------------------------ */

static int pg_failed(PGconn *conn, PGresult *res, const char *what)
{
	char *msg = res ? envup_health__pg_result_message(res) : envup_health__fold(PQerrorMessage(conn), 0);
	int error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_PG, "%s: %s", what, msg ? msg : "failed");
	envup__free(msg);
	return error;
}

/* Run one statement; *out (may be NULL) gets its result on success. */
static int pg_do(PGresult **out, PGconn *conn, const char *what, const char *sql, int nparams,
	const char *const *params)
{
	PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	int error;

	if (out)
		*out = NULL;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		error = pg_failed(conn, res, what);
		PQclear(res);
		return error;
	}
	if (out)
		*out = res;
	else
		PQclear(res);
	return 0;
}

/* DROP DATABASE IF EXISTS ident WITH (FORCE) */
static int pg_drop_db(PGconn *conn, const char *what, const char *ident)
{
	char *q = PQescapeIdentifier(conn, ident, strlen(ident)), *sql;
	int error;

	if (!q)
		return pg_failed(conn, NULL, what);
	if (PQserverVersion(conn) < 130000) {
		/* no WITH (FORCE) before PostgreSQL 13: end its connections first */
		const char *params[1] = {ident};
		pg_do(NULL, conn, what, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
			"WHERE datname = $1 AND pid <> pg_backend_pid()", 1, params);
		sql = envup__sprintf("DROP DATABASE IF EXISTS %s", q);
	} else {
		sql = envup__sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", q);
	}
	PQfreemem(q);
	ENVUP_ERROR_CHECK_ALLOC(sql);
	error = pg_do(NULL, conn, what, sql, 0, NULL);
	envup__free(sql);
	return error;
}

/* CREATE DATABASE name [OWNER owner] TEMPLATE from, the faster strategy
 * first. `owner` NULL: the connected role. */
static int clone_as(PGconn *conn, const char *name, const char *from, const char *owner)
{
	char *qn = PQescapeIdentifier(conn, name, strlen(name));
	char *qf = PQescapeIdentifier(conn, from, strlen(from));
	char *qo = owner && *owner ? PQescapeIdentifier(conn, owner, strlen(owner)) : NULL;
	char *sql = NULL;
	int error = ENVUP_ERROR;

	if (!qn || !qf || (owner && *owner && !qo)) {
		error = pg_failed(conn, NULL, "cannot clone the template");
		goto done;
	}
	/* FILE_COPY (PostgreSQL 15+) copies files: for a template of tens of
	 * MB on tmpfs it took 23 ms where WAL_LOG took 40 */
	sql = envup__sprintf("CREATE DATABASE %s%s%s TEMPLATE %s%s", qn, qo ? " OWNER " : "", qo ? qo : "", qf,
		PQserverVersion(conn) >= 150000 ? " STRATEGY FILE_COPY" : "");
	if (!sql)
		goto done;
	error = pg_do(NULL, conn, "cannot make a database from the template", sql, 0, NULL);
done:
	PQfreemem(qn);
	PQfreemem(qf);
	PQfreemem(qo);
	envup__free(sql);
	return error;
}

/* The main database's owner, recorded at up (NULL: none recorded). */
static char *main_owner(PGconn *meta)
{
	PGresult *res = NULL;
	char *owner = NULL;

	if (pg_do(&res, meta, "owner", "SELECT value FROM settings WHERE key = 'main_owner'", 0, NULL) == 0 &&
	    PQntuples(res) == 1)
		owner = envup__strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return owner;
}

/* A clone of the template, owned as the main database is. */
static int clone_template(PGconn *meta, const char *name, const char *from)
{
	char *owner = main_owner(meta);
	int error = clone_as(meta, name, from, owner);
	envup__free(owner);
	return error;
}

/* "main_k3x9..." within PostgreSQL's 63 bytes. */
static char *pool_name(const char *main_db)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[10];
	char tail[11];
	size_t i, keep = strlen(main_db);

	if (envup_random_bytes(r, sizeof(r)) < 0)
		return NULL;
	for (i = 0; i < sizeof(r); i++)
		tail[i] = alnum[r[i] % 36];
	tail[sizeof(r)] = '\0';
	if (keep > 63 - 1 - sizeof(r))
		keep = 63 - 1 - sizeof(r);
	/* never cut a UTF-8 sequence */
	while (keep > 0 && ((unsigned char)main_db[keep] & 0xC0) == 0x80)
		keep--;
	return envup__sprintf("%.*s_%s", (int)keep, main_db, tail);
}

/* ---- connecting ------------------------------------------------------------ */

static int connect_to(PGconn **out, const envup_pg_where *w, const char *db, long timeout_ms)
{
	char *why = NULL;
	int r;

	r = envup_health__pg_connect(out, &why, w->host, w->port, w->user, w->password, db,
		envup_now() + (double)(timeout_ms > 0 ? timeout_ms : 10000) / 1000.0);
	if (r > 0)
		r = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_PG, "cannot connect to database %s: %s", db, why);
	envup__free(why);
	return r;
}

int envup_pgpool_connect(PGconn **out, const envup_pg_where *w, long timeout_ms)
{
	ENVUP_ASSERT_ARG(out && w);
	return connect_to(out, w, ENVUP_PG_META, timeout_ms);
}

/* ---- at up ------------------------------------------------------------------ */

int envup_pgpool_prepare(const envup_pg_where *w, int pool_size, long timeout_ms)
{
	PGconn *admin = NULL, *meta = NULL;
	PGresult *res = NULL;
	char size[16], *owner = NULL, *initial = NULL, *digest = NULL;
	const char *params[1];
	/* the maintenance database: any but the main one */
	const char *maint = strcmp(w->database, "postgres") == 0 ? "template1" : "postgres";
	int error;

	ENVUP_ASSERT_ARG(w && w->database);
	if (strcmp(w->database, ENVUP_PG_TEMPLATE) == 0 || strcmp(w->database, ENVUP_PG_META) == 0)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"the database may not be named %s: envup uses that name", w->database);
	if ((error = connect_to(&admin, w, maint, timeout_ms)) < 0)
		goto done;
	/* a copy needs the main database to itself: the server would wait 5 s
	 * for the others and then refuse */
	{
		const char *p1[1] = {w->database};
		if ((error = pg_do(&res, admin, "cannot look at the connections",
		    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
		    1, p1)) < 0)
			goto done;
		if (strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
			error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_PG,
				"%s other connection(s) to database %s (a service that does not wait for it?)",
				PQgetvalue(res, 0, 0), w->database);
			goto done;
		}
		PQclear(res);
		res = NULL;
	}
	/* what `up` left, for clones (the owner) and for snapshots (the
	 * databases and the cluster's roles, checked again when one is taken) */
	{
		const char *p1[1] = {w->database};
		if ((error = pg_do(&res, admin, "cannot read the main database",
		    "SELECT pg_get_userbyid(datdba), (SELECT string_agg(quote_literal(datname), ',' ORDER BY datname)"
		    " FROM pg_database WHERE datname NOT IN ('" ENVUP_PG_TEMPLATE "', '" ENVUP_PG_META "')), ("
		    ENVUP_PG_CLUSTER_DIGEST ") FROM pg_database WHERE datname = $1", 1, p1)) < 0)
			goto done;
		if (PQntuples(res) != 1) {
			error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_PG, "database %s does not exist", w->database);
			goto done;
		}
		if ((owner = envup__strdup(PQgetvalue(res, 0, 0))) == NULL ||
		    (initial = envup__strdup(PQgetvalue(res, 0, 1))) == NULL ||
		    (digest = envup__strdup(PQgetvalue(res, 0, 2))) == NULL) {
			error = ENVUP_ERROR;
			goto done;
		}
		PQclear(res);
		res = NULL;
	}
	if ((error = pg_do(&res, admin, "cannot list databases",
	    "SELECT datname FROM pg_database WHERE datname IN ('" ENVUP_PG_TEMPLATE "', '" ENVUP_PG_META "')",
	    0, NULL)) < 0)
		goto done;
	if (PQntuples(res) == 0) {
		if ((error = clone_as(admin, ENVUP_PG_TEMPLATE, w->database, owner)) < 0 ||
		    (error = pg_do(NULL, admin, "cannot seal the template",
		    "ALTER DATABASE " ENVUP_PG_TEMPLATE " WITH IS_TEMPLATE true ALLOW_CONNECTIONS false",
		    0, NULL)) < 0 ||
		    (error = pg_do(NULL, admin, "cannot make the pool's database",
		    "CREATE DATABASE " ENVUP_PG_META " TEMPLATE template0", 0, NULL)) < 0)
			goto done;
	}
	if ((error = connect_to(&meta, w, ENVUP_PG_META, timeout_ms)) < 0)
		goto done;
	snprintf(size, sizeof(size), "%d", pool_size);
	params[0] = size;
	if ((error = pg_do(NULL, meta, "cannot make the pool's table",
	    "CREATE TABLE IF NOT EXISTS pool ("
	    " datname text PRIMARY KEY,"
	    " state text NOT NULL CHECK (state IN ('making', 'ready', 'held')),"
	    " holder text,"
	    " made timestamptz NOT NULL DEFAULT clock_timestamp(),"
	    " claimed timestamptz)", 0, NULL)) < 0 ||
	    (error = pg_do(NULL, meta, "cannot make the pool's table",
	    "CREATE TABLE IF NOT EXISTS settings (key text PRIMARY KEY, value text NOT NULL)",
	    0, NULL)) < 0 ||
	    (error = pg_do(NULL, meta, "cannot set the pool's size",
	    "INSERT INTO settings VALUES ('pool_size', $1) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", 1, params)) < 0)
		goto done;
	{
		const char *kv[2][2] = {{"main_owner", owner}, {"initial_dbs", initial}};
		const char *dg[2] = {"cluster_digest", digest};
		size_t i;
		for (i = 0; i < 2 && error == 0; i++)
			error = pg_do(NULL, meta, "cannot record the main database",
				"INSERT INTO settings VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
				2, kv[i]);
		/* recorded once: a second prepare (a restore) keeps the first */
		if (error == 0)
			error = pg_do(NULL, meta, "cannot record the roles",
				"INSERT INTO settings VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", 2, dg);
	}
done:
	PQclear(res);
	PQfinish(admin);
	PQfinish(meta);
	envup__free(owner);
	envup__free(initial);
	envup__free(digest);
	return error;
}

int envup_pgpool_check_restored(const envup_pg_where *w, const char *key, int pool_size, long timeout_ms)
{
	PGconn *meta = NULL;
	PGresult *res = NULL;
	char size[16];
	const char *params[1];
	int error;

	if ((error = connect_to(&meta, w, ENVUP_PG_META, timeout_ms)) < 0)
		goto done;
	if ((error = pg_do(&res, meta, "cannot read the snapshot's key",
	    "SELECT value FROM settings WHERE key = 'snapshot_key'", 0, NULL)) < 0)
		goto done;
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), key) != 0) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_PG, "the server holds snapshot %.12s, not %.12s",
			PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "(none)", key);
		goto done;
	}
	snprintf(size, sizeof(size), "%d", pool_size);
	params[0] = size;
	error = pg_do(NULL, meta, "cannot set the pool's size",
		"UPDATE settings SET value = $1 WHERE key = 'pool_size'", 1, params);
done:
	PQclear(res);
	PQfinish(meta);
	return error;
}

/* ---- handing out ------------------------------------------------------------- */

int envup_pgpool_claim(char **name, bool *from_pool, PGconn *meta, const char *main_db,
	const char *holder)
{
	PGresult *res = NULL;
	const char *params[2];
	char *made = NULL;
	int error;

	ENVUP_ASSERT_ARG(name && meta && main_db);
	*name = NULL;
	if (from_pool)
		*from_pool = false;
	params[0] = holder ? holder : "";
	/* one statement: the oldest ready database becomes ours, and the
	 * filler hears that the pool shrank */
	if ((error = pg_do(&res, meta, "cannot take a database from the pool",
	    "WITH c AS (UPDATE pool SET state = 'held', holder = $1, claimed = clock_timestamp()"
	    " WHERE datname = (SELECT datname FROM pool WHERE state = 'ready'"
	    " ORDER BY made LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING datname)"
	    " SELECT datname, pg_notify('envup_pool', '') FROM c", 1, params)) < 0)
		goto done;
	if (PQntuples(res) == 1) {
		*name = envup__strdup(PQgetvalue(res, 0, 0));
		if (from_pool)
			*from_pool = true;
		error = *name ? 0 : ENVUP_ERROR;
		goto done;
	}
	/* the pool is empty: make one now, ours from the start */
	PQclear(res);
	res = NULL;
	if ((made = pool_name(main_db)) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	params[0] = made;
	params[1] = holder ? holder : "";
	if ((error = pg_do(NULL, meta, "cannot record a database",
	    "INSERT INTO pool (datname, state, holder, claimed) VALUES ($1, 'held', $2, clock_timestamp())",
	    2, params)) < 0)
		goto done;
	if ((error = clone_template(meta, made, ENVUP_PG_TEMPLATE)) < 0) {
		pg_do(NULL, meta, "forget", "DELETE FROM pool WHERE datname = $1", 1, params);
		goto done;
	}
	pg_do(NULL, meta, "notify", "SELECT pg_notify('envup_pool', '')", 0, NULL);
	*name = made;
	made = NULL;
done:
	PQclear(res);
	envup__free(made);
	return error;
}

int envup_pgpool_drop(PGconn *meta, const char *name)
{
	PGresult *res = NULL;
	const char *params[1] = {name};
	int error;

	ENVUP_ASSERT_ARG(meta && name);
	if ((error = pg_do(&res, meta, "cannot look the database up",
	    "SELECT 1 FROM pool WHERE datname = $1 AND state = 'held'", 1, params)) < 0)
		goto done;
	if (PQntuples(res) != 1) {
		error = envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_PG,
			"database %s was not handed out by envup db new (or was dropped already)", name);
		goto done;
	}
	if ((error = pg_drop_db(meta, "cannot drop the database", name)) < 0)
		goto done;
	error = pg_do(NULL, meta, "cannot forget the database", "DELETE FROM pool WHERE datname = $1", 1, params);
done:
	PQclear(res);
	return error;
}

/* ALTER DATABASE from RENAME TO to */
static int pg_rename_db(PGconn *conn, const char *from, const char *to)
{
	char *qf = PQescapeIdentifier(conn, from, strlen(from)), *qt = PQescapeIdentifier(conn, to, strlen(to));
	char *sql = NULL;
	int error = ENVUP_ERROR;

	if (!qf || !qt)
		error = pg_failed(conn, NULL, "cannot rename a database");
	else if ((sql = envup__sprintf("ALTER DATABASE %s RENAME TO %s", qf, qt)) != NULL)
		error = pg_do(NULL, conn, "cannot put the new main database in place", sql, 0, NULL);
	PQfreemem(qf);
	PQfreemem(qt);
	envup__free(sql);
	return error;
}

int envup_pgpool_reset_main(PGconn *meta, const char *main_db)
{
	char *fresh;
	int error;

	ENVUP_ASSERT_ARG(meta && main_db);
	/* the copy first: when the server refuses it, the main database is
	 * left as it was, not gone */
	if ((fresh = pool_name(main_db)) == NULL)
		return ENVUP_ERROR;
	if ((error = clone_template(meta, fresh, ENVUP_PG_TEMPLATE)) < 0)
		goto done;
	if ((error = pg_drop_db(meta, "cannot drop the main database", main_db)) < 0 ||
	    (error = pg_rename_db(meta, fresh, main_db)) < 0)
		pg_drop_db(meta, "cleanup", fresh);
done:
	envup__free(fresh);
	return error;
}

/* ---- the filler ----------------------------------------------------------------- */

/* Drop what a filler that died left half made. */
static int fill_sweep(PGconn *meta)
{
	PGresult *res = NULL;
	int i, error;

	if ((error = pg_do(&res, meta, "sweep", "SELECT datname FROM pool WHERE state = 'making'", 0, NULL)) < 0)
		return error;
	for (i = 0; i < PQntuples(res) && error == 0; i++) {
		const char *params[1] = {PQgetvalue(res, i, 0)};
		if ((error = pg_drop_db(meta, "sweep", params[0])) == 0)
			error = pg_do(NULL, meta, "sweep", "DELETE FROM pool WHERE datname = $1", 1, params);
	}
	PQclear(res);
	return error;
}

/* How many are missing: the size set at up, less those ready. */
static int fill_missing(int *missing, PGconn *meta)
{
	PGresult *res = NULL;
	int error;

	if ((error = pg_do(&res, meta, "pool",
	    "SELECT (SELECT value::int FROM settings WHERE key = 'pool_size')"
	    " - (SELECT count(*) FROM pool WHERE state = 'ready')", 0, NULL)) < 0)
		return error;
	*missing = 0;
	if (!PQgetisnull(res, 0, 0))
		envup_parse_int(missing, PQgetvalue(res, 0, 0), -1000000, ENVUP_PG_POOL_MAX);
	PQclear(res);
	return 0;
}

static int fill_one(PGconn *meta, const char *main_db)
{
	char *name = pool_name(main_db);
	const char *params[1] = {name};
	int error;

	ENVUP_ERROR_CHECK_ALLOC(name);
	if ((error = pg_do(NULL, meta, "pool", "INSERT INTO pool (datname, state) VALUES ($1, 'making')",
	    1, params)) == 0) {
		if ((error = clone_template(meta, name, ENVUP_PG_TEMPLATE)) == 0)
			error = pg_do(NULL, meta, "pool", "UPDATE pool SET state = 'ready', made = clock_timestamp()"
				" WHERE datname = $1", 1, params);
		else
			pg_do(NULL, meta, "pool", "DELETE FROM pool WHERE datname = $1", 1, params);
	}
	envup__free(name);
	return error;
}

/* Wait for a notification (or the periodic recheck); <0 when the
 * connection is gone. */
static int fill_wait(PGconn *meta)
{
	struct pollfd p;
	PGnotify *n;
	int r;

	/* what arrived while we were cloning is already read into libpq's
	 * buffer, where poll() cannot see it: look there first */
	if (!PQconsumeInput(meta) || PQstatus(meta) != CONNECTION_OK)
		return ENVUP_ERROR;
	if ((n = PQnotifies(meta)) != NULL) {
		do
			PQfreemem(n);
		while ((n = PQnotifies(meta)) != NULL);
		return 0;
	}
	p.fd = PQsocket(meta);
	p.events = POLLIN;
	p.revents = 0;
	if (p.fd < 0)
		return ENVUP_ERROR;
	r = poll(&p, 1, FILL_RECHECK_MS);
	if (r < 0 && errno != EINTR)
		return ENVUP_ERROR;
	if (!PQconsumeInput(meta) || PQstatus(meta) != CONNECTION_OK)
		return ENVUP_ERROR;
	while ((n = PQnotifies(meta)) != NULL)
		PQfreemem(n);
	return 0;
}

int envup_pgpool_fill(const envup_pg_where *w)
{
	PGconn *meta = NULL;
	PGresult *res = NULL;
	int missing, error, failures = 0;

	ENVUP_ASSERT_ARG(w && w->database);
	if ((error = envup_pgpool_connect(&meta, w, 10000)) < 0)
		return error;
	if ((error = pg_do(&res, meta, "lock", "SELECT pg_try_advisory_lock(" FILL_LOCK ")", 0, NULL)) < 0)
		goto done;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		goto done;  /* another filler keeps this pool */
	if ((error = fill_sweep(meta)) < 0 ||
	    (error = pg_do(NULL, meta, "listen", "LISTEN envup_pool", 0, NULL)) < 0)
		goto done;
	for (;;) {
		if ((error = fill_missing(&missing, meta)) < 0)
			break;
		while (missing-- > 0) {
			if (fill_one(meta, w->database) < 0) {
				/* the server refuses more (disk full, too many): wait for
				 * a drop or the next recheck, give up after a few */
				if (PQstatus(meta) != CONNECTION_OK || ++failures > 5)
					goto done;
				break;
			}
			failures = 0;
		}
		if (fill_wait(meta) < 0)
			break;
	}
	error = 0;  /* the server went away: so does the pool */
done:
	PQclear(res);
	PQfinish(meta);
	return error;
}

/* One line of stdin, without its newline (malloc'd), or NULL at the end. */
static char *read_line(FILE *f)
{
	char buf[1024];
	size_t n;

	if (!fgets(buf, sizeof(buf), f))
		return NULL;
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return envup__strdup(buf);
}

int envup_pgpool__fill_main(void)
{
	char *host = read_line(stdin), *port = read_line(stdin), *user = read_line(stdin);
	char *password = read_line(stdin), *db = read_line(stdin);
	envup_pg_where w;
	int rc = 2;

	if (host && port && user && password && db && envup_parse_int(&w.port, port, 1, 65535) == 0) {
		w.host = host;
		w.user = user;
		w.password = *password ? password : NULL;
		w.database = db;
		rc = envup_pgpool_fill(&w) < 0 ? 1 : 0;
	}
	envup__free(host);
	envup__free(port);
	envup__free(user);
	envup__free(password);
	envup__free(db);
	return rc;
}
