/*
 * One service of a Compose file onto envup_service (compose.h). The keys
 * are read in a fixed order whatever the order written (env_file before
 * environment, which wins), each on its own so that one run reports every
 * error. A known image (postgres, redis, mockserver under any registry,
 * prefix or tag) gets its template: the real-protocol probe, the URL and
 * the credentials, taken from what the file says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compose/cmdline.h"
#include "compose/compose.h"
#include "compose/imageref.h"
#include "compose/wait.h"

/* what compose's CMD-SHELL means: run by the engine inside the container,
 * never on the host (tests/unit/test_no_shell.c exempts this one) */
#define CONTAINER_SHELL "/bin/sh"

typedef enum {
	K_IMAGE, K_ENV_FILE, K_ENVIRONMENT, K_COMMAND, K_ENTRYPOINT, K_PORTS, K_EXPOSE,
	K_HEALTHCHECK, K_DEPENDS_ON, K_VOLUMES, K_TMPFS, K_LABELS, K_WORKING_DIR, K_USER,
	K_HOSTNAME, K_EXTRA_HOSTS, K_SHM_SIZE, K_INIT, K_CAP_ADD, K_CAP_DROP, K_PRIVILEGED,
	K_ULIMITS, K_STOP_SIGNAL, K_STOP_GRACE, K_RESTART, K_CONTAINER_NAME, K_PROFILES,
	K_X_ENVUP, K_COUNT
} ckey;

/* indexed by ckey */
static const char *const ckey_names[] = {
	"image", "env_file", "environment", "command", "entrypoint", "ports", "expose",
	"healthcheck", "depends_on", "volumes", "tmpfs", "labels", "working_dir", "user",
	"hostname", "extra_hosts", "shm_size", "init", "cap_add", "cap_drop", "privileged",
	"ulimits", "stop_signal", "stop_grace_period", "restart", "container_name", "profiles",
	"x-envup", NULL
};

/* Compose keys envup does not run, with why */
static const struct { const char *key; const char *why; } unsupported[] = {
	{"build", "envup does not build images: build it first and give its image:"},
	{"deploy", "a Swarm/cluster setting"},
	{"secrets", "use environment: or a bind mount"},
	{"configs", "use a bind mount"},
	{"extends", "write the service out in full"},
	{"network_mode", "envup puts every service on the environment's own network"},
	{"networks", "envup puts every service on the environment's own network"},
	{"links", "services reach each other by name on the environment's network"},
	{"external_links", "services reach each other by name on the environment's network"},
	{"volumes_from", "name the volumes in volumes:"},
	{"pid", "not supported"}, {"ipc", "not supported"}, {"uts", "not supported"},
	{"userns_mode", "not supported"}, {"devices", "not supported"}, {"gpus", "not supported"},
	{"scale", "one container per service"}, {"develop", "not supported"},
	{"provider", "not supported"}, {"models", "not supported"}, {"logging", "not supported"},
	{"platform", "not supported"}, {"runtime", "not supported"}, {"isolation", "not supported"},
	{"cgroup", "not supported"}, {"cgroup_parent", "not supported"},
	{"post_start", "not supported"}, {"pre_stop", "not supported"},
	{"label_file", "write the labels out"}, {"annotations", "not supported"},
	{"attach", "not supported"}, {"blkio_config", "not supported"},
	{"cpu_count", "not supported"}, {"cpu_percent", "not supported"},
	{"cpu_period", "not supported"}, {"cpu_quota", "not supported"},
	{"cpu_rt_period", "not supported"}, {"cpu_rt_runtime", "not supported"},
	{"cpu_shares", "not supported"}, {"cpus", "not supported"}, {"cpuset", "not supported"},
	{"credential_spec", "not supported"}, {"device_cgroup_rules", "not supported"},
	{"dns", "not supported"}, {"dns_opt", "not supported"}, {"dns_search", "not supported"},
	{"domainname", "not supported"}, {"group_add", "not supported"},
	{"mac_address", "not supported"}, {"mem_limit", "not supported"},
	{"mem_reservation", "not supported"}, {"mem_swappiness", "not supported"},
	{"memswap_limit", "not supported"}, {"oom_kill_disable", "not supported"},
	{"oom_score_adj", "not supported"}, {"pids_limit", "not supported"},
	{"pull_policy", "envup pulls an image when it is missing"},
	{"pull_refresh_after", "not supported"}, {"read_only", "not supported"},
	{"security_opt", "not supported"}, {"stdin_open", "not supported"},
	{"storage_opt", "not supported"}, {"sysctls", "not supported"}, {"tty", "not supported"},
	{"use_api_socket", "not supported"}, {"pre_start", "not supported"},
};

/* known images: the last part of the repository, before any tag */
static const char *known_template(const char *image)
{
	static const char *const known[] = {"postgres", "redis", "mockserver", NULL};
	const char *slash = strrchr(image, '/'), *name = slash ? slash + 1 : image;
	size_t len = strcspn(name, ":@"), i;

	for (i = 0; known[i]; i++)
		if (strlen(known[i]) == len && strncmp(name, known[i], len) == 0)
			return known[i];
	return NULL;
}

static int set_str(char **field, envup_decode *d, envup_yaml_node *v, const char *what)
{
	const char *s;
	int error;

	if ((error = envup_decode__string(&s, d, v, what)) < 0)
		return error;
	envup__free(*field);
	return (*field = envup__strdup(s)) ? 0 : ENVUP_ERROR;
}

static int decode_env_files(envup_kvlist *env, envup_decode *d, envup_yaml_node *v,
	const char *dir)
{
	size_t i, n = v->kind == ENVUP_YAML_SEQ ? v->n : 1;
	int error = 0;

	for (i = 0; i < n && error == 0; i++) {
		envup_yaml_node *it = v->kind == ENVUP_YAML_SEQ ? v->items[i] : v;
		envup_yaml_node *pathn = it;
		bool required = true;
		const char *s;
		char *path;
		int err = 0;
		if (it->kind == ENVUP_YAML_MAP) {
			envup_yaml_node *r = envup_yaml__get(it, "required", NULL);
			pathn = envup_yaml__get(it, "path", NULL);
			if (!pathn)
				return envup_decode__error(d, it->pos, "an env_file entry needs a path");
			if (r && (error = envup_decode__bool(&required, d, r)) < 0)
				return error;
		}
		if ((error = envup_decode__string(&s, d, pathn, "a file path")) < 0)
			return error;
		if ((path = s[0] == '/' ? envup__strdup(s) : envup__sprintf("%s/%s", dir, s)) == NULL)
			return ENVUP_ERROR;
		error = envup_compose__read_env_file(env, path, &err);
		envup__free(path);
		if (error == ENVUP_ESPEC && !required && err == ENOENT)
			error = 0;
		else if (error == ENVUP_ESPEC)
			error = envup_decode__error(d, pathn->pos, "env file %s: %s", s, strerror(err));
	}
	return error;
}

static int decode_healthcheck(envup_service *svc, envup_service_src *src, envup_decode *d,
	envup_yaml_node *v)
{
	static const char *const keys[] = {"test", "interval", "timeout", "retries",
		"start_period", "start_interval", "disable", NULL};
	envup_wait w;
	bool disabled = false;
	size_t i, mark;
	int error = 0;

	bool failed = false;

	memset(&w, 0, sizeof(w));
	if ((error = envup_decode__mapping(d, v)) < 0)
		return error;
	w.kind = ENVUP_WAIT_NONE;
	for (i = 0; i + 1 < v->n && error != ENVUP_ERROR; i += 2) {
		envup_yaml_node *k = v->items[i], *val = v->items[i + 1];
		double secs;
		int n;
		if (error == ENVUP_ESPEC)
			failed = true;
		if (envup_decode__is_extension(k->text))
			continue;
		mark = envup_decode__push(d, k->text);
		if (strcmp(k->text, "test") == 0) {
			if (val->kind == ENVUP_YAML_SCALAR) {
				const char *s;
				if ((error = envup_decode__string(&s, d, val, "a command")) == 0 && !*s)
					error = envup_decode__error(d, val->pos, "an empty healthcheck test");
				if (error == 0 && ((error = envup_strlist_push(&w.exec, CONTAINER_SHELL)) < 0 ||
				    (error = envup_strlist_push(&w.exec, "-c")) < 0 ||
				    (error = envup_strlist_push(&w.exec, s)) < 0))
					break;
				w.kind = ENVUP_WAIT_EXEC;
			} else {
				envup_strlist t = ENVUP_STRLIST_INIT;
				if ((error = envup_decode__strlist(&t, d, val, false)) == 0) {
					size_t j;
					if (t.n == 0)
						error = envup_decode__error(d, val->pos,
							"expected [CMD, ...], [CMD-SHELL, \"...\"] or [NONE]");
					else if (strcmp(t.v[0], "NONE") == 0)
						disabled = true;
					else if (strcmp(t.v[0], "CMD") == 0 && t.n > 1) {
						for (j = 1; j < t.n && error == 0; j++)
							error = envup_strlist_push(&w.exec, t.v[j]);
						w.kind = ENVUP_WAIT_EXEC;
					} else if (strcmp(t.v[0], "CMD-SHELL") == 0 && t.n == 2) {
						if ((error = envup_strlist_push(&w.exec, CONTAINER_SHELL)) == 0 &&
						    (error = envup_strlist_push(&w.exec, "-c")) == 0)
							error = envup_strlist_push(&w.exec, t.v[1]);
						w.kind = ENVUP_WAIT_EXEC;
					} else
						error = envup_decode__error(d, val->pos,
							"expected [CMD, ...], [CMD-SHELL, \"...\"] or [NONE], found '%s'%s",
							t.v[0], t.n == 1 ? " alone" : "");
				}
				envup_strlist_dispose(&t);
			}
		} else if (strcmp(k->text, "timeout") == 0) {
			if ((error = envup_compose__duration(&secs, d, val)) == 0)
				w.exec_timeout = secs;
		} else if (strcmp(k->text, "interval") == 0 || strcmp(k->text, "start_period") == 0 ||
		    strcmp(k->text, "start_interval") == 0) {
			/* read, not waited on: envup runs the test itself, at once and often */
			error = envup_compose__duration(&secs, d, val);
		} else if (strcmp(k->text, "retries") == 0) {
			error = envup_decode__int(&n, d, val, 0, 1000000);
		} else if (strcmp(k->text, "disable") == 0) {
			bool b;
			if ((error = envup_decode__bool(&b, d, val)) == 0 && b)
				disabled = true;
		} else {
			error = envup_decode__unknown_key(d, k, keys);
		}
		envup_decode__pop(d, mark);
	}
	if (error == ENVUP_ESPEC)
		failed = true;
	if (error != ENVUP_ERROR && failed)
		error = ENVUP_ESPEC;
	if (error == 0 && !disabled && w.kind == ENVUP_WAIT_EXEC) {
		envup_wait__dispose(&svc->wait);
		svc->wait = w;
		src->has_wait = true;
		src->key[ENVUP_SVC_WAIT] = v;
		src->value[ENVUP_SVC_WAIT] = v;
		return 0;
	}
	envup_wait__dispose(&w);
	return error;
}

static int decode_depends(envup_service *svc, envup_decode *d, envup_yaml_node *v)
{
	static const char *const keys[] = {"condition", "required", "restart", NULL};
	static const char *const conds[] = {"service_started", "service_healthy",
		"service_completed_successfully", NULL};
	size_t i, mark;
	int error = 0;

	if (v->kind == ENVUP_YAML_SEQ || (v->kind == ENVUP_YAML_SCALAR && !v->is_null)) {
		if ((error = envup_decode__strlist(&svc->depends_on, d, v, true)) < 0)
			return error;
		if ((svc->dep_cond = envup__calloc(svc->depends_on.n + 1, sizeof(int))) == NULL)
			return ENVUP_ERROR;
		for (i = 0; i < svc->depends_on.n; i++)
			svc->dep_cond[i] = ENVUP_DEP_STARTED;
		return 0;
	}
	if ((error = envup_decode__mapping(d, v)) < 0)
		return error;
	if ((svc->dep_cond = envup__calloc(v->n / 2 + 1, sizeof(int))) == NULL)
		return ENVUP_ERROR;
	for (i = 0; i + 1 < v->n && error == 0; i += 2) {
		envup_yaml_node *k = v->items[i], *m = v->items[i + 1];
		int cond = ENVUP_DEP_STARTED;
		bool required = true, restart = false;
		size_t j;
		mark = envup_decode__push(d, k->text);
		if (m->kind == ENVUP_YAML_MAP) {
			for (j = 0; j + 1 < m->n && error == 0; j += 2) {
				envup_yaml_node *mk = m->items[j], *mv = m->items[j + 1];
				const char *s;
				size_t mm = envup_decode__push(d, mk->text);
				if (strcmp(mk->text, "condition") == 0) {
					if ((error = envup_decode__string(&s, d, mv, "a condition")) == 0) {
						if (strcmp(s, "service_started") == 0)
							cond = ENVUP_DEP_STARTED;
						else if (strcmp(s, "service_healthy") == 0)
							cond = ENVUP_DEP_READY;
						else if (strcmp(s, "service_completed_successfully") == 0)
							cond = ENVUP_DEP_COMPLETED;
						else {
							const char *g = envup_decode__suggest(s, conds);
							error = envup_decode__error(d, mv->pos,
								"unknown condition '%s'%s%s%s (service_started, "
								"service_healthy, service_completed_successfully)", s,
								g ? " (did you mean '" : "", g ? g : "", g ? "'?)" : "");
						}
					}
				} else if (strcmp(mk->text, "required") == 0)
					error = envup_decode__bool(&required, d, mv);
				else if (strcmp(mk->text, "restart") == 0)
					error = envup_decode__bool(&restart, d, mv);
				else if (!envup_decode__is_extension(mk->text))
					error = envup_decode__unknown_key(d, mk, keys);
				envup_decode__pop(d, mm);
			}
		} else if (!(m->kind == ENVUP_YAML_SCALAR && m->is_null)) {
			error = envup_decode__error(d, m->pos, "expected a mapping with condition:");
		}
		/* required: false still orders and waits when the service exists
		 * (compose_file.c drops it when it does not) */
		if (error == 0) {
			svc->dep_cond[svc->depends_on.n] = cond | (required ? 0 : ENVUP_DEP_OPTIONAL);
			error = envup_strlist_push(&svc->depends_on, k->text);
		}
		envup_decode__pop(d, mark);
	}
	return error;
}

static int decode_ulimits(envup_kvlist *out, envup_decode *d, envup_yaml_node *v)
{
	size_t i, mark;
	int error = 0;

	if ((error = envup_decode__mapping(d, v)) < 0)
		return error;
	for (i = 0; i + 1 < v->n && error == 0; i += 2) {
		envup_yaml_node *k = v->items[i], *val = v->items[i + 1];
		int soft = 0, hard = 0;
		char buf[32];
		mark = envup_decode__push(d, k->text);
		if (val->kind == ENVUP_YAML_MAP) {
			envup_yaml_node *s = envup_yaml__get(val, "soft", NULL);
			envup_yaml_node *h = envup_yaml__get(val, "hard", NULL);
			if (!s || !h)
				error = envup_decode__error(d, val->pos, "a ulimit needs soft and hard");
			else if ((error = envup_decode__int(&soft, d, s, -1, 2147483647)) == 0)
				error = envup_decode__int(&hard, d, h, -1, 2147483647);
		} else if ((error = envup_decode__int(&soft, d, val, -1, 2147483647)) == 0) {
			hard = soft;
		}
		snprintf(buf, sizeof(buf), "%d:%d", soft, hard);
		if (error == 0)
			error = envup_kvlist_set(out, k->text, buf);
		envup_decode__pop(d, mark);
	}
	return error;
}

static int decode_x_envup(envup_service *svc, envup_service_src *src, envup_decode *d,
	envup_yaml_node *v)
{
	static const char *const keys[] = {"export", "wait", NULL};
	size_t i, mark;
	int error = 0;

	if ((error = envup_decode__mapping(d, v)) < 0)
		return error;
	for (i = 0; i + 1 < v->n && error == 0; i += 2) {
		envup_yaml_node *k = v->items[i], *val = v->items[i + 1];
		mark = envup_decode__push(d, k->text);
		if (strcmp(k->text, "export") == 0) {
			size_t j;
			if ((error = envup_decode__mapping(d, val)) < 0)
				break;
			src->key[ENVUP_SVC_EXPORT] = k;
			src->value[ENVUP_SVC_EXPORT] = val;
			for (j = 0; j + 1 < val->n && error == 0; j += 2) {
				const char *s;
				size_t m = envup_decode__push(d, val->items[j]->text);
				if (!envup_service__var_valid(val->items[j]->text))
					error = envup_decode__error(d, val->items[j]->pos,
						"invalid variable name '%s'", val->items[j]->text);
				else if ((error = envup_decode__string(&s, d, val->items[j + 1],
				    "a string (the value to export)")) == 0)
					error = envup_kvlist_set(&svc->exports, val->items[j]->text, s);
				envup_decode__pop(d, m);
			}
		} else if (strcmp(k->text, "wait") == 0) {
			envup_wait__dispose(&svc->wait);
			if ((error = envup_wait__decode(&svc->wait, d, val)) == 0) {
				src->has_wait = true;
				src->key[ENVUP_SVC_WAIT] = k;
				src->value[ENVUP_SVC_WAIT] = val;
			}
		} else {
			error = envup_decode__unknown_key(d, k, keys);
		}
		envup_decode__pop(d, mark);
	}
	return error;
}

static int notice(envup_spec *spec, const char *line)
{
	if (envup_strlist_contains(&spec->notices, line))
		return 0;
	return envup_strlist_push(&spec->notices, line);
}

/* One key; keys[] is what the service wrote. */
static int decode_one(envup_spec *spec, envup_service *svc, envup_service_src *src,
	envup_decode *d, ckey key, envup_yaml_node *k, envup_yaml_node *v,
	const envup_yaml_node *declared)
{
	const char *s;
	int error, n;
	double secs;

	switch (key) {
	case K_IMAGE: {
		const char *why = NULL;
		if ((error = set_str(&svc->image, d, v, "an image reference")) < 0)
			return error;
		if (envup_imageref_check(svc->image, &why) < 0)
			return envup_decode__error(d, v->pos, "invalid image reference '%s': %s",
				svc->image, why);
		src->key[ENVUP_SVC_IMAGE] = k;
		src->value[ENVUP_SVC_IMAGE] = v;
		return 0;
	}
	case K_ENV_FILE:
		return decode_env_files(&svc->env, d, v, spec->dir);
	case K_ENVIRONMENT:
		src->key[ENVUP_SVC_ENV] = k;
		src->value[ENVUP_SVC_ENV] = v;
		return envup_compose__kv(&svc->env, d, v, '=', true);
	case K_COMMAND:
		svc->has_command = true;
		src->key[ENVUP_SVC_COMMAND] = k;
		src->value[ENVUP_SVC_COMMAND] = v;
		return envup_decode__command(&svc->command, d, v);
	case K_ENTRYPOINT:
		svc->has_entrypoint = true;
		src->key[ENVUP_SVC_ENTRYPOINT] = k;
		src->value[ENVUP_SVC_ENTRYPOINT] = v;
		return envup_decode__command(&svc->entrypoint, d, v);
	case K_PORTS:
		src->key[ENVUP_SVC_PORTS] = k;
		src->value[ENVUP_SVC_PORTS] = v;
		return envup_compose__ports(svc, d, v);
	case K_EXPOSE: {
		/* reachable on the network anyway; not published */
		envup_strlist l = ENVUP_STRLIST_INIT;
		error = envup_decode__strlist(&l, d, v, false);
		envup_strlist_dispose(&l);
		return error;
	}
	case K_HEALTHCHECK:
		return decode_healthcheck(svc, src, d, v);
	case K_DEPENDS_ON:
		src->key[ENVUP_SVC_DEPENDS_ON] = k;
		src->value[ENVUP_SVC_DEPENDS_ON] = v;
		return decode_depends(svc, d, v);
	case K_VOLUMES:
		return envup_compose__volumes(svc, d, v, spec, declared);
	case K_TMPFS: {
		size_t i;
		src->key[ENVUP_SVC_TMPFS] = k;
		src->value[ENVUP_SVC_TMPFS] = v;
		if ((error = envup_decode__strlist(&svc->tmpfs, d, v, true)) < 0)
			return error;
		for (i = 0; i < svc->tmpfs.n; i++) {
			char *colon = strchr(svc->tmpfs.v[i], ':');
			if (colon)
				*colon = '\0';  /* options (size=...): the engine's defaults */
			if (svc->tmpfs.v[i][0] != '/')
				return envup_decode__error(d, v->pos,
					"expected an absolute container path, found '%s'", svc->tmpfs.v[i]);
		}
		return 0;
	}
	case K_LABELS: {
		size_t i;
		if ((error = envup_compose__kv(&svc->rt.labels, d, v, '=', false)) < 0)
			return error;
		for (i = 0; i < svc->rt.labels.n; i++)
			if (strncmp(svc->rt.labels.v[i].key, "dev.envup.", 10) == 0)
				return envup_decode__error(d, v->pos,
					"label %s: dev.envup.* labels are envup's own", svc->rt.labels.v[i].key);
		return 0;
	}
	case K_WORKING_DIR:
		return set_str(&svc->rt.working_dir, d, v, "a container path");
	case K_USER:
		return set_str(&svc->rt.user, d, v, "a user");
	case K_HOSTNAME:
		return set_str(&svc->rt.hostname, d, v, "a host name");
	case K_EXTRA_HOSTS: {
		envup_kvlist l = ENVUP_KVLIST_INIT;
		size_t i;
		if ((error = envup_compose__kv(&l, d, v, ':', false)) == 0)
			for (i = 0; i < l.n && error == 0; i++) {
				char *e = envup__sprintf("%s:%s", l.v[i].key, l.v[i].value);
				error = e ? envup_strlist_push(&svc->rt.extra_hosts, e) : ENVUP_ERROR;
				envup__free(e);
			}
		envup_kvlist_dispose(&l);
		return error;
	}
	case K_SHM_SIZE:
		return envup_compose__bytes(&svc->rt.shm_size, d, v);
	case K_INIT:
		svc->rt.has_init = true;
		return envup_decode__bool(&svc->rt.init, d, v);
	case K_CAP_ADD:
		return envup_decode__strlist(&svc->rt.cap_add, d, v, false);
	case K_CAP_DROP:
		return envup_decode__strlist(&svc->rt.cap_drop, d, v, false);
	case K_PRIVILEGED:
		return envup_decode__bool(&svc->rt.privileged, d, v);
	case K_ULIMITS:
		return decode_ulimits(&svc->rt.ulimits, d, v);
	case K_STOP_SIGNAL:
		return set_str(&svc->rt.stop_signal, d, v, "a signal name");
	case K_STOP_GRACE:
		if ((error = envup_compose__duration(&secs, d, v)) < 0)
			return error;
		svc->rt.has_stop_timeout = true;
		svc->rt.stop_timeout = (int)(secs + 0.999);
		return 0;
	case K_RESTART:
		if ((error = envup_decode__string(&s, d, v, "a restart policy")) < 0)
			return error;
		return notice(spec, "restart: is accepted and has no effect: envup's "
			"environments are thrown away, not kept running");
	case K_CONTAINER_NAME:
		if ((error = envup_decode__string(&s, d, v, "a name")) < 0)
			return error;
		return notice(spec, "container_name: is ignored: envup names containers "
			"itself, so that environments stay apart");
	case K_PROFILES: {
		envup_strlist l = ENVUP_STRLIST_INIT;
		error = envup_decode__strlist(&l, d, v, false);
		envup_strlist_dispose(&l);
		(void)n;
		return error;
	}
	case K_X_ENVUP:
		return decode_x_envup(svc, src, d, v);
	default:
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_INTERNAL, "unhandled compose key");
	}
}

/* the host path a container path of a bind mount comes from, or NULL */
static char *host_path_of(const envup_service *svc, const char *path)
{
	size_t i;

	for (i = 0; i < svc->nmounts; i++) {
		const envup_mount *m = &svc->mounts[i];
		size_t l = strlen(m->target);
		if (m->kind != ENVUP_MOUNT_BIND)
			continue;
		if (strcmp(path, m->target) == 0)
			return envup__strdup(m->source);
		if (strncmp(path, m->target, l) == 0 && path[l] == '/')
			return envup__sprintf("%s%s", m->source, path + l);
	}
	return NULL;
}

/* What the file says about a known image, over its template's defaults. */
static int known_image(envup_service *svc, envup_service_src *src, envup_decode *d)
{
	size_t i, j;

	if (strcmp(svc->template_name, "redis") == 0) {
		const char *pass = NULL;
		for (i = 0; svc->has_command && i + 1 < svc->command.n; i++)
			if (strcmp(svc->command.v[i], "--requirepass") == 0)
				pass = svc->command.v[i + 1];
		envup__free(svc->cred[ENVUP_CRED_PASSWORD].def);
		envup__free(svc->cred[ENVUP_CRED_PASSWORD].env);
		svc->cred[ENVUP_CRED_PASSWORD].def = NULL;
		svc->cred[ENVUP_CRED_PASSWORD].env = NULL;
		envup__free(svc->url);
		svc->url = NULL;
		if (pass && (svc->cred[ENVUP_CRED_PASSWORD].def = envup__strdup(pass)) == NULL)
			return ENVUP_ERROR;
		if ((svc->url = envup__strdup(pass ? "redis://default:{{password}}@{{host}}:{{port}}" :
		    "redis://{{host}}:{{port}}")) == NULL)
			return ENVUP_ERROR;
	}
	if (strcmp(svc->template_name, "mockserver") == 0) {
		/* MockServer would load this file itself, some time after it
		 * answers: envup loads it, so that ready means loaded */
		const char *p = envup_kvlist_get(&svc->env, "MOCKSERVER_INITIALIZATION_JSON_PATH");
		char *host;
		if (p && !strpbrk(p, "*?[") && (host = host_path_of(svc, p)) != NULL) {
			envup__free(svc->expectations);
			svc->expectations = host;
			src->key[ENVUP_SVC_EXPECTATIONS] = src->key[ENVUP_SVC_ENV];
			src->value[ENVUP_SVC_EXPECTATIONS] = src->value[ENVUP_SVC_ENV];
			envup_kvlist_unset(&svc->env, "MOCKSERVER_INITIALIZATION_JSON_PATH");
		}
	}
	/* a template's tmpfs never hides what the file mounts there */
	for (i = 0; i < svc->tmpfs.n;) {
		bool mounted = false;
		for (j = 0; j < svc->nmounts; j++)
			if (strcmp(svc->mounts[j].target, svc->tmpfs.v[i]) == 0)
				mounted = true;
		if (!mounted) {
			i++;
			continue;
		}
		envup__free(svc->tmpfs.v[i]);
		memmove(&svc->tmpfs.v[i], &svc->tmpfs.v[i + 1], (svc->tmpfs.n - i - 1) * sizeof(char *));
		svc->tmpfs.n--;
	}
	(void)d;
	return 0;
}

int envup_compose__service(envup_spec *spec, envup_service *svc, envup_service_src *src,
	envup_decode *d, envup_yaml_node *map, const envup_yaml_node *declared)
{
	envup_yaml_node *keys[K_COUNT], *vals[K_COUNT];
	bool failed = false;
	size_t i, mark;
	int error = 0;

	svc->compose = true;
	if (map->kind != ENVUP_YAML_MAP)
		return envup_decode__error(d, map->pos, "expected a mapping (a service needs an image)");
	memset(keys, 0, sizeof(keys));
	memset(vals, 0, sizeof(vals));
	for (i = 0; i + 1 < map->n; i += 2) {
		envup_yaml_node *k = map->items[i];
		size_t c, u;
		for (c = 0; c < K_COUNT && strcmp(ckey_names[c], k->text) != 0; c++)
			;
		if (c < K_COUNT) {
			keys[c] = k;
			vals[c] = map->items[i + 1];
			continue;
		}
		if (envup_decode__is_extension(k->text))
			continue;
		mark = envup_decode__push(d, k->text);
		for (u = 0; u < sizeof(unsupported) / sizeof(unsupported[0]) &&
		     strcmp(unsupported[u].key, k->text) != 0; u++)
			;
		if (u < sizeof(unsupported) / sizeof(unsupported[0]))
			error = envup_decode__error(d, k->pos, "not supported by envup (%s)",
				unsupported[u].why);
		else
			error = envup_decode__unknown_key(d, k, ckey_names);
		envup_decode__pop(d, mark);
		if ((error = envup_decode__go_on(error, &failed)) < 0)
			return error;
	}
	for (i = 0; i < K_COUNT; i++) {
		if (!keys[i])
			continue;
		mark = envup_decode__push(d, ckey_names[i]);
		error = decode_one(spec, svc, src, d, (ckey)i, keys[i], vals[i], declared);
		envup_decode__pop(d, mark);
		if ((error = envup_decode__go_on(error, &failed)) < 0)
			return error;
	}
	if (!keys[K_IMAGE] && !envup_yaml__get(map, "build", NULL)) {
		if ((error = envup_decode__error(d, src->name->pos, "a service needs an image")) < 0 &&
		    error != ENVUP_ESPEC)
			return error;
		failed = true;
	}
	if (failed)
		return ENVUP_ESPEC;
	/* a known image: its template's probe, URL and credentials */
	if (svc->image && known_template(svc->image)) {
		const char *t = known_template(svc->image);
		bool had_wait = src->has_wait && src->value[ENVUP_SVC_WAIT] != vals[K_HEALTHCHECK];
		if ((svc->template_name = envup__strdup(t)) == NULL)
			return ENVUP_ERROR;
		if (!had_wait) {
			/* the real protocol answers sooner and surer than the file's test */
			envup_wait__dispose(&svc->wait);
			src->has_wait = false;
			src->key[ENVUP_SVC_WAIT] = src->value[ENVUP_SVC_WAIT] = NULL;
		}
	}
	return 0;
}

int envup_compose__known(envup_service *svc, envup_service_src *src, envup_decode *d)
{
	if (!svc->template_name)
		return 0;
	return known_image(svc, src, d);
}

bool envup_compose__is_compose_key(const char *key)
{
	size_t i;

	for (i = 0; ckey_names[i]; i++)
		if (strcmp(ckey_names[i], key) == 0)
			return true;
	for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (strcmp(unsupported[i].key, key) == 0)
			return true;
	return false;
}

bool envup_compose__near_compose_key(const char *key)
{
	static const char *const envup_keys[] = {"template", "image", "env", "command",
		"entrypoint", "ports", "tmpfs", "wait", "depends_on", "init", "expectations", "export",
		NULL};
	return envup_decode__suggest(key, ckey_names) && !envup_decode__suggest(key, envup_keys);
}
