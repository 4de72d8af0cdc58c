/*
 * See peek.h: a lenient read of the spec's top-level name:.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "compose/peek.h"
#include "compose/spec.h"
#include "compose/yaml_tree.h"

static int spec_dir(char **dir, const char *path, bool exists)
{
	char *copy = envup__strdup(path);
	char real[PATH_MAX];
	const char *d;

	ENVUP_ERROR_CHECK_ALLOC(copy);
	d = exists ? dirname(copy) : ".";
	if (!realpath(d, real)) {
		envup__free(copy);
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "%s", d);
	}
	envup__free(copy);
	*dir = envup__strdup(real);
	return *dir ? 0 : ENVUP_ERROR;
}

#define PEEK_MAX_BYTES ((size_t)1024 * 1024)

int envup_spec_peek_name(char **name, char **dir, const char *path)
{
	envup_buf data = ENVUP_BUF_INIT;
	envup_yaml_node *root = NULL, *v, *k = NULL;
	char *why = NULL;
	int error = 0;

	*name = NULL;
	*dir = NULL;
	if (access(path, F_OK) < 0) {
		if (errno != ENOENT)
			return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "%s", path);
		return spec_dir(dir, path, false);
	}
	if ((error = spec_dir(dir, path, true)) < 0)
		goto done;
	/* the same reader and YAML guards as the full load (size, depth,
	 * alias bombs, positions), without the schema */
	if ((error = envup_read_file(&data, path, PEEK_MAX_BYTES)) < 0)
		goto done;
	if ((error = envup_yaml__parse(&root, path, data.ptr, data.size)) < 0)
		goto done;
	if (!root || root->kind != ENVUP_YAML_MAP || (v = envup_yaml__get(root, "name", &k)) == NULL)
		goto done;
	if (v->kind != ENVUP_YAML_SCALAR) {
		error = envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s:%d:%d: name: expected a string",
			path, v->pos.line, v->pos.col);
		goto done;
	}
	if ((error = envup_interp(name, &why, v->text, NULL, NULL)) < 0) {
		/* only a bad ${...} is the spec's fault; out of memory stays that */
		if (error == ENVUP_ESPEC)
			error = envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s:%d:%d: name: %s", path,
				v->pos.line, v->pos.col, why ? why : "invalid");
		goto done;
	}
done:
	if (error < 0) {
		envup__free(*name);
		envup__free(*dir);
		*name = *dir = NULL;
	}
	envup__free(why);
	envup_yaml__release(root);
	envup_buf_dispose(&data);
	return error;
}
