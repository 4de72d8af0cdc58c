/*
 * The value forms of a Compose file (compose.h): durations, byte sizes,
 * ports and volumes in their short and long syntax, KEY=VALUE lists, and
 * env files.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "compose/compose.h"

/* ---- durations and sizes ---------------------------------------------------- */

int envup_compose__duration(double *out, envup_decode *d, envup_yaml_node *n)
{
	static const struct { const char *unit; double seconds; } units[] = {
		{"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600},
	};
	const char *s, *p;
	double total = 0;
	int error;

	if ((error = envup_decode__string(&s, d, n, "a duration (10s, 1m30s, 500ms)")) < 0)
		return error;
	p = s;
	if (*p == '\0')
		goto bad;
	/* a plain number is seconds */
	{
		char *end;
		double v = strtod(p, &end);
		if (end != p && *end == '\0' && isfinite(v) && v >= 0 && v <= 86400.0 * 365) {
			*out = v;
			return 0;
		}
	}
	while (*p) {
		char *end;
		double v;
		size_t i, best = 0, best_len = 0;
		if (!(isdigit((unsigned char)*p) || *p == '.'))
			goto bad;
		v = strtod(p, &end);
		if (end == p || !isfinite(v))
			goto bad;
		p = end;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);
			if (strncmp(p, units[i].unit, l) == 0 && l > best_len) {
				best = i;
				best_len = l;
			}
		}
		if (!best_len)
			goto bad;
		total += v * units[best].seconds;
		p += best_len;
	}
	if (total > 86400.0 * 365)
		goto bad;
	*out = total;
	return 0;
bad:
	return envup_decode__error(d, n->pos,
		"expected a duration such as 10s, 1m30s or 500ms, found '%s'", s);
}

int envup_compose__bytes(long long *out, envup_decode *d, envup_yaml_node *n)
{
	const char *s;
	char *end;
	double v, mult = 1;
	int error;

	if ((error = envup_decode__string(&s, d, n, "a size (64m, 1gb, bytes)")) < 0)
		return error;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !isfinite(v) || v < 0)
		goto bad;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'b': mult = 1; end++; break;
	case 'k': mult = 1024.0; end++; break;
	case 'm': mult = 1024.0 * 1024; end++; break;
	case 'g': mult = 1024.0 * 1024 * 1024; end++; break;
	default: goto bad;
	}
	if (mult > 1 && tolower((unsigned char)*end) == 'b')
		end++;
	if (*end || v * mult > 1e15)
		goto bad;
	*out = (long long)(v * mult);
	return 0;
bad:
	return envup_decode__error(d, n->pos, "expected a size such as 64m or 1gb, found '%s'", s);
}

/* ---- ports ------------------------------------------------------------------- */

static int add_port(envup_service *svc, envup_decode *d, envup_pos pos, int container,
	int host, const char *ip)
{
	size_t i;
	int *p;
	envup_port_bind *b;

	for (i = 0; i < svc->nports; i++)
		if (svc->ports[i] == container)
			return envup_decode__error(d, pos, "container port %d is published twice", container);
	if ((p = envup__realloc(svc->ports, (svc->nports + 1) * sizeof(int))) == NULL)
		return ENVUP_ERROR;
	svc->ports = p;
	if ((b = envup__realloc(svc->binds, (svc->nports + 1) * sizeof(*b))) == NULL)
		return ENVUP_ERROR;
	svc->binds = b;
	b[svc->nports].host = host;
	b[svc->nports].ip = NULL;
	if (ip && *ip && (b[svc->nports].ip = envup__strdup(ip)) == NULL)
		return ENVUP_ERROR;
	p[svc->nports++] = container;
	return 0;
}

/* "8080" or "8080-8082" into [lo, hi]; "" gives 0..0 */
static bool parse_range(const char *s, size_t len, int *lo, int *hi)
{
	char buf[32], *dash, *end;
	long a, b;

	if (len == 0) {
		*lo = *hi = 0;
		return true;
	}
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (!isdigit((unsigned char)buf[0]))
		return false;
	a = strtol(buf, &end, 10);
	if (*end || a < 1 || a > 65535)
		return false;
	b = a;
	if (dash) {
		if (!isdigit((unsigned char)dash[1]))
			return false;
		b = strtol(dash + 1, &end, 10);
		if (*end || b < a || b > 65535)
			return false;
	}
	*lo = (int)a;
	*hi = (int)b;
	return true;
}

/* [[IP:][HOST[-HOST]]:]CONTAINER[-CONTAINER][/PROTOCOL] */
static int port_short(envup_service *svc, envup_decode *d, envup_yaml_node *n)
{
	char ip[64] = "";
	const char *s, *rest, *colon, *proto;
	int clo, chi, hlo = 0, hhi = 0, i, error;
	size_t clen;

	if ((error = envup_decode__string(&s, d, n, "a port")) < 0)
		return error;
	rest = s;
	if (rest[0] == '[') {
		/* [::1]:5432:5432 */
		const char *close = strchr(rest, ']');
		if (!close || close[1] != ':' || (size_t)(close - rest - 1) >= sizeof(ip))
			goto bad;
		memcpy(ip, rest + 1, (size_t)(close - rest - 1));
		ip[close - rest - 1] = '\0';
		rest = close + 2;
	} else {
		/* two colons: the first part is the address */
		const char *c1 = strchr(rest, ':');
		if (c1 && strchr(c1 + 1, ':')) {
			if ((size_t)(c1 - rest) >= sizeof(ip))
				goto bad;
			memcpy(ip, rest, (size_t)(c1 - rest));
			ip[c1 - rest] = '\0';
			rest = c1 + 1;
		}
	}
	proto = strchr(rest, '/');
	if (proto && strcmp(proto, "/tcp") != 0) {
		if (strcmp(proto, "/udp") == 0 || strcmp(proto, "/sctp") == 0)
			return envup_decode__error(d, n->pos,
				"'%s': envup publishes TCP ports only", s);
		goto bad;
	}
	colon = strchr(rest, ':');
	if (colon) {
		if (!parse_range(rest, (size_t)(colon - rest), &hlo, &hhi))
			goto bad;
		rest = colon + 1;
	}
	clen = proto ? (size_t)(proto - rest) : strlen(rest);
	if (!parse_range(rest, clen, &clo, &chi) || clo == 0)
		goto bad;
	if (hlo && hhi - hlo != chi - clo && hlo != hhi)
		return envup_decode__error(d, n->pos,
			"'%s': the host and container ranges differ in length", s);
	for (i = 0; i <= chi - clo; i++) {
		int host = hlo ? (hlo == hhi && chi != clo ? 0 : hlo + i) : 0;
		if (hlo && hlo == hhi && chi != clo)
			return envup_decode__error(d, n->pos,
				"'%s': a range of container ports needs a range of host ports", s);
		if ((error = add_port(svc, d, n->pos, clo + i, host, ip)) < 0)
			return error;
	}
	return 0;
bad:
	return envup_decode__error(d, n->pos,
		"invalid port '%s' (forms: 5432, \"8080:80\", \"127.0.0.1:5432:5432\", "
		"\"127.0.0.1::5432\", \"9000-9001:9000-9001\")", s);
}

static int port_long(envup_service *svc, envup_decode *d, envup_yaml_node *m)
{
	static const char *const keys[] = {"target", "published", "host_ip", "protocol", "mode",
		"name", "app_protocol", NULL};
	int target = 0, hlo = 0, hhi = 0, error = 0;
	const char *ip = NULL, *s;
	size_t i, mark;

	for (i = 0; i + 1 < m->n && error == 0; i += 2) {
		envup_yaml_node *k = m->items[i], *v = m->items[i + 1];
		if (envup_decode__is_extension(k->text))
			continue;
		mark = envup_decode__push(d, k->text);
		if (strcmp(k->text, "target") == 0)
			error = envup_decode__int(&target, d, v, 1, 65535);
		else if (strcmp(k->text, "published") == 0) {
			if ((error = envup_decode__string(&s, d, v, "a host port")) == 0 &&
			    !parse_range(s, strlen(s), &hlo, &hhi))
				error = envup_decode__error(d, v->pos, "invalid host port '%s'", s);
		} else if (strcmp(k->text, "host_ip") == 0)
			error = envup_decode__string(&ip, d, v, "an address");
		else if (strcmp(k->text, "protocol") == 0) {
			if ((error = envup_decode__string(&s, d, v, "tcp")) == 0 && strcmp(s, "tcp") != 0)
				error = envup_decode__error(d, v->pos, "envup publishes TCP ports only");
		} else if (strcmp(k->text, "mode") == 0) {
			if ((error = envup_decode__string(&s, d, v, "host or ingress")) == 0 &&
			    strcmp(s, "host") != 0 && strcmp(s, "ingress") != 0)
				error = envup_decode__error(d, v->pos, "expected host or ingress");
		} else if (strcmp(k->text, "name") == 0 || strcmp(k->text, "app_protocol") == 0)
			error = envup_decode__string(&s, d, v, NULL);
		else
			error = envup_decode__unknown_key(d, k, keys);
		envup_decode__pop(d, mark);
	}
	if (error < 0)
		return error;
	if (!target)
		return envup_decode__error(d, m->pos, "a port needs a target (the container port)");
	if (hlo != hhi)
		return envup_decode__error(d, m->pos, "one container port takes one host port");
	return add_port(svc, d, m->pos, target, hlo, ip);
}

int envup_compose__ports(envup_service *svc, envup_decode *d, envup_yaml_node *v)
{
	size_t i, mark;
	bool failed = false;
	int error = 0;

	if (v->kind != ENVUP_YAML_SEQ)
		return envup_decode__error(d, v->pos, "expected a sequence of ports");
	for (i = 0; i < v->n; i++) {
		envup_yaml_node *it = v->items[i];
		mark = envup_decode__push_index(d, i);
		if (it->kind == ENVUP_YAML_MAP)
			error = port_long(svc, d, it);
		else
			error = port_short(svc, d, it);
		envup_decode__pop(d, mark);
		if ((error = envup_decode__go_on(error, &failed)) < 0)
			return error;
	}
	return failed ? ENVUP_ESPEC : 0;
}

/* ---- volumes ------------------------------------------------------------------ */

static bool declared_volume(const envup_yaml_node *declared, const char *name)
{
	size_t i;

	if (!declared || declared->kind != ENVUP_YAML_MAP)
		return false;
	for (i = 0; i + 1 < declared->n; i += 2)
		if (strcmp(declared->items[i]->text, name) == 0)
			return true;
	return false;
}

/* A host path of a bind mount, made absolute against the file's directory. */
static char *bind_source(const char *dir, const char *src)
{
	const char *home;

	if (src[0] == '/')
		return envup__strdup(src);
	if (src[0] == '~' && (src[1] == '/' || src[1] == '\0') && (home = getenv("HOME")) != NULL)
		return envup__sprintf("%s%s", home, src + 1);
	if (src[0] == '.' && src[1] == '\0')
		return envup__strdup(dir);
	if (src[0] == '.' && src[1] == '/')
		src += 2;
	return envup__sprintf("%s/%s", dir, src);
}

static int add_mount(envup_service *svc, envup_decode *d, envup_pos pos,
	const envup_spec *spec, const envup_yaml_node *declared, envup_mount_kind kind,
	const char *source, const char *target, bool ro)
{
	envup_mount *m;
	size_t i;

	if (target[0] != '/')
		return envup_decode__error(d, pos,
			"the container path must be absolute, found '%s'", target);
	for (i = 0; i < svc->nmounts; i++)
		if (strcmp(svc->mounts[i].target, target) == 0)
			return envup_decode__error(d, pos, "%s is mounted twice", target);
	if (kind == ENVUP_MOUNT_VOLUME && source && *source && !declared_volume(declared, source))
		return envup_decode__error(d, pos,
			"volume '%s' is not declared in the top-level volumes:", source);
	if ((m = envup__realloc(svc->mounts, (svc->nmounts + 1) * sizeof(*m))) == NULL)
		return ENVUP_ERROR;
	svc->mounts = m;
	m = &svc->mounts[svc->nmounts];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->read_only = ro;
	if ((m->target = envup__strdup(target)) == NULL)
		return ENVUP_ERROR;
	if (kind == ENVUP_MOUNT_BIND && (m->source = bind_source(spec->dir, source)) == NULL) {
		envup__free(m->target);
		return ENVUP_ERROR;
	}
	if (kind == ENVUP_MOUNT_VOLUME && source && *source && (m->source = envup__strdup(source)) == NULL) {
		envup__free(m->target);
		return ENVUP_ERROR;
	}
	svc->nmounts++;
	return 0;
}

static bool is_path(const char *s)
{
	return s[0] == '/' || s[0] == '.' || s[0] == '~';
}

/* SOURCE:TARGET[:MODE] or TARGET (an anonymous volume) */
static int volume_short(envup_service *svc, envup_decode *d, envup_yaml_node *n,
	const envup_spec *spec, const envup_yaml_node *declared)
{
	char *copy = NULL, *parts[3] = {NULL, NULL, NULL}, *p;
	const char *s;
	size_t np = 0;
	bool ro = false;
	int error;

	if ((error = envup_decode__string(&s, d, n, "a volume")) < 0)
		return error;
	if ((copy = envup__strdup(s)) == NULL)
		return ENVUP_ERROR;
	for (p = copy; np < 3;) {
		parts[np++] = p;
		if ((p = strchr(p, ':')) == NULL)
			break;
		*p++ = '\0';
	}
	if (p || !parts[0][0]) {
		error = envup_decode__error(d, n->pos, "invalid volume '%s' (SOURCE:TARGET[:ro])", s);
		goto done;
	}
	if (np == 3) {
		char *opt, *save = NULL;
		for (opt = strtok_r(parts[2], ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
			if (strcmp(opt, "ro") == 0)
				ro = true;
			else if (strcmp(opt, "rw") != 0 && strcmp(opt, "z") != 0 && strcmp(opt, "Z") != 0 &&
			    strcmp(opt, "cached") != 0 && strcmp(opt, "delegated") != 0 &&
			    strcmp(opt, "consistent") != 0 && strcmp(opt, "nocopy") != 0) {
				error = envup_decode__error(d, n->pos,
					"unknown volume option '%s' in '%s' (ro, rw, z, Z)", opt, s);
				goto done;
			}
		}
	}
	if (np == 1)
		error = add_mount(svc, d, n->pos, spec, declared, ENVUP_MOUNT_VOLUME, NULL, parts[0], false);
	else
		error = add_mount(svc, d, n->pos, spec, declared,
			is_path(parts[0]) ? ENVUP_MOUNT_BIND : ENVUP_MOUNT_VOLUME, parts[0], parts[1], ro);
done:
	envup__free(copy);
	return error;
}

static int volume_long(envup_service *svc, envup_decode *d, envup_yaml_node *m,
	const envup_spec *spec, const envup_yaml_node *declared)
{
	static const char *const keys[] = {"type", "source", "target", "read_only", "bind",
		"volume", "tmpfs", "consistency", NULL};
	const char *type = NULL, *source = NULL, *target = NULL;
	bool ro = false;
	size_t i, mark;
	int error = 0;

	for (i = 0; i + 1 < m->n && error == 0; i += 2) {
		envup_yaml_node *k = m->items[i], *v = m->items[i + 1];
		if (envup_decode__is_extension(k->text))
			continue;
		mark = envup_decode__push(d, k->text);
		if (strcmp(k->text, "type") == 0)
			error = envup_decode__string(&type, d, v, "bind, volume or tmpfs");
		else if (strcmp(k->text, "source") == 0)
			error = envup_decode__string(&source, d, v, "a path or volume name");
		else if (strcmp(k->text, "target") == 0)
			error = envup_decode__string(&target, d, v, "a container path");
		else if (strcmp(k->text, "read_only") == 0)
			error = envup_decode__bool(&ro, d, v);
		else if (strcmp(k->text, "bind") == 0 || strcmp(k->text, "volume") == 0 ||
		    strcmp(k->text, "tmpfs") == 0 || strcmp(k->text, "consistency") == 0)
			error = 0; /* options for the engine's defaults: accepted as written */
		else
			error = envup_decode__unknown_key(d, k, keys);
		envup_decode__pop(d, mark);
	}
	if (error < 0)
		return error;
	if (!type || !target)
		return envup_decode__error(d, m->pos, "a volume needs a type and a target");
	if (strcmp(type, "bind") == 0) {
		if (!source || !*source)
			return envup_decode__error(d, m->pos, "a bind mount needs a source");
		return add_mount(svc, d, m->pos, spec, declared, ENVUP_MOUNT_BIND, source, target, ro);
	}
	if (strcmp(type, "volume") == 0)
		return add_mount(svc, d, m->pos, spec, declared, ENVUP_MOUNT_VOLUME, source, target, ro);
	if (strcmp(type, "tmpfs") == 0)
		return add_mount(svc, d, m->pos, spec, declared, ENVUP_MOUNT_TMPFS, NULL, target, false);
	return envup_decode__error(d, m->pos,
		"volume type '%s' is not supported by envup (bind, volume, tmpfs)", type);
}

int envup_compose__volumes(envup_service *svc, envup_decode *d, envup_yaml_node *v,
	const envup_spec *spec, const envup_yaml_node *declared)
{
	size_t i, mark;
	bool failed = false;
	int error;

	if (v->kind != ENVUP_YAML_SEQ)
		return envup_decode__error(d, v->pos, "expected a sequence of volumes");
	for (i = 0; i < v->n; i++) {
		envup_yaml_node *it = v->items[i];
		mark = envup_decode__push_index(d, i);
		error = it->kind == ENVUP_YAML_MAP ? volume_long(svc, d, it, spec, declared) :
			volume_short(svc, d, it, spec, declared);
		envup_decode__pop(d, mark);
		if ((error = envup_decode__go_on(error, &failed)) < 0)
			return error;
	}
	return failed ? ENVUP_ESPEC : 0;
}

/* ---- KEY=VALUE ----------------------------------------------------------------- */

static const char *lookup(const envup_decode *d, const char *name)
{
	return d->getenv_fn ? d->getenv_fn(name, d->payload) : getenv(name);
}

int envup_compose__kv(envup_kvlist *out, envup_decode *d, envup_yaml_node *v, char sep,
	bool from_env)
{
	size_t i, mark;
	const char *s;
	bool failed = false;
	int error = 0;

	if (v->kind == ENVUP_YAML_MAP) {
		for (i = 0; i + 1 < v->n; i += 2) {
			envup_yaml_node *k = v->items[i], *val = v->items[i + 1];
			mark = envup_decode__push(d, k->text);
			if (k->text[0] == '\0')
				error = envup_decode__error(d, k->pos, "empty name");
			else if (val->kind == ENVUP_YAML_SCALAR && val->is_null) {
				/* FOO: (no value) takes FOO from the environment, or is left out */
				const char *e = from_env ? lookup(d, k->text) : "";
				error = e ? envup_kvlist_set(out, k->text, e) : 0;
			} else if (val->kind != ENVUP_YAML_SCALAR)
				error = envup_decode__error(d, val->pos,
					"expected a string, number or boolean");
			else if ((error = envup_decode__string(&s, d, val, NULL)) == 0)
				error = envup_kvlist_set(out, k->text, s);
			envup_decode__pop(d, mark);
			if ((error = envup_decode__go_on(error, &failed)) < 0)
				return error;
		}
		return failed ? ENVUP_ESPEC : 0;
	}
	if (v->kind != ENVUP_YAML_SEQ)
		return envup_decode__error(d, v->pos, "expected a mapping or a list of KEY%cVALUE", sep);
	for (i = 0; i < v->n; i++) {
		const char *eq;
		char *key;
		mark = envup_decode__push_index(d, i);
		if ((error = envup_decode__string(&s, d, v->items[i], "KEY=VALUE")) == 0) {
			eq = strchr(s, sep);
			if (sep == ':' && !eq)
				eq = strchr(s, '=');
			if (eq == s || s[0] == '\0')
				error = envup_decode__error(d, v->items[i]->pos,
					"expected KEY%cVALUE, found '%s'", sep, s);
			else if (!eq) {
				const char *e = from_env ? lookup(d, s) : "";
				error = e ? envup_kvlist_set(out, s, e) : 0;
			} else if ((key = envup__strndup(s, (size_t)(eq - s))) == NULL)
				error = ENVUP_ERROR;
			else {
				error = envup_kvlist_set(out, key, eq + 1);
				envup__free(key);
			}
		}
		envup_decode__pop(d, mark);
		if ((error = envup_decode__go_on(error, &failed)) < 0)
			return error;
	}
	return failed ? ENVUP_ESPEC : 0;
}

/* ---- env files -------------------------------------------------------------------- */

static char *unquote(const char *v, size_t len)
{
	/* a quoted value ends at its closing quote (a comment may follow) */
	if (len >= 2 && (v[0] == '"' || v[0] == '\'')) {
		size_t i;
		for (i = 1; i < len; i++) {
			if (v[0] == '"' && v[i] == '\\') {
				i++;
				continue;
			}
			if (v[i] == v[0])
				break;
		}
		if (i < len)
			len = i + 1;
	}
	if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
		envup_buf b = ENVUP_BUF_INIT;
		size_t i;
		if (v[0] == '\'')
			return envup__strndup(v + 1, len - 2);
		for (i = 1; i + 1 < len; i++) {
			char c = v[i];
			if (c == '\\' && i + 2 < len) {
				char e = v[++i];
				c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
			}
			if (envup_buf_putc(&b, c) < 0) {
				envup_buf_dispose(&b);
				return NULL;
			}
		}
		if (envup_buf_puts(&b, "") < 0)
			return NULL;
		return envup_buf_detach(&b);
	}
	/* an unquoted value ends at " #" */
	{
		size_t i;
		for (i = 0; i + 1 < len; i++)
			if ((v[i] == ' ' || v[i] == '\t') && v[i + 1] == '#')
				break;
		if (i + 1 < len)
			len = i;
		while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
	}
	return envup__strndup(v, len);
}

int envup_compose__read_env_file(envup_kvlist *out, const char *path, int *err)
{
	envup_buf data = ENVUP_BUF_INIT;
	const char *p, *end;
	int fd, error = ENVUP_ERROR;

	*err = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*err = errno;
		return ENVUP_ESPEC;
	}
	if (envup_fd_read_all(&data, fd, 1024 * 1024, err) < 0) {
		close(fd);
		return *err ? ENVUP_ESPEC : ENVUP_ERROR;
	}
	close(fd);
	p = envup_buf_cstr(&data);
	end = p + data.size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eq, *k;
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *key = NULL, *val = NULL;
		while (len && (p[len - 1] == '\r'))
			len--;
		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len >= 7 && strncmp(p, "export ", 7) == 0) {
			p += 7;
			len -= 7;
		}
		k = p;
		eq = memchr(p, '=', len);
		if (len && *p != '#' && eq && eq > k) {
			size_t kl = (size_t)(eq - k);
			while (kl && (k[kl - 1] == ' ' || k[kl - 1] == '\t'))
				kl--;
			{
				const char *v = eq + 1;
				size_t vl = len - (size_t)(v - p);
				while (vl && (*v == ' ' || *v == '\t')) {
					v++;
					vl--;
				}
				if ((key = envup__strndup(k, kl)) == NULL || (val = unquote(v, vl)) == NULL ||
				    envup_kvlist_set(out, key, val) < 0) {
					envup__free(key);
					envup__free(val);
					goto done;
				}
			}
		}
		envup__free(key);
		envup__free(val);
		p = nl ? nl + 1 : end;
	}
	error = 0;
done:
	envup_buf_dispose(&data);
	return error;
}
