/*
 * The public face of a spec (include/envup/spec.h): read one from a file
 * or memory, with the environment's ${VAR}s, and name its services.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "compose/compose.h"

const char *envup_spec_default_path(void)
{
	size_t i;

	if (access(ENVUP_DEFAULT_SPEC, F_OK) == 0)
		return ENVUP_DEFAULT_SPEC;
	for (i = 0; envup_compose__default_files[i]; i++)
		if (access(envup_compose__default_files[i], F_OK) == 0)
			return envup_compose__default_files[i];
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
			"in %s (the files envup looks for when -f is not given): write one, or name "
			"the spec with -f FILE", ENVUP_DEFAULT_SPEC,
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
