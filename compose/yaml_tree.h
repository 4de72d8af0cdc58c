/*
 * A YAML document as a tree of nodes that remember where they were
 * written, built from libyaml's event API with the limits an untrusted
 * spec needs: nesting depth, node count and text size after alias
 * expansion (alias bombs: an aliased scalar is copied, and whatever reads
 * a shared collection copies its strings), duplicate keys, and merge keys
 * (<<) resolved.
 *
 * Aliases share the anchored collection (reference counted); an aliased
 * scalar is copied. A shared node keeps the position of its anchor.
 *
 * Ownership: envup_yaml__parse() returns a root the caller releases with
 * envup_yaml__release(). Nodes are owned by their parents.
 */
#ifndef ENVUP_COMPOSE_YAML_TREE_H
#define ENVUP_COMPOSE_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include "compose/spec.h"

/* Limits on a parsed document. */
#define ENVUP_YAML_MAX_DEPTH 64       /* nested collections */
#define ENVUP_YAML_MAX_NODES 100000   /* nodes, aliases expanded */
#define ENVUP_YAML_MAX_TEXT ((size_t)8 * 1024 * 1024) /* scalar bytes, aliases expanded */

typedef enum {
	ENVUP_YAML_SCALAR = 0,
	ENVUP_YAML_SEQ,
	ENVUP_YAML_MAP
} envup_yaml_kind;

typedef struct envup_yaml_node {
	envup_yaml_kind kind;
	envup_pos pos;
	unsigned refs;
	char *text;       /* scalar: its text (interpolated in place once) */
	bool plain;       /* scalar: plain style and no tag */
	bool is_null;     /* scalar: plain ~, null, Null, NULL or nothing */
	bool expanded;    /* scalar: ${VAR} interpolation has been applied */
	struct envup_yaml_node **items; /* seq: items; map: key, value, key, value... */
	size_t n;         /* entries in items (a map has n / 2 pairs) */
	size_t cap;       /* allocated entries */
	size_t count;     /* nodes in this subtree, aliases expanded */
	size_t bytes;     /* scalar text in this subtree, aliases expanded */
	unsigned height;  /* collections nested in this subtree, itself included */
} envup_yaml_node;

/**
 * Parse one YAML document.
 * @param[out] out the root, or NULL when the input holds no document
 *                 (empty, only comments); NULL on failure
 * @param file name used in messages
 * @return 0, ENVUP_ESPEC ("FILE:LINE:COL: [KEY.PATH: ]message") or
 *         ENVUP_ERROR (out of memory)
 */
int envup_yaml__parse(envup_yaml_node **out, const char *file,
	const char *data, size_t len);

/** Drop a reference to a node; accepts NULL. */
void envup_yaml__release(envup_yaml_node *node);

/** The value of `key` in mapping `map` (NULL when absent); sets *key_node. */
envup_yaml_node *envup_yaml__get(const envup_yaml_node *map, const char *key,
	envup_yaml_node **key_node);

#endif
