/*
 * HTTP for probes and the MockServer loader: one libcurl easy handle per
 * request, never a proxy (CURLOPT_NOPROXY "*": the target is always the
 * engine's published port), no redirects, http:// only.
 * curl_global_init: once per process, shared with the engine client
 * (util/curlx.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include "healthcheck/health.h"
#include "healthcheck/probe.h"

#define HTTP_BODY_MAX ((size_t)64 * 1024)
#define HTTP_SNIPPET_MAX 120

/* Keeps the first HTTP_BODY_MAX bytes and swallows the rest. */
static size_t http_write(char *data, size_t size, size_t nmemb, void *payload)
{
	envup_buf *body = payload;
	size_t len = size * nmemb, room;

	room = body->size < HTTP_BODY_MAX ? HTTP_BODY_MAX - body->size : 0;
	if (room && envup_buf_put(body, data, len < room ? len : room) < 0)
		return 0; /* out of memory: abort the transfer */
	return len;
}

/* A curl failure as a reason; <0 for those that retrying cannot fix. */
static int http_failure(char **why, CURL *curl, CURLcode rc, const char *errbuf,
	const char *request, long timeout_ms)
{
	long oserr = 0;

	curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &oserr);
	switch (rc) {
	case CURLE_OUT_OF_MEMORY:
		return envup_error_set_oom();
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_HTTP, "%s: %s", request,
			*errbuf ? errbuf : curl_easy_strerror(rc));
	case CURLE_OPERATION_TIMEDOUT:
		return envup_health__not_ready(why, "%s: no answer within %ld ms",
			request, timeout_ms);
	case CURLE_GOT_NOTHING:
		return envup_health__not_ready(why, "%s: connection closed by peer (empty reply)",
			request);
	default:
		break;
	}
	if (oserr == ECONNREFUSED)
		return envup_health__not_ready(why, "%s: connection refused", request);
	if (oserr == ECONNRESET)
		return envup_health__not_ready(why, "%s: connection reset by peer", request);
	return envup_health__not_ready(why, "%s: %s", request,
		*errbuf ? errbuf : curl_easy_strerror(rc));
}

int envup_health__http(envup_health_http_reply *reply, char **why,
	const char *method, const char *host, int port, const char *path,
	const char *content_type, const char *data, size_t len, long timeout_ms)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	char *url = NULL, *request = NULL, *ctype = NULL;
	struct curl_slist *headers = NULL, *h;
	CURL *curl = NULL;
	CURLcode rc;
	int error = ENVUP_ERROR;
	const char *slash;

	ENVUP_ASSERT_ARG(reply && why && method && *method && host && *host && path);
	ENVUP_ASSERT_ARG(port > 0 && port <= 65535);
	reply->status = 0;
	envup_buf_clear(&reply->body);
	if (timeout_ms <= 0)
		timeout_ms = 1000;
	if (envup_curl_init() < 0)
		return ENVUP_ERROR;

	slash = path[0] == '/' ? "" : "/";
	url = envup__sprintf(strchr(host, ':') ? "http://[%s]:%d%s%s" : "http://%s:%d%s%s",
		host, port, slash, path);
	request = envup__sprintf("%s %s%s", method, slash, path);
	if (!url || !request)
		goto done;
	if ((curl = curl_easy_init()) == NULL) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_HTTP, "cannot create a curl handle");
		goto done;
	}
	/* no "Expect: 100-continue" round trip; our own Content-Type or none */
	if (content_type && (ctype = envup__sprintf("Content-Type: %s", content_type)) == NULL)
		goto done;
	if ((h = curl_slist_append(headers, "Expect:")) == NULL)
		goto oom;
	headers = h;
	if ((h = curl_slist_append(headers, ctype ? ctype : "Content-Type:")) == NULL)
		goto oom;
	headers = h;

	curl_easy_setopt(curl, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
#else
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTP);
#endif
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "envup/" ENVUP_VERSION_STRING);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply->body);
	if (strcmp(method, "GET") == 0 && !data) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
		if (data || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
		    strcmp(method, "PATCH") == 0) {
			/* a bodiless PUT/POST still says Content-Length: 0 */
			curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data ? data : "");
			curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		}
	}

	rc = curl_easy_perform(curl);
	if (rc != CURLE_OK) {
		error = http_failure(why, curl, rc, errbuf, request, timeout_ms);
		goto done;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
	error = 0;
	goto done;
oom:
	error = envup_error_set_oom();
done:
	curl_slist_free_all(headers);
	if (curl)
		curl_easy_cleanup(curl);
	envup__free(ctype);
	envup__free(request);
	envup__free(url);
	return error;
}

int envup_probe_http(char **why, const char *host, int port, const char *method,
	const char *path, int expect_status, long timeout_ms)
{
	envup_health_http_reply reply = ENVUP_HEALTH_HTTP_REPLY_INIT;
	char *snippet = NULL;
	int r;

	ENVUP_ASSERT_ARG(why);
	*why = NULL;
	if (!method || !*method)
		method = "GET";
	if (!path || !*path)
		path = "/";
	r = envup_health__http(&reply, why, method, host, port, path, NULL, NULL, 0,
		timeout_ms);
	if (r != 0)
		goto done;
	if (reply.status == expect_status)
		goto done;
	if ((snippet = envup_health__fold(envup_buf_cstr(&reply.body), HTTP_SNIPPET_MAX)) == NULL) {
		r = ENVUP_ERROR;
		goto done;
	}
	r = envup_health__not_ready(why, "HTTP %ld from %s %s%s%s%s", reply.status, method,
		path[0] == '/' ? "" : "/", path, *snippet ? ": " : "", snippet);
done:
	envup__free(snippet);
	envup_buf_dispose(&reply.body);
	return r;
}

int envup_probe_mockserver(char **why, const char *host, int port, long timeout_ms)
{
	return envup_probe_http(why, host, port, "PUT", "/mockserver/status", 200,
		timeout_ms);
}
