/*
 * Containers: create, start, inspect, logs, list and remove.
 *
 * Ownership: ids returned through char **out are malloc'd (envup__free);
 * envup_container_info is caller-allocated and emptied with
 * envup_container_info_dispose(); summaries are freed with
 * envup_container_summaries_free().
 */
#ifndef ENVUP_PROVISION_CONTAINER_H
#define ENVUP_PROVISION_CONTAINER_H

#include <stdbool.h>
#include "provision/engine.h"
#include "compose/spec.h"

typedef struct {
	const char *name;                /* container name */
	const char *image;
	const envup_kvlist *env;         /* may be NULL */
	const envup_strlist *cmd;        /* NULL: the image's CMD */
	const envup_strlist *entrypoint; /* NULL: the image's ENTRYPOINT */
	const envup_kvlist *labels;
	const int *ports;                /* published on envup_engine_bind_ip(), */
	size_t nports;                   /* host port chosen by the engine */
	const envup_strlist *tmpfs;      /* paths mounted as tmpfs (also stops VOLUMEs) */
	const char *network;             /* NULL: default bridge */
	const char *alias;               /* DNS alias on `network` */
	const envup_port_bind *binds;    /* nports host sides, or NULL (all chosen) */
	const envup_mount *mounts;       /* sources are host paths and engine
	                                  * volume names, as the engine takes them */
	size_t nmounts;
	const envup_runtime *rt;         /* compose settings, or NULL */
	/* a health check for the engine to run (a backend without exec: the
	 * Compose healthcheck's test), or NULL */
	const envup_strlist *healthcheck;
	double healthcheck_timeout;      /* seconds one run may take (0: 30) */
	bool image_health;               /* readiness is the image's HEALTHCHECK */
} envup_container_config;

/** Create. 409 (name in use) returns ENVUP_EEXISTS; 404 no such image ENVUP_ENOTFOUND. */
int envup_container_create(char **id_out, envup_engine *e, const envup_container_config *cfg);

/** Extract a tar archive into the container at `path` (before it starts). */
int envup_container_put_archive(envup_engine *e, const char *id, const char *path,
	const void *tar, size_t len);

/** Start. 304 (already running) is success. "port is already allocated" is reported as such. */
int envup_container_start(envup_engine *e, const char *id);

typedef struct {
	char *id;
	char *name;          /* without the leading '/' */
	char *image;
	char *status;        /* created|running|restarting|removing|exited|dead|paused */
	bool running;
	int exit_code;
	bool oom_killed;
	char *error;         /* State.Error, or NULL */
	char *health;        /* none|starting|healthy|unhealthy; NULL without healthcheck */
	char *health_output; /* output of the last health probe, or NULL */
	int restart_count;
	char *started_at;    /* RFC 3339 */
	char *created;       /* RFC 3339 */
	envup_kvlist ports;  /* "5432/tcp" -> "49153" (first binding) */
	envup_kvlist labels;
	char *ip;            /* address on its first network with one, or NULL */
	char *port_host;     /* where its published ports answer, when not the
	                      * backend's port_host (a swarm task's node), or NULL */
	char *node;          /* the cluster node that runs it, or NULL */
} envup_container_info;

#define ENVUP_CONTAINER_INFO_INIT {0}

int envup_container_inspect(envup_container_info *out, envup_engine *e, const char *id);
void envup_container_info_dispose(envup_container_info *info);

/** Host port bound to `container_port`/tcp, or -1. */
int envup_container_host_port(const envup_container_info *info, int container_port);

/**
 * The last `tail` lines of stdout+stderr (tail < 0: all), demultiplexed
 * (or raw for Tty containers), appended to `out`. At most out->max bytes
 * (16 MiB when out->max is 0); more is an error.
 */
int envup_container_logs(envup_buf *out, envup_engine *e, const char *id, int tail);

/**
 * Follow logs from the container's first line on (so nothing printed
 * before the call is missed) and call `cb` with each demultiplexed chunk
 * until cb returns non-zero (1 = stop, returns 0; <0 = error, returned) or
 * the container stops (0). Bounded by the engine's deadline and cancel
 * flag only.
 */
typedef int (*envup_log_cb)(const char *data, size_t len, void *payload);
int envup_container_logs_follow(envup_engine *e, const char *id, envup_log_cb cb, void *payload);

/**
 * The logs as a stream, with no size limit: the last `tail` lines (tail <
 * 0: all), then with `follow` new output until the container stops; each
 * demultiplexed chunk goes to `cb` as for envup_container_logs_follow().
 */
int envup_container_logs_stream(envup_engine *e, const char *id, int tail, bool follow,
	envup_log_cb cb, void *payload);

/** Force-remove with its anonymous volumes. 404 counts as success. */
int envup_container_remove(envup_engine *e, const char *id);

typedef struct {
	char *id;
	char *name;          /* without the leading '/' */
	char *image;
	char *state;         /* running, exited, ... */
	char *status;        /* human: "Up 3 minutes (healthy)" */
	long long created;   /* unix seconds */
	envup_kvlist labels;
	envup_kvlist ports;  /* "5432/tcp" -> "127.0.0.1:49153" */
	char *node;          /* a swarm service's node (hostname), or NULL */
} envup_container_summary;

/**
 * List containers (all states) carrying every label in `labels` ("k=v" for
 * an exact value, "k" for presence).
 */
int envup_container_list(envup_container_summary **out, size_t *count,
	envup_engine *e, const envup_strlist *labels);
void envup_container_summaries_free(envup_container_summary *s, size_t count);

#endif
