/*
 * The resolved model of a spec, as `envup config` prints it (spec.h): what
 * envup will run after interpolation, .env, profiles, selection, templates
 * and image inference, without touching the engine. Secrets are masked:
 * passwords from the file show as "***", generated ones as "(random)".
 *
 * JSON is built with cJSON; YAML is the same tree written block style
 * (every string quoted, so nothing is read back as another type).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>
#include "compose/spec.h"
#include "compose/wait.h"

#define MASK "***"

static const char *const dep_names[] = {"ready", "service_started",
	"service_completed_successfully"};
static const char *const mount_names[] = {"bind", "volume", "tmpfs"};

/* the password a service will have, or NULL (generated, or none) */
static const char *password_of(const envup_service *svc)
{
	const envup_cred *c = &svc->cred[ENVUP_CRED_PASSWORD];
	const char *given = c->env ? envup_kvlist_get(&svc->env, c->env) : NULL;

	if (given)
		return given;
	if (c->def && strcmp(c->def, "random") != 0)
		return c->def;
	return NULL;
}

static bool is_secret(const envup_service *svc, const char *value)
{
	const char *p = password_of(svc);
	return p && *p && value && strcmp(value, p) == 0;
}

/* a variable whose name says it holds a secret */
static bool secret_name(const char *key)
{
	static const char *const words[] = {"PASSWORD", "PASSWD", "SECRET", "TOKEN", NULL};
	size_t i, j, kl = strlen(key);

	for (i = 0; words[i]; i++) {
		size_t wl = strlen(words[i]);
		for (j = 0; j + wl <= kl; j++)
			if (strncasecmp(key + j, words[i], wl) == 0)
				return true;
	}
	return false;
}

static cJSON *strings(const envup_strlist *l, const envup_service *svc)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < l->n; i++) {
		cJSON *s = cJSON_CreateString(svc && is_secret(svc, l->v[i]) ? MASK : l->v[i]);
		if (!s || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static bool add(cJSON *o, const char *key, cJSON *item)
{
	if (!item)
		return false;
	if (!cJSON_AddItemToObject(o, key, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

static cJSON *readiness(const envup_service *svc)
{
	const envup_wait *w = &svc->wait;
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddStringToObject(o, "kind", envup_wait__kind_name(w->kind)))
		goto oom;
	if ((w->kind == ENVUP_WAIT_TCP || w->kind == ENVUP_WAIT_HTTP) &&
	    !cJSON_AddNumberToObject(o, "port", w->port))
		goto oom;
	if (w->kind == ENVUP_WAIT_HTTP &&
	    (!cJSON_AddStringToObject(o, "path", w->path ? w->path : "/") ||
	     !cJSON_AddNumberToObject(o, "status", w->status ? w->status : 200)))
		goto oom;
	if (w->kind == ENVUP_WAIT_LOG &&
	    (!cJSON_AddStringToObject(o, "pattern", w->pattern) ||
	     !cJSON_AddNumberToObject(o, "times", w->times ? w->times : 1)))
		goto oom;
	if (w->kind == ENVUP_WAIT_EXEC && !add(o, "exec", strings(&w->exec, svc)))
		goto oom;
	return o;
oom:
	cJSON_Delete(o);
	return NULL;
}

/* The value of an export pattern as far as it is known before up: the
 * credentials filled in (the password masked), host and ports left as
 * placeholders. */
static char *export_value(const envup_service *svc, const char *pattern)
{
	static const char *const creds[] = {"{{user}}", "{{password}}", "{{database}}"};
	envup_buf b = ENVUP_BUF_INIT;
	const char *p = pattern;
	size_t i;

	while (*p) {
		for (i = 0; i < 3; i++) {
			size_t l = strlen(creds[i]);
			if (strncmp(p, creds[i], l) == 0)
				break;
		}
		if (i < 3 && svc->cred[i].def) {
			const char *v = svc->cred[i].env ? envup_kvlist_get(&svc->env, svc->cred[i].env) : NULL;
			if (!v)
				v = strcmp(svc->cred[i].def, "random") == 0 ? "(random)" : svc->cred[i].def;
			if (envup_buf_puts(&b, i == ENVUP_CRED_PASSWORD && strcmp(v, "(random)") != 0 ?
			    MASK : v) < 0)
				goto oom;
			p += strlen(creds[i]);
			continue;
		}
		if (envup_buf_putc(&b, *p++) < 0)
			goto oom;
	}
	if (envup_buf_puts(&b, "") < 0)
		goto oom;
	return envup_buf_detach(&b);
oom:
	envup_buf_dispose(&b);
	return NULL;
}

static bool add_export(cJSON *o, const envup_service *svc, const char *name, const char *pattern)
{
	char *v = export_value(svc, pattern);
	bool ok = v && cJSON_AddStringToObject(o, name, v);
	envup__free(v);
	return ok;
}

static cJSON *exports(const envup_spec *spec, const envup_service *svc)
{
	cJSON *o = cJSON_CreateObject();
	char *stem = envup_env_stem(svc->name), name[160], pat[32];
	size_t i;

	if (!o || !stem)
		goto oom;
	snprintf(name, sizeof(name), "%s_HOST", stem);
	if (!cJSON_AddStringToObject(o, name, "{{host}}"))
		goto oom;
	if (svc->nports) {
		snprintf(name, sizeof(name), "%s_PORT", stem);
		if (!cJSON_AddStringToObject(o, name, "{{port}}"))
			goto oom;
	}
	if (svc->url) {
		snprintf(name, sizeof(name), "%s_URL", stem);
		if (!add_export(o, svc, name, svc->url))
			goto oom;
	}
	for (i = 0; spec->compose && i < svc->nports; i++) {
		snprintf(name, sizeof(name), "%s_PORT_%d", stem, svc->ports[i]);
		snprintf(pat, sizeof(pat), "{{port:%d}}", svc->ports[i]);
		if (!cJSON_AddStringToObject(o, name, pat))
			goto oom;
	}
	for (i = 0; i < svc->exports.n; i++)
		if (!add_export(o, svc, svc->exports.v[i].key, svc->exports.v[i].value))
			goto oom;
	envup__free(stem);
	return o;
oom:
	envup__free(stem);
	cJSON_Delete(o);
	return NULL;
}

/* a Compose file's container settings, those written */
static cJSON *settings(const envup_runtime *rt)
{
	cJSON *o = cJSON_CreateObject(), *kv;
	size_t i;

	if (!o)
		return NULL;
	if ((rt->working_dir && !cJSON_AddStringToObject(o, "working_dir", rt->working_dir)) ||
	    (rt->user && !cJSON_AddStringToObject(o, "user", rt->user)) ||
	    (rt->hostname && !cJSON_AddStringToObject(o, "hostname", rt->hostname)) ||
	    (rt->extra_hosts.n && !add(o, "extra_hosts", strings(&rt->extra_hosts, NULL))) ||
	    (rt->shm_size && !cJSON_AddNumberToObject(o, "shm_size", (double)rt->shm_size)) ||
	    (rt->has_init && !cJSON_AddBoolToObject(o, "init", rt->init)) ||
	    (rt->cap_add.n && !add(o, "cap_add", strings(&rt->cap_add, NULL))) ||
	    (rt->cap_drop.n && !add(o, "cap_drop", strings(&rt->cap_drop, NULL))) ||
	    (rt->privileged && !cJSON_AddTrueToObject(o, "privileged")) ||
	    (rt->stop_signal && !cJSON_AddStringToObject(o, "stop_signal", rt->stop_signal)) ||
	    (rt->has_stop_timeout && !cJSON_AddNumberToObject(o, "stop_timeout", rt->stop_timeout)))
		goto oom;
	if (rt->ulimits.n) {
		if ((kv = cJSON_AddObjectToObject(o, "ulimits")) == NULL)
			goto oom;
		for (i = 0; i < rt->ulimits.n; i++)
			if (!cJSON_AddStringToObject(kv, rt->ulimits.v[i].key, rt->ulimits.v[i].value))
				goto oom;
	}
	if (rt->labels.n) {
		if ((kv = cJSON_AddObjectToObject(o, "labels")) == NULL)
			goto oom;
		for (i = 0; i < rt->labels.n; i++)
			if (!cJSON_AddStringToObject(kv, rt->labels.v[i].key, rt->labels.v[i].value))
				goto oom;
	}
	return o;
oom:
	cJSON_Delete(o);
	return NULL;
}

static cJSON *service(const envup_spec *spec, const envup_service *svc, const char *bind_ip)
{
	cJSON *o = cJSON_CreateObject(), *env, *ports, *mounts, *deps;
	size_t i;

	if (!o || !cJSON_AddStringToObject(o, "image", svc->image))
		goto oom;
	if (svc->template_name && !cJSON_AddStringToObject(o, "template", svc->template_name))
		goto oom;
	if (!add(o, "command", svc->has_command ? strings(&svc->command, svc) : cJSON_CreateNull()) ||
	    !add(o, "entrypoint", svc->has_entrypoint ? strings(&svc->entrypoint, svc) :
	    cJSON_CreateNull()))
		goto oom;
	if ((env = cJSON_AddObjectToObject(o, "environment")) == NULL)
		goto oom;
	for (i = 0; i < svc->env.n; i++)
		if (!cJSON_AddStringToObject(env, svc->env.v[i].key,
		    is_secret(svc, svc->env.v[i].value) || (secret_name(svc->env.v[i].key) &&
		    svc->env.v[i].value[0]) ? MASK : svc->env.v[i].value))
			goto oom;
	/* credentials a template adds when the file gives none */
	for (i = 0; i < ENVUP_CRED_COUNT; i++) {
		const envup_cred *c = &svc->cred[i];
		if (!c->def || !c->env || envup_kvlist_get(&svc->env, c->env))
			continue;
		if (!cJSON_AddStringToObject(env, c->env, strcmp(c->def, "random") == 0 ? "(random)" :
		    i == ENVUP_CRED_PASSWORD ? MASK : c->def))
			goto oom;
	}
	if ((ports = cJSON_AddArrayToObject(o, "ports")) == NULL)
		goto oom;
	for (i = 0; i < svc->nports; i++) {
		cJSON *p = cJSON_CreateObject();
		const envup_port_bind *b = svc->binds ? &svc->binds[i] : NULL;
		if (!p || !cJSON_AddItemToArray(ports, p)) {
			cJSON_Delete(p);
			goto oom;
		}
		if (!cJSON_AddNumberToObject(p, "container", svc->ports[i]) ||
		    !cJSON_AddStringToObject(p, "host_ip", b && b->ip ? b->ip : bind_ip) ||
		    !(b && b->host ? cJSON_AddNumberToObject(p, "host", b->host) :
		      cJSON_AddStringToObject(p, "host", "(chosen by the engine)")))
			goto oom;
	}
	if ((mounts = cJSON_AddArrayToObject(o, "mounts")) == NULL)
		goto oom;
	for (i = 0; i < svc->nmounts; i++) {
		const envup_mount *m = &svc->mounts[i];
		cJSON *p = cJSON_CreateObject();
		if (!p || !cJSON_AddItemToArray(mounts, p)) {
			cJSON_Delete(p);
			goto oom;
		}
		if (!cJSON_AddStringToObject(p, "type", mount_names[m->kind]) ||
		    (m->source && !cJSON_AddStringToObject(p, "source", m->source)) ||
		    !cJSON_AddStringToObject(p, "target", m->target) ||
		    !cJSON_AddBoolToObject(p, "read_only", m->read_only))
			goto oom;
	}
	if (!add(o, "tmpfs", strings(&svc->tmpfs, NULL)) || !add(o, "ready", readiness(svc)))
		goto oom;
	if ((deps = cJSON_AddObjectToObject(o, "depends_on")) == NULL)
		goto oom;
	for (i = 0; i < svc->depends_on.n; i++)
		if (!cJSON_AddStringToObject(deps, svc->depends_on.v[i],
		    dep_names[svc->dep_cond ? svc->dep_cond[i] : ENVUP_DEP_READY]))
			goto oom;
	if (svc->init.n && !add(o, "init", strings(&svc->init, NULL)))
		goto oom;
	if (svc->compose && !add(o, "settings", settings(&svc->rt)))
		goto oom;
	if (svc->expectations && !cJSON_AddStringToObject(o, "expectations", svc->expectations))
		goto oom;
	if (!add(o, "exports", exports(spec, svc)))
		goto oom;
	return o;
oom:
	cJSON_Delete(o);
	return NULL;
}

static cJSON *model(const envup_spec *spec, const char *bind_ip)
{
	cJSON *root = cJSON_CreateObject(), *svcs;
	size_t i;

	if (!root || !(spec->name ? cJSON_AddStringToObject(root, "name", spec->name) :
	    cJSON_AddNullToObject(root, "name")) ||
	    !cJSON_AddStringToObject(root, "file", spec->compose ? "compose" : "envup") ||
	    !add(root, "volumes", strings(&spec->volumes, NULL)) ||
	    (svcs = cJSON_AddObjectToObject(root, "services")) == NULL)
		goto oom;
	for (i = 0; i < spec->nservices; i++)
		if (!add(svcs, spec->services[i].name, service(spec, &spec->services[i], bind_ip)))
			goto oom;
	if (!add(root, "notices", strings(&spec->notices, NULL)))
		goto oom;
	return root;
oom:
	cJSON_Delete(root);
	return NULL;
}

/* ---- YAML -------------------------------------------------------------------- */

static int yaml_scalar(envup_buf *b, const cJSON *v)
{
	if (cJSON_IsNull(v))
		return envup_buf_puts(b, "null");
	if (cJSON_IsBool(v))
		return envup_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNumber(v))
		return v->valuedouble == (double)(long long)v->valuedouble ?
			envup_buf_printf(b, "%lld", (long long)v->valuedouble) :
			envup_buf_printf(b, "%.17g", v->valuedouble);
	{
		/* a JSON string is a YAML double-quoted scalar */
		char *q = cJSON_PrintUnformatted(v);
		int error = q ? envup_buf_puts(b, q) : ENVUP_ERROR;
		cJSON_free(q);
		return error;
	}
}

static int yaml_node(envup_buf *b, const cJSON *v, int indent);

static int yaml_key(envup_buf *b, const char *key)
{
	cJSON *k;
	size_t i;

	/* plain when it cannot be read as anything but this string */
	for (i = 0; key[i]; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z') ||
		    (key[i] >= '0' && key[i] <= '9') || key[i] == '_' || key[i] == '-' || key[i] == '.'))
			break;
	if (i > 0 && !key[i] && !(key[0] >= '0' && key[0] <= '9') && key[0] != '-' &&
	    strcmp(key, "true") != 0 && strcmp(key, "false") != 0 && strcmp(key, "null") != 0 &&
	    strcmp(key, "yes") != 0 && strcmp(key, "no") != 0 && strcmp(key, "on") != 0 &&
	    strcmp(key, "off") != 0 && strcmp(key, "y") != 0 && strcmp(key, "n") != 0)
		return envup_buf_puts(b, key);
	k = cJSON_CreateString(key);
	int error = k ? yaml_scalar(b, k) : ENVUP_ERROR;
	cJSON_Delete(k);
	return error;
}

static bool empty_collection(const cJSON *v)
{
	return (cJSON_IsArray(v) || cJSON_IsObject(v)) && !v->child;
}

static int yaml_node(envup_buf *b, const cJSON *v, int indent)
{
	const cJSON *it;
	int error = 0;

	cJSON_ArrayForEach(it, v) {
		if (envup_buf_printf(b, "%*s", indent, "") < 0)
			return ENVUP_ERROR;
		if (cJSON_IsObject(v)) {
			if ((error = yaml_key(b, it->string)) < 0 || (error = envup_buf_puts(b, ":")) < 0)
				return error;
		} else if ((error = envup_buf_puts(b, "-")) < 0) {
			return error;
		}
		if (empty_collection(it))
			error = envup_buf_puts(b, cJSON_IsArray(it) ? " []\n" : " {}\n");
		else if (cJSON_IsArray(it) || cJSON_IsObject(it))
			error = envup_buf_puts(b, "\n") < 0 ? ENVUP_ERROR : yaml_node(b, it, indent + 2);
		else if ((error = envup_buf_puts(b, " ")) == 0 && (error = yaml_scalar(b, it)) == 0)
			error = envup_buf_puts(b, "\n");
		if (error < 0)
			return error;
	}
	return 0;
}

/* Every password the file gives, and every value of a variable whose name
 * says it is a secret: masked wherever it appears (in a URL, a command). */
static int collect_secrets(const envup_spec *spec)
{
	size_t i, j;

	for (i = 0; i < spec->nservices; i++) {
		const envup_service *svc = &spec->services[i];
		const char *p = password_of(svc);
		if (p && *p && envup_secret_add(p) < 0)
			return ENVUP_ERROR;
		for (j = 0; j < svc->env.n; j++)
			if (secret_name(svc->env.v[j].key) && svc->env.v[j].value[0] &&
			    envup_secret_add(svc->env.v[j].value) < 0)
				return ENVUP_ERROR;
	}
	return 0;
}

int envup_spec__config(char **out, const envup_spec *spec, bool yaml, const char *bind_ip)
{
	cJSON *m = NULL;
	envup_buf b = ENVUP_BUF_INIT;
	envup_secrets *set = NULL, *prev;
	char *text = NULL;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(out && spec);
	*out = NULL;
	if (envup_secrets_new(&set) < 0)
		return ENVUP_ERROR;
	prev = envup_secrets_use(set);
	if (collect_secrets(spec) < 0)
		goto done;
	if ((m = model(spec, bind_ip ? bind_ip : "127.0.0.1")) == NULL) {
		error = envup_error_set_oom();
		goto done;
	}
	if (yaml) {
		if (yaml_node(&b, m, 0) < 0 || envup_buf_puts(&b, "") < 0)
			goto done;
		text = envup_buf_detach(&b);
	} else {
		char *j = cJSON_Print(m);
		if (!j)
			goto done;
		text = envup__sprintf("%s\n", j);
		cJSON_free(j);
	}
	if (!text || (*out = envup_secret_mask(text)) == NULL) {
		error = envup_error_set_oom();
		goto done;
	}
	error = 0;
done:
	envup__free(text);
	envup_secrets_use(prev);
	envup_secrets_free(set);
	envup_buf_dispose(&b);
	cJSON_Delete(m);
	return error;
}
