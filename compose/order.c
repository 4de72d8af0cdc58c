/*
 * Dependency order: Kahn's algorithm with a min-heap of spec indexes, so
 * that among the services ready to go the first written goes first.
 * Everything is iterative and O((services + edges) log services): a spec
 * may hold tens of thousands of services.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compose/order.h"
#include "compose/validate.h"

typedef struct {
	const char *name;
	size_t index;
} name_ref;

typedef struct {
	const envup_spec *spec;
	name_ref *by_name; /* the services sorted by name */
	size_t **deps;     /* deps[i]: indexes of the services i depends on */
	size_t *ndeps;
} graph;

static int by_name_cmp(const void *a, const void *b)
{
	return strcmp(((const name_ref *)a)->name, ((const name_ref *)b)->name);
}

static size_t find(const graph *g, const char *name)
{
	size_t lo = 0, hi = g->spec->nservices;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(g->by_name[mid].name, name);
		if (c == 0)
			return g->by_name[mid].index;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (size_t)-1;
}

/* position and key path of depends_on entry j of service i */
static envup_pos dep_at(envup_spec *spec, envup_service_src *srcs,
	envup_decode *d, size_t i, size_t j)
{
	envup_yaml_node *v = srcs[i].value[ENVUP_SVC_DEPENDS_ON];

	envup_spec__path_service(d, spec->services[i].name);
	envup_decode__push(d, "depends_on");
	if (v->kind != ENVUP_YAML_SEQ)
		return v->pos;
	envup_decode__push_index(d, j);
	return v->items[j]->pos;
}

static int resolve(graph *g, envup_spec *spec, envup_service_src *srcs,
	envup_decode *d)
{
	size_t *seen, i, j;
	int error = ENVUP_ERROR;

	/* seen[k] == i + 1: service i already lists k */
	if ((seen = envup__calloc(spec->nservices, sizeof(size_t))) == NULL)
		return ENVUP_ERROR;
	for (i = 0; i < spec->nservices; i++) {
		const envup_strlist *names = &spec->services[i].depends_on;
		if (names->n == 0)
			continue;
		if ((g->deps[i] = envup__calloc(names->n, sizeof(size_t))) == NULL)
			goto done;
		for (j = 0; j < names->n; j++) {
			size_t k = find(g, names->v[j]);
			if (k == (size_t)-1) {
				const char *guess = envup_decode__suggest_in(names->v[j],
					spec->services, spec->nservices, sizeof(envup_service),
					offsetof(envup_service, name));
				envup_pos pos = dep_at(spec, srcs, d, i, j);
				char hint[96] = "";
				if (guess)
					snprintf(hint, sizeof(hint), " (did you mean '%s'?)", guess);
				error = envup_decode__error(d, pos,
					"depends on '%s', which is not a service%s",
					names->v[j], hint);
				goto done;
			}
			if (k == i) {
				envup_pos pos = dep_at(spec, srcs, d, i, j);
				error = envup_decode__error(d, pos,
					"a service cannot depend on itself");
				goto done;
			}
			if (seen[k] == i + 1) {
				envup_pos pos = dep_at(spec, srcs, d, i, j);
				error = envup_decode__error(d, pos,
					"'%s' is listed twice", names->v[j]);
				goto done;
			}
			seen[k] = i + 1;
			g->deps[i][g->ndeps[i]++] = k;
		}
	}
	error = 0;
done:
	envup__free(seen);
	return error;
}

/* ---- min-heap of indexes ---------------------------------------------------- */

static void heap_push(size_t *heap, size_t *n, size_t v)
{
	size_t i = (*n)++;

	while (i > 0 && heap[(i - 1) / 2] > v) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = v;
}

static size_t heap_pop(size_t *heap, size_t *n)
{
	size_t top = heap[0], v = heap[--(*n)], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && heap[c + 1] < heap[c])
			c++;
		if (heap[c] >= v)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (*n)
		heap[i] = v;
	return top;
}

/*
 * Some services were never placed: each of them waits for another
 * unplaced one, so following first unplaced dependencies must loop.
 */
static int report_cycle(graph *g, envup_spec *spec, envup_service_src *srcs,
	envup_decode *d, const bool *placed)
{
	size_t n = spec->nservices, *walk = NULL, *step = NULL, *at = NULL;
	size_t len = 0, v, start, i, min, k;
	envup_buf msg = ENVUP_BUF_INIT;
	envup_pos pos;
	int error = ENVUP_ERROR;

	if ((walk = envup__calloc(n + 1, sizeof(size_t))) == NULL ||
	    (step = envup__calloc(n + 1, sizeof(size_t))) == NULL ||
	    (at = envup__calloc(n, sizeof(size_t))) == NULL)
		goto done;
	for (v = 0; placed[v]; v++)
		;
	/* at[v] = 1 + position of v in the walk */
	while (!at[v]) {
		at[v] = ++len;
		walk[len - 1] = v;
		for (k = 0; placed[g->deps[v][k]]; k++)
			;
		step[len - 1] = k;
		v = g->deps[v][k];
	}
	/* the cycle is walk[start .. len-1]; print it from its first service */
	start = at[v] - 1;
	for (min = start, i = start; i < len; i++)
		if (walk[i] < walk[min])
			min = i;
	if ((error = envup_buf_puts(&msg, "dependency cycle: ")) < 0)
		goto done;
	for (i = 0; i <= len - start; i++) {
		size_t idx = walk[start + (min - start + i) % (len - start)];
		if ((error = envup_buf_printf(&msg, "%s%s", i ? " -> " : "",
		    spec->services[idx].name)) < 0)
			goto done;
	}
	pos = dep_at(spec, srcs, d, walk[min], step[min]);
	error = envup_decode__error(d, pos, "%s", envup_buf_cstr(&msg));
done:
	envup_buf_dispose(&msg);
	envup__free(walk);
	envup__free(step);
	envup__free(at);
	return error;
}

int envup_spec__order(envup_spec *spec, envup_service_src *srcs, envup_decode *d)
{
	graph g;
	size_t n = spec->nservices, i, j, placed_n = 0, nheap = 0;
	size_t *waiting = NULL, *heap = NULL, *order = NULL;
	size_t *rev_start = NULL, *rev = NULL, *fill = NULL, edges = 0;
	bool *placed = NULL;
	int error = ENVUP_ERROR;

	memset(&g, 0, sizeof(g));
	g.spec = spec;
	if ((g.by_name = envup__calloc(n + 1, sizeof(name_ref))) == NULL ||
	    (g.deps = envup__calloc(n + 1, sizeof(size_t *))) == NULL ||
	    (g.ndeps = envup__calloc(n + 1, sizeof(size_t))) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		g.by_name[i].name = spec->services[i].name;
		g.by_name[i].index = i;
	}
	qsort(g.by_name, n, sizeof(name_ref), by_name_cmp);
	if ((error = resolve(&g, spec, srcs, d)) < 0)
		goto done;
	error = ENVUP_ERROR;

	/* reverse edges: who waits for i */
	for (i = 0; i < n; i++)
		edges += g.ndeps[i];
	if ((rev_start = envup__calloc(n + 1, sizeof(size_t))) == NULL ||
	    (fill = envup__calloc(n + 1, sizeof(size_t))) == NULL ||
	    (rev = envup__calloc(edges + 1, sizeof(size_t))) == NULL ||
	    (waiting = envup__calloc(n + 1, sizeof(size_t))) == NULL ||
	    (heap = envup__calloc(n + 1, sizeof(size_t))) == NULL ||
	    (order = envup__calloc(n + 1, sizeof(size_t))) == NULL ||
	    (placed = envup__calloc(n + 1, sizeof(bool))) == NULL)
		goto done;
	for (i = 0; i < n; i++)
		for (j = 0; j < g.ndeps[i]; j++)
			rev_start[g.deps[i][j] + 1]++;
	for (i = 0; i < n; i++)
		rev_start[i + 1] += rev_start[i];
	for (i = 0; i < n; i++)
		for (j = 0; j < g.ndeps[i]; j++) {
			size_t k = g.deps[i][j];
			rev[rev_start[k] + fill[k]++] = i;
		}

	for (i = 0; i < n; i++) {
		waiting[i] = g.ndeps[i];
		if (waiting[i] == 0)
			heap_push(heap, &nheap, i);
	}
	while (nheap) {
		size_t v = heap_pop(heap, &nheap);
		order[placed_n++] = v;
		placed[v] = true;
		for (j = rev_start[v]; j < rev_start[v + 1]; j++)
			if (--waiting[rev[j]] == 0)
				heap_push(heap, &nheap, rev[j]);
	}
	if (placed_n < n) {
		error = report_cycle(&g, spec, srcs, d, placed);
		goto done;
	}
	envup__free(spec->order);
	spec->order = order;
	order = NULL;
	error = 0;
done:
	if (g.deps)
		for (i = 0; i < n; i++)
			envup__free(g.deps[i]);
	envup__free(g.deps);
	envup__free(g.ndeps);
	envup__free(g.by_name);
	envup__free(rev_start);
	envup__free(rev);
	envup__free(fill);
	envup__free(waiting);
	envup__free(heap);
	envup__free(order);
	envup__free(placed);
	envup_decode__pop(d, 0);
	return error;
}
