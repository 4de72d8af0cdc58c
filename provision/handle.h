/*
 * Private: the envup_env handle's insides (the public getters are in
 * include/envup/env.h; handle.c holds them). Every string is owned by the
 * handle and freed by envup_env_free().
 */
#ifndef ENVUP_PROVISION_HANDLE_H
#define ENVUP_PROVISION_HANDLE_H

#include <pthread.h>
#include "envup.h"
#include "util/util.h"

/** One service of a running environment: where its ports are reached. */
typedef struct {
	char *name;
	char *host;
	envup_kvlist ports;   /* "5432" -> "49153", in the spec's order */
	char *url;            /* NULL when the service has no URL */
	/* what `envup db` and `envup reset` need (NULL when not known) */
	char *kind;           /* the template: "postgres", "redis", "mockserver" */
	char *user;           /* postgres: the superuser */
	char *password;       /* postgres, redis */
	char *database;       /* postgres: the main database */
	char *template_db;    /* postgres: the template of the main database */
	char *expectations;   /* mockserver: the expectations file (absolute) */
} envup_env__service;

/** The per-handle cache of `envup db` connections (db.c). */
struct envup_db_cache;

struct envup_env {
	char *name;
	envup_kvlist exports; /* in spec order: automatic exports, then the spec's */
	envup_strlist secrets;/* values to mask: passwords, and their URL forms */
	char *owner;          /* "session 4711 (bash)", NULL without owner */
	long long expires;    /* unix seconds, 0 unknown */
	char instance[17];    /* "" unknown */
	char *docker_host;    /* as given to up; NULL: the default */
	envup_env__service *services;
	size_t nservices;
	pthread_mutex_t db_lock;      /* guards db */
	struct envup_db_cache *db;    /* made by the first envup_db_new() */
};

/** A zeroed handle with its lock made (freed with envup_env_free()). */
envup_env *envup_env__alloc(void);

/** The last service added (for setting the fields above). */
envup_env__service *envup_env__last_service(envup_env *env);

/** Close the cached connections (db.c); accepts NULL. */
void envup_db__cache_free(struct envup_db_cache *cache);

/** A handle named `name` holding a copy of `exports` (nothing else yet). */
int envup_env__new(envup_env **out, const char *name, const envup_kvlist *exports);

/** Append a service record (copied). */
int envup_env__add_service(envup_env *env, const char *name, const char *host,
	const envup_kvlist *ports, const char *url);

#endif
