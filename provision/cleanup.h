/*
 * Removal by label. Used by `down`, by a failed `up`, and by `gc`: it only
 * ever removes resources that carry ENVUP_LABEL_MANAGED and the labels asked
 * for. A swarm's services go first (and their tasks with them), then
 * containers in parallel, then networks, volumes and a swarm's configs.
 */
#ifndef ENVUP_PROVISION_CLEANUP_H
#define ENVUP_PROVISION_CLEANUP_H

#include "provision/engine.h"

typedef struct {
	size_t containers;     /* removed */
	size_t networks;
	size_t volumes;
	envup_strlist failed;  /* "container NAME (ID): MESSAGE" for each refusal */
	/* what remains, by kind: container and network ids, volume names */
	envup_strlist left_containers;
	envup_strlist left_networks;
	envup_strlist left_volumes;
	size_t services;       /* a swarm's (swarm.h) */
	size_t configs;
	envup_strlist left_services;
} envup_cleanup_report;

/** Everything a report says was removed. */
#define ENVUP_CLEANUP_REMOVED(r) \
	((r)->containers + (r)->networks + (r)->volumes + (r)->services + (r)->configs)

#define ENVUP_CLEANUP_REPORT_INIT {0, 0, 0, ENVUP_STRLIST_INIT, ENVUP_STRLIST_INIT, \
	ENVUP_STRLIST_INIT, ENVUP_STRLIST_INIT, 0, 0, ENVUP_STRLIST_INIT}

/**
 * Called once per resource removed: kind is "service", "container",
 * "network", "volume" or "config". Calls never overlap, but those for containers come from the
 * worker threads that remove them.
 */
typedef void (*envup_cleanup_cb)(const char *kind, const char *name, void *payload);

/**
 * Remove everything carrying ENVUP_LABEL_MANAGED=true and every label in
 * `labels`. Returns 0 when everything found was removed (including when
 * nothing was found); ENVUP_ERROR when something remains, with the report's
 * `failed` listing each and the error naming the first.
 */
int envup_cleanup_by_labels(envup_cleanup_report *report, envup_engine *e,
	const envup_strlist *labels, envup_cleanup_cb cb, void *payload);

void envup_cleanup_report_dispose(envup_cleanup_report *report);

#endif
