/*
 * Images: name rewriting for mirrors, and pulling what is missing.
 */
#ifndef ENVUP_PROVISION_IMAGE_H
#define ENVUP_PROVISION_IMAGE_H

#include <stdbool.h>
#include "provision/engine.h"

/**
 * True when `image` lives on Docker Hub: no registry host in its first
 * path component (no '.', ':' and not "localhost"), or "docker.io/...".
 */
bool envup_image_is_hub(const char *image);

/**
 * Rewrite a Docker Hub image name with `prefix` ("host:port/"):
 * "postgres:16-alpine" -> "host:port/postgres:16-alpine",
 * "docker.io/library/redis:7" -> "host:port/redis:7",
 * "mockserver/mockserver:5.15.0" -> "host:port/mockserver/mockserver:5.15.0".
 * Other registries and a NULL/empty prefix leave the name unchanged.
 * A prefix without a trailing '/' gets one. Returns malloc'd string.
 */
char *envup_image_rewrite(const char *image, const char *prefix);

/** Pull progress for the CLI: a human line such as "3/7 layers". */
typedef void (*envup_image_progress_cb)(const char *image, const char *detail, void *payload);

/**
 * Make sure `image` is present: inspect; pull (fromImage + tag) when
 * missing. An error inside the pull stream fails ("pull IMAGE: MESSAGE").
 * Concurrent calls for the same image in one process pull it once.
 */
int envup_image_ensure(envup_engine *e, const char *image,
	envup_image_progress_cb cb, void *payload);

/**
 * Pulls started by this process so far (for tests of the single flight).
 */
size_t envup_image__pull_count(void);

/**
 * Split a reference the way POST /images/create wants it: `repo`
 * ("127.0.0.1:5858/postgres") and either `tag` ("16-alpine"; "latest" when
 * none) or `digest` ("sha256:...", then *tag is NULL). A registry port is
 * never taken for a tag. All three malloc'd (NULL when absent), also on
 * failure; ENVUP_ESPEC for an empty part.
 */
int envup_image__split(char **repo, char **tag, char **digest, const char *image);

#endif
