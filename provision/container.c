/*
 * Containers over the Engine API: create, start, inspect, logs, list and
 * remove. Request bodies are valid from API 1.41 up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "provision/container.h"
#include "provision/jsonx.h"
#include "provision/stream.h"

#define CONTAINER_LOGS_MAX      ((size_t)16 * 1024 * 1024)
#define CONTAINER_REMOVE_WAIT_S 30.0
/* returned by the follow callback to stop the stream; never leaves this file */
#define CONTAINER_FOLLOW_STOP   (-1000)

/* "/containers/ID" + suffix, with the id escaped. */
static int container_path(envup_buf *out, const char *id, const char *suffix)
{
	char *esc = envup_url_escape(id);
	int error;

	ENVUP_ERROR_CHECK_ALLOC(esc);
	error = envup_buf_printf(out, "/containers/%s%s", esc, suffix);
	envup__free(esc);
	return error;
}

static cJSON *container_strarray(const envup_strlist *l)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; arr && i < l->n; i++) {
		cJSON *s = cJSON_CreateString(l->v[i]);
		if (!s || !cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}

static bool add_strings(cJSON *obj, const char *key, const envup_strlist *l)
{
	cJSON *arr;
	if (!l->n)
		return true;
	if ((arr = container_strarray(l)) == NULL)
		return false;
	if (!cJSON_AddItemToObject(obj, key, arr)) {
		cJSON_Delete(arr);
		return false;
	}
	return true;
}

/* A Compose file's settings: Config and HostConfig fields, when written. */
static bool add_runtime(cJSON *root, cJSON *host, const envup_runtime *rt)
{
	size_t i;

	if ((rt->working_dir && !cJSON_AddStringToObject(root, "WorkingDir", rt->working_dir)) ||
	    (rt->user && !cJSON_AddStringToObject(root, "User", rt->user)) ||
	    (rt->hostname && !cJSON_AddStringToObject(root, "Hostname", rt->hostname)) ||
	    (rt->stop_signal && !cJSON_AddStringToObject(root, "StopSignal", rt->stop_signal)) ||
	    (rt->has_stop_timeout && !cJSON_AddNumberToObject(root, "StopTimeout", rt->stop_timeout)) ||
	    !add_strings(host, "ExtraHosts", &rt->extra_hosts) ||
	    !add_strings(host, "CapAdd", &rt->cap_add) ||
	    !add_strings(host, "CapDrop", &rt->cap_drop) ||
	    (rt->shm_size && !cJSON_AddNumberToObject(host, "ShmSize", (double)rt->shm_size)) ||
	    (rt->has_init && !cJSON_AddBoolToObject(host, "Init", rt->init)) ||
	    (rt->privileged && !cJSON_AddTrueToObject(host, "Privileged")))
		return false;
	if (rt->ulimits.n) {
		cJSON *arr = cJSON_AddArrayToObject(host, "Ulimits");
		if (!arr)
			return false;
		for (i = 0; i < rt->ulimits.n; i++) {
			cJSON *u = cJSON_CreateObject();
			long soft = 0, hard = 0;
			sscanf(rt->ulimits.v[i].value, "%ld:%ld", &soft, &hard);
			if (!u || !cJSON_AddItemToArray(arr, u)) {
				cJSON_Delete(u);
				return false;
			}
			if (!cJSON_AddStringToObject(u, "Name", rt->ulimits.v[i].key) ||
			    !cJSON_AddNumberToObject(u, "Soft", (double)soft) ||
			    !cJSON_AddNumberToObject(u, "Hard", (double)hard))
				return false;
		}
	}
	return true;
}

static bool add_mounts(cJSON *host, const envup_mount *m, size_t n)
{
	static const char *const types[] = {"bind", "volume", "tmpfs"};
	cJSON *arr;
	size_t i;

	if (!n)
		return true;
	if ((arr = cJSON_AddArrayToObject(host, "Mounts")) == NULL)
		return false;
	for (i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			return false;
		}
		if (!cJSON_AddStringToObject(o, "Type", types[m[i].kind]) ||
		    (m[i].source && !cJSON_AddStringToObject(o, "Source", m[i].source)) ||
		    !cJSON_AddStringToObject(o, "Target", m[i].target) ||
		    (m[i].read_only && !cJSON_AddTrueToObject(o, "ReadOnly")))
			return false;
	}
	return true;
}

/* The create body (see the engine reference, 4.1 and 12.2). */
static cJSON *container_body(envup_engine *e, const envup_container_config *cfg)
{
	cJSON *root, *arr, *obj, *host, *bindings, *tmpfs, *restart;
	char key[32];
	size_t i;

	if ((root = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(root, "Image", cfg->image))
		goto oom;
	if (cfg->env) {
		if ((arr = cJSON_AddArrayToObject(root, "Env")) == NULL)
			goto oom;
		for (i = 0; i < cfg->env->n; i++) {
			char *kv = envup__sprintf("%s=%s", cfg->env->v[i].key, cfg->env->v[i].value);
			cJSON *s = kv ? cJSON_CreateString(kv) : NULL;
			envup__free(kv);
			if (!s || !cJSON_AddItemToArray(arr, s)) {
				cJSON_Delete(s);
				goto oom;
			}
		}
	}
	if (cfg->cmd) {
		if ((arr = container_strarray(cfg->cmd)) == NULL)
			goto oom;
		/* adding copies the key and can fail: the command must not vanish */
		if (!cJSON_AddItemToObject(root, "Cmd", arr)) {
			cJSON_Delete(arr);
			goto oom;
		}
	}
	if (cfg->entrypoint) {
		/* an empty list clears the image's ENTRYPOINT */
		if ((arr = container_strarray(cfg->entrypoint)) == NULL)
			goto oom;
		if (!cJSON_AddItemToObject(root, "Entrypoint", arr)) {
			cJSON_Delete(arr);
			goto oom;
		}
	}
	if ((obj = cJSON_AddObjectToObject(root, "Labels")) == NULL)
		goto oom;
	/* the file's own labels first: envup's (dev.envup.*) are never theirs */
	for (i = 0; cfg->rt && i < cfg->rt->labels.n; i++)
		if (!cJSON_AddStringToObject(obj, cfg->rt->labels.v[i].key, cfg->rt->labels.v[i].value))
			goto oom;
	for (i = 0; cfg->labels && i < cfg->labels->n; i++)
		if (!cJSON_AddStringToObject(obj, cfg->labels->v[i].key, cfg->labels->v[i].value))
			goto oom;

	if ((host = cJSON_AddObjectToObject(root, "HostConfig")) == NULL)
		goto oom;
	if (cfg->nports) {
		if ((obj = cJSON_AddObjectToObject(root, "ExposedPorts")) == NULL ||
		    (bindings = cJSON_AddObjectToObject(host, "PortBindings")) == NULL)
			goto oom;
		for (i = 0; i < cfg->nports; i++) {
			cJSON *list, *binding;
			snprintf(key, sizeof(key), "%d/tcp", cfg->ports[i]);
			if (cJSON_GetObjectItemCaseSensitive(obj, key))
				continue;
			if (!cJSON_AddObjectToObject(obj, key) ||
			    (list = cJSON_AddArrayToObject(bindings, key)) == NULL ||
			    (binding = cJSON_CreateObject()) == NULL)
				goto oom;
			if (!cJSON_AddItemToArray(list, binding)) {
				cJSON_Delete(binding);
				goto oom;
			}
			/* HostPort "": the engine picks a free port at start; a file
			 * may name the port, and the address */
			{
				const envup_port_bind *pb = cfg->binds ? &cfg->binds[i] : NULL;
				char hp[16] = "";
				if (pb && pb->host > 0)
					snprintf(hp, sizeof(hp), "%d", pb->host);
				if (!cJSON_AddStringToObject(binding, "HostIp",
				    pb && pb->ip ? pb->ip : envup_engine_bind_ip(e)) ||
				    !cJSON_AddStringToObject(binding, "HostPort", hp))
					goto oom;
			}
		}
	}
	if (cfg->tmpfs && cfg->tmpfs->n) {
		if ((tmpfs = cJSON_AddObjectToObject(host, "Tmpfs")) == NULL)
			goto oom;
		for (i = 0; i < cfg->tmpfs->n; i++)
			if (!cJSON_GetObjectItemCaseSensitive(tmpfs, cfg->tmpfs->v[i]) &&
			    !cJSON_AddStringToObject(tmpfs, cfg->tmpfs->v[i], "rw,exec"))
				goto oom;
	}
	if (!add_mounts(host, cfg->mounts, cfg->nmounts) || (cfg->rt && !add_runtime(root, host, cfg->rt)))
		goto oom;
	if ((restart = cJSON_AddObjectToObject(host, "RestartPolicy")) == NULL ||
	    !cJSON_AddStringToObject(restart, "Name", "no") ||
	    !cJSON_AddFalseToObject(host, "AutoRemove"))
		goto oom;
	if (cfg->network && *cfg->network) {
		cJSON *net, *endpoints, *ep;
		if (!cJSON_AddStringToObject(host, "NetworkMode", cfg->network) ||
		    (net = cJSON_AddObjectToObject(root, "NetworkingConfig")) == NULL ||
		    (endpoints = cJSON_AddObjectToObject(net, "EndpointsConfig")) == NULL ||
		    (ep = cJSON_AddObjectToObject(endpoints, cfg->network)) == NULL)
			goto oom;
		if (cfg->alias && *cfg->alias) {
			cJSON *aliases = cJSON_AddArrayToObject(ep, "Aliases");
			cJSON *a = cJSON_CreateString(cfg->alias);
			if (!aliases || !a || !cJSON_AddItemToArray(aliases, a)) {
				cJSON_Delete(a);
				goto oom;
			}
		}
	}
	return root;
oom:
	cJSON_Delete(root);
	envup_error_set_oom();
	return NULL;
}

int envup_container_create(char **id_out, envup_engine *e, const envup_container_config *cfg)
{
	cJSON *body = NULL;
	char *name = NULL, *what = NULL;
	envup_buf path = ENVUP_BUF_INIT;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(id_out && e && cfg && cfg->image);
	*id_out = NULL;
	if ((what = envup__sprintf("create container %s", cfg->name ? cfg->name : cfg->image)) == NULL)
		goto done;
	if ((body = container_body(e, cfg)) == NULL) {
		error = envup_error_set_oom();
		goto done;
	}
	if (cfg->name && *cfg->name) {
		if ((name = envup_url_escape(cfg->name)) == NULL ||
		    envup_buf_printf(&path, "/containers/create?name=%s", name) < 0)
			goto done;
	} else if (envup_buf_puts(&path, "/containers/create") < 0) {
		goto done;
	}
	error = envup_engine_create(id_out, e, envup_buf_cstr(&path), body, what);
done:
	cJSON_Delete(body);
	envup__free(name);
	envup__free(what);
	envup_buf_dispose(&path);
	return error;
}

int envup_container_put_archive(envup_engine *e, const char *id, const char *path,
	const void *tar, size_t len)
{
	envup_buf p = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT;
	char *esc = NULL, *what = NULL;
	long status = 0;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(e && id && path && tar);
	if ((esc = envup_url_escape(path)) == NULL || container_path(&p, id, "/archive?path=") < 0 ||
	    envup_buf_puts(&p, esc) < 0 ||
	    (what = envup__sprintf("copy files into container %s", id)) == NULL)
		goto done;
	if ((error = envup_engine_request(e, "PUT", envup_buf_cstr(&p), "application/x-tar", tar, len,
	    &status, &resp)) < 0)
		goto done;
	if (status != 200)
		error = envup_engine_api_error(status, &resp, what);
done:
	envup_buf_dispose(&p);
	envup_buf_dispose(&resp);
	envup__free(esc);
	envup__free(what);
	return error;
}

int envup_container_start(envup_engine *e, const char *id)
{
	envup_buf path = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT;
	char *what = NULL;
	long status = 0;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(e && id);
	if (container_path(&path, id, "/start") < 0)
		goto done;
	if ((error = envup_engine_request(e, "POST", envup_buf_cstr(&path), NULL, NULL, 0,
	    &status, &resp)) < 0)
		goto done;
	if (status == 204 || status == 304 || status == 200)
		goto done;
	if ((what = envup__sprintf("start container %s", id)) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	if (strstr(envup_buf_cstr(&resp), "port is already allocated") ||
	    strstr(envup_buf_cstr(&resp), "address already in use")) {
		/* our words, then the engine's (they name the port) */
		char *taken = envup__sprintf("start container %s: the host port is already taken by "
			"another process", id);
		error = taken ? envup_engine_api_error(status, &resp, taken) : ENVUP_ERROR;
		envup__free(taken);
		goto done;
	}
	error = envup_engine_api_error(status, &resp, what);
done:
	envup_buf_dispose(&path);
	envup_buf_dispose(&resp);
	envup__free(what);
	return error;
}

/* ---- inspect ---------------------------------------------------------------- */

/* GET /containers/ID/json as a tree; `what` names the caller in errors. */
static int container_inspect_json(cJSON **out, envup_engine *e, const char *id, const char *verb)
{
	envup_buf path = ENVUP_BUF_INIT;
	char *what = NULL;
	int error = ENVUP_ERROR;

	*out = NULL;
	if (container_path(&path, id, "/json") < 0 ||
	    (what = envup__sprintf("%s container %s", verb, id)) == NULL)
		goto done;
	error = envup_engine_get_json(out, e, envup_buf_cstr(&path), what);
done:
	envup_buf_dispose(&path);
	envup__free(what);
	return error;
}

int envup_container_inspect(envup_container_info *out, envup_engine *e, const char *id)
{
	cJSON *json = NULL;
	const cJSON *state, *health, *config, *log, *ports, *it;
	const char *name;
	int error;

	ENVUP_ASSERT_ARG(out && e && id);
	memset(out, 0, sizeof(*out));
	if ((error = container_inspect_json(&json, e, id, "inspect")) < 0)
		goto done;
	error = ENVUP_ERROR;
	state = cJSON_GetObjectItemCaseSensitive(json, "State");
	config = cJSON_GetObjectItemCaseSensitive(json, "Config");
	if (!cJSON_IsObject(state)) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_JSON,
			"invalid JSON from the engine for inspect container %s: no State", id);
		goto done;
	}
	name = jsonx_str(json, "Name");
	if (name && *name == '/')
		name++;
	if (jsonx_dup(&out->id, json, "Id") < 0 ||
	    (name && (out->name = envup__strdup(name)) == NULL) ||
	    jsonx_dup(&out->image, config, "Image") < 0 ||
	    jsonx_dup(&out->status, state, "Status") < 0 ||
	    jsonx_dup(&out->started_at, state, "StartedAt") < 0 ||
	    jsonx_dup(&out->created, json, "Created") < 0)
		goto done;
	out->running = jsonx_bool(state, "Running");
	out->exit_code = (int)jsonx_int(state, "ExitCode");
	out->oom_killed = jsonx_bool(state, "OOMKilled");
	out->restart_count = (int)jsonx_int(json, "RestartCount");
	if (jsonx_str(state, "Error") && *jsonx_str(state, "Error") &&
	    jsonx_dup(&out->error, state, "Error") < 0)
		goto done;
	health = cJSON_GetObjectItemCaseSensitive(state, "Health");
	if (cJSON_IsObject(health)) {
		if (jsonx_dup(&out->health, health, "Status") < 0)
			goto done;
		log = cJSON_GetObjectItemCaseSensitive(health, "Log");
		if (cJSON_IsArray(log) && cJSON_GetArraySize(log) > 0 &&
		    jsonx_dup(&out->health_output, cJSON_GetArrayItem(log, cJSON_GetArraySize(log) - 1),
			"Output") < 0)
			goto done;
	}
	ports = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(json, "NetworkSettings"), "Ports");
	cJSON_ArrayForEach(it, (cJSON_IsObject(ports) ? ports : NULL)) {
		const char *hp;
		if (!it->string || !cJSON_IsArray(it))
			continue;      /* null: exposed but not published */
		hp = jsonx_str(cJSON_GetArrayItem(it, 0), "HostPort");
		if (hp && *hp && envup_kvlist_set(&out->ports, it->string, hp) < 0)
			goto done;
	}
	if (jsonx_labels(&out->labels, cJSON_GetObjectItemCaseSensitive(config, "Labels")) < 0)
		goto done;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(json, "NetworkSettings"), "Networks")) {
		const char *ip = jsonx_str(it, "IPAddress");
		if (ip && *ip) {
			if ((out->ip = envup__strdup(ip)) == NULL)
				goto done;
			break;
		}
	}
	error = 0;
done:
	if (error < 0)
		envup_container_info_dispose(out);
	cJSON_Delete(json);
	return error;
}

void envup_container_info_dispose(envup_container_info *info)
{
	if (!info)
		return;
	envup__free(info->id);
	envup__free(info->name);
	envup__free(info->image);
	envup__free(info->status);
	envup__free(info->error);
	envup__free(info->health);
	envup__free(info->health_output);
	envup__free(info->ip);
	envup__free(info->port_host);
	envup__free(info->node);
	envup__free(info->started_at);
	envup__free(info->created);
	envup_kvlist_dispose(&info->ports);
	envup_kvlist_dispose(&info->labels);
	memset(info, 0, sizeof(*info));
}

int envup_container_host_port(const envup_container_info *info, int container_port)
{
	char key[32];
	const char *v;
	char *end;
	long port;

	snprintf(key, sizeof(key), "%d/tcp", container_port);
	if ((v = envup_kvlist_get(&info->ports, key)) == NULL)
		return -1;
	port = strtol(v, &end, 10);
	if (end == v || *end || port <= 0 || port > 65535)
		return -1;
	return (int)port;
}

/* ---- logs ------------------------------------------------------------------- */

static int container_is_tty(bool *tty, envup_engine *e, const char *id)
{
	cJSON *json = NULL;
	int error = container_inspect_json(&json, e, id, "logs of");

	if (error == 0)
		*tty = jsonx_bool(cJSON_GetObjectItemCaseSensitive(json, "Config"), "Tty");
	cJSON_Delete(json);
	return error;
}

typedef struct {
	bool tty;
	envup_demux demux;
	envup_buf *out;           /* envup_container_logs */
	envup_log_cb cb;          /* envup_container_logs_follow */
	void *payload;
	int cb_result;
} container_logs;

static int container_logs_chunk(int stream, const char *data, size_t len, void *payload)
{
	container_logs *l = payload;

	if (l->out) {
		if (l->out->size + len > (l->out->max ? l->out->max : CONTAINER_LOGS_MAX))
			return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
				"container logs larger than %zu MiB", CONTAINER_LOGS_MAX >> 20);
		return envup_buf_put(l->out, data, len);
	}
	if ((l->cb_result = l->cb(data, len, l->payload)) != 0)
		return l->cb_result < 0 ? l->cb_result : CONTAINER_FOLLOW_STOP;
	return 0;
}

static int container_logs_data(const char *data, size_t len, void *payload)
{
	container_logs *l = payload;
	int rc;

	if (l->tty)
		rc = container_logs_chunk(ENVUP_STREAM_STDOUT, data, len, l);
	else
		rc = envup_demux_feed(&l->demux, data, len, container_logs_chunk, l);
	return rc > 0 ? CONTAINER_FOLLOW_STOP : rc;
}

static int container_logs_run(container_logs *l, envup_engine *e, const char *id,
	const char *query, const char *verb)
{
	envup_buf path = ENVUP_BUF_INIT, errbody = ENVUP_BUF_INIT;
	char *what = NULL;
	long status = 0;
	int error = ENVUP_ERROR;

	if ((error = container_is_tty(&l->tty, e, id)) < 0)
		goto done;
	error = ENVUP_ERROR;
	if (container_path(&path, id, query) < 0)
		goto done;
	error = envup_engine_stream(e, "GET", envup_buf_cstr(&path), container_logs_data, l,
		&status, &errbody);
	if (error == CONTAINER_FOLLOW_STOP) {
		error = 0;
		goto done;
	}
	if (error < 0)
		goto done;
	if (status != 200) {
		if ((what = envup__sprintf("%s container %s", verb, id)) == NULL) {
			error = ENVUP_ERROR;
			goto done;
		}
		error = envup_engine_api_error(status, &errbody, what);
		goto done;
	}
	if (!l->tty)
		error = envup_demux_finish(&l->demux);
done:
	envup_buf_dispose(&path);
	envup_buf_dispose(&errbody);
	envup__free(what);
	return error;
}

int envup_container_logs(envup_buf *out, envup_engine *e, const char *id, int tail)
{
	container_logs l;
	char query[96];

	ENVUP_ASSERT_ARG(out && e && id);
	memset(&l, 0, sizeof(l));
	l.out = out;
	if (tail < 0)
		snprintf(query, sizeof(query), "/logs?stdout=1&stderr=1&tail=all");
	else
		snprintf(query, sizeof(query), "/logs?stdout=1&stderr=1&tail=%d", tail);
	return container_logs_run(&l, e, id, query, "logs of");
}

int envup_container_logs_stream(envup_engine *e, const char *id, int tail, bool follow,
	envup_log_cb cb, void *payload)
{
	container_logs l;
	char query[96], tailq[24];

	ENVUP_ASSERT_ARG(e && id && cb);
	memset(&l, 0, sizeof(l));
	l.cb = cb;
	l.payload = payload;
	if (tail < 0)
		snprintf(tailq, sizeof(tailq), "all");
	else
		snprintf(tailq, sizeof(tailq), "%d", tail);
	snprintf(query, sizeof(query), "/logs?stdout=1&stderr=1&follow=%d&tail=%s",
		follow ? 1 : 0, tailq);
	return container_logs_run(&l, e, id, query, follow ? "follow logs of" : "logs of");
}

int envup_container_logs_follow(envup_engine *e, const char *id, envup_log_cb cb, void *payload)
{
	return envup_container_logs_stream(e, id, -1, true, cb, payload);
}

/* ---- remove ----------------------------------------------------------------- */

/* Another removal of the same container is running: wait until it is gone. */
static int container_wait_gone(envup_engine *e, const char *id)
{
	envup_buf path = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT;
	double until = envup_now() + CONTAINER_REMOVE_WAIT_S;
	long status = 0;
	int error = ENVUP_ERROR;

	if (container_path(&path, id, "/json") < 0)
		goto done;
	for (;;) {
		if ((error = envup_engine_request(e, "GET", envup_buf_cstr(&path), NULL, NULL, 0,
		    &status, &resp)) < 0)
			goto done;
		if (status == 404) {
			error = 0;
			goto done;
		}
		if (envup_now() >= until) {
			error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
				"remove container %s: another removal has not finished after %.0f s",
				id, CONTAINER_REMOVE_WAIT_S);
			goto done;
		}
		if ((error = envup_engine_check_interrupt(e)) < 0)
			goto done;
		envup_sleep_ms(100);
	}
done:
	envup_buf_dispose(&path);
	envup_buf_dispose(&resp);
	return error;
}

int envup_container_remove(envup_engine *e, const char *id)
{
	envup_buf path = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT;
	char *what = NULL;
	long status = 0;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(e && id);
	if (container_path(&path, id, "?force=1&v=1") < 0)
		goto done;
	if ((error = envup_engine_request(e, "DELETE", envup_buf_cstr(&path), NULL, NULL, 0,
	    &status, &resp)) < 0)
		goto done;
	if (status == 204 || status == 200 || status == 404)
		goto done;
	if (status == 409 && strstr(envup_buf_cstr(&resp), "already in progress")) {
		error = container_wait_gone(e, id);
		goto done;
	}
	if ((what = envup__sprintf("remove container %s", id)) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	error = envup_engine_api_error(status, &resp, what);
	if (error == ENVUP_EEXISTS)
		error = ENVUP_EDOCKER;     /* a conflict, not "name in use" */
done:
	envup_buf_dispose(&path);
	envup_buf_dispose(&resp);
	envup__free(what);
	return error;
}

/* ---- list ------------------------------------------------------------------- */

static void container_summary_dispose(envup_container_summary *s)
{
	envup__free(s->id);
	envup__free(s->name);
	envup__free(s->image);
	envup__free(s->state);
	envup__free(s->status);
	envup__free(s->node);
	envup_kvlist_dispose(&s->labels);
	envup_kvlist_dispose(&s->ports);
	memset(s, 0, sizeof(*s));
}

static int container_summary_parse(envup_container_summary *s, const cJSON *item)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(item, "Names");
	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(item, "Ports");
	const cJSON *first = cJSON_GetArrayItem(names, 0), *p;
	const char *name = cJSON_IsString(first) ? first->valuestring : NULL;

	if (name && *name == '/')
		name++;
	if (jsonx_dup(&s->id, item, "Id") < 0 ||
	    (name && (s->name = envup__strdup(name)) == NULL) ||
	    jsonx_dup(&s->image, item, "Image") < 0 ||
	    jsonx_dup(&s->state, item, "State") < 0 ||
	    jsonx_dup(&s->status, item, "Status") < 0 ||
	    jsonx_labels(&s->labels, cJSON_GetObjectItemCaseSensitive(item, "Labels")) < 0)
		return ENVUP_ERROR;
	s->created = jsonx_int(item, "Created");
	cJSON_ArrayForEach(p, (cJSON_IsArray(ports) ? ports : NULL)) {
		char key[48], value[96];
		const char *type = jsonx_str(p, "Type");
		const char *ip = jsonx_str(p, "IP");
		long long priv = jsonx_int(p, "PrivatePort"), pub = jsonx_int(p, "PublicPort");

		if (pub <= 0)
			continue;
		snprintf(key, sizeof(key), "%lld/%s", priv, type ? type : "tcp");
		if (envup_kvlist_get(&s->ports, key))
			continue;      /* first binding wins (IPv4 before IPv6) */
		snprintf(value, sizeof(value), "%s:%lld", ip && *ip ? ip : "0.0.0.0", pub);
		if (envup_kvlist_set(&s->ports, key, value) < 0)
			return ENVUP_ERROR;
	}
	return 0;
}

int envup_container_list(envup_container_summary **out, size_t *count,
	envup_engine *e, const envup_strlist *labels)
{
	envup_buf path = ENVUP_BUF_INIT;
	envup_container_summary *list = NULL;
	cJSON *json = NULL;
	const cJSON *item;
	char *filter = NULL;
	size_t n = 0, cap;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(out && count && e);
	*out = NULL;
	*count = 0;
	if ((filter = envup_engine_label_filter(labels)) == NULL ||
	    envup_buf_printf(&path, "/containers/json?all=1&filters=%s", filter) < 0)
		goto done;
	if ((error = envup_engine_get_json(&json, e, envup_buf_cstr(&path), "list containers")) < 0)
		goto done;
	error = ENVUP_ERROR;
	if (!cJSON_IsArray(json)) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_JSON, "invalid JSON from the engine for list containers");
		goto done;
	}
	cap = (size_t)cJSON_GetArraySize(json);
	if (cap && (list = envup__calloc(cap, sizeof(*list))) == NULL)
		goto done;
	cJSON_ArrayForEach(item, json) {
		if (container_summary_parse(&list[n], item) < 0) {
			n++;
			goto done;
		}
		/* trust but verify: the filter must have done its job */
		if (!list[n].id || !envup_engine_labels_match(&list[n].labels, labels)) {
			container_summary_dispose(&list[n]);
			continue;
		}
		n++;
	}
	*out = list;
	*count = n;
	list = NULL;
	n = 0;
	error = 0;
done:
	envup_container_summaries_free(list, n);
	envup_buf_dispose(&path);
	envup__free(filter);
	cJSON_Delete(json);
	return error;
}

void envup_container_summaries_free(envup_container_summary *s, size_t count)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < count; i++)
		container_summary_dispose(&s[i]);
	envup__free(s);
}
