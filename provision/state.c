/*
 * The state directory (see state.h).
 */
#include <stdlib.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "provision/state.h"
#include "provision/handle.h"
#include "compose/spec.h"

#define STATE_MAX (1024 * 1024)

/* The directory must be ours and private: it may live in /tmp, and it
 * holds passwords. Its mode is never changed: a directory someone chose
 * to share (a 1777 one) is refused, not silently locked down. */
static int check_dir(const char *dir)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "state directory %s", dir);
	/* refusals are the user's setting to fix: ENVUP_ESPEC, exit 2 */
	if (!S_ISDIR(st.st_mode))
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "state directory %s is not a directory", dir);
	if (st.st_uid != geteuid())
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"state directory %s is owned by uid %u, not by you (uid %u): envup keeps "
			"passwords there; set ENVUP_STATE_DIR to a directory of your own",
			dir, (unsigned)st.st_uid, (unsigned)geteuid());
	if ((st.st_mode & 077) != 0)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"state directory %s has mode %04o: others can reach it, and envup keeps "
			"passwords there; point ENVUP_STATE_DIR at a private directory "
			"(mkdir -m 700 DIR) or unset it", dir, (unsigned)(st.st_mode & 07777));
	return 0;
}

int envup_state_dir(char **out, bool create)
{
	const char *explicit_dir = getenv("ENVUP_STATE_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char *dir;
	int error;

	*out = NULL;
	if (explicit_dir && *explicit_dir && explicit_dir[0] != '/') {
		/* relative: made absolute, so the watchdog (which runs in /)
		 * finds the same directory */
		char cwd[4096];
		if (!getcwd(cwd, sizeof(cwd)))
			return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "state directory %s: getcwd", explicit_dir);
		dir = envup__sprintf("%s/%s", cwd, explicit_dir);
	} else if (explicit_dir && *explicit_dir)
		dir = envup__strdup(explicit_dir);
	else if (xdg && *xdg && access(xdg, W_OK) == 0)
		dir = envup__sprintf("%s/envup", xdg);
	else
		dir = envup__sprintf("/tmp/envup-%u", (unsigned)geteuid());
	ENVUP_ERROR_CHECK_ALLOC(dir);
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot create state directory %s", dir);
		envup__free(dir);
		return ENVUP_ERROR;
	}
	if ((create || access(dir, F_OK) == 0) && (error = check_dir(dir)) < 0) {
		envup__free(dir);
		return error;
	}
	*out = dir;
	return 0;
}

/* DIR/NAME.SUFFIX, for a valid environment name only: names come from
 * labels too, and must never walk out of the directory. */
int envup_state_path(char **out, const char *env_name, const char *suffix, bool create)
{
	char *dir = NULL;

	*out = NULL;
	if (!envup_name_valid(env_name))
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_INTERNAL, "invalid environment name for a state file");
	if (envup_state_dir(&dir, create) < 0)
		return ENVUP_ERROR;
	*out = envup__sprintf("%s/%s%s", dir, env_name, suffix);
	envup__free(dir);
	return *out ? 0 : ENVUP_ERROR;
}

/* Write `text` to `path` atomically, 0600. */
static int write_atomic(const char *path, const char *text)
{
	char *tmp = NULL;
	size_t len = strlen(text);
	int fd = -1, error = ENVUP_ERROR;

	if ((tmp = envup__sprintf("%s.%d.tmp", path, (int)getpid())) == NULL)
		goto done;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot write %s", tmp);
		goto done;
	}
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot write %s", tmp);
		goto done;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot rename %s", tmp);
		goto done;
	}
	error = 0;
done:
	if (fd >= 0)
		close(fd);
	if (error && tmp)
		unlink(tmp);
	envup__free(tmp);
	return error;
}

/* Read and parse a JSON state file, through the descriptor opened with
 * O_NOFOLLOW (never a second open by path, which a symlink swapped in
 * meanwhile would redirect). ENVUP_ENOTFOUND (no error set) when there is
 * none. */
static int read_json(cJSON **out, const char *path)
{
	envup_buf text = ENVUP_BUF_INIT;
	unsigned long oom;
	int fd, err = 0, error = ENVUP_ERROR;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return ENVUP_ENOTFOUND;
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot read %s", path);
	}
	if (envup_fd_read_all(&text, fd, STATE_MAX, &err) < 0) {
		if (err == EFBIG)
			envup_error_set(ENVUP_ERROR, ENVUP_ERROR_JSON, "%s: invalid state file (too large)", path);
		else if (err) {
			errno = err;
			envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot read %s", path);
		}
		goto done;
	}
	oom = envup__oom_count();
	if ((*out = cJSON_Parse(text.ptr)) == NULL && envup__oom_count() != oom)
		goto done; /* out of memory, not a bad file */
	if (!*out || !cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_JSON, "%s: invalid state file", path);
		goto done;
	}
	error = 0;
done:
	close(fd);
	envup_buf_dispose(&text);
	return error;
}

int envup_state_save(const char *env_name, const char *engine_address, const envup_env *env)
{
	char *path = NULL, *text = NULL;
	cJSON *root = NULL, *obj, *arr, *svcs;
	size_t i;
	int error = ENVUP_ERROR;

	if (envup_state_path(&path, env_name, ".json", true) < 0)
		goto done;
	if ((root = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(root, "name", env_name) ||
	    !cJSON_AddStringToObject(root, "engine", engine_address ? engine_address : "") ||
	    !cJSON_AddStringToObject(root, "instance", env->instance) ||
	    !cJSON_AddNumberToObject(root, "expires", (double)env->expires) ||
	    (env->owner && !cJSON_AddStringToObject(root, "owner", env->owner)) ||
	    (obj = cJSON_AddObjectToObject(root, "exports")) == NULL ||
	    (arr = cJSON_AddArrayToObject(root, "secrets")) == NULL)
		goto oom;
	for (i = 0; i < env->exports.n; i++)
		if (!cJSON_AddStringToObject(obj, env->exports.v[i].key, env->exports.v[i].value))
			goto oom;
	for (i = 0; i < env->secrets.n; i++) {
		cJSON *v = cJSON_CreateString(env->secrets.v[i]);
		if (!v || !cJSON_AddItemToArray(arr, v)) {
			cJSON_Delete(v);
			goto oom;
		}
	}
	if ((svcs = cJSON_AddObjectToObject(root, "services")) == NULL)
		goto oom;
	for (i = 0; i < env->nservices; i++) {
		const envup_env__service *sv = &env->services[i];
		cJSON *o = cJSON_AddObjectToObject(svcs, sv->name), *ports;
		size_t j;
		if (!o || !cJSON_AddStringToObject(o, "host", sv->host) ||
		    (sv->url && !cJSON_AddStringToObject(o, "url", sv->url)) ||
		    (sv->kind && !cJSON_AddStringToObject(o, "kind", sv->kind)) ||
		    (sv->user && !cJSON_AddStringToObject(o, "user", sv->user)) ||
		    (sv->password && !cJSON_AddStringToObject(o, "password", sv->password)) ||
		    (sv->database && !cJSON_AddStringToObject(o, "database", sv->database)) ||
		    (sv->template_db && !cJSON_AddStringToObject(o, "template", sv->template_db)) ||
		    (sv->expectations && !cJSON_AddStringToObject(o, "expectations", sv->expectations)) ||
		    (ports = cJSON_AddObjectToObject(o, "ports")) == NULL)
			goto oom;
		for (j = 0; j < sv->ports.n; j++)
			if (!cJSON_AddStringToObject(ports, sv->ports.v[j].key, sv->ports.v[j].value))
				goto oom;
	}
	if ((text = cJSON_PrintUnformatted(root)) == NULL)
		goto oom;
	error = write_atomic(path, text);
	goto done;
oom:
	envup_error_set_oom();
done:
	if (text)
		cJSON_free(text);
	cJSON_Delete(root);
	envup__free(path);
	return error;
}

/* What envup db and reset need of a service: strings, when present. */
static int load_service_data(envup_env__service *sv, const cJSON *item)
{
	static const struct { const char *key; size_t off; } fields[] = {
		{"kind", offsetof(envup_env__service, kind)},
		{"user", offsetof(envup_env__service, user)},
		{"password", offsetof(envup_env__service, password)},
		{"database", offsetof(envup_env__service, database)},
		{"template", offsetof(envup_env__service, template_db)},
		{"expectations", offsetof(envup_env__service, expectations)},
	};
	size_t i;

	for (i = 0; i < ENVUP_ARRAY_SIZE(fields); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, fields[i].key);
		char **dst = (char **)((char *)sv + fields[i].off);
		if (cJSON_IsString(v) && (*dst = envup__strdup(v->valuestring)) == NULL)
			return ENVUP_ERROR;
	}
	return 0;
}

int envup_state_load(envup_env **out, char **engine_address, const char *env_name)
{
	envup_env *env = NULL;
	char *path = NULL;
	cJSON *root = NULL, *obj, *item;
	int error = ENVUP_ERROR;

	*out = NULL;
	if (engine_address)
		*engine_address = NULL;
	if (envup_state_path(&path, env_name, ".json", false) < 0)
		goto done;
	if ((error = read_json(&root, path)) < 0) {
		if (error == ENVUP_ENOTFOUND)
			envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "no saved state for environment '%s'", env_name);
		goto done;
	}
	error = ENVUP_ERROR;
	if (!cJSON_IsObject(obj = cJSON_GetObjectItemCaseSensitive(root, "exports"))) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_JSON, "%s: invalid state file", path);
		goto done;
	}
	if ((env = envup_env__alloc()) == NULL ||
	    (env->name = envup__strdup(env_name)) == NULL)
		goto done;
	cJSON_ArrayForEach(item, obj) {
		if (!cJSON_IsString(item)) {
			envup_error_set(ENVUP_ERROR, ENVUP_ERROR_JSON, "%s: invalid state file", path);
			goto done;
		}
		if (envup_kvlist_set(&env->exports, item->string, item->valuestring) < 0)
			goto done;
	}
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(root, "secrets"))
		if (cJSON_IsString(item) && envup_strlist_push(&env->secrets, item->valuestring) < 0)
			goto done;
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(root, "services")) {
		const cJSON *host = cJSON_GetObjectItemCaseSensitive(item, "host");
		const cJSON *url = cJSON_GetObjectItemCaseSensitive(item, "url"), *p;
		envup_kvlist ports = ENVUP_KVLIST_INIT;
		int rc = 0;
		if (!item->string || !cJSON_IsString(host))
			continue;
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(item, "ports"))
			if (rc == 0 && p->string && cJSON_IsString(p))
				rc = envup_kvlist_set(&ports, p->string, p->valuestring);
		if (rc == 0)
			rc = envup_env__add_service(env, item->string, host->valuestring, &ports,
				cJSON_IsString(url) ? url->valuestring : NULL);
		if (rc == 0)
			rc = load_service_data(envup_env__last_service(env), item);
		envup_kvlist_dispose(&ports);
		if (rc < 0)
			goto done;
	}
	item = cJSON_GetObjectItemCaseSensitive(root, "owner");
	if (cJSON_IsString(item) && (env->owner = envup_printable(item->valuestring)) == NULL)
		goto done;
	item = cJSON_GetObjectItemCaseSensitive(root, "expires");
	if (cJSON_IsNumber(item) && item->valuedouble > 0 && item->valuedouble < 1e12)
		env->expires = (long long)item->valuedouble;
	item = cJSON_GetObjectItemCaseSensitive(root, "instance");
	if (cJSON_IsString(item) && strlen(item->valuestring) < sizeof(env->instance))
		snprintf(env->instance, sizeof(env->instance), "%s", item->valuestring);
	item = cJSON_GetObjectItemCaseSensitive(root, "engine");
	if (engine_address && cJSON_IsString(item) &&
	    (*engine_address = envup__strdup(item->valuestring)) == NULL)
		goto done;
	*out = env;
	env = NULL;
	error = 0;
done:
	envup_env_free(env);
	cJSON_Delete(root);
	envup__free(path);
	return error;
}

/* The files of the saved state's redis services (redisdb.c: the numbers
 * held), named exactly: names may hold '.', a pattern could match another
 * environment's. */
static void remove_service_files(const char *env_name, const char *path)
{
	cJSON *root = NULL, *item;

	if (read_json(&root, path) < 0)
		return;
	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(root, "services")) {
		const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "kind"));
		char *suffix, *file = NULL;
		if (!item->string || !kind || strcmp(kind, "redis") != 0 || strchr(item->string, '/'))
			continue;
		if ((suffix = envup__sprintf(".%s.redis", item->string)) != NULL &&
		    envup_state_path(&file, env_name, suffix, false) == 0)
			unlink(file);
		envup__free(suffix);
		envup__free(file);
	}
	cJSON_Delete(root);
}

int envup_state_remove(const char *env_name)
{
	char *path = NULL;
	int error = 0;
	if (envup_state_path(&path, env_name, ".json", false) < 0)
		return ENVUP_ERROR;
	remove_service_files(env_name, path);
	if (unlink(path) < 0 && errno != ENOENT)
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot remove %s", path);
	envup__free(path);
	return error;
}

/* ---- removal records ----------------------------------------------------- */

void envup_state_record_removal(const char *env_name, const char *instance, const char *by,
	const char *reason)
{
	char *path = NULL, *text = NULL;
	cJSON *root = NULL;

	if (envup_state_path(&path, env_name, ".removed", true) < 0)
		goto done;
	if ((root = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(root, "name", env_name) ||
	    !cJSON_AddStringToObject(root, "instance", instance ? instance : "") ||
	    !cJSON_AddNumberToObject(root, "at", (double)time(NULL)) ||
	    !cJSON_AddStringToObject(root, "by", by) ||
	    !cJSON_AddStringToObject(root, "reason", reason) ||
	    (text = cJSON_PrintUnformatted(root)) == NULL)
		goto done;
	write_atomic(path, text);
done:
	if (text)
		cJSON_free(text);
	cJSON_Delete(root);
	envup__free(path);
}

int envup_state_removal(envup_removal *out, const char *env_name)
{
	char *path = NULL;
	cJSON *root = NULL, *item;
	int error;

	memset(out, 0, sizeof(*out));
	if (!envup_name_valid(env_name))
		return ENVUP_ENOTFOUND;
	if ((error = envup_state_path(&path, env_name, ".removed", false)) < 0 ||
	    (error = read_json(&root, path)) < 0)
		goto done;
	error = ENVUP_ENOTFOUND;
	item = cJSON_GetObjectItemCaseSensitive(root, "at");
	if (!cJSON_IsNumber(item) || item->valuedouble <= 0 || item->valuedouble > 1e12)
		goto done;
	out->at = (long long)item->valuedouble;
	item = cJSON_GetObjectItemCaseSensitive(root, "by");
	envup_printable_into(out->by, sizeof(out->by), cJSON_IsString(item) ? item->valuestring : "envup");
	item = cJSON_GetObjectItemCaseSensitive(root, "reason");
	envup_printable_into(out->reason, sizeof(out->reason),
		cJSON_IsString(item) ? item->valuestring : "");
	error = 0;
done:
	cJSON_Delete(root);
	envup__free(path);
	return error;
}

void envup_state_removal_text(char *out, size_t len, const envup_removal *r)
{
	char when[64];
	time_t t = (time_t)r->at, now = time(NULL);
	struct tm tm, today;

	localtime_r(&now, &today);
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), tm.tm_yday == today.tm_yday && tm.tm_year == today.tm_year ?
		"%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out, len, "removed at %s by %s%s%s", when, r->by, r->reason[0] ? ": " : "",
		r->reason);
}

bool envup_state_instance_removed(const char *env_name, const char *instance)
{
	char *path = NULL;
	cJSON *root = NULL, *item;
	bool removed = false;

	if (!instance || !*instance || envup_state_path(&path, env_name, ".removed", false) < 0 ||
	    read_json(&root, path) < 0)
		goto done;
	item = cJSON_GetObjectItemCaseSensitive(root, "instance");
	if (cJSON_IsString(item)) {
		const char *p = item->valuestring;
		size_t n = strlen(instance);
		for (; (p = strstr(p, instance)) != NULL; p += n)
			if ((p == item->valuestring || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) {
				removed = true;
				break;
			}
	}
done:
	cJSON_Delete(root);
	envup__free(path);
	return removed;
}

void envup_state_forget_removal(const char *env_name)
{
	char *path = NULL;
	if (envup_state_path(&path, env_name, ".removed", false) == 0)
		unlink(path);
	envup__free(path);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

void envup_state_prune(void)
{
	char *dir = NULL;
	DIR *d = NULL;
	struct dirent *de;
	time_t cutoff = time(NULL) - ENVUP_STATE_KEEP_S;
	int dfd;

	if (envup_state_dir(&dir, false) < 0 || access(dir, F_OK) < 0 || (d = opendir(dir)) == NULL)
		goto done;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.' ||
		    !(ends_with(de->d_name, ".removed") || ends_with(de->d_name, ".watchdog.log") ||
		      ends_with(de->d_name, ".watchdog.log.1")))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    st.st_mtime < cutoff)
			unlinkat(dfd, de->d_name, 0);
	}
done:
	if (d)
		closedir(d);
	envup__free(dir);
}

int envup_state_open_log(const char *env_name)
{
	char *path = NULL, *old = NULL;
	struct stat st;
	int fd = -1;

	if (envup_state_path(&path, env_name, ".watchdog.log", true) < 0)
		goto done;
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > ENVUP_STATE_LOG_MAX &&
	    (old = envup__sprintf("%s.1", path)) != NULL)
		rename(path, old);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
done:
	envup__free(path);
	envup__free(old);
	return fd;
}
