/*
 * The waiter. Probes at short, growing intervals (5 ms, x1.5, up to
 * 50 ms by default) so a service is seen ready within a few milliseconds
 * of actually being ready; asks `alive` now and then so a container that
 * died is reported at once instead of at the deadline; sleeps in slices of
 * at most 5 ms so the cancel flag is honoured promptly.
 */
#include <stdio.h>
#include "healthcheck/health.h"
#include "healthcheck/waiter.h"

#define WAIT_SLICE_MS 5

static bool wait_cancelled(const atomic_int *cancel)
{
	return cancel && atomic_load(cancel) != 0;
}

static int wait_cancel_error(void)
{
	return envup_error_set(ENVUP_ECANCELLED, ENVUP_ERROR_CANCELLED, "cancelled");
}

/* Sleep until `until`, in short slices; false when cancelled meanwhile. */
static bool wait_sleep(double until, const atomic_int *cancel)
{
	long left;

	while ((left = envup_health__remaining_ms(until)) > 0) {
		if (wait_cancelled(cancel))
			return false;
		envup_sleep_ms(left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS);
	}
	return !wait_cancelled(cancel);
}

static int wait_timeout(double start, double timeout_s, const char *reason)
{
	char *folded = reason ? envup_health__fold(reason, 0) : NULL;
	double took = envup_now() - start;
	char budget[48] = "";

	if (timeout_s > 0)
		snprintf(budget, sizeof(budget), " (timeout %.0fs)", timeout_s);
	if (folded && *folded)
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_HEALTH, "not ready after %.1fs%s: %s", took, budget, folded);
	else
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_HEALTH, "not ready after %.1fs%s", took, budget);
	envup__free(folded);
	return ENVUP_ETIMEOUT;
}

/* The deadline can pass inside a probe's or alive's own engine call, which
 * then fails with the engine's "deadline passed": that is the service not
 * being ready in time, and is said so. */
static int deadline_in_call(int r, double start, const envup_wait_options *opts, const char *last)
{
	if (r != ENVUP_ETIMEOUT || envup_now() < opts->deadline)
		return r;
	return wait_timeout(start, opts->timeout_s, last);
}

int envup_wait_until(envup_probe_fn probe, envup_alive_fn alive, void *payload,
	const envup_wait_options *opts)
{
	double start = envup_now(), next_alive = start, pause;
	long interval, max_interval, alive_every;
	char *last = NULL, *why;
	int r;

	ENVUP_ASSERT_ARG(probe && opts);
	interval = opts->interval_ms > 0 ? opts->interval_ms : 5;
	max_interval = opts->max_interval_ms > 0 ? opts->max_interval_ms : 50;
	if (max_interval < interval)
		max_interval = interval;
	alive_every = opts->alive_every_ms > 0 ? opts->alive_every_ms : 250;
	pause = (double)interval;

	for (;;) {
		if (wait_cancelled(opts->cancel)) {
			r = wait_cancel_error();
			goto done;
		}
		why = NULL;
		r = probe(&why, payload);
		if (r <= 0) {
			envup__free(why);
			r = deadline_in_call(r, start, opts, last);
			goto done; /* ready, or a probe's fatal error (already set) */
		}
		if (why) {
			envup__free(last);
			last = why;
		}
		/* the first "not yet" checks at once: a container that exited on
		 * start is the commonest reason for never becoming ready */
		if (alive && envup_now() >= next_alive) {
			if ((r = alive(payload)) < 0) {
				r = deadline_in_call(r, start, opts, last);
				goto done;
			}
			next_alive = envup_now() + (double)alive_every / 1000.0;
		}
		if (envup_now() >= opts->deadline) {
			r = wait_timeout(start, opts->timeout_s, last);
			goto done;
		}
		{
			double until = envup_now() + pause / 1000.0;
			if (until > opts->deadline)
				until = opts->deadline;
			if (!wait_sleep(until, opts->cancel)) {
				r = wait_cancel_error();
				goto done;
			}
		}
		pause *= 1.5;
		if (pause > (double)max_interval)
			pause = (double)max_interval;
	}
done:
	envup__free(last);
	return r;
}
