/*
 * The backend: the one narrow interface through which the orchestration
 * (provision/up.c and its parts) reaches whatever runs the containers.
 *
 * Two implementations: the Docker Engine API (backend_docker.c, over
 * engine.c, image.c, container.c, network.c and cleanup.c) and Docker
 * Swarm (backend_swarm.c, over swarm.c: a container is a service). A
 * Kubernetes one would implement the same table (docs/scale-out.md): the
 * orchestration, the readiness table and the environment handle never
 * call the engine modules directly. An operation a backend cannot do is
 * NULL (exec on a swarm; the snapshot images).
 *
 * Threads: a backend is shared by the threads of one `up`; every
 * operation may be called from several at once (the Docker one is as
 * thread-safe as engine.h). Ownership: ids returned through char **out
 * are malloc'd (envup__free); the structs are container.h's.
 */
#ifndef ENVUP_PROVISION_BACKEND_H
#define ENVUP_PROVISION_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include "util/util.h"
#include "provision/container.h"
#include "provision/cleanup.h"
#include "provision/identity.h"
#include "provision/image.h"
#include "provision/snapshot_image.h"

typedef struct envup_backend envup_backend;

/** Anything the backend made: a container, a network or a volume. */
typedef struct {
	const char *kind;        /* "container", "network", "volume" (static) */
	char *id;                /* what removal takes (a volume's name) */
	char *name;
	envup_kvlist labels;
} envup_resource;

typedef struct {
	const char *kind;           /* "docker" (NULL) or "swarm" (backend_swarm.c) */
	const char *docker_host;    /* NULL: $DOCKER_HOST, else the local socket */
	const atomic_int *cancel;   /* operations stop soon after *cancel is raised */
	double deadline;            /* envup_now() after which operations fail; 0 none */
} envup_backend_options;

/** What a command run in a container (exec) gave. */
typedef struct {
	int exit_code;
	envup_buf output;          /* stdout and stderr, interleaved, capped */
} envup_exec_result;

#define ENVUP_EXEC_RESULT_INIT {-1, ENVUP_BUF_INIT}

typedef struct {
	const char *name;                          /* "docker" */
	void (*free)(envup_backend *b);
	/** Where published ports are reached from here (borrowed). */
	const char *(*port_host)(const envup_backend *b);
	/** The address to bind published ports to (borrowed). */
	const char *(*bind_ip)(const envup_backend *b);
	int (*ensure_image)(envup_backend *b, const char *image, envup_image_progress_cb cb,
		void *payload);
	/** Create the environment's network and win the claim on its name (claim.h). */
	int (*claim_network)(char **id_out, envup_backend *b, const char *name,
		const envup_identity *self, const envup_kvlist *labels);
	/** Create a named volume of the environment (network.h envup_volume_create).
	 *  NULL: a volume is each container's own (anonymous), never shared. */
	int (*create_volume)(envup_backend *b, const char *name, const envup_kvlist *labels);
	int (*create)(char **id_out, envup_backend *b, const envup_container_config *cfg);
	/** Whether containers can bind-mount this machine's paths (a local engine). */
	bool (*sees_host_files)(const envup_backend *b);
	/** Extract a tar into a created container at `path`. */
	int (*put_archive)(envup_backend *b, const char *id, const char *path, const void *tar,
		size_t len);
	int (*start)(envup_backend *b, const char *id);
	int (*inspect)(envup_container_info *out, envup_backend *b, const char *id);
	/** Run argv in the container; its exit code and output. NULL: cannot. */
	int (*exec)(envup_exec_result *out, envup_backend *b, const char *id,
		const envup_strlist *argv);
	/** Logs as a stream (container.h envup_container_logs_stream). */
	int (*logs)(envup_backend *b, const char *id, int tail, bool follow, envup_log_cb cb,
		void *payload);
	int (*list)(envup_container_summary **out, size_t *count, envup_backend *b,
		const envup_strlist *labels);
	int (*remove_by_labels)(envup_cleanup_report *report, envup_backend *b,
		const envup_strlist *labels, envup_cleanup_cb cb, void *payload);
	/** Every resource carrying the labels: containers, then networks, volumes. */
	int (*resources)(envup_resource **out, size_t *count, envup_backend *b,
		const envup_strlist *labels);
	/** Remove one resource; one already gone counts as removed. */
	int (*remove_resource)(envup_backend *b, const envup_resource *r);
	/** Change the deadline (0: none) for the operations that follow. */
	void (*set_deadline)(envup_backend *b, double deadline);
	/* Snapshot images (snapshot.h); NULL in a backend without them (then
	 * every start is cold). */
	int (*image_info)(envup_image_info *out, envup_backend *b, const char *image);
	int (*commit)(char **image_id, envup_backend *b, const char *id, const char *repo,
		const char *tag, const char *config);
	int (*images)(envup_image_summary **out, size_t *count, envup_backend *b, const char *label);
	int (*remove_image)(envup_backend *b, const char *id);
	int (*tag_image)(envup_backend *b, const char *id, const char *repo, const char *tag);
	/** What of the spec this backend cannot do, refused before anything is
	 *  made (ENVUP_ESPEC naming file, line and service); NULL: all of it. */
	int (*check_spec)(const envup_backend *b, const envup_spec *spec);
} envup_backend_ops;

struct envup_backend {
	const envup_backend_ops *ops;
};

/**
 * Open the backend for `o`: o->kind's, at o->docker_host. "swarm" needs
 * the engine to be an active swarm manager (ENVUP_ESPEC otherwise).
 * @param[out] out freed with envup_backend_free()
 */
int envup_backend_open(envup_backend **out, const envup_backend_options *o);

/** The Docker backend itself, and the engine under it (borrowed). Its
 *  listing and removal also cover swarm services and configs, when the
 *  engine is a swarm manager. */
int envup_backend_docker_open(envup_backend **out, const envup_backend_options *o);
envup_engine *envup_backend_docker_engine(envup_backend *docker);

/** The Swarm backend (backend_swarm.c). */
int envup_backend_swarm_open(envup_backend **out, const envup_backend_options *o);

/** Whether `kind` names a backend ("docker", "swarm"). */
bool envup_backend_known(const char *kind);

/** Open with a deadline `seconds` from now, no cancel flag. */
int envup_backend_open_for(envup_backend **out, const char *docker_host, double seconds);

/** Accepts NULL. */
void envup_backend_free(envup_backend *b);

void envup_exec_result_dispose(envup_exec_result *r);
void envup_resources_free(envup_resource *v, size_t n);
/** Append a copy of `r` to the array (*v, *n). */
int envup_resource_push(envup_resource **v, size_t *n, const envup_resource *r);

#endif
