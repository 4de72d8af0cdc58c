/*
 * SQL init scripts against a real, throwaway PostgreSQL: files run in
 * order in one connection, and a failure names the file, the line and the
 * server's message. Exits 77 when the server binaries are missing, unless
 * ENVUP_TEST_REQUIRE_SERVERS=1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>

#include "healthcheck/load.h"
#include "tests/unit/test_probe_servers.h"

#define HOST "127.0.0.1"
#define DATA ENVUP_TEST_DATA "/init/"

static servers_pg pg;

static void assert_contains(const char *s, const char *needle)
{
	if (!s || !strstr(s, needle)) {
		print_error("\"%s\" does not contain \"%s\"\n", s ? s : "(null)", needle);
		fail();
	}
}

static int group_setup(void **state)
{
	(void)state;
	servers_pg_start(&pg);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	servers_pg_stop(&pg);
	servers_stop_all();
	return 0;
}

/* A fresh database per test, so the files can be run again. */
static char dbname[64];

static void admin_exec(const char *db, const char *sql)
{
	char port[16];
	const char *keys[] = {"host", "port", "user", "password", "dbname", "sslmode", NULL};
	const char *vals[] = {HOST, port, pg.user, pg.password, db, "disable", NULL};
	PGconn *c;
	PGresult *r;

	snprintf(port, sizeof(port), "%d", pg.port);
	c = PQconnectdbParams(keys, vals, 0);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		print_error("%s: %s\n", sql, PQresultErrorMessage(r));
		fail();
	}
	PQclear(r);
	PQfinish(c);
}

static int test_setup(void **state)
{
	static int n;
	char sql[128];
	(void)state;
	snprintf(dbname, sizeof(dbname), "init_test_%d", ++n);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	admin_exec("postgres", sql);
	return 0;
}

/* The rows of `sql` as "a|b,c|d" (first two columns). */
static char *query_rows(const char *sql)
{
	char port[16];
	const char *keys[] = {"host", "port", "user", "password", "dbname", "sslmode", NULL};
	const char *vals[] = {HOST, port, pg.user, pg.password, dbname, "disable", NULL};
	static char out[1024];
	PGconn *c;
	PGresult *r;
	int i;

	snprintf(port, sizeof(port), "%d", pg.port);
	c = PQconnectdbParams(keys, vals, 0);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, sql);
	out[0] = '\0';
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		for (i = 0; i < PQntuples(r); i++) {
			size_t len = strlen(out);
			snprintf(out + len, sizeof(out) - len, "%s%s|%s", i ? "," : "",
				PQgetvalue(r, i, 0), PQnfields(r) > 1 ? PQgetvalue(r, i, 1) : "");
		}
	} else {
		snprintf(out, sizeof(out), "ERROR %s", PQresultErrorField(r, PG_DIAG_SQLSTATE));
	}
	PQclear(r);
	PQfinish(c);
	return out;
}

static int run_files(const char *const *names, bool with_display)
{
	envup_strlist files = ENVUP_STRLIST_INIT, display = ENVUP_STRLIST_INIT;
	int r;
	size_t i;

	for (i = 0; names[i]; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s%s", DATA, names[i]);
		assert_int_equal(envup_strlist_push(&files, path), 0);
		assert_int_equal(envup_strlist_push(&display, names[i]), 0);
	}
	r = envup_pg_run_files(HOST, pg.port, pg.user, pg.password, dbname, &files,
		with_display ? &display : NULL, 10000);
	envup_strlist_dispose(&files);
	envup_strlist_dispose(&display);
	return r;
}

static void test_init__files_in_order(void **state)
{
	const char *names[] = {"01_schema.sql", "02_data.sql", NULL};
	double t0 = envup_now();
	(void)state;
	assert_int_equal(run_files(names, true), 0);
	fprintf(stderr, "# two init files: %.1f ms\n", SERVERS_MS(t0));
	assert_string_equal(query_rows("SELECT n, file FROM init_order ORDER BY n"),
		"1|01_schema.sql,2|02_data.sql,3|noted: it's; fine");
}

static void test_init__wrong_order_fails(void **state)
{
	const char *names[] = {"02_data.sql", "01_schema.sql", NULL};
	(void)state;
	assert_int_equal(run_files(names, true), ENVUP_ERROR);
	assert_string_equal(envup_error_last()->message,
		"init script 02_data.sql line 2: relation \"init_order\" does not exist");
	assert_int_equal(envup_error_last()->klass, ENVUP_ERROR_PG);
}

static void test_init__syntax_error_line(void **state)
{
	const char *names[] = {"01_schema.sql", "bad_syntax.sql", "03_never.sql", NULL};
	(void)state;
	assert_int_equal(run_files(names, true), ENVUP_ERROR);
	assert_string_equal(envup_error_last()->message,
		"init script bad_syntax.sql line 7: syntax error at or near \"SELEC\"");
	/* the first file ran, the third did not; the bad file's statements up
	 * to the error ran and stay (autocommit, as with psql -f) */
	assert_string_equal(query_rows("SELECT n, file FROM init_order ORDER BY n"),
		"1|01_schema.sql");
	assert_string_equal(query_rows("SELECT id FROM bad_syntax_ok"), "1|");
}

static void test_init__position_counts_characters(void **state)
{
	const char *names[] = {"bad_relation_utf8.sql", NULL};
	char path[PATH_MAX];
	(void)state;
	assert_int_equal(run_files(names, false), ENVUP_ERROR);
	snprintf(path, sizeof(path), "init script %sbad_relation_utf8.sql line 7: "
		"relation \"no_such_table\" does not exist", DATA);
	assert_string_equal(envup_error_last()->message, path);
}

static void test_init__runtime_error_statement_line(void **state)
{
	const char *names[] = {"bad_runtime.sql", NULL};
	(void)state;
	assert_int_equal(run_files(names, true), ENVUP_ERROR);
	assert_string_equal(envup_error_last()->message,
		"init script bad_runtime.sql line 9: duplicate key value violates unique "
		"constraint \"runtime_ok_pkey\" (Key (id)=(1) already exists.)");
}

static void test_init__partial_file_without_transaction(void **state)
{
	const char *names[] = {"01_schema.sql", "bad_runtime.sql", NULL};
	(void)state;
	/* an execution error keeps what ran before it (the file has no BEGIN) */
	assert_int_equal(run_files(names, true), ENVUP_ERROR);
	assert_string_equal(query_rows("SELECT id FROM runtime_ok"), "1|");
}

static void test_init__psql_compatible(void **state)
{
	const char *names[] = {"psql_compat.sql", NULL};
	(void)state;
	assert_int_equal(run_files(names, true), 0);
	assert_string_equal(query_rows("SELECT datname, 'x' FROM pg_database "
		"WHERE datname = 'envup_init_created'"), "envup_init_created|x");
	assert_string_equal(query_rows("SELECT atomic_sum(), 'x'"), "3|x");
	assert_string_equal(query_rows("SELECT id, name FROM copied ORDER BY id"),
		"1|one,2|two; with a semicolon,3|\\. not the end");
	assert_string_equal(query_rows("SELECT id FROM after_copy"), "7|");
	assert_string_equal(query_rows("SELECT v FROM tricky ORDER BY v COLLATE \"C\""),
		" a $$ ; $$ b |,-- not; a comment|,/* not; a comment */|,it's; escaped|");
	admin_exec("postgres", "DROP DATABASE envup_init_created");
}

static void test_init__transaction_file(void **state)
{
	const char *names[] = {"bad_transaction.sql", NULL};
	(void)state;
	assert_int_equal(run_files(names, true), ENVUP_ERROR);
	assert_string_equal(envup_error_last()->message,
		"init script bad_transaction.sql line 5: division by zero");
	/* BEGIN ... failed: nothing of it stays */
	assert_string_equal(query_rows("SELECT count(*) FROM txn_kept"), "0|");
}

static void test_init__meta_command(void **state)
{
	const char *names[] = {"bad_meta.sql", NULL};
	(void)state;
	assert_int_equal(run_files(names, true), ENVUP_ERROR);
	assert_string_equal(envup_error_last()->message,
		"init script bad_meta.sql line 3: psql meta-command \\connect is not supported");
}

static void test_init__bad_copy_data(void **state)
{
	const char *names[] = {"bad_copy.sql", NULL};
	(void)state;
	assert_int_equal(run_files(names, true), ENVUP_ERROR);
	/* the server says "COPY copy_bad, line 2": the second data line, line 4 */
	assert_contains(envup_error_last()->message, "init script bad_copy.sql line 4: "
		"invalid input syntax for type integer");
}

static void test_init__missing_file(void **state)
{
	const char *names[] = {"no_such_file.sql", NULL};
	(void)state;
	assert_int_equal(run_files(names, true), ENVUP_ERROR);
	assert_contains(envup_error_last()->message, "no_such_file.sql: cannot open");
}

static void test_init__cannot_connect(void **state)
{
	envup_strlist files = ENVUP_STRLIST_INIT;
	const char *wrong = "Init-Wrong-Password";
	(void)state;
	assert_int_equal(envup_strlist_push(&files, DATA "01_schema.sql"), 0);
	assert_int_equal(envup_pg_run_files(HOST, pg.port, pg.user, wrong, dbname, &files,
		NULL, 5000), ENVUP_ERROR);
	assert_contains(envup_error_last()->message, "init scripts: cannot connect: ");
	assert_contains(envup_error_last()->message, "password authentication failed");
	assert_null(strstr(envup_error_last()->message, wrong));
	assert_int_equal(envup_pg_run_files(HOST, servers_free_port(), pg.user, pg.password,
		dbname, &files, NULL, 5000), ENVUP_ERROR);
	assert_contains(envup_error_last()->message, "Connection refused");
	envup_strlist_dispose(&files);
}

static void test_init__timeout_cancels(void **state)
{
	envup_strlist files = ENVUP_STRLIST_INIT;
	char path[PATH_MAX];
	FILE *f;
	double t0;
	(void)state;
	snprintf(path, sizeof(path), "%s/slow.sql", pg.root);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("SELECT pg_sleep(30);\n", f);
	fclose(f);
	assert_int_equal(envup_strlist_push(&files, path), 0);
	t0 = envup_now();
	assert_int_equal(envup_pg_run_files(HOST, pg.port, pg.user, pg.password, dbname, &files,
		NULL, 300), ENVUP_ETIMEOUT);
	assert_true(SERVERS_MS(t0) < 2000);
	assert_contains(envup_error_last()->message, "line 1: did not finish within 0.3s");
	envup_strlist_dispose(&files);
	/* cancelled on the server too: nothing is left running */
	envup_sleep_ms(200);
	assert_string_equal(query_rows("SELECT count(*) FROM pg_stat_activity "
		"WHERE query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'"), "0|");
}

static void test_init__no_files(void **state)
{
	envup_strlist files = ENVUP_STRLIST_INIT;
	(void)state;
	/* nothing to do: not even a connection */
	assert_int_equal(envup_pg_run_files(HOST, servers_free_port(), "u", "p", "d", &files,
		NULL, 1000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_init__files_in_order, test_setup),
		cmocka_unit_test_setup(test_init__wrong_order_fails, test_setup),
		cmocka_unit_test_setup(test_init__syntax_error_line, test_setup),
		cmocka_unit_test_setup(test_init__position_counts_characters, test_setup),
		cmocka_unit_test_setup(test_init__runtime_error_statement_line, test_setup),
		cmocka_unit_test_setup(test_init__partial_file_without_transaction, test_setup),
		cmocka_unit_test_setup(test_init__psql_compatible, test_setup),
		cmocka_unit_test_setup(test_init__transaction_file, test_setup),
		cmocka_unit_test_setup(test_init__meta_command, test_setup),
		cmocka_unit_test_setup(test_init__bad_copy_data, test_setup),
		cmocka_unit_test_setup(test_init__missing_file, test_setup),
		cmocka_unit_test_setup(test_init__cannot_connect, test_setup),
		cmocka_unit_test_setup(test_init__timeout_cancels, test_setup),
		cmocka_unit_test_setup(test_init__no_files, test_setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
