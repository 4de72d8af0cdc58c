/*
 * Isolation between tests: a database of its own per test, and putting
 * an environment back as `up` left it.
 *
 * postgres: envup_db_new() hands out a database nobody else holds, a
 * clone of the main database just after its init scripts (the template,
 * exported as <SERVICE>_TEMPLATE), ready in a pool that is refilled in the
 * background; from any number of threads and processes at once.
 * redis: a database number nobody else holds, flushed when handed out;
 * numbers 1 .. databases-1 that no export names (the built-in template
 * runs redis-server --databases 128: 127 at once). Past that: an error,
 * never a shared number.
 *
 * Ownership: *url is the caller's, freed with envup_free(). The handle
 * keeps a connection per postgres service for later calls (closed by
 * envup_env_free()); calls on one handle from several threads are safe and
 * take turns on that connection: from the pool a call takes well under a
 * millisecond, but when the pool is empty a clone made on demand holds the
 * others back. Threads that want their clones made at once use a handle
 * each (envup_env_open()).
 * What is handed out goes with the environment (envdown).
 */
#ifndef ENVUP_DB_H
#define ENVUP_DB_H

#include <stddef.h>
#include "common.h"
#include "env.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A database of its own for one test, as a URL: "postgres://.../NAME?..."
 * (the service's URL with another database) or "redis://...:PORT/N".
 * @param holder who holds it, recorded with it (NULL: "pid N")
 * @return 0; ENVUP_ENOTFOUND (no such service), ENVUP_ESPEC (the service
 *         is neither postgres nor redis, or has no template), ENVUP_ERROR
 *         (the server refused: the pool cannot grow, every number is held)
 */
ENVUP_EXTERN(int) envup_db_new(char **url, const envup_env *env, const char *service,
	const char *holder);

/**
 * Give back a database from envup_db_new() (by its URL): a postgres one
 * is dropped, a redis number flushed and freed. A URL envup did not hand
 * out is ENVUP_ENOTFOUND, and nothing is touched.
 */
ENVUP_EXTERN(int) envup_db_drop(const envup_env *env, const char *url);

/** A database handed out and not given back (envup_db_list()). */
typedef struct {
	char *service;
	char *database;    /**< a postgres database's name, or a redis number */
	char *holder;      /**< as envup_db_new() was told ("" when not) */
	long long since;   /**< unix seconds; 0 when unknown */
} envup_db_held;

/**
 * Every database handed out and not given back, of every postgres and
 * redis service (no URLs: they hold the password).
 * @param[out] out freed with envup_db_list_free()
 */
ENVUP_EXTERN(int) envup_db_list(envup_db_held **out, size_t *count, const envup_env *env);
ENVUP_EXTERN(void) envup_db_list_free(envup_db_held *v, size_t count);

/**
 * Put services back as `up` left them: a postgres main database is
 * recreated from the template (connections to it are ended), a redis is
 * flushed (every database not handed out), a MockServer's expectations
 * are cleared and the spec's loaded again. `services` NULL (or n 0): all
 * of those; a named service of another kind is ENVUP_ESPEC.
 * Databases handed out by envup_db_new() are left alone.
 */
ENVUP_EXTERN(int) envup_env_reset(const envup_env *env, const char *const *services, size_t n);

#ifdef __cplusplus
}
#endif

#endif
