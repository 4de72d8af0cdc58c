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
	    !cJSON_AddStringToObject(body, "Driver", "bridge") ||
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

	if ((esc = envup_engine_escape(name)) == NULL ||
	    envup_buf_printf(&path, "/%s/%s", collection, esc) < 0 ||
	    (what = envup__sprintf("remove %s %s", kind, name)) == NULL)
		goto done;
	for (;;) {
		if ((error = envup_engine_request(e, "DELETE", envup_buf_cstr(&path), NULL, NULL, 0,
		    &status, &resp)) < 0)
			goto done;
		if (status == 204 || status == 200 || status == 404) {
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
static int network_list(envup_strlist *names, envup_engine *e, const char *collection,
	const char *array_key, const envup_strlist *labels)
{
	envup_buf path = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT;
	envup_kvlist have = ENVUP_KVLIST_INIT;
	cJSON *json = NULL;
	const cJSON *arr, *item;
	char *filter = NULL, *what = NULL;
	long status = 0;
	int error = ENVUP_ERROR;

	if ((filter = envup_engine_label_filter(labels)) == NULL ||
	    envup_buf_printf(&path, "/%s?filters=%s", collection, filter) < 0 ||
	    (what = envup__sprintf("list %s", collection)) == NULL)
		goto done;
	if ((error = envup_engine_request(e, "GET", envup_buf_cstr(&path), NULL, NULL, 0,
	    &status, &resp)) < 0)
		goto done;
	if (status != 200) {
		error = envup_engine_api_error(status, &resp, what);
		goto done;
	}
	if ((error = envup_engine_parse_json(&json, &resp, what)) < 0)
		goto done;
	error = ENVUP_ERROR;
	arr = array_key ? cJSON_GetObjectItemCaseSensitive(json, array_key) : json;
	if (!cJSON_IsArray(arr) && !(array_key && cJSON_IsObject(json) && (!arr || cJSON_IsNull(arr)))) {
		envup_error_set(ENVUP_ERROR_JSON, "invalid JSON from the engine for %s", what);
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
	envup_buf_dispose(&resp);
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
