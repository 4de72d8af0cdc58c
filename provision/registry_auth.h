/*
 * Registry logins for pulls, as the docker CLI keeps them: the registry of
 * an image (its first path part when that has a '.' or a ':' or is
 * "localhost", else Docker Hub), and its credentials from
 * $DOCKER_CONFIG/config.json (default ~/.docker): credHelpers[registry],
 * else credsStore, through the docker-credential-NAME helper (`get`, the
 * registry on stdin, {"Username","Secret"} on stdout; run without a
 * shell), else auths[registry] (`auth` base64 "user:password", or
 * username/password, or identitytoken). The password becomes a secret of
 * the up (masked everywhere).
 *
 * Ownership: a envup_registry_login owns its strings; dispose it.
 */
#ifndef ENVUP_PROVISION_REGISTRY_AUTH_H
#define ENVUP_PROVISION_REGISTRY_AUTH_H

#include "util/util.h"

typedef struct {
	char *registry;   /* "127.0.0.1:5000", "docker.io" */
	char *header;     /* "X-Registry-Auth: ..." or NULL without credentials */
	char *source;     /* "auths in /root/.docker/config.json", "credential helper pass" */
} envup_registry_login;

/** The registry of `image` (malloc'd). */
char *envup_registry_of(const char *image);

/**
 * The login for pulling `image`; out->header NULL when there is none.
 * @return 0; ENVUP_EDOCKER when a credential helper fails (error set)
 */
int envup_registry_login_find(envup_registry_login *out, const char *image);

void envup_registry_login_dispose(envup_registry_login *l);

#endif
