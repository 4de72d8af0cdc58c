/*
 * Warm starts: the snapshots envup keeps of postgres services just after
 * their init scripts (see `envup snapshot` in envup(1)). envup_up() takes
 * and uses them by itself; these calls list and remove them.
 *
 * Ownership: arrays are the caller's, freed with envup_snapshot_list_free().
 */
#ifndef ENVUP_SNAPSHOT_H
#define ENVUP_SNAPSHOT_H

#include <stddef.h>
#include "common.h"
#include "target.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One snapshot image. */
typedef struct {
	char *key;        /**< 64 hex digits: what determines the data */
	char *image;      /**< "envup-snapshot:KEY" */
	char *env_name;   /**< the environment whose up made it */
	char *service;
	long long created;/**< unix seconds */
	long long size;   /**< bytes (the image's, base layers included) */
} envup_snapshot_info;

/** How many snapshots envup_snapshot_prune() (and `envup gc`) keeps per
 *  environment name and service. */
#define ENVUP_SNAPSHOTS_KEPT 3

/**
 * Every snapshot image on the target's engine, newest first: images
 * labelled as envup's and tagged envup-snapshot:KEY of their own key;
 * nothing else is ever listed or removed.
 */
ENVUP_EXTERN(int) envup_snapshot_list(envup_snapshot_info **out, size_t *count,
	const envup_target *target);
ENVUP_EXTERN(void) envup_snapshot_list_free(envup_snapshot_info *v, size_t count);

/**
 * Remove every snapshot whose key starts with `key_prefix` (4 to 64 hex
 * digits; NULL: all of them).
 * @param[out] removed how many went (may be NULL)
 * @return 0; ENVUP_ENOTFOUND when a prefix matches none; ENVUP_ESPEC for
 *         a prefix that is not 4 to 64 lower-case hex digits
 */
ENVUP_EXTERN(int) envup_snapshot_remove(size_t *removed, const char *key_prefix,
	const envup_target *target);

/** Keep the newest ENVUP_SNAPSHOTS_KEPT per environment name and service. */
ENVUP_EXTERN(int) envup_snapshot_prune(size_t *removed, const envup_target *target);

#ifdef __cplusplus
}
#endif

#endif
