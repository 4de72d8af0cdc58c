/*
 * Warm starts: a snapshot of a postgres service just after its init
 * scripts, kept as an image, that the next `up` of the same key starts
 * from instead of running initdb and the init scripts again.
 *
 * The key (sha256, hex) covers everything that determines the data: the
 * image's id, the container's environment (the password left out: it is
 * set anew at every start), its command, its tmpfs paths, the contents of
 * every init file in order, and the snapshot format. Any change to one of
 * them is another key, so a cold start.
 *
 * Taking one (after the exports of the up that made the data, in a
 * detached helper: envup-watchdog --snapshot): pg_basebackup of the live
 * server into /envup-snapshot/data inside its container (the data
 * directory itself is a tmpfs and a VOLUME, both of which docker commit
 * leaves out); a private server on that copy, on a socket of its own,
 * puts it back as up left it (every database but the template and the
 * pool's bookkeeping dropped, the main database cloned again from the
 * template, the pool emptied, the key recorded) and is shut down cleanly;
 * then POST /commit makes the image envup-snapshot:KEY, labelled
 * dev.envup.snapshot=1 and dev.envup.snapshot.{key,env,service,created},
 * the password blanked from its environment and the environment's own
 * labels blanked. While it works it holds a lock (STATE_DIR/NAME.snapshot)
 * that envdown and the watchdog wait for, so an envdown right after up
 * does not lose it. Afterwards the helper goes on as the pool's filler.
 *
 * Restoring: the container is made from the snapshot image with an
 * entrypoint that copies the data into the (empty) tmpfs data directory,
 * sets the role's password to this environment's in single-user mode, and
 * then runs the image's own entrypoint, which finds PG_VERSION and skips
 * initdb. envup checks the key recorded inside before it counts the
 * service ready; a snapshot that does not restore is removed and the
 * service starts cold, saying so.
 *
 * Ownership: char ** outputs are malloc'd (envup__free).
 */
#ifndef ENVUP_PROVISION_SNAPSHOT_H
#define ENVUP_PROVISION_SNAPSHOT_H

#include <stdbool.h>
#include "provision/backend.h"
#include "compose/spec.h"
#include "envup/snapshot.h"

#define ENVUP_SNAPSHOT_REPO "envup-snapshot"
#define ENVUP_SNAPSHOT_FORMAT "2"
/** How many snapshots `envup gc` keeps per environment name and service. */
#define ENVUP_SNAPSHOT_KEEP ENVUP_SNAPSHOTS_KEPT
#define ENVUP_SNAPSHOT_LABEL "dev.envup.snapshot"

/** Snapshots for this up: not --no-snapshot, not ENVUP_SNAPSHOTS=0, and a
 *  local engine (one that sees this machine's files) with image commits. */
bool envup_snapshot_wanted(bool no_snapshot, envup_backend *b);

/** Whether a service can have one: a postgres template service with a
 *  main database, no mounts, no entrypoint of its own, a password without
 *  line breaks. */
bool envup_snapshot_eligible(const envup_service *spec, const envup_kvlist *vars);

/**
 * The key of a service as planned.
 * @param out 65 bytes: hex sha256
 */
int envup_snapshot_key(char *out, const char *image_id, const envup_service *spec,
	const envup_kvlist *env, const envup_strlist *cmd, const char *password);

/**
 * The snapshot image of `key` when there is a valid one: *ref its name
 * (envup-snapshot:KEY), *entrypoint and *cmd the image's (an entrypoint
 * given at create time drops the image's command: pass both).
 * @return 0, ENVUP_ENOTFOUND (none, or an image whose labels do not
 *         match: never used), <0 on engine errors
 */
int envup_snapshot_find(char **ref, envup_strlist *entrypoint, envup_strlist *cmd, envup_backend *b,
	const char *key);

/** The restoring entrypoint: the copy, the password, then `base`. */
int envup_snapshot_entrypoint(envup_strlist *out, const envup_strlist *base);

/** Remove the snapshot image of `key` (one that failed to restore). */
int envup_snapshot_remove_key(envup_backend *b, const char *key);

/** What the helper needs to take one. */
typedef struct {
	const char *docker_host;    /* NULL: the default */
	const char *container;      /* the live container's id */
	const char *key;
	const char *env_name;
	const char *service;
	const envup_kvlist *env;    /* the container's environment */
	const envup_kvlist *labels; /* the labels envup put on it */
	const char *password;       /* cut out of env in the image */
	const char *password_var;   /* its variable (POSTGRES_PASSWORD), blanked; may be NULL */
	const char *host;           /* the server, for the filler afterwards */
	int port;
	const char *user;
	const char *database;
	int pool_size;              /* 0: no filler afterwards */
	int lock_fd;                /* from envup_snapshot_lock(): the helper holds it */
} envup_snapshot_job;

/**
 * Take the snapshot lock of environment `name` (STATE_DIR/NAME.snapshot):
 * an fd every helper of this up inherits; envdown waits until all of them
 * have closed it. The caller closes its own copy once the helpers run.
 */
int envup_snapshot_lock(int *fd, const char *name);

/** Start the helper (detached) for `job`. */
int envup_snapshot_spawn(const envup_snapshot_job *job);

/** Main of `envup-watchdog --snapshot` (the job as JSON on stdin, the
 *  lock on fd 3). */
int envup_snapshot__take_main(void);

/**
 * Wait (at most `max_s`) until no snapshot of environment `name` is being
 * taken. `say` (may be NULL) is called once when there is one to wait for.
 */
void envup_snapshot_wait(const char *name, double max_s, void (*say)(const char *msg, void *payload),
	void *payload);

/** One snapshot image, as `envup snapshot ls` shows it. */
typedef struct {
	char *id;
	char *key;
	char *env_name;
	char *service;
	long long created;
	long long size;
} envup_snapshot_entry;

/** Every snapshot image on the engine (newest first): images with the
 *  label whose tag is envup-snapshot:KEY of their own key label. */
int envup_snapshot__list(envup_snapshot_entry **out, size_t *count, envup_backend *b);
void envup_snapshot__list_free(envup_snapshot_entry *v, size_t n);

/** Keep the newest ENVUP_SNAPSHOT_KEEP per environment name and service;
 *  *removed counts what went. */
int envup_snapshot__prune(size_t *removed, envup_backend *b);

#endif
