/*
 * Docker Swarm's API as envup uses it: the manager check, services, their
 * tasks, nodes and configs. The Swarm backend (backend_swarm.c) is built
 * on it, and removal by label (cleanup.c) and the listings of `ls`,
 * `status` and `gc` (backend_docker.c) use the lookups, so that what a
 * swarm runs for envup is found and removed like its containers.
 *
 * Everything read here comes from the engine and is input: labels are
 * re-checked after every filtered list, strings are copied, never trusted
 * as structure.
 *
 * Ownership: out-parameters are caller-owned and freed with the matching
 * *_free / *_dispose function; ids through char ** are malloc'd.
 */
#ifndef ENVUP_PROVISION_SWARM_H
#define ENVUP_PROVISION_SWARM_H

#include "provision/engine.h"
#include "provision/container.h"

struct cJSON;

/** Swarm configs hold at most this much (swarmkit's MaxConfigSize). */
#define ENVUP_SWARM_CONFIG_MAX (500 * 1024)

/**
 * Whether the engine is an active swarm manager (GET /info). 0 when it
 * is; ENVUP_ESPEC with a sentence naming the engine and its state when it
 * is not (a worker, not in a swarm, locked); an engine error.
 */
int envup_swarm_check_manager(envup_engine *e);

/** A service or a config, as listed. */
typedef struct {
	char *id;
	char *name;
	char *image;           /* a service's ContainerSpec.Image, or NULL */
	long long created;     /* unix seconds, 0 unknown */
	envup_kvlist labels;
} envup_swarm_object;

/**
 * Services ("services") or configs ("configs") carrying every label
 * ("k=v" or "k"). An engine that is not a swarm manager has none: that is
 * not an error (a local engine's listings ask every engine).
 */
int envup_swarm_find(envup_swarm_object **out, size_t *count, envup_engine *e,
	const char *collection, const envup_strlist *labels);
void envup_swarm_objects_free(envup_swarm_object *v, size_t n);

/**
 * Create a service from a ServiceSpec. `auth` is an "X-Registry-Auth: ..."
 * header line for every node's pull (registry_auth.h), or NULL. 409 (the name is taken) is ENVUP_EEXISTS.
 */
int envup_swarm_service_create(char **id_out, envup_engine *e, const struct cJSON *spec,
	const char *auth);

/**
 * Remove a service (404 counts as removed), then wait, within the
 * engine's deadline and at most `wait_s` seconds, until no task of it is
 * left, so that its network can go next. A task still there after that
 * is not an error: the network's removal retries.
 */
int envup_swarm_service_remove(envup_engine *e, const char *id, double wait_s);
/** The two halves: remove (404 counts as removed), and wait for the tasks
 *  of services `ids` to go, as above. */
int envup_swarm_service_delete(envup_engine *e, const char *id);
int envup_swarm_tasks_wait_gone(envup_engine *e, const char *const *ids, size_t n, double wait_s);

/** Create a config (the data is copied). 409 is ENVUP_EEXISTS. */
int envup_swarm_config_create(char **id_out, envup_engine *e, const char *name,
	const envup_kvlist *labels, const void *data, size_t len);
/** Remove a config; 404 counts as removed; "in use" is retried for a moment. */
int envup_swarm_config_remove(envup_engine *e, const char *id);

/** The newest task of a service. */
typedef struct {
	char *id;
	char *node_id;         /* NULL until assigned */
	char *state;           /* new .. running, complete, failed, rejected, ... */
	char *desired;         /* running, shutdown, remove */
	char *message;         /* Status.Message */
	char *err;             /* Status.Err, or NULL */
	char *timestamp;       /* Status.Timestamp, RFC 3339 */
	char *created;         /* CreatedAt */
	int exit_code;
	envup_kvlist ports;    /* "6379/tcp" -> "30001" (host mode; each once) */
} envup_swarm_task;

#define ENVUP_SWARM_TASK_INIT {0}

/**
 * The newest task of service `service` (id or name): the highest
 * CreatedAt, of any state. ENVUP_ENOTFOUND when it has none (yet).
 */
int envup_swarm_task_latest(envup_swarm_task *out, envup_engine *e, const char *service);
/** The number of tasks of a service in any state but gone. */
int envup_swarm_task_count(size_t *n, envup_engine *e, const char *service);
void envup_swarm_task_dispose(envup_swarm_task *t);

/** Whether a task state is final (it will not run again). */
bool envup_swarm_state_final(const char *state);

/** A node: where its host-mode ports are reached, and its name. */
typedef struct {
	char *addr;            /* ManagerStatus.Addr without the port, else Status.Addr */
	char *hostname;        /* Description.Hostname */
	char *availability;    /* active, pause, drain */
	char *state;           /* ready, down, ... */
} envup_swarm_node;

#define ENVUP_SWARM_NODE_INIT {0}

int envup_swarm_node_get(envup_swarm_node *out, envup_engine *e, const char *node_id);
void envup_swarm_node_dispose(envup_swarm_node *n);

/** The image's digest as the manager's registry lookup gives it
 *  (GET /distribution/NAME/json), "sha256:..."; an error when not found.
 *  `auth` as for envup_swarm_service_create(). */
int envup_swarm_image_digest(char **digest, envup_engine *e, const char *image, const char *auth);

/**
 * The services carrying `labels`, each as a container summary: its newest
 * task's state ("running", "created" before, "exited" after), the task's
 * node (hostname) and ports at that node's address (or ENVUP_HOST). None
 * from an engine that is not a manager.
 */
int envup_swarm_summaries(envup_container_summary **out, size_t *count, envup_engine *e,
	const envup_strlist *labels);

/**
 * A service's logs as container.h's envup_container_logs_stream() gives a
 * container's (the manager gathers them from the nodes). With `follow`
 * the stream does not end when the task stops: the engine's deadline or
 * the callback ends it.
 */
int envup_swarm_service_logs(envup_engine *e, const char *service, int tail, bool follow,
	envup_log_cb cb, void *payload);

#endif
