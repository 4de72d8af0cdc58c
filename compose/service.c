/*
 * Decoding one service mapping: the keys a spec's service may use, and
 * the extra ones a template may use. Each key is decoded on its own;
 * checks that need the template or the other services come later
 * (template_apply.c, validate.c, order.c).
 */
#include <string.h>
#include "compose/cmdline.h"
#include "compose/service.h"
#include "compose/imageref.h"
#include "compose/wait.h"

/* indexed by envup_service_key */
static const char *const key_names[] = {
	"template", "image", "env", "command", "entrypoint", "ports", "tmpfs",
	"wait", "depends_on", "init", "expectations", "export",
	"port", "url", "credentials", NULL
};

/* what a spec may write (for "did you mean") */
static const char *const spec_keys[] = {
	"template", "image", "env", "command", "entrypoint", "ports", "tmpfs",
	"wait", "depends_on", "init", "expectations", "export", NULL
};

static const char *const template_keys[] = {
	"image", "env", "command", "entrypoint", "ports", "tmpfs", "wait",
	"port", "url", "credentials", NULL
};

static const char *const cred_names[] = {"user", "password", "database", NULL};
static const char *const cred_keys[] = {"env", "default", NULL};

static bool template_only(envup_service_key k)
{
	return k == ENVUP_SVC_PORT || k == ENVUP_SVC_URL || k == ENVUP_SVC_CREDENTIALS;
}

static bool spec_only(envup_service_key k)
{
	return k == ENVUP_SVC_TEMPLATE || k == ENVUP_SVC_DEPENDS_ON ||
		k == ENVUP_SVC_INIT || k == ENVUP_SVC_EXPECTATIONS ||
		k == ENVUP_SVC_EXPORT;
}

bool envup_service__name_valid(const char *s)
{
	size_t i;

	if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (i = 1; s[i]; i++) {
		char c = s[i];
		if (i > 62 || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool envup_service__var_valid(const char *s)
{
	size_t i;

	if (!s || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
	    s[0] == '_'))
		return false;
	for (i = 1; s[i]; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

void envup_service__dispose(envup_service *svc)
{
	size_t i;

	if (!svc)
		return;
	envup__free(svc->name);
	envup__free(svc->template_name);
	envup__free(svc->image);
	envup_kvlist_dispose(&svc->env);
	envup_strlist_dispose(&svc->command);
	envup_strlist_dispose(&svc->entrypoint);
	envup__free(svc->ports);
	if (svc->binds)
		for (i = 0; i < svc->nports; i++)
			envup__free(svc->binds[i].ip);
	envup__free(svc->binds);
	for (i = 0; i < svc->nmounts; i++) {
		envup__free(svc->mounts[i].source);
		envup__free(svc->mounts[i].target);
	}
	envup__free(svc->mounts);
	envup__free(svc->rt.working_dir);
	envup__free(svc->rt.user);
	envup__free(svc->rt.hostname);
	envup_strlist_dispose(&svc->rt.extra_hosts);
	envup_strlist_dispose(&svc->rt.cap_add);
	envup_strlist_dispose(&svc->rt.cap_drop);
	envup_kvlist_dispose(&svc->rt.ulimits);
	envup__free(svc->rt.stop_signal);
	envup_kvlist_dispose(&svc->rt.labels);
	envup__free(svc->dep_cond);
	envup_strlist_dispose(&svc->tmpfs);
	envup_wait__dispose(&svc->wait);
	envup_strlist_dispose(&svc->depends_on);
	envup_strlist_dispose(&svc->init);
	envup__free(svc->expectations);
	envup_kvlist_dispose(&svc->exports);
	envup__free(svc->url);
	for (i = 0; i < ENVUP_CRED_COUNT; i++) {
		envup__free(svc->cred[i].env);
		envup__free(svc->cred[i].def);
	}
	memset(svc, 0, sizeof(*svc));
}

static int set_string(char **field, const char *s)
{
	char *copy = envup__strdup(s);
	if (!copy)
		return ENVUP_ERROR;
	envup__free(*field);
	*field = copy;
	return 0;
}

static int decode_nonempty(char **field, envup_decode *d, envup_yaml_node *v,
	const char *what)
{
	const char *s;
	int error;

	if ((error = envup_decode__string(&s, d, v, what)) < 0)
		return error;
	if (s[0] == '\0' || strpbrk(s, " \t\r\n"))
		return envup_decode__error(d, v->pos, "expected %s, found '%s'", what, s);
	return set_string(field, s);
}

static int decode_env(envup_kvlist *env, envup_decode *d, envup_yaml_node *v)
{
	size_t i, mark;
	const char *s;
	bool failed = false;
	int error = 0;

	if ((error = envup_decode__mapping(d, v)) < 0)
		return error;
	for (i = 0; i + 1 < v->n && error == 0; i += 2) {
		envup_yaml_node *k = v->items[i], *val = v->items[i + 1];
		mark = envup_decode__push(d, k->text);
		if (k->text[0] == '\0' || strchr(k->text, '='))
			error = envup_decode__error(d, k->pos,
				"invalid variable name (empty or with '=')");
		else if (val->kind != ENVUP_YAML_SCALAR || val->is_null)
			error = envup_decode__error(d, val->pos,
				"expected a string, number or boolean (use \"\" for an empty value)");
		else if ((error = envup_decode__string(&s, d, val, NULL)) == 0)
			error = envup_kvlist_set(env, k->text, s);
		error = envup_decode__go_on(error, &failed);
		envup_decode__pop(d, mark);
	}
	return error < 0 ? error : failed ? ENVUP_ESPEC : 0;
}

static int port_add(envup_service *svc, int port)
{
	int *p = envup__realloc(svc->ports, (svc->nports + 1) * sizeof(int));
	if (!p)
		return ENVUP_ERROR;
	svc->ports = p;
	svc->ports[svc->nports++] = port;
	return 0;
}

static int decode_ports(envup_service *svc, envup_decode *d, envup_yaml_node *v)
{
	size_t i, j, mark;
	bool failed = false;
	int port, error = 0;

	if (v->kind == ENVUP_YAML_SCALAR) {
		if ((error = envup_decode__int(&port, d, v, 1, 65535)) < 0)
			return error;
		return port_add(svc, port);
	}
	if (v->kind != ENVUP_YAML_SEQ)
		return envup_decode__error(d, v->pos,
			"expected a sequence of integers from 1 to 65535");
	for (i = 0; i < v->n && error == 0; i++) {
		mark = envup_decode__push_index(d, i);
		if ((error = envup_decode__int(&port, d, v->items[i], 1, 65535)) == 0) {
			for (j = 0; j < svc->nports && svc->ports[j] != port; j++)
				;
			if (j < svc->nports)
				error = envup_decode__error(d, v->items[i]->pos,
					"port %d is listed twice", port);
			else
				error = port_add(svc, port);
		}
		error = envup_decode__go_on(error, &failed);
		envup_decode__pop(d, mark);
	}
	return error < 0 ? error : failed ? ENVUP_ESPEC : 0;
}

static int decode_tmpfs(envup_strlist *out, envup_decode *d, envup_yaml_node *v)
{
	size_t i, mark;
	int error;

	envup_strlist_dispose(out);
	if ((error = envup_decode__strlist(out, d, v, true)) < 0)
		return error;
	for (i = 0; i < out->n; i++) {
		if (out->v[i][0] == '/' && !strchr(out->v[i], ':'))
			continue;
		mark = v->kind == ENVUP_YAML_SEQ ? envup_decode__push_index(d, i) : d->plen;
		error = envup_decode__error(d,
			v->kind == ENVUP_YAML_SEQ ? v->items[i]->pos : v->pos,
			"expected an absolute container path, found '%s'", out->v[i]);
		envup_decode__pop(d, mark);
		return error;
	}
	return 0;
}

static int decode_names(envup_strlist *out, envup_decode *d, envup_yaml_node *v,
	const char *what)
{
	size_t i, mark;
	int error;

	envup_strlist_dispose(out);
	if (v->kind != ENVUP_YAML_SEQ && (v->kind != ENVUP_YAML_SCALAR || v->is_null))
		return envup_decode__error(d, v->pos,
			"expected a sequence of %s or one", what);
	if ((error = envup_decode__strlist(out, d, v, true)) < 0)
		return error;
	for (i = 0; i < out->n; i++) {
		if (out->v[i][0] != '\0')
			continue;
		mark = v->kind == ENVUP_YAML_SEQ ? envup_decode__push_index(d, i) : d->plen;
		error = envup_decode__error(d,
			v->kind == ENVUP_YAML_SEQ ? v->items[i]->pos : v->pos,
			"expected one of %s, found an empty string", what);
		envup_decode__pop(d, mark);
		return error;
	}
	return 0;
}

static int decode_exports(envup_kvlist *out, envup_decode *d, envup_yaml_node *v)
{
	size_t i, mark;
	const char *s;
	bool failed = false;
	int error = 0;

	if ((error = envup_decode__mapping(d, v)) < 0)
		return error;
	for (i = 0; i + 1 < v->n && error == 0; i += 2) {
		envup_yaml_node *k = v->items[i], *val = v->items[i + 1];
		mark = envup_decode__push(d, k->text);
		if (!envup_service__var_valid(k->text))
			error = envup_decode__error(d, k->pos,
				"invalid variable name '%s': use letters, digits and '_', "
				"not starting with a digit", k->text);
		else if ((error = envup_decode__string(&s, d, val,
		    "a string (the value to export)")) == 0)
			error = envup_kvlist_set(out, k->text, s);
		error = envup_decode__go_on(error, &failed);
		envup_decode__pop(d, mark);
	}
	return error < 0 ? error : failed ? ENVUP_ESPEC : 0;
}

static int decode_cred(envup_cred *cred, envup_decode *d, envup_yaml_node *v)
{
	size_t i, mark;
	const char *s;
	bool has_default = false;
	int error = 0;

	if ((error = envup_decode__mapping(d, v)) < 0)
		return error;
	for (i = 0; i + 1 < v->n && error == 0; i += 2) {
		envup_yaml_node *k = v->items[i], *val = v->items[i + 1];
		if (envup_decode__is_extension(k->text))
			continue;
		mark = envup_decode__push(d, k->text);
		if (strcmp(k->text, "env") == 0) {
			if ((error = envup_decode__string(&s, d, val, NULL)) == 0 &&
			    !envup_service__var_valid(s))
				error = envup_decode__error(d, val->pos,
					"invalid variable name '%s'", s);
			else if (error == 0)
				error = set_string(&cred->env, s);
		} else if (strcmp(k->text, "default") == 0) {
			has_default = true;
			if ((error = envup_decode__string(&s, d, val, NULL)) == 0)
				error = set_string(&cred->def, s);
		} else {
			error = envup_decode__unknown_key(d, k, cred_keys);
		}
		envup_decode__pop(d, mark);
	}
	if (error == 0 && !has_default)
		error = envup_decode__error(d, v->pos,
			"a credential needs a default (a value or 'random')");
	return error;
}

static int decode_credentials(envup_service *svc, envup_decode *d, envup_yaml_node *v)
{
	size_t i, j, mark;
	int error = 0;

	if ((error = envup_decode__mapping(d, v)) < 0)
		return error;
	for (i = 0; i + 1 < v->n && error == 0; i += 2) {
		envup_yaml_node *k = v->items[i];
		if (envup_decode__is_extension(k->text))
			continue;
		mark = envup_decode__push(d, k->text);
		for (j = 0; cred_names[j] && strcmp(cred_names[j], k->text) != 0; j++)
			;
		if (cred_names[j])
			error = decode_cred(&svc->cred[j], d, v->items[i + 1]);
		else
			error = envup_decode__unknown_key(d, k, cred_names);
		envup_decode__pop(d, mark);
	}
	return error;
}

static int decode_key(envup_service *svc, envup_service_src *src, envup_decode *d,
	envup_service_key key, envup_yaml_node *v)
{
	const char *s;
	int error;

	switch (key) {
	case ENVUP_SVC_TEMPLATE:
		return decode_nonempty(&svc->template_name, d, v, "a template name");
	case ENVUP_SVC_IMAGE: {
		const char *why = NULL;
		if ((error = decode_nonempty(&svc->image, d, v, "an image reference")) < 0)
			return error;
		if (envup_imageref_check(svc->image, &why) < 0)
			return envup_decode__error(d, v->pos, "invalid image reference '%s': %s",
				svc->image, why);
		return 0;
	}
	case ENVUP_SVC_ENV:
		return decode_env(&svc->env, d, v);
	case ENVUP_SVC_COMMAND:
		svc->has_command = true;
		return envup_decode__command(&svc->command, d, v);
	case ENVUP_SVC_ENTRYPOINT:
		svc->has_entrypoint = true;
		return envup_decode__command(&svc->entrypoint, d, v);
	case ENVUP_SVC_PORTS:
		return decode_ports(svc, d, v);
	case ENVUP_SVC_TMPFS:
		return decode_tmpfs(&svc->tmpfs, d, v);
	case ENVUP_SVC_WAIT:
		src->has_wait = true;
		return envup_wait__decode(&svc->wait, d, v);
	case ENVUP_SVC_DEPENDS_ON:
		return decode_names(&svc->depends_on, d, v, "service names");
	case ENVUP_SVC_INIT:
		return decode_names(&svc->init, d, v, "SQL file paths");
	case ENVUP_SVC_EXPECTATIONS:
		if ((error = envup_decode__string(&s, d, v, "a JSON file path")) < 0)
			return error;
		if (s[0] == '\0')
			return envup_decode__error(d, v->pos, "expected a JSON file path");
		return set_string(&svc->expectations, s);
	case ENVUP_SVC_EXPORT:
		return decode_exports(&svc->exports, d, v);
	case ENVUP_SVC_PORT:
		return envup_decode__int(&src->port, d, v, 1, 65535);
	case ENVUP_SVC_URL:
		if ((error = envup_decode__string(&s, d, v, "a URL pattern")) < 0)
			return error;
		return set_string(&svc->url, s);
	case ENVUP_SVC_CREDENTIALS:
		return decode_credentials(svc, d, v);
	default:
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_INTERNAL, "unhandled service key");
	}
}

int envup_service__decode(envup_service *svc, envup_service_src *src,
	envup_decode *d, envup_yaml_node *map, bool is_template)
{
	static const char *const needed[] = {"image", "template", NULL};
	size_t i, mark;
	bool failed = false, misspelt = false;
	int error = 0;

	if (map->kind != ENVUP_YAML_MAP)
		return envup_decode__error(d, map->pos,
			"expected a mapping (a service needs an image or a template), found %s",
			map->kind == ENVUP_YAML_SEQ ? "a sequence" :
			map->is_null ? "nothing" : "a value");
	for (i = 0; i + 1 < map->n && error == 0; i += 2) {
		envup_yaml_node *k = map->items[i], *v = map->items[i + 1];
		envup_service_key key;

		if (envup_decode__is_extension(k->text))
			continue;
		for (key = 0; key < ENVUP_SVC_KEY_COUNT && strcmp(key_names[key], k->text); key++)
			;
		mark = envup_decode__push(d, k->text);
		if (key == ENVUP_SVC_KEY_COUNT) {
			error = envup_decode__unknown_key(d, k,
				is_template ? template_keys : spec_keys);
			misspelt = misspelt || envup_decode__suggest(k->text, needed);
		}
		else if (!is_template && key == ENVUP_SVC_PORT)
			error = envup_decode__error(d, k->pos,
				"only templates set 'port' (did you mean 'ports'?)");
		else if (!is_template && template_only(key))
			error = envup_decode__error(d, k->pos,
				"only templates set '%s'", k->text);
		else if (is_template && spec_only(key))
			error = envup_decode__error(d, k->pos,
				"'%s' is not allowed in a template", k->text);
		else {
			src->key[key] = k;
			src->value[key] = v;
			error = decode_key(svc, src, d, key, v);
		}
		error = envup_decode__go_on(error, &failed);
		envup_decode__pop(d, mark);
	}
	/* written but wrong, or misspelt, was reported above */
	if (error == 0 && !misspelt && !is_template && !src->key[ENVUP_SVC_TEMPLATE] &&
	    !src->key[ENVUP_SVC_IMAGE])
		error = envup_decode__go_on(envup_decode__error(d, src->name ? src->name->pos : map->pos,
			"a service needs an image or a template"), &failed);
	if (error == 0 && !misspelt && is_template && !src->key[ENVUP_SVC_IMAGE])
		error = envup_decode__go_on(envup_decode__error(d, map->pos, "a template needs an image"), &failed);
	return error < 0 ? error : failed ? ENVUP_ESPEC : 0;
}
