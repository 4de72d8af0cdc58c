/*
 * The state file: exports of an environment that is up, readable only by
 * its owner (it holds passwords). See state.h.
 */
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "provision/state.h"

/* The directory must be ours and private: it may live in /tmp. */
static int check_dir(const char *dir)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return envup_error_set(ENVUP_ERROR_OS, "state directory %s", dir);
	if (!S_ISDIR(st.st_mode))
		return envup_error_set(ENVUP_ERROR_OS, "state directory %s is not a directory", dir);
	if (st.st_uid != geteuid())
		return envup_error_set(ENVUP_ERROR_OS, "state directory %s is owned by someone else", dir);
	if ((st.st_mode & 077) != 0 && chmod(dir, 0700) < 0)
		return envup_error_set(ENVUP_ERROR_OS, "state directory %s: chmod", dir);
	return 0;
}

int envup_state_dir(char **out, bool create)
{
	const char *explicit_dir = getenv("ENVUP_STATE_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char *dir;

	if (explicit_dir && *explicit_dir)
		dir = envup__strdup(explicit_dir);
	else if (xdg && *xdg && access(xdg, W_OK) == 0)
		dir = envup__sprintf("%s/envup", xdg);
	else
		dir = envup__sprintf("/tmp/envup-%u", (unsigned)geteuid());
	ENVUP_ERROR_CHECK_ALLOC(dir);
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		envup_error_set(ENVUP_ERROR_OS, "cannot create state directory %s", dir);
		envup__free(dir);
		return ENVUP_ERROR;
	}
	if ((create || access(dir, F_OK) == 0) && check_dir(dir) < 0) {
		envup__free(dir);
		return ENVUP_ERROR;
	}
	*out = dir;
	return 0;
}

static int state_path(char **out, const char *env_name, bool create)
{
	char *dir = NULL;
	if (envup_state_dir(&dir, create) < 0)
		return ENVUP_ERROR;
	*out = envup__sprintf("%s/%s.json", dir, env_name);
	envup__free(dir);
	return *out ? 0 : ENVUP_ERROR;
}

int envup_state_save(const char *env_name, const char *engine_address,
	const envup_kvlist *exports)
{
	char *path = NULL, *tmp = NULL, *text = NULL;
	cJSON *root = NULL, *obj;
	size_t i, len;
	int fd = -1, error = ENVUP_ERROR;

	if (state_path(&path, env_name, true) < 0)
		goto done;
	if ((tmp = envup__sprintf("%s.%d.tmp", path, (int)getpid())) == NULL)
		goto done;
	if ((root = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(root, "name", env_name) ||
	    !cJSON_AddStringToObject(root, "engine", engine_address ? engine_address : "") ||
	    (obj = cJSON_AddObjectToObject(root, "exports")) == NULL) {
		envup_error_set_oom();
		goto done;
	}
	for (i = 0; i < exports->n; i++)
		if (!cJSON_AddStringToObject(obj, exports->v[i].key, exports->v[i].value)) {
			envup_error_set_oom();
			goto done;
		}
	if ((text = cJSON_PrintUnformatted(root)) == NULL) {
		envup_error_set_oom();
		goto done;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		envup_error_set(ENVUP_ERROR_OS, "cannot write %s", tmp);
		goto done;
	}
	len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		envup_error_set(ENVUP_ERROR_OS, "cannot write %s", tmp);
		goto done;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0) {
		envup_error_set(ENVUP_ERROR_OS, "cannot rename %s", tmp);
		goto done;
	}
	error = 0;
done:
	if (fd >= 0)
		close(fd);
	if (error && tmp)
		unlink(tmp);
	if (text)
		cJSON_free(text);
	cJSON_Delete(root);
	envup__free(path);
	envup__free(tmp);
	return error;
}

int envup_state_load(envup_kvlist *exports, char **engine_address, const char *env_name)
{
	char *path = NULL;
	envup_buf text = ENVUP_BUF_INIT;
	cJSON *root = NULL, *obj, *item;
	unsigned long oom;
	int fd, error = ENVUP_ERROR;

	if (engine_address)
		*engine_address = NULL;
	if (state_path(&path, env_name, false) < 0)
		goto done;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT) {
			envup_error_set(ENVUP_ERROR_OS, "no saved state for environment '%s'", env_name);
			error = ENVUP_ENOTFOUND;
		} else {
			envup_error_set(ENVUP_ERROR_OS, "cannot read %s", path);
		}
		goto done;
	}
	close(fd);
	if (envup_read_file(&text, path, 1024 * 1024) < 0)
		goto done;
	oom = envup__oom_count();
	if ((root = cJSON_Parse(text.ptr)) == NULL && envup__oom_count() != oom)
		goto done; /* out of memory, not a bad file */
	if (!root || !cJSON_IsObject(obj = cJSON_GetObjectItemCaseSensitive(root, "exports"))) {
		envup_error_set(ENVUP_ERROR_JSON, "%s: invalid state file", path);
		goto done;
	}
	cJSON_ArrayForEach(item, obj) {
		if (!cJSON_IsString(item)) {
			envup_error_set(ENVUP_ERROR_JSON, "%s: invalid state file", path);
			goto done;
		}
		if (envup_kvlist_set(exports, item->string, item->valuestring) < 0)
			goto done;
	}
	item = cJSON_GetObjectItemCaseSensitive(root, "engine");
	if (engine_address && cJSON_IsString(item) &&
	    (*engine_address = envup__strdup(item->valuestring)) == NULL)
		goto done;
	error = 0;
done:
	cJSON_Delete(root);
	envup_buf_dispose(&text);
	envup__free(path);
	return error;
}

int envup_state_remove(const char *env_name)
{
	char *path = NULL;
	int error = 0;
	if (state_path(&path, env_name, false) < 0)
		return ENVUP_ERROR;
	if (unlink(path) < 0 && errno != ENOENT)
		error = envup_error_set(ENVUP_ERROR_OS, "cannot remove %s", path);
	envup__free(path);
	return error;
}
