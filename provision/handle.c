/*
 * The envup_env handle (include/envup/env.h): what a running environment
 * gives a test suite. Its exports (automatic ones first, then the spec's,
 * in the order written), its services' hosts, ports and URLs, its owner,
 * expiry and secrets. Built by `up` from what it brought up, or by
 * envup_env_open() from the state file up saved (state.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "provision/up.h"
#include "provision/handle.h"
#include "templates/template.h"
#include "provision/format.h"
#include "provision/pgpool.h"

static int service_exports(envup_env *env, const envup_up_service *s, const char *host)
{
	const envup_service *spec = s->spec;
	envup_kvlist vars = ENVUP_KVLIST_INIT;
	char *stem = NULL, *url = NULL, *name = NULL, *value = NULL;
	char port[16] = "";
	size_t i;
	int error = ENVUP_ERROR;

	if ((stem = envup_env_stem(spec->name)) == NULL)
		goto done;
	if (envup_kvlist_copy(&vars, &s->vars) < 0 || envup_kvlist_set(&vars, "host", host) < 0)
		goto done;
	if (spec->nports)
		snprintf(port, sizeof(port), "%d", envup_up__host_port(s, 0));
	if (envup_kvlist_set(&vars, "port", port) < 0)
		goto done;
	for (i = 0; i < s->host_ports.n; i++) {
		char key[32];
		snprintf(key, sizeof(key), "port:%s", s->host_ports.v[i].key);
		if (envup_kvlist_set(&vars, key, s->host_ports.v[i].value) < 0)
			goto done;
	}
	if (spec->url) {
		if (envup_placeholder_expand(&url, spec->url, &vars, true) < 0 ||
		    envup_kvlist_set(&vars, "url", url) < 0)
			goto done;
	}

	/* automatic exports first, then the spec's, in the order written */
	if ((name = envup__sprintf("%s_HOST", stem)) == NULL || envup_kvlist_set(&env->exports, name, host) < 0)
		goto done;
	envup__free(name);
	name = NULL;
	if (spec->nports) {
		if ((name = envup__sprintf("%s_PORT", stem)) == NULL ||
		    envup_kvlist_set(&env->exports, name, port) < 0)
			goto done;
		envup__free(name);
		name = NULL;
	}
	if (url) {
		if ((name = envup__sprintf("%s_URL", stem)) == NULL || envup_kvlist_set(&env->exports, name, url) < 0)
			goto done;
		envup__free(name);
		name = NULL;
	}
	/* the template of the main database, for suites that clone with SQL */
	if (s->pg_template) {
		if ((name = envup__sprintf("%s_TEMPLATE", stem)) == NULL ||
		    envup_kvlist_set(&env->exports, name, ENVUP_PG_TEMPLATE) < 0)
			goto done;
		envup__free(name);
		name = NULL;
	}
	/* a Compose file's services: every published port by its number */
	for (i = 0; spec->compose && i < spec->nports; i++) {
		char key[16];
		const char *hp;
		snprintf(key, sizeof(key), "%d", spec->ports[i]);
		hp = envup_kvlist_get(&s->host_ports, key);
		if ((name = envup__sprintf("%s_PORT_%d", stem, spec->ports[i])) == NULL ||
		    envup_kvlist_set(&env->exports, name, hp ? hp : "") < 0)
			goto done;
		envup__free(name);
		name = NULL;
	}
	for (i = 0; i < spec->exports.n; i++) {
		if (envup_placeholder_expand(&value, spec->exports.v[i].value, &vars, false) < 0 ||
		    envup_kvlist_set(&env->exports, spec->exports.v[i].key, value) < 0)
			goto done;
		envup__free(value);
		value = NULL;
	}
	if (envup_env__add_service(env, spec->name, host, &s->host_ports, url) < 0)
		goto done;
	{
		envup_env__service *sv = envup_env__last_service(env);
		const char *v;
		if ((spec->template_name && (sv->kind = envup__strdup(spec->template_name)) == NULL) ||
		    ((v = envup_kvlist_get(&s->vars, "user")) && (sv->user = envup__strdup(v)) == NULL) ||
		    ((v = envup_kvlist_get(&s->vars, "password")) && (sv->password = envup__strdup(v)) == NULL) ||
		    ((v = envup_kvlist_get(&s->vars, "database")) && (sv->database = envup__strdup(v)) == NULL) ||
		    (s->pg_template && (sv->template_db = envup__strdup(ENVUP_PG_TEMPLATE)) == NULL) ||
		    (spec->expectations && (sv->expectations = envup__strdup(spec->expectations)) == NULL))
			goto done;
	}
	error = 0;
done:
	envup__free(stem);
	envup__free(url);
	envup__free(name);
	envup__free(value);
	envup_kvlist_dispose(&vars);
	return error;
}


envup_env *envup_env__alloc(void)
{
	envup_env *env = envup__calloc(1, sizeof(*env));
	if (env)
		pthread_mutex_init(&env->db_lock, NULL);
	return env;
}

envup_env__service *envup_env__last_service(envup_env *env)
{
	return env->nservices ? &env->services[env->nservices - 1] : NULL;
}

int envup_up__build_env(envup_env **out, const envup_up_ctx *ctx)
{
	envup_env *env = envup_env__alloc();
	const char *host = ctx->backend->ops->port_host(ctx->backend);
	size_t i;

	*out = NULL;
	ENVUP_ERROR_CHECK_ALLOC(env);
	if ((env->name = envup__strdup(ctx->name)) == NULL ||
	    (ctx->owner_text[0] && (env->owner = envup__strdup(ctx->owner_text)) == NULL) ||
	    envup_strlist_copy(&env->secrets, &ctx->secrets) < 0)
		goto fail;
	env->expires = ctx->id.expires;
	snprintf(env->instance, sizeof(env->instance), "%s", ctx->id.instance);
	if (ctx->opts->docker_host && (env->docker_host = envup__strdup(ctx->opts->docker_host)) == NULL)
		goto fail;
	for (i = 0; i < ctx->nsvcs; i++)
		if (service_exports(env, &ctx->svcs[i], ctx->svcs[i].host ? ctx->svcs[i].host : host) < 0)
			goto fail;
	*out = env;
	return 0;
fail:
	envup_env_free(env);
	return ENVUP_ERROR;
}

int envup_env__new(envup_env **out, const char *name, const envup_kvlist *exports)
{
	envup_env *env = envup_env__alloc();
	ENVUP_ERROR_CHECK_ALLOC(env);
	if ((env->name = envup__strdup(name)) == NULL || envup_kvlist_copy(&env->exports, exports) < 0) {
		envup_env_free(env);
		return ENVUP_ERROR;
	}
	*out = env;
	return 0;
}

const char *envup_env_name(const envup_env *env)
{
	return env ? env->name : NULL;
}

size_t envup_env_export_count(const envup_env *env)
{
	return env ? env->exports.n : 0;
}

const char *envup_env_export_name(const envup_env *env, size_t i)
{
	return env && i < env->exports.n ? env->exports.v[i].key : NULL;
}

const char *envup_env_export_value(const envup_env *env, size_t i)
{
	return env && i < env->exports.n ? env->exports.v[i].value : NULL;
}

const char *envup_env_export_get(const envup_env *env, const char *name)
{
	return env ? envup_kvlist_get(&env->exports, name) : NULL;
}

int envup_env_format(char **out, const envup_env *env, envup_format format)
{
	envup_buf b = ENVUP_BUF_INIT;
	int error;
	ENVUP_ASSERT_ARG(out && env);
	*out = NULL;
	if ((error = envup_exports_format(&b, &env->exports, format)) < 0) {
		envup_buf_dispose(&b);
		return error;
	}
	*out = envup_buf_detach(&b);
	return *out ? 0 : ENVUP_ERROR;
}

const char *envup_env_owner(const envup_env *env)
{
	return env ? env->owner : NULL;
}

long long envup_env_expires(const envup_env *env)
{
	return env ? env->expires : 0;
}

size_t envup_env_secret_count(const envup_env *env)
{
	return env ? env->secrets.n : 0;
}

const char *envup_env_secret(const envup_env *env, size_t i)
{
	return env && i < env->secrets.n ? env->secrets.v[i] : NULL;
}

int envup_env__add_service(envup_env *env, const char *name, const char *host,
	const envup_kvlist *ports, const char *url)
{
	envup_env__service *v, *s;

	if ((v = envup__realloc(env->services, (env->nservices + 1) * sizeof(*v))) == NULL)
		return ENVUP_ERROR;
	env->services = v;
	s = &v[env->nservices];
	memset(s, 0, sizeof(*s));
	env->nservices++;
	if ((s->name = envup__strdup(name)) == NULL || (s->host = envup__strdup(host)) == NULL ||
	    (ports && envup_kvlist_copy(&s->ports, ports) < 0) ||
	    (url && (s->url = envup__strdup(url)) == NULL))
		return ENVUP_ERROR;
	return 0;
}

static const envup_env__service *service_named(const envup_env *env, const char *service)
{
	size_t i;
	for (i = 0; env && service && i < env->nservices; i++)
		if (strcmp(env->services[i].name, service) == 0)
			return &env->services[i];
	return NULL;
}

size_t envup_env_service_count(const envup_env *env)
{
	return env ? env->nservices : 0;
}

const char *envup_env_service_name(const envup_env *env, size_t i)
{
	return env && i < env->nservices ? env->services[i].name : NULL;
}

const char *envup_env_service_host(const envup_env *env, const char *service)
{
	const envup_env__service *s = service_named(env, service);
	return s ? s->host : NULL;
}

int envup_env_service_port(const envup_env *env, const char *service, int container_port)
{
	const envup_env__service *s = service_named(env, service);
	const char *v = NULL;
	char key[16];

	if (!s || s->ports.n == 0)
		return -1;
	if (container_port == 0) {
		v = s->ports.v[0].value;
	} else {
		snprintf(key, sizeof(key), "%d", container_port);
		v = envup_kvlist_get(&s->ports, key);
	}
	return v ? (int)strtol(v, NULL, 10) : -1;
}

const char *envup_env_service_url(const envup_env *env, const char *service)
{
	const envup_env__service *s = service_named(env, service);
	return s ? s->url : NULL;
}

void envup_env_free(envup_env *env)
{
	size_t i;

	if (!env)
		return;
	envup__free(env->name);
	envup__free(env->owner);
	envup__free(env->docker_host);
	envup_kvlist_dispose(&env->exports);
	envup_strlist_dispose(&env->secrets);
	for (i = 0; i < env->nservices; i++) {
		envup__free(env->services[i].name);
		envup__free(env->services[i].host);
		envup__free(env->services[i].url);
		envup__free(env->services[i].kind);
		envup__free(env->services[i].user);
		envup__free(env->services[i].password);
		envup__free(env->services[i].database);
		envup__free(env->services[i].template_db);
		envup__free(env->services[i].expectations);
		envup_kvlist_dispose(&env->services[i].ports);
	}
	envup__free(env->services);
	envup_db__cache_free(env->db);
	pthread_mutex_destroy(&env->db_lock);
	envup__free(env);
}
