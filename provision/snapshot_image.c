/*
 * Engine calls for snapshot images (snapshot_image.h).
 */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "provision/snapshot_image.h"
#include "provision/jsonx.h"

static int strings_of(envup_strlist *out, const cJSON *arr)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it) && envup_strlist_push(out, it->valuestring) < 0)
			return ENVUP_ERROR;
	return 0;
}

int envup_image_info_get(envup_image_info *out, envup_engine *e, const char *image)
{
	envup_buf path = ENVUP_BUF_INIT;
	cJSON *j = NULL;
	const cJSON *cfg;
	char *escaped = NULL;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(out && e && image);
	memset(out, 0, sizeof(*out));
	if ((escaped = envup_url_escape_path(image)) == NULL ||
	    envup_buf_printf(&path, "/images/%s/json", escaped) < 0)
		goto done;
	if ((error = envup_engine_get_json(&j, e, envup_buf_cstr(&path), "inspect image")) < 0)
		goto done;
	error = ENVUP_ERROR;
	cfg = cJSON_GetObjectItemCaseSensitive(j, "Config");
	if (jsonx_dup(&out->id, j, "Id") < 0 ||
	    strings_of(&out->entrypoint, cJSON_GetObjectItemCaseSensitive(cfg, "Entrypoint")) < 0 ||
	    strings_of(&out->cmd, cJSON_GetObjectItemCaseSensitive(cfg, "Cmd")) < 0 ||
	    jsonx_labels(&out->labels, cJSON_GetObjectItemCaseSensitive(cfg, "Labels")) < 0)
		goto done;
	if (!out->id) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_JSON, "inspect image %s: no Id", image);
		goto done;
	}
	error = 0;
done:
	if (error < 0)
		envup_image_info_dispose(out);
	cJSON_Delete(j);
	envup_buf_dispose(&path);
	envup__free(escaped);
	return error;
}

void envup_image_info_dispose(envup_image_info *info)
{
	if (!info)
		return;
	envup__free(info->id);
	envup_strlist_dispose(&info->entrypoint);
	envup_strlist_dispose(&info->cmd);
	envup_kvlist_dispose(&info->labels);
	memset(info, 0, sizeof(*info));
}

int envup_image_commit(char **image_id, envup_engine *e, const char *id, const char *repo,
	const char *tag, const char *config)
{
	envup_buf path = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT;
	char *c = NULL, *r = NULL, *t = NULL;
	cJSON *j = NULL;
	long status = 0;
	int error = ENVUP_ERROR;

	if (image_id)
		*image_id = NULL;
	if ((c = envup_url_escape(id)) == NULL)
		goto done;
	if (repo) {
		if ((r = envup_url_escape(repo)) == NULL || (t = envup_url_escape(tag)) == NULL ||
		    envup_buf_printf(&path, "/commit?container=%s&repo=%s&tag=%s&pause=false", c, r, t) < 0)
			goto done;
	} else if (envup_buf_printf(&path, "/commit?container=%s&pause=false", c) < 0) {
		goto done;
	}
	if ((error = envup_engine_request(e, "POST", envup_buf_cstr(&path), NULL, config, strlen(config),
	    &status, &resp)) < 0)
		goto done;
	if (status != 201 && status != 200) {
		error = envup_engine_api_error(status, &resp, "commit the snapshot");
		goto done;
	}
	if ((error = envup_engine_parse_json(&j, &resp, "commit")) < 0)
		goto done;
	error = image_id ? jsonx_dup(image_id, j, "Id") : 0;
done:
	cJSON_Delete(j);
	envup_buf_dispose(&path);
	envup_buf_dispose(&resp);
	envup__free(c);
	envup__free(r);
	envup__free(t);
	return error;
}

int envup_image_list(envup_image_summary **out, size_t *count, envup_engine *e, const char *label)
{
	envup_strlist labels = ENVUP_STRLIST_INIT;
	envup_buf path = ENVUP_BUF_INIT;
	envup_image_summary *v = NULL;
	char *filter = NULL;
	cJSON *j = NULL;
	const cJSON *it;
	size_t n = 0;
	int error = ENVUP_ERROR;

	*out = NULL;
	*count = 0;
	if (envup_strlist_push(&labels, label) < 0 || (filter = envup_engine_label_filter(&labels)) == NULL ||
	    envup_buf_printf(&path, "/images/json?filters=%s", filter) < 0)
		goto done;
	if ((error = envup_engine_get_json(&j, e, envup_buf_cstr(&path), "list images")) < 0)
		goto done;
	error = ENVUP_ERROR;
	if (!cJSON_IsArray(j)) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_JSON, "list images: not a list");
		goto done;
	}
	if ((v = envup__calloc((size_t)cJSON_GetArraySize(j) + 1, sizeof(*v))) == NULL)
		goto done;
	cJSON_ArrayForEach(it, j) {
		envup_image_summary *s = &v[n];
		if (!jsonx_str(it, "Id"))
			continue;
		n++;
		if (jsonx_dup(&s->id, it, "Id") < 0 ||
		    strings_of(&s->tags, cJSON_GetObjectItemCaseSensitive(it, "RepoTags")) < 0 ||
		    jsonx_labels(&s->labels, cJSON_GetObjectItemCaseSensitive(it, "Labels")) < 0)
			goto done;
		s->created = jsonx_int(it, "Created");
		s->size = jsonx_int(it, "Size");
	}
	*out = v;
	*count = n;
	v = NULL;
	error = 0;
done:
	envup_image_list_free(v, n);
	cJSON_Delete(j);
	envup_buf_dispose(&path);
	envup_strlist_dispose(&labels);
	envup__free(filter);
	return error;
}

void envup_image_list_free(envup_image_summary *v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++) {
		envup__free(v[i].id);
		envup_strlist_dispose(&v[i].tags);
		envup_kvlist_dispose(&v[i].labels);
	}
	envup__free(v);
}

int envup_image_remove(envup_engine *e, const char *id)
{
	envup_buf path = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT;
	char *escaped = NULL;
	long status = 0;
	int error = ENVUP_ERROR;

	if ((escaped = envup_url_escape_path(id)) == NULL ||
	    envup_buf_printf(&path, "/images/%s", escaped) < 0)
		goto done;
	if ((error = envup_engine_request(e, "DELETE", envup_buf_cstr(&path), NULL, NULL, 0, &status, &resp)) < 0)
		goto done;
	if (status == 404)
		error = 0;
	else if (status != 200)
		error = envup_engine_api_error(status, &resp, "remove the snapshot image");
done:
	envup_buf_dispose(&path);
	envup_buf_dispose(&resp);
	envup__free(escaped);
	return error;
}

int envup_image_tag(envup_engine *e, const char *id, const char *repo, const char *tag)
{
	envup_buf path = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT;
	char *i = NULL, *r = NULL, *t = NULL;
	long status = 0;
	int error = ENVUP_ERROR;

	if ((i = envup_url_escape_path(id)) == NULL || (r = envup_url_escape(repo)) == NULL ||
	    (t = envup_url_escape(tag)) == NULL ||
	    envup_buf_printf(&path, "/images/%s/tag?repo=%s&tag=%s", i, r, t) < 0)
		goto done;
	if ((error = envup_engine_request(e, "POST", envup_buf_cstr(&path), NULL, NULL, 0, &status, &resp)) < 0)
		goto done;
	if (status != 201 && status != 200)
		error = envup_engine_api_error(status, &resp, "tag the snapshot");
done:
	envup_buf_dispose(&path);
	envup_buf_dispose(&resp);
	envup__free(i);
	envup__free(r);
	envup__free(t);
	return error;
}
