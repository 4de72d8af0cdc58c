/*
 * Networks and volumes, created and found by label.
 */
#ifndef ENVUP_PROVISION_NETWORK_H
#define ENVUP_PROVISION_NETWORK_H

#include "provision/engine.h"

/** Create a bridge network. 409 returns ENVUP_EEXISTS. */
int envup_network_create(char **id_out, envup_engine *e, const char *name,
	const envup_kvlist *labels);

/** Remove; 404 is success. */
int envup_network_remove(envup_engine *e, const char *name_or_id);

/** Names of networks carrying every label ("k=v" or "k"). */
int envup_network_list(envup_strlist *names, envup_engine *e, const envup_strlist *labels);

/** Names of volumes carrying every label. */
int envup_volume_list(envup_strlist *names, envup_engine *e, const envup_strlist *labels);

/** Remove a volume; 404 is success. */
int envup_volume_remove(envup_engine *e, const char *name);

#endif
