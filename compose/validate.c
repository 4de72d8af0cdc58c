/*
 * Whole-service and whole-spec checks, run once every service has its
 * template applied. The placeholder check is private to compose: exports
 * may use {{port:N}} with N one of the service's ports, which a fixed list
 * of names cannot express.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "compose/validate.h"
#include "compose/wait.h"
#include "templates/template.h"

#define EXPECTATIONS_MAX ((size_t)16 * 1024 * 1024)

static const char *const cred_names[ENVUP_CRED_COUNT] = {"user", "password", "database"};

size_t envup_spec__path_service(envup_decode *d, const char *name)
{
	envup_decode__pop(d, 0);
	envup_decode__push(d, "services");
	envup_decode__push(d, name);
	return 0;
}

static bool has_port(const envup_service *svc, int port)
{
	size_t i;
	for (i = 0; i < svc->nports; i++)
		if (svc->ports[i] == port)
			return true;
	return false;
}

/* ---- wait ----------------------------------------------------------------- */

static int ports_error(envup_decode *d, envup_pos pos, const envup_service *svc,
	const char *kind)
{
	char list[128];
	size_t i, len = 0;

	list[0] = '\0';
	for (i = 0; i < svc->nports && len < sizeof(list) - 8; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%d",
			i ? ", " : "", svc->ports[i]);
	return envup_decode__error(d, pos,
		"the %s wait uses port %d, which is not one of the service's ports (%s)",
		kind, svc->wait.port, list);
}

static int check_wait(envup_service *svc, envup_service_src *src, envup_decode *d)
{
	envup_yaml_node *at = src->value[ENVUP_SVC_WAIT];
	envup_pos pos = at ? at->pos : src->name->pos;
	const char *kind = envup_wait__kind_name(svc->wait.kind);
	size_t mark;
	int error = 0;

	if (!src->has_wait) {
		/* no wait anywhere: a published port must accept connections */
		svc->wait.kind = svc->nports ? ENVUP_WAIT_TCP : ENVUP_WAIT_NONE;
		svc->wait.port = svc->nports ? svc->ports[0] : 0;
		return 0;
	}
	if (svc->wait.kind != ENVUP_WAIT_TCP && svc->wait.kind != ENVUP_WAIT_HTTP)
		return 0;
	mark = envup_decode__push(d, "wait");
	if (svc->wait.port == 0 && svc->nports == 0)
		error = envup_decode__error(d, pos,
			"the %s wait needs a port, and the service publishes none "
			"(add ports: or a port to the wait)", kind);
	else if (svc->wait.port == 0)
		svc->wait.port = svc->ports[0];
	else if (!has_port(svc, svc->wait.port))
		error = ports_error(d, pos, svc, kind);
	envup_decode__pop(d, mark);
	return error;
}

/* ---- files ---------------------------------------------------------------- */

/*
 * Resolve `rel` against dir, check it is a readable regular file and, when
 * `content` is given, read it. *abs is the canonical absolute path.
 */
static int resolve_file(char **abs, envup_buf *content, envup_decode *d,
	envup_pos pos, const char *dir, const char *rel, const char *what)
{
	char *joined = NULL, real[PATH_MAX];
	struct stat st;
	int fd = -1, err = 0, error = ENVUP_ERROR;

	*abs = NULL;
	if (rel[0] == '/')
		joined = envup__strdup(rel);
	else
		joined = envup__sprintf("%s/%s", dir, rel);
	if (!joined)
		goto done;
	/* O_NONBLOCK: opening a FIFO would wait for a writer for ever; a
	 * regular file ignores it */
	if ((fd = open(joined, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		err = errno;
	else if (fstat(fd, &st) < 0)
		err = errno;
	else if (S_ISDIR(st.st_mode))
		err = EISDIR;
	else if (!S_ISREG(st.st_mode))
		err = EINVAL;
	if (err) {
		error = envup_decode__error(d, pos, "%s file %s: %s", what, rel,
			err == EINVAL ? "not a regular file" : strerror(err));
		goto done;
	}
	if (content && envup_fd_read_all(content, fd, EXPECTATIONS_MAX, &err) < 0) {
		if (err)
			error = envup_decode__error(d, pos, "%s file %s: %s", what, rel,
				err == EFBIG ? "larger than 16 MiB" : strerror(err));
		goto done;
	}
	if ((*abs = envup__strdup(realpath(joined, real) ? real : joined)) == NULL)
		goto done;
	error = 0;
done:
	if (fd >= 0)
		close(fd);
	envup__free(joined);
	return error;
}

static int check_json(envup_decode *d, envup_pos pos, const char *rel,
	const envup_buf *content)
{
	const char *text = envup_buf_cstr(content), *end = NULL, *p;
	cJSON *json;
	bool shape;
	int line = 1;

	/* cJSON reports out-of-memory as a parse error: tell them apart by the
	 * error envup's allocator records (when cJSON's hooks are ours) */
	envup_error_clear();
	json = cJSON_ParseWithLengthOpts(text, content->size, &end, 0);
	if (!json && envup_error_last()->klass == ENVUP_ERROR_NOMEMORY)
		return ENVUP_ERROR;
	shape = json && (cJSON_IsArray(json) || cJSON_IsObject(json));

	if (json && end)
		while (end < text + content->size && strchr(" \t\r\n", *end))
			end++;
	if (json && end && end < text + content->size) {
		cJSON_Delete(json);
		json = NULL;
	}
	cJSON_Delete(json);
	if (!json) {
		if (!end || end < text || end > text + content->size)
			end = text;
		for (p = text; p < end; p++)
			line += *p == '\n';
		return envup_decode__error(d, pos,
			"expectations file %s: invalid JSON at line %d", rel, line);
	}
	if (!shape)
		return envup_decode__error(d, pos,
			"expectations file %s: expected a JSON array or object", rel);
	return 0;
}

/* a service of that kind: by its template, or by its wait */
static bool uses(const envup_service *svc, const char *template_name,
	envup_wait_kind kind)
{
	return svc->wait.kind == kind ||
		(svc->template_name && strcmp(svc->template_name, template_name) == 0);
}

static int check_init(envup_service *svc, envup_service_src *src,
	envup_decode *d, const char *dir)
{
	envup_yaml_node *v = src->value[ENVUP_SVC_INIT];
	size_t i, mark;
	char *abs;
	int error = 0;

	if (!v)
		return 0;
	mark = envup_decode__push(d, "init");
	if (!uses(svc, "postgres", ENVUP_WAIT_POSTGRES)) {
		error = envup_decode__error(d, src->key[ENVUP_SVC_INIT]->pos,
			"init scripts need a postgres service (template: postgres)");
		goto done;
	}
	for (i = 0; i < svc->init.n && error == 0; i++) {
		size_t m = v->kind == ENVUP_YAML_SEQ ? envup_decode__push_index(d, i) : d->plen;
		envup_pos pos = v->kind == ENVUP_YAML_SEQ ? v->items[i]->pos : v->pos;
		if ((error = resolve_file(&abs, NULL, d, pos, dir, svc->init.v[i],
		    "init")) == 0) {
			envup__free(svc->init.v[i]);
			svc->init.v[i] = abs;
		}
		envup_decode__pop(d, m);
	}
done:
	envup_decode__pop(d, mark);
	return error;
}

static int check_expectations(envup_service *svc, envup_service_src *src,
	envup_decode *d, const char *dir)
{
	envup_yaml_node *v = src->value[ENVUP_SVC_EXPECTATIONS];
	envup_buf content = ENVUP_BUF_INIT;
	size_t mark;
	char *abs = NULL;
	int error = 0;

	if (!v)
		return 0;
	mark = envup_decode__push(d, "expectations");
	if (!uses(svc, "mockserver", ENVUP_WAIT_MOCKSERVER)) {
		error = envup_decode__error(d, src->key[ENVUP_SVC_EXPECTATIONS]->pos,
			"expectations need a mockserver service (template: mockserver)");
		goto done;
	}
	if ((error = resolve_file(&abs, &content, d, v->pos, dir, svc->expectations,
	    "expectations")) < 0)
		goto done;
	if ((error = check_json(d, v->pos, svc->expectations, &content)) < 0)
		goto done;
	envup__free(svc->expectations);
	svc->expectations = abs;
	abs = NULL;
done:
	envup__free(abs);
	envup_buf_dispose(&content);
	envup_decode__pop(d, mark);
	return error;
}

/* ---- placeholders ------------------------------------------------------- */

/*
 * {{placeholders}} follow templates/placeholder.c (which expands them at
 * up time): here each value is checked against what its service provides.
 */

typedef struct {
	const char **v;    /* NULL terminated */
	char (*ports)[16]; /* "port:N" */
} allowed_names;

static void allowed_dispose(allowed_names *a)
{
	envup__free(a->v);
	envup__free(a->ports);
	a->v = NULL;
	a->ports = NULL;
}

/* what the service provides; with `exports`, also url, host, port, port:N */
static int allowed_init(allowed_names *a, const envup_service *svc, bool exports)
{
	size_t n = 0, i;

	allowed_dispose(a);
	if ((a->v = envup__calloc(svc->nports + 8, sizeof(char *))) == NULL ||
	    (a->ports = envup__calloc(svc->nports + 1, sizeof(*a->ports))) == NULL)
		return ENVUP_ERROR;
	for (i = 0; i < ENVUP_CRED_COUNT; i++)
		if (svc->cred[i].def)
			a->v[n++] = cred_names[i];
	if (exports) {
		a->v[n++] = "host";
		if (svc->url)
			a->v[n++] = "url";
		if (svc->nports)
			a->v[n++] = "port";
		for (i = 0; i < svc->nports; i++) {
			snprintf(a->ports[i], sizeof(a->ports[i]), "port:%d", svc->ports[i]);
			a->v[n++] = a->ports[i];
		}
	}
	a->v[n] = NULL;
	return 0;
}

static int placeholder_error(envup_decode *d, envup_pos pos,
	const envup_service *svc, const char *bad, bool exports)
{
	size_t i;

	if (strncmp(bad, "{{", 2) == 0)
		return envup_decode__error(d, pos, "unterminated placeholder '%s'", bad);
	for (i = 0; i < ENVUP_CRED_COUNT; i++)
		if (strcmp(bad, cred_names[i]) == 0)
			return envup_decode__error(d, pos, "{{%s}}: service '%s' has no %s",
				bad, svc->name, bad);
	if (!exports)
		return envup_decode__error(d, pos,
			"unknown placeholder '{{%s}}' (env, command and entrypoint may use "
			"{{user}}, {{password}} and {{database}})", bad);
	if (strcmp(bad, "url") == 0)
		return envup_decode__error(d, pos,
			"{{url}}: service '%s' has no url (only services with a template have one)",
			svc->name);
	if (strcmp(bad, "port") == 0)
		return envup_decode__error(d, pos,
			"{{port}}: service '%s' publishes no ports", svc->name);
	if (strncmp(bad, "port:", 5) == 0)
		return envup_decode__error(d, pos,
			"{{%s}}: %s is not one of the ports of service '%s'",
			bad, bad + 5, svc->name);
	return envup_decode__error(d, pos,
		"unknown placeholder '{{%s}}' (known: {{url}}, {{host}}, {{port}}, "
		"{{port:N}}, {{user}}, {{password}}, {{database}})", bad);
}

static int check_value(envup_decode *d, envup_pos pos, const envup_service *svc,
	const allowed_names *a, const char *value, bool exports)
{
	char *bad = NULL;
	int error;

	if (!strstr(value, "{{"))
		return 0;
	error = envup_placeholder_check(&bad, value, a->v);
	if (error == ENVUP_ESPEC)
		error = placeholder_error(d, pos, svc, bad, exports);
	envup__free(bad);
	return error;
}

/* where a list item was written: in the spec, else (template) the service */
static envup_pos item_pos(const envup_service_src *src, envup_service_key key,
	size_t i)
{
	const envup_yaml_node *v = src->value[key];

	if (!v)
		return src->name->pos;
	if (v->kind == ENVUP_YAML_SEQ && i < v->n)
		return v->items[i]->pos;
	return v->pos;
}

static int check_list(envup_decode *d, const envup_service *svc,
	const envup_service_src *src, const allowed_names *a,
	const envup_strlist *list, envup_service_key key, const char *name)
{
	size_t i, mark;
	int error = 0;

	for (i = 0; i < list->n && error == 0; i++) {
		mark = envup_decode__push(d, name);
		if (src->value[key] && src->value[key]->kind == ENVUP_YAML_SEQ)
			envup_decode__push_index(d, i);
		error = check_value(d, item_pos(src, key, i), svc, a, list->v[i], false);
		envup_decode__pop(d, mark);
	}
	return error;
}

static int check_placeholders(envup_service *svc, envup_service_src *src,
	envup_decode *d)
{
	envup_yaml_node *v = src->value[ENVUP_SVC_EXPORT], *key;
	allowed_names a = {NULL, NULL};
	size_t i, mark;
	int error;

	if ((error = allowed_init(&a, svc, false)) < 0)
		goto done;
	/* a Compose file's values are literal: only x-envup exports have
	 * placeholders */
	for (i = 0; !svc->compose && i < svc->env.n && error == 0; i++) {
		envup_yaml_node *at = envup_yaml__get(src->value[ENVUP_SVC_ENV],
			svc->env.v[i].key, &key);
		mark = envup_decode__push(d, "env");
		envup_decode__push(d, svc->env.v[i].key);
		error = check_value(d, at ? at->pos : src->name->pos, svc, &a,
			svc->env.v[i].value, false);
		envup_decode__pop(d, mark);
	}
	if (error == 0 && !svc->compose)
		error = check_list(d, svc, src, &a, &svc->command,
			ENVUP_SVC_COMMAND, "command");
	if (error == 0 && !svc->compose)
		error = check_list(d, svc, src, &a, &svc->entrypoint,
			ENVUP_SVC_ENTRYPOINT, "entrypoint");

	if (error < 0 || (error = allowed_init(&a, svc, true)) < 0)
		goto done;
	for (i = 0; v && i < svc->exports.n && error == 0; i++) {
		mark = envup_decode__push(d, "export");
		envup_decode__push(d, svc->exports.v[i].key);
		error = check_value(d, v->items[2 * i + 1]->pos, svc, &a,
			svc->exports.v[i].value, true);
		envup_decode__pop(d, mark);
	}
done:
	allowed_dispose(&a);
	return error;
}

/* ---- names across the spec ------------------------------------------------ */

typedef struct {
	char *name;
	size_t svc;   /* service index */
	size_t item;  /* export index, or 0..2 for the automatic exports */
} named;

static int named_cmp(const void *a, const void *b)
{
	const named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->svc != y->svc)
		return x->svc < y->svc ? -1 : 1;
	return x->item < y->item ? -1 : (x->item > y->item);
}

static int named_cmp_name(const void *a, const void *b)
{
	return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

static bool written_before(const named *a, const named *b)
{
	return a->svc < b->svc || (a->svc == b->svc && a->item < b->item);
}

/*
 * In an array sorted by named_cmp, the second occurrence of a name that
 * comes first in the spec: its index (and the first occurrence's in
 * *first), or n when every name is unique.
 */
static size_t first_repeat(const named *v, size_t n, size_t *first)
{
	size_t i, best = n, group = 0;

	for (i = 1; i < n; i++) {
		if (strcmp(v[i].name, v[i - 1].name) != 0) {
			group = i;
			continue;
		}
		if (i == group + 1 && (best == n || written_before(&v[i], &v[best]))) {
			best = i;
			*first = group;
		}
	}
	return best;
}

static void named_free(named *v, size_t n)
{
	size_t i;
	for (i = 0; v && i < n; i++)
		envup__free(v[i].name);
	envup__free(v);
}

static int check_stems(envup_spec *spec, envup_service_src *srcs, envup_decode *d)
{
	named *v = envup__calloc(spec->nservices + 1, sizeof(*v));
	size_t i, at, first = 0;
	int error = ENVUP_ERROR;

	if (!v)
		return ENVUP_ERROR;
	for (i = 0; i < spec->nservices; i++) {
		if ((v[i].name = envup_env_stem(spec->services[i].name)) == NULL)
			goto done;
		v[i].svc = i;
		/* caught here, not after the containers started */
		if (!envup_export_name_valid(v[i].name)) {
			const envup_service *s = &spec->services[i];
			envup_spec__path_service(d, s->name);
			error = envup_decode__error(d, srcs[i].name->pos,
				"service name '%s' would export %s_HOST, which is not a valid variable "
				"name: start the name with a letter", s->name, v[i].name);
			goto done;
		}
	}
	qsort(v, spec->nservices, sizeof(*v), named_cmp);
	at = first_repeat(v, spec->nservices, &first);
	error = 0;
	if (at < spec->nservices) {
		const envup_service *s = &spec->services[v[at].svc];
		envup_spec__path_service(d, s->name);
		error = envup_decode__error(d, srcs[v[at].svc].name->pos,
			"services '%s' and '%s' would both export %s_URL, %s_HOST and %s_PORT",
			spec->services[v[first].svc].name, s->name,
			v[at].name, v[at].name, v[at].name);
	}
done:
	named_free(v, spec->nservices);
	return error;
}

/* Set d's path to the export `e` and return the position of its key. */
static envup_pos export_at(envup_spec *spec, envup_service_src *srcs,
	envup_decode *d, const named *e)
{
	envup_spec__path_service(d, spec->services[e->svc].name);
	envup_decode__push(d, "export");
	envup_decode__push(d, e->name);
	return srcs[e->svc].value[ENVUP_SVC_EXPORT]->items[2 * e->item]->pos;
}

static int check_export_names(envup_spec *spec, envup_service_src *srcs,
	envup_decode *d)
{
	static const char *const suffix[] = {"_URL", "_HOST", "_PORT"};
	named *ex = NULL, *au = NULL;
	size_t nex = 0, nau = 0, i, j, at, first = 0;
	int error = ENVUP_ERROR;

	for (i = 0; i < spec->nservices; i++)
		nex += spec->services[i].exports.n;
	if ((ex = envup__calloc(nex + 1, sizeof(*ex))) == NULL ||
	    (au = envup__calloc(3 * spec->nservices + 1, sizeof(*au))) == NULL)
		goto done;
	for (i = 0, nex = 0; i < spec->nservices; i++) {
		const envup_service *s = &spec->services[i];
		char *stem = envup_env_stem(s->name);
		if (!stem)
			goto done;
		for (j = 0; j < 3; j++) {
			/* as provisioning makes them: _URL with a url, _PORT with ports */
			if ((j == 0 && !s->url) || (j == 2 && !s->nports))
				continue;
			au[nau].svc = i;
			au[nau].item = j;
			if ((au[nau++].name = envup__sprintf("%s%s", stem, suffix[j])) == NULL) {
				envup__free(stem);
				goto done;
			}
		}
		envup__free(stem);
		for (j = 0; j < s->exports.n; j++, nex++) {
			ex[nex].svc = i;
			ex[nex].item = j;
			if ((ex[nex].name = envup__strdup(s->exports.v[j].key)) == NULL)
				goto done;
		}
	}

	/* explicit exports written twice */
	qsort(ex, nex, sizeof(*ex), named_cmp);
	if ((at = first_repeat(ex, nex, &first)) < nex) {
		envup_pos first_pos = export_at(spec, srcs, d, &ex[first]);
		envup_pos pos = export_at(spec, srcs, d, &ex[at]);
		error = envup_decode__error(d, pos,
			"duplicate export '%s' (first in service '%s' at line %d)",
			ex[at].name, spec->services[ex[first].svc].name, first_pos.line);
		goto done;
	}

	/* explicit exports named like another service's automatic ones */
	qsort(au, nau, sizeof(*au), named_cmp_name);
	for (i = 0, at = nex; i < nex; i++) {
		const named *hit = bsearch(&ex[i], au, nau, sizeof(*au), named_cmp_name);
		if (hit && hit->svc != ex[i].svc &&
		    (at == nex || written_before(&ex[i], &ex[at]))) {
			at = i;
			first = (size_t)(hit - au);
		}
	}
	error = 0;
	if (at < nex) {
		envup_pos pos = export_at(spec, srcs, d, &ex[at]);
		error = envup_decode__error(d, pos,
			"export '%s' collides with the automatic export of service '%s'",
			ex[at].name, spec->services[au[first].svc].name);
	}
done:
	named_free(ex, nex);
	named_free(au, nau);
	return error;
}

int envup_spec__validate(envup_spec *spec, envup_service_src *srcs, envup_decode *d)
{
	size_t i;
	bool failed = false;
	int error = 0;

	/* each check of each service on its own (one run reports every
	 * error); the names across services once each service is right */
	for (i = 0; i < spec->nservices && error == 0; i++) {
		envup_service *svc = &spec->services[i];
		int e[4];
		size_t k;
		envup_spec__path_service(d, svc->name);
		e[0] = check_wait(svc, &srcs[i], d);
		envup_spec__path_service(d, svc->name);
		e[1] = check_init(svc, &srcs[i], d, spec->dir);
		envup_spec__path_service(d, svc->name);
		e[2] = check_expectations(svc, &srcs[i], d, spec->dir);
		envup_spec__path_service(d, svc->name);
		e[3] = check_placeholders(svc, &srcs[i], d);
		for (k = 0; k < 4; k++) {
			if (e[k] == ENVUP_ESPEC)
				failed = true;
			else if (e[k] < 0)
				error = e[k];
		}
	}
	if (error == 0 && failed)
		error = ENVUP_ESPEC;
	if (error == 0)
		error = check_stems(spec, srcs, d);
	if (error == 0)
		error = check_export_names(spec, srcs, d);
	envup_decode__pop(d, 0);
	return error;
}
