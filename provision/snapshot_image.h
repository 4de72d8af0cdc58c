/*
 * Engine calls for snapshot images (snapshot.h): an image's id and
 * entrypoint, committing a container, listing images by label, removing
 * one. Ownership: every string and list in the structs is the struct's,
 * freed by its _dispose/_free function.
 */
#ifndef ENVUP_PROVISION_SNAPSHOT_IMAGE_H
#define ENVUP_PROVISION_SNAPSHOT_IMAGE_H

#include "provision/engine.h"
#include "util/util.h"

typedef struct {
	char *id;                 /* "sha256:..." */
	envup_strlist entrypoint; /* Config.Entrypoint (may be empty) */
	envup_strlist cmd;        /* Config.Cmd */
	envup_kvlist labels;      /* Config.Labels (read back: untrusted) */
} envup_image_info;

#define ENVUP_IMAGE_INFO_INIT {NULL, ENVUP_STRLIST_INIT, ENVUP_STRLIST_INIT, ENVUP_KVLIST_INIT}

/** Inspect `image`; ENVUP_ENOTFOUND when it is not there. */
int envup_image_info_get(envup_image_info *out, envup_engine *e, const char *image);
void envup_image_info_dispose(envup_image_info *info);

/**
 * POST /commit: container `id` as repo:tag (repo NULL: untagged), with `config` (a
 * ContainerConfig in JSON: what replaces the container's own; the engine
 * keeps the container's values for what `config` leaves out). Never
 * pauses the container.
 * @param[out] image_id the new image's id (malloc'd; may be NULL)
 */
int envup_image_commit(char **image_id, envup_engine *e, const char *id, const char *repo,
	const char *tag, const char *config);

/** POST /images/ID/tag: name image `id` repo:tag. */
int envup_image_tag(envup_engine *e, const char *id, const char *repo, const char *tag);

typedef struct {
	char *id;
	envup_strlist tags;   /* RepoTags */
	envup_kvlist labels;
	long long created;    /* unix seconds */
	long long size;       /* bytes */
} envup_image_summary;

/** GET /images/json filtered by `label` ("key" or "key=value"). */
int envup_image_list(envup_image_summary **out, size_t *count, envup_engine *e, const char *label);
void envup_image_list_free(envup_image_summary *v, size_t n);

/** DELETE /images/ID (untags and removes; never forced). Gone: 0. */
int envup_image_remove(envup_engine *e, const char *id);

#endif
