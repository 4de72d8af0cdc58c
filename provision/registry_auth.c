/*
 * Registry logins (registry_auth.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "provision/discover.h"
#include "provision/registry_auth.h"

#define HELPER_OUTPUT_MAX (64 * 1024)
#define HELPER_TIMEOUT_MS 10000

extern char **environ;

void envup_registry_login_dispose(envup_registry_login *l)
{
	if (!l)
		return;
	envup__free(l->registry);
	envup__free(l->header);
	envup__free(l->source);
	memset(l, 0, sizeof(*l));
}

char *envup_registry_of(const char *image)
{
	const char *slash = strchr(image, '/');
	size_t n = slash ? (size_t)(slash - image) : 0;

	if (slash && (memchr(image, '.', n) || memchr(image, ':', n) ||
	    (n == 9 && strncmp(image, "localhost", 9) == 0)))
		return envup__strndup(image, n);
	return envup__strdup("docker.io");
}

/* the keys config.json may file a registry under */
static bool registry_key_matches(const char *key, const char *registry)
{
	size_t n;

	if (strcmp(registry, "docker.io") == 0)
		return strcmp(key, "https://index.docker.io/v1/") == 0 || strcmp(key, "docker.io") == 0 ||
			strcmp(key, "index.docker.io") == 0 || strcmp(key, "registry-1.docker.io") == 0;
	if (strncmp(key, "https://", 8) == 0)
		key += 8;
	else if (strncmp(key, "http://", 7) == 0)
		key += 7;
	n = strlen(registry);
	return strncmp(key, registry, n) == 0 && (key[n] == '\0' || key[n] == '/');
}

static const cJSON *lookup(const cJSON *obj, const char *registry)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj)
		if (it->string && registry_key_matches(it->string, registry))
			return it;
	return NULL;
}

static int make_header(envup_registry_login *out, const char *user, const char *password,
	const char *token)
{
	cJSON *j = cJSON_CreateObject();
	char *text = NULL, *b64 = NULL;
	int error = ENVUP_ERROR;

	if (!j)
		return envup_error_set_oom();
	if (token && *token) {
		if (!cJSON_AddStringToObject(j, "identitytoken", token))
			goto done;
	} else if (!cJSON_AddStringToObject(j, "username", user ? user : "") ||
	    !cJSON_AddStringToObject(j, "password", password ? password : "")) {
		goto done;
	}
	if (!cJSON_AddStringToObject(j, "serveraddress", out->registry) ||
	    (text = cJSON_PrintUnformatted(j)) == NULL ||
	    (b64 = envup_base64url_encode(text, strlen(text))) == NULL ||
	    (out->header = envup__sprintf("X-Registry-Auth: %s", b64)) == NULL)
		goto done;
	/* never in a message: the password, and the header that carries it */
	if ((password && *password && envup_secret_add(password) < 0) ||
	    (token && *token && envup_secret_add(token) < 0) || envup_secret_add(b64) < 0)
		goto done;
	error = 0;
done:
	if (error < 0)
		envup_error_set_oom();
	if (text)
		cJSON_free(text);
	envup__free(b64);
	cJSON_Delete(j);
	return error;
}

/* docker-credential-NAME get, the registry on stdin; no shell */
static int run_helper(envup_buf *out, const char *name, const char *registry)
{
	char prog[160];
	char *argv[3];
	int in[2] = {-1, -1}, outp[2] = {-1, -1}, status = 0, error = ENVUP_EDOCKER;
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;
	double until = envup_now() + HELPER_TIMEOUT_MS / 1000.0;

	if (!*name || strpbrk(name, "/ \t\n") || strlen(name) > 100)
		return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			"credential helper name '%s' in the docker config is not a plain name", name);
	snprintf(prog, sizeof(prog), "docker-credential-%s", name);
	argv[0] = prog;
	argv[1] = (char *)"get";
	argv[2] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		error = envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_OS, "pipe for %s", prog);
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	error = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	if (error != 0) {
		pid = -1;
		error = envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			"credential helper %s (from the docker config) cannot run: %s", prog, strerror(error));
		goto done;
	}
	{
		envup_sigpipe_guard g;
		envup_sigpipe_block(&g);
		if (write(in[1], registry, strlen(registry)) < 0) { /* a helper may not read */ }
		envup_sigpipe_restore(&g);
	}
	close(in[1]);
	in[1] = -1;
	for (;;) {
		char buf[4096];
		struct pollfd pfd = {outp[0], POLLIN, 0};
		long left = (long)((until - envup_now()) * 1000);
		ssize_t n;
		if (left <= 0) {
			error = envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"credential helper %s did not answer within %d s", prog, HELPER_TIMEOUT_MS / 1000);
			goto done;
		}
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if ((n = read(outp[0], buf, sizeof(buf))) <= 0)
			break;
		if (out->size + (size_t)n > HELPER_OUTPUT_MAX) {
			error = envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"credential helper %s wrote more than 64 KiB", prog);
			goto done;
		}
		if (envup_buf_put(out, buf, (size_t)n) < 0) {
			error = ENVUP_ERROR;
			goto done;
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		error = envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			"credential helper %s get %s failed (exit %d)", prog, registry,
			WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		goto done;
	}
	error = envup_buf_puts(out, "");
done:
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (in[0] >= 0) close(in[0]);
	if (in[1] >= 0) close(in[1]);
	if (outp[0] >= 0) close(outp[0]);
	if (outp[1] >= 0) close(outp[1]);
	return error;
}

/* `server` is what the docker CLI asks the helper for: the key the login
 * was filed under (https://index.docker.io/v1/ for Docker Hub). A helper
 * that has none ("credentials not found") means: no login. */
static int from_helper(envup_registry_login *out, const char *helper, const char *server)
{
	envup_buf b = ENVUP_BUF_INIT;
	cJSON *j = NULL;
	const cJSON *u, *s;
	int error;

	if ((error = run_helper(&b, helper, server)) < 0) {
		if (b.ptr && strstr(b.ptr, "credentials not found")) {
			envup_error_clear();
			error = 0;
		}
		goto done;
	}
	j = cJSON_ParseWithLength(b.ptr ? b.ptr : "", b.size);
	u = cJSON_GetObjectItemCaseSensitive(j, "Username");
	s = cJSON_GetObjectItemCaseSensitive(j, "Secret");
	if (!cJSON_IsString(s)) {
		error = envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			"credential helper docker-credential-%s gave no Secret for %s", helper, out->registry);
		goto done;
	}
	if ((out->source = envup__sprintf("credential helper docker-credential-%s", helper)) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	/* "<token>" as the user: the secret is an identity token */
	if (cJSON_IsString(u) && strcmp(u->valuestring, "<token>") == 0)
		error = make_header(out, NULL, NULL, s->valuestring);
	else
		error = make_header(out, cJSON_IsString(u) ? u->valuestring : "", s->valuestring, NULL);
done:
	if (b.ptr)
		envup_secret_add(b.ptr); /* the helper's answer holds the secret */
	cJSON_Delete(j);
	envup_buf_dispose(&b);
	return error;
}

static int from_auths(envup_registry_login *out, const cJSON *entry, const char *path)
{
	const cJSON *auth = cJSON_GetObjectItemCaseSensitive(entry, "auth");
	const cJSON *user = cJSON_GetObjectItemCaseSensitive(entry, "username");
	const cJSON *pass = cJSON_GetObjectItemCaseSensitive(entry, "password");
	const cJSON *token = cJSON_GetObjectItemCaseSensitive(entry, "identitytoken");
	envup_buf dec = ENVUP_BUF_INIT;
	int error;

	if ((out->source = envup__sprintf("auths in %s", path)) == NULL)
		return ENVUP_ERROR;
	if (cJSON_IsString(token) && *token->valuestring)
		return make_header(out, NULL, NULL, token->valuestring);
	if (cJSON_IsString(auth) && *auth->valuestring) {
		char *colon;
		if ((error = envup_base64_decode(&dec, auth->valuestring)) < 0 ||
		    (colon = strchr(dec.ptr, ':')) == NULL) {
			envup_buf_dispose(&dec);
			if (error == ENVUP_ERROR)
				return error;
			return envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"%s: the auth of %s is not base64 of user:password", path, out->registry);
		}
		*colon = '\0';
		error = make_header(out, dec.ptr, colon + 1, NULL);
		envup_buf_dispose(&dec);
		return error;
	}
	if (cJSON_IsString(user) && cJSON_IsString(pass))
		return make_header(out, user->valuestring, pass->valuestring, NULL);
	return 0;   /* an entry without credentials: pull without */
}

int envup_registry_login_find(envup_registry_login *out, const char *image)
{
	char *dir = NULL, *path = NULL;
	cJSON *cfg = NULL;
	const cJSON *helpers, *store, *auths, *e;
	int err = 0, error = 0;

	memset(out, 0, sizeof(*out));
	if ((out->registry = envup_registry_of(image)) == NULL)
		return envup_error_set_oom();
	if ((dir = envup_docker_config_dir()) == NULL) {
		const char *c = getenv("DOCKER_CONFIG"), *h = getenv("HOME");
		/* neither set: no config anywhere, no login */
		return (c && *c) || (h && *h) ? envup_error_set_oom() : 0;
	}
	if ((path = envup__sprintf("%s/config.json", dir)) == NULL) {
		envup__free(dir);
		return envup_error_set_oom();
	}
	/* no config, or one the docker CLI would refuse: pull without login
	 * (a registry that needs one says so) */
	if ((cfg = envup_docker_read_json(path, &err)) == NULL)
		goto done;
	helpers = lookup(cJSON_GetObjectItemCaseSensitive(cfg, "credHelpers"), out->registry);
	store = cJSON_GetObjectItemCaseSensitive(cfg, "credsStore");
	auths = cJSON_GetObjectItemCaseSensitive(cfg, "auths");
	if (cJSON_IsString(helpers) && *helpers->valuestring)
		error = from_helper(out, helpers->valuestring, strcmp(out->registry, "docker.io") == 0 ?
			"https://index.docker.io/v1/" : out->registry);
	else if ((e = lookup(auths, out->registry)) != NULL && cJSON_IsObject(e) &&
	    (cJSON_GetObjectItemCaseSensitive(e, "auth") || cJSON_GetObjectItemCaseSensitive(e, "password") ||
	     cJSON_GetObjectItemCaseSensitive(e, "identitytoken")))
		error = from_auths(out, e, path);
	else if (cJSON_IsString(store) && *store->valuestring && (e = lookup(auths, out->registry)) != NULL)
		/* the store holds what auths lists, under the same key */
		error = from_helper(out, store->valuestring, e->string);
done:
	cJSON_Delete(cfg);
	envup__free(path);
	envup__free(dir);
	if (error < 0) {
		char *keep = out->registry;
		out->registry = NULL;
		envup_registry_login_dispose(out);
		out->registry = keep;
	}
	return error;
}
