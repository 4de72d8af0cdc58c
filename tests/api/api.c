/* The API tests' harness: see api.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <unistd.h>
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include "api.h"

const char api_spec[] =
	"services:\n"
	"  postgres:\n"
	"    template: postgres\n"
	"    export: { TEST_DATABASE_URL: \"{{url}}\" }\n"
	"  redis:\n"
	"    template: redis\n"
	"    export: { REDIS_TEST_URL: \"{{url}}/1\" }\n";

void api_require_engine(void)
{
	const char *engine = getenv("ENVUP_TEST_ENGINE"), *require = getenv("ENVUP_TEST_REQUIRE_ENGINE");

	if (engine && *engine)
		return;
	if (require && strcmp(require, "1") == 0) {
		fprintf(stderr, "ENVUP_TEST_ENGINE is not set but ENVUP_TEST_REQUIRE_ENGINE=1\n");
		exit(1);
	}
	fprintf(stderr, "skipped: no engine (set ENVUP_TEST_ENGINE=1)\n");
	exit(77);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void api_remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char state_dir[] = "/tmp/envup-api-XXXXXX";

static void remove_state_dir(void)
{
	api_remove_tree(state_dir);
}

void api_private_state_dir(void)
{
	char *dir = state_dir;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	setenv("ENVUP_STATE_DIR", dir, 1);
	atexit(remove_state_dir);
}

void api_name(char *out, size_t len)
{
	static int n;
	snprintf(out, len, "it-%ld-%d", (long)getpid(), ++n);
}

void api__ok(int rc, const char *what, const char *file, int line)
{
	if (rc < 0) {
		print_error("%s returned %d: %s\n", what, rc, envup_error_last()->message);
		_fail(file, line);
	}
}

/* ---- the engine, asked directly ------------------------------------------ */

typedef struct {
	char *p;
	size_t n;
} api_buf;

static size_t api_write(char *data, size_t size, size_t n, void *payload)
{
	api_buf *b = payload;
	char *p = realloc(b->p, b->n + size * n + 1);
	if (!p)
		return 0;
	memcpy(p + b->n, data, size * n);
	b->p = p;
	b->n += size * n;
	b->p[b->n] = '\0';
	return size * n;
}

/* Number of objects in the JSON array the engine returns for `what`. */
static size_t api_count(const char *what, const char *name)
{
	const char *host = getenv("DOCKER_HOST");
	char filter[256], *enc, url[512];
	api_buf b = {NULL, 0};
	CURL *c = curl_easy_init();
	size_t count = 0;
	long status = 0;
	const char *p;
	int depth = 0;

	assert_non_null(c);
	snprintf(filter, sizeof(filter), "{\"label\":[\"dev.envup.env=%s\"]}", name);
	enc = curl_easy_escape(c, filter, 0);
	if (host && strncmp(host, "tcp://", 6) == 0) {
		snprintf(url, sizeof(url), "http://%s/%s?all=1&filters=%s", host + 6, what, enc);
	} else {
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH,
			host && strncmp(host, "unix://", 7) == 0 ? host + 7 : "/var/run/docker.sock");
		snprintf(url, sizeof(url), "http://localhost/%s?all=1&filters=%s", what, enc);
	}
	curl_free(enc);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, api_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (curl_easy_perform(c) != CURLE_OK)
		fail_msg("GET %s failed", url);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		fail_msg("GET %s: %ld %s", url, status, b.p ? b.p : "");
	/* count the top-level objects of the array */
	for (p = b.p; p && *p; p++) {
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				break;
		} else if (*p == '{' || *p == '[') {
			if (*p == '{' && depth == 1)
				count++;
			depth++;
		} else if (*p == '}' || *p == ']') {
			depth--;
		}
	}
	free(b.p);
	curl_easy_cleanup(c);
	return count;
}

long api_engine(const char *method, const char *path, const char *json, char **body)
{
	const char *host = getenv("DOCKER_HOST");
	char url[1024];
	api_buf b = {NULL, 0};
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	long status = 0;

	assert_non_null(c);
	if (host && strncmp(host, "tcp://", 6) == 0) {
		snprintf(url, sizeof(url), "http://%s%s", host + 6, path);
	} else {
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH,
			host && strncmp(host, "unix://", 7) == 0 ? host + 7 : "/var/run/docker.sock");
		snprintf(url, sizeof(url), "http://localhost%s", path);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, api_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	if (json) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	}
	if (curl_easy_perform(c) != CURLE_OK)
		fail_msg("%s %s failed", method, url);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (body)
		*body = b.p;
	else
		free(b.p);
	return status;
}

size_t api_leftovers(const char *name)
{
	return api_count("containers/json", name) + api_count("networks", name) +
		api_count("volumes", name);
}

/* ---- real clients ------------------------------------------------------------ */

static void percent_decode(char *s)
{
	char *w = s;
	unsigned v;

	for (; *s; s++) {
		if (*s == '%' && sscanf(s + 1, "%2x", &v) == 1) {
			*w++ = (char)v;
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

int api_try_redis_url(const char *url, char *why, size_t len)
{
	/* redis://default:PASSWORD@HOST:PORT[/DB] */
	char user[64], pass[256], host[64];
	int port = 0, db = 0, rc = -1;
	redisContext *c = NULL;
	redisReply *r = NULL;

	if (!url || sscanf(url, "redis://%63[^:]:%255[^@]@%63[^:]:%d/%d", user, pass, host, &port, &db) < 4) {
		snprintf(why, len, "not a redis URL with a password: %s", url ? url : "(null)");
		return -1;
	}
	if (strcmp(user, "default") != 0) {
		snprintf(why, len, "user '%s', not 'default'", user);
		return -1;
	}
	percent_decode(pass);
	c = redisConnect(host, port);
	if (!c || c->err) {
		snprintf(why, len, "connect %s:%d: %s", host, port, c ? c->errstr : "out of memory");
		goto done;
	}
	r = redisCommand(c, "AUTH %s %s", user, pass);
	if (!r || r->type != REDIS_REPLY_STATUS) {
		snprintf(why, len, "AUTH with the URL's password failed: %s", r && r->str ? r->str : "");
		goto done;
	}
	freeReplyObject(r);
	r = redisCommand(c, "SELECT %d", db);
	if (!r || r->type != REDIS_REPLY_STATUS) {
		snprintf(why, len, "SELECT %d failed", db);
		goto done;
	}
	freeReplyObject(r);
	r = redisCommand(c, "PING");
	if (!r || !r->str || strcmp(r->str, "PONG") != 0) {
		snprintf(why, len, "PING did not answer PONG");
		goto done;
	}
	rc = 0;
done:
	if (r)
		freeReplyObject(r);
	if (c)
		redisFree(c);
	return rc;
}

int api_try_postgres_url(const char *url, char *why, size_t len)
{
	PGconn *c;
	PGresult *r = NULL;
	int rc = -1;

	if (!url) {
		snprintf(why, len, "no URL");
		return -1;
	}
	c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(why, len, "connect %s: %s", url, PQerrorMessage(c));
		goto done;
	}
	r = PQexec(c, "SELECT 1");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || strcmp(PQgetvalue(r, 0, 0), "1") != 0) {
		snprintf(why, len, "SELECT 1: %s", PQerrorMessage(c));
		goto done;
	}
	rc = 0;
done:
	PQclear(r);
	PQfinish(c);
	return rc;
}

void api_check_redis_url(const char *url)
{
	char why[512];
	if (api_try_redis_url(url, why, sizeof(why)) < 0)
		fail_msg("%s", why);
}

void api_check_postgres_url(const char *url)
{
	char why[512];
	if (api_try_postgres_url(url, why, sizeof(why)) < 0)
		fail_msg("%s", why);
}
