/*
 * Bringing an environment up.
 *
 * Threads: envup_up() may be called from several threads at once, each
 * bringing up its own environment (different names); it starts threads of
 * its own and a helper process (the watchdog, exec'd at once), and never
 * runs code in a forked copy of the caller.
 *
 * Ownership: the options are read during the call only; envup_up() returns
 * an envup_env (env.h) the caller frees with envup_env_free().
 */
#ifndef ENVUP_UP_H
#define ENVUP_UP_H

#include "common.h"
#include "env.h"
#include "progress.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Who owns an environment: whose end removes it. */
typedef enum {
	ENVUP_OWNER_CALLER = 0, /**< the calling process (the default) */
	ENVUP_OWNER_SESSION,    /**< the caller's CI job, else its terminal session */
	ENVUP_OWNER_PID,        /**< the process owner_pid */
	ENVUP_OWNER_NONE        /**< nobody: envdown or the expiry removes it */
} envup_owner_scope;

/** Options for envup_up(). Initialise with ENVUP_UP_OPTIONS_INIT or
 *  envup_up_options_init(); fields not named are 0 / NULL. */
typedef struct {
	int version;             /**< ENVUP_UP_OPTIONS_VERSION */
	const char *spec_path;   /**< default "envup.yaml" */
	/** the spec's YAML itself, instead of a file (spec_path is then only
	 *  the name used in messages, default "spec") */
	const char *spec_text;
	/** where the spec's relative paths (init files, expectations) start
	 *  when it comes from spec_text; default the current directory */
	const char *spec_dir;
	const char *name;        /**< environment name; default: spec name:, then directory */
	double timeout;          /**< seconds for the whole up; default 120 */
	const char *docker_host; /**< default $DOCKER_HOST, then the local socket */
	const char *image_prefix;/**< default $ENVUP_HUB_IMAGE_PREFIX */
	envup_progress_cb progress;
	void *progress_payload;
	/** when non-NULL and set non-zero (e.g. by a signal handler), up stops,
	 *  removes what it created and returns ENVUP_ECANCELLED; read by the
	 *  calling thread only */
	const volatile int *cancel;
	/** whose end removes the environment (owner_pid > 0 means
	 *  ENVUP_OWNER_PID, keep means ENVUP_OWNER_NONE) */
	envup_owner_scope owner;
	/** the process whose death removes the environment; 0: the caller */
	long owner_pid;
	/** non-zero: no owner; only the expiry (ttl) removes it */
	int keep;
	/** seconds until the environment expires; 0: ENVUP_DEFAULT_TTL */
	double ttl;
	/** the watchdog helper (envup-watchdog); NULL: $ENVUP_WATCHDOG, next to
	 *  the library or program, or where it was installed */
	const char *watchdog_exe;
	/** bring up only these services and what they depend on (as
	 *  `docker compose up SERVICE...`); NULL/0: all (a Compose file: every
	 *  service its profiles leave active) */
	const char *const *services;
	size_t nservices;
	/** Compose profiles to enable (also $COMPOSE_PROFILES) */
	const char *const *profiles;
	size_t nprofiles;
	/** a Compose file's variables from this file instead of .env next to it */
	const char *env_file;
	/** non-zero: no warm start from a snapshot, and none taken (also
	 *  $ENVUP_SNAPSHOTS=0); snapshots are on by default for local engines */
	int no_snapshot;
	/** what runs the services: "docker" (one engine) or "swarm" (services
	 *  on the swarm whose manager docker_host is); NULL: $ENVUP_BACKEND,
	 *  then the spec's `backend:`, then "docker" (version 5) */
	const char *backend;
} envup_up_options;

/** Default lifetime of an environment: it is removed after this, owner or not. */
#define ENVUP_DEFAULT_TTL 3600.0
/** The longest lifetime and timeout envup_up() accepts, in seconds. */
#define ENVUP_TTL_MAX (30.0 * 86400)
#define ENVUP_TIMEOUT_MAX 86400.0

#define ENVUP_UP_OPTIONS_VERSION 5
#define ENVUP_UP_OPTIONS_INIT {.version = ENVUP_UP_OPTIONS_VERSION}

/**
 * Initialise options (for languages without designated initializers).
 * @param version ENVUP_UP_OPTIONS_VERSION
 * @return 0, or ENVUP_ESPEC when this library does not know `version`
 */
ENVUP_EXTERN(int) envup_up_options_init(envup_up_options *opts, int version);

/**
 * Bring an environment up and wait until every service is ready.
 *
 * On failure everything created is removed before returning.
 *
 * @param[out] out the running environment, freed with envup_env_free()
 * @return 0, ENVUP_ESPEC (invalid spec or options, an options version
 *         this library does not know; nothing created), ENVUP_EEXISTS,
 *         ENVUP_EDOCKER, ENVUP_EUNHEALTHY, ENVUP_ETIMEOUT, ENVUP_ECANCELLED
 *         or ENVUP_ERROR
 */
ENVUP_EXTERN(int) envup_up(envup_env **out, const envup_up_options *opts);

#ifdef __cplusplus
}
#endif

#endif
