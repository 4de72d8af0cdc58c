/*
 * Four threads of one test runner each bring an environment up, check its
 * URLs with the real clients and take it down, all at once (run under
 * ThreadSanitizer by scripts/tsan.sh). Nothing is left, and each thread's
 * errors are its own. (The threads report to the main thread, which
 * asserts: cmocka's assertions belong to the test's thread.)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "api.h"

#define THREADS 4

typedef struct {
	char name[64];
	pthread_barrier_t *start;
	int rc;
	char error[512];
	size_t removed;
} job;

static void *run_job(void *payload)
{
	job *j = payload;
	envup_up_options o = ENVUP_UP_OPTIONS_INIT;
	envup_env *env = NULL;

	o.spec_text = api_spec;
	o.name = j->name;
	pthread_barrier_wait(j->start);
	if ((j->rc = envup_up(&env, &o)) < 0) {
		snprintf(j->error, sizeof(j->error), "up: %s", envup_error_last()->message);
		return NULL;
	}
	/* another thread's failure never shows here */
	if (envup_error_last()->message[0])
		snprintf(j->error, sizeof(j->error), "error after success: %s", envup_error_last()->message);
	if (!j->error[0])
		api_try_postgres_url(envup_env_export_get(env, "TEST_DATABASE_URL"), j->error, sizeof(j->error));
	if (!j->error[0])
		api_try_redis_url(envup_env_export_get(env, "REDIS_TEST_URL"), j->error, sizeof(j->error));
	if ((j->rc = envup_env_down(&j->removed, env, NULL, NULL)) < 0)
		snprintf(j->error, sizeof(j->error), "down: %s", envup_error_last()->message);
	envup_env_free(env);
	return NULL;
}

static void test_four_at_once(void **state)
{
	pthread_barrier_t start;
	pthread_t tid[THREADS];
	job jobs[THREADS];
	int i;

	(void)state;
	pthread_barrier_init(&start, NULL, THREADS);
	for (i = 0; i < THREADS; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		api_name(jobs[i].name, sizeof(jobs[i].name));
		jobs[i].start = &start;
		assert_int_equal(pthread_create(&tid[i], NULL, run_job, &jobs[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < THREADS; i++) {
		if (jobs[i].rc < 0 || jobs[i].error[0])
			fail_msg("thread %d (%s): %s", i, jobs[i].name, jobs[i].error);
		assert_true(jobs[i].removed >= 3);
		assert_int_equal(api_leftovers(jobs[i].name), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_four_at_once),
	};

	api_require_engine();
	api_private_state_dir();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
