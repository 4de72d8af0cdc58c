/*
 * The provision layer against the real engine: negotiation, the pull path
 * (through the local test registry), the life of a labelled Redis
 * container, label-based cleanup that must leave a look-alike without the
 * managed label alone, and the engine's own error answers.
 *
 * Gated: exits 77 (skipped) unless ENVUP_TEST_ENGINE is set; with
 * ENVUP_TEST_REQUIRE_ENGINE=1 a missing engine or registry is a failure.
 * ENVUP_TEST_ENGINE may hold a DOCKER_HOST (unix://, tcp://); any other
 * value means the local socket. Images come from ENVUP_HUB_IMAGE_PREFIX
 * (or tests/images/.env).
 *
 * Everything a test creates is registered *before* it is asserted on, and
 * removed by the teardown even when the test failed half-way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include "provision/engine.h"
#include "provision/identity.h"
#include "provision/image.h"
#include "provision/container.h"
#include "provision/network.h"
#include "provision/cleanup.h"

static const char *docker_host;      /* NULL: the default */
static char image_prefix[256];
static char redis_image[300];        /* the mirror's redis:7-alpine */
static char run_id[64];              /* dev.envup.env of this run */

/* ---- resources to remove, whatever happens ----------------------------------- */

typedef enum { RES_CONTAINER, RES_NETWORK, RES_VOLUME, RES_IMAGE_TAG } res_kind;

static struct {
	res_kind kind;
	char name[256];
} resources[64];
static size_t nresources;

static void track(res_kind kind, const char *name)
{
	assert_true(nresources < ENVUP_ARRAY_SIZE(resources));
	resources[nresources].kind = kind;
	snprintf(resources[nresources].name, sizeof(resources[0].name), "%s", name);
	nresources++;
}

static envup_engine *open_engine(void)
{
	envup_engine_options opts = {docker_host, NULL, 0};
	envup_engine *e = NULL;

	if (envup_engine_open(&e, &opts) != 0)
		fail_msg("engine: %s", envup_error_last()->message);
	return e;
}

static long raw(envup_engine *e, const char *method, const char *path, envup_buf *resp)
{
	long status = 0;
	if (envup_engine_request(e, method, path, NULL, NULL, 0, &status, resp) != 0)
		return -1;
	return status;
}

static void release_all(void)
{
	envup_engine *e = NULL;
	envup_engine_options opts = {docker_host, NULL, 0};
	char path[512];
	size_t i;

	if (nresources == 0 || envup_engine_open(&e, &opts) != 0)
		return;
	/* containers first, then what they used */
	for (i = nresources; i-- > 0;) {
		switch (resources[i].kind) {
		case RES_CONTAINER:
			snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", resources[i].name);
			raw(e, "DELETE", path, NULL);
			break;
		default:
			break;
		}
	}
	for (i = nresources; i-- > 0;) {
		switch (resources[i].kind) {
		case RES_NETWORK:
			snprintf(path, sizeof(path), "/networks/%s", resources[i].name);
			raw(e, "DELETE", path, NULL);
			break;
		case RES_VOLUME:
			snprintf(path, sizeof(path), "/volumes/%s", resources[i].name);
			raw(e, "DELETE", path, NULL);
			break;
		case RES_IMAGE_TAG:
			/* untag only: the image stays for the mirror's own tag */
			snprintf(path, sizeof(path), "/images/%s?noprune=1", resources[i].name);
			raw(e, "DELETE", path, NULL);
			break;
		default:
			break;
		}
	}
	nresources = 0;
	envup_engine_free(e);
}

static int teardown(void **state)
{
	release_all();
	return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static double ms_since(double t0)
{
	return (envup_now() - t0) * 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* "PING" on a fresh TCP connection answers "+PONG". */
static bool redis_pong(int port)
{
	struct sockaddr_in sa;
	struct timeval tv = {2, 0};
	char buf[64];
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = false;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    write(fd, "PING\r\n", 6) == 6 && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		ok = strncmp(buf, "+PONG", 5) == 0;
	}
	close(fd);
	return ok;
}

static void labels_for(envup_kvlist *l, const char *service, bool managed)
{
	if (managed)
		assert_int_equal(envup_kvlist_set(l, ENVUP_LABEL_MANAGED, "true"), 0);
	assert_int_equal(envup_kvlist_set(l, ENVUP_LABEL_ENV, run_id), 0);
	assert_int_equal(envup_kvlist_set(l, ENVUP_LABEL_SERVICE, service), 0);
}

/* Create (tracked) a redis container in this run; returns the id. */
static char *make_redis(envup_engine *e, const char *suffix, bool managed, const char *network,
	double *create_ms)
{
	envup_kvlist labels = ENVUP_KVLIST_INIT;
	envup_strlist cmd = ENVUP_STRLIST_INIT, tmpfs = ENVUP_STRLIST_INIT;
	envup_container_config cfg;
	char name[128];
	char *id = NULL;
	int port = 6379;
	double t0;

	snprintf(name, sizeof(name), "%s-%s", run_id, suffix);
	track(RES_CONTAINER, name);          /* by name: covers a create that half-worked */
	labels_for(&labels, suffix, managed);
	assert_int_equal(envup_strlist_push(&cmd, "redis-server"), 0);
	assert_int_equal(envup_strlist_push(&cmd, "--save"), 0);
	assert_int_equal(envup_strlist_push(&cmd, ""), 0);
	assert_int_equal(envup_strlist_push(&cmd, "--appendonly"), 0);
	assert_int_equal(envup_strlist_push(&cmd, "no"), 0);
	assert_int_equal(envup_strlist_push(&tmpfs, "/data"), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.name = name;
	cfg.image = redis_image;
	cfg.labels = &labels;
	cfg.cmd = &cmd;
	cfg.ports = &port;
	cfg.nports = 1;
	cfg.tmpfs = &tmpfs;
	cfg.network = network;
	cfg.alias = network ? "redis" : NULL;
	t0 = envup_now();
	if (envup_container_create(&id, e, &cfg) != 0)
		fail_msg("create %s: %s", name, envup_error_last()->message);
	if (create_ms)
		*create_ms = ms_since(t0);
	envup_kvlist_dispose(&labels);
	envup_strlist_dispose(&cmd);
	envup_strlist_dispose(&tmpfs);
	return id;
}

static int until_ready(const char *data, size_t len, void *payload)
{
	envup_buf *b = payload;
	if (envup_buf_put(b, data, len) < 0)
		return -1;
	return strstr(envup_buf_cstr(b), "Ready to accept connections") ? 1 : 0;
}

/* ---- tests -------------------------------------------------------------------- */

static void test_provision__open_and_negotiate(void **state)
{
	envup_engine *e;
	envup_buf resp = ENVUP_BUF_INIT;
	double t0, ping[20];
	const char *server;
	size_t i;

	t0 = envup_now();
	e = open_engine();
	print_message("open (connect + ping + negotiate): %.2f ms\n", ms_since(t0));
	server = envup_engine_server_api_version(e);
	print_message("engine %s speaks API %s, negotiated %s\n", envup_engine_address(e),
		server ? server : "(none)", envup_engine_api_version(e));
	assert_non_null(server);
	if (strcmp(server, ENVUP_API_MAX) >= 0 && strlen(server) == strlen(ENVUP_API_MAX))
		assert_string_equal(envup_engine_api_version(e), ENVUP_API_MAX);
	else
		assert_string_equal(envup_engine_api_version(e), server);
	assert_string_equal(envup_engine_bind_ip(e), docker_host && strncmp(docker_host, "tcp://", 6) == 0 ?
		"0.0.0.0" : "127.0.0.1");
	for (i = 0; i < ENVUP_ARRAY_SIZE(ping); i++) {
		t0 = envup_now();
		assert_int_equal(raw(e, "GET", "/_ping", &resp), 200);
		ping[i] = ms_since(t0);
		assert_string_equal(resp.ptr, "OK");
	}
	print_message("latency ping (keep-alive, median of %zu): %.2f ms\n",
		ENVUP_ARRAY_SIZE(ping), median(ping, ENVUP_ARRAY_SIZE(ping)));
	envup_buf_dispose(&resp);
	envup_engine_free(e);
}

typedef struct {
	envup_buf lines;
	pthread_mutex_t lock;
} progress_log;

static void on_progress(const char *image, const char *detail, void *payload)
{
	progress_log *p = payload;
	pthread_mutex_lock(&p->lock);
	if (envup_buf_printf(&p->lines, "%s\n", detail) < 0)
		abort();
	pthread_mutex_unlock(&p->lock);
}

typedef struct {
	envup_engine *e;
	const char *image;
	int rc;
	char message[512];
} ensure_arg;

static void *ensure_thread(void *p)
{
	ensure_arg *a = p;
	a->rc = envup_image_ensure(a->e, a->image, NULL, NULL);
	snprintf(a->message, sizeof(a->message), "%s", envup_error_last()->message);
	return NULL;
}

static void test_provision__image_pull_path(void **state)
{
	envup_engine *e = open_engine();
	progress_log log;
	envup_buf resp = ENVUP_BUF_INIT;
	char image[300], path[400];
	size_t before;
	double t0;
	pthread_t t[4];
	ensure_arg a[4];
	size_t i;

	memset(&log, 0, sizeof(log));
	pthread_mutex_init(&log.lock, NULL);
	/*
	 * Pull under a name of our own so that untagging it cannot disturb
	 * anyone else using the mirror's tag: the same registry reached as
	 * "localhost:PORT" (also an insecure registry to the engine).
	 */
	if (strncmp(redis_image, "127.0.0.1:", 10) == 0)
		snprintf(image, sizeof(image), "localhost:%s", redis_image + 10);
	else
		snprintf(image, sizeof(image), "%s", redis_image);
	track(RES_IMAGE_TAG, image);
	snprintf(path, sizeof(path), "/images/%s?noprune=1", image);
	long st = raw(e, "DELETE", path, &resp);
	assert_true(st == 200 || st == 404 || st == 409);

	before = envup_image__pull_count();
	t0 = envup_now();
	if (envup_image_ensure(e, image, on_progress, &log) != 0)
		fail_msg("ensure %s: %s", image, envup_error_last()->message);
	print_message("pull %s: %.0f ms; progress:\n%s", image, ms_since(t0), envup_buf_cstr(&log.lines));
	if (st != 409) {
		assert_int_equal(envup_image__pull_count() - before, 1);
		assert_non_null(strstr(envup_buf_cstr(&log.lines), "pulling"));
		assert_non_null(strstr(envup_buf_cstr(&log.lines), "pulled ("));
	}
	snprintf(path, sizeof(path), "/images/%s/json", image);
	assert_int_equal(raw(e, "GET", path, &resp), 200);

	/* present now: no second pull */
	before = envup_image__pull_count();
	t0 = envup_now();
	assert_int_equal(envup_image_ensure(e, image, NULL, NULL), 0);
	print_message("ensure (present): %.2f ms\n", ms_since(t0));
	assert_int_equal(envup_image__pull_count(), before);

	/* missing again, four threads at once: one pull */
	snprintf(path, sizeof(path), "/images/%s?noprune=1", image);
	st = raw(e, "DELETE", path, &resp);
	before = envup_image__pull_count();
	for (i = 0; i < 4; i++) {
		a[i].e = e;
		a[i].image = image;
		a[i].rc = -100;
		assert_int_equal(pthread_create(&t[i], NULL, ensure_thread, &a[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		if (a[i].rc != 0)
			fail_msg("thread %zu: %s", i, a[i].message);
	}
	if (st == 200)
		assert_int_equal(envup_image__pull_count() - before, 1);

	/* the mirror's own name is there for the next tests */
	if (envup_image_ensure(e, redis_image, NULL, NULL) != 0)
		fail_msg("ensure %s: %s", redis_image, envup_error_last()->message);

	envup_buf_dispose(&log.lines);
	pthread_mutex_destroy(&log.lock);
	envup_buf_dispose(&resp);
	envup_engine_free(e);
}

static void test_provision__redis_lifecycle_and_cleanup(void **state)
{
	envup_engine *e = open_engine();
	envup_container_info info = ENVUP_CONTAINER_INFO_INIT;
	envup_container_summary *list = NULL;
	envup_cleanup_report report = ENVUP_CLEANUP_REPORT_INIT;
	envup_strlist want = ENVUP_STRLIST_INIT, names = ENVUP_STRLIST_INIT;
	envup_kvlist netlabels = ENVUP_KVLIST_INIT, fakelabels = ENVUP_KVLIST_INIT;
	envup_buf logs = ENVUP_BUF_INIT, resp = ENVUP_BUF_INIT;
	char net[128], fakenet[128], vol[128], path[512], body[512];
	char *id = NULL, *fake_id = NULL, *net_id = NULL;
	size_t n = 0;
	int port;
	long status;
	double t0, create_ms, deadline;

	if (envup_image_ensure(e, redis_image, NULL, NULL) != 0)
		fail_msg("ensure %s: %s", redis_image, envup_error_last()->message);

	/* a labelled network the container joins */
	snprintf(net, sizeof(net), "%s-net", run_id);
	track(RES_NETWORK, net);
	labels_for(&netlabels, "net", true);
	if (envup_network_create(&net_id, e, net, &netlabels) != 0)
		fail_msg("network: %s", envup_error_last()->message);
	assert_int_equal(envup_network_create(NULL, e, net, &netlabels), ENVUP_EEXISTS);

	/* a labelled volume, for the cleanup to find */
	snprintf(vol, sizeof(vol), "%s-vol", run_id);
	track(RES_VOLUME, vol);
	snprintf(body, sizeof(body), "{\"Name\":\"%s\",\"Labels\":{\"%s\":\"true\",\"%s\":\"%s\"}}",
		vol, ENVUP_LABEL_MANAGED, ENVUP_LABEL_ENV, run_id);
	assert_int_equal(envup_engine_request(e, "POST", "/volumes/create", NULL, body, strlen(body),
		&status, &resp), 0);
	assert_int_equal(status, 201);

	id = make_redis(e, "redis", true, net, &create_ms);
	t0 = envup_now();
	if (envup_container_start(e, id) != 0)
		fail_msg("start: %s", envup_error_last()->message);
	print_message("latency create: %.1f ms, start: %.1f ms\n", create_ms, ms_since(t0));
	assert_int_equal(envup_container_start(e, id), 0);      /* 304: already running */

	t0 = envup_now();
	assert_int_equal(envup_container_inspect(&info, e, id), 0);
	print_message("latency inspect: %.2f ms\n", ms_since(t0));
	assert_string_equal(info.id, id);
	assert_non_null(strstr(info.name, "-redis"));
	assert_true(info.name[0] != '/');
	assert_string_equal(info.image, redis_image);
	assert_string_equal(envup_kvlist_get(&info.labels, ENVUP_LABEL_ENV), run_id);
	assert_string_equal(envup_kvlist_get(&info.labels, ENVUP_LABEL_MANAGED), "true");
	port = envup_container_host_port(&info, 6379);
	assert_true(port > 0);
	print_message("redis published on %s:%d (%s)\n", envup_engine_port_host(e), port, info.status);

	/* readiness from the logs: follow, then the tail */
	deadline = envup_now() + 30;
	envup_engine_set_deadline(e, deadline);
	if (envup_container_logs_follow(e, id, until_ready, &logs) != 0)
		fail_msg("follow: %s", envup_error_last()->message);
	envup_engine_set_deadline(e, 0);
	assert_non_null(strstr(envup_buf_cstr(&logs), "Ready to accept connections"));
	envup_buf_clear(&logs);
	assert_int_equal(envup_container_logs(&logs, e, id, 100), 0);
	assert_non_null(strstr(envup_buf_cstr(&logs), "Ready to accept connections"));
	assert_true(redis_pong(port));

	/* tmpfs on /data: no anonymous volume was made */
	snprintf(path, sizeof(path), "/containers/%s/json", id);
	assert_int_equal(raw(e, "GET", path, &resp), 200);
	assert_non_null(strstr(envup_buf_cstr(&resp), "\"/data\":\"rw,exec\""));
	assert_null(strstr(envup_buf_cstr(&resp), "\"Type\":\"volume\""));
	assert_non_null(strstr(envup_buf_cstr(&resp), "\"redis\""));      /* the alias */

	/* list by label */
	assert_int_equal(envup_strlist_push(&want, ENVUP_LABEL_MANAGED "=true"), 0);
	snprintf(body, sizeof(body), ENVUP_LABEL_ENV "=%s", run_id);
	assert_int_equal(envup_strlist_push(&want, body), 0);
	assert_int_equal(envup_container_list(&list, &n, e, &want), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, id);
	assert_string_equal(list[0].state, "running");
	assert_non_null(envup_kvlist_get(&list[0].ports, "6379/tcp"));
	envup_container_summaries_free(list, n);
	assert_int_equal(envup_network_list(&names, e, &want), 0);
	assert_int_equal(names.n, 1);
	assert_string_equal(names.v[0], net);
	envup_strlist_dispose(&names);

	/* the look-alikes: same env label and name pattern, no managed label */
	fake_id = make_redis(e, "lookalike", false, NULL, NULL);
	snprintf(fakenet, sizeof(fakenet), "%s-net-lookalike", run_id);
	track(RES_NETWORK, fakenet);
	labels_for(&fakelabels, "net", false);
	assert_int_equal(envup_network_create(NULL, e, fakenet, &fakelabels), 0);

	/* cleanup by the env label */
	envup_strlist_dispose(&want);
	assert_int_equal(envup_strlist_push(&want, body), 0);
	t0 = envup_now();
	if (envup_cleanup_by_labels(&report, e, &want, NULL, NULL) != 0)
		fail_msg("cleanup: %s", envup_error_last()->message);
	print_message("cleanup (1 running container, 1 network, 1 volume): %.1f ms\n", ms_since(t0));
	assert_int_equal(report.containers, 1);
	assert_int_equal(report.networks, 1);
	assert_int_equal(report.volumes, 1);
	assert_int_equal(report.failed.n, 0);
	envup_cleanup_report_dispose(&report);

	snprintf(path, sizeof(path), "/containers/%s/json", id);
	assert_int_equal(raw(e, "GET", path, &resp), 404);
	snprintf(path, sizeof(path), "/networks/%s", net);
	assert_int_equal(raw(e, "GET", path, &resp), 404);
	snprintf(path, sizeof(path), "/volumes/%s", vol);
	assert_int_equal(raw(e, "GET", path, &resp), 404);
	/* the look-alikes are untouched */
	snprintf(path, sizeof(path), "/containers/%s/json", fake_id);
	assert_int_equal(raw(e, "GET", path, &resp), 200);
	snprintf(path, sizeof(path), "/networks/%s", fakenet);
	assert_int_equal(raw(e, "GET", path, &resp), 200);

	/* a second cleanup finds nothing: success */
	assert_int_equal(envup_cleanup_by_labels(&report, e, &want, NULL, NULL), 0);
	assert_int_equal(report.containers + report.networks + report.volumes, 0);
	envup_cleanup_report_dispose(&report);

	/* the test removes its look-alikes itself */
	assert_int_equal(envup_container_remove(e, fake_id), 0);
	assert_int_equal(envup_network_remove(e, fakenet), 0);
	snprintf(path, sizeof(path), "/containers/%s/json", fake_id);
	assert_int_equal(raw(e, "GET", path, &resp), 404);

	envup_container_info_dispose(&info);
	envup_strlist_dispose(&want);
	envup_kvlist_dispose(&netlabels);
	envup_kvlist_dispose(&fakelabels);
	envup_buf_dispose(&logs);
	envup_buf_dispose(&resp);
	envup__free(id);
	envup__free(fake_id);
	envup__free(net_id);
	envup_engine_free(e);
}

static void test_provision__latencies(void **state)
{
	enum { N = 5 };
	envup_engine *e = open_engine();
	envup_container_info info = ENVUP_CONTAINER_INFO_INIT;
	double create[N], start[N], inspect[N], removal[N], t0;
	size_t i;

	if (envup_image_ensure(e, redis_image, NULL, NULL) != 0)
		fail_msg("ensure %s: %s", redis_image, envup_error_last()->message);
	for (i = 0; i < N; i++) {
		char suffix[32];
		char *id;
		snprintf(suffix, sizeof(suffix), "lat%zu", i);
		id = make_redis(e, suffix, true, NULL, &create[i]);
		t0 = envup_now();
		assert_int_equal(envup_container_start(e, id), 0);
		start[i] = ms_since(t0);
		t0 = envup_now();
		assert_int_equal(envup_container_inspect(&info, e, id), 0);
		inspect[i] = ms_since(t0);
		assert_true(envup_container_host_port(&info, 6379) > 0);
		envup_container_info_dispose(&info);
		t0 = envup_now();
		assert_int_equal(envup_container_remove(e, id), 0);     /* running: force */
		removal[i] = ms_since(t0);
		assert_int_equal(envup_container_remove(e, id), 0);     /* 404 */
		envup__free(id);
	}
	print_message("latency median of %d (ms): create %.1f, start %.1f, inspect %.2f, remove %.1f\n",
		N, median(create, N), median(start, N), median(inspect, N), median(removal, N));

	/* cleanup removes containers in parallel: 8 running ones */
	{
		envup_cleanup_report report = ENVUP_CLEANUP_REPORT_INIT;
		envup_strlist want = ENVUP_STRLIST_INIT;
		char label[128];

		for (i = 0; i < 8; i++) {
			char suffix[32];
			char *id;
			snprintf(suffix, sizeof(suffix), "par%zu", i);
			id = make_redis(e, suffix, true, NULL, NULL);
			assert_int_equal(envup_container_start(e, id), 0);
			envup__free(id);
		}
		snprintf(label, sizeof(label), ENVUP_LABEL_ENV "=%s", run_id);
		assert_int_equal(envup_strlist_push(&want, label), 0);
		t0 = envup_now();
		if (envup_cleanup_by_labels(&report, e, &want, NULL, NULL) != 0)
			fail_msg("cleanup: %s", envup_error_last()->message);
		print_message("cleanup of 8 running containers: %.1f ms\n", ms_since(t0));
		assert_int_equal(report.containers, 8);
		envup_cleanup_report_dispose(&report);
		envup_strlist_dispose(&want);
	}
	envup_engine_free(e);
}

static void test_provision__engine_errors(void **state)
{
	envup_engine *e = open_engine();
	envup_container_info info = ENVUP_CONTAINER_INFO_INIT;
	envup_container_config cfg;
	envup_kvlist labels = ENVUP_KVLIST_INIT;
	envup_buf logs = ENVUP_BUF_INIT;
	char missing[300], name[128];
	char *id = NULL, *id2 = NULL;

	assert_int_equal(envup_container_inspect(&info, e, "envup-no-such-container"), ENVUP_ENOTFOUND);
	assert_non_null(strstr(envup_error_last()->message, "No such container"));
	assert_int_equal(envup_container_start(e, "envup-no-such-container"), ENVUP_ENOTFOUND);
	assert_int_equal(envup_container_logs(&logs, e, "envup-no-such-container", 5), ENVUP_ENOTFOUND);
	assert_int_equal(envup_container_remove(e, "envup-no-such-container"), 0);
	assert_int_equal(envup_network_remove(e, "envup-no-such-network"), 0);
	assert_int_equal(envup_volume_remove(e, "envup-no-such-volume"), 0);

	/* a name in use */
	if (envup_image_ensure(e, redis_image, NULL, NULL) != 0)
		fail_msg("ensure %s: %s", redis_image, envup_error_last()->message);
	snprintf(name, sizeof(name), "%s-dup", run_id);
	track(RES_CONTAINER, name);
	labels_for(&labels, "dup", true);
	memset(&cfg, 0, sizeof(cfg));
	cfg.name = name;
	cfg.image = redis_image;
	cfg.labels = &labels;
	assert_int_equal(envup_container_create(&id, e, &cfg), 0);
	assert_int_equal(envup_container_create(&id2, e, &cfg), ENVUP_EEXISTS);
	assert_non_null(strstr(envup_error_last()->message, "is already in use"));
	assert_null(id2);

	/* an image that does not exist */
	cfg.name = NULL;
	cfg.image = "envup-no-such-image:0";
	assert_int_equal(envup_container_create(&id2, e, &cfg), ENVUP_ENOTFOUND);
	snprintf(missing, sizeof(missing), "%senvup-no-such-image:0", image_prefix);
	assert_true(envup_image_ensure(e, missing, NULL, NULL) < 0);
	print_message("missing image: %s\n", envup_error_last()->message);
	assert_non_null(strstr(envup_error_last()->message, "pull "));
	assert_non_null(strstr(envup_error_last()->message, missing));

	envup_kvlist_dispose(&labels);
	envup_buf_dispose(&logs);
	envup__free(id);
	envup_engine_free(e);
}

/* ---- setup -------------------------------------------------------------------- */

static bool read_prefix_file(void)
{
	envup_buf b = ENVUP_BUF_INIT;
	const char *p;
	bool ok = false;

	if (access(ENVUP_TEST_DATA "/../images/.env", R_OK) != 0 ||
	    envup_read_file(&b, ENVUP_TEST_DATA "/../images/.env", 0) != 0)
		return false;
	if ((p = strstr(envup_buf_cstr(&b), "ENVUP_HUB_IMAGE_PREFIX=")) != NULL) {
		p += strlen("ENVUP_HUB_IMAGE_PREFIX=");
		snprintf(image_prefix, sizeof(image_prefix), "%.*s", (int)strcspn(p, "\r\n \t"), p);
		ok = image_prefix[0] != '\0';
	}
	envup_buf_dispose(&b);
	return ok;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_provision__open_and_negotiate, teardown),
		cmocka_unit_test_teardown(test_provision__image_pull_path, teardown),
		cmocka_unit_test_teardown(test_provision__redis_lifecycle_and_cleanup, teardown),
		cmocka_unit_test_teardown(test_provision__latencies, teardown),
		cmocka_unit_test_teardown(test_provision__engine_errors, teardown),
	};
	const char *engine = getenv("ENVUP_TEST_ENGINE");
	const char *require = getenv("ENVUP_TEST_REQUIRE_ENGINE");
	const char *prefix = getenv("ENVUP_HUB_IMAGE_PREFIX");
	bool required = require && strcmp(require, "1") == 0;
	char *rewritten;
	unsigned char rnd[4];

	if (!engine || !*engine) {
		if (required) {
			fprintf(stderr, "test_provision: ENVUP_TEST_REQUIRE_ENGINE=1 but ENVUP_TEST_ENGINE is unset\n");
			return 1;
		}
		fprintf(stderr, "test_provision: skipped (set ENVUP_TEST_ENGINE=1 to run against the engine)\n");
		return 77;
	}
	if (strncmp(engine, "unix://", 7) == 0 || strncmp(engine, "tcp://", 6) == 0)
		docker_host = engine;
	if (prefix && *prefix)
		snprintf(image_prefix, sizeof(image_prefix), "%s", prefix);
	else if (!read_prefix_file()) {
		fprintf(stderr, "test_provision: no ENVUP_HUB_IMAGE_PREFIX and no tests/images/.env "
			"(run tests/images/build.sh)\n");
		return required ? 1 : 77;
	}
	if (image_prefix[strlen(image_prefix) - 1] != '/' && strlen(image_prefix) + 1 < sizeof(image_prefix))
		strcat(image_prefix, "/");
	rewritten = envup_image_rewrite("redis:7-alpine", image_prefix);
	snprintf(redis_image, sizeof(redis_image), "%s", rewritten);
	envup__free(rewritten);
	envup_random_bytes(rnd, sizeof(rnd));
	snprintf(run_id, sizeof(run_id), "prov-%d-%02x%02x%02x%02x", (int)getpid(),
		rnd[0], rnd[1], rnd[2], rnd[3]);
	atexit(release_all);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
