/*
 * The waiter: envup_wait_until() calls a probe until it reports ready,
 * the deadline passes, the container dies, or the caller cancels.
 * (The function is envup_wait_until: envup_wait is the spec's wait type in
 * compose/spec.h.)
 */
#ifndef ENVUP_HEALTHCHECK_WAITER_H
#define ENVUP_HEALTHCHECK_WAITER_H

#include <stdatomic.h>

#include "util/util.h"

/** One attempt: 0 ready, 1 not yet (*why malloc'd), <0 fatal (error set). */
typedef int (*envup_probe_fn)(char **why, void *payload);

/** 0 while the container is alive; <0 with the error set when it is not. */
typedef int (*envup_alive_fn)(void *payload);

typedef struct {
	double deadline;              /* envup_now() based; required */
	long interval_ms;             /* pause between attempts; default 5 */
	long max_interval_ms;         /* the pause grows to this; default 50 */
	long attempt_timeout_ms;      /* passed to probes by the caller; informative */
	long alive_every_ms;          /* how often `alive` runs; default 250 */
	const atomic_int *cancel;     /* may be NULL */
	double timeout_s;             /* the deadline's budget, for the message; 0: none */
} envup_wait_options;

#define ENVUP_WAIT_OPTIONS_INIT {0, 5, 50, 1000, 250, NULL, 0}

/**
 * Wait. Returns 0 when ready; ENVUP_ETIMEOUT with "not ready after 12.0s
 * (timeout 12s): LAST REASON"; ENVUP_ECANCELLED; the alive callback's error; or a probe's
 * fatal error.
 */
int envup_wait_until(envup_probe_fn probe, envup_alive_fn alive, void *payload,
	const envup_wait_options *opts);

#endif
