/*
 * YAML text to an envup_yaml_node tree, through libyaml's event API.
 *
 * The builder keeps a stack of the collections being read. A node joins
 * its parent only once complete, so the parent's item count names the
 * child being read, which is how error messages get their key path.
 * libyaml's errors are translated here and nowhere else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "compose/yaml_tree.h"

#define PATH_MAX_LEN 512

typedef struct {
	char *name;
	envup_yaml_node *node;
} anchor;

typedef struct {
	const char *file;
	const char *data;
	size_t len;
	envup_yaml_node *stack[ENVUP_YAML_MAX_DEPTH];
	char *stack_anchor[ENVUP_YAML_MAX_DEPTH];
	size_t depth;
	envup_yaml_node *root;
	anchor *anchors;
	size_t nanchors;
	size_t total;   /* nodes so far, aliases expanded */
	size_t text;    /* scalar bytes so far, aliases expanded */
	int documents;
	size_t eof_line; /* libyaml's line (0-based) past an unterminated last line, or -1 */
	envup_pos eof;   /* the end of that last line */
} builder;

/* ---- nodes ---------------------------------------------------------------- */

void envup_yaml__release(envup_yaml_node *node)
{
	size_t i;

	if (!node || --node->refs > 0)
		return;
	for (i = 0; i < node->n; i++)
		envup_yaml__release(node->items[i]);
	envup__free(node->items);
	envup__free(node->text);
	envup__free(node);
}

envup_yaml_node *envup_yaml__get(const envup_yaml_node *map, const char *key,
	envup_yaml_node **key_node)
{
	size_t i;

	if (key_node)
		*key_node = NULL;
	if (!map || map->kind != ENVUP_YAML_MAP)
		return NULL;
	for (i = 0; i + 1 < map->n; i += 2) {
		if (strcmp(map->items[i]->text, key) == 0) {
			if (key_node)
				*key_node = map->items[i];
			return map->items[i + 1];
		}
	}
	return NULL;
}

static envup_yaml_node *node_new(envup_yaml_kind kind, envup_pos pos)
{
	envup_yaml_node *n = envup__calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = kind;
	n->pos = pos;
	n->refs = 1;
	n->count = 1;
	n->height = kind == ENVUP_YAML_SCALAR ? 0 : 1;
	return n;
}

static int node_push(envup_yaml_node *parent, envup_yaml_node *child)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 4;
		envup_yaml_node **items = envup__realloc(parent->items,
			cap * sizeof(*items));
		if (!items)
			return ENVUP_ERROR;
		parent->items = items;
		parent->cap = cap;
	}
	parent->items[parent->n++] = child;
	return 0;
}

/* count and height of a completed collection */
static void node_measure(envup_yaml_node *n)
{
	size_t i;

	n->count = 1;
	n->height = 1;
	n->bytes = 0;
	for (i = 0; i < n->n; i++) {
		n->count += n->items[i]->count;
		n->bytes += n->items[i]->bytes;
		if (n->items[i]->height + 1 > n->height)
			n->height = n->items[i]->height + 1;
	}
}

/* ---- messages ------------------------------------------------------------- */

/* Append ".key" (or "key" at the start) or "[index]"; truncates quietly. */
static void path_add(char *path, size_t *len, const char *key, size_t index)
{
	size_t room = PATH_MAX_LEN - *len;
	int w;

	if (room <= 1)
		return;
	if (key)
		w = snprintf(path + *len, room, "%s%s", *len ? "." : "", key);
	else
		w = snprintf(path + *len, room, "[%zu]", index);
	if (w > 0)
		*len += (size_t)w < room ? (size_t)w : room - 1;
}

/* Key path of the child being read by stack[levels - 1], plus `key`. */
static void builder_path(char *path, const builder *b, size_t levels,
	const char *key)
{
	size_t i, len = 0;

	path[0] = '\0';
	for (i = 0; i < levels; i++) {
		const envup_yaml_node *c = b->stack[i];
		if (c->kind == ENVUP_YAML_SEQ)
			path_add(path, &len, NULL, c->n);
		else if (c->n % 2 == 1)
			path_add(path, &len, c->items[c->n - 1]->text, 0);
	}
	if (key)
		path_add(path, &len, key, 0);
}

static int builder_error(const builder *b, envup_pos pos, size_t levels,
	const char *key, const char *fmt, ...) ENVUP_PRINTF(5, 6);

static int builder_error(const builder *b, envup_pos pos, size_t levels,
	const char *key, const char *fmt, ...)
{
	char path[PATH_MAX_LEN], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	builder_path(path, b, levels, key);
	if (path[0])
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s:%d:%d: %s: %s", b->file,
			pos.line, pos.col, path, msg);
	else
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s:%d:%d: %s", b->file,
			pos.line, pos.col, msg);
}

/*
 * libyaml ends the stream on a line of its own: at the end of an input
 * without a final line break, its marks name a line the file does not
 * have. Find the end of the last line once, counting lines as libyaml
 * does (\r\n, \r, \n, NEL, LS and PS end a line).
 */
static void eof_init(builder *b)
{
	const unsigned char *d = (const unsigned char *)b->data;
	size_t i, breaks = 0, tail = 0, w;

	b->eof_line = (size_t)-1;
	i = b->len >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF ? 3 : 0; /* BOM */
	for (; i < b->len; i += w) {
		w = 1;
		if (d[i] == '\r' && i + 1 < b->len && d[i + 1] == '\n')
			w = 2;
		else if (d[i] == 0xC2 && i + 1 < b->len && d[i + 1] == 0x85)
			w = 2;
		else if (d[i] == 0xE2 && i + 2 < b->len && d[i + 1] == 0x80 &&
		    (d[i + 2] == 0xA8 || d[i + 2] == 0xA9))
			w = 3;
		else if (d[i] != '\r' && d[i] != '\n') {
			tail += (d[i] & 0xC0) != 0x80;
			continue;
		}
		breaks++;
		tail = 0;
	}
	if (tail > 0) {
		b->eof_line = breaks + 1;
		b->eof.line = (int)breaks + 1;
		b->eof.col = (int)tail + 1;
	}
}

static envup_pos mark_pos(const builder *b, yaml_mark_t mark)
{
	envup_pos p = {(int)mark.line + 1, (int)mark.column + 1};

	if (mark.column == 0 && mark.line == b->eof_line)
		return b->eof;
	return p;
}

/* line:column of a byte offset (reader errors carry only the offset) */
static envup_pos offset_pos(const builder *b, size_t offset)
{
	envup_pos p = {1, 1};
	size_t i;

	for (i = 0; i < offset && i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];
		if (c == '\n') {
			p.line++;
			p.col = 1;
		} else if ((c & 0xC0) != 0x80) {
			p.col++;
		}
	}
	return p;
}

static int parser_error(const builder *b, const yaml_parser_t *parser)
{
	envup_pos pos;

	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		return envup_error_set_oom();
	case YAML_READER_ERROR:
		pos = offset_pos(b, parser->problem_offset);
		if (parser->problem_value != -1)
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s:%d:%d: %s (#x%X)", b->file,
				pos.line, pos.col, parser->problem,
				(unsigned)parser->problem_value);
		else
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s:%d:%d: %s", b->file,
				pos.line, pos.col, parser->problem);
	default:
		pos = mark_pos(b, parser->problem_mark);
		if (parser->context)
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s:%d:%d: %s (%s at line %d)",
				b->file, pos.line, pos.col,
				parser->problem ? parser->problem : "syntax error",
				parser->context, mark_pos(b, parser->context_mark).line);
		else
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s:%d:%d: %s", b->file,
				pos.line, pos.col,
				parser->problem ? parser->problem : "syntax error");
	}
}

/* ---- anchors -------------------------------------------------------------- */

static int anchor_set(builder *b, const char *name, envup_yaml_node *node)
{
	size_t i;
	anchor *v;
	char *copy;

	for (i = 0; i < b->nanchors; i++) {
		if (strcmp(b->anchors[i].name, name) == 0) {
			/* YAML lets a later anchor reuse a name */
			envup_yaml__release(b->anchors[i].node);
			node->refs++;
			b->anchors[i].node = node;
			return 0;
		}
	}
	if ((copy = envup__strdup(name)) == NULL)
		return ENVUP_ERROR;
	if ((v = envup__realloc(b->anchors, (b->nanchors + 1) * sizeof(*v))) == NULL) {
		envup__free(copy);
		return ENVUP_ERROR;
	}
	b->anchors = v;
	node->refs++;
	b->anchors[b->nanchors].name = copy;
	b->anchors[b->nanchors].node = node;
	b->nanchors++;
	return 0;
}

static envup_yaml_node *anchor_get(const builder *b, const char *name)
{
	size_t i;
	for (i = 0; i < b->nanchors; i++)
		if (strcmp(b->anchors[i].name, name) == 0)
			return b->anchors[i].node;
	return NULL;
}

/* ---- building ------------------------------------------------------------- */

static int count_nodes(builder *b, envup_pos pos, size_t n)
{
	b->total += n;
	if (b->total > ENVUP_YAML_MAX_NODES)
		return builder_error(b, pos, b->depth, NULL,
			"too many nodes (alias expansion?): the limit is %d",
			ENVUP_YAML_MAX_NODES);
	return 0;
}

/* 100000 aliases of a 500 KiB scalar fit in 1 MiB and would copy 50 GB */
static int count_text(builder *b, envup_pos pos, size_t n)
{
	b->text += n;
	if (b->text > ENVUP_YAML_MAX_TEXT)
		return builder_error(b, pos, b->depth, NULL,
			"too much text (alias expansion?): the limit is %zu MiB",
			ENVUP_YAML_MAX_TEXT / (1024 * 1024));
	return 0;
}

/* Give a complete node to its parent (or make it the root); takes the reference. */
static int attach(builder *b, envup_yaml_node *node)
{
	envup_yaml_node *parent;

	if (b->depth == 0) {
		b->root = node;
		return 0;
	}
	parent = b->stack[b->depth - 1];
	if (parent->kind == ENVUP_YAML_MAP && parent->n % 2 == 0 &&
	    node->kind != ENVUP_YAML_SCALAR) {
		builder_error(b, node->pos, b->depth, NULL,
			"mapping keys must be strings");
		envup_yaml__release(node);
		return ENVUP_ESPEC;
	}
	if (node_push(parent, node) < 0) {
		envup_yaml__release(node);
		return ENVUP_ERROR;
	}
	return 0;
}

static bool tag_known(const char *tag, bool *is_str, bool *is_null)
{
	static const char *const core[] = {"str", "int", "float", "bool", "null",
		"map", "seq"};
	static const char prefix[] = "tag:yaml.org,2002:";
	size_t i;

	*is_str = *is_null = false;
	if (strcmp(tag, "!") == 0) {
		*is_str = true;
		return true;
	}
	if (strncmp(tag, prefix, sizeof(prefix) - 1) != 0)
		return false;
	for (i = 0; i < ENVUP_ARRAY_SIZE(core); i++) {
		if (strcmp(tag + sizeof(prefix) - 1, core[i]) == 0) {
			*is_str = i == 0;
			*is_null = i == 4;
			return true;
		}
	}
	return false;
}

static const char *tag_display(const char *tag)
{
	static const char prefix[] = "tag:yaml.org,2002:";
	/* "!!name" is how the user wrote a core tag; point past the prefix */
	if (strncmp(tag, prefix, sizeof(prefix) - 1) == 0)
		return tag + sizeof(prefix) - 1;
	return tag;
}

static int on_scalar(builder *b, const yaml_event_t *ev)
{
	const char *value = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	envup_pos pos = mark_pos(b, ev->start_mark);
	envup_yaml_node *n;
	bool is_str = false, tag_null = false;
	int error;

	if ((error = count_nodes(b, pos, 1)) < 0 || (error = count_text(b, pos, len)) < 0)
		return error;
	if (tag && !tag_known(tag, &is_str, &tag_null))
		return builder_error(b, pos, b->depth, NULL,
			"unsupported tag '%s'", tag_display(tag));
	if (memchr(value, '\0', len))
		return builder_error(b, pos, b->depth, NULL,
			"a NUL character is not allowed in a value");
	if ((n = node_new(ENVUP_YAML_SCALAR, pos)) == NULL)
		return ENVUP_ERROR;
	if ((n->text = envup__strndup(value, len)) == NULL) {
		envup_yaml__release(n);
		return ENVUP_ERROR;
	}
	n->bytes = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !tag;
	n->is_null = tag_null || (n->plain && (len == 0 || strcmp(n->text, "~") == 0 ||
		strcmp(n->text, "null") == 0 || strcmp(n->text, "Null") == 0 ||
		strcmp(n->text, "NULL") == 0));
	if (ev->data.scalar.anchor &&
	    (error = anchor_set(b, (const char *)ev->data.scalar.anchor, n)) < 0) {
		envup_yaml__release(n);
		return error;
	}
	return attach(b, n);
}

static int on_alias(builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	envup_pos pos = mark_pos(b, ev->start_mark);
	envup_yaml_node *target = anchor_get(b, name), *n;
	envup_yaml_node *parent = b->depth ? b->stack[b->depth - 1] : NULL;
	int error;

	if (!target)
		return builder_error(b, pos, b->depth, NULL, "undefined alias '%s'", name);
	if (parent && parent->kind == ENVUP_YAML_MAP && parent->n % 2 == 0)
		return builder_error(b, pos, b->depth, NULL,
			"an alias cannot be a mapping key");
	if ((error = count_nodes(b, pos, target->count)) < 0 ||
	    (error = count_text(b, pos, target->bytes)) < 0)
		return error;
	if (b->depth + target->height > ENVUP_YAML_MAX_DEPTH)
		return builder_error(b, pos, b->depth, NULL,
			"nesting deeper than %d levels", ENVUP_YAML_MAX_DEPTH);
	if (target->kind != ENVUP_YAML_SCALAR) {
		target->refs++;
		return attach(b, target);
	}
	/* a scalar is copied: it may be interpolated in place later */
	if ((n = node_new(ENVUP_YAML_SCALAR, pos)) == NULL)
		return ENVUP_ERROR;
	n->pos = target->pos;
	n->bytes = target->bytes;
	n->plain = target->plain;
	n->is_null = target->is_null;
	if ((n->text = envup__strdup(target->text)) == NULL) {
		envup_yaml__release(n);
		return ENVUP_ERROR;
	}
	return attach(b, n);
}

static int on_start(builder *b, const yaml_event_t *ev, envup_yaml_kind kind)
{
	envup_pos pos = mark_pos(b, ev->start_mark);
	const char *tag, *name;
	envup_yaml_node *n;
	bool is_str, is_null;
	int error;

	if (kind == ENVUP_YAML_MAP) {
		tag = (const char *)ev->data.mapping_start.tag;
		name = (const char *)ev->data.mapping_start.anchor;
	} else {
		tag = (const char *)ev->data.sequence_start.tag;
		name = (const char *)ev->data.sequence_start.anchor;
	}
	if ((error = count_nodes(b, pos, 1)) < 0)
		return error;
	if (b->depth >= ENVUP_YAML_MAX_DEPTH)
		return builder_error(b, pos, b->depth, NULL,
			"nesting deeper than %d levels", ENVUP_YAML_MAX_DEPTH);
	if (tag && (!tag_known(tag, &is_str, &is_null) || is_str || is_null))
		return builder_error(b, pos, b->depth, NULL,
			"unsupported tag '%s'", tag_display(tag));
	if (b->depth > 0) {
		envup_yaml_node *parent = b->stack[b->depth - 1];
		if (parent->kind == ENVUP_YAML_MAP && parent->n % 2 == 0)
			return builder_error(b, pos, b->depth, NULL,
				"mapping keys must be strings");
	}
	if ((n = node_new(kind, pos)) == NULL)
		return ENVUP_ERROR;
	if (name && (b->stack_anchor[b->depth] = envup__strdup(name)) == NULL) {
		envup_yaml__release(n);
		return ENVUP_ERROR;
	}
	b->stack[b->depth++] = n;
	return 0;
}

typedef struct {
	const char *key;
	size_t index;  /* position in the candidate list */
	int rank;      /* 0 = written in the mapping, k = from the k-th merged mapping */
} pair_ref;

static int pair_cmp(const void *a, const void *b)
{
	const pair_ref *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->index < y->index ? -1 : (x->index > y->index);
}

/* Report the earliest key written twice in the completed mapping on top. */
static int check_duplicates(builder *b, const envup_yaml_node *map)
{
	size_t pairs = map->n / 2, i, dup = (size_t)-1, first = 0;
	pair_ref *refs;

	if (pairs < 2)
		return 0;
	if ((refs = envup__malloc(pairs * sizeof(*refs))) == NULL)
		return ENVUP_ERROR;
	for (i = 0; i < pairs; i++) {
		refs[i].key = map->items[2 * i]->text;
		refs[i].index = i;
		refs[i].rank = 0;
	}
	qsort(refs, pairs, sizeof(*refs), pair_cmp);
	for (i = 1; i < pairs; i++) {
		if (strcmp(refs[i].key, refs[i - 1].key) != 0)
			continue;
		if (dup == (size_t)-1 || refs[i].index < dup) {
			size_t j = i - 1;
			while (j > 0 && strcmp(refs[j - 1].key, refs[i].key) == 0)
				j--;
			dup = refs[i].index;
			first = refs[j].index;
		}
	}
	envup__free(refs);
	if (dup == (size_t)-1)
		return 0;
	return builder_error(b, map->items[2 * dup]->pos, b->depth - 1,
		map->items[2 * dup]->text, "duplicate key '%s' (first at line %d)",
		map->items[2 * dup]->text, map->items[2 * first]->pos.line);
}

static bool is_merge_key(const envup_yaml_node *k)
{
	return k->plain && strcmp(k->text, "<<") == 0;
}

/*
 * Resolve `<<: *map` or `<<: [*a, *b]` in the completed mapping on top:
 * keys written in the mapping win, then earlier merged mappings win over
 * later ones. Merged pairs take the place of the << key.
 */
static int resolve_merge(builder *b, envup_yaml_node *map)
{
	envup_yaml_node *mkey = NULL, *mval = NULL, **sources, **items = NULL;
	size_t nsources, i, j, at = 0, total, n = 0;
	pair_ref *refs = NULL;
	bool *drop = NULL;
	int error = ENVUP_ERROR;

	for (i = 0; i + 1 < map->n; i += 2) {
		if (is_merge_key(map->items[i])) {
			mkey = map->items[i];
			mval = map->items[i + 1];
			at = i;
			break;
		}
	}
	if (!mkey)
		return 0;
	if (mval->kind == ENVUP_YAML_MAP) {
		sources = &mval;
		nsources = 1;
	} else if (mval->kind == ENVUP_YAML_SEQ) {
		sources = mval->items;
		nsources = mval->n;
	} else {
		sources = NULL;
		nsources = 0;
	}
	for (i = 0; i < nsources && sources[i]->kind == ENVUP_YAML_MAP; i++)
		;
	if (!sources || i < nsources)
		return builder_error(b, mval->pos, b->depth - 1, "<<",
			"a merge key needs a mapping or a sequence of mappings");

	/* candidates, in output order: before <<, merged, after << */
	total = map->n - 2;
	for (i = 0; i < nsources; i++)
		total += sources[i]->n;
	if ((items = envup__calloc(total ? total : 1, sizeof(*items))) == NULL ||
	    (refs = envup__calloc(total / 2 + 1, sizeof(*refs))) == NULL ||
	    (drop = envup__calloc(total / 2 + 1, sizeof(*drop))) == NULL)
		goto done;
	for (i = 0; i < at; i += 2) {
		refs[n / 2] = (pair_ref){map->items[i]->text, n / 2, 0};
		items[n++] = map->items[i];
		items[n++] = map->items[i + 1];
	}
	for (j = 0; j < nsources; j++) {
		for (i = 0; i + 1 < sources[j]->n; i += 2) {
			refs[n / 2] = (pair_ref){sources[j]->items[i]->text, n / 2, (int)j + 1};
			items[n++] = sources[j]->items[i];
			items[n++] = sources[j]->items[i + 1];
		}
	}
	for (i = at + 2; i + 1 < map->n; i += 2) {
		refs[n / 2] = (pair_ref){map->items[i]->text, n / 2, 0};
		items[n++] = map->items[i];
		items[n++] = map->items[i + 1];
	}
	qsort(refs, n / 2, sizeof(*refs), pair_cmp);
	for (i = 1; i < n / 2; i++)
		if (strcmp(refs[i].key, refs[i - 1].key) == 0)
			drop[refs[i].index] = true;

	/* keep: written pairs move over, merged pairs gain a reference */
	for (i = 0, j = 0; i < n / 2; i++) {
		bool merged = 2 * i >= at && 2 * i < at + total - (map->n - 2);
		if (drop[i])
			continue;
		if (merged) {
			items[2 * i]->refs++;
			items[2 * i + 1]->refs++;
		}
		items[j++] = items[2 * i];
		items[j++] = items[2 * i + 1];
	}
	envup_yaml__release(mkey);
	envup_yaml__release(mval);
	envup__free(map->items);
	map->items = items;
	map->n = j;
	map->cap = total ? total : 1;
	items = NULL;
	node_measure(map);
	error = 0;
done:
	envup__free(items);
	envup__free(refs);
	envup__free(drop);
	return error;
}

static int on_end(builder *b)
{
	envup_yaml_node *n = b->stack[b->depth - 1];
	char *name = b->stack_anchor[b->depth - 1];
	int error;

	if (n->kind == ENVUP_YAML_MAP) {
		if ((error = check_duplicates(b, n)) < 0 ||
		    (error = resolve_merge(b, n)) < 0)
			return error;
	}
	node_measure(n);
	b->depth--;
	b->stack[b->depth] = NULL;
	b->stack_anchor[b->depth] = NULL;
	if (name) {
		error = anchor_set(b, name, n);
		envup__free(name);
		if (error < 0) {
			envup_yaml__release(n);
			return error;
		}
	}
	return attach(b, n);
}

static int on_event(builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->documents++ > 0)
			return builder_error(b, mark_pos(b, ev->start_mark), 0, NULL,
				"a second YAML document: a spec is one document");
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, ENVUP_YAML_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, ENVUP_YAML_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(b);
	default:
		return 0;
	}
}

int envup_yaml__parse(envup_yaml_node **out, const char *file,
	const char *data, size_t len)
{
	builder b;
	yaml_parser_t parser;
	yaml_event_t ev;
	bool parser_ready = false, done_stream = false;
	size_t i;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(out && file && (data || len == 0));
	*out = NULL;
	memset(&b, 0, sizeof(b));
	b.file = file;
	b.data = data;
	b.len = len;
	eof_init(&b);
	if (!yaml_parser_initialize(&parser)) {
		error = envup_error_set_oom();
		goto done;
	}
	parser_ready = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)(data ? data : ""), len);
	while (!done_stream) {
		if (!yaml_parser_parse(&parser, &ev)) {
			error = parser_error(&b, &parser);
			goto done;
		}
		done_stream = ev.type == YAML_STREAM_END_EVENT;
		error = on_event(&b, &ev);
		yaml_event_delete(&ev);
		if (error < 0)
			goto done;
	}
	*out = b.root;
	b.root = NULL;
	error = 0;
done:
	if (parser_ready)
		yaml_parser_delete(&parser);
	for (i = 0; i < b.depth; i++) {
		envup_yaml__release(b.stack[i]);
		envup__free(b.stack_anchor[i]);
	}
	for (i = 0; i < b.nanchors; i++) {
		envup__free(b.anchors[i].name);
		envup_yaml__release(b.anchors[i].node);
	}
	envup__free(b.anchors);
	envup_yaml__release(b.root);
	return error;
}
