/*
 * Where the engine is, found as the docker CLI finds it:
 *
 *   1. an address the caller gives (the library's docker_host);
 *   2. $DOCKER_HOST;
 *   3. a docker context: $DOCKER_CONTEXT, else the currentContext of
 *      $DOCKER_CONFIG/config.json (default ~/.docker), resolved through
 *      contexts/meta/<sha256 of the name>/meta.json (its docker endpoint's
 *      Host and SkipTLSVerify) and contexts/tls/<sha256>/docker/ (ca.pem,
 *      cert.pem, key.pem); "default" means the steps below. An unknown
 *      context is an error naming it;
 *   4. the first of these sockets that answers: /var/run/docker.sock,
 *      $XDG_RUNTIME_DIR/docker.sock (rootless), ~/.docker/run/docker.sock
 *      (Docker Desktop), $XDG_RUNTIME_DIR/podman/podman.sock,
 *      /run/podman/podman.sock. When none does, the error lists every place
 *      tried and why each failed.
 *
 * Ownership: an envup_engine_place owns its strings; dispose it.
 */
#ifndef ENVUP_PROVISION_DISCOVER_H
#define ENVUP_PROVISION_DISCOVER_H

#include <stdbool.h>
#include "util/util.h"

typedef struct {
	char *host;          /* "unix:///...", "tcp://...", or NULL: try the sockets */
	char *tls_dir;       /* a context's TLS material, or NULL */
	bool tls_skip_verify;
	char *source;        /* for messages: "DOCKER_HOST", "context ci", ... */
} envup_engine_place;

/**
 * Steps 1 to 3: the address given, $DOCKER_HOST or a context. When none
 * applies, out->host is NULL and the caller tries the sockets
 * (envup_engine_candidates()).
 * @return 0; ENVUP_EDOCKER for an unknown or broken context (error set)
 */
int envup_engine_place_find(envup_engine_place *out, const char *given);

void envup_engine_place_dispose(envup_engine_place *p);

/** The docker CLI's configuration directory: $DOCKER_CONFIG, else
 *  ~/.docker (malloc'd); NULL without either. */
char *envup_docker_config_dir(void);

/** A JSON file of it (at most 1 MiB; malloc'd tree), or NULL with *err an
 *  errno (EINVAL: not JSON). */
struct cJSON *envup_docker_read_json(const char *path, int *err);

/** Step 4: the sockets to try, in order ("unix://..." strings, appended). */
int envup_engine_candidates(envup_strlist *out);

#endif
