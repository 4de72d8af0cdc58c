/*
 * The engine client: HTTP/1.1 to the Docker Engine API with libcurl, over
 * a unix socket or plain TCP (TLS when DOCKER_CERT_PATH/DOCKER_TLS_VERIFY
 * say so, like the docker CLI).
 *
 * Every curl failure is translated here, once, into a one-line envup
 * error; nothing above this file sees a CURLcode.
 *
 * Threads: the engine is read-only after envup_engine_open() except for
 * its handle pool, which a mutex protects. A request borrows an easy handle
 * from the pool (or makes one) and gives it back when the transfer ends
 * cleanly, so sequential requests reuse the keep-alive connection.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include "provision/engine.h"
#include "provision/discover.h"
#include "provision/ssh_relay.h"

#define ENGINE_RESPONSE_MAX    ((size_t)16 * 1024 * 1024)
#define ENGINE_ERRBODY_MAX     ((size_t)64 * 1024)
#define ENGINE_CONNECT_MS      5000L
/* Guard against a hung engine for plain (non-streaming) requests that run
 * without a deadline; streams are bounded only by the deadline. */
#define ENGINE_REQUEST_MAX_MS  (300L * 1000)
#define ENGINE_POOL_MAX        8
#define ENGINE_UNIX_PATH_MAX   107

struct envup_engine {
	char *address;      /* as given/defaulted: "unix:///x" or "tcp://h:p" */
	char *socket_path;  /* unix: the socket; NULL for tcp */
	char *base_url;     /* "http://localhost" or "http(s)://h:p" */
	char *port_host;
	char *bind_ip;
	char *tls_ca, *tls_cert, *tls_key;  /* tcp + TLS only */
	bool tls_verify;
	const envup_engine_place *place;    /* while opening: a context's TLS */
	envup_ssh_relay *relay;             /* ssh:// engines */
	char api_version[16];
	char *engine_version;              /* Api-Version header from _ping, or NULL */
	const atomic_int *cancel;
	double deadline;
	pthread_mutex_t pool_lock;
	CURL *pool[ENGINE_POOL_MAX];
	size_t npool;
};

/* Set the error and return `code` (a named code, not just ENVUP_ERROR). */
static int engine_fail(int code, int klass, const char *fmt, ...) ENVUP_PRINTF(3, 4);

static int engine_fail(int code, int klass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	envup_error_vset(ENVUP_ERROR, klass, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- small helpers -------------------------------------------------------- */

/* "1.44" -> 1*1000+44; -1 when it is not "MAJOR.MINOR" */
static long engine_version_num(const char *v)
{
	char *end;
	long major, minor;

	if (!v || !isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	major = strtol(v, &end, 10);
	if (errno || *end != '.' || !isdigit((unsigned char)end[1]))
		return -1;
	minor = strtol(end + 1, &end, 10);
	if (errno || *end != '\0' || major > 1000 || minor > 999)
		return -1;
	return major * 1000 + minor;
}

static bool engine_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

char *envup_engine_label_filter(const envup_strlist *labels)
{
	cJSON *root = NULL, *label;
	char *text = NULL, *escaped = NULL;
	size_t i;

	if ((root = cJSON_CreateObject()) == NULL ||
	    (label = cJSON_AddObjectToObject(root, "label")) == NULL)
		goto oom;
	for (i = 0; labels && i < labels->n; i++)
		if (cJSON_AddTrueToObject(label, labels->v[i]) == NULL)
			goto oom;
	if ((text = cJSON_PrintUnformatted(root)) == NULL)
		goto oom;
	escaped = envup_url_escape(text);
	goto done;
oom:
	envup_error_set_oom();
done:
	cJSON_free(text);
	cJSON_Delete(root);
	return escaped;
}

bool envup_engine_labels_match(const envup_kvlist *have, const envup_strlist *want)
{
	size_t i;

	for (i = 0; want && i < want->n; i++) {
		const char *eq = strchr(want->v[i], '=');
		size_t j;
		bool found = false;

		for (j = 0; have && j < have->n && !found; j++) {
			const char *k = have->v[j].key;
			if (eq) {
				size_t klen = (size_t)(eq - want->v[i]);
				found = strlen(k) == klen && strncmp(k, want->v[i], klen) == 0 &&
					strcmp(have->v[j].value, eq + 1) == 0;
			} else {
				found = strcmp(k, want->v[i]) == 0;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

int envup_engine_parse_json(struct cJSON **out, const envup_buf *resp, const char *what)
{
	cJSON *json = NULL;
	unsigned long oom = envup__oom_count();

	*out = NULL;
	if (resp && resp->ptr && resp->size)
		json = cJSON_ParseWithLength(resp->ptr, resp->size);
	if (!json && envup__oom_count() != oom)
		return envup_error_set_oom(); /* cJSON's NULL was not about the JSON */
	if (!json)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_JSON, "invalid JSON from the engine for %s", what);
	*out = json;
	return 0;
}

int envup_engine_create(char **id_out, envup_engine *e, const char *path,
	const cJSON *body, const char *what)
{
	return envup_engine_create_with(id_out, e, path, body, NULL, "Id", what);
}

int envup_engine_create_with(char **id_out, envup_engine *e, const char *path,
	const cJSON *body, const char *header, const char *id_key, const char *what)
{
	envup_buf resp = ENVUP_BUF_INIT;
	cJSON *json = NULL, *id;
	char *text = NULL;
	long status = 0;
	int error;

	if (id_out)
		*id_out = NULL;
	if ((text = cJSON_PrintUnformatted(body)) == NULL) {
		error = envup_error_set_oom();
		goto done;
	}
	if ((error = header ? envup_engine_request_header(e, "POST", path, header, text, strlen(text),
	    &status, &resp) : envup_engine_request(e, "POST", path, "application/json",
	    text, strlen(text), &status, &resp)) < 0)
		goto done;
	if (status != 201 && status != 200) {
		error = envup_engine_api_error(status, &resp, what);
		goto done;
	}
	if ((error = envup_engine_parse_json(&json, &resp, what)) < 0)
		goto done;
	id = cJSON_GetObjectItemCaseSensitive(json, id_key);
	if (!cJSON_IsString(id) || !id->valuestring[0]) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_JSON, "invalid JSON from the engine for %s: no %s",
			what, id_key);
		goto done;
	}
	if (id_out && (*id_out = envup__strdup(id->valuestring)) == NULL)
		error = ENVUP_ERROR;
done:
	cJSON_Delete(json);
	cJSON_free(text);
	envup_buf_dispose(&resp);
	return error;
}

int envup_engine_api_error(long status, const envup_buf *resp, const char *what)
{
	cJSON *json = NULL;
	const cJSON *msg;
	char text[512];
	int rc = status == 404 ? ENVUP_ENOTFOUND : status == 409 ? ENVUP_EEXISTS : ENVUP_EDOCKER;

	text[0] = '\0';
	if (resp && resp->ptr && resp->size) {
		json = cJSON_ParseWithLength(resp->ptr, resp->size);
		msg = cJSON_GetObjectItemCaseSensitive(json, "message");
		if (cJSON_IsString(msg) && msg->valuestring[0]) {
			snprintf(text, sizeof(text), "%s", msg->valuestring);
		} else if (!json) {
			/* not JSON (a proxy, an old engine): its first line, printable only */
			size_t i, n = 0;
			for (i = 0; i < resp->size && n + 1 < sizeof(text) && n < 200; i++) {
				unsigned char c = (unsigned char)resp->ptr[i];
				if (c == '\n' || c == '\r')
					break;
				text[n++] = isprint(c) ? (char)c : '?';
			}
			text[n] = '\0';
		}
	}
	/* the engine's messages are single sentences; fold any newline */
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (text[0])
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "%s: %s", what, text);
	else
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "%s: HTTP %ld", what, status);
	cJSON_Delete(json);
	return rc;
}

/* ---- DOCKER_HOST ------------------------------------------------------------ */

/* An engine on this machine over TCP still publishes on loopback only;
 * a remote one must publish where this machine can reach it. */
static bool is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
		strcmp(host, "::1") == 0;
}

/* tcp://HOST[:PORT][/...], parsed by curl_url(); a path is ignored, as
 * the docker CLI does. TLS when DOCKER_CERT_PATH or DOCKER_TLS_VERIFY is set. */
static int engine_parse_tcp(envup_engine *e, const char *host)
{
	const char *cert_path = getenv("DOCKER_CERT_PATH");
	const char *verify = getenv("DOCKER_TLS_VERIFY");
	bool tls;

	/* a docker context carries its own TLS material, not the variables' */
	if (e->place && e->place->source && strncmp(e->place->source, "docker context", 14) == 0) {
		cert_path = e->place->tls_dir;
		verify = e->place->tls_dir && !e->place->tls_skip_verify ? "1" : NULL;
	}
	tls = (cert_path && *cert_path) || (verify && *verify);
	char *h = NULL, *port = NULL, *hostonly = NULL;
	CURLU *u = NULL;
	CURLUcode rc;
	int error = ENVUP_ERROR;

	if ((error = envup_curl_init()) < 0)
		return ENVUP_EDOCKER;
	error = ENVUP_ERROR;
	if ((u = curl_url()) == NULL) {
		envup_error_set_oom();
		goto done;
	}
	if ((rc = curl_url_set(u, CURLUPART_URL, host, CURLU_NON_SUPPORT_SCHEME)) != CURLUE_OK) {
		error = engine_fail(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER, "DOCKER_HOST %s: %s", host,
			rc == CURLUE_BAD_PORT_NUMBER ? "bad port" : curl_url_strerror(rc));
		goto done;
	}
	if (curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || !h || !*h) {
		error = engine_fail(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER, "DOCKER_HOST %s: no host name", host);
		goto done;
	}
	if ((rc = curl_url_get(u, CURLUPART_PORT, &port, 0)) != CURLUE_OK && rc != CURLUE_NO_PORT) {
		error = engine_fail(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER, "DOCKER_HOST %s: bad port", host);
		goto done;
	}
	/* [::1] in URLs, ::1 to bind and connect */
	if (h[0] == '[' && h[strlen(h) - 1] == ']')
		hostonly = envup__strndup(h + 1, strlen(h) - 2);
	else
		hostonly = envup__strdup(h);
	if (!hostonly)
		goto done;
	if ((e->address = envup__sprintf("tcp://%s:%s", h, port ? port : "2375")) == NULL ||
	    (e->base_url = envup__sprintf("%s://%s:%s", tls ? "https" : "http", h,
		port ? port : (tls ? "2376" : "2375"))) == NULL ||
	    (e->port_host = envup__strdup(hostonly)) == NULL ||
	    (e->bind_ip = envup__strdup(is_loopback(hostonly) ? "127.0.0.1" : "0.0.0.0")) == NULL)
		goto done;
	if (tls) {
		const char *dir = cert_path && *cert_path ? cert_path : NULL;
		if (dir && ((e->tls_ca = envup__sprintf("%s/ca.pem", dir)) == NULL ||
		    (e->tls_cert = envup__sprintf("%s/cert.pem", dir)) == NULL ||
		    (e->tls_key = envup__sprintf("%s/key.pem", dir)) == NULL))
			goto done;
		e->tls_verify = verify && *verify;
		/* all three, before any connection: a missing one is named */
		if (dir) {
			const char *files[3] = {e->tls_ca, e->tls_cert, e->tls_key};
			size_t i;
			for (i = 0; i < 3; i++)
				if (access(files[i], R_OK) < 0) {
					error = engine_fail(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
						"%s: TLS needs ca.pem, cert.pem and key.pem in %s (%s): cannot read %s: %s",
						host, dir, e->place && e->place->tls_dir == dir ? e->place->source :
						"DOCKER_CERT_PATH", files[i], strerror(errno));
					goto done;
				}
		}
	}
	error = 0;
done:
	curl_free(h);
	curl_free(port);
	envup__free(hostonly);
	curl_url_cleanup(u);
	return error;
}

static int engine_parse_host(envup_engine *e, const char *host)
{
	if (engine_has_prefix(host, "unix://")) {
		const char *path = host + strlen("unix://");
		if (!*path)
			path = "/var/run/docker.sock";
		if (strlen(path) > ENGINE_UNIX_PATH_MAX)
			return engine_fail(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"DOCKER_HOST %s: socket path longer than %d bytes", host,
				ENGINE_UNIX_PATH_MAX);
		if ((e->address = envup__sprintf("unix://%s", path)) == NULL ||
		    (e->socket_path = envup__strdup(path)) == NULL ||
		    (e->base_url = envup__strdup("http://localhost")) == NULL ||
		    (e->port_host = envup__strdup("127.0.0.1")) == NULL ||
		    (e->bind_ip = envup__strdup("127.0.0.1")) == NULL)
			return ENVUP_ERROR;
		return 0;
	}
	if (engine_has_prefix(host, "tcp://"))
		return engine_parse_tcp(e, host);
	if (engine_has_prefix(host, "ssh://")) {
		/* each connection is ssh HOST docker system dial-stdio */
		const char *sock = NULL;
		char *remote = NULL;
		int error = envup_ssh_relay_start(&e->relay, host, &sock, &remote);
		if (error < 0)
			return error;
		error = ENVUP_ERROR;
		if ((e->address = envup__strdup(host)) != NULL &&
		    (e->socket_path = envup__strdup(sock)) != NULL &&
		    (e->base_url = envup__strdup("http://localhost")) != NULL &&
		    (e->port_host = envup__strdup(remote)) != NULL &&
		    (e->bind_ip = envup__strdup(is_loopback(remote) ? "127.0.0.1" : "0.0.0.0")) != NULL)
			error = 0;
		envup__free(remote);
		return error;
	}
	return engine_fail(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
		"DOCKER_HOST %s: unsupported address (use unix:///path or tcp://host:port)",
		host);
}

/* ---- the handle pool -------------------------------------------------------- */

static CURL *engine_handle_get(envup_engine *e)
{
	CURL *h = NULL;

	pthread_mutex_lock(&e->pool_lock);
	if (e->npool > 0)
		h = e->pool[--e->npool];
	pthread_mutex_unlock(&e->pool_lock);
	if (h) {
		/* keeps the live connection, forgets every option */
		curl_easy_reset(h);
		return h;
	}
	if ((h = curl_easy_init()) == NULL)
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "cannot create a curl handle");
	return h;
}

static void engine_handle_put(envup_engine *e, CURL *h, bool reusable)
{
	if (!h)
		return;
	if (reusable) {
		pthread_mutex_lock(&e->pool_lock);
		if (e->npool < ENGINE_POOL_MAX) {
			e->pool[e->npool++] = h;
			h = NULL;
		}
		pthread_mutex_unlock(&e->pool_lock);
	}
	if (h)
		curl_easy_cleanup(h);
}

/* ---- one transfer ------------------------------------------------------------ */

typedef struct {
	envup_engine *e;
	CURL *h;
	envup_buf *resp;             /* plain requests: the body (capped) */
	envup_engine_data_cb cb;     /* streams: 2xx bodies go here ... */
	void *payload;
	envup_buf *errbody;          /* ... and other bodies here (capped) */
	long status;                 /* known once the first body byte arrives */
	int cb_error;                /* what cb returned when it aborted */
	bool overflow;
	bool oom;                    /* the body could not be stored: out of memory */
	bool cancelled;
	char api_version[16];        /* Api-Version response header */
} engine_xfer;

/* The flag is set by another thread or a signal handler: read it atomically. */
static bool engine_cancelled(const envup_engine *e)
{
	return e->cancel && atomic_load(e->cancel) != 0;
}

static size_t engine_write(char *data, size_t size, size_t nmemb, void *p)
{
	engine_xfer *x = p;
	size_t len = size * nmemb;
	envup_buf *into;

	if (x->status == 0)
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->cb && x->status >= 200 && x->status < 300) {
		int rc = x->cb(data, len, x->payload);
		if (rc < 0) {
			x->cb_error = rc;
			return 0;
		}
		return len;
	}
	into = x->cb ? x->errbody : x->resp;
	if (!into)
		return len;
	if (into->size + len > (x->cb ? ENGINE_ERRBODY_MAX : ENGINE_RESPONSE_MAX)) {
		if (x->cb)      /* an error body: the start is enough */
			return len;
		x->overflow = true;
		return 0;
	}
	if (envup_buf_put(into, data, len) < 0) {
		x->oom = true;
		return 0;
	}
	return len;
}

static size_t engine_header(char *data, size_t size, size_t nmemb, void *p)
{
	engine_xfer *x = p;
	size_t len = size * nmemb;
	static const char name[] = "api-version:";

	if (len > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		size_t i = sizeof(name) - 1, n = 0;
		while (i < len && (data[i] == ' ' || data[i] == '\t'))
			i++;
		while (i < len && n + 1 < sizeof(x->api_version) &&
		       data[i] != '\r' && data[i] != '\n' && data[i] != ' ')
			x->api_version[n++] = data[i++];
		x->api_version[n] = '\0';
	}
	return len;
}

static int engine_progress(void *p, curl_off_t dltotal, curl_off_t dlnow,
	curl_off_t ultotal, curl_off_t ulnow)
{
	engine_xfer *x = p;

	if (engine_cancelled(x->e)) {
		x->cancelled = true;
		return 1;
	}
	return 0;
}

int envup_engine_check_interrupt(const envup_engine *e)
{
	if (engine_cancelled(e))
		return engine_fail(ENVUP_ECANCELLED, ENVUP_ERROR_CANCELLED, "cancelled");
	if (e->deadline > 0 && envup_now() >= e->deadline)
		return engine_fail(ENVUP_ETIMEOUT, ENVUP_ERROR_DOCKER, "deadline passed");
	return 0;
}

/* Translate a failed transfer into one error line and a return code. */
static int engine_curl_error(const envup_engine *e, const engine_xfer *x, CURLcode rc,
	const char *errbuf, const char *method, const char *path, bool timeout_is_deadline,
	long timeout_ms, long elapsed_ms)
{
	long oserr = 0;
	const char *addr = e->address;

	if (x->cb_error)
		return x->cb_error;      /* the callback set its own error */
	if (x->oom)
		return envup_error_set_oom();
	if (x->cancelled || rc == CURLE_ABORTED_BY_CALLBACK)
		return engine_fail(ENVUP_ECANCELLED, ENVUP_ERROR_CANCELLED, "cancelled");
	if (x->overflow)
		return engine_fail(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			"the Docker engine's answer to %s %s is larger than %zu MiB", method, path,
			ENGINE_RESPONSE_MAX >> 20);
	curl_easy_getinfo(x->h, CURLINFO_OS_ERRNO, &oserr);
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		if (rc == CURLE_COULDNT_RESOLVE_HOST)
			return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"cannot connect to the Docker engine at %s: unknown host", addr);
		else if (oserr == ENOENT)
			return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"cannot connect to the Docker engine at %s: no such file "
				"(is dockerd running? set DOCKER_HOST)", addr);
		else if (oserr == EACCES || oserr == EPERM)
			return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"cannot connect to the Docker engine at %s: permission denied "
				"(add your user to the docker group, or set DOCKER_HOST)", addr);
		else if (oserr == ECONNREFUSED)
			return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"cannot connect to the Docker engine at %s: connection refused "
				"(is dockerd running?)", addr);
		else if (oserr)
			return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"cannot connect to the Docker engine at %s: %s", addr, strerror((int)oserr));
		else
			return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"cannot connect to the Docker engine at %s: %s", addr,
				errbuf[0] ? errbuf : curl_easy_strerror(rc));
	case CURLE_OPERATION_TIMEDOUT:
		/* the connect timeout fired (well before the transfer's): unreachable */
		if (timeout_ms == 0 || elapsed_ms + 100 < timeout_ms) {
			return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"cannot connect to the Docker engine at %s: timed out", addr);
		}
		if (timeout_is_deadline)
			return envup_error_set(ENVUP_ETIMEOUT, ENVUP_ERROR_DOCKER,
				"timed out waiting for the Docker engine (%s %s): deadline passed", method, path);
		else
			return envup_error_set(ENVUP_ETIMEOUT, ENVUP_ERROR_DOCKER,
				"timed out waiting for the Docker engine (%s %s): no answer after %ld s",
				method, path, ENGINE_REQUEST_MAX_MS / 1000);
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		/* ssh: what ssh said (a refused login, an unknown host) */
		if (e->relay) {
			char said[512];
			envup_ssh_relay_last_error(e->relay, said, sizeof(said));
			if (said[0])
				return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
					"cannot connect to the Docker engine at %s: ssh: %s", addr, said);
		}
		/* TLS 1.3: a refused client certificate shows as a closed
		 * connection on the first request */
		if (e->tls_cert && strcmp(path, "/_ping") == 0)
			return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"cannot connect to the Docker engine at %s: it closed the TLS connection: "
				"does it trust the client certificate %s?", addr, e->tls_cert);
		return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			"the Docker engine closed the connection (%s %s)", method, path);
	case CURLE_OUT_OF_MEMORY:
		return envup_error_set_oom();
	case CURLE_PEER_FAILED_VERIFICATION:
		return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			"cannot connect to the Docker engine at %s: TLS: its certificate is not signed "
			"by %s, or does not name the host (%s)", addr, e->tls_ca ? e->tls_ca : "the system's CAs",
			errbuf[0] ? errbuf : curl_easy_strerror(rc));
	case CURLE_SSL_CONNECT_ERROR:
		return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			"cannot connect to the Docker engine at %s: TLS handshake failed: the engine "
			"refused this client's certificate %s, or speaks no TLS (%s)", addr,
			e->tls_cert ? e->tls_cert : "(none)", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			"cannot connect to the Docker engine at %s: TLS: cannot use the certificates "
			"%s, %s, %s (%s)", addr, e->tls_ca ? e->tls_ca : "-", e->tls_cert ? e->tls_cert : "-",
			e->tls_key ? e->tls_key : "-", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	default:
		return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER, "Docker engine request %s %s: %s", method, path,
			errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
}

/*
 * The one place a request is made. `versioned` puts "/vX.Y" before path.
 * Plain requests (cb == NULL) collect the body into resp; streams hand it
 * to cb. api_version_out (may be NULL) receives the Api-Version header.
 */
static int engine_perform_h(envup_engine *e, const char *method, const char *path,
	bool versioned, const char *content_type, const void *body, size_t body_len,
	long *status, envup_buf *resp, envup_engine_data_cb cb, void *payload,
	envup_buf *errbody, char *api_version_out, size_t api_version_size, const char *header);

static int engine_perform(envup_engine *e, const char *method, const char *path,
	bool versioned, const char *content_type, const void *body, size_t body_len,
	long *status, envup_buf *resp, envup_engine_data_cb cb, void *payload,
	envup_buf *errbody, char *api_version_out, size_t api_version_size)
{
	return engine_perform_h(e, method, path, versioned, content_type, body, body_len, status,
		resp, cb, payload, errbody, api_version_out, api_version_size, NULL);
}

static int engine_perform_h(envup_engine *e, const char *method, const char *path,
	bool versioned, const char *content_type, const void *body, size_t body_len,
	long *status, envup_buf *resp, envup_engine_data_cb cb, void *payload,
	envup_buf *errbody, char *api_version_out, size_t api_version_size, const char *header)
{
	engine_xfer x;
	struct curl_slist *headers = NULL, *tmp;
	char errbuf[CURL_ERROR_SIZE];
	char *url = NULL, *ctype = NULL;
	long timeout_ms = 0;
	bool timeout_is_deadline = false, reusable = false;
	double started;
	CURLcode rc;
	int error = ENVUP_ERROR;

	memset(&x, 0, sizeof(x));
	errbuf[0] = '\0';
	if (status)
		*status = 0;
	if ((error = envup_engine_check_interrupt(e)) < 0) {
		if (error == ENVUP_ETIMEOUT)
			envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
				"timed out waiting for the Docker engine (%s %s): deadline passed", method, path);
		return error;
	}
	error = ENVUP_ERROR;
	if (envup_curl_init() < 0)
		return ENVUP_EDOCKER;
	if (resp)
		envup_buf_clear(resp);
	if (errbody)
		envup_buf_clear(errbody);
	if ((x.h = engine_handle_get(e)) == NULL)
		return ENVUP_EDOCKER;
	x.e = e;
	x.resp = resp;
	x.cb = cb;
	x.payload = payload;
	x.errbody = errbody;

	if (versioned)
		url = envup__sprintf("%s/v%s%s", e->base_url, e->api_version, path);
	else
		url = envup__sprintf("%s%s", e->base_url, path);
	if (!url)
		goto done;

	if (e->deadline > 0) {
		double left = (e->deadline - envup_now()) * 1000.0;
		timeout_ms = left < 1 ? 1 : (long)left;
		timeout_is_deadline = true;
	}
	if (!cb && (timeout_ms == 0 || timeout_ms > ENGINE_REQUEST_MAX_MS)) {
		timeout_ms = ENGINE_REQUEST_MAX_MS;
		timeout_is_deadline = false;
	}

	if (body) {
		ctype = envup__sprintf("Content-Type: %s", content_type ? content_type : "application/json");
		if (!ctype)
			goto done;
	}
	/* "Content-Type:" removes the header curl would add for POSTFIELDS: the
	 * engine accepts no Content-Type only with an empty body. */
	if ((tmp = curl_slist_append(headers, ctype ? ctype : "Content-Type:")) == NULL)
		goto oom;
	headers = tmp;
	if ((tmp = curl_slist_append(headers, "Expect:")) == NULL)
		goto oom;
	headers = tmp;
	if (header && (tmp = curl_slist_append(headers, header)) == NULL)
		goto oom;
	if (header)
		headers = tmp;

	curl_easy_setopt(x.h, CURLOPT_URL, url);
	if (e->socket_path)
		curl_easy_setopt(x.h, CURLOPT_UNIX_SOCKET_PATH, e->socket_path);
	if (e->tls_ca) {
		curl_easy_setopt(x.h, CURLOPT_CAINFO, e->tls_ca);
		curl_easy_setopt(x.h, CURLOPT_SSLCERT, e->tls_cert);
		curl_easy_setopt(x.h, CURLOPT_SSLKEY, e->tls_key);
	}
	if (engine_has_prefix(e->base_url, "https:")) {
		curl_easy_setopt(x.h, CURLOPT_SSL_VERIFYPEER, e->tls_verify ? 1L : 0L);
		curl_easy_setopt(x.h, CURLOPT_SSL_VERIFYHOST, e->tls_verify ? 2L : 0L);
	}
	curl_easy_setopt(x.h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x.h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(x.h, CURLOPT_USERAGENT, "envup/" ENVUP_VERSION_STRING);
	curl_easy_setopt(x.h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(x.h, CURLOPT_CONNECTTIMEOUT_MS, ENGINE_CONNECT_MS);
	curl_easy_setopt(x.h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(x.h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(x.h, CURLOPT_WRITEFUNCTION, engine_write);
	curl_easy_setopt(x.h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(x.h, CURLOPT_HEADERFUNCTION, engine_header);
	curl_easy_setopt(x.h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(x.h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(x.h, CURLOPT_XFERINFOFUNCTION, engine_progress);
	curl_easy_setopt(x.h, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(x.h, CURLOPT_TCP_KEEPALIVE, 1L);

	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(x.h, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(x.h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
		curl_easy_setopt(x.h, CURLOPT_POST, 1L);
		curl_easy_setopt(x.h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
		curl_easy_setopt(x.h, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
		if (method[1] == 'U')
			curl_easy_setopt(x.h, CURLOPT_CUSTOMREQUEST, "PUT");
	} else {
		curl_easy_setopt(x.h, CURLOPT_CUSTOMREQUEST, method);
		if (body) {
			curl_easy_setopt(x.h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
			curl_easy_setopt(x.h, CURLOPT_POSTFIELDS, (const char *)body);
		}
	}

	started = envup_now();
	rc = curl_easy_perform(x.h);
	if (rc != CURLE_OK) {
		error = engine_curl_error(e, &x, rc, errbuf, method, path, timeout_is_deadline,
			timeout_ms, (long)((envup_now() - started) * 1000.0));
		goto done;
	}
	curl_easy_getinfo(x.h, CURLINFO_RESPONSE_CODE, &x.status);
	if (status)
		*status = x.status;
	if (api_version_out)
		snprintf(api_version_out, api_version_size, "%s", x.api_version);
	if (resp && !resp->ptr && envup_buf_put(resp, "", 0) < 0)
		goto done;
	reusable = true;
	error = 0;
	goto done;
oom:
	error = envup_error_set_oom();
done:
	/* a pooled handle must not point at this stack frame */
	if (x.h && reusable)
		curl_easy_reset(x.h);
	engine_handle_put(e, x.h, reusable);
	curl_slist_free_all(headers);
	envup__free(url);
	envup__free(ctype);
	return error;
}

int envup_engine_request(envup_engine *e, const char *method, const char *path,
	const char *content_type, const void *body, size_t body_len,
	long *status, envup_buf *resp)
{
	ENVUP_ASSERT_ARG(e && method && path);
	return engine_perform(e, method, path, true, content_type, body, body_len,
		status, resp, NULL, NULL, NULL, NULL, 0);
}

int envup_engine_request_header(envup_engine *e, const char *method, const char *path,
	const char *header, const void *body, size_t body_len, long *status, envup_buf *resp)
{
	ENVUP_ASSERT_ARG(e && method && path);
	return engine_perform_h(e, method, path, true, NULL, body, body_len,
		status, resp, NULL, NULL, NULL, NULL, 0, header);
}

int envup_engine_stream_header(envup_engine *e, const char *method, const char *path,
	const char *header, envup_engine_data_cb cb, void *payload, long *status, envup_buf *errbody)
{
	ENVUP_ASSERT_ARG(e && method && path && cb);
	return engine_perform_h(e, method, path, true, NULL, NULL, 0,
		status, NULL, cb, payload, errbody, NULL, 0, header);
}

int envup_engine_stream(envup_engine *e, const char *method, const char *path,
	envup_engine_data_cb cb, void *payload, long *status, envup_buf *errbody)
{
	ENVUP_ASSERT_ARG(e && method && path && cb);
	return engine_perform(e, method, path, true, NULL, NULL, 0,
		status, NULL, cb, payload, errbody, NULL, 0);
}

int envup_engine_stream_post(envup_engine *e, const char *path, const char *json,
	envup_engine_data_cb cb, void *payload, long *status, envup_buf *errbody)
{
	ENVUP_ASSERT_ARG(e && path && json && cb);
	return engine_perform(e, "POST", path, true, NULL, json, strlen(json),
		status, NULL, cb, payload, errbody, NULL, 0);
}

int envup_engine_get_json(cJSON **out, envup_engine *e, const char *path, const char *what)
{
	envup_buf resp = ENVUP_BUF_INIT;
	long status = 0;
	int error;

	ENVUP_ASSERT_ARG(out && e && path && what);
	*out = NULL;
	if ((error = envup_engine_request(e, "GET", path, NULL, NULL, 0, &status, &resp)) < 0)
		goto done;
	if (status != 200) {
		error = envup_engine_api_error(status, &resp, what);
		goto done;
	}
	error = envup_engine_parse_json(out, &resp, what);
done:
	envup_buf_dispose(&resp);
	return error;
}

/* ---- open / negotiate --------------------------------------------------------- */

static int engine_negotiate(envup_engine *e)
{
	envup_buf body = ENVUP_BUF_INIT;
	char header[16];
	const char *pinned = getenv("DOCKER_API_VERSION");
	long status = 0, have, max = engine_version_num(ENVUP_API_MAX);
	int error;

	header[0] = '\0';
	if ((error = engine_perform(e, "GET", "/_ping", false, NULL, NULL, 0, &status, &body,
	    NULL, NULL, NULL, header, sizeof(header))) < 0)
		goto done;
	if (status != 200) {
		if (status == 404)
			error = engine_fail(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"%s does not look like a Docker engine (GET /_ping: HTTP 404)",
				e->address);
		else
			error = envup_engine_api_error(status, &body, "the Docker engine is not ready (GET /_ping)");
		error = ENVUP_EDOCKER;
		goto done;
	}
	if (header[0] && (e->engine_version = envup__strdup(header)) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	if (pinned && *pinned) {
		if (engine_version_num(pinned) < 0) {
			error = engine_fail(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"DOCKER_API_VERSION=%s is not a version like 1.44", pinned);
			goto done;
		}
		snprintf(e->api_version, sizeof(e->api_version), "%s", pinned);
		goto done;
	}
	/* no header: an old or odd engine; 1.41 is what every engine we support speaks */
	have = engine_version_num(header[0] ? header : ENVUP_API_MIN);
	if (have < 0) {
		error = engine_fail(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			"the Docker engine at %s reports an unreadable API version \"%s\"",
			e->address, header);
		goto done;
	}
	if (have < engine_version_num(ENVUP_API_MIN)) {
		error = engine_fail(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			"the Docker engine at %s speaks API %s; envup needs %s or newer (upgrade Docker)",
			e->address, header, ENVUP_API_MIN);
		goto done;
	}
	snprintf(e->api_version, sizeof(e->api_version), "%s",
		have < max ? (header[0] ? header : ENVUP_API_MIN) : ENVUP_API_MAX);
done:
	envup_buf_dispose(&body);
	return error;
}

static int engine_open_at(envup_engine **out, const char *host, const envup_engine_place *place,
	const envup_engine_options *opts);

/*
 * No address, no DOCKER_HOST, no context: the first well-known socket that
 * answers. When none does, say where envup looked and what each said.
 */
static int engine_open_any(envup_engine **out, const envup_engine_options *opts)
{
	envup_strlist cand = ENVUP_STRLIST_INIT;
	envup_buf why = ENVUP_BUF_INIT;
	struct stat st;
	size_t i;
	int error;

	if ((error = envup_engine_candidates(&cand)) < 0)
		goto done;
	for (i = 0; i < cand.n; i++) {
		const char *path = cand.v[i] + strlen("unix://");
		if (stat(path, &st) < 0) {
			if (envup_buf_printf(&why, "%s%s (%s)", why.size ? "; " : "", path,
			    errno == ENOENT ? "no such file" : strerror(errno)) < 0)
				goto oom;
			continue;
		}
		if ((error = engine_open_at(out, cand.v[i], NULL, opts)) == 0)
			goto done;
		if (error == ENVUP_ERROR || error == ENVUP_ECANCELLED)
			goto done;
		{
			/* "cannot connect to the Docker engine at X: why" -> why */
			const char *m = envup_error_last()->message, *c = strstr(m, ": ");
			if (envup_buf_printf(&why, "%s%s (%s)", why.size ? "; " : "", path,
			    c ? c + 2 : m) < 0)
				goto oom;
		}
	}
	error = envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
		"no Docker engine found: DOCKER_HOST is not set, no docker context is chosen, "
		"and no socket answers: %s. Start dockerd, or set DOCKER_HOST or DOCKER_CONTEXT",
		envup_buf_cstr(&why));
	goto done;
oom:
	error = envup_error_set_oom();
done:
	envup_strlist_dispose(&cand);
	envup_buf_dispose(&why);
	return error;
}

int envup_engine_open(envup_engine **out, const envup_engine_options *opts)
{
	envup_engine_place place;
	int error;

	ENVUP_ASSERT_ARG(out);
	*out = NULL;
	if (envup_curl_init() < 0)
		return ENVUP_EDOCKER;
	{
		const char *over = getenv("ENVUP_HOST");
		if (over && *over && (!envup_is_printable(over) || strpbrk(over, " /@?#")))
			return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"ENVUP_HOST '%s': expected a host name or address", over);
	}
	if ((error = envup_engine_place_find(&place, opts ? opts->docker_host : NULL)) < 0)
		return error;
	if (place.host)
		error = engine_open_at(out, place.host, &place, opts);
	else
		error = engine_open_any(out, opts);
	envup_engine_place_dispose(&place);
	return error;
}

static int engine_open_at(envup_engine **out, const char *host, const envup_engine_place *place,
	const envup_engine_options *opts)
{
	envup_engine *e = NULL;
	int error = ENVUP_ERROR;

	*out = NULL;
	if ((e = envup__calloc(1, sizeof(*e))) == NULL)
		return ENVUP_ERROR;
	if (pthread_mutex_init(&e->pool_lock, NULL) != 0) {
		envup__free(e);
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "pthread_mutex_init");
	}
	if (opts) {
		e->cancel = opts->cancel;
		e->deadline = opts->deadline;
	}
	e->place = place;
	error = engine_parse_host(e, host);
	e->place = NULL;
	if (error < 0)
		goto done;
	/* where this machine reaches published ports, when not the engine's
	 * host: a dind service reached as "docker", a VM */
	{
		const char *over = getenv("ENVUP_HOST");
		if (over && *over) {
			char *copy;
			if ((copy = envup__strdup(over)) == NULL) {
				error = ENVUP_ERROR;
				goto done;
			}
			envup__free(e->port_host);
			e->port_host = copy;
		}
	}
	if ((error = engine_negotiate(e)) < 0)
		goto done;
	*out = e;
	e = NULL;
done:
	envup_engine_free(e);
	return error;
}

void envup_engine_free(envup_engine *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->npool; i++)
		curl_easy_cleanup(e->pool[i]);
	envup_ssh_relay_stop(e->relay);
	pthread_mutex_destroy(&e->pool_lock);
	envup__free(e->address);
	envup__free(e->socket_path);
	envup__free(e->base_url);
	envup__free(e->port_host);
	envup__free(e->bind_ip);
	envup__free(e->tls_ca);
	envup__free(e->tls_cert);
	envup__free(e->tls_key);
	envup__free(e->engine_version);
	envup__free(e);
}

const char *envup_engine_api_version(const envup_engine *e)
{
	return e->api_version;
}

const char *envup_engine_server_api_version(const envup_engine *e)
{
	return e->engine_version;
}

const char *envup_engine_address(const envup_engine *e)
{
	return e->address;
}

bool envup_engine_is_local(const envup_engine *e)
{
	return e->socket_path && !e->relay;
}

const char *envup_engine_port_host(const envup_engine *e)
{
	return e->port_host;
}

const char *envup_engine_bind_ip(const envup_engine *e)
{
	return e->bind_ip;
}

void envup_engine_set_deadline(envup_engine *e, double deadline)
{
	e->deadline = deadline;
}

double envup_engine_deadline(const envup_engine *e)
{
	return e->deadline;
}
