/*
 * The library side of bench/db_new.sh: envup_db_new() timed N times on
 * one handle, back to back and then with PAUSE_MS between calls (a short
 * test), each database dropped after; medians and p99 in ms on stdout:
 *   burst MEDIAN P99
 *   paced MEDIAN P99
 *   cli-only: none (the script times the command)
 *
 *   db_new_lib ENV SERVICE N PAUSE_MS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <envup.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int run(const char *label, envup_env *env, const char *service, int n, int pause_ms)
{
	double *t = calloc((size_t)n, sizeof(double));
	char **urls = calloc((size_t)n, sizeof(char *));
	int i;

	for (i = 0; i < n; i++) {
		double t0 = now_ms();
		if (envup_db_new(&urls[i], env, service, "bench") < 0) {
			fprintf(stderr, "db_new_lib: %s\n", envup_error_last()->message);
			return 1;
		}
		t[i] = now_ms() - t0;
		if (pause_ms > 0) {
			struct timespec p = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
			nanosleep(&p, NULL);
		}
	}
	for (i = 0; i < n; i++) {
		envup_db_drop(env, urls[i]);
		envup_free(urls[i]);
	}
	qsort(t, (size_t)n, sizeof(double), cmp);
	printf("%s %.2f %.2f\n", label, t[n / 2], t[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1]);
	free(t);
	free(urls);
	return 0;
}

int main(int argc, char **argv)
{
	envup_target target = ENVUP_TARGET_INIT;
	envup_env *env = NULL;
	int n, pause, rc;

	if (argc != 5)
		return 2;
	target.name = argv[1];
	n = atoi(argv[3]);
	pause = atoi(argv[4]);
	if (n < 1 || envup_env_open(&env, &target) < 0) {
		fprintf(stderr, "db_new_lib: %s\n", envup_error_last()->message);
		return 1;
	}
	/* the first call connects: a suite pays it once */
	{
		char *u = NULL;
		if (envup_db_new(&u, env, argv[2], "bench") == 0)
			envup_db_drop(env, u);
		envup_free(u);
	}
	rc = run("burst", env, argv[2], n, 0);
	if (rc == 0)
		rc = run("paced", env, argv[2], n, pause);
	envup_env_free(env);
	return rc;
}
