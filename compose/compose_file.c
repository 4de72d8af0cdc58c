/*
 * A Compose file as a whole (compose.h): recognising one, its top level,
 * the services selected (positional names with their depends_on, and
 * profiles), and the variables interpolation sees (the OS environment,
 * then .env next to the file or --env-file).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compose/compose.h"
#include "compose/template_apply.h"
#include "compose/wait.h"

const char *const envup_compose__default_files[] = {
	"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml", NULL
};

/* keys only envup specs have (init is both's, in other senses) */
static const char *const envup_only[] = {"template", "env", "wait", "expectations",
	"export", NULL};
/* keys both have */
static const char *const shared[] = {"image", "command", "entrypoint", "ports", "tmpfs",
	"depends_on", NULL};

static bool in(const char *const *list, const char *s)
{
	size_t i;
	for (i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

bool envup_compose__detect(const envup_yaml_node *root)
{
	static const char *const compose_top[] = {"version", "volumes", "networks", "secrets",
		"configs", "include", "models", NULL};
	const envup_yaml_node *services;
	bool compose = false, envup = false;
	size_t i, j;

	if (!root || root->kind != ENVUP_YAML_MAP)
		return false;
	for (i = 0; i + 1 < root->n; i += 2)
		if (in(compose_top, root->items[i]->text))
			return true;
	services = envup_yaml__get(root, "services", NULL);
	if (!services || services->kind != ENVUP_YAML_MAP)
		return false;
	for (i = 0; i + 1 < services->n; i += 2) {
		const envup_yaml_node *svc = services->items[i + 1];
		if (svc->kind != ENVUP_YAML_MAP)
			continue;
		for (j = 0; j + 1 < svc->n; j += 2) {
			const char *k = svc->items[j]->text;
			const envup_yaml_node *v = svc->items[j + 1];
			size_t p;
			if (in(envup_only, k))
				envup = true;
			else if (!in(shared, k) && strcmp(k, "init") != 0 &&
			    envup_compose__is_compose_key(k))
				compose = true;
			/* depends_on: {db: {condition: ...}} is Compose's form */
			if (strcmp(k, "depends_on") == 0 && v->kind == ENVUP_YAML_MAP)
				compose = true;
			/* a misspelt Compose key (enviroment) */
			if (!in(envup_only, k) && !in(shared, k) && strcmp(k, "init") != 0 &&
			    !envup_compose__is_compose_key(k) && envup_compose__near_compose_key(k))
				compose = true;
			/* "8080:80": a port only Compose writes */
			if (strcmp(k, "ports") == 0 && v->kind == ENVUP_YAML_SEQ)
				for (p = 0; p < v->n; p++)
					if (v->items[p]->kind == ENVUP_YAML_MAP ||
					    (v->items[p]->kind == ENVUP_YAML_SCALAR && strchr(v->items[p]->text, ':') &&
					     !strstr(v->items[p]->text, "${")))
						compose = true;
		}
	}
	return compose && !envup;
}

/* ---- variables ------------------------------------------------------------------ */

typedef struct {
	envup_getenv_fn inner;
	void *inner_payload;
	envup_kvlist dotenv;
} vars;

/* the OS environment wins over .env */
static const char *vars_get(const char *name, void *payload)
{
	vars *v = payload;
	const char *s = v->inner ? v->inner(name, v->inner_payload) : getenv(name);
	return s ? s : envup_kvlist_get(&v->dotenv, name);
}

static int load_dotenv(vars *v, envup_decode *d, const envup_spec *spec,
	const envup_compose_options *o)
{
	char *path;
	int err = 0, error;

	if (o && o->env_file)
		path = o->env_file[0] == '/' ? envup__strdup(o->env_file) : envup__strdup(o->env_file);
	else
		path = envup__sprintf("%s/.env", spec->dir);
	if (!path)
		return ENVUP_ERROR;
	error = envup_compose__read_env_file(&v->dotenv, path, &err);
	if (error == ENVUP_ESPEC && err == ENOENT && !(o && o->env_file))
		error = 0;       /* no .env: nothing to add */
	else if (error == ENVUP_ESPEC)
		error = envup_decode__file_error(d, "%s: %s", path, strerror(err));
	envup__free(path);
	return error;
}

/* ---- the top level ---------------------------------------------------------------- */

static int decode_volumes_decl(envup_decode *d, envup_yaml_node *v)
{
	static const char *const keys[] = {"driver", "driver_opts", "labels", "name", "external",
		NULL};
	size_t i, j, mark;
	bool failed = false;
	int error = 0;

	if (v->kind == ENVUP_YAML_SCALAR && v->is_null)
		return 0;
	if ((error = envup_decode__mapping(d, v)) < 0)
		return error;
	for (i = 0; i + 1 < v->n; i += 2) {
		envup_yaml_node *k = v->items[i], *m = v->items[i + 1];
		mark = envup_decode__push(d, k->text);
		error = 0;
		if (!envup_service__name_valid(k->text))
			error = envup_decode__error(d, k->pos,
				"invalid volume name '%s': use lower-case letters, digits, '_' and '-'", k->text);
		else if (m->kind == ENVUP_YAML_MAP) {
			for (j = 0; j + 1 < m->n && error == 0; j += 2) {
				envup_yaml_node *mk = m->items[j], *mv = m->items[j + 1];
				size_t mm = envup_decode__push(d, mk->text);
				const char *s;
				bool b;
				if (strcmp(mk->text, "external") == 0) {
					if ((error = envup_decode__bool(&b, d, mv)) == 0 && b)
						error = envup_decode__error(d, mk->pos,
							"external volumes are not supported: envup only uses what it "
							"creates, and removes it at envdown");
				} else if (strcmp(mk->text, "driver") == 0) {
					if ((error = envup_decode__string(&s, d, mv, "a driver")) == 0 &&
					    strcmp(s, "local") != 0)
						error = envup_decode__error(d, mv->pos,
							"volume driver '%s' is not supported (local)", s);
				} else if (strcmp(mk->text, "name") == 0) {
					error = envup_decode__error(d, mk->pos,
						"a volume's name is envup's to choose, so that environments stay "
						"apart: leave name: out");
				} else if (strcmp(mk->text, "labels") != 0 && strcmp(mk->text, "driver_opts") != 0 &&
				    !envup_decode__is_extension(mk->text)) {
					error = envup_decode__unknown_key(d, mk, keys);
				}
				envup_decode__pop(d, mm);
			}
		} else if (!(m->kind == ENVUP_YAML_SCALAR && m->is_null)) {
			error = envup_decode__error(d, m->pos, "expected a mapping or nothing");
		}
		envup_decode__pop(d, mark);
		if ((error = envup_decode__go_on(error, &failed)) < 0)
			return error;
	}
	return failed ? ENVUP_ESPEC : 0;
}

/* ---- selection -------------------------------------------------------------------- */

/* the names a service depends on, read leniently (errors come at decode) */
static void deps_of(const envup_yaml_node *svc, const char **out, size_t *n, size_t cap)
{
	const envup_yaml_node *dep = svc->kind == ENVUP_YAML_MAP ?
		envup_yaml__get(svc, "depends_on", NULL) : NULL;
	size_t i;

	*n = 0;
	if (!dep)
		return;
	if (dep->kind == ENVUP_YAML_SCALAR && !dep->is_null && *n < cap) {
		out[(*n)++] = dep->text;
	} else if (dep->kind == ENVUP_YAML_SEQ) {
		for (i = 0; i < dep->n && *n < cap; i++)
			if (dep->items[i]->kind == ENVUP_YAML_SCALAR)
				out[(*n)++] = dep->items[i]->text;
	} else if (dep->kind == ENVUP_YAML_MAP) {
		for (i = 0; i + 1 < dep->n && *n < cap; i += 2)
			out[(*n)++] = dep->items[i]->text;
	}
}

static bool profile_on(const char *p, const envup_compose_options *o, const char *env)
{
	size_t i;

	for (i = 0; o && i < o->nprofiles; i++)
		if (strcmp(o->profiles[i], p) == 0 || strcmp(o->profiles[i], "*") == 0)
			return true;
	if (env) {
		const char *s = env;
		size_t l = strlen(p);
		while (*s) {
			size_t n = strcspn(s, ",");
			if ((n == l && strncmp(s, p, l) == 0) || (n == 1 && *s == '*'))
				return true;
			s += n;
			if (*s == ',')
				s++;
		}
	}
	return false;
}

/* A service without profiles:, or with one that is on. */
static bool active(const envup_yaml_node *svc, const envup_compose_options *o, const char *env)
{
	const envup_yaml_node *p = svc->kind == ENVUP_YAML_MAP ?
		envup_yaml__get(svc, "profiles", NULL) : NULL;
	size_t i;

	if (!p || p->kind != ENVUP_YAML_SEQ || p->n == 0)
		return true;
	for (i = 0; i < p->n; i++)
		if (p->items[i]->kind == ENVUP_YAML_SCALAR && profile_on(p->items[i]->text, o, env))
			return true;
	return false;
}

static int service_index(const envup_yaml_node *services, const char *name)
{
	size_t i;
	for (i = 0; i + 1 < services->n; i += 2)
		if (strcmp(services->items[i]->text, name) == 0)
			return (int)(i / 2);
	return -1;
}

/* selected[i] for the i-th service: the names given (or the active
 * ones), and everything they depend on */
static int select_services(bool *selected, const envup_yaml_node *services, envup_decode *d,
	const envup_compose_options *o, const char *profiles_env)
{
	size_t n = services->n / 2, i, changed = 1;
	bool failed = false;

	for (i = 0; i < n; i++)
		selected[i] = false;
	if (o && o->nservices) {
		for (i = 0; i < o->nservices; i++) {
			int j = service_index(services, o->services[i]);
			if (j < 0) {
				char known[512];
				size_t len = 0, k;
				known[0] = '\0';
				for (k = 0; k < n && len + 70 < sizeof(known); k++)
					if (!envup_decode__is_extension(services->items[2 * k]->text))
						len += (size_t)snprintf(known + len, sizeof(known) - len, "%s%s",
							len ? ", " : "", services->items[2 * k]->text);
				if (envup_decode__file_error(d, "%s: no service '%s' (services: %s)",
				    d->file, o->services[i], known) == ENVUP_ERROR)
					return ENVUP_ERROR;
				failed = true;
				continue;
			}
			selected[j] = true;
		}
	} else {
		for (i = 0; i < n; i++)
			selected[i] = !envup_decode__is_extension(services->items[2 * i]->text) &&
				active(services->items[2 * i + 1], o, profiles_env);
	}
	while (changed) {
		changed = 0;
		for (i = 0; i < n; i++) {
			const char *deps[64];
			size_t nd, k;
			if (!selected[i])
				continue;
			deps_of(services->items[2 * i + 1], deps, &nd, 64);
			for (k = 0; k < nd; k++) {
				int j = service_index(services, deps[k]);
				if (j >= 0 && !selected[j]) {
					selected[j] = true;
					changed = 1;
				}
			}
		}
	}
	return failed ? ENVUP_ESPEC : 0;
}

/* ---- decoding ------------------------------------------------------------------------ */

static int decode_services(envup_spec *spec, envup_service_src **srcs_out, envup_decode *d,
	envup_yaml_node *services, const envup_yaml_node *declared,
	const envup_compose_options *o)
{
	size_t n, i, nsel = 0;
	bool *selected = NULL, failed = false;
	envup_service_src *srcs = NULL;
	size_t mark;
	int error;

	mark = envup_decode__push(d, "services");
	if (services->kind != ENVUP_YAML_MAP || services->n == 0) {
		error = envup_decode__error(d, services->pos,
			"expected a mapping of service names to services");
		goto done;
	}
	n = services->n / 2;
	error = ENVUP_ERROR;
	if ((selected = envup__calloc(n, sizeof(bool))) == NULL)
		goto done;
	if ((error = select_services(selected, services, d, o, d->getenv_fn ?
	    d->getenv_fn("COMPOSE_PROFILES", d->payload) : getenv("COMPOSE_PROFILES"))) < 0)
		goto done;
	for (i = 0; i < n; i++)
		nsel += selected[i];
	if (nsel == 0) {
		error = envup_decode__error(d, services->pos,
			"no service is active (every service has profiles: name one, or --profile)");
		goto done;
	}
	error = ENVUP_ERROR;
	if ((spec->services = envup__calloc(nsel, sizeof(envup_service))) == NULL ||
	    (srcs = envup__calloc(nsel, sizeof(envup_service_src))) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		envup_yaml_node *k = services->items[2 * i], *v = services->items[2 * i + 1];
		envup_service *svc = &spec->services[spec->nservices];
		envup_service_src *src = &srcs[spec->nservices];
		size_t m;

		if (!selected[i])
			continue;
		m = envup_decode__push(d, k->text);
		if (!envup_service__name_valid(k->text)) {
			error = envup_decode__error(d, k->pos,
				"service name '%s': envup needs lower-case letters, digits, '_' and '-', "
				"starting with a letter or digit (at most 63), as its exports are "
				"named after it", k->text);
			envup_decode__pop(d, m);
			if (error != ENVUP_ESPEC)
				goto done;
			failed = true;
			continue;
		}
		if ((svc->name = envup__strdup(k->text)) == NULL) {
			error = ENVUP_ERROR;
			goto done;
		}
		spec->nservices++;
		src->name = k;
		if ((error = envup_compose__service(spec, svc, src, d, v, declared)) == 0 &&
		    (error = envup_spec__apply_template(svc, src, d)) == 0)
			error = envup_compose__known(svc, src, d);
		envup_decode__pop(d, m);
		if ((error = envup_decode__go_on(error, &failed)) < 0)
			goto done;
		/* the named volumes in use (a failed spec is thrown away whole) */
		for (size_t j = 0; j < svc->nmounts; j++)
			if (svc->mounts[j].kind == ENVUP_MOUNT_VOLUME && svc->mounts[j].source &&
			    !envup_strlist_contains(&spec->volumes, svc->mounts[j].source) &&
			    (error = envup_strlist_push(&spec->volumes, svc->mounts[j].source)) < 0)
				goto done;
	}
	/* required: false: kept when the service is in the file, else dropped */
	for (i = 0; !failed && i < spec->nservices; i++) {
		envup_service *svc = &spec->services[i];
		size_t j = 0;
		while (svc->dep_cond && j < svc->depends_on.n) {
			if (!(svc->dep_cond[j] & ENVUP_DEP_OPTIONAL)) {
				j++;
				continue;
			}
			svc->dep_cond[j] &= ~ENVUP_DEP_OPTIONAL;
			if (service_index(services, svc->depends_on.v[j]) >= 0) {
				j++;
				continue;
			}
			envup__free(svc->depends_on.v[j]);
			memmove(&svc->depends_on.v[j], &svc->depends_on.v[j + 1],
				(svc->depends_on.n - j - 1) * sizeof(char *));
			memmove(&svc->dep_cond[j], &svc->dep_cond[j + 1],
				(svc->depends_on.n - j - 1) * sizeof(int));
			svc->depends_on.n--;
		}
	}
	/* a service another waits on to complete successfully is ready when
	 * it exited 0 (compose waits so too) */
	for (i = 0; !failed && i < spec->nservices; i++) {
		envup_service *svc = &spec->services[i];
		size_t j;
		for (j = 0; svc->dep_cond && j < svc->depends_on.n; j++) {
			int k = envup_spec_find(spec, svc->depends_on.v[j]);
			if (k < 0 || svc->dep_cond[j] != ENVUP_DEP_COMPLETED)
				continue;
			envup_wait__dispose(&spec->services[k].wait);
			spec->services[k].wait.kind = ENVUP_WAIT_EXIT;
			srcs[k].has_wait = true;
		}
	}
	*srcs_out = srcs;
	srcs = NULL;
	error = failed ? ENVUP_ESPEC : 0;
done:
	envup__free(srcs);
	envup__free(selected);
	envup_decode__pop(d, mark);
	return error;
}

int envup_compose__decode(envup_spec *spec, envup_service_src **srcs, envup_decode *d,
	envup_yaml_node *root, const envup_compose_options *o)
{
	static const char *const top[] = {"version", "name", "services", "volumes", NULL};
	static const struct { const char *key, *why; } refused[] = {
		{"networks", "envup puts every service on the environment's own network"},
		{"secrets", "use environment: or a bind mount"},
		{"configs", "use a bind mount"},
		{"include", "merge the files into one, or name each with -f"},
		{"models", "not supported"},
	};
	envup_yaml_node *services = NULL, *volumes = NULL;
	vars *v;
	bool failed = false;
	size_t i, j, mark;
	int error = 0;

	*srcs = NULL;
	spec->compose = true;
	if ((v = envup__calloc(1, sizeof(*v))) == NULL)
		return ENVUP_ERROR;
	v->inner = d->getenv_fn;
	v->inner_payload = d->payload;
	d->getenv_fn = vars_get;
	d->payload = v;
	d->bare_vars = true;
	if ((error = load_dotenv(v, d, spec, o)) < 0) {
		if (error != ENVUP_ESPEC)
			goto done;
		failed = true;
	}
	for (i = 0; i + 1 < root->n; i += 2) {
		envup_yaml_node *k = root->items[i], *val = root->items[i + 1];
		const char *s;
		if (envup_decode__is_extension(k->text))
			continue;
		mark = envup_decode__push(d, k->text);
		error = 0;
		if (strcmp(k->text, "version") == 0)
			error = envup_decode__string(&s, d, val, "a version (ignored)");
		else if (strcmp(k->text, "services") == 0)
			services = val;
		else if (strcmp(k->text, "volumes") == 0) {
			volumes = val;
			error = decode_volumes_decl(d, val);
		} else if (strcmp(k->text, "name") == 0) {
			if ((error = envup_decode__string(&s, d, val, "a name")) == 0) {
				if (!envup_name_valid(s))
					error = envup_decode__error(d, val->pos,
						"invalid project name '%s': use lower-case letters, digits, '.', "
						"'_' and '-'", s);
				else if ((spec->name = envup__strdup(s)) == NULL)
					error = ENVUP_ERROR;
			}
		} else {
			for (j = 0; j < sizeof(refused) / sizeof(refused[0]) &&
			     strcmp(refused[j].key, k->text) != 0; j++)
				;
			if (j < sizeof(refused) / sizeof(refused[0]))
				error = envup_decode__error(d, k->pos, "not supported by envup (%s)",
					refused[j].why);
			else
				error = envup_decode__unknown_key(d, k, top);
		}
		envup_decode__pop(d, mark);
		if ((error = envup_decode__go_on(error, &failed)) < 0)
			goto done;
	}
	if (!services) {
		error = envup_decode__error(d, root->pos, "'services:' is missing");
		goto done;
	}
	error = decode_services(spec, srcs, d, services, volumes, o);
	if (error == 0 && failed)
		error = ENVUP_ESPEC;
done:
	/* interpolation is over: every value was read */
	d->getenv_fn = v->inner;
	d->payload = v->inner_payload;
	d->bare_vars = false;
	envup_kvlist_dispose(&v->dotenv);
	envup__free(v);
	return error;
}
