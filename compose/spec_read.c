/*
 * The public face of a spec (include/envup/spec.h): read one from a file
 * or memory, with the environment's ${VAR}s, and name its services.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "compose/compose.h"

/* The spec of directory `up` ("" for the current one, else "../",
 * "../../", ...), written into `out`; false when it holds none. */
static bool spec_in(char *out, size_t len, const char *up)
{
	size_t i;

	snprintf(out, len, "%s%s", up, ENVUP_DEFAULT_SPEC);
	if (access(out, F_OK) == 0)
		return true;
	for (i = 0; envup_compose__default_files[i]; i++) {
		snprintf(out, len, "%s%s", up, envup_compose__default_files[i]);
		if (access(out, F_OK) == 0)
			return true;
	}
	return false;
}

#define SPEC_SEARCH_DEPTH 32

const char *envup_spec_default_path(void)
{
	static _Thread_local char found[3 * SPEC_SEARCH_DEPTH + 64];
	char up[3 * SPEC_SEARCH_DEPTH + 4] = "", here[4096], there[4096];
	size_t depth, ul = 0;

	/* here, then each directory above, as docker compose looks: a test
	 * runner that starts tests in a package's directory finds the
	 * project's spec */
	for (depth = 0; depth <= SPEC_SEARCH_DEPTH; depth++) {
		if (spec_in(found, sizeof(found), up))
			return depth == 0 && strncmp(found, ENVUP_DEFAULT_SPEC, sizeof(found)) == 0 ?
				ENVUP_DEFAULT_SPEC : found;
		/* stop at the root: its ".." is itself */
		snprintf(here, sizeof(here), "%s.", up);
		snprintf(there, sizeof(there), "%s..", up);
		{
			char a[4096], b[4096];
			if (!realpath(here, a) || !realpath(there, b) || strcmp(a, b) == 0)
				break;
		}
		memcpy(up + ul, "../", 4);
		ul += 3;
	}
	return NULL;
}

int envup_spec__read_sel(envup_spec **out, const char *path, const envup_spec_select *sel)
{
	char cwd[1024];

	ENVUP_ASSERT_ARG(out);
	*out = NULL;
	if (!path)
		path = envup_spec_default_path();
	/* no default spec: say where it was looked for */
	if (!path)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"no %s, compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml "
			"in %s or a directory above it (the files envup looks for when -f is not "
			"given): write one, or name the spec with -f FILE", ENVUP_DEFAULT_SPEC,
			getcwd(cwd, sizeof(cwd)) ? cwd : "the current directory");
	return envup_spec_load_sel(out, path, NULL, NULL, sel);
}

int envup_spec_read(envup_spec **out, const char *path)
{
	return envup_spec__read_sel(out, path, NULL);
}

int envup_spec_read_text(envup_spec **out, const char *text, const char *display_path,
	const char *dir)
{
	ENVUP_ASSERT_ARG(out && text);
	*out = NULL;
	return envup_spec_load_buffer(out, display_path ? display_path : "spec", dir ? dir : ".",
		text, strlen(text), NULL, NULL);
}

const char *envup_spec_name(const envup_spec *spec)
{
	return spec ? spec->name : NULL;
}

size_t envup_spec_service_count(const envup_spec *spec)
{
	return spec ? spec->nservices : 0;
}

const char *envup_spec_service_name(const envup_spec *spec, size_t i)
{
	return spec && i < spec->nservices ? spec->services[i].name : NULL;
}

int envup_spec_read_with(envup_spec **out, const char *path, const envup_spec_options *opts)
{
	envup_spec_select sel;

	ENVUP_ASSERT_ARG(out);
	*out = NULL;
	memset(&sel, 0, sizeof(sel));
	if (opts) {
		if (opts->version != ENVUP_SPEC_OPTIONS_VERSION)
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
				"envup_spec_options version %d: this libenvup (%s) takes version %d; "
				"rebuild against its headers", opts->version, ENVUP_VERSION_STRING,
				ENVUP_SPEC_OPTIONS_VERSION);
		sel.services = opts->services;
		sel.nservices = opts->nservices;
		sel.profiles = opts->profiles;
		sel.nprofiles = opts->nprofiles;
		sel.env_file = opts->env_file;
	}
	return envup_spec__read_sel(out, path, &sel);
}

int envup_spec_config(char **out, const envup_spec *spec, envup_config_format format)
{
	ENVUP_ASSERT_ARG(out && spec);
	return envup_spec__config(out, spec, format == ENVUP_CONFIG_YAML, NULL);
}
