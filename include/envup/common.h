/*
 * Return codes, the thread-local error, and the pluggable allocator.
 *
 * Every fallible envup function returns an int: 0 on success, a negative
 * code on failure. ENVUP_ERROR is the generic failure; the other codes are
 * failures a caller can act on. The one-line message of the most recent
 * failure on this thread is read with envup_error_last().
 */
#ifndef ENVUP_COMMON_H
#define ENVUP_COMMON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ENVUP_VERSION_STRING "0.3.0"

/*
 * ENVUP_EXTERN(type) marks a public function: the library is built with
 * -fvisibility=hidden, so only what is declared with it is exported.
 */
#if defined(__GNUC__) && __GNUC__ >= 4
#define ENVUP_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#define ENVUP_EXTERN(type) extern type
#endif

/** Return codes. */
enum {
	ENVUP_OK         =  0,
	ENVUP_ERROR      = -1, /**< generic failure; see envup_error_last() */
	ENVUP_ENOTFOUND  = -3, /**< no such environment, image, container... */
	ENVUP_EEXISTS    = -4, /**< an environment of that name is already up */
	ENVUP_ETIMEOUT   = -5, /**< a deadline passed */
	ENVUP_EUNHEALTHY = -6, /**< a service exited or never became ready */
	ENVUP_EDOCKER    = -7, /**< the engine cannot be reached or refused */
	ENVUP_ESPEC      = -8, /**< the spec or the request is invalid */
	ENVUP_ECANCELLED = -9, /**< the caller's cancel flag was raised */
	ENVUP_ENOTOWNER  = -10 /**< the environment belongs to a live owner that is not the caller */
};

/** Error classes: the subsystem that failed. */
typedef enum {
	ENVUP_ERROR_NONE = 0,
	ENVUP_ERROR_NOMEMORY,
	ENVUP_ERROR_OS,
	ENVUP_ERROR_DOCKER,
	ENVUP_ERROR_SPEC,
	ENVUP_ERROR_JSON,
	ENVUP_ERROR_PG,
	ENVUP_ERROR_REDIS,
	ENVUP_ERROR_HTTP,
	ENVUP_ERROR_HEALTH,
	ENVUP_ERROR_CANCELLED,
	ENVUP_ERROR_INTERNAL
} envup_error_class;

/** The last error on this thread. */
typedef struct {
	const char *message; /**< one line, no trailing newline, secrets masked */
	int klass;           /**< an envup_error_class */
} envup_error;

/**
 * The last error recorded on the calling thread.
 *
 * @return a borrowed pointer, valid until the next envup call on this
 *         thread; never NULL (an empty message when there was none).
 */
ENVUP_EXTERN(const envup_error *) envup_error_last(void);

/**
 * How many errors the last error stands for: a spec with several mistakes
 * fails once, with every one of them recorded (the message is the first).
 *
 * @return 0 when the last error is a single one, else the number of
 *         errors found (which may be more than envup_error_detail_count())
 */
ENVUP_EXTERN(size_t) envup_error_count(void);

/**
 * How many lines envup_error_detail() gives: at least 1 (the message
 * alone when the error is a single one), at most 100.
 */
ENVUP_EXTERN(size_t) envup_error_detail_count(void);

/**
 * Line `i` of the last error, each one line of the same form as the
 * message ("FILE:LINE:COL: KEY.PATH: what is wrong" for a spec).
 *
 * @return a borrowed string valid until the next envup call on this
 *         thread, or NULL when i >= envup_error_detail_count()
 */
ENVUP_EXTERN(const char *) envup_error_detail(size_t i);

/** Forget the last error on the calling thread. */
ENVUP_EXTERN(void) envup_error_clear(void);

/** Allocator hooks, for tests that inject allocation failures. */
typedef struct {
	void *(*malloc_fn)(size_t n);
	void *(*realloc_fn)(void *p, size_t n);
	void (*free_fn)(void *p);
} envup_allocator;

/**
 * Replace the allocator of envup's own allocations (NULL restores the
 * default). The libraries envup uses (cJSON, libcurl, libyaml, libpq,
 * hiredis) keep their own allocators: envup never changes them, so a host
 * program's own use of cJSON is left as the host set it up. Call before
 * any other envup function; not thread-safe.
 */
ENVUP_EXTERN(void) envup_set_allocator(const envup_allocator *allocator);

/** Free memory the library handed to the caller (strings from envup_*). */
ENVUP_EXTERN(void) envup_free(void *p);

/** The library's version, "MAJOR.MINOR.PATCH". */
ENVUP_EXTERN(const char *) envup_version(void);

#ifdef __cplusplus
}
#endif

#endif
