/*
 * The backend (backend.h) for Docker Swarm: each service of an environment
 * is a swarm service with one replica, restart condition none, endpoint
 * mode dnsrr and its ports published in host mode (engine-chosen unless
 * the spec fixes them), on an attachable overlay network of the
 * environment where it answers to its own name. The routing mesh is not
 * used: it needs IPVS, which not every kernel has.
 *
 * The container's life maps onto the service's newest task:
 *   create       builds the ServiceSpec and keeps it (nothing is sent);
 *   put_archive  turns each file of the tar (a Compose file's bind
 *                mounts) into a swarm config mounted at its path;
 *   start        creates the service and waits until its task runs (or
 *                starts its health check), naming the node and the
 *                scheduler's error when it is rejected or fails, or when
 *                no node can take it;
 *   inspect      reads the task: its state, exit code, ports, and the
 *                address of its node (ENVUP_HOST overrides it), where
 *                URLs, probes, init scripts and expectations go.
 * A Compose healthcheck becomes the service's own (swarm runs it on the
 * node; exec through a manager is not in the API), checked every second
 * with a start period as long as the up's timeout. Everything to find and
 * remove (list, removal by label, resources) is the Docker backend's,
 * which knows services and configs, so `down`, `gc` and the watchdog
 * work alike on both.
 *
 * Not here: snapshots (no image commit on a cluster: every start is
 * cold), bind mounts of host paths (copied as configs, at most 500 KB a
 * file), named volumes shared by services (a node's volume cannot follow
 * a service to another node; a volume used by one service is an
 * anonymous one of its task, removed with it), privileged services and
 * published ports bound to one address (host mode binds every address of
 * the node).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "provision/backend.h"
#include "provision/claim.h"
#include "provision/jsonx.h"
#include "provision/registry_auth.h"
#include "provision/swarm.h"

/* no node could take the task for this long: the scheduler's answer stands */
#define NO_NODE_GRACE_S 3.0
#define SERVICE_REMOVE_WAIT_S 30.0
#define HEALTH_INTERVAL_NS 1000000000LL
#define CONFIGS_PER_SERVICE_MAX (1024 * 1024)

typedef struct svc {
	char *name;          /* the service's name: the id handed out */
	cJSON *spec;         /* ServiceSpec until start, then NULL */
	char *auth;          /* X-Registry-Auth header line, or NULL */
	bool has_health;     /* it has a health check: "starting" is not ready */
	size_t nconfigs;
	char *node_id;       /* cached with the node's address and name */
	char *node_addr;
	char *node_name;
	struct svc *next;
} svc;

typedef struct {
	envup_backend base;
	envup_backend *docker;   /* the same engine, for listing and removal */
	envup_engine *e;         /* borrowed from docker */
	pthread_mutex_t lock;    /* guards svcs, digests */
	svc *svcs;
	envup_kvlist digests;    /* image -> image@sha256:... */
	const char *host;        /* ENVUP_HOST, or NULL */
} swarm_backend;

static swarm_backend *sw(const envup_backend *b)
{
	return (swarm_backend *)b;
}

static void svc_free(svc *s)
{
	envup__free(s->name);
	cJSON_Delete(s->spec);
	envup__free(s->auth);
	envup__free(s->node_id);
	envup__free(s->node_addr);
	envup__free(s->node_name);
	envup__free(s);
}

static void swarm_free(envup_backend *b)
{
	swarm_backend *s = sw(b);
	svc *v = s->svcs, *next;

	for (; v; v = next) {
		next = v->next;
		svc_free(v);
	}
	envup_kvlist_dispose(&s->digests);
	pthread_mutex_destroy(&s->lock);
	envup_backend_free(s->docker);
	envup__free(s);
}

/* Under the lock. */
static svc *svc_find(swarm_backend *s, const char *name)
{
	svc *v;
	for (v = s->svcs; v; v = v->next)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/* Where ports are reached when a service's node is not known: each
 * service's own is its node's address (inspect's port_host). */
static const char *swarm_port_host(const envup_backend *b)
{
	return sw(b)->host ? sw(b)->host : sw(b)->docker->ops->port_host(sw(b)->docker);
}

static const char *swarm_bind_ip(const envup_backend *b)
{
	(void)b;
	return "0.0.0.0";  /* host mode publishes on every address of the node */
}

/* Every node pulls for itself: the manager only looks the image up in its
 * registry, to pin its digest, so that all nodes run the same image. A
 * registry the manager cannot reach may still be one the nodes reach:
 * then each node pulls the tag, and a node that cannot says so in its
 * task's error. */
static int swarm_ensure_image(envup_backend *b, const char *image, envup_image_progress_cb cb,
	void *payload)
{
	swarm_backend *s = sw(b);
	envup_registry_login login = {NULL, NULL, NULL};
	char *digest = NULL, *pinned = NULL;
	int error;

	if (strstr(image, "@sha256:"))
		return 0;
	if ((error = envup_registry_login_find(&login, image)) < 0)
		return error;
	if ((error = envup_swarm_image_digest(&digest, s->e, image, login.header)) == 0) {
		if ((pinned = envup__sprintf("%s@%s", image, digest)) == NULL) {
			error = ENVUP_ERROR;
			goto done;
		}
		pthread_mutex_lock(&s->lock);
		error = envup_kvlist_set(&s->digests, image, pinned);
		pthread_mutex_unlock(&s->lock);
		{
			char *d = envup__sprintf("%.19s...: the nodes pull this digest", digest);
			if (cb && d)
				cb(image, d, payload);
			envup__free(d);
		}
	} else {
		if (error == ENVUP_ECANCELLED || error == ENVUP_ETIMEOUT)
			goto done;
		if (cb)
			cb(image, "not found by the manager's registry lookup: each node pulls it", payload);
		envup_error_clear();
		error = 0;
	}
done:
	envup__free(digest);
	envup__free(pinned);
	envup_registry_login_dispose(&login);
	return error;
}

#define SWARM_NAME_MAX 63
static void swarm_name(char out[SWARM_NAME_MAX + 1], const char *base, const char *suffix);

/* An overlay network's name is a DNS label too (swarm_name). */
static int swarm_claim_network(char **id_out, envup_backend *b, const char *name,
	const envup_identity *self, const envup_kvlist *labels)
{
	char net[SWARM_NAME_MAX + 1];
	swarm_name(net, name, NULL);
	return envup_claim_network_with(id_out, sw(b)->e, net, "overlay", self, labels);
}

static bool swarm_sees_host_files(const envup_backend *b)
{
	(void)b;
	return false;
}

/* ---- names ------------------------------------------------------------------ */

/*
 * A swarm object's name from envup's: a service's name is a DNS label
 * (letters, digits, '-' and '_' between them, at most 63), envup's may
 * have '.' and be longer. Other characters become '-'; a name too long
 * keeps its first 54 characters and 8 of its SHA-256, so that two long
 * names stay apart. Labels keep the real names.
 */
static void swarm_name(char out[SWARM_NAME_MAX + 1], const char *base, const char *suffix)
{
	char full[512], hex[65];
	size_t n, i;

	snprintf(full, sizeof(full), "%s%s", base, suffix ? suffix : "");
	for (i = 0; full[i]; i++) {
		char c = full[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_'))
			full[i] = '-';
	}
	n = strlen(full);
	while (n && (full[n - 1] == '-' || full[n - 1] == '_'))
		full[--n] = '\0';
	if (n <= SWARM_NAME_MAX) {
		memcpy(out, full, n + 1);
		return;
	}
	envup_sha256_hex(hex, full, n);
	snprintf(out, SWARM_NAME_MAX + 1, "%.54s-%.8s", full, hex);
}

/* ---- the ServiceSpec ----------------------------------------------------- */

static bool add_str_array(cJSON *obj, const char *key, const envup_strlist *l)
{
	cJSON *a;
	size_t i;
	if (!l)
		return true;
	if ((a = cJSON_AddArrayToObject(obj, key)) == NULL)
		return false;
	for (i = 0; i < l->n; i++) {
		cJSON *v = cJSON_CreateString(l->v[i]);
		if (!v || !cJSON_AddItemToArray(a, v)) {
			cJSON_Delete(v);
			return false;
		}
	}
	return true;
}

static bool add_map(cJSON *obj, const char *key, const envup_kvlist *l)
{
	cJSON *m = cJSON_AddObjectToObject(obj, key);
	size_t i;
	if (!m)
		return false;
	for (i = 0; l && i < l->n; i++)
		if (!cJSON_AddStringToObject(m, l->v[i].key, l->v[i].value))
			return false;
	return true;
}

/* seconds as a Go time.Duration: whole nanoseconds */
static double ns(double seconds)
{
	return (double)(long long)(seconds * 1e9);
}

static int unsupported(const envup_container_config *cfg, const char *what)
{
	return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
		"%s: %s is not supported on a swarm (--backend swarm)", cfg->name, what);
}

static int add_runtime(cJSON *cs, const envup_container_config *cfg)
{
	const envup_runtime *rt = cfg->rt;
	size_t i;

	if (!rt)
		return 0;
	if (rt->privileged)
		return unsupported(cfg, "privileged");
	if ((rt->working_dir && !cJSON_AddStringToObject(cs, "Dir", rt->working_dir)) ||
	    (rt->user && !cJSON_AddStringToObject(cs, "User", rt->user)) ||
	    (rt->hostname && !cJSON_AddStringToObject(cs, "Hostname", rt->hostname)) ||
	    (rt->has_init && !cJSON_AddBoolToObject(cs, "Init", rt->init)) ||
	    (rt->stop_signal && !cJSON_AddStringToObject(cs, "StopSignal", rt->stop_signal)) ||
	    (rt->has_stop_timeout && !cJSON_AddNumberToObject(cs, "StopGracePeriod",
	        ns(rt->stop_timeout))) ||
	    (rt->cap_add.n && !add_str_array(cs, "CapabilityAdd", &rt->cap_add)) ||
	    (rt->cap_drop.n && !add_str_array(cs, "CapabilityDrop", &rt->cap_drop)) ||
	    (rt->labels.n && !add_map(cs, "Labels", &rt->labels)))
		return envup_error_set_oom();
	if (rt->extra_hosts.n) {
		/* Compose's "host:ip"; a swarm's /etc/hosts lines are "ip host" */
		cJSON *h = cJSON_AddArrayToObject(cs, "Hosts");
		if (!h)
			return envup_error_set_oom();
		for (i = 0; i < rt->extra_hosts.n; i++) {
			const char *e = rt->extra_hosts.v[i], *colon = strchr(e, ':');
			char *line = colon ? envup__sprintf("%s %.*s", colon + 1, (int)(colon - e), e) : NULL;
			cJSON *v = line ? cJSON_CreateString(line) : NULL;
			envup__free(line);
			if (!v || !cJSON_AddItemToArray(h, v)) {
				cJSON_Delete(v);
				return envup_error_set_oom();
			}
		}
	}
	if (rt->ulimits.n) {
		cJSON *u = cJSON_AddArrayToObject(cs, "Ulimits");
		if (!u)
			return envup_error_set_oom();
		for (i = 0; i < rt->ulimits.n; i++) {
			const char *v = rt->ulimits.v[i].value, *colon = strchr(v, ':');
			long long soft = strtoll(v, NULL, 10), hard = colon ? strtoll(colon + 1, NULL, 10) : soft;
			cJSON *o = cJSON_CreateObject();
			if (!o || !cJSON_AddItemToArray(u, o) ||
			    !cJSON_AddStringToObject(o, "Name", rt->ulimits.v[i].key) ||
			    !cJSON_AddNumberToObject(o, "Soft", (double)soft) ||
			    !cJSON_AddNumberToObject(o, "Hard", (double)hard))
				return envup_error_set_oom();
		}
	}
	return 0;
}

static int add_mounts(cJSON *cs, const envup_container_config *cfg)
{
	cJSON *m = cJSON_AddArrayToObject(cs, "Mounts");
	size_t i;

	if (!m)
		return envup_error_set_oom();
	for (i = 0; cfg->tmpfs && i < cfg->tmpfs->n; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(m, o) || !cJSON_AddStringToObject(o, "Type", "tmpfs") ||
		    !cJSON_AddStringToObject(o, "Target", cfg->tmpfs->v[i]))
			return envup_error_set_oom();
	}
	for (i = 0; i < cfg->nmounts; i++) {
		const envup_mount *mt = &cfg->mounts[i];
		cJSON *o;
		if (mt->kind == ENVUP_MOUNT_BIND)
			return unsupported(cfg, "a bind mount of a host path");
		o = cJSON_CreateObject();
		/* a volume: an anonymous one of the task (removed with it) */
		if (!o || !cJSON_AddItemToArray(m, o) ||
		    !cJSON_AddStringToObject(o, "Type", mt->kind == ENVUP_MOUNT_TMPFS ? "tmpfs" : "volume") ||
		    !cJSON_AddStringToObject(o, "Target", mt->target) ||
		    (mt->read_only && !cJSON_AddTrueToObject(o, "ReadOnly")))
			return envup_error_set_oom();
	}
	if (cfg->rt && cfg->rt->shm_size > 0) {
		cJSON *o = cJSON_CreateObject(), *t;
		if (!o || !cJSON_AddItemToArray(m, o) || !cJSON_AddStringToObject(o, "Type", "tmpfs") ||
		    !cJSON_AddStringToObject(o, "Target", "/dev/shm") ||
		    (t = cJSON_AddObjectToObject(o, "TmpfsOptions")) == NULL ||
		    !cJSON_AddNumberToObject(t, "SizeBytes", (double)cfg->rt->shm_size))
			return envup_error_set_oom();
	}
	return 0;
}

static int add_health(cJSON *cs, const envup_container_config *cfg, double start_period)
{
	cJSON *h, *test;
	size_t i;

	if (!cfg->healthcheck || !cfg->healthcheck->n)
		return 0;
	if ((h = cJSON_AddObjectToObject(cs, "Healthcheck")) == NULL ||
	    (test = cJSON_AddArrayToObject(h, "Test")) == NULL ||
	    !cJSON_AddItemToArray(test, cJSON_CreateString("CMD")))
		return envup_error_set_oom();
	for (i = 0; i < cfg->healthcheck->n; i++)
		if (!cJSON_AddItemToArray(test, cJSON_CreateString(cfg->healthcheck->v[i])))
			return envup_error_set_oom();
	if (start_period < 1)
		start_period = 1;
	if (!cJSON_AddNumberToObject(h, "Interval", (double)HEALTH_INTERVAL_NS) ||
	    !cJSON_AddNumberToObject(h, "Timeout",
	        ns(cfg->healthcheck_timeout > 0 ? cfg->healthcheck_timeout : 30.0)) ||
	    !cJSON_AddNumberToObject(h, "Retries", 3) ||
	    !cJSON_AddNumberToObject(h, "StartPeriod", ns(start_period)))
		return envup_error_set_oom();
	return 0;
}

static int add_endpoint(cJSON *spec, const envup_container_config *cfg)
{
	cJSON *ep = cJSON_AddObjectToObject(spec, "EndpointSpec"), *ports;
	size_t i;

	if (!ep || !cJSON_AddStringToObject(ep, "Mode", "dnsrr") ||
	    (ports = cJSON_AddArrayToObject(ep, "Ports")) == NULL)
		return envup_error_set_oom();
	for (i = 0; i < cfg->nports; i++) {
		cJSON *p = cJSON_CreateObject();
		if (cfg->binds && cfg->binds[i].ip && strcmp(cfg->binds[i].ip, "0.0.0.0") != 0 &&
		    strcmp(cfg->binds[i].ip, "::") != 0) {
			cJSON_Delete(p);
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
				"%s: port %d is bound to %s; a swarm publishes a port on every address "
				"of the node that runs it (--backend swarm)", cfg->name, cfg->ports[i],
				cfg->binds[i].ip);
		}
		if (!p || !cJSON_AddItemToArray(ports, p) ||
		    !cJSON_AddStringToObject(p, "Protocol", "tcp") ||
		    !cJSON_AddNumberToObject(p, "TargetPort", cfg->ports[i]) ||
		    !cJSON_AddStringToObject(p, "PublishMode", "host") ||
		    (cfg->binds && cfg->binds[i].host > 0 &&
		     !cJSON_AddNumberToObject(p, "PublishedPort", cfg->binds[i].host)))
			return envup_error_set_oom();
	}
	return 0;
}

static int build_spec(cJSON **out, swarm_backend *s, const envup_container_config *cfg,
	const char *name)
{
	cJSON *spec = cJSON_CreateObject(), *tt, *cs, *o, *nets, *net;
	const char *image;
	double left = envup_engine_deadline(s->e) > 0 ? envup_engine_deadline(s->e) - envup_now() : 300;
	int error;
	size_t i;

	*out = NULL;
	pthread_mutex_lock(&s->lock);
	image = envup_kvlist_get(&s->digests, cfg->image);
	image = image ? image : cfg->image;
	cs = NULL;
	if (!spec || !cJSON_AddStringToObject(spec, "Name", name) ||
	    !add_map(spec, "Labels", cfg->labels) ||
	    (tt = cJSON_AddObjectToObject(spec, "TaskTemplate")) == NULL ||
	    (cs = cJSON_AddObjectToObject(tt, "ContainerSpec")) == NULL ||
	    !cJSON_AddStringToObject(cs, "Image", image)) {
		pthread_mutex_unlock(&s->lock);
		error = envup_error_set_oom();
		goto done;
	}
	pthread_mutex_unlock(&s->lock);
	if ((cfg->entrypoint && !add_str_array(cs, "Command", cfg->entrypoint)) ||
	    (cfg->cmd && !add_str_array(cs, "Args", cfg->cmd)))
		goto oom;
	if (cfg->env) {
		cJSON *env = cJSON_AddArrayToObject(cs, "Env");
		if (!env)
			goto oom;
		for (i = 0; i < cfg->env->n; i++) {
			char *kv = envup__sprintf("%s=%s", cfg->env->v[i].key, cfg->env->v[i].value);
			cJSON *v = kv ? cJSON_CreateString(kv) : NULL;
			envup__free(kv);
			if (!v || !cJSON_AddItemToArray(env, v)) {
				cJSON_Delete(v);
				goto oom;
			}
		}
	}
	if ((error = add_runtime(cs, cfg)) < 0 || (error = add_mounts(cs, cfg)) < 0 ||
	    (error = add_health(cs, cfg, left)) < 0 || (error = add_endpoint(spec, cfg)) < 0)
		goto done;
	if (!cJSON_AddArrayToObject(cs, "Configs") ||
	    (o = cJSON_AddObjectToObject(tt, "RestartPolicy")) == NULL ||
	    !cJSON_AddStringToObject(o, "Condition", "none") ||
	    (o = cJSON_AddObjectToObject(spec, "Mode")) == NULL ||
	    (o = cJSON_AddObjectToObject(o, "Replicated")) == NULL ||
	    !cJSON_AddNumberToObject(o, "Replicas", 1))
		goto oom;
	if (cfg->network) {
		if ((nets = cJSON_AddArrayToObject(tt, "Networks")) == NULL ||
		    (net = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(nets, net) ||
		    !cJSON_AddStringToObject(net, "Target", cfg->network))
			goto oom;
		if (cfg->alias) {
			envup_strlist a = ENVUP_STRLIST_INIT;
			bool ok = envup_strlist_push(&a, cfg->alias) == 0 && add_str_array(net, "Aliases", &a);
			envup_strlist_dispose(&a);
			if (!ok)
				goto oom;
		}
	}
	*out = spec;
	spec = NULL;
	error = 0;
	goto done;
oom:
	error = envup_error_set_oom();
done:
	cJSON_Delete(spec);
	return error;
}

static int swarm_create(char **id_out, envup_backend *b, const envup_container_config *cfg)
{
	swarm_backend *s = sw(b);
	envup_registry_login login = {NULL, NULL, NULL};
	svc *v = NULL;
	char name[SWARM_NAME_MAX + 1];
	int error;

	*id_out = NULL;
	swarm_name(name, cfg->name, NULL);
	if ((v = envup__calloc(1, sizeof(*v))) == NULL || (v->name = envup__strdup(name)) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	if ((error = build_spec(&v->spec, s, cfg, name)) < 0 ||
	    (error = envup_registry_login_find(&login, cfg->image)) < 0)
		goto done;
	if (login.header && (v->auth = envup__strdup(login.header)) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	v->has_health = (cfg->healthcheck && cfg->healthcheck->n) || cfg->image_health;
	if ((*id_out = envup__strdup(name)) == NULL) {
		error = ENVUP_ERROR;
		goto done;
	}
	pthread_mutex_lock(&s->lock);
	if (svc_find(s, name)) {
		pthread_mutex_unlock(&s->lock);
		envup__free(*id_out);
		*id_out = NULL;
		error = envup_error_set(ENVUP_EEXISTS, ENVUP_ERROR_DOCKER, "swarm service %s is already made",
			name);
		goto done;
	}
	v->next = s->svcs;
	s->svcs = v;
	v = NULL;
	pthread_mutex_unlock(&s->lock);
done:
	envup_registry_login_dispose(&login);
	if (v)
		svc_free(v);
	return error;
}

/* ---- files: a tar into configs --------------------------------------------- */

typedef struct {
	swarm_backend *s;
	svc *v;
	const char *base;     /* the put_archive path */
	envup_kvlist labels;  /* the service's */
	cJSON *configs;       /* ContainerSpec.Configs */
	size_t total;         /* bytes so far */
} put_ctx;

static int put_member(const envup_tar_member *m, void *payload)
{
	put_ctx *p = payload;
	char name[SWARM_NAME_MAX + 1], suffix[32], *target = NULL, *id = NULL, mode[16];
	cJSON *c = NULL, *f;
	int error = ENVUP_ERROR;

	if (m->type == '5')
		return 0;  /* a config's directories are made for it */
	/* a swarm config cannot be empty: an empty file (a .gitkeep) is not
	 * copied (README) */
	if (m->type == '0' && m->size == 0)
		return 0;
	if (m->type != '0')
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"%s: /%s is a symbolic link; a swarm gets copies of files only (--backend swarm)",
			p->v->name, m->name);
	if (m->size >= ENVUP_SWARM_CONFIG_MAX)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"%s: /%s is %zu bytes; a swarm config holds less than %d KB (--backend swarm)",
			p->v->name, m->name, m->size, ENVUP_SWARM_CONFIG_MAX / 1024);
	/* every config's data comes back in each listing of them, which has
	 * to stay well under the engine answers' cap */
	if ((p->total += m->size) > CONFIGS_PER_SERVICE_MAX)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"%s: its bind mounts hold more than %d KB of files; a swarm gets at most that "
			"much as configs per service (--backend swarm)", p->v->name, CONFIGS_PER_SERVICE_MAX / 1024);
	if (!m->name[0] || strcmp(m->name, "..") == 0 || strncmp(m->name, "../", 3) == 0 ||
	    strstr(m->name, "/../") || (strlen(m->name) >= 3 && strcmp(m->name + strlen(m->name) - 3, "/..") == 0))
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
			"%s: a file named '%s' cannot be copied", p->v->name, m->name);
	snprintf(suffix, sizeof(suffix), "-file%zu", ++p->v->nconfigs);
	swarm_name(name, p->v->name, suffix);
	if ((target = envup__sprintf("%s%s%s", p->base, p->base[strlen(p->base) - 1] == '/' ? "" : "/",
	    m->name)) == NULL)
		goto done;
	if ((error = envup_swarm_config_create(&id, p->s->e, name, &p->labels, m->data, m->size)) < 0)
		goto done;
	error = ENVUP_ERROR;
	snprintf(mode, sizeof(mode), "%u", m->mode);
	if ((c = cJSON_CreateObject()) == NULL || (f = cJSON_AddObjectToObject(c, "File")) == NULL ||
	    !cJSON_AddStringToObject(f, "Name", target) || !cJSON_AddStringToObject(f, "UID", "0") ||
	    !cJSON_AddStringToObject(f, "GID", "0") ||
	    !cJSON_AddNumberToObject(f, "Mode", (double)(m->mode ? m->mode : 0444)) ||
	    !cJSON_AddStringToObject(c, "ConfigID", id) || !cJSON_AddStringToObject(c, "ConfigName", name) ||
	    !cJSON_AddItemToArray(p->configs, c)) {
		cJSON_Delete(c);
		error = envup_error_set_oom();
		goto done;
	}
	error = 0;
done:
	envup__free(target);
	envup__free(id);
	return error;
}

static int swarm_put_archive(envup_backend *b, const char *id, const char *path, const void *tar,
	size_t len)
{
	swarm_backend *s = sw(b);
	put_ctx p;
	int error;

	memset(&p, 0, sizeof(p));
	p.s = s;
	p.base = path;
	pthread_mutex_lock(&s->lock);
	p.v = svc_find(s, id);
	pthread_mutex_unlock(&s->lock);
	/* one thread per service: nothing else touches this one's spec now */
	if (!p.v || !p.v->spec)
		return envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_DOCKER,
			"swarm service %s: copy files before it starts", id);
	p.configs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(p.v->spec, "TaskTemplate"), "ContainerSpec"), "Configs");
	if (!p.configs)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "swarm service %s: no spec", id);
	if ((error = jsonx_labels(&p.labels, cJSON_GetObjectItemCaseSensitive(p.v->spec, "Labels"))) == 0)
		error = envup_tar_each(tar, len, put_member, &p);
	envup_kvlist_dispose(&p.labels);
	return error;
}

/* ---- start: the service, and its task until it runs --------------------------- */

static int cache_node(swarm_backend *s, svc *v, const char *node_id)
{
	envup_swarm_node n = ENVUP_SWARM_NODE_INIT;
	int error;

	pthread_mutex_lock(&s->lock);
	if (v->node_id && strcmp(v->node_id, node_id) == 0) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	pthread_mutex_unlock(&s->lock);
	if ((error = envup_swarm_node_get(&n, s->e, node_id)) < 0)
		return error;
	pthread_mutex_lock(&s->lock);
	envup__free(v->node_id);
	envup__free(v->node_addr);
	envup__free(v->node_name);
	v->node_id = envup__strdup(node_id);
	v->node_addr = n.addr;
	v->node_name = n.hostname;
	n.addr = n.hostname = NULL;
	error = v->node_id ? 0 : ENVUP_ERROR;
	pthread_mutex_unlock(&s->lock);
	envup_swarm_node_dispose(&n);
	return error;
}

/* "on node envupsw-n2" for messages (a task not yet placed: nothing) */
static void node_words(char *out, size_t len, swarm_backend *s, svc *v, const envup_swarm_task *t)
{
	out[0] = '\0';
	if (!t->node_id || cache_node(s, v, t->node_id) < 0) {
		envup_error_clear();
		if (t->node_id)
			snprintf(out, len, " on node %.12s", t->node_id);
		return;
	}
	pthread_mutex_lock(&s->lock);
	snprintf(out, len, " on node %s", v->node_name ? v->node_name : v->node_addr ? v->node_addr : "?");
	pthread_mutex_unlock(&s->lock);
}

static int task_failed(swarm_backend *s, svc *v, const envup_swarm_task *t)
{
	char where[160], what[1024];
	const char *why = t->err && *t->err ? t->err : t->message && *t->message ? t->message : "no reason given";

	node_words(where, sizeof(where), s, v, t);
	snprintf(what, sizeof(what), "%s", why);
	envup_printable_into(what, sizeof(what), what);
	if (strcmp(t->state, "complete") == 0)
		return envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH,
			"swarm task exited with code %d%s", t->exit_code, where);
	return envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH, "swarm task %s%s: %s",
		t->state, where, what);
}

static int swarm_start(envup_backend *b, const char *id)
{
	swarm_backend *s = sw(b);
	envup_swarm_task t = ENVUP_SWARM_TASK_INIT;
	double no_node_since = 0;
	cJSON *spec;
	svc *v;
	bool want_ports;
	int error;

	pthread_mutex_lock(&s->lock);
	v = svc_find(s, id);
	spec = v ? v->spec : NULL;
	if (v)
		v->spec = NULL;
	pthread_mutex_unlock(&s->lock);
	if (!spec)
		return envup_error_set(ENVUP_ENOTFOUND, ENVUP_ERROR_DOCKER,
			"swarm service %s was not made, or has started", id);
	want_ports = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(spec, "EndpointSpec"), "Ports")) > 0;
	error = envup_swarm_service_create(NULL, s->e, spec, v->auth);
	cJSON_Delete(spec);
	if (error < 0)
		return error;
	for (;; envup_sleep_ms(100)) {
		envup_swarm_task_dispose(&t);
		if ((error = envup_engine_check_interrupt(s->e)) < 0)
			break;
		if ((error = envup_swarm_task_latest(&t, s->e, id)) < 0) {
			if (error != ENVUP_ENOTFOUND)
				break;
			envup_error_clear();
			continue;
		}
		/* a one-shot service may have run to its end between two looks:
		 * started; readiness judges its exit code */
		if (strcmp(t.state, "complete") == 0) {
			error = t.node_id ? cache_node(s, v, t.node_id) : 0;
			break;
		}
		if (envup_swarm_state_final(t.state)) {
			error = task_failed(s, v, &t);
			break;
		}
		if (strcmp(t.state, "pending") == 0 && t.err && strstr(t.err, "no suitable node")) {
			/* the scheduler looked at every node; give nodes just joining a moment */
			if (!no_node_since)
				no_node_since = envup_now();
			if (envup_now() - no_node_since >= NO_NODE_GRACE_S) {
				char what[1024];
				snprintf(what, sizeof(what), "%s", t.err);
				envup_printable_into(what, sizeof(what), what);
				error = envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH,
					"the swarm has no node for it: %s", what);
				break;
			}
			continue;
		}
		no_node_since = 0;
		if ((strcmp(t.state, "running") == 0 || strcmp(t.state, "starting") == 0) &&
		    (!want_ports || t.ports.n) && t.node_id) {
			error = cache_node(s, v, t.node_id);
			break;
		}
	}
	envup_swarm_task_dispose(&t);
	return error;
}

/* ---- inspect: the task, as a container ---------------------------------------- */

static int swarm_inspect(envup_container_info *out, envup_backend *b, const char *id)
{
	swarm_backend *s = sw(b);
	envup_swarm_task t = ENVUP_SWARM_TASK_INIT;
	svc *v;
	bool running, has_health;
	int error;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	v = svc_find(s, id);
	has_health = v && v->has_health;
	pthread_mutex_unlock(&s->lock);
	if ((error = envup_swarm_task_latest(&t, s->e, id)) < 0)
		return error;
	running = !envup_swarm_state_final(t.state);
	error = ENVUP_ERROR;
	if ((out->id = envup__strdup(id)) == NULL || (out->name = envup__strdup(id)) == NULL ||
	    (out->status = envup__strdup(running ? "running" : "exited")) == NULL ||
	    (t.created && (out->created = envup__strdup(t.created)) == NULL) ||
	    (t.timestamp && (out->started_at = envup__strdup(t.timestamp)) == NULL))
		goto done;
	out->running = running;
	out->exit_code = t.exit_code < 0 ? 0 : t.exit_code;
	if (!running && strcmp(t.state, "complete") != 0) {
		char where[160], *msg;
		if (v)
			node_words(where, sizeof(where), s, v, &t);
		else
			snprintf(where, sizeof(where), "%s%.12s", t.node_id ? " on node " : "",
				t.node_id ? t.node_id : "");
		msg = envup__sprintf("task %s%s: %s", t.state, where,
			t.err && *t.err ? t.err : t.message ? t.message : "");
		if (!msg)
			goto done;
		envup_printable_into(msg, strlen(msg) + 1, msg);
		out->error = msg;
		if (out->exit_code == 0)
			out->exit_code = -1;
	}
	/* with a health check a task runs only once healthy: one seen starting
	 * has one (the image's, which the manager cannot read) */
	if (!has_health && v && strcmp(t.state, "starting") == 0) {
		pthread_mutex_lock(&s->lock);
		v->has_health = has_health = true;
		pthread_mutex_unlock(&s->lock);
	}
	if (has_health || strcmp(t.state, "starting") == 0) {
		if ((out->health = envup__strdup(strcmp(t.state, "running") == 0 ? "healthy" :
		    running ? "starting" : "unhealthy")) == NULL)
			goto done;
		if (!running && t.err && (out->health_output = envup__strdup(t.err)) == NULL)
			goto done;
	}
	{
		size_t i;
		for (i = 0; i < t.ports.n; i++)
			if (envup_kvlist_set(&out->ports, t.ports.v[i].key, t.ports.v[i].value) < 0)
				goto done;
	}
	if (t.node_id && v && cache_node(s, v, t.node_id) < 0)
		goto done;
	pthread_mutex_lock(&s->lock);
	{
		const char *host = s->host ? s->host : v ? v->node_addr : NULL;
		bool ok = (!host || (out->port_host = envup__strdup(host)) != NULL) &&
			(!v || !v->node_name || (out->node = envup__strdup(v->node_name)) != NULL);
		pthread_mutex_unlock(&s->lock);
		if (!ok)
			goto done;
	}
	error = 0;
done:
	if (error < 0)
		envup_container_info_dispose(out);
	envup_swarm_task_dispose(&t);
	return error;
}

/*
 * Following: a service's log stream does not end when its task does, so
 * the logs are read again every LOG_POLL_MS, each time from the start,
 * and only what is new goes to `cb` (logs only grow); after the read that
 * follows the task's end, the follow ends, as a container's does.
 */
#define LOG_POLL_MS 250

typedef struct {
	size_t seen;        /* bytes of this read so far */
	size_t fed;         /* bytes already given to cb (of every read) */
	envup_log_cb cb;
	void *payload;
	int stopped;        /* cb said stop (> 0) */
} log_poll;

static int log_poll_data(const char *data, size_t len, void *payload)
{
	log_poll *p = payload;
	size_t start = p->seen, end = p->seen + len;
	int rc = 0;

	p->seen = end;
	if (end <= p->fed)
		return 0;
	if (start < p->fed) {
		data += p->fed - start;
		len -= p->fed - start;
	}
	p->fed = end;
	if ((rc = p->cb(data, len, p->payload)) > 0)
		p->stopped = 1;
	return rc;
}

static int swarm_logs(envup_backend *b, const char *id, int tail, bool follow, envup_log_cb cb,
	void *payload)
{
	swarm_backend *s = sw(b);
	log_poll p;
	bool last = false;
	int error;

	/* (a tail moves as the log grows: that one streams, as `envup logs -f`) */
	if (!follow || tail >= 0)
		return envup_swarm_service_logs(s->e, id, tail, follow, cb, payload);
	memset(&p, 0, sizeof(p));
	p.cb = cb;
	p.payload = payload;
	for (;;) {
		envup_swarm_task t = ENVUP_SWARM_TASK_INIT;
		p.seen = 0;
		if ((error = envup_swarm_service_logs(s->e, id, tail, false, log_poll_data, &p)) < 0 ||
		    p.stopped || last)
			return error;
		if ((error = envup_engine_check_interrupt(s->e)) < 0)
			return error;
		if (envup_swarm_task_latest(&t, s->e, id) == 0)
			last = envup_swarm_state_final(t.state);
		else
			envup_error_clear();
		envup_swarm_task_dispose(&t);
		if (!last)
			envup_sleep_ms(LOG_POLL_MS);
	}
}

/* Listing and removal are the Docker backend's: it knows services. */

static int swarm_list(envup_container_summary **out, size_t *count, envup_backend *b,
	const envup_strlist *labels)
{
	return sw(b)->docker->ops->list(out, count, sw(b)->docker, labels);
}

static int swarm_remove_by_labels(envup_cleanup_report *report, envup_backend *b,
	const envup_strlist *labels, envup_cleanup_cb cb, void *payload)
{
	return sw(b)->docker->ops->remove_by_labels(report, sw(b)->docker, labels, cb, payload);
}

static int swarm_resources(envup_resource **out, size_t *count, envup_backend *b,
	const envup_strlist *labels)
{
	return sw(b)->docker->ops->resources(out, count, sw(b)->docker, labels);
}

/* A "container" this backend handed out is a service; anything else (the
 * Docker backend's resources say "service" for services) is the Docker
 * backend's. */
static int swarm_remove_resource(envup_backend *b, const envup_resource *r)
{
	swarm_backend *s = sw(b);
	bool ours;

	pthread_mutex_lock(&s->lock);
	ours = strcmp(r->kind, "container") == 0 && svc_find(s, r->id) != NULL;
	pthread_mutex_unlock(&s->lock);
	if (ours)
		return envup_swarm_service_remove(s->e, r->id, SERVICE_REMOVE_WAIT_S);
	return s->docker->ops->remove_resource(s->docker, r);
}

static void swarm_set_deadline(envup_backend *b, double deadline)
{
	sw(b)->docker->ops->set_deadline(sw(b)->docker, deadline);
}

/* Every service the swarm cannot run as written, in one message. */
static int swarm_check_spec(const envup_backend *b, const envup_spec *spec)
{
	envup_buf msg = ENVUP_BUF_INIT;
	size_t i, j, n = 0;
	int error = 0;

	(void)b;
	for (i = 0; i < spec->nservices && error == 0; i++) {
		const envup_service *sv = &spec->services[i];
		char where[600];
		if (sv->pos.line > 0)
			snprintf(where, sizeof(where), "%s:%d:%d: services.%s", spec->path, sv->pos.line,
				sv->pos.col, sv->name);
		else
			snprintf(where, sizeof(where), "%s: services.%s", spec->path, sv->name);
		if (sv->compose && sv->rt.privileged && ++n)
			error = envup_buf_printf(&msg, "%s%s: privileged is not supported on a swarm",
				msg.size ? "; " : "", where);
		for (j = 0; sv->binds && j < sv->nports && error == 0; j++) {
			const char *ip = sv->binds[j].ip;
			if (ip && strcmp(ip, "0.0.0.0") != 0 && strcmp(ip, "::") != 0 && ++n)
				error = envup_buf_printf(&msg, "%s%s: port %d is bound to %s; a swarm publishes "
					"a port on every address of its node", msg.size ? "; " : "", where,
					sv->ports[j], ip);
		}
	}
	if (error == 0 && n)
		error = envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s (--backend swarm)",
			envup_buf_cstr(&msg));
	envup_buf_dispose(&msg);
	return error;
}

static const envup_backend_ops swarm_ops = {
	"swarm",
	swarm_free,
	swarm_port_host,
	swarm_bind_ip,
	swarm_ensure_image,
	swarm_claim_network,
	NULL,               /* create_volume: a volume is the task's own (anonymous) */
	swarm_create,
	swarm_sees_host_files,
	swarm_put_archive,
	swarm_start,
	swarm_inspect,
	NULL,               /* exec: not through a manager */
	swarm_logs,
	swarm_list,
	swarm_remove_by_labels,
	swarm_resources,
	swarm_remove_resource,
	swarm_set_deadline,
	NULL, NULL, NULL, NULL, NULL,   /* no snapshot images: cold starts */
	swarm_check_spec,
};

int envup_backend_swarm_open(envup_backend **out, const envup_backend_options *o)
{
	swarm_backend *s;
	const char *host = getenv("ENVUP_HOST");
	int error;

	*out = NULL;
	if ((s = envup__calloc(1, sizeof(*s))) == NULL)
		return ENVUP_ERROR;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		envup__free(s);
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "pthread_mutex_init");
	}
	s->base.ops = &swarm_ops;
	s->host = host && *host ? host : NULL;
	if ((error = envup_backend_docker_open(&s->docker, o)) < 0) {
		swarm_free(&s->base);
		return error;
	}
	s->e = envup_backend_docker_engine(s->docker);
	if ((error = envup_swarm_check_manager(s->e)) < 0) {
		swarm_free(&s->base);
		return error;
	}
	*out = &s->base;
	return 0;
}
