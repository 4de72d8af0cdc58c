/*
 * Private to the files of `envup_up` (provision/up.c and its parts): the
 * state of one `up` and of each of its services.
 *
 *   up.c         the orchestration: plan, claim the name, one thread per
 *                service, supervise, teardown on failure, the handle
 *   plan.c       what each service will be (credentials, placeholders,
 *                secrets), and who owns the environment (the watchdog)
 *   service.c    one service's life: image, create, start, ports, ready,
 *                data, and the report of its failure
 *   readiness.c  when a service is ready: one row per kind of wait
 *   handle.c     the envup_env handle: exports and services
 *
 * Threads: the plan is made and the handle built in the caller's thread;
 * each service's thread touches only its up_service, and the shared fields
 * of up_ctx under `lock` (phases, the failure) or atomically (`abort`).
 * The engine is reached only through ctx->backend (backend.h).
 */
#ifndef ENVUP_PROVISION_UP_H
#define ENVUP_PROVISION_UP_H

#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include "envup.h"
#include "compose/spec.h"
#include "provision/backend.h"
#include "provision/identity.h"
#include "provision/watchdog.h"

#define ENVUP_UP_DEFAULT_TIMEOUT 120.0

typedef enum { SVC_PENDING = 0, SVC_RUNNING, SVC_READY, SVC_FAILED, SVC_SKIPPED } envup_up_phase;

typedef struct envup_up_ctx envup_up_ctx;

typedef struct {
	envup_up_ctx *ctx;
	const envup_service *spec;
	char *image;            /* after the hub prefix rewrite */
	char *container_name;
	char *id;               /* container id once created */
	envup_kvlist env;       /* final environment */
	envup_strlist cmd;      /* final command (when the spec/template has one) */
	envup_strlist entrypoint;
	envup_kvlist vars;      /* placeholders: user, password, database */
	envup_kvlist host_ports;/* "5432" -> "49153" */
	envup_up_phase phase;   /* under ctx->lock */
	double ready_at;        /* seconds since start */
	pthread_t thread;
	bool thread_started;
	regex_t log_re;         /* ENVUP_WAIT_LOG */
	bool log_re_compiled;
	double started_at;      /* envup_now() when start returned */
	bool container_started; /* under ctx->lock: for service_started dependants */
	char *ip;               /* the container's address on its network */
	char *host;             /* where its ports answer, when not the backend's
	                         * port_host (a swarm task's node), or NULL */
	char *node;             /* the cluster node that runs it, or NULL */
	enum { IP_UNTRIED = 0, IP_REACHABLE, IP_UNREACHABLE } ip_state;
	bool pg_template;       /* postgres: the template and pool are made */
	char snapshot_key[65];  /* postgres with snapshots on: its key, else "" */
	bool restored;          /* started from the snapshot of snapshot_key */
	bool no_restore;        /* the snapshot failed: cold from now on */
	double wait_deadline;   /* readiness gives up here when set (a restore) */
} envup_up_service;

struct envup_up_ctx {
	const envup_up_options *opts;
	envup_spec *spec;
	char *name;
	char *network;          /* its name, envup-NAME */
	char *network_id;       /* what containers join: names may be shared (claim.h) */
	envup_backend *backend;
	envup_up_service *svcs;
	size_t nsvcs;
	pthread_mutex_t lock;
	pthread_cond_t cond;    /* CLOCK_MONOTONIC */
	pthread_mutex_t progress_lock;
	atomic_int abort;       /* raised on the first failure or on cancel */
	bool failed;            /* under lock, like the three below */
	int fail_code;
	int fail_class;
	char *fail_message;     /* "SERVICE: what happened" */
	double start;
	double deadline;
	envup_identity id;      /* this one `up`: name, instance, owner, expiry */
	char owner_text[128];   /* "session 4711 (bash)", "" without owner */
	envup_strlist secrets;  /* the environment's passwords (and encoded forms) */
	envup_secrets *mask;    /* the same, masked on this up's threads */
	envup_watchdog watchdog;
	bool snapshots;         /* warm starts on (snapshot.h) */
};

/* ---- up.c ---------------------------------------------------------------- */

/** Report progress (masked, made printable) to the caller's callback. */
void envup_up__emit(envup_up_ctx *ctx, const char *service, envup_state state, const char *detail);

/** The timeout of the whole up, for messages. */
double envup_up__timeout(const envup_up_ctx *ctx);

/* ---- plan.c -------------------------------------------------------------- */

/** Plan service `spec`: its image, name, environment, command, secrets. */
int envup_up__plan_service(envup_up_service *s, envup_up_ctx *ctx, const envup_service *spec);
void envup_up__service_dispose(envup_up_service *s);

/** The instance, the owner, the expiry, and the watchdog that enforces them. */
int envup_up__plan_ownership(envup_up_ctx *ctx);

/** The labels of this instance's resources (service NULL for the network). */
int envup_up__labels(envup_kvlist *labels, const envup_up_ctx *ctx, const char *service);

/* ---- service.c ----------------------------------------------------------- */

/** A service's thread: wait for its dependencies, bring it up, report. */
void *envup_up__service_main(void *arg);

/** Start the pool filler of a postgres service whose template is made. */
int envup_up__spawn_filler(envup_up_service *s);

/** After a successful up: the snapshots of the services that started cold
 *  (the helper then fills their pools). */
void envup_up__take_snapshots(envup_up_ctx *ctx);

/** Record the service's failure (the first one only) and abort the rest. */
void envup_up__record_failure(envup_up_service *s, int error);

/* ---- readiness.c --------------------------------------------------------- */

/** Wait until the service is ready by its wait kind, it died, or up ends. */
int envup_up__wait_ready(envup_up_service *s);

/** 0 while the container runs; else ENVUP_EUNHEALTHY saying how it ended. */
int envup_up__alive(envup_up_service *s);

/** The same without setting the error for ENVUP_EUNHEALTHY: how it ended
 *  goes to `why`, for a message of the caller's own. */
int envup_up__alive_why(envup_up_service *s, char *why, size_t len);

/** The host port of container port `container_port` (0: the first), or -1. */
int envup_up__host_port(const envup_up_service *s, int container_port);
/** Where the service's published ports answer (borrowed). */
const char *envup_up__port_host(const envup_up_service *s);

/* ---- handle.c ------------------------------------------------------------ */

/** The handle of an environment that is up: exports, services, owner. */
int envup_up__build_env(envup_env **out, const envup_up_ctx *ctx);

#endif
