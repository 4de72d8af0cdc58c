/*
 * The backend (backend.h) for the Docker Engine API: a table over the
 * engine modules. The only file of the orchestration's path that knows
 * it talks to Docker. Its listing and removal also find swarm services
 * and configs (an engine that is not a swarm manager has none), so that
 * `down`, `ls`, `status`, `gc` and the watchdog need not know which
 * backend made an environment.
 */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "provision/backend.h"
#include "provision/claim.h"
#include "provision/engine.h"
#include "provision/jsonx.h"
#include "provision/network.h"
#include "provision/stream.h"
#include "provision/swarm.h"

#define EXEC_OUTPUT_MAX (64 * 1024)

typedef struct {
	envup_backend base;
	envup_engine *e;
} docker_backend;

static envup_engine *engine_of(const envup_backend *b)
{
	return ((const docker_backend *)b)->e;
}

static void docker_free(envup_backend *b)
{
	envup_engine_free(engine_of(b));
	envup__free(b);
}

static const char *docker_port_host(const envup_backend *b)
{
	return envup_engine_port_host(engine_of(b));
}

static const char *docker_bind_ip(const envup_backend *b)
{
	return envup_engine_bind_ip(engine_of(b));
}

static int docker_ensure_image(envup_backend *b, const char *image, envup_image_progress_cb cb,
	void *payload)
{
	return envup_image_ensure(engine_of(b), image, cb, payload);
}

static int docker_claim_network(char **id_out, envup_backend *b, const char *name,
	const envup_identity *self, const envup_kvlist *labels)
{
	return envup_claim_network(id_out, engine_of(b), name, self, labels);
}

static int docker_create_volume(envup_backend *b, const char *name, const envup_kvlist *labels)
{
	return envup_volume_create(engine_of(b), name, labels);
}

static bool docker_sees_host_files(const envup_backend *b)
{
	return envup_engine_is_local(engine_of(b));
}

static int docker_put_archive(envup_backend *b, const char *id, const char *path, const void *tar,
	size_t len)
{
	return envup_container_put_archive(engine_of(b), id, path, tar, len);
}

static int docker_create(char **id_out, envup_backend *b, const envup_container_config *cfg)
{
	return envup_container_create(id_out, engine_of(b), cfg);
}

static int docker_start(envup_backend *b, const char *id)
{
	return envup_container_start(engine_of(b), id);
}

static int docker_inspect(envup_container_info *out, envup_backend *b, const char *id)
{
	return envup_container_inspect(out, engine_of(b), id);
}

/* An id that is no container may be a swarm service's (`envup logs` of a
 * swarm environment lists services). */
static int docker_logs(envup_backend *b, const char *id, int tail, bool follow, envup_log_cb cb,
	void *payload)
{
	int error = envup_container_logs_stream(engine_of(b), id, tail, follow, cb, payload);
	if (error == ENVUP_ENOTFOUND) {
		envup_swarm_object *v = NULL;
		envup_strlist none = ENVUP_STRLIST_INIT;
		size_t n = 0, i;
		bool service = false;
		char saved[512];
		snprintf(saved, sizeof(saved), "%s", envup_error_last()->message);
		if (envup_swarm_find(&v, &n, engine_of(b), "services", &none) == 0)
			for (i = 0; i < n; i++)
				service = service || strcmp(v[i].id, id) == 0 || strcmp(v[i].name, id) == 0;
		envup_swarm_objects_free(v, n);
		if (!service)
			return envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_DOCKER, "%s", saved);
		error = envup_swarm_service_logs(engine_of(b), id, tail, follow, cb, payload);
	}
	return error;
}

/* Containers, then the services of a swarm (as containers). */
static int docker_list(envup_container_summary **out, size_t *count, envup_backend *b,
	const envup_strlist *labels)
{
	envup_container_summary *cs = NULL, *ss = NULL, *all;
	size_t nc = 0, ns = 0;
	int error;

	*out = NULL;
	*count = 0;
	if ((error = envup_container_list(&cs, &nc, engine_of(b), labels)) < 0)
		return error;
	if ((error = envup_swarm_summaries(&ss, &ns, engine_of(b), labels)) < 0) {
		envup_container_summaries_free(cs, nc);
		return error;
	}
	if (ns == 0) {
		*out = cs;
		*count = nc;
		return 0;
	}
	if ((all = envup__realloc(cs, (nc + ns) * sizeof(*all))) == NULL) {
		envup_container_summaries_free(cs, nc);
		envup_container_summaries_free(ss, ns);
		return ENVUP_ERROR;
	}
	memcpy(all + nc, ss, ns * sizeof(*all));
	envup__free(ss);
	*out = all;
	*count = nc + ns;
	return 0;
}

static int docker_remove_by_labels(envup_cleanup_report *report, envup_backend *b,
	const envup_strlist *labels, envup_cleanup_cb cb, void *payload)
{
	return envup_cleanup_by_labels(report, engine_of(b), labels, cb, payload);
}

static int docker_resources(envup_resource **out, size_t *count, envup_backend *b,
	const envup_strlist *labels)
{
	envup_engine *e = engine_of(b);
	envup_container_summary *cs = NULL;
	envup_network_info *ns = NULL;
	envup_volume_info *vs = NULL;
	envup_swarm_object *ss = NULL, *fs = NULL;
	envup_resource *v = NULL;
	size_t nc = 0, nn = 0, nv = 0, nss = 0, nfs = 0, n = 0, i;
	int error;

	*out = NULL;
	*count = 0;
	if ((error = envup_swarm_find(&ss, &nss, e, "services", labels)) < 0 ||
	    (error = envup_container_list(&cs, &nc, e, labels)) < 0 ||
	    (error = envup_network_find(&ns, &nn, e, NULL, labels)) < 0 ||
	    (error = envup_volume_find(&vs, &nv, e, labels)) < 0 ||
	    (error = envup_swarm_find(&fs, &nfs, e, "configs", labels)) < 0)
		goto done;
	error = ENVUP_ERROR;
	if ((v = envup__calloc(nss + nc + nn + nv + nfs + 1, sizeof(*v))) == NULL)
		goto done;
	/* services first: their tasks hold the networks and configs */
	for (i = 0; i < nss; i++, n++) {
		v[n].kind = "service";
		if ((v[n].id = envup__strdup(ss[i].id)) == NULL ||
		    (v[n].name = envup__strdup(ss[i].name)) == NULL ||
		    envup_kvlist_copy(&v[n].labels, &ss[i].labels) < 0)
			goto done;
	}
	for (i = 0; i < nc; i++, n++) {
		v[n].kind = "container";
		if ((v[n].id = envup__strdup(cs[i].id)) == NULL ||
		    (v[n].name = envup__strdup(cs[i].name ? cs[i].name : cs[i].id)) == NULL ||
		    envup_kvlist_copy(&v[n].labels, &cs[i].labels) < 0)
			goto done;
	}
	for (i = 0; i < nn; i++, n++) {
		v[n].kind = "network";
		if ((v[n].id = envup__strdup(ns[i].id)) == NULL ||
		    (v[n].name = envup__strdup(ns[i].name)) == NULL ||
		    envup_kvlist_copy(&v[n].labels, &ns[i].labels) < 0)
			goto done;
	}
	for (i = 0; i < nv; i++, n++) {
		v[n].kind = "volume";
		if ((v[n].id = envup__strdup(vs[i].name)) == NULL ||
		    (v[n].name = envup__strdup(vs[i].name)) == NULL ||
		    envup_kvlist_copy(&v[n].labels, &vs[i].labels) < 0)
			goto done;
	}
	for (i = 0; i < nfs; i++, n++) {
		v[n].kind = "config";
		if ((v[n].id = envup__strdup(fs[i].id)) == NULL ||
		    (v[n].name = envup__strdup(fs[i].name)) == NULL ||
		    envup_kvlist_copy(&v[n].labels, &fs[i].labels) < 0)
			goto done;
	}
	*out = v;
	*count = n;
	v = NULL;
	error = 0;
done:
	envup_resources_free(v, nss + nc + nn + nv + nfs);
	envup_swarm_objects_free(ss, nss);
	envup_swarm_objects_free(fs, nfs);
	envup_container_summaries_free(cs, nc);
	envup_network_infos_free(ns, nn);
	envup_volume_infos_free(vs, nv);
	return error;
}

static int docker_remove_resource(envup_backend *b, const envup_resource *r)
{
	if (strcmp(r->kind, "container") == 0)
		return envup_container_remove(engine_of(b), r->id);
	if (strcmp(r->kind, "network") == 0)
		return envup_network_remove(engine_of(b), r->id);
	if (strcmp(r->kind, "service") == 0)
		return envup_swarm_service_remove(engine_of(b), r->id, 30.0);
	if (strcmp(r->kind, "config") == 0)
		return envup_swarm_config_remove(engine_of(b), r->id);
	return envup_volume_remove(engine_of(b), r->id);
}

static void docker_set_deadline(envup_backend *b, double deadline)
{
	envup_engine_set_deadline(engine_of(b), deadline);
}

/* ---- exec: create, start (the output as a multiplexed stream), inspect --- */

static int exec_collect(int stream, const char *data, size_t len, void *payload)
{
	envup_buf *out = payload;
	size_t room = out->size < EXEC_OUTPUT_MAX ? EXEC_OUTPUT_MAX - out->size : 0;
	(void)stream;
	return room ? envup_buf_put(out, data, len < room ? len : room) : 0;
}

typedef struct {
	envup_demux demux;
	envup_buf *out;
} exec_stream;

static int exec_data(const char *data, size_t len, void *payload)
{
	exec_stream *x = payload;
	return envup_demux_feed(&x->demux, data, len, exec_collect, x->out);
}

static int docker_exec(envup_exec_result *out, envup_backend *b, const char *id,
	const envup_strlist *argv)
{
	envup_engine *e = engine_of(b);
	cJSON *body = NULL, *cmd, *json = NULL;
	envup_buf path = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT, errbody = ENVUP_BUF_INIT;
	char *exec_id = NULL, *esc = NULL, *text = NULL;
	exec_stream x;
	long status = 0;
	size_t i;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(out && id && argv && argv->n);
	out->exit_code = -1;
	memset(&x, 0, sizeof(x));
	x.out = &out->output;
	if ((body = cJSON_CreateObject()) == NULL || (cmd = cJSON_AddArrayToObject(body, "Cmd")) == NULL ||
	    !cJSON_AddTrueToObject(body, "AttachStdout") || !cJSON_AddTrueToObject(body, "AttachStderr"))
		goto oom;
	for (i = 0; i < argv->n; i++) {
		cJSON *a = cJSON_CreateString(argv->v[i]);
		if (!a || !cJSON_AddItemToArray(cmd, a)) {
			cJSON_Delete(a);
			goto oom;
		}
	}
	if ((esc = envup_url_escape(id)) == NULL ||
	    envup_buf_printf(&path, "/containers/%s/exec", esc) < 0)
		goto done;
	if ((error = envup_engine_create(&exec_id, e, envup_buf_cstr(&path), body, "exec in container")) < 0)
		goto done;
	error = ENVUP_ERROR;
	cJSON_Delete(body);
	body = NULL;
	if ((body = cJSON_CreateObject()) == NULL || !cJSON_AddFalseToObject(body, "Detach") ||
	    !cJSON_AddFalseToObject(body, "Tty") || (text = cJSON_PrintUnformatted(body)) == NULL)
		goto oom;
	envup_buf_clear(&path);
	if (envup_buf_printf(&path, "/exec/%s/start", exec_id) < 0)
		goto done;
	if ((error = envup_engine_stream_post(e, envup_buf_cstr(&path), text, exec_data, &x,
	    &status, &errbody)) < 0)
		goto done;
	if (status != 200 && status != 101) {
		error = envup_engine_api_error(status, &errbody, "start exec");
		goto done;
	}
	if ((error = envup_demux_finish(&x.demux)) < 0)
		goto done;
	envup_buf_clear(&path);
	if (envup_buf_printf(&path, "/exec/%s/json", exec_id) < 0) {
		error = ENVUP_ERROR;
		goto done;
	}
	if ((error = envup_engine_get_json(&json, e, envup_buf_cstr(&path), "inspect exec")) < 0)
		goto done;
	out->exit_code = (int)jsonx_int(json, "ExitCode");
	error = 0;
	goto done;
oom:
	error = envup_error_set_oom();
done:
	if (text)
		cJSON_free(text);
	cJSON_Delete(body);
	cJSON_Delete(json);
	envup_buf_dispose(&path);
	envup_buf_dispose(&resp);
	envup_buf_dispose(&errbody);
	envup__free(exec_id);
	envup__free(esc);
	return error;
}

static int docker_image_info(envup_image_info *out, envup_backend *b, const char *image)
{
	return envup_image_info_get(out, engine_of(b), image);
}

static int docker_commit(char **image_id, envup_backend *b, const char *id, const char *repo,
	const char *tag, const char *config)
{
	return envup_image_commit(image_id, engine_of(b), id, repo, tag, config);
}

static int docker_images(envup_image_summary **out, size_t *count, envup_backend *b, const char *label)
{
	return envup_image_list(out, count, engine_of(b), label);
}

static int docker_remove_image(envup_backend *b, const char *id)
{
	return envup_image_remove(engine_of(b), id);
}

static int docker_tag_image(envup_backend *b, const char *id, const char *repo, const char *tag)
{
	return envup_image_tag(engine_of(b), id, repo, tag);
}

static const envup_backend_ops docker_ops = {
	"docker",
	docker_free,
	docker_port_host,
	docker_bind_ip,
	docker_ensure_image,
	docker_claim_network,
	docker_create_volume,
	docker_create,
	docker_sees_host_files,
	docker_put_archive,
	docker_start,
	docker_inspect,
	docker_exec,
	docker_logs,
	docker_list,
	docker_remove_by_labels,
	docker_resources,
	docker_remove_resource,
	docker_set_deadline,
	docker_image_info,
	docker_commit,
	docker_images,
	docker_remove_image,
	docker_tag_image,
	NULL,               /* check_spec: an engine runs every spec */
};

bool envup_backend_known(const char *kind)
{
	return kind && (strcmp(kind, "docker") == 0 || strcmp(kind, "swarm") == 0);
}

int envup_backend_open(envup_backend **out, const envup_backend_options *o)
{
	ENVUP_ASSERT_ARG(out && o);
	if (o->kind && strcmp(o->kind, "swarm") == 0)
		return envup_backend_swarm_open(out, o);
	if (o->kind && strcmp(o->kind, "docker") != 0)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"unknown backend '%s' (docker or swarm)", o->kind);
	return envup_backend_docker_open(out, o);
}

envup_engine *envup_backend_docker_engine(envup_backend *docker)
{
	return docker && docker->ops == &docker_ops ? engine_of(docker) : NULL;
}

int envup_backend_docker_open(envup_backend **out, const envup_backend_options *o)
{
	envup_engine_options eo = {0};
	docker_backend *b;
	int error;

	ENVUP_ASSERT_ARG(out && o);
	*out = NULL;
	if ((b = envup__calloc(1, sizeof(*b))) == NULL)
		return ENVUP_ERROR;
	eo.docker_host = o->docker_host;
	eo.cancel = o->cancel;
	eo.deadline = o->deadline;
	if ((error = envup_engine_open(&b->e, &eo)) < 0) {
		envup__free(b);
		return error;
	}
	b->base.ops = &docker_ops;
	*out = &b->base;
	return 0;
}

int envup_backend_open_for(envup_backend **out, const char *docker_host, double seconds)
{
	envup_backend_options o = {0};
	o.docker_host = docker_host;
	o.deadline = envup_now() + seconds;
	return envup_backend_open(out, &o);
}

void envup_backend_free(envup_backend *b)
{
	if (b)
		b->ops->free(b);
}

void envup_resources_free(envup_resource *v, size_t n)
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

int envup_resource_push(envup_resource **v, size_t *n, const envup_resource *r)
{
	envup_resource *grown = envup__realloc(*v, (*n + 1) * sizeof(**v)), *m;
	if (!grown)
		return ENVUP_ERROR;
	*v = grown;
	m = &grown[*n];
	memset(m, 0, sizeof(*m));
	(*n)++;
	m->kind = r->kind;
	if ((m->id = envup__strdup(r->id)) == NULL || (m->name = envup__strdup(r->name)) == NULL ||
	    envup_kvlist_copy(&m->labels, &r->labels) < 0)
		return ENVUP_ERROR;
	return 0;
}

void envup_exec_result_dispose(envup_exec_result *r)
{
	if (!r)
		return;
	envup_buf_dispose(&r->output);
	r->exit_code = -1;
}
