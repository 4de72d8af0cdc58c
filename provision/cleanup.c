/*
 * Removal by label: containers in parallel (a small pool of threads, one
 * container at a time each), then networks, then volumes.
 *
 * Safety: the managed label is always part of the filter, and every list
 * function re-checks the labels of what the engine returned, so nothing
 * without ENVUP_LABEL_MANAGED=true is ever removed.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "provision/cleanup.h"
#include "provision/container.h"
#include "provision/network.h"
#include "provision/identity.h"
#include "provision/swarm.h"

/* how long a removed service's tasks may take to go before its network is next */
#define SERVICE_TASKS_WAIT_S 30.0

#define CLEANUP_THREADS_MAX 16

typedef struct {
	envup_engine *e;
	envup_container_summary *items;
	size_t count;
	size_t next;                /* next item to take (under lock) */
	int *result;                /* per item */
	char **message;             /* per item, on failure */
	pthread_mutex_t lock;       /* guards next, cb calls */
	envup_cleanup_cb cb;
	void *payload;
} cleanup_work;

static const char *cleanup_name(const envup_container_summary *s)
{
	return s->name ? s->name : s->id;
}

static void *cleanup_worker(void *arg)
{
	cleanup_work *w = arg;

	for (;;) {
		size_t i;
		int rc;

		pthread_mutex_lock(&w->lock);
		i = w->next++;
		pthread_mutex_unlock(&w->lock);
		if (i >= w->count)
			break;
		rc = envup_container_remove(w->e, w->items[i].id);
		w->result[i] = rc;
		if (rc < 0) {
			/* errors are per thread: carry the text to the caller's thread */
			w->message[i] = envup__strdup(envup_error_last()->message);
		} else if (w->cb) {
			pthread_mutex_lock(&w->lock);
			w->cb("container", cleanup_name(&w->items[i]), w->payload);
			pthread_mutex_unlock(&w->lock);
		}
	}
	return NULL;
}

static int cleanup_failed(envup_cleanup_report *r, const char *fmt, ...) ENVUP_PRINTF(2, 3);

static int cleanup_failed(envup_cleanup_report *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return envup_strlist_push(&r->failed, line);
}

static int cleanup_containers(envup_cleanup_report *r, envup_engine *e,
	const envup_strlist *filter, envup_cleanup_cb cb, void *payload)
{
	cleanup_work w;
	pthread_t threads[CLEANUP_THREADS_MAX];
	size_t nthreads = 0, i;
	int error;

	memset(&w, 0, sizeof(w));
	if ((error = envup_container_list(&w.items, &w.count, e, filter)) < 0)
		return error;
	error = ENVUP_ERROR;
	if (w.count == 0) {
		error = 0;
		goto done;
	}
	if ((w.result = envup__calloc(w.count, sizeof(int))) == NULL ||
	    (w.message = envup__calloc(w.count, sizeof(char *))) == NULL)
		goto done;
	if (pthread_mutex_init(&w.lock, NULL) != 0) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "pthread_mutex_init");
		goto done;
	}
	w.e = e;
	w.cb = cb;
	w.payload = payload;
	for (i = 0; i < w.count && i < CLEANUP_THREADS_MAX; i++) {
		if (pthread_create(&threads[nthreads], NULL, cleanup_worker, &w) != 0)
			break;         /* fewer threads is fine; none is handled below */
		nthreads++;
	}
	if (nthreads == 0)
		cleanup_worker(&w);
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&w.lock);

	for (i = 0; i < w.count; i++) {
		if (w.result[i] == 0) {
			r->containers++;
			continue;
		}
		if (cleanup_failed(r, "container %s (%.12s): %s", cleanup_name(&w.items[i]),
		    w.items[i].id, w.message[i] ? w.message[i] : "out of memory") < 0 ||
		    envup_strlist_push(&r->left_containers, w.items[i].id) < 0)
			goto done;
	}
	error = 0;
done:
	for (i = 0; w.message && i < w.count; i++)
		envup__free(w.message[i]);
	envup__free(w.message);
	envup__free(w.result);
	envup_container_summaries_free(w.items, w.count);
	return error;
}

/* Networks by id: several may share a name (a racy duplicate check on
 * old engines), and removal by that name is then refused as ambiguous. */
static int cleanup_networks(envup_cleanup_report *r, envup_engine *e,
	const envup_strlist *filter, envup_cleanup_cb cb, void *payload)
{
	envup_network_info *nets = NULL;
	size_t n = 0, i;
	int error;

	if ((error = envup_network_find(&nets, &n, e, NULL, filter)) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		int rc = envup_network_remove(e, nets[i].id);
		if (rc == 0) {
			r->networks++;
			if (cb)
				cb("network", nets[i].name, payload);
		} else if (rc == ENVUP_ECANCELLED) {
			error = rc;
			goto done;
		} else if ((error = cleanup_failed(r, "network %s (%.12s): %s", nets[i].name,
		    nets[i].id, envup_error_last()->message)) < 0 ||
		    (error = envup_strlist_push(&r->left_networks, nets[i].id)) < 0) {
			goto done;
		}
	}
done:
	envup_network_infos_free(nets, n);
	return error;
}

/* A swarm's services (none on an engine that is not a manager): all
 * removed, then their tasks waited for together. */
static int cleanup_services(envup_cleanup_report *r, envup_engine *e,
	const envup_strlist *filter, envup_cleanup_cb cb, void *payload)
{
	envup_swarm_object *v = NULL;
	const char **gone = NULL;
	size_t n = 0, i, ngone = 0;
	int error;

	if ((error = envup_swarm_find(&v, &n, e, "services", filter)) < 0)
		return error;
	if (n && (gone = envup__calloc(n, sizeof(*gone))) == NULL) {
		envup_swarm_objects_free(v, n);
		return ENVUP_ERROR;
	}
	for (i = 0; i < n; i++) {
		int rc = envup_swarm_service_delete(e, v[i].id);
		if (rc == 0)
			gone[ngone++] = v[i].id;
		if (rc == 0) {
			r->services++;
			if (cb)
				cb("service", v[i].name, payload);
		} else if (rc == ENVUP_ECANCELLED) {
			error = rc;
			break;
		} else if ((error = cleanup_failed(r, "service %s (%.12s): %s", v[i].name, v[i].id,
		    envup_error_last()->message)) < 0 ||
		    (error = envup_strlist_push(&r->left_services, v[i].id)) < 0) {
			break;
		}
	}
	if (error == 0 && ngone)
		error = envup_swarm_tasks_wait_gone(e, gone, ngone, SERVICE_TASKS_WAIT_S);
	envup__free(gone);
	envup_swarm_objects_free(v, n);
	return error;
}

static int cleanup_configs(envup_cleanup_report *r, envup_engine *e,
	const envup_strlist *filter, envup_cleanup_cb cb, void *payload)
{
	envup_swarm_object *v = NULL;
	size_t n = 0, i;
	int error;

	if ((error = envup_swarm_find(&v, &n, e, "configs", filter)) < 0)
		return error;
	for (i = 0; i < n; i++) {
		int rc = envup_swarm_config_remove(e, v[i].id);
		if (rc == 0) {
			r->configs++;
			if (cb)
				cb("config", v[i].name, payload);
		} else if (rc == ENVUP_ECANCELLED) {
			error = rc;
			break;
		} else if ((error = cleanup_failed(r, "config %s (%.12s): %s", v[i].name, v[i].id,
		    envup_error_last()->message)) < 0) {
			break;
		}
	}
	envup_swarm_objects_free(v, n);
	return error;
}

static int cleanup_volumes(envup_cleanup_report *r, envup_engine *e,
	const envup_strlist *filter, envup_cleanup_cb cb, void *payload)
{
	envup_strlist names = ENVUP_STRLIST_INIT;
	size_t i;
	int error;

	if ((error = envup_volume_list(&names, e, filter)) < 0)
		goto done;
	for (i = 0; i < names.n; i++) {
		int rc = envup_volume_remove(e, names.v[i]);
		if (rc == 0) {
			r->volumes++;
			if (cb)
				cb("volume", names.v[i], payload);
		} else if (rc == ENVUP_ECANCELLED) {
			error = rc;
			goto done;
		} else if ((error = cleanup_failed(r, "volume %s: %s", names.v[i],
		    envup_error_last()->message)) < 0 ||
		    (error = envup_strlist_push(&r->left_volumes, names.v[i])) < 0) {
			goto done;
		}
	}
done:
	envup_strlist_dispose(&names);
	return error;
}

int envup_cleanup_by_labels(envup_cleanup_report *report, envup_engine *e,
	const envup_strlist *labels, envup_cleanup_cb cb, void *payload)
{
	envup_strlist filter = ENVUP_STRLIST_INIT;
	size_t i;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(report && e);
	if (envup_strlist_push(&filter, ENVUP_LABEL_MANAGED "=true") < 0)
		goto done;
	for (i = 0; labels && i < labels->n; i++) {
		/* a caller's own managed=... must not widen or contradict ours */
		if (strncmp(labels->v[i], ENVUP_LABEL_MANAGED, strlen(ENVUP_LABEL_MANAGED)) == 0 &&
		    (labels->v[i][strlen(ENVUP_LABEL_MANAGED)] == '\0' ||
		     labels->v[i][strlen(ENVUP_LABEL_MANAGED)] == '='))
			continue;
		if (envup_strlist_push(&filter, labels->v[i]) < 0)
			goto done;
	}
	if ((error = cleanup_services(report, e, &filter, cb, payload)) < 0 ||
	    (error = cleanup_containers(report, e, &filter, cb, payload)) < 0 ||
	    (error = cleanup_networks(report, e, &filter, cb, payload)) < 0 ||
	    (error = cleanup_volumes(report, e, &filter, cb, payload)) < 0 ||
	    (error = cleanup_configs(report, e, &filter, cb, payload)) < 0)
		goto done;
	if (report->failed.n) {
		if (report->failed.n == 1)
			error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "could not remove %s",
				report->failed.v[0]);
		else
			error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "could not remove %zu resources; first: %s",
				report->failed.n, report->failed.v[0]);
	}
done:
	envup_strlist_dispose(&filter);
	return error;
}

void envup_cleanup_report_dispose(envup_cleanup_report *report)
{
	if (!report)
		return;
	envup_strlist_dispose(&report->failed);
	envup_strlist_dispose(&report->left_containers);
	envup_strlist_dispose(&report->left_networks);
	envup_strlist_dispose(&report->left_volumes);
	envup_strlist_dispose(&report->left_services);
	report->containers = report->networks = report->volumes = 0;
	report->services = report->configs = 0;
}
