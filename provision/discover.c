/*
 * Finding the engine (discover.h): the address given, $DOCKER_HOST, a
 * docker context, or the well-known sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "provision/discover.h"

void envup_engine_place_dispose(envup_engine_place *p)
{
	if (!p)
		return;
	envup__free(p->host);
	envup__free(p->tls_dir);
	envup__free(p->source);
	memset(p, 0, sizeof(*p));
}

char *envup_docker_config_dir(void)
{
	const char *d = getenv("DOCKER_CONFIG"), *home = getenv("HOME");

	if (d && *d)
		return envup__strdup(d);
	if (home && *home)
		return envup__sprintf("%s/.docker", home);
	return NULL;
}

cJSON *envup_docker_read_json(const char *path, int *err)
{
	envup_buf b = ENVUP_BUF_INIT;
	cJSON *json = NULL;
	int fd;

	*err = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*err = errno;
		return NULL;
	}
	if (envup_fd_read_all(&b, fd, 1024 * 1024, err) == 0)
		json = cJSON_ParseWithLength(b.ptr ? b.ptr : "", b.size);
	close(fd);
	envup_buf_dispose(&b);
	if (!json && !*err)
		*err = EINVAL;
	return json;
}

/* The context to use: $DOCKER_CONTEXT, else config.json's currentContext;
 * NULL for none or "default" (malloc'd). */
static char *context_name(const char *dir, const char **from)
{
	const char *env = getenv("DOCKER_CONTEXT");
	char *path, *name = NULL;
	cJSON *cfg;
	int err;

	if (env && *env) {
		*from = "DOCKER_CONTEXT";
		return strcmp(env, "default") == 0 ? NULL : envup__strdup(env);
	}
	if (!dir || (path = envup__sprintf("%s/config.json", dir)) == NULL)
		return NULL;
	cfg = envup_docker_read_json(path, &err);
	envup__free(path);
	if (cfg) {
		const cJSON *cur = cJSON_GetObjectItemCaseSensitive(cfg, "currentContext");
		if (cJSON_IsString(cur) && *cur->valuestring && strcmp(cur->valuestring, "default") != 0)
			name = envup__strdup(cur->valuestring);
		cJSON_Delete(cfg);
	}
	*from = "config.json currentContext";
	return name;
}

static int from_context(envup_engine_place *out, const char *dir, const char *name,
	const char *from)
{
	char sha[65], *meta = NULL, *tls = NULL;
	const cJSON *eps, *docker, *host, *skip;
	cJSON *json = NULL;
	int err = 0, error = ENVUP_ERROR;

	envup_sha256_hex(sha, name, strlen(name));
	if (!dir)
		return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			"docker context '%s' (%s): no $DOCKER_CONFIG and no $HOME to find it in", name, from);
	if ((meta = envup__sprintf("%s/contexts/meta/%s/meta.json", dir, sha)) == NULL)
		goto done;
	if ((json = envup_docker_read_json(meta, &err)) == NULL) {
		error = envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			err == ENOENT ? "docker context '%s' (%s) not found: no %s" :
			"docker context '%s' (%s): cannot read %s", name, from, meta);
		goto done;
	}
	eps = cJSON_GetObjectItemCaseSensitive(json, "Endpoints");
	docker = cJSON_GetObjectItemCaseSensitive(eps, "docker");
	host = cJSON_GetObjectItemCaseSensitive(docker, "Host");
	skip = cJSON_GetObjectItemCaseSensitive(docker, "SkipTLSVerify");
	if (!cJSON_IsString(host) || !*host->valuestring || !envup_is_printable(host->valuestring)) {
		error = envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			"docker context '%s' (%s): %s has no docker endpoint Host", name, from, meta);
		goto done;
	}
	if ((out->host = envup__strdup(host->valuestring)) == NULL ||
	    (out->source = envup__sprintf("docker context '%s' (%s)", name, from)) == NULL ||
	    (tls = envup__sprintf("%s/contexts/tls/%s/docker", dir, sha)) == NULL)
		goto done;
	out->tls_skip_verify = cJSON_IsTrue(skip);
	{
		char *ca = envup__sprintf("%s/ca.pem", tls);
		if (!ca)
			goto done;
		if (access(ca, R_OK) == 0) {
			out->tls_dir = tls;
			tls = NULL;
		}
		envup__free(ca);
	}
	error = 0;
done:
	if (error == ENVUP_ERROR && !envup_error_last()->message[0])
		envup_error_set_oom();
	cJSON_Delete(json);
	envup__free(meta);
	envup__free(tls);
	return error;
}

int envup_engine_place_find(envup_engine_place *out, const char *given)
{
	const char *env = getenv("DOCKER_HOST"), *from = NULL;
	char *dir = NULL, *name = NULL;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if ((given && *given) || (env && *env)) {
		bool g = given && *given;
		if ((out->host = envup__strdup(g ? given : env)) == NULL ||
		    (out->source = envup__strdup(g ? "the address given" : "DOCKER_HOST")) == NULL) {
			envup_engine_place_dispose(out);
			return envup_error_set_oom();
		}
		return 0;
	}
	dir = envup_docker_config_dir();
	if ((name = context_name(dir, &from)) != NULL)
		error = from_context(out, dir, name, from);
	envup__free(dir);
	envup__free(name);
	if (error < 0)
		envup_engine_place_dispose(out);
	return error;
}

int envup_engine_candidates(envup_strlist *out)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
	char *p;
	int error = 0;

	if ((error = envup_strlist_push(out, "unix:///var/run/docker.sock")) < 0)
		return error;
	if (xdg && *xdg) {
		if ((p = envup__sprintf("unix://%s/docker.sock", xdg)) == NULL)
			return ENVUP_ERROR;
		error = envup_strlist_push(out, p);
		envup__free(p);
		if (error < 0)
			return error;
	}
	if (home && *home) {
		if ((p = envup__sprintf("unix://%s/.docker/run/docker.sock", home)) == NULL)
			return ENVUP_ERROR;
		error = envup_strlist_push(out, p);
		envup__free(p);
		if (error < 0)
			return error;
	}
	if (xdg && *xdg) {
		if ((p = envup__sprintf("unix://%s/podman/podman.sock", xdg)) == NULL)
			return ENVUP_ERROR;
		error = envup_strlist_push(out, p);
		envup__free(p);
		if (error < 0)
			return error;
	}
	return envup_strlist_push(out, "unix:///run/podman/podman.sock");
}
