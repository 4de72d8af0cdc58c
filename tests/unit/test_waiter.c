/*
 * The waiter with fake probes: ready on the Nth attempt, timeout with the
 * last reason, a dead container reported at once, the cancel flag, and a
 * probe's fatal error.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "healthcheck/waiter.h"

typedef struct {
	int attempts;        /* probe calls so far */
	int ready_on;        /* answer ready on this attempt (0 = never) */
	int fatal_on;        /* fail fatally on this attempt (0 = never) */
	int alive_calls;
	int dead_after;      /* alive() fails from this call on (0 = never) */
	const char *secret;  /* put in the reason */
	double first, last;  /* times of the first and last attempt */
} fake;

static int fake_probe(char **why, void *payload)
{
	fake *f = payload;
	f->attempts++;
	if (f->attempts == 1)
		f->first = envup_now();
	f->last = envup_now();
	if (f->fatal_on && f->attempts == f->fatal_on)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_HEALTH, "probe exploded");
	if (f->ready_on && f->attempts >= f->ready_on)
		return 0;
	*why = envup__sprintf("attempt %d:\nnot yet (password %s)", f->attempts,
		f->secret ? f->secret : "-");
	return 1;
}

static int fake_alive(void *payload)
{
	fake *f = payload;
	f->alive_calls++;
	if (f->dead_after && f->alive_calls >= f->dead_after) {
		return envup_error_set(ENVUP_EUNHEALTHY, ENVUP_ERROR_HEALTH, "container exited with code 3");
	}
	return 0;
}

static envup_wait_options opts_in(double seconds)
{
	envup_wait_options o = ENVUP_WAIT_OPTIONS_INIT;
	o.deadline = envup_now() + seconds;
	return o;
}

static void test_waiter__ready_on_nth_attempt(void **state)
{
	fake f = {0};
	envup_wait_options o = opts_in(5);
	double t0 = envup_now();
	(void)state;
	f.ready_on = 6;
	assert_int_equal(envup_wait_until(fake_probe, fake_alive, &f, &o), 0);
	assert_int_equal(f.attempts, 6);
	/* pauses 5, 7.5, 11.25, 16.9, 25.3 ms: about 66 ms */
	assert_true(envup_now() - t0 < 1.0);
	assert_true(envup_now() - t0 >= 0.060);
	/* the first "not yet" asks whether the container still lives */
	assert_true(f.alive_calls >= 1);
}

static void test_waiter__ready_at_once(void **state)
{
	fake f = {0};
	envup_wait_options o = opts_in(5);
	(void)state;
	f.ready_on = 1;
	assert_int_equal(envup_wait_until(fake_probe, NULL, &f, &o), 0);
	assert_int_equal(f.attempts, 1);
}

static void test_waiter__interval_is_capped(void **state)
{
	fake f = {0};
	envup_wait_options o = opts_in(5);
	double t0;
	(void)state;
	f.ready_on = 12;
	o.interval_ms = 10;
	o.max_interval_ms = 20;
	t0 = envup_now();
	assert_int_equal(envup_wait_until(fake_probe, NULL, &f, &o), 0);
	/* 10 + 15 + 9 x 20 = 205 ms */
	assert_true(envup_now() - t0 >= 0.200);
	assert_true(envup_now() - t0 < 1.5);
}

static void test_waiter__timeout_names_last_reason(void **state)
{
	fake f = {0};
	envup_wait_options o = opts_in(0.3);
	double t0 = envup_now(), took;
	const char *msg;
	(void)state;
	f.secret = "Waiter-Secret-123";
	assert_int_equal(envup_secret_add(f.secret), 0);
	assert_int_equal(envup_wait_until(fake_probe, fake_alive, &f, &o), ENVUP_ETIMEOUT);
	took = envup_now() - t0;
	assert_true(took >= 0.3 && took < 1.0);
	msg = envup_error_last()->message;
	assert_int_equal(strncmp(msg, "not ready after 0.3s: attempt ", 30), 0);
	/* the reason is the last one, on one line, with the secret masked */
	{
		char want[128];
		snprintf(want, sizeof(want), "attempt %d: not yet (password ***)", f.attempts);
		assert_non_null(strstr(msg, want));
	}
	assert_null(strstr(msg, f.secret));
	/* one last attempt right at the deadline */
	assert_true(f.last >= o.deadline - 0.01);
	/* alive every 250 ms: at the first "not yet", and about once more */
	assert_in_range(f.alive_calls, 2, 4);
}

static int silent(char **why, void *payload)
{
	(void)why;
	(void)payload;
	return 1;
}

static void test_waiter__timeout_without_reason(void **state)
{
	envup_wait_options o = opts_in(0.05);
	(void)state;
	assert_int_equal(envup_wait_until(silent, NULL, NULL, &o), ENVUP_ETIMEOUT);
	assert_string_equal(envup_error_last()->message, "not ready after 0.1s");
}

/* the deadline passing inside alive's own engine call is still "not ready" */
static int alive_engine_deadline(void *payload)
{
	const envup_wait_options *o = payload;
	while (envup_now() < o->deadline)
		envup_sleep_ms(5);
	return envup_error_set(ENVUP_ETIMEOUT, ENVUP_ERROR_DOCKER,
		"timed out waiting for the Docker engine (GET /containers/x/json): deadline passed");
}

static int silent_with_opts(char **why, void *payload)
{
	(void)payload;
	*why = envup__strdup("connection refused");
	return 1;
}

static void test_waiter__deadline_inside_an_engine_call(void **state)
{
	envup_wait_options o = opts_in(0.1);
	(void)state;
	o.timeout_s = 4;
	assert_int_equal(envup_wait_until(silent_with_opts, alive_engine_deadline, &o, &o), ENVUP_ETIMEOUT);
	assert_string_equal(envup_error_last()->message, "not ready after 0.1s (timeout 4s): connection refused");
}

static void test_waiter__dead_container_fails_fast(void **state)
{
	fake f = {0};
	envup_wait_options o = opts_in(10);
	double t0 = envup_now();
	(void)state;
	f.dead_after = 1;
	assert_int_equal(envup_wait_until(fake_probe, fake_alive, &f, &o), ENVUP_EUNHEALTHY);
	assert_string_equal(envup_error_last()->message, "container exited with code 3");
	assert_int_equal(f.attempts, 1);
	assert_true(envup_now() - t0 < 0.25);
}

static void test_waiter__dies_later(void **state)
{
	fake f = {0};
	envup_wait_options o = opts_in(10);
	double t0 = envup_now();
	(void)state;
	f.dead_after = 2;
	o.alive_every_ms = 100;
	assert_int_equal(envup_wait_until(fake_probe, fake_alive, &f, &o), ENVUP_EUNHEALTHY);
	assert_true(envup_now() - t0 >= 0.095 && envup_now() - t0 < 0.8);
}

typedef struct {
	atomic_int *flag;
	long after_ms;
} raiser;

static void *raise_later(void *payload)
{
	raiser *r = payload;
	envup_sleep_ms(r->after_ms);
	atomic_store(r->flag, 1);
	return NULL;
}

static void test_waiter__cancel(void **state)
{
	static atomic_int cancel;
	fake f = {0};
	envup_wait_options o = opts_in(10);
	raiser r = {&cancel, 120};
	pthread_t t;
	double t0 = envup_now(), took;
	(void)state;
	atomic_store(&cancel, 0);
	o.cancel = &cancel;
	o.interval_ms = 1000; /* long pauses: the flag must still be seen at once */
	o.max_interval_ms = 1000;
	pthread_create(&t, NULL, raise_later, &r);
	assert_int_equal(envup_wait_until(fake_probe, NULL, &f, &o), ENVUP_ECANCELLED);
	took = envup_now() - t0;
	pthread_join(t, NULL);
	/* slices of at most 5 ms: seen within a few ms (slack for loaded CI) */
	assert_true(took >= 0.115 && took < 0.300);
	assert_int_equal(envup_error_last()->klass, ENVUP_ERROR_CANCELLED);
}

static void test_waiter__cancelled_before_start(void **state)
{
	atomic_int cancel = 1;
	fake f = {0};
	envup_wait_options o = opts_in(10);
	(void)state;
	o.cancel = &cancel;
	assert_int_equal(envup_wait_until(fake_probe, NULL, &f, &o), ENVUP_ECANCELLED);
	assert_int_equal(f.attempts, 0);
}

static void test_waiter__fatal_probe_error(void **state)
{
	fake f = {0};
	envup_wait_options o = opts_in(10);
	(void)state;
	f.fatal_on = 3;
	assert_int_equal(envup_wait_until(fake_probe, fake_alive, &f, &o), ENVUP_ERROR);
	assert_string_equal(envup_error_last()->message, "probe exploded");
	assert_int_equal(f.attempts, 3);
}

static void test_waiter__past_deadline_still_tries_once(void **state)
{
	fake f = {0};
	envup_wait_options o = opts_in(-1);
	(void)state;
	f.ready_on = 1;
	assert_int_equal(envup_wait_until(fake_probe, NULL, &f, &o), 0);
	f.attempts = 0;
	f.ready_on = 0;
	assert_int_equal(envup_wait_until(fake_probe, NULL, &f, &o), ENVUP_ETIMEOUT);
	assert_int_equal(f.attempts, 1);
}

static void test_waiter__bad_arguments(void **state)
{
	envup_wait_options o = opts_in(1);
	(void)state;
	assert_int_equal(envup_wait_until(NULL, NULL, NULL, &o), ENVUP_ERROR);
	assert_int_equal(envup_wait_until(fake_probe, NULL, NULL, NULL), ENVUP_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_waiter__ready_on_nth_attempt),
		cmocka_unit_test(test_waiter__ready_at_once),
		cmocka_unit_test(test_waiter__interval_is_capped),
		cmocka_unit_test(test_waiter__timeout_names_last_reason),
		cmocka_unit_test(test_waiter__timeout_without_reason),
		cmocka_unit_test(test_waiter__deadline_inside_an_engine_call),
		cmocka_unit_test(test_waiter__dead_container_fails_fast),
		cmocka_unit_test(test_waiter__dies_later),
		cmocka_unit_test(test_waiter__cancel),
		cmocka_unit_test(test_waiter__cancelled_before_start),
		cmocka_unit_test(test_waiter__fatal_probe_error),
		cmocka_unit_test(test_waiter__past_deadline_still_tries_once),
		cmocka_unit_test(test_waiter__bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
