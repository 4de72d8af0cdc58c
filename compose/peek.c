/*
 * See peek.h: a lenient read of the spec's top-level name:.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>
#include "compose/peek.h"
#include "compose/spec.h"

static int spec_dir(char **dir, const char *path, bool exists)
{
	char *copy = envup__strdup(path);
	char real[PATH_MAX];
	const char *d;

	ENVUP_ERROR_CHECK_ALLOC(copy);
	d = exists ? dirname(copy) : ".";
	if (!realpath(d, real)) {
		envup__free(copy);
		return envup_error_set(ENVUP_ERROR_OS, "%s", d);
	}
	envup__free(copy);
	*dir = envup__strdup(real);
	return *dir ? 0 : ENVUP_ERROR;
}

int envup_spec_peek_name(char **name, char **dir, const char *path)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_pair_t *pair;
	FILE *f;
	char *why = NULL;
	int error = 0;
	bool have_doc = false;

	*name = NULL;
	*dir = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		if (errno != ENOENT)
			return envup_error_set(ENVUP_ERROR_OS, "%s", path);
		return spec_dir(dir, path, false);
	}
	if ((error = spec_dir(dir, path, true)) < 0)
		goto done;
	if (!yaml_parser_initialize(&parser)) {
		error = envup_error_set_oom();
		goto done;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		if (parser.error == YAML_MEMORY_ERROR)
			error = envup_error_set_oom();
		else
			error = envup_error_set(ENVUP_ERROR_SPEC, "%s:%zu:%zu: %s", path,
				parser.problem_mark.line + 1, parser.problem_mark.column + 1,
				parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		goto done;
	}
	have_doc = true;
	yaml_parser_delete(&parser);
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE)
		goto done;
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&doc, pair->value);
		if (!k || k->type != YAML_SCALAR_NODE || strcmp((char *)k->data.scalar.value, "name") != 0)
			continue;
		if (!v || v->type != YAML_SCALAR_NODE) {
			error = envup_error_set(ENVUP_ERROR_SPEC, "%s:%zu:%zu: name: expected a string",
				path, k->start_mark.line + 1, k->start_mark.column + 1);
			goto done;
		}
		if ((error = envup_interp(name, &why, (char *)v->data.scalar.value, NULL, NULL)) < 0) {
			/* only a bad ${...} is the spec's fault; out of memory stays that */
			if (error == ENVUP_ESPEC)
				error = envup_error_set(ENVUP_ERROR_SPEC, "%s:%zu:%zu: name: %s", path,
					v->start_mark.line + 1, v->start_mark.column + 1, why ? why : "invalid");
			goto done;
		}
		break;
	}
done:
	if (error < 0) {
		envup__free(*name);
		envup__free(*dir);
		*name = *dir = NULL;
		if (envup_error_last()->klass == ENVUP_ERROR_SPEC)
			error = ENVUP_ESPEC;
	}
	envup__free(why);
	if (have_doc)
		yaml_document_delete(&doc);
	fclose(f);
	return error;
}
