/*
 * A service's template: parse the embedded YAML (with the same decoder as
 * a spec, in template mode, without interpolation) and merge it under
 * what the spec wrote.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "compose/template_apply.h"
#include "compose/wait.h"
#include "templates/template.h"

static int unknown_template(envup_service_src *src, envup_decode *d,
	const char *name)
{
	const envup_template_source *t;
	const char *guess = NULL;
	char known[256];
	size_t len = 0, n = 0, mark;
	int error;

	known[0] = '\0';
	for (t = envup_template__sources; t->name; t++, n++) {
		int w = snprintf(known + len, sizeof(known) - len, "%s%s",
			len ? ", " : "", t->name);
		if (w < 0 || (size_t)w >= sizeof(known) - len)
			break;
		len += (size_t)w;
	}
	guess = envup_decode__suggest_in(name, envup_template__sources, n,
		sizeof(*envup_template__sources), offsetof(envup_template_source, name));
	mark = envup_decode__push(d, "template");
	if (guess)
		error = envup_decode__error(d, src->value[ENVUP_SVC_TEMPLATE]->pos,
			"unknown template '%s' (did you mean '%s'? known: %s)",
			name, guess, known);
	else
		error = envup_decode__error(d, src->value[ENVUP_SVC_TEMPLATE]->pos,
			"unknown template '%s' (known: %s)", name, known);
	envup_decode__pop(d, mark);
	return error;
}

static int merge_env(envup_service *svc, envup_service *t)
{
	envup_kvlist env = t->env;
	size_t i;

	t->env.v = NULL;
	t->env.n = 0;
	for (i = 0; i < svc->env.n; i++) {
		if (envup_kvlist_set(&env, svc->env.v[i].key, svc->env.v[i].value) < 0) {
			envup_kvlist_dispose(&env);
			return ENVUP_ERROR;
		}
	}
	envup_kvlist_dispose(&svc->env);
	svc->env = env;
	return 0;
}

static bool has_port(const int *ports, size_t n, int port)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return false;
}

/* the template's port, the template's ports, then the spec's; no repeats.
 * The spec's host bindings (compose files) follow their ports. */
static int merge_ports(envup_service *svc, const envup_service *t, int main_port)
{
	size_t cap = svc->nports + t->nports + 1, n = 0, i, j;
	int *ports = envup__calloc(cap, sizeof(int));
	envup_port_bind *binds = NULL;

	if (!ports || (svc->binds && (binds = envup__calloc(cap, sizeof(*binds))) == NULL)) {
		envup__free(ports);
		return ENVUP_ERROR;
	}
	if (main_port)
		ports[n++] = main_port;
	for (i = 0; i < t->nports; i++)
		if (!has_port(ports, n, t->ports[i]))
			ports[n++] = t->ports[i];
	for (i = 0; i < svc->nports; i++)
		if (!has_port(ports, n, svc->ports[i]))
			ports[n++] = svc->ports[i];
	if (binds) {
		for (i = 0; i < svc->nports; i++) {
			for (j = 0; j < n && ports[j] != svc->ports[i]; j++)
				;
			binds[j] = svc->binds[i];
		}
		envup__free(svc->binds);
		svc->binds = binds;
	}
	envup__free(svc->ports);
	svc->ports = ports;
	svc->nports = n;
	return 0;
}

#define TAKE(dst, src) do { (dst) = (src); memset(&(src), 0, sizeof(src)); } while (0)

int envup_spec__apply_template(envup_service *svc, envup_service_src *src,
	envup_decode *d)
{
	const envup_template_source *source;
	envup_yaml_node *root = NULL;
	envup_service t;
	envup_service_src tsrc;
	envup_decode td;
	char file[128];
	size_t i;
	int error;

	if (!svc->template_name)
		return 0;
	if ((source = envup_template_find(svc->template_name)) == NULL)
		return unknown_template(src, d, svc->template_name);

	memset(&t, 0, sizeof(t));
	memset(&tsrc, 0, sizeof(tsrc));
	memset(&td, 0, sizeof(td));
	snprintf(file, sizeof(file), "templates/%s.yaml", source->name);
	td.file = file;
	td.interpolate = false;
	if ((error = envup_yaml__parse(&root, file, source->text, source->len)) < 0)
		goto done;
	if (!root) {
		error = envup_decode__error(&td, (envup_pos){1, 1}, "the template is empty");
		goto done;
	}
	if ((error = envup_service__decode(&t, &tsrc, &td, root, true)) < 0)
		goto done;

	if (!svc->image)
		TAKE(svc->image, t.image);
	if ((error = merge_env(svc, &t)) < 0)
		goto done;
	/* a Compose file's service runs what the file says, or the image's own */
	if (!svc->compose && !svc->has_command && t.has_command) {
		TAKE(svc->command, t.command);
		svc->has_command = true;
	}
	if (!svc->compose && !svc->has_entrypoint && t.has_entrypoint) {
		TAKE(svc->entrypoint, t.entrypoint);
		svc->has_entrypoint = true;
	}
	if (!src->value[ENVUP_SVC_TMPFS]) {
		envup_strlist_dispose(&svc->tmpfs);
		TAKE(svc->tmpfs, t.tmpfs);
	}
	if ((error = merge_ports(svc, &t, tsrc.port)) < 0)
		goto done;
	if (!src->has_wait && tsrc.has_wait) {
		envup_wait__dispose(&svc->wait);
		TAKE(svc->wait, t.wait);
		src->has_wait = true;
	}
	TAKE(svc->url, t.url);
	for (i = 0; i < ENVUP_CRED_COUNT; i++)
		TAKE(svc->cred[i], t.cred[i]);
done:
	envup_service__dispose(&t);
	envup_yaml__release(root);
	return error;
}
