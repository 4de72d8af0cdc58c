/*
 * Environments: bring a spec up, read its exports, take it down.
 *
 * Ownership: envup_up() returns an envup_env the caller frees with
 * envup_env_free(). Strings returned by getters are borrowed and live as
 * long as the envup_env. Strings returned through char **out are owned by
 * the caller and freed with envup_free().
 */
#ifndef ENVUP_ENV_H
#define ENVUP_ENV_H

#include <stddef.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct envup_env envup_env;

/** Output formats for exports. */
typedef enum {
	ENVUP_FORMAT_SHELL = 0, /**< export NAME='value' (safe for eval) */
	ENVUP_FORMAT_DOTENV,    /**< NAME='value', read alike by sh and dotenv libraries */
	ENVUP_FORMAT_JSON,      /**< {"NAME": "value", ...} */
	ENVUP_FORMAT_GITHUB,    /**< NAME<<DELIMITER lines for $GITHUB_ENV */
	ENVUP_FORMAT_GITLAB     /**< NAME=value, a GitLab dotenv report */
} envup_format;

/** Who owns an environment: whose end removes it. */
typedef enum {
	ENVUP_OWNER_CALLER = 0, /**< the calling process (the default) */
	ENVUP_OWNER_SESSION,    /**< the caller's CI job, else its terminal session */
	ENVUP_OWNER_PID,        /**< the process owner_pid */
	ENVUP_OWNER_NONE        /**< nobody: envdown or the expiry removes it */
} envup_owner_scope;

/** Progress events, reported while an environment comes up or goes down. */
typedef enum {
	ENVUP_STATE_PULLING = 0,
	ENVUP_STATE_CREATING,
	ENVUP_STATE_STARTING,
	ENVUP_STATE_WAITING,     /**< started, probing for readiness */
	ENVUP_STATE_INITIALIZING,/**< running init scripts / loading mocks */
	ENVUP_STATE_READY,
	ENVUP_STATE_FAILED,
	ENVUP_STATE_REMOVING,
	ENVUP_STATE_REMOVED
} envup_state;

/**
 * Progress callback. `service` is NULL for environment-wide events;
 * `detail` may be NULL and never contains a secret; `elapsed` is seconds
 * since the operation began. Called from several threads, one call at a time.
 */
typedef void (*envup_progress_cb)(const char *service, envup_state state,
	const char *detail, double elapsed, void *payload);

/** Name of a state ("pulling", "ready", ...). */
const char *envup_state_name(envup_state state);

/** Options for envup_up(). Initialise with ENVUP_UP_OPTIONS_INIT. */
typedef struct {
	int version;
	const char *spec_path;   /**< default "envup.yaml" */
	const char *name;        /**< environment name; default: spec name:, then directory */
	double timeout;          /**< seconds for the whole up; default 120 */
	const char *docker_host; /**< default $DOCKER_HOST, then the local socket */
	const char *image_prefix;/**< default $ENVUP_HUB_IMAGE_PREFIX */
	envup_progress_cb progress;
	void *progress_payload;
	/** when non-NULL and set non-zero (e.g. by a signal handler), up stops,
	 *  removes what it created and returns ENVUP_ECANCELLED */
	const volatile int *cancel;
	/** the process whose death removes the environment; 0: the caller */
	long owner_pid;
	/** non-zero: no owner; only the expiry (ttl) removes it */
	int keep;
	/** seconds until the environment expires; 0: ENVUP_DEFAULT_TTL */
	double ttl;
	/** the watchdog helper (envup-watchdog); NULL: $ENVUP_WATCHDOG, next to
	 *  the library or program, or where it was installed */
	const char *watchdog_exe;
	/** whose end removes the environment (owner_pid > 0 means
	 *  ENVUP_OWNER_PID, keep means ENVUP_OWNER_NONE) */
	envup_owner_scope owner;
} envup_up_options;

/** Default lifetime of an environment: it is removed after this, owner or not. */
#define ENVUP_DEFAULT_TTL 3600.0
/** The longest lifetime and timeout envup_up() accepts, in seconds. */
#define ENVUP_TTL_MAX (30.0 * 86400)
#define ENVUP_TIMEOUT_MAX 86400.0

#define ENVUP_UP_OPTIONS_VERSION 1
#define ENVUP_UP_OPTIONS_INIT {ENVUP_UP_OPTIONS_VERSION, NULL, NULL, 0, NULL, NULL, NULL, NULL, \
	NULL, 0, 0, 0, NULL, ENVUP_OWNER_CALLER}

/**
 * Bring an environment up and wait until every service is ready.
 *
 * On failure everything created is removed before returning.
 *
 * @param[out] out the running environment, freed with envup_env_free()
 * @return 0, ENVUP_ESPEC (invalid spec; nothing created), ENVUP_EEXISTS,
 *         ENVUP_EDOCKER, ENVUP_EUNHEALTHY, ENVUP_ETIMEOUT, ENVUP_ECANCELLED
 *         or ENVUP_ERROR
 */
int envup_up(envup_env **out, const envup_up_options *opts);

/** The environment's name (borrowed). */
const char *envup_env_name(const envup_env *env);

/** Number of exported variables. */
size_t envup_env_export_count(const envup_env *env);

/** The i-th export's name and value (borrowed); NULL when out of range. */
const char *envup_env_export_name(const envup_env *env, size_t i);
const char *envup_env_export_value(const envup_env *env, size_t i);

/** The value of export `name` (borrowed), or NULL. */
const char *envup_env_export_get(const envup_env *env, const char *name);

/** Number of services of the environment. */
size_t envup_env_service_count(const envup_env *env);

/** The i-th service's name (borrowed); NULL when out of range. */
const char *envup_env_service_name(const envup_env *env, size_t i);

/** Where service `service`'s ports are reached ("127.0.0.1"), borrowed;
 *  NULL when there is no such service. */
const char *envup_env_service_host(const envup_env *env, const char *service);

/**
 * The host port published for `container_port` of `service` (0: its
 * first port), or -1 when the service does not exist or publishes none.
 */
int envup_env_service_port(const envup_env *env, const char *service, int container_port);

/** The service's URL ("postgres://..."), borrowed; NULL without one. */
const char *envup_env_service_url(const envup_env *env, const char *service);

/**
 * Who owns the environment, as messages name it ("session 4711 (bash)",
 * "CI job 812 (Runner.Worker)", "process 77 (sh)"), borrowed; NULL when
 * it has no owner.
 */
const char *envup_env_owner(const envup_env *env);

/** When the environment expires (unix seconds); 0 when unknown. */
long long envup_env_expires(const envup_env *env);

/** The environment's secrets (passwords, and their URL-encoded forms),
 *  for masking them in logs; borrowed. */
size_t envup_env_secret_count(const envup_env *env);
const char *envup_env_secret(const envup_env *env, size_t i);

/**
 * Render the exports.
 * @param[out] out a NUL-terminated string, freed with envup_free()
 * @return 0, or ENVUP_ESPEC when a value cannot be written in `format`
 *         (the error names the variable)
 */
int envup_env_format(char **out, const envup_env *env, envup_format format);

/** Free the handle (does not take the environment down). Accepts NULL. */
void envup_env_free(envup_env *env);

/**
 * Which environment a command is about: the one named `name`, else the
 * spec's name:, else the spec directory's name. Initialise with
 * ENVUP_TARGET_INIT.
 */
typedef struct {
	int version;
	const char *spec_path;   /**< read only for its name:; may be missing */
	const char *name;
	const char *docker_host;
	envup_progress_cb progress;
	void *progress_payload;
	/** envup_down(): also when a live owner that is not the caller's
	 *  (another terminal, another CI job) holds it */
	int force;
} envup_target;

#define ENVUP_TARGET_VERSION 1
#define ENVUP_TARGET_INIT {ENVUP_TARGET_VERSION, NULL, NULL, NULL, NULL, NULL, 0}

/**
 * Resolve the environment name a target designates.
 * @param[out] out malloc'd name, freed with envup_free()
 */
int envup_target_name(char **out, const envup_target *target);

/**
 * Remove every container, network and volume labelled with the
 * environment's name, and only those. Succeeds when there is nothing to
 * remove. When the engine refuses a removal, returns ENVUP_ERROR naming
 * what remains.
 *
 * Refuses with ENVUP_ENOTOWNER, removing nothing, when a live owner holds
 * the environment that is neither the caller, nor one of its ancestors,
 * nor the caller's CI job or session (so a job that lost the race for a
 * name never takes down the winner's), unless target->force is set.
 *
 * @param[out] removed when non-NULL, the number of resources removed
 */
int envup_down(size_t *removed, const envup_target *target);

/** When, by what and why envup removed an environment. */
typedef struct {
	long long at;        /**< unix seconds */
	char by[64];         /**< "its watchdog", "envup gc", "envdown", "envdown --all" */
	char reason[256];    /**< "its owner, session 4711 (bash), ended", "it expired" */
} envup_removal;

/**
 * Why an environment that is not up went, when envup removed it (printed
 * as "removed at 10:32:05 by its watchdog: its owner, session 4711 (bash),
 * ended"). Records are kept on this machine for 7 days; a new up of the
 * name forgets them. Strings are printable.
 * @return 0, or ENVUP_ENOTFOUND when there is no record
 */
int envup_env_removed(envup_removal *out, const envup_target *target);

/**
 * Take down the environment this handle came from: what its own `up`
 * created (by instance), nothing of another `up` of the same name. The
 * handle stays valid (free it with envup_env_free()).
 * @param[out] removed when non-NULL, the number of resources removed
 */
int envup_env_down(size_t *removed, const envup_env *env, envup_progress_cb progress,
	void *payload);

/**
 * Open an environment that is up: its exports, from the state `envup_up`
 * saved (mode 0600), after checking its containers still exist.
 * @return ENVUP_ENOTFOUND when it is not up
 */
int envup_env_open(envup_env **out, const envup_target *target);

/**
 * Remove every envup environment on the engine (everything labelled
 * dev.envup.managed=true), and nothing else.
 */
int envup_down_all(size_t *removed, const char *docker_host,
	envup_progress_cb progress, void *payload);

/** What `envup gc` removed. */
typedef struct {
	char *name;      /**< environment */
	char *reason;    /**< "expired 3m ago", "owner process 123 is gone" */
	size_t removed;  /**< resources removed */
	int failed;      /**< non-zero: the engine refused part of it (see message) */
	char *message;
} envup_gc_entry;

/**
 * Remove environments that expired or whose owner process is gone (on
 * this machine). Safe to run twice or concurrently.
 * @param[out] out one entry per environment removed; envup_gc_free()
 */
int envup_gc(envup_gc_entry **out, size_t *count, const char *docker_host);
void envup_gc_free(envup_gc_entry *entries, size_t count);

/** A published port of a service. */
typedef struct {
	int container_port;
	char protocol[8];   /**< "tcp", "udp" */
	char host_ip[64];   /**< "127.0.0.1" */
	int host_port;
} envup_port;

/**
 * One service of a running environment, as `envup status` shows it. Every
 * string was made printable (control characters replaced by '?'): labels
 * and names come from the engine, where anyone can write them.
 */
typedef struct {
	char *service;
	char *container;   /**< container name */
	char *image;
	char *state;       /**< running, exited, ... */
	char *status;      /**< "Up 3 minutes (healthy)" */
	char *ports;       /**< "127.0.0.1:49153->5432/tcp", comma separated */
	long long created; /**< unix seconds */
	envup_port *port_list; /**< the same ports, parsed */
	size_t nports;
} envup_service_status;

/**
 * The services of an environment (empty when it is not up).
 * @param[out] out array freed with envup_status_free()
 */
int envup_status(envup_service_status **out, size_t *count, const envup_target *target);
void envup_status_free(envup_service_status *s, size_t count);

/** One environment on the engine, as `envup ls` shows it (strings printable). */
typedef struct {
	char *name;
	size_t containers;
	size_t running;
	long long created;   /**< oldest container, unix seconds */
	char *owner;         /**< "session 4711 (bash)"; NULL without owner (kept) */
	char *owner_kind;    /**< "session", "job", "process"; NULL without owner */
	char *owner_command; /**< the owner's command name, "" when unknown */
	long owner_pid;      /**< 0 without owner */
	int owner_alive;     /**< 1 alive, 0 gone, -1 unknown (another machine, no owner) */
	long long expires;   /**< unix seconds; 0 when unknown */
} envup_env_summary;

/** Every envup environment on the engine. Free with envup_list_free(). */
int envup_list(envup_env_summary **out, size_t *count, const char *docker_host);
void envup_list_free(envup_env_summary *s, size_t count);

/**
 * The summary of the environment a target designates.
 * @param[out] out freed with envup_list_free(out, 1)
 * @return 0, or ENVUP_ENOTFOUND when it is not up (the error says so, and
 *         when and why envup removed it if it did)
 */
int envup_env_summary_get(envup_env_summary **out, const envup_target *target);

/** Receives log bytes; return non-zero to stop. */
typedef int (*envup_log_write_cb)(const char *data, size_t len, void *payload);

/**
 * Write a service's logs (stdout and stderr) to `cb`: the last `tail`
 * lines (tail < 0: all), then, with `follow`, new output until the
 * container stops or cb returns non-zero.
 */
int envup_logs(const envup_target *target, const char *service, int tail, int follow,
	envup_log_write_cb cb, void *payload);

#ifdef __cplusplus
}
#endif

#endif
