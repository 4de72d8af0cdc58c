/*
 * Networks and volumes: create, find by label, remove.
 */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "provision/network.h"
#include "provision/jsonx.h"

/* How long to retry a network that still has endpoints while its containers go. */
#define NETWORK_BUSY_WAIT_S 10.0
#define VOLUME_BUSY_WAIT_S  5.0

int envup_network_create(char **id_out, envup_engine *e, const char *name,
	const envup_kvlist *labels)
{
	return envup_network_create_with(id_out, e, name, NULL, labels);
}

int envup_network_create_with(char **id_out, envup_engine *e, const char *name,
	const char *driver, const envup_kvlist *labels)
{
	cJSON *body = NULL, *obj;
	char *what = NULL;
	size_t i;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(e && name && *name);
	if (id_out)
		*id_out = NULL;
	if ((what = envup__sprintf("create network %s", name)) == NULL)
		goto done;
	/* CheckDuplicate: engines before API 1.44 otherwise happily create a
	 * second network with the same name; newer ones ignore it. */
	if ((body = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(body, "Name", name) ||
	    !cJSON_AddStringToObject(body, "Driver", driver ? driver : "bridge") ||
	    (driver && strcmp(driver, "overlay") == 0 && !cJSON_AddTrueToObject(body, "Attachable")) ||
	    !cJSON_AddTrueToObject(body, "CheckDuplicate") ||
	    (obj = cJSON_AddObjectToObject(body, "Labels")) == NULL)
		goto oom;
	for (i = 0; labels && i < labels->n; i++)
		if (!cJSON_AddStringToObject(obj, labels->v[i].key, labels->v[i].value))
			goto oom;
	error = envup_engine_create(id_out, e, "/networks/create", body, what);
	goto done;
oom:
	error = envup_error_set_oom();
done:
	cJSON_Delete(body);
	envup__free(what);
	return error;
}

/*
 * DELETE a network or a volume. 404 is success. `busy_status` answers
 * carrying `busy_text` are retried for `wait_s` seconds: a network keeps
 * its endpoints, a volume its users, for a moment after the containers
 * are removed.
 */
static int network_delete(envup_engine *e, const char *kind, const char *collection,
	const char *name, long busy1, long busy2, const char *busy_text, double wait_s)
{
	envup_buf path = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT;
	char *esc = NULL, *what = NULL;
	double until = envup_now() + wait_s;
	long status = 0, pause = 50;
	int error = ENVUP_ERROR;

	if ((esc = envup_url_escape(name)) == NULL ||
	    envup_buf_printf(&path, "/%s/%s", collection, esc) < 0 ||
	    (what = envup__sprintf("remove %s %s", kind, name)) == NULL)
		goto done;
	for (;;) {
		if ((error = envup_engine_request(e, "DELETE", envup_buf_cstr(&path), NULL, NULL, 0,
		    &status, &resp)) < 0)
			goto done;
		/* a swarm's network can be gone between the list and the delete,
		 * and a manager may say so without a 404 */
		if (status == 204 || status == 200 || status == 404 ||
		    (strcmp(kind, "network") == 0 && strstr(envup_buf_cstr(&resp), " not found"))) {
			error = 0;
			goto done;
		}
		if ((status != busy1 && status != busy2) || !strstr(envup_buf_cstr(&resp), busy_text) ||
		    envup_now() >= until || envup_engine_check_interrupt(e) < 0)
			break;
		envup_sleep_ms(pause);
		if (pause < 400)
			pause *= 2;
	}
	error = envup_engine_api_error(status, &resp, what);
	if (error == ENVUP_EEXISTS)
		error = ENVUP_EDOCKER;     /* "in use", not "name taken" */
done:
	envup_buf_dispose(&path);
	envup_buf_dispose(&resp);
	envup__free(esc);
	envup__free(what);
	return error;
}

int envup_network_remove(envup_engine *e, const char *name_or_id)
{
	ENVUP_ASSERT_ARG(e && name_or_id && *name_or_id);
	return network_delete(e, "network", "networks", name_or_id, 403, 409,
		"active endpoints", NETWORK_BUSY_WAIT_S);
}

int envup_volume_create(envup_engine *e, const char *name, const envup_kvlist *labels)
{
	envup_buf resp = ENVUP_BUF_INIT;
	envup_kvlist have = ENVUP_KVLIST_INIT;
	cJSON *body = NULL, *obj, *json = NULL;
	char *text = NULL, *what = NULL;
	long status = 0;
	size_t i;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(e && name && *name && labels);
	if ((what = envup__sprintf("create volume %s", name)) == NULL ||
	    (body = cJSON_CreateObject()) == NULL || !cJSON_AddStringToObject(body, "Name", name) ||
	    (obj = cJSON_AddObjectToObject(body, "Labels")) == NULL)
		goto oom;
	for (i = 0; i < labels->n; i++)
		if (!cJSON_AddStringToObject(obj, labels->v[i].key, labels->v[i].value))
			goto oom;
	if ((text = cJSON_PrintUnformatted(body)) == NULL)
		goto oom;
	if ((error = envup_engine_request(e, "POST", "/volumes/create", "application/json",
	    text, strlen(text), &status, &resp)) < 0)
		goto done;
	if (status != 201 && status != 200) {
		error = envup_engine_api_error(status, &resp, what);
		goto done;
	}
	if ((error = envup_engine_parse_json(&json, &resp, what)) < 0 ||
	    (error = jsonx_labels(&have, cJSON_GetObjectItemCaseSensitive(json, "Labels"))) < 0)
		goto done;
	for (i = 0; i < labels->n; i++) {
		const char *v = envup_kvlist_get(&have, labels->v[i].key);
		if (!v || strcmp(v, labels->v[i].value) != 0) {
			error = envup_error_set(ENVUP_EEXISTS, ENVUP_ERROR_DOCKER,
				"a volume named %s exists and is not this environment's; envup leaves it "
				"alone: remove it, or choose another name with -n", name);
			goto done;
		}
	}
	error = 0;
	goto done;
oom:
	error = envup_error_set_oom();
done:
	cJSON_Delete(body);
	cJSON_Delete(json);
	envup_kvlist_dispose(&have);
	envup__free(text);
	envup__free(what);
	envup_buf_dispose(&resp);
	return error;
}

int envup_volume_remove(envup_engine *e, const char *name)
{
	ENVUP_ASSERT_ARG(e && name && *name);
	return network_delete(e, "volume", "volumes", name, 409, 409, "in use", VOLUME_BUSY_WAIT_S);
}

/*
 * GET /<collection>?filters=... and collect the names of the items whose
 * Labels match (the engine filters; we check again). `array_key` is NULL
 * when the answer is an array, or the member holding it ("Volumes").
 */
/* GET a list; an engine without volumes (kubedock answers 501) has none
 * of ours: *none is set and 0 returned. */
static int list_get(cJSON **json, bool *none, envup_engine *e, const char *path, const char *what,
	bool volumes)
{
	envup_buf resp = ENVUP_BUF_INIT;
	long status = 0;
	int error;

	*json = NULL;
	*none = false;
	if ((error = envup_engine_request(e, "GET", path, NULL, NULL, 0, &status, &resp)) == 0) {
		if (volumes && status == 501)
			*none = true;
		else if (status == 200)
			error = envup_engine_parse_json(json, &resp, what);
		else
			error = envup_engine_api_error(status, &resp, what);
	}
	envup_buf_dispose(&resp);
	return error;
}

static int network_list(envup_strlist *names, envup_engine *e, const char *collection,
	const char *array_key, const envup_strlist *labels)
{
	envup_buf path = ENVUP_BUF_INIT;
	envup_kvlist have = ENVUP_KVLIST_INIT;
	cJSON *json = NULL;
	const cJSON *arr, *item;
	char *filter = NULL, *what = NULL;
	bool none = false;
	int error = ENVUP_ERROR;

	if ((filter = envup_engine_label_filter(labels)) == NULL ||
	    envup_buf_printf(&path, "/%s?filters=%s", collection, filter) < 0 ||
	    (what = envup__sprintf("list %s", collection)) == NULL)
		goto done;
	if ((error = list_get(&json, &none, e, envup_buf_cstr(&path), what,
	    strcmp(collection, "volumes") == 0)) < 0 || none)
		goto done;
	error = ENVUP_ERROR;
	arr = array_key ? cJSON_GetObjectItemCaseSensitive(json, array_key) : json;
	if (!cJSON_IsArray(arr) && !(array_key && cJSON_IsObject(json) && (!arr || cJSON_IsNull(arr)))) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_JSON, "invalid JSON from the engine for %s", what);
		goto done;
	}
	cJSON_ArrayForEach(item, (cJSON_IsArray(arr) ? arr : NULL)) {
		const char *name = jsonx_str(item, "Name");
		envup_kvlist_dispose(&have);
		if (!name || !*name)
			continue;
		if (jsonx_labels(&have, cJSON_GetObjectItemCaseSensitive(item, "Labels")) < 0)
			goto done;
		if (!envup_engine_labels_match(&have, labels))
			continue;
		if (envup_strlist_push(names, name) < 0)
			goto done;
	}
	error = 0;
done:
	envup_kvlist_dispose(&have);
	envup_buf_dispose(&path);
	envup__free(filter);
	envup__free(what);
	cJSON_Delete(json);
	return error;
}

int envup_network_list(envup_strlist *names, envup_engine *e, const envup_strlist *labels)
{
	ENVUP_ASSERT_ARG(names && e);
	return network_list(names, e, "networks", NULL, labels);
}

int envup_volume_list(envup_strlist *names, envup_engine *e, const envup_strlist *labels)
{
	ENVUP_ASSERT_ARG(names && e);
	return network_list(names, e, "volumes", "Volumes", labels);
}

/* {"label":{...},"name":{"NAME":true}}, escaped for a query. */
static char *network_filter(const char *name, const envup_strlist *labels)
{
	cJSON *root = NULL, *label, *names;
	char *text = NULL, *escaped = NULL;
	size_t i;

	if ((root = cJSON_CreateObject()) == NULL ||
	    (label = cJSON_AddObjectToObject(root, "label")) == NULL)
		goto oom;
	for (i = 0; labels && i < labels->n; i++)
		if (cJSON_AddTrueToObject(label, labels->v[i]) == NULL)
			goto oom;
	if (name && ((names = cJSON_AddObjectToObject(root, "name")) == NULL ||
	    cJSON_AddTrueToObject(names, name) == NULL))
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

int envup_network_find(envup_network_info **out, size_t *count, envup_engine *e,
	const char *name, const envup_strlist *labels)
{
	envup_buf path = ENVUP_BUF_INIT;
	envup_network_info *v = NULL;
	cJSON *json = NULL;
	const cJSON *item;
	char *filter = NULL;
	size_t n = 0;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(out && count && e);
	*out = NULL;
	*count = 0;
	if ((filter = network_filter(name, labels)) == NULL ||
	    envup_buf_printf(&path, "/networks?filters=%s", filter) < 0)
		goto done;
	if ((error = envup_engine_get_json(&json, e, envup_buf_cstr(&path), "list networks")) < 0)
		goto done;
	error = ENVUP_ERROR;
	if (!cJSON_IsArray(json)) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_JSON, "invalid JSON from the engine for list networks");
		goto done;
	}
	if ((v = envup__calloc((size_t)cJSON_GetArraySize(json) + 1, sizeof(*v))) == NULL)
		goto done;
	cJSON_ArrayForEach(item, json) {
		envup_network_info *ni = &v[n];
		/* "Id" as Docker spells it; kubedock answers "ID" */
		const char *nm = jsonx_str(item, "Name"),
			*id = jsonx_str(item, "Id") ? jsonx_str(item, "Id") : jsonx_str(item, "ID");
		const char *created = jsonx_str(item, "Created");
		/* the engine's name filter matches parts of names: keep exact ones */
		if (!nm || !id || !*id || (name && strcmp(nm, name) != 0))
			continue;
		n++;    /* from here on, v[n - 1] is freed on failure */
		if (jsonx_labels(&ni->labels, cJSON_GetObjectItemCaseSensitive(item, "Labels")) < 0)
			goto done;
		if (!envup_engine_labels_match(&ni->labels, labels)) {
			envup_kvlist_dispose(&ni->labels);
			n--;
			continue;
		}
		if ((ni->id = envup__strdup(id)) == NULL || (ni->name = envup__strdup(nm)) == NULL)
			goto done;
		if (!created || envup_time_parse(created, &ni->created, &ni->created_ns) < 0) {
			ni->created = 0;
			ni->created_ns = 0;
		}
	}
	*out = v;
	*count = n;
	v = NULL;
	error = 0;
done:
	envup_network_infos_free(v, n);
	envup_buf_dispose(&path);
	envup__free(filter);
	cJSON_Delete(json);
	return error;
}

void envup_network_infos_free(envup_network_info *v, size_t n)
{
	size_t i;
	if (!v)
		return;
	for (i = 0; i < n; i++) {
		envup__free(v[i].id);
		envup__free(v[i].name);
		envup_kvlist_dispose(&v[i].labels);
	}
	envup__free(v);
}

int envup_volume_find(envup_volume_info **out, size_t *count, envup_engine *e,
	const envup_strlist *labels)
{
	envup_buf path = ENVUP_BUF_INIT;
	envup_volume_info *v = NULL;
	cJSON *json = NULL;
	const cJSON *arr, *item;
	char *filter = NULL;
	size_t n = 0;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(out && count && e);
	*out = NULL;
	*count = 0;
	if ((filter = envup_engine_label_filter(labels)) == NULL ||
	    envup_buf_printf(&path, "/volumes?filters=%s", filter) < 0)
		goto done;
	{
		bool none = false;
		if ((error = list_get(&json, &none, e, envup_buf_cstr(&path), "list volumes", true)) < 0 ||
		    none)
			goto done;
	}
	error = ENVUP_ERROR;
	arr = cJSON_GetObjectItemCaseSensitive(json, "Volumes");
	if (!cJSON_IsObject(json) || (arr && !cJSON_IsArray(arr) && !cJSON_IsNull(arr))) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_JSON, "invalid JSON from the engine for list volumes");
		goto done;
	}
	if ((v = envup__calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*v))) == NULL)
		goto done;
	cJSON_ArrayForEach(item, (cJSON_IsArray(arr) ? arr : NULL)) {
		envup_volume_info *vi = &v[n];
		const char *nm = jsonx_str(item, "Name");
		if (!nm || !*nm)
			continue;
		n++;    /* from here on, v[n - 1] is freed on failure */
		if (jsonx_labels(&vi->labels, cJSON_GetObjectItemCaseSensitive(item, "Labels")) < 0)
			goto done;
		if (!envup_engine_labels_match(&vi->labels, labels)) {
			envup_kvlist_dispose(&vi->labels);
			n--;
			continue;
		}
		if ((vi->name = envup__strdup(nm)) == NULL)
			goto done;
	}
	*out = v;
	*count = n;
	v = NULL;
	error = 0;
done:
	envup_volume_infos_free(v, n);
	envup_buf_dispose(&path);
	envup__free(filter);
	cJSON_Delete(json);
	return error;
}

void envup_volume_infos_free(envup_volume_info *v, size_t n)
{
	size_t i;
	if (!v)
		return;
	for (i = 0; i < n; i++) {
		envup__free(v[i].name);
		envup_kvlist_dispose(&v[i].labels);
	}
	envup__free(v);
}
