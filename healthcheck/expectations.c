/*
 * Loading MockServer expectations before a mockserver service counts as
 * ready: the file is PUT to /mockserver/expectation as is, and a rejection
 * is reported with MockServer's own reason.
 */
#include <stdlib.h>
#include <string.h>
#include "healthcheck/health.h"
#include "healthcheck/load.h"

#define MOCK_MESSAGE_MAX 300

/* ---- MockServer expectations -------------------------------------------- */

/*
 * MockServer's 400 text echoes the whole expectation before saying what is
 * wrong ("incorrect expectation json format for: {...} schema validation
 * errors: ..."). Keep the first line and the errors, drop the echo.
 */
static char *mock_message(const char *body)
{
	static const char marker[] = "schema validation errors:";
	const char *errors = strstr(body, marker);
	const char *nl = strchr(body, '\n');
	char *first = NULL, *r;

	if (!*body)
		return envup__strdup("(empty answer)");
	if (!errors || !nl || nl > errors)
		return envup_health__fold(body, MOCK_MESSAGE_MAX);
	if ((first = envup__strndup(body, (size_t)(nl - body))) == NULL)
		return NULL;
	if (first[0] && first[strlen(first) - 1] == ':')
		first[strlen(first) - 1] = '\0';
	r = envup_health__reasonf("%s; %s", first, errors);
	envup__free(first);
	if (r && strlen(r) > MOCK_MESSAGE_MAX) {
		char *cut = envup_health__fold(r, MOCK_MESSAGE_MAX);
		envup__free(r);
		r = cut;
	}
	return r;
}

int envup_mockserver_load(const char *host, int port, const char *path,
	const char *display, long timeout_ms)
{
	envup_health_http_reply reply = ENVUP_HEALTH_HTTP_REPLY_INIT;
	envup_buf json = ENVUP_BUF_INIT;
	char *why = NULL, *msg = NULL;
	int r, error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(host && path);
	if (!display)
		display = path;
	if (timeout_ms <= 0)
		timeout_ms = 30000;
	if (envup_read_file(&json, path, 0) < 0)
		goto done;
	r = envup_health__http(&reply, &why, "PUT", host, port, "/mockserver/expectation",
		"application/json", envup_buf_cstr(&json), json.size, timeout_ms);
	if (r < 0)
		goto done;
	if (r > 0) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_HTTP, "expectations %s: cannot reach MockServer: %s",
			display, why);
		goto done;
	}
	if (reply.status < 200 || reply.status > 299) {
		if ((msg = mock_message(envup_buf_cstr(&reply.body))) == NULL)
			goto done;
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_HTTP, "expectations %s rejected by MockServer (HTTP %ld): %s",
			display, reply.status, msg);
		goto done;
	}
	error = 0;
done:
	envup_buf_dispose(&reply.body);
	envup_buf_dispose(&json);
	envup__free(why);
	envup__free(msg);
	return error;
}
