/*
 * Databases per test for a redis service (redisdb.c): numbers nobody else
 * holds, recorded on the host under a lock.
 */
#ifndef ENVUP_PROVISION_REDISDB_H
#define ENVUP_PROVISION_REDISDB_H

#include <stdbool.h>
#include "util/util.h"

typedef struct {
	const char *env_name;
	const char *instance;     /* the environment's instance */
	const char *service;
	const char *host;
	int port;
	const char *password;     /* NULL: no AUTH */
	const char *url;          /* the service's URL, for the exports' numbers */
	const char *const *exports; /* every export's value */
	size_t nexports;
} envup_redis_where;

/** Hand out a number nobody holds (flushed); *number on success.
 *  `holder` (may be NULL) is recorded with it. */
int envup_redisdb_new(int *number, const envup_redis_where *w, const char *holder);

typedef struct {
	int number;
	long long since;      /* unix seconds */
	char holder[64];
} envup_redis_held;

/** The numbers held now (malloc'd array, envup__free). */
int envup_redisdb_held(envup_redis_held **out, size_t *count, const envup_redis_where *w);

/** Give `number` back (flushed); ENVUP_ENOTFOUND when it was not handed out. */
int envup_redisdb_drop(const envup_redis_where *w, int number);

/** Flush what no test holds (FLUSHALL when none is held). */
int envup_redisdb_reset(const envup_redis_where *w);

#endif
