/*
 * The public calls of include/envup/db.h: a database per test and
 * putting services back, dispatched by the service's kind to pgpool.c
 * (postgres), redisdb.c (redis) and MockServer's REST API.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "provision/handle.h"
#include "provision/pgpool.h"
#include "provision/redisdb.h"
#include "provision/dburl.h"
#include "healthcheck/health.h"
#include "healthcheck/load.h"

/* One kept connection per postgres service of the handle. */
typedef struct {
	char *service;
	PGconn *conn;
} db_conn;

struct envup_db_cache {
	db_conn *v;
	size_t n;
};

void envup_db__cache_free(struct envup_db_cache *cache)
{
	size_t i;

	if (!cache)
		return;
	for (i = 0; i < cache->n; i++) {
		envup__free(cache->v[i].service);
		PQfinish(cache->v[i].conn);
	}
	envup__free(cache->v);
	envup__free(cache);
}

/* ---- which service ------------------------------------------------------------ */

static const envup_env__service *find_service(const envup_env *env, const char *name)
{
	size_t i;

	for (i = 0; i < env->nservices; i++)
		if (strcmp(env->services[i].name, name) == 0)
			return &env->services[i];
	return NULL;
}

static bool is_kind(const envup_env__service *sv, const char *kind)
{
	return sv->kind && strcmp(sv->kind, kind) == 0;
}

static int first_port(const envup_env__service *sv)
{
	int port = -1;
	if (sv->ports.n && envup_parse_int(&port, sv->ports.v[0].value, 1, 65535) < 0)
		port = -1;
	return port;
}

static int not_for_kind(const envup_env__service *sv, const char *what)
{
	return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s: %s only works with postgres and redis "
		"services%s%s%s", sv->name, what, sv->kind ? " (this one is " : "", sv->kind ? sv->kind : "",
		sv->kind ? ")" : "");
}

/* The last error again, "SERVICE: " in front (copied: the message is the
 * buffer being written). */
static int prefixed(int error, const char *service)
{
	char msg[1100];
	snprintf(msg, sizeof(msg), "%s: %s", service, envup_error_last()->message);
	/* set as it is: an OS error's reason is in the message already */
	return envup_error_set_str(error, envup_error_last()->klass, msg);
}

/* ---- postgres ----------------------------------------------------------------- */

static void pg_where(envup_pg_where *w, const envup_env__service *sv)
{
	w->host = sv->host;
	w->port = first_port(sv);
	w->user = sv->user;
	w->password = sv->password;
	w->database = sv->database;
}

/* The kept connection to the service's bookkeeping database, made on first
 * use and made again when it broke. Under env->db_lock. */
static int pg_meta(PGconn **out, envup_env *env, const envup_env__service *sv)
{
	struct envup_db_cache *c = env->db;
	envup_pg_where w;
	db_conn *v;
	size_t i;
	int error;

	*out = NULL;
	if (!c && (c = env->db = envup__calloc(1, sizeof(*c))) == NULL)
		return envup_error_set_oom();
	for (i = 0; i < c->n; i++) {
		if (strcmp(c->v[i].service, sv->name) != 0)
			continue;
		if (PQstatus(c->v[i].conn) == CONNECTION_OK) {
			*out = c->v[i].conn;
			return 0;
		}
		PQfinish(c->v[i].conn);
		c->v[i].conn = NULL;
		break;
	}
	pg_where(&w, sv);
	if (i == c->n) {
		if ((v = envup__realloc(c->v, (c->n + 1) * sizeof(*v))) == NULL)
			return envup_error_set_oom();
		c->v = v;
		memset(&c->v[c->n], 0, sizeof(*v));
		if ((c->v[c->n].service = envup__strdup(sv->name)) == NULL)
			return ENVUP_ERROR;
		c->n++;
	}
	if ((error = envup_pgpool_connect(&c->v[i].conn, &w, 10000)) < 0)
		return error;
	*out = c->v[i].conn;
	return 0;
}

static int need_template(const envup_env__service *sv)
{
	if (!sv->template_db || !sv->database || first_port(sv) <= 0)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"%s: no template (the environment was brought up by an older envup, "
			"or the service has no main database)", sv->name);
	return 0;
}

/* A statement that fails on a connection that had broken is tried once more
 * on a new one: the server may have been restarted by envup reset. */
static int pg_new(char **url, envup_env *env, const envup_env__service *sv, const char *holder)
{
	PGconn *meta;
	char *name = NULL, *enc = NULL;
	int error, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if ((error = pg_meta(&meta, env, sv)) < 0)
			return error;
		error = envup_pgpool_claim(&name, NULL, meta, sv->database, holder);
		if (error == 0 || PQstatus(meta) == CONNECTION_OK)
			break;
	}
	if (error < 0)
		return prefixed(error, sv->name);
	if ((enc = envup_url_escape(name)) == NULL || (*url = envup_dburl_with_path(sv->url, enc)) == NULL)
		error = ENVUP_ERROR;
	envup__free(enc);
	envup__free(name);
	return error;
}

/* ---- redis -------------------------------------------------------------------- */

static int redis_where(envup_redis_where *w, const char ***values, const envup_env *env,
	const envup_env__service *sv)
{
	size_t i;

	memset(w, 0, sizeof(*w));
	if ((*values = envup__calloc(env->exports.n + 1, sizeof(char *))) == NULL)
		return envup_error_set_oom();
	for (i = 0; i < env->exports.n; i++)
		(*values)[i] = env->exports.v[i].value;
	w->env_name = env->name;
	w->instance = env->instance;
	w->service = sv->name;
	w->host = sv->host;
	w->port = first_port(sv);
	w->password = sv->password;
	w->url = sv->url;
	w->exports = *values;
	w->nexports = env->exports.n;
	if (w->port <= 0 || !sv->url)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s: publishes no port", sv->name);
	return 0;
}

static int redis_new(char **url, const envup_env *env, const envup_env__service *sv, const char *holder)
{
	envup_redis_where w;
	const char **values = NULL;
	char num[16];
	int n, error;

	if ((error = redis_where(&w, &values, env, sv)) == 0 &&
	    (error = envup_redisdb_new(&n, &w, holder)) == 0) {
		snprintf(num, sizeof(num), "%d", n);
		if ((*url = envup_dburl_with_path(sv->url, num)) == NULL)
			error = ENVUP_ERROR;
	}
	envup__free(values);
	return error;
}

/* ---- the public calls ------------------------------------------------------------ */

int envup_db_new(char **url, const envup_env *cenv, const char *service, const char *holder)
{
	envup_env *env = (envup_env *)cenv;  /* only its lock and cache change */
	const envup_env__service *sv;
	char who[64];
	int error;

	ENVUP_ASSERT_ARG(url && env && service);
	*url = NULL;
	if ((sv = find_service(env, service)) == NULL)
		return envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_SPEC, "environment '%s' has no service '%s'",
			env->name, service);
	if (!holder) {
		snprintf(who, sizeof(who), "pid %ld", (long)getpid());
		holder = who;
	}
	if (is_kind(sv, "redis"))
		return redis_new(url, env, sv, holder);
	if (!is_kind(sv, "postgres"))
		return not_for_kind(sv, "db new");
	if ((error = need_template(sv)) < 0)
		return error;
	pthread_mutex_lock(&env->db_lock);
	error = pg_new(url, env, sv, holder);
	pthread_mutex_unlock(&env->db_lock);
	return error;
}

int envup_db_drop(const envup_env *cenv, const char *url)
{
	envup_env *env = (envup_env *)cenv;
	const envup_env__service *sv = NULL;
	envup_dburl u;
	char *path = NULL;
	size_t i;
	int error;

	ENVUP_ASSERT_ARG(env && url);
	if (envup_dburl_split(&u, url) < 0 || (!u.postgres && !u.redis) || u.port <= 0)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"not a postgres:// or redis:// URL with a port (as envup db new prints)");
	for (i = 0; i < env->nservices && !sv; i++)
		if (is_kind(&env->services[i], u.postgres ? "postgres" : "redis") &&
		    first_port(&env->services[i]) == u.port)
			sv = &env->services[i];
	if (!sv)
		return envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_SPEC,
			"environment '%s' has no %s service on port %d", env->name, u.postgres ? "postgres" : "redis",
			u.port);
	if ((path = envup_dburl_path(url, &u)) == NULL)
		return envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_SPEC,
			"%s: the URL names no database envup db new handed out", sv->name);
	if (u.redis) {
		envup_redis_where w;
		const char **values = NULL;
		char *end;
		long n = strtol(path, &end, 10);
		if (!*path)
			error = envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_REDIS,
				"%s: the URL names no database number (envup db new prints URLs ending in /N)",
				sv->name);
		else if (*end || n <= 0)
			error = envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_REDIS,
				"%s: '%s' is not a database envup db new handed out", sv->name, path);
		else if ((error = redis_where(&w, &values, env, sv)) == 0)
			error = envup_redisdb_drop(&w, (int)n);
		envup__free(values);
		envup__free(path);
		return error;
	}
	if (sv->database && strcmp(path, sv->database) == 0)
		error = envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_PG,
			"%s: %s is the main database, not one envup db new handed out (envup reset puts it back)",
			sv->name, path);
	else if ((error = need_template(sv)) == 0) {
		PGconn *meta;
		pthread_mutex_lock(&env->db_lock);
		if ((error = pg_meta(&meta, env, sv)) == 0)
			error = envup_pgpool_drop(meta, path);
		pthread_mutex_unlock(&env->db_lock);
		if (error < 0)
			error = prefixed(error, sv->name);
	}
	envup__free(path);
	return error;
}

/* ---- what is held ------------------------------------------------------------- */

static int held_push(envup_db_held **v, size_t *n, const char *service, const char *database,
	const char *holder, long long since)
{
	envup_db_held *grown = envup__realloc(*v, (*n + 1) * sizeof(**v)), *h;

	if (!grown)
		return envup_error_set_oom();
	*v = grown;
	h = &grown[(*n)++];
	memset(h, 0, sizeof(*h));
	h->since = since;
	if ((h->service = envup__strdup(service)) == NULL || (h->database = envup__strdup(database)) == NULL ||
	    (h->holder = envup_printable(holder ? holder : "")) == NULL)
		return ENVUP_ERROR;
	return 0;
}

static int pg_held(envup_db_held **v, size_t *n, envup_env *env, const envup_env__service *sv)
{
	PGconn *meta;
	PGresult *res = NULL;
	int i, error;

	pthread_mutex_lock(&env->db_lock);
	if ((error = pg_meta(&meta, env, sv)) == 0) {
		res = PQexec(meta, "SELECT datname, coalesce(holder, ''), "
			"coalesce(extract(epoch FROM claimed)::bigint, 0) FROM pool WHERE state = 'held' "
			"ORDER BY claimed, datname");
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_PG, "%s: cannot list the databases held: %s",
				sv->name, PQerrorMessage(meta));
	}
	pthread_mutex_unlock(&env->db_lock);
	for (i = 0; error == 0 && i < PQntuples(res); i++)
		error = held_push(v, n, sv->name, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
			strtoll(PQgetvalue(res, i, 2), NULL, 10));
	PQclear(res);
	return error;
}

int envup_db_list(envup_db_held **out, size_t *count, const envup_env *cenv)
{
	envup_env *env = (envup_env *)cenv;
	envup_db_held *v = NULL;
	size_t n = 0, i, k;
	int error = 0;

	ENVUP_ASSERT_ARG(out && count && env);
	*out = NULL;
	*count = 0;
	for (i = 0; error == 0 && i < env->nservices; i++) {
		const envup_env__service *sv = &env->services[i];
		if (is_kind(sv, "postgres") && sv->template_db && sv->database && first_port(sv) > 0) {
			error = pg_held(&v, &n, env, sv);
		} else if (is_kind(sv, "redis") && first_port(sv) > 0 && sv->url) {
			envup_redis_where w;
			envup_redis_held *r = NULL;
			const char **values = NULL;
			size_t rn = 0;
			if ((error = redis_where(&w, &values, env, sv)) == 0 &&
			    (error = envup_redisdb_held(&r, &rn, &w)) == 0) {
				for (k = 0; error == 0 && k < rn; k++) {
					char num[16];
					snprintf(num, sizeof(num), "%d", r[k].number);
					error = held_push(&v, &n, sv->name, num, r[k].holder, r[k].since);
				}
			}
			envup__free(r);
			envup__free(values);
		}
	}
	if (error < 0) {
		envup_db_list_free(v, n);
		return error;
	}
	*out = v;
	*count = n;
	return 0;
}

void envup_db_list_free(envup_db_held *v, size_t count)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < count; i++) {
		envup__free(v[i].service);
		envup__free(v[i].database);
		envup__free(v[i].holder);
	}
	envup__free(v);
}

/* ---- reset ------------------------------------------------------------------------ */

static int mock_reset(const envup_env__service *sv)
{
	envup_health_http_reply reply = ENVUP_HEALTH_HTTP_REPLY_INIT;
	char *why = NULL;
	int r, port = first_port(sv);

	/* the file must be there before anything is cleared: a reset that
	 * cannot load the spec's expectations leaves MockServer as it was */
	if (sv->expectations) {
		envup_buf probe = ENVUP_BUF_INIT;
		r = envup_read_file(&probe, sv->expectations, 0);
		envup_buf_dispose(&probe);
		if (r < 0)
			return prefixed(r, sv->name);
	}

	r = envup_health__http(&reply, &why, "PUT", sv->host, port, "/mockserver/reset", NULL, NULL, 0, 10000);
	if (r == 0 && (reply.status < 200 || reply.status > 299))
		r = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_HTTP, "%s: PUT /mockserver/reset answered HTTP %ld",
			sv->name, reply.status);
	else if (r > 0)
		r = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_HTTP, "%s: cannot reach MockServer: %s", sv->name, why);
	envup_buf_dispose(&reply.body);
	envup__free(why);
	if (r == 0 && sv->expectations && (r = envup_mockserver_load(sv->host, port, sv->expectations, NULL,
	    10000)) < 0)
		r = prefixed(r, sv->name);
	return r;
}

static bool resettable(const envup_env__service *sv)
{
	return (is_kind(sv, "postgres") && sv->template_db) || is_kind(sv, "redis") || is_kind(sv, "mockserver");
}

static int reset_one(envup_env *env, const envup_env__service *sv)
{
	int error;

	if (is_kind(sv, "mockserver"))
		return mock_reset(sv);
	if (is_kind(sv, "redis")) {
		envup_redis_where w;
		const char **values = NULL;
		if ((error = redis_where(&w, &values, env, sv)) == 0)
			error = envup_redisdb_reset(&w);
		envup__free(values);
		return error;
	}
	if ((error = need_template(sv)) == 0) {
		PGconn *meta;
		pthread_mutex_lock(&env->db_lock);
		if ((error = pg_meta(&meta, env, sv)) == 0)
			error = envup_pgpool_reset_main(meta, sv->database);
		pthread_mutex_unlock(&env->db_lock);
		if (error < 0)
			error = prefixed(error, sv->name);
	}
	return error;
}

typedef struct {
	envup_env *env;
	const envup_env__service *sv;
	pthread_t thread;
	bool started;
	int error;
	char message[512];
} reset_job;

static void *reset_thread(void *arg)
{
	reset_job *j = arg;
	if ((j->error = reset_one(j->env, j->sv)) < 0)
		snprintf(j->message, sizeof(j->message), "%s", envup_error_last()->message);
	return NULL;
}

int envup_env_reset(const envup_env *cenv, const char *const *services, size_t n)
{
	envup_env *env = (envup_env *)cenv;
	reset_job *jobs;
	size_t i, k = 0;
	int error = 0;

	ENVUP_ASSERT_ARG(env && (n == 0 || services));
	if ((jobs = envup__calloc(env->nservices + n + 1, sizeof(*jobs))) == NULL)
		return envup_error_set_oom();
	if (n) {
		for (i = 0; i < n; i++) {
			const envup_env__service *sv = find_service(env, services[i]);
			if (!sv) {
				error = envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_SPEC,
					"environment '%s' has no service '%s'", env->name, services[i]);
				goto done;
			}
			if (!resettable(sv)) {
				error = envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
					"%s: nothing to reset (reset puts back postgres, redis and mockserver services)",
					sv->name);
				goto done;
			}
			jobs[k++].sv = sv;
		}
	} else {
		for (i = 0; i < env->nservices; i++)
			if (resettable(&env->services[i]))
				jobs[k++].sv = &env->services[i];
	}
	/* every service at once: the slowest one is the time it takes */
	for (i = 0; i < k; i++) {
		jobs[i].env = env;
		jobs[i].started = k > 1 && pthread_create(&jobs[i].thread, NULL, reset_thread, &jobs[i]) == 0;
		if (!jobs[i].started)
			reset_thread(&jobs[i]);
	}
	for (i = 0; i < k; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
		if (jobs[i].error < 0 && error == 0)
			error = envup_error_set(jobs[i].error, ENVUP_ERROR_NONE, "%s", jobs[i].message);
	}
done:
	envup__free(jobs);
	return error;
}
