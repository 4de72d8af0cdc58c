/*
 * Docker Swarm's API (swarm.h): the manager check, services, tasks, nodes,
 * configs and the registry lookup of an image.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "provision/swarm.h"
#include "provision/jsonx.h"
#include "provision/stream.h"

#define NOT_A_MANAGER_STATUS 503

int envup_swarm_check_manager(envup_engine *e)
{
	cJSON *info = NULL, *sw;
	const char *state;
	int error;

	if ((error = envup_engine_get_json(&info, e, "/info", "read the engine's info")) < 0)
		return error;
	sw = cJSON_GetObjectItemCaseSensitive(info, "Swarm");
	state = jsonx_str(sw, "LocalNodeState");
	if (!state || strcmp(state, "active") != 0)
		error = envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"--backend swarm: the engine at %s is not part of a swarm (its swarm state is %s); "
			"point DOCKER_HOST at a swarm manager",
			envup_engine_address(e), state && *state ? state : "inactive");
	else if (!jsonx_bool(sw, "ControlAvailable"))
		error = envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"--backend swarm: the engine at %s is a swarm worker, not a manager; "
			"point DOCKER_HOST at a manager",
			envup_engine_address(e));
	cJSON_Delete(info);
	return error;
}

/* The fraction of "...:09.45Z" in nanoseconds (Go trims trailing zeros, so
 * these do not compare as strings). */
static long long rfc3339_nanos(const char *s)
{
	const char *dot = s ? strchr(s, '.') : NULL;
	long long ns = 0;
	int digits = 0;

	if (!dot)
		return 0;
	for (dot++; *dot >= '0' && *dot <= '9'; dot++)
		if (digits++ < 9)
			ns = ns * 10 + (*dot - '0');
	for (; digits < 9; digits++)
		ns *= 10;
	return ns;
}

/* "2026-12-01T19:17:09.450503881Z" -> unix seconds (UTC only; 0 when not
 * of that form) */
static long long rfc3339_seconds(const char *s)
{
	int y, mo, d, h, mi, sec;
	long long days;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6 ||
	    mo < 1 || mo > 12 || d < 1 || d > 31)
		return 0;
	/* days from civil (Howard Hinnant's algorithm) */
	y -= mo <= 2;
	{
		long long era = (y >= 0 ? y : y - 399) / 400;
		unsigned yoe = (unsigned)(y - era * 400);
		unsigned doy = (unsigned)((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1);
		unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
		days = era * 146097 + (long long)doe - 719468;
	}
	return days * 86400 + h * 3600 + mi * 60 + sec;
}

static void object_dispose(envup_swarm_object *o)
{
	envup__free(o->id);
	envup__free(o->name);
	envup__free(o->image);
	envup_kvlist_dispose(&o->labels);
}

void envup_swarm_objects_free(envup_swarm_object *v, size_t n)
{
	size_t i;
	if (!v)
		return;
	for (i = 0; i < n; i++)
		object_dispose(&v[i]);
	envup__free(v);
}

int envup_swarm_find(envup_swarm_object **out, size_t *count, envup_engine *e,
	const char *collection, const envup_strlist *labels)
{
	envup_buf path = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT;
	envup_swarm_object *v = NULL;
	cJSON *json = NULL, *item;
	char *filter = NULL, *what = NULL;
	size_t n = 0, cap;
	long status = 0;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(out && count && e && collection);
	*out = NULL;
	*count = 0;
	if ((filter = envup_engine_label_filter(labels)) == NULL ||
	    envup_buf_printf(&path, "/%s?filters=%s", collection, filter) < 0 ||
	    (what = envup__sprintf("list swarm %s", collection)) == NULL)
		goto done;
	if ((error = envup_engine_request(e, "GET", envup_buf_cstr(&path), NULL, NULL, 0, &status,
	    &resp)) < 0)
		goto done;
	if ((status == NOT_A_MANAGER_STATUS && strstr(envup_buf_cstr(&resp), "not a swarm manager")) ||
	    status == 404 || status == 501) {
		/* not a manager (or an engine without swarm: podman): it runs no
		 * services of anyone's. A manager without a leader also answers
		 * 503, with other words: that is an error, not "none". */
		error = 0;
		goto done;
	}
	if (status != 200) {
		error = envup_engine_api_error(status, &resp, what);
		goto done;
	}
	if ((error = envup_engine_parse_json(&json, &resp, what)) < 0)
		goto done;
	error = ENVUP_ERROR;
	cap = cJSON_IsArray(json) ? (size_t)cJSON_GetArraySize(json) : 0;
	if ((v = envup__calloc(cap ? cap : 1, sizeof(*v))) == NULL)
		goto done;
	if (!cJSON_IsArray(json))
		cap = 0;
	cJSON_ArrayForEach(item, (cap ? json : NULL)) {
		const cJSON *spec = cJSON_GetObjectItemCaseSensitive(item, "Spec");
		envup_swarm_object *o = &v[n];
		const char *id = jsonx_str(item, "ID"), *name = jsonx_str(spec, "Name");
		if (!id || !*id || !name || !*name)
			continue;  /* not a thing we could name or remove */
		if ((o->id = envup__strdup(id)) == NULL || (o->name = envup__strdup(name)) == NULL ||
		    jsonx_dup(&o->image, cJSON_GetObjectItemCaseSensitive(
		        cJSON_GetObjectItemCaseSensitive(spec, "TaskTemplate"), "ContainerSpec"), "Image") < 0 ||
		    jsonx_labels(&o->labels, cJSON_GetObjectItemCaseSensitive(spec, "Labels")) < 0) {
			object_dispose(o);
			goto done;
		}
		o->created = rfc3339_seconds(jsonx_str(item, "CreatedAt"));
		if (!envup_engine_labels_match(&o->labels, labels)) {
			object_dispose(o);
			memset(o, 0, sizeof(*o));
			continue;
		}
		n++;
	}
	*out = v;
	*count = n;
	v = NULL;
	error = 0;
done:
	envup_swarm_objects_free(v, n);
	cJSON_Delete(json);
	envup_buf_dispose(&path);
	envup_buf_dispose(&resp);
	envup__free(filter);
	envup__free(what);
	return error;
}

/* A create endpoint's answer spells the id "ID" for swarm objects. */
static int swarm_create(char **id_out, envup_engine *e, const char *path, const cJSON *body,
	const char *header, const char *what)
{
	return envup_engine_create_with(id_out, e, path, body, header, "ID", what);
}

int envup_swarm_service_create(char **id_out, envup_engine *e, const cJSON *spec, const char *auth)
{
	const char *name = jsonx_str(spec, "Name");
	char *what = envup__sprintf("create swarm service %s", name ? name : "?");
	int error = what ? swarm_create(id_out, e, "/services/create", spec, auth, what) : ENVUP_ERROR;

	envup__free(what);
	return error;
}

static int swarm_delete(envup_engine *e, const char *collection, const char *id, const char *what,
	double busy_wait_s)
{
	envup_buf path = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT;
	double until = envup_now() + busy_wait_s;
	char *esc = NULL;
	long status = 0;
	int error = ENVUP_ERROR;

	if ((esc = envup_url_escape(id)) == NULL ||
	    envup_buf_printf(&path, "/%s/%s", collection, esc) < 0)
		goto done;
	for (;;) {
		if ((error = envup_engine_request(e, "DELETE", envup_buf_cstr(&path), NULL, NULL, 0,
		    &status, &resp)) < 0)
			goto done;
		if (status == 200 || status == 204 || status == 404) {
			error = 0;
			goto done;
		}
		/* a config stays in use until its service's tasks are gone */
		if (!strstr(envup_buf_cstr(&resp), "in use") || envup_now() >= until)
			break;
		if ((error = envup_engine_check_interrupt(e)) < 0)
			goto done;
		envup_sleep_ms(200);
	}
	error = envup_engine_api_error(status, &resp, what);
done:
	envup_buf_dispose(&path);
	envup_buf_dispose(&resp);
	envup__free(esc);
	return error;
}

int envup_swarm_service_delete(envup_engine *e, const char *id)
{
	char *what = envup__sprintf("remove swarm service %s", id);
	int error = what ? swarm_delete(e, "services", id, what, 0) : ENVUP_ERROR;
	envup__free(what);
	return error;
}

int envup_swarm_service_remove(envup_engine *e, const char *id, double wait_s)
{
	int error = envup_swarm_service_delete(e, id);
	return error < 0 ? error : envup_swarm_tasks_wait_gone(e, &id, 1, wait_s);
}

int envup_swarm_tasks_wait_gone(envup_engine *e, const char *const *ids, size_t n, double wait_s)
{
	double until = envup_now() + wait_s;
	size_t i = 0;

	/* the agents remove the task containers after the manager forgets the
	 * service: wait for them, so that what is removed is gone */
	while (i < n && envup_now() < until) {
		size_t left = 0;
		if (envup_swarm_task_count(&left, e, ids[i]) < 0)
			break;
		if (left == 0) {
			i++;
			continue;
		}
		{
			int rc = envup_engine_check_interrupt(e);
			if (rc < 0)
				return rc;
		}
		envup_sleep_ms(100);
	}
	envup_error_clear();
	return 0;
}

int envup_swarm_config_create(char **id_out, envup_engine *e, const char *name,
	const envup_kvlist *labels, const void *data, size_t len)
{
	cJSON *body = NULL, *obj;
	char *b64 = NULL, *what = NULL;
	size_t i;
	int error = ENVUP_ERROR;

	if ((b64 = envup_base64_encode(data, len)) == NULL ||
	    (what = envup__sprintf("create swarm config %s", name)) == NULL ||
	    (body = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(body, "Name", name) ||
	    !cJSON_AddStringToObject(body, "Data", b64) ||
	    (obj = cJSON_AddObjectToObject(body, "Labels")) == NULL)
		goto oom;
	for (i = 0; labels && i < labels->n; i++)
		if (!cJSON_AddStringToObject(obj, labels->v[i].key, labels->v[i].value))
			goto oom;
	error = swarm_create(id_out, e, "/configs/create", body, NULL, what);
	goto done;
oom:
	error = envup_error_set_oom();
done:
	cJSON_Delete(body);
	envup__free(b64);
	envup__free(what);
	return error;
}

int envup_swarm_config_remove(envup_engine *e, const char *id)
{
	char *what = envup__sprintf("remove swarm config %s", id);
	int error = what ? swarm_delete(e, "configs", id, what, 15.0) : ENVUP_ERROR;
	envup__free(what);
	return error;
}

/* ---- tasks ---------------------------------------------------------------- */

void envup_swarm_task_dispose(envup_swarm_task *t)
{
	if (!t)
		return;
	envup__free(t->id);
	envup__free(t->node_id);
	envup__free(t->state);
	envup__free(t->desired);
	envup__free(t->message);
	envup__free(t->err);
	envup__free(t->timestamp);
	envup__free(t->created);
	envup_kvlist_dispose(&t->ports);
	memset(t, 0, sizeof(*t));
}

bool envup_swarm_state_final(const char *state)
{
	static const char *const final[] = {"complete", "shutdown", "failed", "rejected",
		"remove", "orphaned"};
	size_t i;
	for (i = 0; state && i < sizeof(final) / sizeof(final[0]); i++)
		if (strcmp(state, final[i]) == 0)
			return true;
	return false;
}

static int tasks_of(cJSON **out, envup_engine *e, const char *service)
{
	envup_buf path = ENVUP_BUF_INIT;
	cJSON *f = NULL, *arr;
	char *text = NULL, *esc = NULL, *what = NULL;
	int error = ENVUP_ERROR;

	*out = NULL;
	if ((f = cJSON_CreateObject()) == NULL || (arr = cJSON_AddArrayToObject(f, "service")) == NULL ||
	    !cJSON_AddItemToArray(arr, cJSON_CreateString(service)) ||
	    (text = cJSON_PrintUnformatted(f)) == NULL || (esc = envup_url_escape(text)) == NULL ||
	    envup_buf_printf(&path, "/tasks?filters=%s", esc) < 0 ||
	    (what = envup__sprintf("list the tasks of swarm service %s", service)) == NULL) {
		envup_error_set_oom();
		goto done;
	}
	if ((error = envup_engine_get_json(out, e, envup_buf_cstr(&path), what)) == 0 &&
	    !cJSON_IsArray(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		error = envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER, "%s: not a list", what);
	}
done:
	if (text)
		cJSON_free(text);
	cJSON_Delete(f);
	envup__free(esc);
	envup__free(what);
	envup_buf_dispose(&path);
	return error;
}

int envup_swarm_task_count(size_t *n, envup_engine *e, const char *service)
{
	cJSON *tasks = NULL, *t;
	bool by_id = false;
	int error;

	*n = 0;
	if ((error = tasks_of(&tasks, e, service)) < 0) {
		/* a removed service is unknown to the filter while its tasks are
		 * still going: look for them by its id among all */
		if (error != ENVUP_ENOTFOUND)
			return error;
		envup_error_clear();
		if ((error = envup_engine_get_json(&tasks, e, "/tasks", "list swarm tasks")) < 0)
			return error;
		by_id = true;
	}
	if (!cJSON_IsArray(tasks)) {
		cJSON_Delete(tasks);
		return 0;
	}
	cJSON_ArrayForEach(t, tasks) {
		const char *sid = jsonx_str(t, "ServiceID");
		if (by_id && (!sid || strcmp(sid, service) != 0))
			continue;
		const char *st = jsonx_str(cJSON_GetObjectItemCaseSensitive(t, "Status"), "State");
		const char *cid = jsonx_str(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(t, "Status"), "ContainerStatus"), "ContainerID");
		/* a final task still counts while it has a container to remove */
		if (!envup_swarm_state_final(st) || (cid && *cid))
			(*n)++;
	}
	cJSON_Delete(tasks);
	return 0;
}

/* Host-mode port bindings: one entry per binding, so 20.10 may list one
 * twice (IPv4 and IPv6): the first of each target port counts. */
static int task_ports(envup_kvlist *out, const cJSON *status)
{
	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(status, "PortStatus"), "Ports"), *p;

	if (!cJSON_IsArray(ports))
		return 0;
	cJSON_ArrayForEach(p, ports) {
		const char *proto = jsonx_str(p, "Protocol");
		long long target = jsonx_int(p, "TargetPort"), published = jsonx_int(p, "PublishedPort");
		char key[32], val[16];
		if (target <= 0 || target > 65535 || published <= 0 || published > 65535)
			continue;
		snprintf(key, sizeof(key), "%lld/%s", target, proto && strcmp(proto, "udp") == 0 ? "udp" :
			proto && strcmp(proto, "sctp") == 0 ? "sctp" : "tcp");
		if (envup_kvlist_get(out, key))
			continue;
		snprintf(val, sizeof(val), "%lld", published);
		if (envup_kvlist_set(out, key, val) < 0)
			return ENVUP_ERROR;
	}
	return 0;
}

int envup_swarm_task_latest(envup_swarm_task *out, envup_engine *e, const char *service)
{
	cJSON *tasks = NULL, *t, *best = NULL;
	long long best_s = 0, best_ns = 0;
	int error;

	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	if ((error = tasks_of(&tasks, e, service)) < 0)
		return error;
	cJSON_ArrayForEach(t, tasks) {
		const char *at = jsonx_str(t, "CreatedAt");
		long long sec = rfc3339_seconds(at), ns = rfc3339_nanos(at);
		if (!cJSON_IsObject(t))
			continue;
		/* the newest by CreatedAt; of equal (or no) times, the later listed */
		if (!best || sec > best_s || (sec == best_s && ns >= best_ns)) {
			best = t;
			best_s = sec;
			best_ns = ns;
		}
	}
	if (!best) {
		error = envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_DOCKER,
			"swarm service %s has no task yet", service);
		goto done;
	}
	{
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(best, "Status");
		const cJSON *cs = cJSON_GetObjectItemCaseSensitive(st, "ContainerStatus");
		const char *node = jsonx_str(best, "NodeID");
		error = ENVUP_ERROR;
		if (jsonx_dup(&out->id, best, "ID") < 0 ||
		    (node && *node && (out->node_id = envup__strdup(node)) == NULL) ||
		    jsonx_dup(&out->state, st, "State") < 0 ||
		    jsonx_dup(&out->desired, best, "DesiredState") < 0 ||
		    jsonx_dup(&out->message, st, "Message") < 0 ||
		    jsonx_dup(&out->err, st, "Err") < 0 ||
		    jsonx_dup(&out->timestamp, st, "Timestamp") < 0 ||
		    jsonx_dup(&out->created, best, "CreatedAt") < 0 ||
		    task_ports(&out->ports, st) < 0) {
			envup_swarm_task_dispose(out);
			goto done;
		}
		/* a task without a state is one we know nothing of yet */
		if (!out->state && (out->state = envup__strdup("unknown")) == NULL) {
			envup_swarm_task_dispose(out);
			goto done;
		}
		out->exit_code = cJSON_IsObject(cs) ? (int)jsonx_int(cs, "ExitCode") : -1;
		error = 0;
	}
done:
	cJSON_Delete(tasks);
	return error;
}

/* ---- nodes and images -------------------------------------------------------- */

void envup_swarm_node_dispose(envup_swarm_node *n)
{
	if (!n)
		return;
	envup__free(n->addr);
	envup__free(n->hostname);
	envup__free(n->availability);
	envup__free(n->state);
	memset(n, 0, sizeof(*n));
}

/* An address the node's ports answer on: the manager's own view of a
 * manager can be 0.0.0.0 or 127.0.0.1 (moby#35437, #30119), so a
 * manager's ManagerStatus.Addr (without its port) comes first. */
static int node_addr(char **out, const cJSON *node)
{
	const char *m = jsonx_str(cJSON_GetObjectItemCaseSensitive(node, "ManagerStatus"), "Addr");
	const char *s = jsonx_str(cJSON_GetObjectItemCaseSensitive(node, "Status"), "Addr");

	*out = NULL;
	if (m && *m) {
		const char *colon = strrchr(m, ':');
		size_t len = colon ? (size_t)(colon - m) : strlen(m);
		if (len && m[0] == '[' && m[len - 1] == ']') {
			m++;
			len -= 2;
		}
		if (len)
			return (*out = envup__strndup(m, len)) ? 0 : ENVUP_ERROR;
	}
	if (s && *s && strcmp(s, "0.0.0.0") != 0)
		return (*out = envup__strdup(s)) ? 0 : ENVUP_ERROR;
	return 0;
}

int envup_swarm_node_get(envup_swarm_node *out, envup_engine *e, const char *node_id)
{
	envup_buf path = ENVUP_BUF_INIT;
	cJSON *json = NULL;
	char *esc = NULL, *what = NULL;
	int error = ENVUP_ERROR;

	memset(out, 0, sizeof(*out));
	if ((esc = envup_url_escape(node_id)) == NULL || envup_buf_printf(&path, "/nodes/%s", esc) < 0 ||
	    (what = envup__sprintf("inspect swarm node %s", node_id)) == NULL)
		goto done;
	if ((error = envup_engine_get_json(&json, e, envup_buf_cstr(&path), what)) < 0)
		goto done;
	error = ENVUP_ERROR;
	if (node_addr(&out->addr, json) < 0 ||
	    jsonx_dup(&out->hostname, cJSON_GetObjectItemCaseSensitive(json, "Description"), "Hostname") < 0 ||
	    jsonx_dup(&out->availability, cJSON_GetObjectItemCaseSensitive(json, "Spec"), "Availability") < 0 ||
	    jsonx_dup(&out->state, cJSON_GetObjectItemCaseSensitive(json, "Status"), "State") < 0) {
		envup_swarm_node_dispose(out);
		goto done;
	}
	error = 0;
done:
	cJSON_Delete(json);
	envup_buf_dispose(&path);
	envup__free(esc);
	envup__free(what);
	return error;
}

int envup_swarm_image_digest(char **digest, envup_engine *e, const char *image, const char *auth)
{
	envup_buf path = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT;
	cJSON *json = NULL;
	char *esc = NULL, *what = NULL;
	const char *d;
	long status = 0;
	int error = ENVUP_ERROR;

	*digest = NULL;
	if ((esc = envup_url_escape_path(image)) == NULL ||
	    envup_buf_printf(&path, "/distribution/%s/json", esc) < 0 ||
	    (what = envup__sprintf("look up image %s in its registry", image)) == NULL)
		goto done;
	error = auth ? envup_engine_request_header(e, "GET", envup_buf_cstr(&path), auth, NULL, 0,
		&status, &resp) :
		envup_engine_request(e, "GET", envup_buf_cstr(&path), NULL, NULL, 0, &status, &resp);
	if (error < 0)
		goto done;
	if (status != 200) {
		error = envup_engine_api_error(status, &resp, what);
		goto done;
	}
	if ((error = envup_engine_parse_json(&json, &resp, what)) < 0)
		goto done;
	d = jsonx_str(cJSON_GetObjectItemCaseSensitive(json, "Descriptor"), "digest");
	if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71 ||
	    strspn(d + 7, "0123456789abcdef") != 64) {
		error = envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER, "%s: no digest in the answer", what);
		goto done;
	}
	error = (*digest = envup__strdup(d)) ? 0 : ENVUP_ERROR;
done:
	cJSON_Delete(json);
	envup_buf_dispose(&path);
	envup_buf_dispose(&resp);
	envup__free(esc);
	envup__free(what);
	return error;
}

/* ---- logs ------------------------------------------------------------------- */

typedef struct {
	envup_demux demux;
	envup_log_cb cb;
	void *payload;
	bool stopped;
} service_logs;

#define LOGS_STOP (-1000)   /* the callback said stop: not an error */

static int logs_chunk(int stream, const char *data, size_t len, void *payload)
{
	service_logs *l = payload;
	int rc;
	(void)stream;
	if ((rc = l->cb(data, len, l->payload)) != 0) {
		l->stopped = rc > 0;
		return rc < 0 ? rc : LOGS_STOP;
	}
	return 0;
}

static int logs_data(const char *data, size_t len, void *payload)
{
	service_logs *l = payload;
	return envup_demux_feed(&l->demux, data, len, logs_chunk, l);
}

int envup_swarm_service_logs(envup_engine *e, const char *service, int tail, bool follow,
	envup_log_cb cb, void *payload)
{
	envup_buf path = ENVUP_BUF_INIT, errbody = ENVUP_BUF_INIT;
	service_logs l;
	char *esc = NULL, *what = NULL, tailq[24];
	long status = 0;
	int error = ENVUP_ERROR;

	memset(&l, 0, sizeof(l));
	l.cb = cb;
	l.payload = payload;
	if (tail < 0)
		snprintf(tailq, sizeof(tailq), "all");
	else
		snprintf(tailq, sizeof(tailq), "%d", tail);
	if ((esc = envup_url_escape(service)) == NULL ||
	    envup_buf_printf(&path, "/services/%s/logs?stdout=1&stderr=1&follow=%d&tail=%s", esc,
	        follow ? 1 : 0, tailq) < 0 ||
	    (what = envup__sprintf("logs of swarm service %s", service)) == NULL)
		goto done;
	error = envup_engine_stream(e, "GET", envup_buf_cstr(&path), logs_data, &l, &status, &errbody);
	if (error == LOGS_STOP || l.stopped) {
		envup_error_clear();
		error = 0;
		goto done;
	}
	if (error < 0)
		goto done;
	if (status != 200) {
		error = envup_engine_api_error(status, &errbody, what);
		goto done;
	}
	error = envup_demux_finish(&l.demux);
done:
	envup_buf_dispose(&path);
	envup_buf_dispose(&errbody);
	envup__free(esc);
	envup__free(what);
	return error;
}

/* ---- services as `ls` and `status` list containers ---------------------------- */

static int summary_of(envup_container_summary *cs, envup_engine *e, const envup_swarm_object *o)
{
	envup_swarm_task t = ENVUP_SWARM_TASK_INIT;
	envup_swarm_node node = ENVUP_SWARM_NODE_INIT;
	const char *host = getenv("ENVUP_HOST");
	size_t i;
	int error = ENVUP_ERROR;

	if ((cs->id = envup__strdup(o->id)) == NULL || (cs->name = envup__strdup(o->name)) == NULL ||
	    (o->image && (cs->image = envup__strdup(o->image)) == NULL) ||
	    envup_kvlist_copy(&cs->labels, &o->labels) < 0)
		goto done;
	cs->created = o->created;
	if (envup_swarm_task_latest(&t, e, o->id) < 0) {
		/* a service whose task is gone or not made yet is still listed */
		envup_error_clear();
		error = (cs->state = envup__strdup("created")) && (cs->status = envup__strdup("no task")) ?
			0 : ENVUP_ERROR;
		goto done;
	}
	if (t.node_id && envup_swarm_node_get(&node, e, t.node_id) < 0)
		envup_error_clear();
	cs->state = envup__strdup(strcmp(t.state, "running") == 0 ? "running" :
		envup_swarm_state_final(t.state) ? "exited" : "created");
	if (envup_swarm_state_final(t.state) && node.availability &&
	    strcmp(node.availability, "drain") == 0)
		cs->status = envup__sprintf("task %s on %s: the node was drained, and the swarm does "
			"not move a task of restart condition none", t.state, node.hostname ? node.hostname : "?");
	else if (t.err && *t.err)
		cs->status = envup__sprintf("task %s on %s: %s", t.state,
			node.hostname ? node.hostname : "no node", t.err);
	else
		cs->status = envup__sprintf("task %s on %s", t.state, node.hostname ? node.hostname : "no node");
	if (!cs->state || !cs->status || (node.hostname && (cs->node = envup__strdup(node.hostname)) == NULL))
		goto done;
	for (i = 0; i < t.ports.n; i++) {
		char *v = envup__sprintf("%s:%s", host && *host ? host : node.addr ? node.addr : "?",
			t.ports.v[i].value);
		if (!v || envup_kvlist_set(&cs->ports, t.ports.v[i].key, v) < 0) {
			envup__free(v);
			goto done;
		}
		envup__free(v);
	}
	error = 0;
done:
	envup_swarm_task_dispose(&t);
	envup_swarm_node_dispose(&node);
	return error;
}

int envup_swarm_summaries(envup_container_summary **out, size_t *count, envup_engine *e,
	const envup_strlist *labels)
{
	envup_swarm_object *v = NULL;
	envup_container_summary *cs = NULL;
	size_t n = 0, i;
	int error;

	*out = NULL;
	*count = 0;
	if ((error = envup_swarm_find(&v, &n, e, "services", labels)) < 0 || n == 0)
		goto done;
	if ((cs = envup__calloc(n, sizeof(*cs))) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	for (i = 0; i < n; i++)
		if ((error = summary_of(&cs[i], e, &v[i])) < 0) {
			envup_container_summaries_free(cs, n);
			cs = NULL;
			goto done;
		}
	*out = cs;
	*count = n;
done:
	envup_swarm_objects_free(v, n);
	return error;
}
