/*
 * Networks and volumes, created and found by label.
 */
#ifndef ENVUP_PROVISION_NETWORK_H
#define ENVUP_PROVISION_NETWORK_H

#include "provision/engine.h"

/** Create a bridge network. 409 returns ENVUP_EEXISTS. */
int envup_network_create(char **id_out, envup_engine *e, const char *name,
	const envup_kvlist *labels);

/** The same with another driver: "overlay" (a swarm's, made attachable). */
int envup_network_create_with(char **id_out, envup_engine *e, const char *name,
	const char *driver, const envup_kvlist *labels);

/** Remove; 404 is success. */
int envup_network_remove(envup_engine *e, const char *name_or_id);

/** Names of networks carrying every label ("k=v" or "k"). */
int envup_network_list(envup_strlist *names, envup_engine *e, const envup_strlist *labels);

/** A network as the engine lists it. */
typedef struct {
	char *id;
	char *name;
	long long created;   /* unix seconds (0 when the engine gave none) */
	long created_ns;     /* nanoseconds within that second */
	envup_kvlist labels;
} envup_network_info;

/**
 * Networks named exactly `name` (NULL: any name) that carry every label in
 * `labels` (NULL: any). Several networks may share a name: engines before
 * API 1.44 check duplicates racily. Remove them by id, never by name.
 * @param[out] out array freed with envup_network_infos_free()
 */
int envup_network_find(envup_network_info **out, size_t *count, envup_engine *e,
	const char *name, const envup_strlist *labels);
void envup_network_infos_free(envup_network_info *v, size_t n);

/** Names of volumes carrying every label. */
int envup_volume_list(envup_strlist *names, envup_engine *e, const envup_strlist *labels);

/** A volume as the engine lists it. */
typedef struct {
	char *name;
	envup_kvlist labels;
} envup_volume_info;

/** Volumes carrying every label; free with envup_volume_infos_free(). */
int envup_volume_find(envup_volume_info **out, size_t *count, envup_engine *e,
	const envup_strlist *labels);
void envup_volume_infos_free(envup_volume_info *v, size_t n);

/**
 * Create volume `name` with `labels`. The engine answers an existing
 * volume of the name as if it had made it: unless that volume carries
 * every one of `labels` (it is this environment's), it is an error and
 * the volume is left alone.
 */
int envup_volume_create(envup_engine *e, const char *name, const envup_kvlist *labels);

/** Remove a volume; 404 is success. */
int envup_volume_remove(envup_engine *e, const char *name);

#endif
