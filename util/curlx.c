/*
 * libcurl, set up once and used for escaping: the process-wide
 * curl_global_init (the engine client and the HTTP probes share it), and
 * percent-encoding through curl_easy_escape instead of encoders of our own.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <curl/curl.h>
#include "util/util.h"

static pthread_once_t curlx_once = PTHREAD_ONCE_INIT;
static CURLcode curlx_rc = CURLE_FAILED_INIT;

static void curlx_global_init(void)
{
	/* not thread-safe in libcurl itself: hence the once */
	curlx_rc = curl_global_init(CURL_GLOBAL_ALL);
}

int envup_curl_init(void)
{
	if (pthread_once(&curlx_once, curlx_global_init) != 0 || curlx_rc != CURLE_OK)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot initialise libcurl: %s",
			curl_easy_strerror(curlx_rc));
	return 0;
}

/* curl_easy_escape's result, copied into envup's allocator. */
static char *escape_n(const char *s, size_t len)
{
	char *esc, *out;

	if (envup_curl_init() < 0)
		return NULL;
	if (len > (size_t)INT32_MAX ||
	    (esc = curl_easy_escape(NULL, len ? s : "", (int)len)) == NULL) {
		envup_error_set_oom();
		return NULL;
	}
	out = envup__strdup(esc);
	curl_free(esc);
	return out;
}

char *envup_url_escape(const char *s)
{
	return escape_n(s ? s : "", s ? strlen(s) : 0);
}

int envup_url_escape_into(envup_buf *out, const char *s)
{
	char *esc = envup_url_escape(s);
	int error;

	if (!esc)
		return ENVUP_ERROR;
	error = envup_buf_puts(out, esc);
	envup__free(esc);
	return error;
}

char *envup_url_escape_path(const char *s)
{
	envup_buf b = ENVUP_BUF_INIT;
	const char *p = s ? s : "", *slash;

	for (;;) {
		char *seg;
		slash = strchr(p, '/');
		if ((seg = escape_n(p, slash ? (size_t)(slash - p) : strlen(p))) == NULL)
			goto fail;
		if (envup_buf_puts(&b, seg) < 0) {
			envup__free(seg);
			goto fail;
		}
		envup__free(seg);
		if (!slash)
			break;
		if (envup_buf_putc(&b, '/') < 0)
			goto fail;
		p = slash + 1;
	}
	if (envup_buf_put(&b, "", 0) < 0)
		goto fail;
	return envup_buf_detach(&b);
fail:
	envup_buf_dispose(&b);
	return NULL;
}
