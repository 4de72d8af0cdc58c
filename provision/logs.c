/*
 * envup_logs(): a service's logs, streamed from the backend to the
 * caller's callback, never collected, however much the service logged.
 */
#include <stdio.h>
#include <string.h>
#include "provision/identity.h"
#include "provision/target.h"

typedef struct {
	envup_log_write_cb cb;
	void *payload;
} log_forward;

static int forward_log(const char *data, size_t len, void *payload)
{
	log_forward *f = payload;
	return f->cb(data, len, f->payload) ? 1 : 0;
}

int envup_logs(const envup_target *target, const char *service, int tail, int follow,
	envup_log_write_cb cb, void *payload)
{
	envup_target defaults = ENVUP_TARGET_INIT;
	envup_backend *b = NULL;
	envup_container_summary *list = NULL;
	size_t n = 0, i;
	char *name = NULL;
	const char *id = NULL;
	int error;

	ENVUP_ASSERT_ARG(service && cb);
	if (!target)
		target = &defaults;
	if ((error = envup_target__open(&name, &b, &list, &n, target)) < 0)
		goto done;
	/* following has no end; a plain read of a long log gets ten minutes */
	b->ops->set_deadline(b, follow ? 0 : envup_now() + 600);
	for (i = 0; i < n; i++) {
		const char *svc = envup_kvlist_get(&list[i].labels, ENVUP_LABEL_SERVICE);
		if (svc && strcmp(svc, service) == 0)
			id = list[i].id;
	}
	if (!id) {
		envup_buf names = ENVUP_BUF_INIT;
		char shown[64];
		if (n == 0) {
			error = envup_target__not_up(name);
			goto done;
		}
		for (i = 0; i < n; i++) {
			envup_identity ident;
			envup_identity_read(&ident, &list[i].labels);
			if (ident.service[0] && envup_buf_printf(&names, "%s%s", names.size ? ", " : "",
			    ident.service) < 0)
				break;
		}
		envup_printable_into(shown, sizeof(shown), service);
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "environment '%s' has no service '%s'; its "
			"services: %s", name, shown, envup_buf_cstr(&names));
		envup_buf_dispose(&names);
		error = ENVUP_ENOTFOUND;
		goto done;
	}
	/* streamed, never collected: a service may have logged gigabytes */
	{
		log_forward f = {cb, payload};
		error = b->ops->logs(b, id, tail, follow != 0, forward_log, &f);
	}
done:
	envup_container_summaries_free(list, n);
	envup_backend_free(b);
	envup__free(name);
	return error;
}
