/*
 * Reading typed values out of an envup_yaml_node tree: the current key
 * path, "FILE:LINE:COL: KEY.PATH: message" errors, ${VAR} interpolation of
 * scalar values on first read, and the shared type checks.
 *
 * Every envup_decode__* function that fails with ENVUP_ESPEC has set the
 * error message; ENVUP_ERROR means out of memory.
 * Ownership: strings returned through `const char **` are borrowed from
 * the tree; those through `char **` and lists are the caller's.
 */
#ifndef ENVUP_COMPOSE_DECODE_H
#define ENVUP_COMPOSE_DECODE_H

#include "compose/spec.h"
#include "compose/yaml_tree.h"

#define ENVUP_DECODE_PATH_MAX 512

typedef struct {
	const char *file;            /* name used in messages */
	char path[ENVUP_DECODE_PATH_MAX]; /* the current key path */
	size_t plen;
	bool interpolate;            /* apply ${VAR} to scalar values */
	bool bare_vars;              /* $VAR too (Compose files) */
	envup_getenv_fn getenv_fn;   /* NULL = getenv(3) */
	void *payload;
	envup_strlist *errors;       /* every error recorded, when not NULL */
} envup_decode;

/** Descend into `key`; returns the mark to pass to envup_decode__pop(). */
size_t envup_decode__push(envup_decode *d, const char *key);
/** Descend into item `index` of a sequence. */
size_t envup_decode__push_index(envup_decode *d, size_t index);
void envup_decode__pop(envup_decode *d, size_t mark);

/**
 * Record "FILE:LINE:COL: PATH: message" at `pos` as the thread's error and
 * append it to d->errors; returns ENVUP_ESPEC (ENVUP_ERROR when it could
 * not be appended). Decoders go on after an ENVUP_ESPEC where what follows
 * does not depend on what failed, so that one run reports every error.
 */
int envup_decode__error(const envup_decode *d, envup_pos pos, const char *fmt, ...)
	ENVUP_PRINTF(3, 4);

/**
 * An error about the file as a whole ("FILE: message", no position),
 * recorded like envup_decode__error(); returns ENVUP_ESPEC (ENVUP_ERROR
 * when it could not be recorded).
 */
int envup_decode__file_error(const envup_decode *d, const char *fmt, ...) ENVUP_PRINTF(2, 3);

/**
 * Go on after a spec error (one run reports them all), not after running
 * out of memory: ENVUP_ESPEC sets *failed and gives 0; others pass.
 */
int envup_decode__go_on(int error, bool *failed);

/** A command: one string split like a shell would (no shell), or a list. */
int envup_decode__command(envup_strlist *out, envup_decode *d, envup_yaml_node *v);

/** The text of a scalar (interpolated); errors on null and collections. */
int envup_decode__string(const char **out, envup_decode *d, envup_yaml_node *n,
	const char *expected);
/** An integer in [min, max] ("expected an integer from MIN to MAX"). */
int envup_decode__int(int *out, envup_decode *d, envup_yaml_node *n, int min, int max);
/** true/false (YAML 1.2 core spellings). */
int envup_decode__bool(bool *out, envup_decode *d, envup_yaml_node *n);
/**
 * A sequence of strings, or (when `single` is set) one string taken as a
 * one-item list. Appends to out.
 */
int envup_decode__strlist(envup_strlist *out, envup_decode *d, envup_yaml_node *n,
	bool single);
/** Fails with "expected a mapping" unless n is one. */
int envup_decode__mapping(envup_decode *d, const envup_yaml_node *n);

/** True for "x-..." keys, which are ignored where a schema is checked. */
bool envup_decode__is_extension(const char *key);

/**
 * "unknown key (did you mean 'env'?)", or with the known keys listed,
 * at `key`. `known` is NULL terminated. Returns ENVUP_ESPEC.
 */
int envup_decode__unknown_key(envup_decode *d, const envup_yaml_node *key,
	const char *const *known);

/** The closest of `candidates` (NULL terminated) within edit distance 2, or NULL. */
const char *envup_decode__suggest(const char *word, const char *const *candidates);
/** The same over a list of n strings with a stride (e.g. an array of structs). */
const char *envup_decode__suggest_in(const char *word, const void *base, size_t n,
	size_t stride, size_t offset);

#endif
