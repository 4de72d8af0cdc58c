/*
 * Environments on the engine, by name: take one down, open, status, logs,
 * why it went; and all of them: ls, gc, down --all. Every call takes a
 * target (which engine, which environment, where progress goes).
 *
 * Ownership: arrays returned through `out` are freed with the matching
 * *_free(); strings in them are owned by the array and made printable
 * (labels and names come from the engine, where anyone can write them).
 *
 * Threads: every call may be made from several threads at once.
 */
#ifndef ENVUP_TARGET_H
#define ENVUP_TARGET_H

#include <stddef.h>
#include "common.h"
#include "env.h"
#include "progress.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Which environment a command is about, on which engine: the one named
 * `name`, else the spec's name:, else the spec directory's name and a hash
 * of its path. Initialise with ENVUP_TARGET_INIT or envup_target_init();
 * fields not named are 0 / NULL. The calls about every environment (list,
 * gc, down_all) read only docker_host and progress.
 */
typedef struct {
	int version;             /**< ENVUP_TARGET_VERSION */
	const char *spec_path;   /**< read only for its name:; may be missing */
	const char *name;
	const char *docker_host; /**< default $DOCKER_HOST, then the local socket */
	envup_progress_cb progress;
	void *progress_payload;
	/** envup_down(): also when a live owner that is not the caller's
	 *  (another terminal, another CI job) holds it */
	int force;
} envup_target;

#define ENVUP_TARGET_VERSION 2
#define ENVUP_TARGET_INIT {.version = ENVUP_TARGET_VERSION}

/** Initialise a target; ENVUP_ESPEC when this library does not know `version`. */
ENVUP_EXTERN(int) envup_target_init(envup_target *target, int version);

/**
 * Resolve the environment name a target designates.
 * @param[out] out malloc'd name, freed with envup_free()
 */
ENVUP_EXTERN(int) envup_target_name(char **out, const envup_target *target);

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
ENVUP_EXTERN(int) envup_down(size_t *removed, const envup_target *target);

/**
 * Remove every envup environment on the engine (everything labelled
 * dev.envup.managed=true), and nothing else.
 * @param[out] removed when non-NULL, the number of resources removed
 */
ENVUP_EXTERN(int) envup_down_all(size_t *removed, const envup_target *target);

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
ENVUP_EXTERN(int) envup_env_removed(envup_removal *out, const envup_target *target);

/**
 * Open an environment that is up: its exports, from the state `envup_up`
 * saved (mode 0600), after checking its containers still exist.
 * @return ENVUP_ENOTFOUND when it is not up
 */
ENVUP_EXTERN(int) envup_env_open(envup_env **out, const envup_target *target);

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
ENVUP_EXTERN(int) envup_gc(envup_gc_entry **out, size_t *count, const envup_target *target);
ENVUP_EXTERN(void) envup_gc_free(envup_gc_entry *entries, size_t count);

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
	char *node;        /**< the swarm node that runs it; NULL on one engine */
} envup_service_status;

/**
 * The services of an environment (empty when it is not up).
 * @param[out] out array freed with envup_status_free()
 */
ENVUP_EXTERN(int) envup_status(envup_service_status **out, size_t *count, const envup_target *target);
ENVUP_EXTERN(void) envup_status_free(envup_service_status *s, size_t count);

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
ENVUP_EXTERN(int) envup_list(envup_env_summary **out, size_t *count, const envup_target *target);
ENVUP_EXTERN(void) envup_list_free(envup_env_summary *s, size_t count);

/**
 * The summary of the environment a target designates.
 * @param[out] out freed with envup_list_free(out, 1)
 * @return 0, or ENVUP_ENOTFOUND when it is not up (the error says so, and
 *         when and why envup removed it if it did)
 */
ENVUP_EXTERN(int) envup_env_summary_get(envup_env_summary **out, const envup_target *target);

/** Receives log bytes; return non-zero to stop. */
typedef int (*envup_log_write_cb)(const char *data, size_t len, void *payload);

/**
 * Write a service's logs (stdout and stderr) to `cb`: the last `tail`
 * lines (tail < 0: all), then, with `follow`, new output until the
 * container stops or cb returns non-zero.
 */
ENVUP_EXTERN(int) envup_logs(const envup_target *target, const char *service, int tail, int follow,
	envup_log_write_cb cb, void *payload);

#ifdef __cplusplus
}
#endif

#endif
