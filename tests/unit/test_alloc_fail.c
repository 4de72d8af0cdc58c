/*
 * Allocation-failure injection (issue #3, section 6): a failing allocator
 * (envup_set_allocator) makes allocation number N fail, for N = 0, 1, 2,
 * ... until the operation succeeds, over library paths that need no
 * engine, then over the engine client against a fake engine.
 *
 * For every N the operation must return an error (never crash, never
 * abort, never pretend to succeed with a wrong result), the error must say
 * out of memory (class ENVUP_ERROR_NOMEMORY or "out of memory" in the
 * message), and nothing may leak: the allocator counts live blocks, and
 * the ASan build (scripts/sanitize.sh) checks the rest.
 *
 * Two modes: only the N-th allocation fails ("one"), so recovery code that
 * allocates again is exercised; and the N-th and every later one fail
 * ("all"), as when memory really runs out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <execinfo.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include "compose/spec.h"
#include "compose/cmdline.h"
#include "compose/peek.h"
#include "templates/template.h"
#include "provision/format.h"
#include "provision/stream.h"
#include "provision/state.h"
#include "provision/handle.h"
#include "provision/engine.h"
#include "provision/container.h"
#include "provision/network.h"
#include "provision/image.h"
#include "provision/cleanup.h"
#include "envup/env.h"

#define STREAM ENVUP_TEST_DATA "/stream/"
#define FULL_SPEC ENVUP_TEST_DATA "/spec/good/full/envup.yaml"
#define MAX_STEPS 200000L

/* ---- the failing allocator ------------------------------------------------ */

typedef enum { FAIL_ONE = 0, FAIL_ALL } fail_mode;

static struct {
	long fail_at;       /* index of the allocation to fail; -1: none */
	long seen;          /* allocations since armed */
	fail_mode mode;
	int injected;       /* a failure was injected since armed */
	long live;          /* blocks handed out and not yet freed */
	pthread_t owner;    /* only this thread's allocations are counted/failed */
	int armed;
} A = {-1, 0, FAIL_ONE, 0, 0, 0, 0};

static pthread_mutex_t alloc_lock = PTHREAD_MUTEX_INITIALIZER;

static int should_fail(void)
{
	int fail = 0;

	if (!A.armed || !pthread_equal(pthread_self(), A.owner))
		return 0;
	if (A.seen == A.fail_at || (A.mode == FAIL_ALL && A.fail_at >= 0 && A.seen > A.fail_at))
		fail = 1;
	A.seen++;
	if (fail && !A.injected && getenv("ENVUP_TEST_ALLOC_TRACE")) {
		/* ENVUP_TEST_ALLOC_TRACE=1: where each injected failure hits */
		void *frames[16];
		int n = backtrace(frames, 16);
		fprintf(stderr, "--- failing allocation %ld:\n", A.fail_at);
		backtrace_symbols_fd(frames, n, 2);
	}
	if (fail)
		A.injected = 1;
	return fail;
}

static void *t_malloc(size_t n)
{
	void *p;

	pthread_mutex_lock(&alloc_lock);
	if (should_fail()) {
		pthread_mutex_unlock(&alloc_lock);
		return NULL;
	}
	if ((p = malloc(n)) != NULL)
		A.live++;
	pthread_mutex_unlock(&alloc_lock);
	return p;
}

static void *t_realloc(void *old, size_t n)
{
	void *p;

	pthread_mutex_lock(&alloc_lock);
	if (should_fail()) {
		pthread_mutex_unlock(&alloc_lock);
		return NULL;
	}
	if ((p = realloc(old, n)) != NULL && !old)
		A.live++;
	pthread_mutex_unlock(&alloc_lock);
	return p;
}

static void t_free(void *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&alloc_lock);
	A.live--;
	pthread_mutex_unlock(&alloc_lock);
	free(p);
}

static const envup_allocator failing = {t_malloc, t_realloc, t_free};

static void arm(long n, fail_mode mode)
{
	pthread_mutex_lock(&alloc_lock);
	A.fail_at = n;
	A.seen = 0;
	A.mode = mode;
	A.injected = 0;
	A.owner = pthread_self();
	A.armed = 1;
	pthread_mutex_unlock(&alloc_lock);
}

static void disarm(void)
{
	pthread_mutex_lock(&alloc_lock);
	A.armed = 0;
	A.fail_at = -1;
	pthread_mutex_unlock(&alloc_lock);
}

static long live(void)
{
	long n;
	pthread_mutex_lock(&alloc_lock);
	n = A.live;
	pthread_mutex_unlock(&alloc_lock);
	return n;
}

/* ---- the driver ------------------------------------------------------------ */

/*
 * One run of an operation. Returns 0 when it produced its normal outcome
 * (checked by the operation itself), < 0 when it failed; on failure the
 * thread's error says why. The operation frees whatever it produced, so
 * the live count is the same before and after.
 */
typedef int (*op_fn)(void *ctx);

/* An operation may survive a failed allocation (a best-effort cache, a
 * fallback). Without this flag, surviving an injected failure is a bug:
 * the failure was swallowed. */
#define OP_MAY_SURVIVE 1

/* Blocks an operation leaves behind on purpose (set by the operation:
 * a secret stays registered), discounted from the leak check. */
static long retained;

static bool is_oom_error(void)
{
	const envup_error *e = envup_error_last();
	return e->klass == ENVUP_ERROR_NOMEMORY || strstr(e->message, "out of memory") != NULL;
}

static long drive_mode(const char *what, op_fn op, void *ctx, int flags, fail_mode mode)
{
	long n;

	for (n = 0; n < MAX_STEPS; n++) {
		long before = live(), after;
		int rc, injected;

		envup_error_clear();
		retained = 0;
		arm(n, mode);
		rc = op(ctx);
		injected = A.injected;
		disarm();
		after = live() - retained;
		if (after != before)
			fail_msg("%s (%s): allocation %ld failing: %ld block(s) leaked (rc %d: %s)",
				what, mode == FAIL_ONE ? "one" : "all", n, after - before, rc,
				envup_error_last()->message);
		if (!injected) {
			if (rc < 0)
				fail_msg("%s: fails without any injected failure (%d): %s", what, rc,
					envup_error_last()->message);
			return n;
		}
		if (rc >= 0) {
			if (!(flags & OP_MAY_SURVIVE))
				fail_msg("%s (%s): allocation %ld failed but the operation succeeded",
					what, mode == FAIL_ONE ? "one" : "all", n);
			continue;
		}
		if (!is_oom_error())
			fail_msg("%s (%s): allocation %ld failing gave %d with a wrong error "
				"(class %d): %s", what, mode == FAIL_ONE ? "one" : "all", n, rc,
				envup_error_last()->klass, envup_error_last()->message);
	}
	fail_msg("%s: still failing after %ld steps", what, n);
	return n;
}

/* Both modes; returns the number of allocations the operation makes. */
static long drive(const char *what, op_fn op, void *ctx, int flags)
{
	long n1 = drive_mode(what, op, ctx, flags, FAIL_ONE);
	long n2 = drive_mode(what, op, ctx, flags, FAIL_ALL);

	if (getenv("ENVUP_TEST_VERBOSE"))
		fprintf(stderr, "%s: %ld allocations\n", what, n1);
	if (!(flags & OP_MAY_SURVIVE))
		assert_int_equal(n1, n2);
	return n1;
}

/* ---- spec ---------------------------------------------------------------- */

static const char *spec_getenv(const char *name, void *payload)
{
	(void)payload;
	(void)name;
	return NULL;
}

static int op_spec_load(void *ctx)
{
	envup_spec *spec = (envup_spec *)&spec;
	int rc;

	(void)ctx;
	rc = envup_spec_load(&spec, FULL_SPEC, spec_getenv, NULL);
	if (rc < 0) {
		assert_null(spec);
		return rc;
	}
	assert_non_null(spec);
	assert_int_equal(spec->nservices, 4);
	assert_string_equal(spec->name, "isx-test");
	envup_spec_free(spec);
	return 0;
}

static void test_alloc__spec_load(void **state)
{
	(void)state;
	assert_true(drive("envup_spec_load(full)", op_spec_load, NULL, 0) > 100);
}

static int op_spec_peek(void *ctx)
{
	char *name = NULL, *dir = NULL;
	int rc;

	(void)ctx;
	rc = envup_spec_peek_name(&name, &dir, FULL_SPEC);
	if (rc == 0) {
		assert_string_equal(name, "isx-test");
		assert_non_null(dir);
	}
	envup__free(name);
	envup__free(dir);
	return rc;
}

static void test_alloc__spec_peek(void **state)
{
	(void)state;
	drive("envup_spec_peek_name", op_spec_peek, NULL, 0);
}

/* ---- interpolation ---------------------------------------------------------- */

static const char *interp_getenv(const char *name, void *payload)
{
	(void)payload;
	if (strcmp(name, "HOST") == 0)
		return "db.example";
	if (strcmp(name, "EMPTY") == 0)
		return "";
	return NULL;
}

static int op_interp(void *ctx)
{
	char *out = NULL, *why = NULL;
	int rc;

	(void)ctx;
	rc = envup_interp(&out, &why,
		"postgres://${USER:-app}:${PASS-se$$cret}@${HOST}:${PORT:-${ALT:-5432}}/"
		"${EMPTY:+never}${HOST:+db} $$HOME {{password}} ${HOST?unused}",
		interp_getenv, NULL);
	if (rc == 0) {
		assert_string_equal(out, "postgres://app:se$cret@db.example:5432/db $HOME "
			"{{password}} db.example");
		assert_null(why);
	} else {
		assert_null(out);
		assert_null(why);
	}
	envup__free(out);
	return rc;
}

/* The natural outcome is an error: ${VAR:?message} with VAR unset. */
static int op_interp_required(void *ctx)
{
	char *out = NULL, *why = NULL;
	int rc;

	(void)ctx;
	rc = envup_interp(&out, &why, "x${TOKEN:?set ${HOST} first}y", interp_getenv, NULL);
	assert_null(out);
	if (rc == ENVUP_ESPEC) {
		assert_non_null(why);
		assert_string_equal(why, "TOKEN: set db.example first");
		assert_string_equal(envup_error_last()->message, "TOKEN: set db.example first");
		envup__free(why);
		return 0;
	}
	assert_null(why);
	return rc < 0 ? rc : ENVUP_ERROR;
}

static void test_alloc__interp(void **state)
{
	(void)state;
	drive("envup_interp", op_interp, NULL, 0);
	drive("envup_interp(${X:?msg})", op_interp_required, NULL, 0);
}

static int op_cmdline(void *ctx)
{
	envup_strlist words = ENVUP_STRLIST_INIT;
	const char *why = NULL;
	int rc;

	(void)ctx;
	rc = envup_cmdline__split(&words, &why, "redis-server --requirepass 'a b' \"c\\\"d\" e\\ f");
	if (rc == 0) {
		assert_int_equal(words.n, 5);
		assert_string_equal(words.v[2], "a b");
		assert_string_equal(words.v[3], "c\"d");
		assert_string_equal(words.v[4], "e f");
	}
	envup_strlist_dispose(&words);
	return rc;
}

static void test_alloc__cmdline(void **state)
{
	(void)state;
	drive("envup_cmdline__split", op_cmdline, NULL, 0);
}

/* ---- placeholders and exports ---------------------------------------------- */

static envup_kvlist vars = ENVUP_KVLIST_INIT;

static int op_placeholder(void *ctx)
{
	char *out = NULL;
	int rc;

	(void)ctx;
	rc = envup_placeholder_expand(&out,
		"postgres://{{user}}:{{ password }}@{{host}}:{{port}}/{{database}}?sslmode=disable",
		&vars, true);
	if (rc == 0)
		assert_string_equal(out,
			"postgres://app:p%40ss%3Aw%2Frd%20%C3%A9@127.0.0.1:49153/db?sslmode=disable");
	else
		assert_null(out);
	envup__free(out);
	return rc;
}

static int op_placeholder_unknown(void *ctx)
{
	char *out = NULL;
	int rc;

	(void)ctx;
	rc = envup_placeholder_expand(&out, "{{user}} and {{nope}}", &vars, false);
	assert_null(out);
	if (rc == ENVUP_ESPEC) {
		assert_string_equal(envup_error_last()->message, "unknown placeholder {{nope}}");
		return 0;
	}
	return rc < 0 ? rc : ENVUP_ERROR;
}

static int op_placeholder_check(void *ctx)
{
	static const char *const allowed[] = {"user", "password", NULL};
	char *bad = NULL;
	int rc;

	(void)ctx;
	rc = envup_placeholder_check(&bad, "{{user}}:{{password}}@{{host}}", allowed);
	if (rc == ENVUP_ESPEC) {
		assert_string_equal(bad, "host");
		envup__free(bad);
		return 0;
	}
	assert_null(bad);
	return rc < 0 ? rc : ENVUP_ERROR;
}

static int op_exports(void *ctx)
{
	envup_buf out = ENVUP_BUF_INIT;
	int format = *(int *)ctx, rc;

	out.max = 0;
	rc = envup_exports_format(&out, &vars, format);
	if (rc == 0) {
		assert_non_null(strstr(envup_buf_cstr(&out), "127.0.0.1"));
		if (format == ENVUP_FORMAT_SHELL)
			assert_non_null(strstr(out.ptr, "export password='p@ss:w/rd \xc3\xa9'\n"));
		if (format == ENVUP_FORMAT_JSON)
			assert_non_null(strstr(out.ptr, "\"password\":\"p@ss:w/rd \xc3\xa9\""));
	} else {
		/* `out` is untouched when anything fails */
		assert_int_equal(out.size, 0);
	}
	envup_buf_dispose(&out);
	return rc;
}

static void test_alloc__placeholders_and_exports(void **state)
{
	int shell = ENVUP_FORMAT_SHELL, dotenv = ENVUP_FORMAT_DOTENV, json = ENVUP_FORMAT_JSON;

	(void)state;
	drive("envup_placeholder_expand", op_placeholder, NULL, 0);
	drive("envup_placeholder_expand(unknown)", op_placeholder_unknown, NULL, 0);
	drive("envup_placeholder_check", op_placeholder_check, NULL, 0);
	drive("envup_exports_format(shell)", op_exports, &shell, 0);
	drive("envup_exports_format(dotenv)", op_exports, &dotenv, 0);
	drive("envup_exports_format(json)", op_exports, &json, 0);
}

/* ---- engine streams ---------------------------------------------------------- */

typedef struct {
	envup_buf data;   /* the recorded stream (read with the allocator disarmed) */
	size_t chunk;     /* feed in pieces of this size */
	size_t statuses;
} stream_ctx;

static void load(envup_buf *out, const char *name)
{
	char path[512];
	disarm();
	snprintf(path, sizeof(path), STREAM "%s", name);
	assert_int_equal(envup_read_file(out, path, 0), 0);
}

static void count_status(const char *status, const char *id, long long current,
	long long total, void *payload)
{
	(void)status;
	(void)id;
	(void)current;
	(void)total;
	((stream_ctx *)payload)->statuses++;
}

static int pull_run(stream_ctx *c)
{
	envup_pullstream ps = ENVUP_PULLSTREAM_INIT;
	size_t at = 0;
	int rc = 0;

	c->statuses = 0;
	while (at < c->data.size && rc == 0) {
		size_t n = c->data.size - at < c->chunk ? c->data.size - at : c->chunk;
		rc = envup_pullstream_feed(&ps, c->data.ptr + at, n, count_status, c);
		at += n;
	}
	if (rc == 0)
		rc = envup_pullstream_finish(&ps, count_status, c);
	if (rc == 0) {
		assert_int_equal(ps.layers_done, ps.layers_seen);
		assert_non_null(ps.last_status);
		assert_non_null(strstr(ps.last_status, "Status:"));
	}
	envup_pullstream_dispose(&ps);
	return rc;
}

static int op_pull_ok(void *ctx)
{
	return pull_run(ctx);
}

static int op_pull_error(void *ctx)
{
	int rc = pull_run(ctx);

	if (rc < 0 && strcmp(envup_error_last()->message,
	    "pull: received unexpected HTTP status: 500 Internal Server Error") == 0)
		return 0;
	return rc < 0 ? rc : ENVUP_ERROR;
}

static void test_alloc__pull_stream(void **state)
{
	static const size_t chunks[] = {1, 7, 64, 100000};
	stream_ctx c;
	size_t i;

	(void)state;
	for (i = 0; i < ENVUP_ARRAY_SIZE(chunks); i++) {
		memset(&c, 0, sizeof(c));
		c.chunk = chunks[i];
		load(&c.data, "pull_redis_ok.jsonl");
		drive("pullstream(pull_redis_ok)", op_pull_ok, &c, 0);
		envup_buf_dispose(&c.data);

		memset(&c, 0, sizeof(c));
		c.chunk = chunks[i];
		load(&c.data, "pull_redis_uptodate.jsonl");
		drive("pullstream(pull_redis_uptodate)", op_pull_ok, &c, 0);
		envup_buf_dispose(&c.data);

		memset(&c, 0, sizeof(c));
		c.chunk = chunks[i];
		load(&c.data, "pull_error_midstream.jsonl");
		drive("pullstream(pull_error_midstream)", op_pull_error, &c, 0);
		envup_buf_dispose(&c.data);
	}
}

/* The demuxer allocates nothing itself; what a caller does with the frames
 * (container.c collects them in a buffer) must stop the feed cleanly. */
static int demux_collect(int stream, const char *data, size_t len, void *payload)
{
	envup_buf *out = payload;
	(void)stream;
	return envup_buf_put(out, data, len);
}

static int op_demux(void *ctx)
{
	stream_ctx *c = ctx;
	envup_demux d = ENVUP_DEMUX_INIT;
	envup_buf out = ENVUP_BUF_INIT;
	size_t at = 0;
	int rc = 0;

	while (at < c->data.size && rc == 0) {
		size_t n = c->data.size - at < c->chunk ? c->data.size - at : c->chunk;
		rc = envup_demux_feed(&d, c->data.ptr + at, n, demux_collect, &out);
		at += n;
	}
	if (rc == 0)
		rc = envup_demux_finish(&d);
	if (rc == 0)
		assert_non_null(strstr(envup_buf_cstr(&out), "Ready to accept connections"));
	envup_buf_dispose(&out);
	return rc;
}

static void test_alloc__demux(void **state)
{
	stream_ctx c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.chunk = 5;
	load(&c.data, "logs_redis.bin");
	drive("demux(logs_redis)", op_demux, &c, 0);
	envup_buf_dispose(&c.data);
}

/* ---- secrets ------------------------------------------------------------------ */

static int secret_counter;

static int op_secret_add(void *ctx)
{
	char secret[64], text[160];
	char *masked;
	int rc;

	(void)ctx;
	/* a new secret each time: a registered one costs no allocation */
	snprintf(secret, sizeof(secret), "s3cr3t-add-%d-%d", (int)getpid(), ++secret_counter);
	rc = envup_secret_add(secret);
	if (rc < 0)
		return rc;
	retained = 1; /* the registry's copy */
	/* registered: from now on it is masked (this stays in the registry) */
	snprintf(text, sizeof(text), "password %s rejected", secret);
	masked = envup_secret_mask(text);
	if (!masked)
		return ENVUP_ERROR;
	assert_string_equal(masked, "password *** rejected");
	envup__free(masked);
	return 0;
}

static const char *const fixed_secret = "hunter2-fixed-Zq8Xw";

static int op_secret_mask(void *ctx)
{
	char *masked;

	(void)ctx;
	masked = envup_secret_mask("FATAL: password authentication failed: hunter2-fixed-Zq8Xw "
		"(hunter2-fixed-Zq8Xw)");
	if (!masked)
		return ENVUP_ERROR;
	assert_string_equal(masked, "FATAL: password authentication failed: *** (***)");
	envup__free(masked);
	return 0;
}

/* An error message is masked even when memory runs out while masking. */
static int op_error_masked(void *ctx)
{
	(void)ctx;
	envup_error_set(ENVUP_ERROR, ENVUP_ERROR_PG, "server said: password %s is wrong", fixed_secret);
	if (strstr(envup_error_last()->message, fixed_secret))
		fail_msg("the secret leaked into the error: %s", envup_error_last()->message);
	/* the message is either the masked one or "out of memory" */
	if (strcmp(envup_error_last()->message, "server said: password *** is wrong") == 0)
		return 0;
	return ENVUP_ERROR;
}

static void test_alloc__secrets(void **state)
{
	long before;

	(void)state;
	before = live();
	drive("envup_secret_add", op_secret_add, NULL, 0);
	/* exactly the secrets that were added successfully stay registered */
	assert_true(live() > before);
	assert_int_equal(envup_secret_add(fixed_secret), 0);
	drive("envup_secret_mask", op_secret_mask, NULL, 0);
	drive("envup_error_set(ENVUP_ERROR, masked)", op_error_masked, NULL, OP_MAY_SURVIVE);
}

/* ---- state file ---------------------------------------------------------------- */

static char state_dir[256];

static int count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name), sl = strlen(suffix);
		if (de->d_name[0] != '.' && len >= sl && strcmp(de->d_name + len - sl, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* A handle as up makes it: exports, a secret, an owner. */
static envup_env *state_env(void)
{
	envup_env *env = NULL;
	assert_int_equal(envup_env__new(&env, "oom-env", &vars), 0);
	assert_int_equal(envup_strlist_push(&env->secrets, "p@ss:w/rd \xc3\xa9"), 0);
	assert_non_null(env->owner = envup__strdup("session 4711 (bash)"));
	env->expires = 1900000000;
	return env;
}

static int op_state_save(void *ctx)
{
	envup_env *env = ctx;
	int rc;

	rc = envup_state_save("oom-env", "unix:///var/run/docker.sock", env);
	/* never a temp file left behind */
	assert_int_equal(count_files(state_dir, ".tmp"), 0);
	if (rc == 0) {
		struct stat st;
		char path[512];
		snprintf(path, sizeof(path), "%s/oom-env.json", state_dir);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(unlink(path), 0);
	}
	return rc;
}

static int op_state_load(void *ctx)
{
	envup_env *got = NULL;
	char *engine = NULL;
	int rc;

	(void)ctx;
	rc = envup_state_load(&got, &engine, "oom-env");
	if (rc == 0) {
		size_t i;
		assert_string_equal(engine, "unix:///var/run/docker.sock");
		assert_int_equal(got->exports.n, vars.n);
		for (i = 0; i < vars.n; i++)
			assert_string_equal(envup_kvlist_get(&got->exports, vars.v[i].key), vars.v[i].value);
		assert_int_equal(got->secrets.n, 1);
		assert_string_equal(got->owner, "session 4711 (bash)");
		assert_int_equal(got->expires, 1900000000);
	} else {
		assert_null(engine);
		assert_null(got);
	}
	envup_env_free(got);
	envup__free(engine);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void test_alloc__state(void **state)
{
	envup_env *env;

	(void)state;
	snprintf(state_dir, sizeof(state_dir), "/tmp/envup-oom-state-XXXXXX");
	assert_non_null(mkdtemp(state_dir));
	setenv("ENVUP_STATE_DIR", state_dir, 1);
	env = state_env();
	drive("envup_state_save", op_state_save, env, 0);
	assert_int_equal(envup_state_save("oom-env", "unix:///var/run/docker.sock", env), 0);
	drive("envup_state_load", op_state_load, NULL, 0);
	envup_env_free(env);
	assert_int_equal(envup_state_remove("oom-env"), 0);
	unsetenv("ENVUP_STATE_DIR");
	nftw(state_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- the engine client, against a fake engine ------------------------------------ */

static struct {
	char path[108];
	int lfd;
	int stop;
	pthread_t thread;
} FE;

static void fe_send(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return;
		}
		s += n;
		len -= (size_t)n;
	}
}

static void fe_reply_len(int fd, int status, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
		"HTTP/1.1 %d X\r\nApi-Version: 1.44\r\nContent-Type: application/json\r\n"
		"Content-Length: %zu\r\n\r\n", status, len);
	fe_send(fd, head, (size_t)n);
	fe_send(fd, body, len);
}

static void fe_reply(int fd, int status, const char *body)
{
	fe_reply_len(fd, status, body, strlen(body));
}

static int fe_pulled; /* the fake image exists once pulled */

static const char fe_inspect[] =
	"{\"Id\":\"abc123\",\"Name\":\"/envup-oom-redis\",\"Created\":\"2026-11-21T09:00:00Z\","
	"\"State\":{\"Status\":\"running\",\"Running\":true,\"ExitCode\":0,"
	"\"Error\":\"boom\",\"StartedAt\":\"2026-11-21T09:00:01Z\","
	"\"Health\":{\"Status\":\"healthy\",\"Log\":[{\"Output\":\"PONG\"}]}},"
	"\"Config\":{\"Image\":\"redis:7-alpine\",\"Tty\":false,"
	"\"Labels\":{\"dev.envup.managed\":\"true\",\"dev.envup.env\":\"oom\"}},"
	"\"NetworkSettings\":{\"Ports\":{\"6379/tcp\":[{\"HostIp\":\"127.0.0.1\","
	"\"HostPort\":\"49153\"}],\"16379/tcp\":null}}}";

static const char fe_frames[] =
	"\x01\0\0\0\0\0\0\x06" "hello\n"
	"\x02\0\0\0\0\0\0\x05" "oops\n"
	"\x01\0\0\0\0\0\0\x1c" "Ready to accept connections\n";

static const char fe_pull[] =
	"{\"status\":\"Pulling from oom/img\",\"id\":\"1\"}\r\n"
	"{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"aaaa\"}\r\n"
	"{\"status\":\"Downloading\",\"progressDetail\":{\"current\":10,\"total\":20},\"id\":\"aaaa\"}\r\n"
	"{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"aaaa\"}\r\n"
	"{\"status\":\"Status: Downloaded newer image for oom/img:1\"}\r\n";

/* The create body must carry everything asked for: nothing may go missing. */
static bool fe_create_ok(const char *body)
{
	return strstr(body, "\"Cmd\":[\"redis-server\",\"--requirepass\",\"pw pw\"]") &&
		strstr(body, "\"Entrypoint\":[]") &&
		strstr(body, "\"Env\":[\"A=1\",\"B=two\"]") &&
		strstr(body, "\"dev.envup.managed\":\"true\"") &&
		strstr(body, "\"6379/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]") &&
		strstr(body, "\"Tmpfs\":{\"/data\":\"rw,exec\"}") &&
		strstr(body, "\"Aliases\":[\"redis\"]") &&
		strstr(body, "\"NetworkMode\":\"envup-oom\"");
}

static const char fe_list[] =
	"[{\"Id\":\"aaaa\",\"Names\":[\"/envup-oom-postgres\"],\"Image\":\"postgres:16-alpine\","
	"\"State\":\"running\",\"Status\":\"Up 3 seconds\",\"Created\":1700000000,"
	"\"Labels\":{\"dev.envup.managed\":\"true\",\"dev.envup.env\":\"oom\","
	"\"dev.envup.service\":\"postgres\"},"
	"\"Ports\":[{\"IP\":\"127.0.0.1\",\"PrivatePort\":5432,\"PublicPort\":49153,\"Type\":\"tcp\"},"
	"{\"IP\":\"::1\",\"PrivatePort\":5432,\"PublicPort\":49153,\"Type\":\"tcp\"}]},"
	"{\"Id\":\"bbbb\",\"Names\":[\"/envup-oom-redis\"],\"Image\":\"redis:7-alpine\","
	"\"State\":\"exited\",\"Status\":\"Exited (0)\",\"Created\":1700000001,"
	"\"Labels\":{\"dev.envup.managed\":\"true\",\"dev.envup.env\":\"oom\"},\"Ports\":[]},"
	"{\"Id\":\"cccc\",\"Names\":[\"/foreign\"],\"Image\":\"x\",\"State\":\"running\","
	"\"Labels\":{\"dev.envup.env\":\"oom\"}}]";

static const char fe_networks[] =
	"[{\"Name\":\"envup-oom\",\"Id\":\"n1\",\"Labels\":{\"dev.envup.managed\":\"true\","
	"\"dev.envup.env\":\"oom\"}}]";

static void *fe_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[16384];
	size_t have = 0;

	while (!__atomic_load_n(&FE.stop, __ATOMIC_SEQ_CST)) {
		char *end, method[16] = "", target[4096] = "";
		size_t head_len, body_len = 0;
		const char *cl;
		ssize_t n;

		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) == NULL) {
			if (have + 1 >= sizeof(buf))
				break;
			n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
			if (n <= 0)
				break;
			have += (size_t)n;
			continue;
		}
		head_len = (size_t)(end - buf) + 4;
		if ((cl = strcasestr(buf, "\r\nContent-Length:")) != NULL && cl < end)
			body_len = strtoul(cl + 17, NULL, 10);
		while (have < head_len + body_len && have + 1 < sizeof(buf)) {
			n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
			if (n <= 0)
				goto out;
			have += (size_t)n;
		}
		sscanf(buf, "%15s %4095s", method, target);
		buf[head_len + body_len < sizeof(buf) ? head_len + body_len : sizeof(buf) - 1] = '\0';
		if (strcmp(target, "/_ping") == 0)
			fe_reply(fd, 200, "OK");
		else if (strncmp(target, "/v1.44/containers/json", 22) == 0)
			fe_reply(fd, 200, fe_list);
		else if (strncmp(target, "/v1.44/containers/create?name=envup-oom-redis", 45) == 0)
			fe_create_ok(buf + head_len) ? fe_reply(fd, 201, "{\"Id\":\"abc123\"}") :
				fe_reply(fd, 400, "{\"message\":\"the create body lost something\"}");
		else if (strcmp(target, "/v1.44/containers/abc123/start") == 0)
			fe_reply(fd, 204, "");
		else if (strcmp(target, "/v1.44/containers/abc123/json") == 0)
			fe_reply(fd, 200, fe_inspect);
		else if (strncmp(target, "/v1.44/containers/abc123/logs?", 30) == 0)
			fe_reply_len(fd, 200, fe_frames, sizeof(fe_frames) - 1);
		else if (strcmp(method, "DELETE") == 0 && strncmp(target, "/v1.44/containers/", 18) == 0)
			fe_reply(fd, 204, "");
		else if (strcmp(target, "/v1.44/networks/create") == 0)
			fe_reply(fd, 201, "{\"Id\":\"n1\"}");
		else if (strcmp(method, "DELETE") == 0 && strncmp(target, "/v1.44/networks/", 16) == 0)
			fe_reply(fd, 204, "");
		else if (strncmp(target, "/v1.44/networks", 15) == 0)
			fe_reply(fd, 200, fe_networks);
		else if (strncmp(target, "/v1.44/volumes", 14) == 0)
			fe_reply(fd, 200, "{\"Volumes\":null}");
		else if (strcmp(target, "/v1.44/images/oom/img%3A1/json") == 0)
			__atomic_load_n(&fe_pulled, __ATOMIC_SEQ_CST) ? fe_reply(fd, 200, "{\"Id\":\"sha\"}") :
				fe_reply(fd, 404, "{\"message\":\"No such image\"}");
		else if (strncmp(target, "/v1.44/images/create?fromImage=oom%2Fimg&tag=1", 47) == 0) {
			__atomic_store_n(&fe_pulled, 1, __ATOMIC_SEQ_CST);
			fe_reply(fd, 200, fe_pull);
		}
		else if (strncmp(target, "/v1.44/version", 14) == 0)
			fe_reply(fd, 200, "{\"ApiVersion\":\"1.44\",\"Version\":\"25.0.0\"}");
		else
			fe_reply(fd, 404, "{\"message\":\"page not found\"}");
		if (have > head_len + body_len)
			memmove(buf, buf + head_len + body_len, have - head_len - body_len);
		have -= head_len + body_len;
	}
out:
	close(fd);
	return NULL;
}

static void *fe_accept(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&FE.stop, __ATOMIC_SEQ_CST)) {
		struct pollfd p = {FE.lfd, POLLIN, 0};
		pthread_t t;
		int fd;

		if (poll(&p, 1, 20) <= 0)
			continue;
		if ((fd = accept(FE.lfd, NULL, NULL)) < 0)
			continue;
		if (pthread_create(&t, NULL, fe_conn, (void *)(intptr_t)fd) != 0)
			close(fd);
		else
			pthread_detach(t);
	}
	return NULL;
}

/* A failed assertion leaves the operation (and the allocator armed) half-way. */
static int reset(void **state)
{
	(void)state;
	disarm();
	return 0;
}

static int fe_start(void **state)
{
	struct sockaddr_un sa;

	reset(state);
	memset(&FE, 0, sizeof(FE));
	snprintf(FE.path, sizeof(FE.path), "/tmp/envup-oom-engine-%d.sock", (int)getpid());
	unlink(FE.path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", FE.path);
	FE.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (FE.lfd < 0 || bind(FE.lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(FE.lfd, 64) < 0)
		return -1;
	unsetenv("DOCKER_API_VERSION");
	return pthread_create(&FE.thread, NULL, fe_accept, NULL) == 0 ? 0 : -1;
}

static int fe_stop(void **state)
{
	(void)state;
	__atomic_store_n(&FE.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(FE.thread, NULL);
	close(FE.lfd);
	unlink(FE.path);
	return 0;
}

static int op_engine(void *ctx)
{
	envup_engine_options opts = {NULL, NULL, 0};
	envup_engine *e = (envup_engine *)&opts;
	envup_buf resp = ENVUP_BUF_INIT;
	envup_strlist labels = ENVUP_STRLIST_INIT, nets = ENVUP_STRLIST_INIT;
	envup_container_summary *list = NULL;
	size_t n = 0;
	long status = 0;
	char host[160];
	int rc;

	(void)ctx;
	snprintf(host, sizeof(host), "unix://%s", FE.path);
	opts.docker_host = host;
	if ((rc = envup_engine_open(&e, &opts)) < 0) {
		assert_null(e);
		return rc;
	}
	assert_string_equal(envup_engine_api_version(e), "1.44");
	if ((rc = envup_engine_request(e, "GET", "/version", NULL, NULL, 0, &status, &resp)) < 0)
		goto done;
	assert_int_equal(status, 200);
	assert_non_null(strstr(envup_buf_cstr(&resp), "25.0.0"));
	if ((rc = envup_strlist_push(&labels, "dev.envup.managed=true")) < 0 ||
	    (rc = envup_strlist_push(&labels, "dev.envup.env=oom")) < 0)
		goto done;
	if ((rc = envup_container_list(&list, &n, e, &labels)) < 0) {
		assert_null(list);
		assert_int_equal(n, 0);
		goto done;
	}
	/* the foreign container without dev.envup.managed is dropped */
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "envup-oom-postgres");
	assert_string_equal(envup_kvlist_get(&list[0].ports, "5432/tcp"), "127.0.0.1:49153");
	assert_string_equal(list[1].state, "exited");
	if ((rc = envup_network_list(&nets, e, &labels)) < 0)
		goto done;
	assert_int_equal(nets.n, 1);
	assert_string_equal(nets.v[0], "envup-oom");
done:
	envup_container_summaries_free(list, n);
	envup_strlist_dispose(&labels);
	envup_strlist_dispose(&nets);
	envup_buf_dispose(&resp);
	envup_engine_free(e);
	return rc;
}

static envup_engine *fe_open(void)
{
	envup_engine_options opts = {NULL, NULL, 0};
	envup_engine *e = NULL;
	char host[160];

	disarm();
	snprintf(host, sizeof(host), "unix://%s", FE.path);
	opts.docker_host = host;
	if (envup_engine_open(&e, &opts) != 0)
		fail_msg("open: %s", envup_error_last()->message);
	return e;
}

static envup_engine *fe_engine; /* opened before the runs of the ops below */

static int op_container(void *ctx)
{
	envup_kvlist env = ENVUP_KVLIST_INIT, labels = ENVUP_KVLIST_INIT;
	envup_strlist cmd = ENVUP_STRLIST_INIT, entrypoint = ENVUP_STRLIST_INIT,
		tmpfs = ENVUP_STRLIST_INIT;
	envup_container_config cfg;
	envup_container_info info = ENVUP_CONTAINER_INFO_INIT;
	envup_buf logs = ENVUP_BUF_INIT;
	static const int ports[] = {6379};
	char *id = NULL;
	int rc;

	(void)ctx;
	memset(&cfg, 0, sizeof(cfg));
	if ((rc = envup_kvlist_set(&env, "A", "1")) < 0 ||
	    (rc = envup_kvlist_set(&env, "B", "two")) < 0 ||
	    (rc = envup_kvlist_set(&labels, "dev.envup.managed", "true")) < 0 ||
	    (rc = envup_strlist_push(&cmd, "redis-server")) < 0 ||
	    (rc = envup_strlist_push(&cmd, "--requirepass")) < 0 ||
	    (rc = envup_strlist_push(&cmd, "pw pw")) < 0 ||
	    (rc = envup_strlist_push(&tmpfs, "/data")) < 0)
		goto done;
	cfg.name = "envup-oom-redis";
	cfg.image = "redis:7-alpine";
	cfg.env = &env;
	cfg.cmd = &cmd;
	cfg.entrypoint = &entrypoint;
	cfg.labels = &labels;
	cfg.ports = ports;
	cfg.nports = 1;
	cfg.tmpfs = &tmpfs;
	cfg.network = "envup-oom";
	cfg.alias = "redis";
	if ((rc = envup_container_create(&id, fe_engine, &cfg)) < 0) {
		assert_null(id);
		goto done;
	}
	assert_string_equal(id, "abc123");
	if ((rc = envup_container_start(fe_engine, id)) < 0)
		goto done;
	if ((rc = envup_container_inspect(&info, fe_engine, id)) < 0) {
		assert_null(info.id);
		goto done;
	}
	assert_string_equal(info.name, "envup-oom-redis");
	assert_string_equal(info.error, "boom");
	assert_string_equal(info.health_output, "PONG");
	assert_int_equal(envup_container_host_port(&info, 6379), 49153);
	assert_string_equal(envup_kvlist_get(&info.labels, "dev.envup.env"), "oom");
	if ((rc = envup_container_logs(&logs, fe_engine, id, 20)) < 0)
		goto done;
	assert_string_equal(envup_buf_cstr(&logs), "hello\noops\nReady to accept connections\n");
	rc = envup_container_remove(fe_engine, id);
done:
	envup_container_info_dispose(&info);
	envup_buf_dispose(&logs);
	envup__free(id);
	envup_kvlist_dispose(&env);
	envup_kvlist_dispose(&labels);
	envup_strlist_dispose(&cmd);
	envup_strlist_dispose(&entrypoint);
	envup_strlist_dispose(&tmpfs);
	return rc;
}

static int op_network(void *ctx)
{
	envup_kvlist labels = ENVUP_KVLIST_INIT;
	char *id = NULL;
	int rc;

	(void)ctx;
	if ((rc = envup_kvlist_set(&labels, "dev.envup.managed", "true")) < 0 ||
	    (rc = envup_kvlist_set(&labels, "dev.envup.env", "oom")) < 0)
		goto done;
	if ((rc = envup_network_create(&id, fe_engine, "envup-oom", &labels)) < 0) {
		assert_null(id);
		goto done;
	}
	assert_string_equal(id, "n1");
	rc = envup_network_remove(fe_engine, "envup-oom");
done:
	envup__free(id);
	envup_kvlist_dispose(&labels);
	return rc;
}

static void pull_progress(const char *image, const char *detail, void *payload)
{
	(void)image;
	(void)detail;
	(*(int *)payload)++;
}

static int op_image(void *ctx)
{
	int lines = 0, rc;

	__atomic_store_n(&fe_pulled, 0, __ATOMIC_SEQ_CST);
	rc = envup_image_ensure(fe_engine, "oom/img:1", ctx ? pull_progress : NULL, &lines);
	if (rc == 0)
		assert_true(__atomic_load_n(&fe_pulled, __ATOMIC_SEQ_CST));
	return rc;
}

static size_t cleaned;

static void cleanup_seen(const char *kind, const char *name, void *payload)
{
	(void)kind;
	(void)name;
	(void)payload;
	cleaned++;
}

static int op_cleanup(void *ctx)
{
	envup_cleanup_report report = ENVUP_CLEANUP_REPORT_INIT;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	int rc;

	(void)ctx;
	cleaned = 0;
	if ((rc = envup_strlist_push(&labels, "dev.envup.env=oom")) < 0)
		goto done;
	rc = envup_cleanup_by_labels(&report, fe_engine, &labels, cleanup_seen, NULL);
	if (rc == 0) {
		/* two managed containers and the network; never the foreign one */
		assert_int_equal(report.containers, 2);
		assert_int_equal(report.networks, 1);
		assert_int_equal(report.failed.n, 0);
		assert_int_equal(cleaned, 3);
	}
done:
	envup_cleanup_report_dispose(&report);
	envup_strlist_dispose(&labels);
	return rc;
}

static void test_alloc__engine(void **state)
{
	(void)state;
	assert_true(drive("engine open + request + container list", op_engine, NULL, 0) > 10);
	fe_engine = fe_open();
	drive("container create/start/inspect/logs/remove", op_container, NULL, 0);
	drive("network create/remove", op_network, NULL, 0);
	drive("image ensure (pull)", op_image, NULL, 0);
	/* a progress line that cannot be masked for lack of memory is dropped */
	drive("image ensure (pull, progress)", op_image, &fe_pulled, OP_MAY_SURVIVE);
	drive("cleanup by labels", op_cleanup, NULL, 0);
	disarm();
	envup_engine_free(fe_engine);
	fe_engine = NULL;
}

/* ---- main ------------------------------------------------------------------------ */

static int group_setup(void **state)
{
	(void)state;
	envup_set_allocator(&failing);
	if (envup_kvlist_set(&vars, "user", "app") < 0 ||
	    envup_kvlist_set(&vars, "password", "p@ss:w/rd \xc3\xa9") < 0 ||
	    envup_kvlist_set(&vars, "host", "127.0.0.1") < 0 ||
	    envup_kvlist_set(&vars, "port", "49153") < 0 ||
	    envup_kvlist_set(&vars, "database", "db") < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	envup_kvlist_dispose(&vars);
	envup_set_allocator(NULL);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_alloc__spec_load, reset),
		cmocka_unit_test_setup(test_alloc__spec_peek, reset),
		cmocka_unit_test_setup(test_alloc__interp, reset),
		cmocka_unit_test_setup(test_alloc__cmdline, reset),
		cmocka_unit_test_setup(test_alloc__placeholders_and_exports, reset),
		cmocka_unit_test_setup(test_alloc__pull_stream, reset),
		cmocka_unit_test_setup(test_alloc__demux, reset),
		cmocka_unit_test_setup(test_alloc__secrets, reset),
		cmocka_unit_test_setup(test_alloc__state, reset),
		cmocka_unit_test_setup_teardown(test_alloc__engine, fe_start, fe_stop),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
