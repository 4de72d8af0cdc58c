/*
 * Loading a spec: read the file (at most 1 MiB), parse it into a tree
 * (yaml_tree.c), decode the top level and each service (service.c),
 * apply templates (template_apply.c), then the checks that need several
 * services (validate.c) and the start order (order.c).
 *
 * Errors that concern the file as a whole (cannot be read, too large) are
 * "FILE: message"; all others carry a position.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "compose/compose.h"
#include "compose/order.h"
#include "compose/service.h"
#include "compose/template_apply.h"
#include "compose/validate.h"

#define SPEC_MAX_SIZE ((size_t)1024 * 1024)

static const char *const top_keys[] = {"name", "backend", "services", NULL};

void envup_spec_free(envup_spec *spec)
{
	size_t i;

	if (!spec)
		return;
	for (i = 0; i < spec->nservices; i++)
		envup_service__dispose(&spec->services[i]);
	envup__free(spec->services);
	envup__free(spec->order);
	envup__free(spec->path);
	envup__free(spec->dir);
	envup__free(spec->name);
	envup__free(spec->backend);
	envup_strlist_dispose(&spec->volumes);
	envup_strlist_dispose(&spec->notices);
	envup__free(spec);
}

int envup_spec_find(const envup_spec *spec, const char *service)
{
	size_t i;

	if (!spec || !service)
		return -1;
	for (i = 0; i < spec->nservices; i++)
		if (strcmp(spec->services[i].name, service) == 0)
			return (int)i;
	return -1;
}

static int spec_file_error(const char *file, int err)
{
	return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s: %s", file, strerror(err));
}

/* size 0: not known (a pipe, read up to the limit) */
static int too_large(const char *file, size_t size)
{
	if (!size)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"%s: the spec is larger than 1 MiB", file);
	return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
		"%s: the spec is larger than 1 MiB (%zu bytes)", file, size);
}

/* absolute form of dir (NULL: the working directory) */
static char *absolute_dir(const char *dir)
{
	char real[PATH_MAX], cwd[PATH_MAX];

	if (!dir || !dir[0])
		dir = ".";
	if (realpath(dir, real))
		return envup__strdup(real);
	if (dir[0] == '/')
		return envup__strdup(dir);
	if (!getcwd(cwd, sizeof(cwd))) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "getcwd");
		return NULL;
	}
	return envup__sprintf("%s/%s", cwd, dir);
}

static int decode_services(envup_spec *spec, envup_service_src **srcs_out,
	envup_decode *d, envup_yaml_node *key, envup_yaml_node *v)
{
	envup_service_src *srcs = NULL;
	size_t i, n = 0, mark;
	bool failed = false;
	int error;

	*srcs_out = NULL;
	mark = envup_decode__push(d, "services");
	if (v->kind == ENVUP_YAML_MAP) {
		for (i = 0; i + 1 < v->n; i += 2)
			n += !envup_decode__is_extension(v->items[i]->text);
	}
	if (v->kind != ENVUP_YAML_MAP && !v->is_null) {
		error = envup_decode__error(d, v->pos,
			"expected a mapping of service names to services");
		goto done;
	}
	if (n == 0) {
		error = envup_decode__error(d, v->is_null ? key->pos : v->pos,
			"no services: a spec needs at least one");
		goto done;
	}
	error = ENVUP_ERROR;
	if ((spec->services = envup__calloc(n, sizeof(envup_service))) == NULL ||
	    (srcs = envup__calloc(n, sizeof(envup_service_src))) == NULL)
		goto done;
	for (i = 0; i + 1 < v->n; i += 2) {
		envup_yaml_node *k = v->items[i];
		envup_service *svc = &spec->services[spec->nservices];
		envup_service_src *src = &srcs[spec->nservices];
		size_t m;

		if (envup_decode__is_extension(k->text))
			continue;
		m = envup_decode__push(d, k->text);
		if (!envup_service__name_valid(k->text)) {
			error = envup_decode__error(d, k->pos,
				"invalid service name '%s': use lower-case letters, digits, "
				"'_' and '-', starting with a letter or digit (at most 63)",
				k->text);
			if ((error = envup_decode__go_on(error, &failed)) < 0)
				goto done;
			envup_decode__pop(d, m);
			continue;
		}
		if ((svc->name = envup__strdup(k->text)) == NULL) {
			error = ENVUP_ERROR;
			goto done;
		}
		spec->nservices++;
		src->name = k;
		/* a template is applied to a service that decoded */
		if ((error = envup_service__decode(svc, src, d, v->items[i + 1], false)) == 0)
			error = envup_spec__apply_template(svc, src, d);
		if ((error = envup_decode__go_on(error, &failed)) < 0)
			goto done;
		envup_decode__pop(d, m);
	}
	*srcs_out = srcs;
	srcs = NULL;
	error = failed ? ENVUP_ESPEC : 0;
done:
	envup__free(srcs);
	envup_decode__pop(d, mark);
	return error;
}

static int decode_top(envup_spec *spec, envup_service_src **srcs, envup_decode *d,
	envup_yaml_node *root)
{
	envup_yaml_node *services = NULL, *services_key = NULL;
	const char *s;
	size_t i, mark;
	bool failed = false;
	int error = 0;

	if (root->kind != ENVUP_YAML_MAP)
		return envup_decode__error(d, root->pos,
			"expected a mapping with 'services:' at the top level");
	for (i = 0; i + 1 < root->n && error == 0; i += 2) {
		envup_yaml_node *k = root->items[i], *v = root->items[i + 1];
		if (envup_decode__is_extension(k->text))
			continue;
		mark = envup_decode__push(d, k->text);
		if (strcmp(k->text, "services") == 0) {
			services = v;
			services_key = k;
		} else if (strcmp(k->text, "name") == 0) {
			if ((error = envup_decode__string(&s, d, v, "a name")) == 0) {
				if (!envup_name_valid(s))
					error = envup_decode__error(d, v->pos,
						"invalid environment name '%s': use lower-case "
						"letters, digits, '.', '_' and '-'", s);
				else if ((spec->name = envup__strdup(s)) == NULL)
					error = ENVUP_ERROR;
			}
		} else if (strcmp(k->text, "backend") == 0) {
			if ((error = envup_decode__string(&s, d, v, "a backend")) == 0) {
				if (strcmp(s, "docker") != 0 && strcmp(s, "swarm") != 0)
					error = envup_decode__error(d, v->pos,
						"unknown backend '%s': docker or swarm", s);
				else if ((spec->backend = envup__strdup(s)) == NULL)
					error = ENVUP_ERROR;
			}
		} else {
			error = envup_decode__unknown_key(d, k, top_keys);
		}
		error = envup_decode__go_on(error, &failed);
		envup_decode__pop(d, mark);
	}
	if (error < 0)
		return error;
	/* a misspelt 'services' was reported as such */
	if (!services && failed)
		return ENVUP_ESPEC;
	if (!services)
		return envup_decode__error(d, root->pos,
			"'services:' is missing: a spec needs at least one service");
	error = decode_services(spec, srcs, d, services_key, services);
	return error == 0 && failed ? ENVUP_ESPEC : error;
}

/* "FILE:LINE:COL: ..." -> LINE * 100000 + COL; errors without one first */
static long position_of(const char *line, const char *file)
{
	size_t fl = strlen(file);
	char *end;
	long l, c;

	if (strncmp(line, file, fl) != 0 || line[fl] != ':')
		return -1;
	l = strtol(line + fl + 1, &end, 10);
	if (*end != ':')
		return -1;
	c = strtol(end + 1, &end, 10);
	return *end == ':' ? l * 100000 + c : -1;
}

/* stable: insertion sort (a file has few errors) */
static void sort_by_position(envup_strlist *l, const char *file)
{
	size_t i, j;

	for (i = 1; i < l->n; i++) {
		char *x = l->v[i];
		long px = position_of(x, file);
		for (j = i; j > 0 && position_of(l->v[j - 1], file) > px; j--)
			l->v[j] = l->v[j - 1];
		l->v[j] = x;
	}
}

/* docker-compose*.yml, compose*.yaml...: named as Compose names its files */
static bool compose_name(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return strncmp(base, "docker-compose", 14) == 0 || strncmp(base, "compose.", 8) == 0;
}

/* Keep the services named in sel, and what they depend on (envup specs;
 * a Compose file selects while it is read). */
static int select_services(envup_spec *spec, envup_service_src *srcs, envup_decode *d,
	const envup_spec_select *sel)
{
	bool *keep, changed = true;
	size_t i, j, n = 0;
	int error = 0;

	if (!sel || sel->nservices == 0 || spec->compose)
		return 0;
	if ((keep = envup__calloc(spec->nservices + 1, sizeof(bool))) == NULL)
		return ENVUP_ERROR;
	for (i = 0; i < sel->nservices; i++) {
		int k = envup_spec_find(spec, sel->services[i]);
		if (k >= 0) {
			keep[k] = true;
			continue;
		}
		if (envup_decode__file_error(d, "%s: no service '%s' in the spec", spec->path,
		    sel->services[i]) == ENVUP_ERROR) {
			envup__free(keep);
			return ENVUP_ERROR;
		}
		error = ENVUP_ESPEC;
	}
	while (changed && error == 0) {
		changed = false;
		for (i = 0; i < spec->nservices; i++)
			for (j = 0; keep[i] && j < spec->services[i].depends_on.n; j++) {
				int k = envup_spec_find(spec, spec->services[i].depends_on.v[j]);
				if (k >= 0 && !keep[k])
					changed = keep[k] = true;
			}
	}
	for (i = 0; error == 0 && i < spec->nservices; i++) {
		if (!keep[i]) {
			envup_service__dispose(&spec->services[i]);
			continue;
		}
		spec->services[n] = spec->services[i];
		srcs[n] = srcs[i];
		n++;
	}
	if (error == 0)
		spec->nservices = n;
	envup__free(keep);
	return error;
}

static int load(envup_spec *spec, const char *data, size_t len,
	envup_getenv_fn getenv_fn, void *payload, const envup_spec_select *sel)
{
	envup_yaml_node *root = NULL;
	envup_service_src *srcs = NULL;
	envup_strlist errors = ENVUP_STRLIST_INIT;
	envup_decode d;
	int error;

	memset(&d, 0, sizeof(d));
	d.errors = &errors;
	d.file = spec->path;
	d.interpolate = true;
	d.getenv_fn = getenv_fn;
	d.payload = payload;
	if (len > SPEC_MAX_SIZE)
		return too_large(spec->path, len);
	if ((error = envup_yaml__parse(&root, spec->path, data, len)) < 0)
		goto done;
	if (!root || (root->kind == ENVUP_YAML_SCALAR && root->is_null)) {
		envup_pos start = {1, 1};
		error = envup_decode__error(&d, root ? root->pos : start, "the spec is empty");
		goto done;
	}
	/* the checks of a whole spec run on a spec whose services decoded */
	if ((sel && sel->compose) || compose_name(spec->path) || envup_compose__detect(root))
		error = envup_compose__decode(spec, &srcs, &d, root, sel);
	else
		error = decode_top(spec, &srcs, &d, root);
	if (error < 0 ||
	    (error = select_services(spec, srcs, &d, sel)) < 0 ||
	    (error = envup_spec__validate(spec, srcs, &d)) < 0 ||
	    (error = envup_spec__order(spec, srcs, &d)) < 0)
		goto done;
	/* where each service is written, for what is checked later (a
	 * backend's check_spec) */
	for (size_t i = 0; i < spec->nservices; i++)
		if (srcs[i].name)
			spec->services[i].pos = srcs[i].name->pos;
done:
	/* every error of the file, in the order of the file, the first as the
	 * message */
	if (error == ENVUP_ESPEC && errors.n > 1) {
		sort_by_position(&errors, spec->path);
		envup_error_set_list(ENVUP_ESPEC, ENVUP_ERROR_SPEC, &errors);
	}
	envup_strlist_dispose(&errors);
	envup__free(srcs);
	envup_yaml__release(root);
	return error;
}

int envup_spec_load_buffer(envup_spec **out, const char *display_path,
	const char *dir, const char *data, size_t len,
	envup_getenv_fn getenv_fn, void *payload)
{
	return envup_spec_load_buffer_sel(out, display_path, dir, data, len, getenv_fn, payload,
		NULL);
}

int envup_spec_load_buffer_sel(envup_spec **out, const char *display_path,
	const char *dir, const char *data, size_t len,
	envup_getenv_fn getenv_fn, void *payload, const envup_spec_select *sel)
{
	envup_spec *spec = NULL;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(out);
	*out = NULL;
	ENVUP_ASSERT_ARG(display_path && (data || len == 0));
	if ((spec = envup__calloc(1, sizeof(*spec))) == NULL ||
	    (spec->path = envup__strdup(display_path)) == NULL ||
	    (spec->dir = absolute_dir(dir)) == NULL)
		goto done;
	if ((error = load(spec, data, len, getenv_fn, payload, sel)) < 0)
		goto done;
	*out = spec;
	spec = NULL;
done:
	envup_spec_free(spec);
	return error;
}

/* read at most SPEC_MAX_SIZE bytes: a larger file (or pipe) is an error */
static int read_spec(envup_buf *out, const char *path)
{
	struct stat st;
	int fd, err = 0, error = ENVUP_ERROR;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return spec_file_error(path, errno);
	if (fstat(fd, &st) < 0) {
		error = spec_file_error(path, errno);
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		error = spec_file_error(path, EISDIR);
		goto done;
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > SPEC_MAX_SIZE) {
		error = too_large(path, (size_t)st.st_size);
		goto done;
	}
	if (envup_fd_read_all(out, fd, SPEC_MAX_SIZE, &err) < 0) {
		if (err == EFBIG)
			error = too_large(path, 0);
		else if (err)
			error = spec_file_error(path, err);
		goto done;
	}
	error = 0;
done:
	close(fd);
	return error;
}

int envup_spec_load(envup_spec **out, const char *path,
	envup_getenv_fn getenv_fn, void *payload)
{
	return envup_spec_load_sel(out, path, getenv_fn, payload, NULL);
}

int envup_spec_load_sel(envup_spec **out, const char *path,
	envup_getenv_fn getenv_fn, void *payload, const envup_spec_select *sel)
{
	envup_buf data = ENVUP_BUF_INIT;
	char *dir = NULL, *slash;
	int error;

	ENVUP_ASSERT_ARG(out && path);
	*out = NULL;
	if ((error = read_spec(&data, path)) < 0)
		goto done;
	error = ENVUP_ERROR;
	if ((dir = envup__strdup(path)) == NULL)
		goto done;
	if ((slash = strrchr(dir, '/')) == NULL)
		dir[0] = '\0';
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	error = envup_spec_load_buffer_sel(out, path, dir, envup_buf_cstr(&data),
		data.size, getenv_fn, payload, sel);
done:
	envup__free(dir);
	envup_buf_dispose(&data);
	return error;
}
