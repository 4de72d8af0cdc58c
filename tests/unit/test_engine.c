/*
 * The engine client and the calls built on it, against a fake Docker
 * Engine on a unix socket (a small HTTP/1.1 server in this file) that
 * records every request and answers what each test scripts: negotiation,
 * transport failures, headers, caps, deadlines, cancellation, image pulls,
 * container and network calls, and label-based cleanup.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include "provision/engine.h"
#include "provision/image.h"
#include "provision/container.h"
#include "provision/network.h"
#include "provision/cleanup.h"
#include "provision/claim.h"
#include "provision/swarm.h"

/* ---- the fake engine ------------------------------------------------------- */

#define FAKE_MAX_REQS  512
#define STOPPED() __atomic_load_n(&F.stop, __ATOMIC_SEQ_CST)
#define HANDLER() __atomic_load_n(&F.handler, __ATOMIC_SEQ_CST)
#define SET_HANDLER(h) __atomic_store_n(&F.handler, (h), __ATOMIC_SEQ_CST)
#define FAKE_MAX_CONNS 256

typedef struct {
	char method[16];
	char target[4096];         /* the path decoded (as the engine's router
	                              sees it) and the query as sent */
	char headers[8192];        /* the raw header block */
	char *body;
	size_t body_len;
} fake_req;

/* Return 0 when answered, 1 to close the connection, -1 for "not mine" (404). */
typedef int (*fake_handler)(int fd, const fake_req *req);

typedef struct {
	char path[108];
	int lfd;
	pthread_t accept_thread;
	int stop;
	pthread_mutex_t lock;
	fake_handler handler;
	const char *api_version;     /* header on every answer; NULL: none */
	fake_req *reqs[FAKE_MAX_REQS];
	size_t nreqs;
	pthread_t threads[FAKE_MAX_CONNS];
	int fds[FAKE_MAX_CONNS];
	size_t nconns;
	int state;                   /* free for handlers */
	int count;                   /* free for handlers */
} fake;

static fake F;

static void fake_write(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return;     /* the client went away: fine */
		}
		p += n;
		len -= (size_t)n;
	}
}

static void fake_head(int fd, int status, const char *extra, const char *framing)
{
	char head[1024];
	int n = snprintf(head, sizeof(head),
		"HTTP/1.1 %d Whatever\r\n%s%s%sServer: Docker/fake\r\n%s%s\r\n", status,
		F.api_version ? "Api-Version: " : "", F.api_version ? F.api_version : "",
		F.api_version ? "\r\n" : "", extra ? extra : "", framing);
	fake_write(fd, head, (size_t)n);
}

static void fake_reply(int fd, int status, const char *body)
{
	char framing[96];
	size_t len = body ? strlen(body) : 0;

	snprintf(framing, sizeof(framing),
		"Content-Type: application/json\r\nContent-Length: %zu\r\n", len);
	fake_head(fd, status, NULL, framing);
	if (len)
		fake_write(fd, body, len);
}

static void fake_chunk(int fd, const void *data, size_t len)
{
	char size[32];
	int n = snprintf(size, sizeof(size), "%zx\r\n", len);
	if (len == 0)
		return;
	fake_write(fd, size, (size_t)n);
	fake_write(fd, data, len);
	fake_write(fd, "\r\n", 2);
}

static void fake_stream_begin(int fd, int status)
{
	fake_head(fd, status, NULL, "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n");
}

static void fake_stream_end(int fd)
{
	fake_write(fd, "0\r\n\r\n", 5);
}

/* Sleep up to ms, returning early when the server stops. */
static void fake_nap(long ms)
{
	while (ms > 0 && !STOPPED()) {
		usleep(10 * 1000);
		ms -= 10;
	}
}

static bool fake_has_header(const fake_req *r, const char *name_value)
{
	return strcasestr(r->headers, name_value) != NULL;
}

/* Percent-decode the path part of a target in place; the query stays. */
static void decode_path(char *t)
{
	char *w = t, *q = strchr(t, '?');
	size_t qlen = q ? strlen(q) : 0;

	for (; *t && t != q; t++) {
		if (*t == '%' && isxdigit((unsigned char)t[1]) && isxdigit((unsigned char)t[2])) {
			char hex[3] = {t[1], t[2], 0};
			*w++ = (char)strtol(hex, NULL, 16);
			t += 2;
		} else {
			*w++ = *t;
		}
	}
	if (q)
		memmove(w, q, qlen + 1);
	else
		*w = '\0';
}

static fake_req *fake_read_request(int fd, char *buf, size_t *have, size_t cap)
{
	fake_req *r;
	char *end, *line, *cl;
	size_t head_len, body_len = 0;

	for (;;) {
		ssize_t n;
		buf[*have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		if (*have + 1 >= cap)
			return NULL;
		n = recv(fd, buf + *have, cap - 1 - *have, 0);
		if (n <= 0)
			return NULL;
		*have += (size_t)n;
	}
	head_len = (size_t)(end - buf) + 4;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	line = buf;
	sscanf(line, "%15s %4095s", r->method, r->target);
	decode_path(r->target);
	snprintf(r->headers, sizeof(r->headers), "%.*s", (int)head_len, buf);
	if ((cl = strcasestr(r->headers, "\r\nContent-Length:")) != NULL)
		body_len = strtoul(cl + 17, NULL, 10);
	while (*have < head_len + body_len && *have + 1 < cap) {
		ssize_t n = recv(fd, buf + *have, cap - 1 - *have, 0);
		if (n <= 0) {
			free(r);
			return NULL;
		}
		*have += (size_t)n;
	}
	r->body = calloc(1, body_len + 1);
	memcpy(r->body, buf + head_len, body_len);
	r->body_len = body_len;
	memmove(buf, buf + head_len + body_len, *have - head_len - body_len);
	*have -= head_len + body_len;
	return r;
}

static void *fake_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	size_t cap = 1 << 20, have = 0;
	char *buf = malloc(cap);

	while (!STOPPED()) {
		fake_req *r = fake_read_request(fd, buf, &have, cap);
		fake_handler handler = HANDLER();
		bool full;
		int rc = -1;

		if (!r)
			break;
		pthread_mutex_lock(&F.lock);
		if (F.nreqs < FAKE_MAX_REQS) {
			F.reqs[F.nreqs++] = r;
		} else {
			free(r->body);
			free(r);
			r = NULL;
		}
		full = F.nreqs >= FAKE_MAX_REQS;
		pthread_mutex_unlock(&F.lock);
		if (!r)
			break;
		if (strcmp(r->target, "/_ping") == 0 && (!handler || handler(fd, r) < 0)) {
			fake_head(fd, 200, NULL, "Content-Type: text/plain\r\nContent-Length: 2\r\n");
			fake_write(fd, "OK", 2);
			rc = 0;
		} else if (strcmp(r->target, "/_ping") != 0) {
			rc = handler ? handler(fd, r) : -1;
			if (rc < 0)
				fake_reply(fd, 404, "{\"message\":\"page not found\"}");
		} else {
			rc = 0;
		}
		if (full || rc == 1)
			break;
	}
	shutdown(fd, SHUT_RDWR);
	free(buf);
	return NULL;
}

static void *fake_accept(void *arg)
{
	while (!STOPPED()) {
		struct pollfd p = {F.lfd, POLLIN, 0};
		int fd;

		if (poll(&p, 1, 20) <= 0)
			continue;
		if ((fd = accept(F.lfd, NULL, NULL)) < 0)
			continue;
		pthread_mutex_lock(&F.lock);
		if (F.nconns < FAKE_MAX_CONNS &&
		    pthread_create(&F.threads[F.nconns], NULL, fake_conn, (void *)(intptr_t)fd) == 0)
			F.fds[F.nconns++] = fd;
		else
			close(fd);
		pthread_mutex_unlock(&F.lock);
	}
	return NULL;
}

static int fake_start(void **state)
{
	struct sockaddr_un sa;

	memset(&F, 0, sizeof(F));
	pthread_mutex_init(&F.lock, NULL);
	F.api_version = "1.45";
	snprintf(F.path, sizeof(F.path), "/tmp/envup-fake-engine-%d.sock", (int)getpid());
	unlink(F.path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", F.path);
	F.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (F.lfd < 0 || bind(F.lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(F.lfd, 64) < 0)
		return -1;
	unsetenv("DOCKER_API_VERSION");
	envup_error_clear();
	return pthread_create(&F.accept_thread, NULL, fake_accept, NULL) == 0 ? 0 : -1;
}

static int fake_stop(void **state)
{
	size_t i;

	__atomic_store_n(&F.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(F.accept_thread, NULL);
	pthread_mutex_lock(&F.lock);
	for (i = 0; i < F.nconns; i++)
		shutdown(F.fds[i], SHUT_RDWR);
	pthread_mutex_unlock(&F.lock);
	for (i = 0; i < F.nconns; i++) {
		pthread_join(F.threads[i], NULL);
		close(F.fds[i]);
	}
	for (i = 0; i < F.nreqs; i++) {
		free(F.reqs[i]->body);
		free(F.reqs[i]);
	}
	close(F.lfd);
	unlink(F.path);
	pthread_mutex_destroy(&F.lock);
	unsetenv("DOCKER_API_VERSION");
	return 0;
}

static envup_engine *fake_open(void)
{
	envup_engine_options opts = {NULL, NULL, 0};
	envup_engine *e = NULL;
	char host[160];

	snprintf(host, sizeof(host), "unix://%s", F.path);
	opts.docker_host = host;
	if (envup_engine_open(&e, &opts) != 0)
		fail_msg("open: %s", envup_error_last()->message);
	return e;
}

/* The n-th request (0-based) whose target starts with prefix, or NULL. */
static const fake_req *fake_find(const char *method, const char *prefix, size_t nth)
{
	const fake_req *found = NULL;
	size_t i;

	pthread_mutex_lock(&F.lock);
	for (i = 0; i < F.nreqs && !found; i++)
		if (strcmp(F.reqs[i]->method, method) == 0 &&
		    strncmp(F.reqs[i]->target, prefix, strlen(prefix)) == 0 && nth-- == 0)
			found = F.reqs[i];
	pthread_mutex_unlock(&F.lock);
	return found;
}

static size_t fake_count(const char *method, const char *prefix)
{
	size_t i, n = 0;

	pthread_mutex_lock(&F.lock);
	for (i = 0; i < F.nreqs; i++)
		if (strcmp(F.reqs[i]->method, method) == 0 &&
		    strncmp(F.reqs[i]->target, prefix, strlen(prefix)) == 0)
			n++;
	pthread_mutex_unlock(&F.lock);
	return n;
}

static bool is(const fake_req *r, const char *method, const char *target)
{
	return strcmp(r->method, method) == 0 && strcmp(r->target, target) == 0;
}

static bool starts(const fake_req *r, const char *method, const char *prefix)
{
	return strcmp(r->method, method) == 0 && strncmp(r->target, prefix, strlen(prefix)) == 0;
}

static char *url_decode(const char *s)
{
	char *out = calloc(1, strlen(s) + 1), *o = out;
	for (; *s; s++) {
		if (*s == '%' && s[1] && s[2]) {
			char hex[3] = {s[1], s[2], 0};
			*o++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	return out;
}

/* ---- connection errors -------------------------------------------------------- */

static void test_engine__socket_missing(void **state)
{
	envup_engine_options opts = {"unix:///nonexistent/envup/docker.sock", NULL, 0};
	envup_engine *e = (envup_engine *)1;

	assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
	assert_null(e);
	assert_string_equal(envup_error_last()->message,
		"cannot connect to the Docker engine at unix:///nonexistent/envup/docker.sock: "
		"no such file (is dockerd running? set DOCKER_HOST)");
	assert_int_equal(envup_error_last()->klass, ENVUP_ERROR_DOCKER);
}

static void test_engine__connection_refused(void **state)
{
	envup_engine_options opts = {NULL, NULL, 0};
	envup_engine *e = NULL;
	struct sockaddr_un sa;
	char path[108], host[160];
	int fd;

	/* a socket file nobody listens on: a stale socket from a dead daemon */
	snprintf(path, sizeof(path), "/tmp/envup-stale-%d.sock", (int)getpid());
	unlink(path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	snprintf(host, sizeof(host), "unix://%s", path);
	opts.docker_host = host;
	assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
	assert_non_null(strstr(envup_error_last()->message, "connection refused"));
	unlink(path);

	opts.docker_host = "tcp://127.0.0.1:1";
	assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
	assert_string_equal(envup_error_last()->message,
		"cannot connect to the Docker engine at tcp://127.0.0.1:1: connection refused "
		"(is dockerd running?)");
}

static void test_engine__permission_denied(void **state)
{
	envup_engine_options opts = {NULL, NULL, 0};
	envup_engine *e = NULL;
	char host[160];
	pid_t pid;
	int status = -1;

	assert_int_equal(chmod(F.path, 0600), 0);
	snprintf(host, sizeof(host), "unix://%s", F.path);
	opts.docker_host = host;
	if (geteuid() != 0) {
		assert_int_equal(chmod(F.path, 0), 0);
		assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
		assert_non_null(strstr(envup_error_last()->message, "permission denied"));
		return;
	}
	/* root connects to any socket: try as nobody in a child */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc;
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		rc = envup_engine_open(&e, &opts);
		if (rc != ENVUP_EDOCKER)
			_exit(3);
		if (!strstr(envup_error_last()->message, ": permission denied (add your user to the docker group"))
			_exit(4);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_engine__docker_host_forms(void **state)
{
	envup_engine_options opts = {NULL, NULL, 0};
	envup_engine *e = NULL;

	/* ssh: nothing that ssh could read as an option (tests/workflow/test_ssh.sh
	 * runs a real one) */
	opts.docker_host = "ssh://-oProxyCommand=x";
	assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
	assert_non_null(strstr(envup_error_last()->message, "expected ssh://[USER@]HOST[:PORT]"));
	opts.docker_host = "ssh://-evil";
	assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
	assert_non_null(strstr(envup_error_last()->message, "bad user or host"));
	opts.docker_host = "ssh://-l@box";
	assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
	assert_non_null(strstr(envup_error_last()->message, "bad user or host"));
	opts.docker_host = "ssh://bob:hunter2@box";
	assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
	assert_non_null(strstr(envup_error_last()->message, "with a password is refused"));
	assert_null(strstr(envup_error_last()->message, "hunter2"));
	opts.docker_host = "ssh://";
	assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
	assert_non_null(strstr(envup_error_last()->message, "expected ssh://[USER@]HOST[:PORT]"));
	opts.docker_host = "npipe:////./pipe/docker_engine";
	assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
	assert_non_null(strstr(envup_error_last()->message, "unsupported address"));
	opts.docker_host = "tcp://:2375";
	assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
	opts.docker_host = "tcp://host:12ab";
	assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
	assert_non_null(strstr(envup_error_last()->message, "bad port"));
	opts.docker_host = "unix:///tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock";
	assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
	assert_non_null(strstr(envup_error_last()->message, "longer than"));
	assert_null(e);
}

/* A one-shot TCP engine: answers the ping, then closes. */
static void *tcp_engine(void *arg)
{
	int lfd = *(int *)arg, fd;
	char buf[4096];
	static const char answer[] = "HTTP/1.1 200 OK\r\nApi-Version: 1.43\r\n"
		"Content-Length: 2\r\nConnection: close\r\n\r\nOK";

	if ((fd = accept(lfd, NULL, NULL)) < 0)
		return NULL;
	if (recv(fd, buf, sizeof(buf), 0) > 0)
		fake_write(fd, answer, sizeof(answer) - 1);
	close(fd);
	return NULL;
}

static void test_engine__tcp_address(void **state)
{
	envup_engine_options opts = {NULL, NULL, 0};
	envup_engine *e = NULL;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char host[64], want[64];
	pthread_t t;
	int lfd;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	assert_int_equal(pthread_create(&t, NULL, tcp_engine, &lfd), 0);
	snprintf(host, sizeof(host), "tcp://127.0.0.1:%d/", ntohs(sa.sin_port));
	snprintf(want, sizeof(want), "tcp://127.0.0.1:%d", ntohs(sa.sin_port));
	opts.docker_host = host;
	assert_int_equal(envup_engine_open(&e, &opts), 0);
	pthread_join(t, NULL);
	close(lfd);
	assert_string_equal(envup_engine_address(e), want);
	assert_string_equal(envup_engine_port_host(e), "127.0.0.1");
	/* a TCP engine on loopback still publishes on loopback only */
	assert_string_equal(envup_engine_bind_ip(e), "127.0.0.1");
	assert_string_equal(envup_engine_api_version(e), "1.43");
	envup_engine_free(e);
}

/* ---- negotiation ------------------------------------------------------------- */

static int h_any_json(int fd, const fake_req *r)
{
	fake_reply(fd, 200, "{}");
	return 0;
}

static void negotiate_case(const char *server, const char *pin, int want_rc, const char *want)
{
	envup_engine_options opts = {NULL, NULL, 0};
	envup_engine *e = NULL;
	char host[160];

	F.api_version = server;
	SET_HANDLER(h_any_json);
	if (pin)
		setenv("DOCKER_API_VERSION", pin, 1);
	else
		unsetenv("DOCKER_API_VERSION");
	snprintf(host, sizeof(host), "unix://%s", F.path);
	opts.docker_host = host;
	assert_int_equal(envup_engine_open(&e, &opts), want_rc);
	if (want_rc == 0) {
		assert_string_equal(envup_engine_api_version(e), want);
	} else {
		assert_null(e);
		assert_non_null(strstr(envup_error_last()->message, want));
	}
	envup_engine_free(e);
	unsetenv("DOCKER_API_VERSION");
}

static void test_engine__negotiation(void **state)
{
	negotiate_case("1.45", NULL, 0, "1.44");
	negotiate_case("1.53", NULL, 0, "1.44");
	negotiate_case("1.44", NULL, 0, "1.44");
	negotiate_case("1.43", NULL, 0, "1.43");
	negotiate_case("1.41", NULL, 0, "1.41");
	negotiate_case(NULL, NULL, 0, "1.41");                /* no header: conservative */
	negotiate_case("1.40", NULL, ENVUP_EDOCKER, "speaks API 1.40; envup needs 1.41 or newer");
	negotiate_case("1.5", NULL, ENVUP_EDOCKER, "speaks API 1.5;");
	negotiate_case("garbage", NULL, ENVUP_EDOCKER, "unreadable API version");
	negotiate_case("1.45", "1.42", 0, "1.42");            /* pinned */
	negotiate_case("1.40", "1.40", 0, "1.40");            /* the user's choice */
	negotiate_case("1.45", "v1", ENVUP_EDOCKER, "DOCKER_API_VERSION=v1");
}

static void test_engine__ping_is_unversioned_requests_are(void **state)
{
	envup_engine *e;
	envup_buf resp = ENVUP_BUF_INIT;
	long status = 0;

	SET_HANDLER(h_any_json);
	e = fake_open();
	{
		char want[160];
		snprintf(want, sizeof(want), "unix://%s", F.path);
		assert_string_equal(envup_engine_address(e), want);
	}
	assert_string_equal(envup_engine_port_host(e), "127.0.0.1");
	assert_string_equal(envup_engine_bind_ip(e), "127.0.0.1");
	assert_string_equal(envup_engine_server_api_version(e), "1.45");
	assert_int_equal(envup_engine_request(e, "GET", "/containers/json?all=1", NULL, NULL, 0,
		&status, &resp), 0);
	assert_int_equal(status, 200);
	assert_string_equal(resp.ptr, "{}");
	assert_non_null(fake_find("GET", "/_ping", 0));
	assert_non_null(fake_find("GET", "/v1.44/containers/json?all=1", 0));
	/* keep-alive: the two requests shared one connection */
	assert_int_equal(F.nconns, 1);
	envup_buf_dispose(&resp);
	envup_engine_free(e);
}

static int h_ping_500(int fd, const fake_req *r)
{
	if (strcmp(r->target, "/_ping") == 0) {
		fake_reply(fd, 500, "{\"message\":\"daemon is shutting down\"}");
		return 0;
	}
	return -1;
}

static int h_ping_404(int fd, const fake_req *r)
{
	if (strcmp(r->target, "/_ping") == 0) {
		fake_reply(fd, 404, "not here");
		return 0;
	}
	return -1;
}

static void test_engine__ping_failures(void **state)
{
	envup_engine_options opts = {NULL, NULL, 0};
	envup_engine *e = NULL;
	char host[160];

	snprintf(host, sizeof(host), "unix://%s", F.path);
	opts.docker_host = host;
	SET_HANDLER(h_ping_500);
	assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
	assert_string_equal(envup_error_last()->message,
		"the Docker engine is not ready (GET /_ping): daemon is shutting down");
	SET_HANDLER(h_ping_404);
	assert_int_equal(envup_engine_open(&e, &opts), ENVUP_EDOCKER);
	assert_non_null(strstr(envup_error_last()->message, "does not look like a Docker engine"));
}

/* ---- headers ----------------------------------------------------------------- */

static void test_engine__request_headers(void **state)
{
	envup_engine *e;
	envup_buf resp = ENVUP_BUF_INIT;
	const fake_req *r;
	long status;
	char big[5000];

	SET_HANDLER(h_any_json);
	e = fake_open();
	assert_int_equal(envup_engine_request(e, "POST", "/containers/x/start", NULL, NULL, 0,
		&status, &resp), 0);
	r = fake_find("POST", "/v1.44/containers/x/start", 0);
	assert_non_null(r);
	assert_false(fake_has_header(r, "Content-Type"));
	assert_true(fake_has_header(r, "Content-Length: 0"));
	assert_int_equal(r->body_len, 0);

	memset(big, 'a', sizeof(big));
	big[0] = '"';
	big[sizeof(big) - 1] = '"';
	assert_int_equal(envup_engine_request(e, "POST", "/containers/create", NULL, big, sizeof(big),
		&status, &resp), 0);
	r = fake_find("POST", "/v1.44/containers/create", 0);
	assert_non_null(r);
	assert_true(fake_has_header(r, "Content-Type: application/json"));
	assert_false(fake_has_header(r, "Expect:"));
	assert_int_equal(r->body_len, sizeof(big));

	assert_int_equal(envup_engine_request(e, "PUT", "/containers/x/archive?path=/", "application/x-tar",
		"tar", 3, &status, &resp), 0);
	r = fake_find("PUT", "/v1.44/containers/x/archive", 0);
	assert_non_null(r);
	assert_true(fake_has_header(r, "Content-Type: application/x-tar"));
	assert_string_equal(r->body, "tar");

	assert_int_equal(envup_engine_request(e, "DELETE", "/containers/x?force=1&v=1", NULL, NULL, 0,
		&status, &resp), 0);
	assert_non_null(fake_find("DELETE", "/v1.44/containers/x?force=1&v=1", 0));
	envup_buf_dispose(&resp);
	envup_engine_free(e);
}

/* ---- api errors --------------------------------------------------------------- */

static void test_engine__api_error(void **state)
{
	envup_buf b = ENVUP_BUF_INIT;

	assert_int_equal(envup_buf_puts(&b, "{\"message\":\"No such container: abc\"}"), 0);
	assert_int_equal(envup_engine_api_error(404, &b, "inspect container abc"), ENVUP_ENOTFOUND);
	assert_string_equal(envup_error_last()->message, "inspect container abc: No such container: abc");
	assert_int_equal(envup_error_last()->klass, ENVUP_ERROR_DOCKER);
	envup_buf_clear(&b);
	assert_int_equal(envup_buf_puts(&b, "{\"message\":\"Conflict.\\nsecond line\"}"), 0);
	assert_int_equal(envup_engine_api_error(409, &b, "create"), ENVUP_EEXISTS);
	assert_string_equal(envup_error_last()->message, "create: Conflict. second line");
	envup_buf_clear(&b);
	assert_int_equal(envup_buf_puts(&b, "Bad Gateway\r\n<html>"), 0);
	assert_int_equal(envup_engine_api_error(502, &b, "list"), ENVUP_EDOCKER);
	assert_string_equal(envup_error_last()->message, "list: Bad Gateway");
	envup_buf_clear(&b);
	assert_int_equal(envup_engine_api_error(500, &b, "list"), ENVUP_EDOCKER);
	assert_string_equal(envup_error_last()->message, "list: HTTP 500");
	assert_int_equal(envup_engine_api_error(500, NULL, "x"), ENVUP_EDOCKER);
	assert_int_equal(envup_buf_puts(&b, "{\"other\":1}"), 0);
	assert_int_equal(envup_engine_api_error(400, &b, "x"), ENVUP_EDOCKER);
	assert_string_equal(envup_error_last()->message, "x: HTTP 400");
	envup_buf_dispose(&b);
}

static void test_engine__escape_and_filters(void **state)
{
	envup_strlist labels = ENVUP_STRLIST_INIT;
	char *s, *dec;
	envup_kvlist have = ENVUP_KVLIST_INIT;

	s = envup_url_escape("a b/c:d@e=f&g~h.i_j-k\xc3\xa9");
	assert_string_equal(s, "a%20b%2Fc%3Ad%40e%3Df%26g~h.i_j-k%C3%A9");
	envup__free(s);
	/* a path keeps its slashes: /images/NAME/json for a registry image */
	s = envup_url_escape_path("127.0.0.1:5858/library/postgres:16 x@sha");
	assert_string_equal(s, "127.0.0.1%3A5858/library/postgres%3A16%20x%40sha");
	envup__free(s);
	s = envup_url_escape("");
	assert_string_equal(s, "");
	envup__free(s);
	assert_int_equal(envup_strlist_push(&labels, "dev.envup.managed=true"), 0);
	assert_int_equal(envup_strlist_push(&labels, "dev.envup.env"), 0);
	s = envup_engine_label_filter(&labels);
	dec = url_decode(s);
	assert_string_equal(dec, "{\"label\":{\"dev.envup.managed=true\":true,\"dev.envup.env\":true}}");
	assert_null(strchr(s, '{'));
	free(dec);
	envup__free(s);

	assert_int_equal(envup_kvlist_set(&have, "dev.envup.managed", "true"), 0);
	assert_false(envup_engine_labels_match(&have, &labels));
	assert_int_equal(envup_kvlist_set(&have, "dev.envup.env", "x"), 0);
	assert_true(envup_engine_labels_match(&have, &labels));
	assert_int_equal(envup_kvlist_set(&have, "dev.envup.managed", "truee"), 0);
	assert_false(envup_engine_labels_match(&have, &labels));
	assert_true(envup_engine_labels_match(&have, NULL));
	envup_kvlist_dispose(&have);
	envup_strlist_dispose(&labels);
}

/* ---- transport failures ---------------------------------------------------------- */

static int h_transport(int fd, const fake_req *r)
{
	if (is(r, "GET", "/v1.44/closed-mid-body")) {
		fake_head(fd, 200, NULL, "Content-Type: application/json\r\nContent-Length: 100\r\n");
		fake_write(fd, "{\"partial\":", 11);
		return 1;
	}
	if (is(r, "GET", "/v1.44/nothing"))
		return 1;
	if (is(r, "GET", "/v1.44/slow")) {
		fake_nap(3000);
		fake_reply(fd, 200, "{}");
		return 0;
	}
	if (is(r, "GET", "/v1.44/huge")) {
		size_t total = (size_t)17 * 1024 * 1024, sent = 0;
		static char block[65536];
		char framing[96];
		memset(block, ' ', sizeof(block));
		snprintf(framing, sizeof(framing), "Content-Length: %zu\r\n", total);
		fake_head(fd, 200, NULL, framing);
		while (sent < total && !STOPPED()) {
			fake_write(fd, block, sizeof(block));
			sent += sizeof(block);
		}
		return 1;
	}
	if (is(r, "GET", "/v1.44/drip")) {
		int i;
		fake_stream_begin(fd, 200);
		for (i = 0; i < 500 && !STOPPED(); i++) {
			fake_chunk(fd, "tick\n", 5);
			fake_nap(20);
		}
		fake_stream_end(fd);
		return 0;
	}
	if (is(r, "GET", "/v1.44/notjson")) {
		fake_reply(fd, 200, "<html>hello</html>");
		return 0;
	}
	return -1;
}

static void test_engine__closed_mid_body(void **state)
{
	envup_engine *e;
	envup_buf resp = ENVUP_BUF_INIT;
	long status;

	SET_HANDLER(h_transport);
	e = fake_open();
	assert_int_equal(envup_engine_request(e, "GET", "/closed-mid-body", NULL, NULL, 0, &status, &resp),
		ENVUP_EDOCKER);
	assert_string_equal(envup_error_last()->message,
		"the Docker engine closed the connection (GET /closed-mid-body)");
	assert_int_equal(envup_engine_request(e, "GET", "/nothing", NULL, NULL, 0, &status, &resp),
		ENVUP_EDOCKER);
	assert_string_equal(envup_error_last()->message,
		"the Docker engine closed the connection (GET /nothing)");
	/* the engine keeps working afterwards */
	SET_HANDLER(h_any_json);
	assert_int_equal(envup_engine_request(e, "GET", "/info", NULL, NULL, 0, &status, &resp), 0);
	assert_int_equal(status, 200);
	envup_buf_dispose(&resp);
	envup_engine_free(e);
}

static void test_engine__deadline(void **state)
{
	envup_engine *e;
	envup_buf resp = ENVUP_BUF_INIT;
	long status;
	double t0;

	SET_HANDLER(h_transport);
	e = fake_open();
	envup_engine_set_deadline(e, envup_now() + 0.3);
	assert_true(envup_engine_deadline(e) > 0);
	t0 = envup_now();
	assert_int_equal(envup_engine_request(e, "GET", "/slow", NULL, NULL, 0, &status, &resp),
		ENVUP_ETIMEOUT);
	assert_true(envup_now() - t0 < 1.5);
	assert_string_equal(envup_error_last()->message,
		"timed out waiting for the Docker engine (GET /slow): deadline passed");
	/* past the deadline nothing is even attempted */
	while (envup_now() < envup_engine_deadline(e) + 0.01)
		envup_sleep_ms(10);
	t0 = envup_now();
	assert_int_equal(envup_engine_request(e, "GET", "/info", NULL, NULL, 0, &status, &resp),
		ENVUP_ETIMEOUT);
	assert_true(envup_now() - t0 < 0.1);
	assert_int_equal(envup_engine_check_interrupt(e), ENVUP_ETIMEOUT);
	envup_engine_set_deadline(e, 0);
	assert_int_equal(envup_engine_check_interrupt(e), 0);
	envup_buf_dispose(&resp);
	envup_engine_free(e);
}

static atomic_int cancel_flag;

static void *cancel_later(void *arg)
{
	usleep(200 * 1000);
	atomic_store(&cancel_flag, 1);
	return NULL;
}

static int count_bytes(const char *data, size_t len, void *payload)
{
	*(size_t *)payload += len;
	return 0;
}

static void test_engine__cancel(void **state)
{
	envup_engine_options opts = {NULL, &cancel_flag, 0};
	envup_engine *e = NULL;
	char host[160];
	pthread_t t;
	size_t got = 0;
	long status;
	double t0;

	SET_HANDLER(h_transport);
	atomic_store(&cancel_flag, 0);
	snprintf(host, sizeof(host), "unix://%s", F.path);
	opts.docker_host = host;
	assert_int_equal(envup_engine_open(&e, &opts), 0);
	pthread_create(&t, NULL, cancel_later, NULL);
	t0 = envup_now();
	assert_int_equal(envup_engine_stream(e, "GET", "/drip", count_bytes, &got, &status, NULL),
		ENVUP_ECANCELLED);
	pthread_join(t, NULL);
	assert_true(envup_now() - t0 < 3.0);
	assert_true(got > 0);
	assert_string_equal(envup_error_last()->message, "cancelled");
	assert_int_equal(envup_error_last()->klass, ENVUP_ERROR_CANCELLED);
	/* raised before: nothing is sent */
	assert_int_equal(envup_engine_request(e, "GET", "/info", NULL, NULL, 0, &status, NULL),
		ENVUP_ECANCELLED);
	assert_null(fake_find("GET", "/v1.44/info", 0));
	envup_engine_free(e);
	atomic_store(&cancel_flag, 0);
}

static int stop_at_ten(const char *data, size_t len, void *payload)
{
	size_t *got = payload;
	*got += len;
	if (*got >= 10)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_INTERNAL, "enough ticks");
	return 0;
}

static void test_engine__stream_callback_abort(void **state)
{
	envup_engine *e;
	size_t got = 0;
	long status;

	SET_HANDLER(h_transport);
	e = fake_open();
	assert_int_equal(envup_engine_stream(e, "GET", "/drip", stop_at_ten, &got, &status, NULL),
		ENVUP_ERROR);
	assert_string_equal(envup_error_last()->message, "enough ticks");
	envup_engine_free(e);
}

static void test_engine__response_cap(void **state)
{
	envup_engine *e;
	envup_buf resp = ENVUP_BUF_INIT;
	long status;

	SET_HANDLER(h_transport);
	e = fake_open();
	assert_int_equal(envup_engine_request(e, "GET", "/huge", NULL, NULL, 0, &status, &resp),
		ENVUP_EDOCKER);
	assert_non_null(strstr(envup_error_last()->message, "larger than 16 MiB"));
	assert_true(resp.size <= (size_t)16 * 1024 * 1024);
	envup_buf_dispose(&resp);
	envup_engine_free(e);
}

static void test_engine__invalid_json_answer(void **state)
{
	envup_engine *e;
	envup_buf resp = ENVUP_BUF_INIT;
	cJSON *json = NULL;
	long status;

	SET_HANDLER(h_transport);
	e = fake_open();
	assert_int_equal(envup_engine_request(e, "GET", "/notjson", NULL, NULL, 0, &status, &resp), 0);
	assert_int_equal(envup_engine_parse_json(&json, &resp, "inspect container abc"), ENVUP_ERROR);
	assert_null(json);
	assert_string_equal(envup_error_last()->message,
		"invalid JSON from the engine for inspect container abc");
	assert_int_equal(envup_error_last()->klass, ENVUP_ERROR_JSON);
	envup_buf_dispose(&resp);
	envup_engine_free(e);
}

static int h_error_stream(int fd, const fake_req *r)
{
	if (is(r, "GET", "/v1.44/stream-404")) {
		fake_reply(fd, 404, "{\"message\":\"No such container: zz\"}");
		return 0;
	}
	return -1;
}

static void test_engine__stream_error_body(void **state)
{
	envup_engine *e;
	envup_buf errbody = ENVUP_BUF_INIT;
	size_t got = 0;
	long status = 0;

	SET_HANDLER(h_error_stream);
	e = fake_open();
	assert_int_equal(envup_engine_stream(e, "GET", "/stream-404", count_bytes, &got, &status, &errbody), 0);
	assert_int_equal(status, 404);
	assert_int_equal(got, 0);
	assert_string_equal(errbody.ptr, "{\"message\":\"No such container: zz\"}");
	envup_buf_dispose(&errbody);
	envup_engine_free(e);
}

/* ---- threads ----------------------------------------------------------------- */

typedef struct {
	envup_engine *e;
	int failures;
} thread_arg;

static void *many_requests(void *p)
{
	thread_arg *a = p;
	envup_buf resp = ENVUP_BUF_INIT;
	int i;

	for (i = 0; i < 25; i++) {
		long status = 0;
		if (envup_engine_request(a->e, "GET", "/info", NULL, NULL, 0, &status, &resp) != 0 ||
		    status != 200 || strcmp(envup_buf_cstr(&resp), "{}") != 0)
			a->failures++;
	}
	envup_buf_dispose(&resp);
	return NULL;
}

static void test_engine__concurrent_requests(void **state)
{
	envup_engine *e;
	pthread_t t[8];
	thread_arg a[8];
	size_t i;

	SET_HANDLER(h_any_json);
	e = fake_open();
	for (i = 0; i < 8; i++) {
		a[i].e = e;
		a[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, many_requests, &a[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].failures, 0);
	}
	assert_int_equal(fake_count("GET", "/v1.44/info"), 200);
	/* the pool keeps connections: far fewer than one per request */
	assert_true(F.nconns <= 9);
	envup_engine_free(e);
}

/* ---- images -------------------------------------------------------------------- */

#define IMG "127.0.0.1:5858/postgres:16-alpine"

static const char pull_ok_lines[] =
	"{\"status\":\"Pulling from postgres\",\"id\":\"16-alpine\"}\r\n"
	"{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"l1\"}\r\n"
	"{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"l2\"}\r\n"
	"{\"status\":\"Downloading\",\"progressDetail\":{\"current\":10,\"total\":20},\"id\":\"l1\"}\r\n"
	"{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"l1\"}\r\n"
	"{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"l2\"}\r\n"
	"{\"status\":\"Digest: sha256:00\"}\r\n"
	"{\"status\":\"Status: Downloaded newer image for " IMG "\"}\r\n";

static int h_image(int fd, const fake_req *r)
{
	if (is(r, "GET", "/v1.44/images/" IMG "/json") || is(r, "GET", "/v1.44/images/x/y:1/json") ||
	    starts(r, "GET", "/v1.44/images/127.0.0.1:5858/redis@sha256")) {
		if (F.state)
			fake_reply(fd, 200, "{\"Id\":\"sha256:1\"}");
		else
			fake_reply(fd, 404, "{\"message\":\"No such image: " IMG "\"}");
		return 0;
	}
	if (starts(r, "POST", "/v1.44/images/create?")) {
		const char *p;
		pthread_mutex_lock(&F.lock);
		F.count++;
		pthread_mutex_unlock(&F.lock);
		if (F.count == 1 && strstr(r->target, "fail404")) {
			fake_reply(fd, 404, "{\"message\":\"pull access denied for fail404, repository does not exist\"}");
			return 0;
		}
		fake_stream_begin(fd, 200);
		/* drip the lines, cut at odd places */
		for (p = pull_ok_lines; *p && !STOPPED();) {
			size_t n = strlen(p) < 37 ? strlen(p) : 37;
			const char *nl = strchr(p, '\n');
			if (strstr(r->target, "failmid") && nl && (size_t)(nl + 1 - p) < n)
				n = (size_t)(nl + 1 - p);     /* stop at line ends to splice the error in */
			if (strstr(r->target, "failmid") && p - pull_ok_lines > 150 && p[-1] == '\n') {
				static const char err[] = "{\"errorDetail\":{\"message\":\"manifest unknown\"},"
					"\"error\":\"manifest unknown\"}\r\n";
				fake_chunk(fd, err, sizeof(err) - 1);
				break;
			}
			fake_chunk(fd, p, n);
			p += n;
			fake_nap(5);
		}
		if (strstr(r->target, "slow"))
			fake_nap(300);
		if (!strstr(r->target, "failmid") && !strstr(r->target, "ghost"))
			F.state = 1;
		fake_stream_end(fd);
		return 0;
	}
	return -1;
}

typedef struct {
	envup_buf lines;
	size_t calls;
} progress_seen;

static void progress(const char *image, const char *detail, void *payload)
{
	progress_seen *p = payload;
	p->calls++;
	assert_int_equal(envup_buf_printf(&p->lines, "%s: %s\n", image, detail), 0);
}

static void test_engine__image_present_no_pull(void **state)
{
	envup_engine *e;

	SET_HANDLER(h_image);
	F.state = 1;
	e = fake_open();
	assert_int_equal(envup_image_ensure(e, IMG, NULL, NULL), 0);
	assert_int_equal(F.count, 0);
	assert_non_null(fake_find("GET", "/v1.44/images/" IMG "/json", 0));
	envup_engine_free(e);
}

static void test_engine__image_pull(void **state)
{
	envup_engine *e;
	progress_seen p;
	const fake_req *r;

	memset(&p, 0, sizeof(p));
	SET_HANDLER(h_image);
	e = fake_open();
	assert_int_equal(envup_image_ensure(e, IMG, progress, &p), 0);
	r = fake_find("POST", "/v1.44/images/create", 0);
	assert_non_null(r);
	assert_string_equal(r->target,
		"/v1.44/images/create?fromImage=127.0.0.1%3A5858%2Fpostgres&tag=16-alpine");
	assert_false(fake_has_header(r, "Content-Type"));
	/* inspect, pull, inspect again */
	assert_int_equal(fake_count("GET", "/v1.44/images/" IMG "/json"), 2);
	assert_non_null(strstr(p.lines.ptr, IMG ": pulling\n"));
	assert_non_null(strstr(p.lines.ptr, IMG ": pulling 2/2 layers\n"));
	assert_non_null(strstr(p.lines.ptr, IMG ": pulled (2 layers)\n"));
	envup_buf_dispose(&p.lines);
	envup_engine_free(e);
}

static void test_engine__image_pull_digest(void **state)
{
	envup_engine *e;
	const fake_req *r;

	SET_HANDLER(h_image);
	e = fake_open();
	assert_int_equal(envup_image_ensure(e, "127.0.0.1:5858/redis@sha256:abc", NULL, NULL), 0);
	r = fake_find("POST", "/v1.44/images/create", 0);
	assert_non_null(r);
	assert_string_equal(r->target,
		"/v1.44/images/create?fromImage=127.0.0.1%3A5858%2Fredis%40sha256%3Aabc");
	envup_engine_free(e);
}

static void test_engine__image_pull_errors(void **state)
{
	envup_engine *e;

	SET_HANDLER(h_image);
	e = fake_open();
	assert_int_equal(envup_image_ensure(e, "127.0.0.1:5858/failmid:1", NULL, NULL), ENVUP_ERROR);
	assert_string_equal(envup_error_last()->message, "pull 127.0.0.1:5858/failmid:1: manifest unknown");
	F.count = 0;
	assert_int_equal(envup_image_ensure(e, "fail404", NULL, NULL), ENVUP_ENOTFOUND);
	assert_string_equal(envup_error_last()->message,
		"pull fail404: pull access denied for fail404, repository does not exist");
	assert_non_null(fake_find("POST", "/v1.44/images/create?fromImage=fail404&tag=latest", 0));
	/* a clean stream but still no image */
	assert_int_equal(envup_image_ensure(e, "ghost:1", NULL, NULL), ENVUP_ERROR);
	assert_non_null(strstr(envup_error_last()->message,
		"pull ghost:1: the engine reported no error but the image is not there"));
	assert_int_equal(envup_image_ensure(e, "", NULL, NULL), ENVUP_ESPEC);
	envup_engine_free(e);
}

typedef struct {
	envup_engine *e;
	int rc;
} ensure_arg;

static void *ensure_thread(void *p)
{
	ensure_arg *a = p;
	a->rc = envup_image_ensure(a->e, "x/y:1", NULL, NULL);
	return NULL;
}

static void test_engine__image_single_flight(void **state)
{
	envup_engine *e;
	pthread_t t[6];
	ensure_arg a[6];
	size_t i, before = envup_image__pull_count();
	const fake_req *r;

	SET_HANDLER(h_image);
	e = fake_open();
	for (i = 0; i < 6; i++) {
		a[i].e = e;
		a[i].rc = -100;
		assert_int_equal(pthread_create(&t[i], NULL, ensure_thread, &a[i]), 0);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].rc, 0);
	}
	assert_int_equal(fake_count("POST", "/v1.44/images/create"), 1);
	assert_int_equal(envup_image__pull_count() - before, 1);
	r = fake_find("POST", "/v1.44/images/create", 0);
	assert_string_equal(r->target, "/v1.44/images/create?fromImage=x%2Fy&tag=1");
	envup_engine_free(e);
}

/* ---- containers ------------------------------------------------------------------- */

static const char inspect_json[] =
	"{\"Id\":\"abc123\",\"Name\":\"/envup-t-redis\",\"Created\":\"2026-11-21T09:00:00Z\","
	"\"RestartCount\":2,"
	"\"State\":{\"Status\":\"running\",\"Running\":true,\"ExitCode\":0,\"OOMKilled\":false,"
	"\"Error\":\"\",\"StartedAt\":\"2026-11-21T09:00:01Z\","
	"\"Health\":{\"Status\":\"healthy\",\"FailingStreak\":0,\"Log\":["
	"{\"ExitCode\":1,\"Output\":\"first\"},{\"ExitCode\":0,\"Output\":\"PONG\\n\"}]}},"
	"\"Config\":{\"Image\":\"redis:7-alpine\",\"Tty\":false,"
	"\"Labels\":{\"dev.envup.managed\":\"true\",\"dev.envup.env\":\"t\"}},"
	"\"NetworkSettings\":{\"Ports\":{\"6379/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"49153\"},"
	"{\"HostIp\":\"::1\",\"HostPort\":\"49154\"}],\"16379/tcp\":null}}}";

static char *last_create_body;

static int h_container(int fd, const fake_req *r)
{
	if (starts(r, "POST", "/v1.44/containers/create")) {
		if (strstr(r->target, "name=taken")) {
			fake_reply(fd, 409, "{\"message\":\"Conflict. The container name \\\"/taken\\\" is already in use\"}");
			return 0;
		}
		free(last_create_body);
		last_create_body = strdup(r->body);
		fake_reply(fd, 201, "{\"Id\":\"abc123\",\"Warnings\":[]}");
		return 0;
	}
	if (is(r, "POST", "/v1.44/containers/abc123/start")) {
		fake_reply(fd, 204, NULL);
		return 0;
	}
	if (is(r, "POST", "/v1.44/containers/running/start")) {
		fake_reply(fd, 304, NULL);
		return 0;
	}
	if (is(r, "POST", "/v1.44/containers/clash/start")) {
		fake_reply(fd, 500, "{\"message\":\"driver failed programming external connectivity on endpoint x: "
			"Bind for 127.0.0.1:6379 failed: port is already allocated\"}");
		return 0;
	}
	if (is(r, "GET", "/v1.44/containers/abc123/json") || is(r, "GET", "/v1.44/containers/tty/json")) {
		if (strstr(r->target, "tty")) {
			fake_reply(fd, 200, "{\"Id\":\"tty\",\"State\":{},\"Config\":{\"Tty\":true}}");
			return 0;
		}
		fake_reply(fd, 200, inspect_json);
		return 0;
	}
	if (is(r, "GET", "/v1.44/containers/bad/json")) {
		fake_reply(fd, 200, "{\"Id\":\"bad\",\"State\":");
		return 0;
	}
	if (starts(r, "GET", "/v1.44/containers/abc123/logs?")) {
		static const char frames[] =
			"\x01\0\0\0\0\0\0\x06" "hello\n"
			"\x02\0\0\0\0\0\0\x05" "oops\n"
			"\x01\0\0\0\0\0\0\x1c" "Ready to accept connections\n";
		size_t i;
		fake_stream_begin(fd, 200);
		for (i = 0; i < sizeof(frames) - 1; i += 3)
			fake_chunk(fd, frames + i, sizeof(frames) - 1 - i < 3 ? sizeof(frames) - 1 - i : 3);
		if (strstr(r->target, "follow=1"))
			fake_nap(5000);    /* the client stops us */
		fake_stream_end(fd);
		return 0;
	}
	if (starts(r, "GET", "/v1.44/containers/tty/logs?")) {
		fake_stream_begin(fd, 200);
		fake_chunk(fd, "raw tty text\r\n", 14);
		fake_stream_end(fd);
		return 0;
	}
	if (is(r, "DELETE", "/v1.44/containers/abc123?force=1&v=1")) {
		fake_reply(fd, 204, NULL);
		return 0;
	}
	if (is(r, "DELETE", "/v1.44/containers/gone?force=1&v=1")) {
		fake_reply(fd, 404, "{\"message\":\"No such container: gone\"}");
		return 0;
	}
	if (is(r, "DELETE", "/v1.44/containers/busy?force=1&v=1")) {
		fake_reply(fd, 409, "{\"message\":\"removal of container busy is already in progress\"}");
		return 0;
	}
	if (is(r, "GET", "/v1.44/containers/busy/json")) {
		if (++F.count < 3)
			fake_reply(fd, 200, "{\"Id\":\"busy\",\"State\":{\"Status\":\"removing\"}}");
		else
			fake_reply(fd, 404, "{\"message\":\"No such container: busy\"}");
		return 0;
	}
	return -1;
}

static void test_engine__container_create_body(void **state)
{
	envup_engine *e;
	envup_kvlist env = ENVUP_KVLIST_INIT, labels = ENVUP_KVLIST_INIT;
	envup_strlist cmd = ENVUP_STRLIST_INIT, tmpfs = ENVUP_STRLIST_INIT, ep = ENVUP_STRLIST_INIT;
	envup_container_config cfg;
	const fake_req *r;
	cJSON *body;
	char *id = NULL, *text;
	int ports[] = {6379, 16379, 6379};

	SET_HANDLER(h_container);
	e = fake_open();
	assert_int_equal(envup_kvlist_set(&env, "A", "1"), 0);
	assert_int_equal(envup_kvlist_set(&env, "B", "x=y z"), 0);
	assert_int_equal(envup_kvlist_set(&labels, "dev.envup.managed", "true"), 0);
	assert_int_equal(envup_kvlist_set(&labels, "dev.envup.env", "t"), 0);
	assert_int_equal(envup_strlist_push(&cmd, "redis-server"), 0);
	assert_int_equal(envup_strlist_push(&cmd, "--save"), 0);
	assert_int_equal(envup_strlist_push(&cmd, ""), 0);
	assert_int_equal(envup_strlist_push(&tmpfs, "/data"), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.name = "envup-t-redis";
	cfg.image = "redis:7-alpine";
	cfg.env = &env;
	cfg.cmd = &cmd;
	cfg.entrypoint = &ep;
	cfg.labels = &labels;
	cfg.ports = ports;
	cfg.nports = 3;
	cfg.tmpfs = &tmpfs;
	cfg.network = "envup-t";
	cfg.alias = "redis";
	assert_int_equal(envup_container_create(&id, e, &cfg), 0);
	assert_string_equal(id, "abc123");
	r = fake_find("POST", "/v1.44/containers/create", 0);
	assert_string_equal(r->target, "/v1.44/containers/create?name=envup-t-redis");
	assert_true(fake_has_header(r, "Content-Type: application/json"));
	body = cJSON_Parse(last_create_body);
	assert_non_null(body);
	/* compare against the exact expected document (member order included) */
	text = cJSON_PrintUnformatted(body);
	assert_string_equal(text,
		"{\"Image\":\"redis:7-alpine\",\"Env\":[\"A=1\",\"B=x=y z\"],"
		"\"Cmd\":[\"redis-server\",\"--save\",\"\"],\"Entrypoint\":[],"
		"\"Labels\":{\"dev.envup.managed\":\"true\",\"dev.envup.env\":\"t\"},"
		"\"HostConfig\":{\"PortBindings\":{\"6379/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}],"
		"\"16379/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]},"
		"\"Tmpfs\":{\"/data\":\"rw,exec\"},\"RestartPolicy\":{\"Name\":\"no\"},\"AutoRemove\":false,"
		"\"NetworkMode\":\"envup-t\"},"
		"\"ExposedPorts\":{\"6379/tcp\":{},\"16379/tcp\":{}},"
		"\"NetworkingConfig\":{\"EndpointsConfig\":{\"envup-t\":{\"Aliases\":[\"redis\"]}}}}");
	cJSON_free(text);
	cJSON_Delete(body);
	envup__free(id);

	/* minimal config: no Env/Cmd/Entrypoint/network members at all */
	memset(&cfg, 0, sizeof(cfg));
	cfg.image = "busybox";
	assert_int_equal(envup_container_create(&id, e, &cfg), 0);
	r = fake_find("POST", "/v1.44/containers/create", 1);
	assert_string_equal(r->target, "/v1.44/containers/create");
	assert_string_equal(last_create_body,
		"{\"Image\":\"busybox\",\"Labels\":{},\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"no\"},"
		"\"AutoRemove\":false}}");
	envup__free(id);

	cfg.name = "taken";
	assert_int_equal(envup_container_create(&id, e, &cfg), ENVUP_EEXISTS);
	assert_null(id);
	assert_non_null(strstr(envup_error_last()->message, "create container taken: Conflict."));

	free(last_create_body);
	last_create_body = NULL;
	envup_kvlist_dispose(&env);
	envup_kvlist_dispose(&labels);
	envup_strlist_dispose(&cmd);
	envup_strlist_dispose(&tmpfs);
	envup_engine_free(e);
}

static void test_engine__container_start(void **state)
{
	envup_engine *e;

	SET_HANDLER(h_container);
	e = fake_open();
	assert_int_equal(envup_container_start(e, "abc123"), 0);
	assert_false(fake_has_header(fake_find("POST", "/v1.44/containers/abc123/start", 0), "Content-Type"));
	assert_int_equal(envup_container_start(e, "running"), 0);
	assert_int_equal(envup_container_start(e, "clash"), ENVUP_EDOCKER);
	assert_string_equal(envup_error_last()->message,
		"start container clash: the host port is already taken by another process: "
		"driver failed programming external connectivity on endpoint x: "
		"Bind for 127.0.0.1:6379 failed: port is already allocated");
	assert_int_equal(envup_container_start(e, "nope"), ENVUP_ENOTFOUND);
	envup_engine_free(e);
}

static void test_engine__container_inspect(void **state)
{
	envup_engine *e;
	envup_container_info info = ENVUP_CONTAINER_INFO_INIT;

	SET_HANDLER(h_container);
	e = fake_open();
	assert_int_equal(envup_container_inspect(&info, e, "abc123"), 0);
	assert_string_equal(info.id, "abc123");
	assert_string_equal(info.name, "envup-t-redis");
	assert_string_equal(info.image, "redis:7-alpine");
	assert_string_equal(info.status, "running");
	assert_true(info.running);
	assert_int_equal(info.exit_code, 0);
	assert_false(info.oom_killed);
	assert_null(info.error);
	assert_string_equal(info.health, "healthy");
	assert_string_equal(info.health_output, "PONG\n");
	assert_int_equal(info.restart_count, 2);
	assert_string_equal(info.started_at, "2026-11-21T09:00:01Z");
	assert_string_equal(info.created, "2026-11-21T09:00:00Z");
	assert_int_equal(info.ports.n, 1);
	assert_int_equal(envup_container_host_port(&info, 6379), 49153);
	assert_int_equal(envup_container_host_port(&info, 16379), -1);
	assert_int_equal(envup_container_host_port(&info, 1), -1);
	assert_string_equal(envup_kvlist_get(&info.labels, "dev.envup.env"), "t");
	envup_container_info_dispose(&info);
	envup_container_info_dispose(&info);     /* twice is harmless */
	envup_container_info_dispose(NULL);

	assert_int_equal(envup_container_inspect(&info, e, "bad"), ENVUP_ERROR);
	assert_string_equal(envup_error_last()->message, "invalid JSON from the engine for inspect container bad");
	assert_int_equal(envup_container_inspect(&info, e, "missing"), ENVUP_ENOTFOUND);
	assert_null(info.id);
	envup_engine_free(e);
}

static int follow_cb(const char *data, size_t len, void *payload)
{
	envup_buf *b = payload;
	assert_int_equal(envup_buf_put(b, data, len), 0);
	return strstr(envup_buf_cstr(b), "Ready to accept connections\n") ? 1 : 0;
}

static void test_engine__container_logs(void **state)
{
	envup_engine *e;
	envup_buf out = ENVUP_BUF_INIT;
	double t0;

	SET_HANDLER(h_container);
	e = fake_open();
	assert_int_equal(envup_container_logs(&out, e, "abc123", 50), 0);
	assert_string_equal(out.ptr, "hello\noops\nReady to accept connections\n");
	assert_non_null(fake_find("GET", "/v1.44/containers/abc123/logs?stdout=1&stderr=1&tail=50", 0));
	envup_buf_clear(&out);
	assert_int_equal(envup_container_logs(&out, e, "abc123", -1), 0);
	assert_non_null(fake_find("GET", "/v1.44/containers/abc123/logs?stdout=1&stderr=1&tail=all", 0));
	envup_buf_clear(&out);
	assert_int_equal(envup_container_logs(&out, e, "tty", 10), 0);
	assert_string_equal(out.ptr, "raw tty text\r\n");
	envup_buf_clear(&out);
	assert_int_equal(envup_container_logs(&out, e, "missing", 10), ENVUP_ENOTFOUND);

	envup_buf_clear(&out);
	t0 = envup_now();
	assert_int_equal(envup_container_logs_follow(e, "abc123", follow_cb, &out), 0);
	assert_true(envup_now() - t0 < 3.0);
	assert_non_null(fake_find("GET", "/v1.44/containers/abc123/logs?stdout=1&stderr=1&follow=1", 0));
	envup_buf_dispose(&out);
	envup_engine_free(e);
}

static void test_engine__container_remove(void **state)
{
	envup_engine *e;

	SET_HANDLER(h_container);
	e = fake_open();
	assert_int_equal(envup_container_remove(e, "abc123"), 0);
	assert_int_equal(envup_container_remove(e, "gone"), 0);
	assert_int_equal(envup_container_remove(e, "busy"), 0);
	assert_int_equal(fake_count("GET", "/v1.44/containers/busy/json"), 3);
	envup_engine_free(e);
}

/* ---- lists, networks, cleanup --------------------------------------------------------- */

static const char list_json[] =
	"[{\"Id\":\"c1\",\"Names\":[\"/envup-t-redis\"],\"Image\":\"redis\",\"State\":\"running\","
	"\"Status\":\"Up 3 minutes\",\"Created\":1700000000,"
	"\"Labels\":{\"dev.envup.managed\":\"true\",\"dev.envup.env\":\"t\"},"
	"\"Ports\":[{\"IP\":\"127.0.0.1\",\"PrivatePort\":6379,\"PublicPort\":49153,\"Type\":\"tcp\"},"
	"{\"IP\":\"::1\",\"PrivatePort\":6379,\"PublicPort\":49154,\"Type\":\"tcp\"},"
	"{\"PrivatePort\":16379,\"Type\":\"tcp\"}]},"
	"{\"Id\":\"c2\",\"Names\":[\"/envup-t-pg\"],\"Image\":\"postgres\",\"State\":\"exited\","
	"\"Labels\":{\"dev.envup.managed\":\"true\",\"dev.envup.env\":\"t\"}},"
	/* a look-alike the filter should never have returned: it must be ignored */
	"{\"Id\":\"intruder\",\"Names\":[\"/envup-t-x\"],\"Labels\":{\"dev.envup.env\":\"t\"}}]";

static int h_lists(int fd, const fake_req *r)
{
	if (starts(r, "GET", "/v1.44/containers/json?all=1&filters=")) {
		fake_reply(fd, 200, list_json);
		return 0;
	}
	if (starts(r, "DELETE", "/v1.44/containers/c")) {
		if (strstr(r->target, "c2") && F.state == 1)
			fake_reply(fd, 500, "{\"message\":\"device or resource busy\"}");
		else
			fake_reply(fd, 204, NULL);
		return 0;
	}
	if (starts(r, "GET", "/v1.44/networks?filters=")) {
		fake_reply(fd, 200, "[{\"Name\":\"envup-t\",\"Id\":\"n1\",\"Labels\":{\"dev.envup.managed\":\"true\","
			"\"dev.envup.env\":\"t\"}},{\"Name\":\"bridge\",\"Labels\":{}}]");
		return 0;
	}
	if (is(r, "DELETE", "/v1.44/networks/envup-t")) {
		if (++F.count < 3)
			fake_reply(fd, 403, "{\"message\":\"error while removing network: network envup-t id n1 "
				"has active endpoints\"}");
		else
			fake_reply(fd, 204, NULL);
		return 0;
	}
	if (starts(r, "GET", "/v1.44/volumes?filters=")) {
		if (F.state == 2)
			fake_reply(fd, 200, "{\"Volumes\":null,\"Warnings\":null}");
		else
			fake_reply(fd, 200, "{\"Volumes\":[{\"Name\":\"v1\",\"Labels\":{\"dev.envup.managed\":\"true\","
				"\"dev.envup.env\":\"t\"}},{\"Name\":\"anon\",\"Labels\":null}],\"Warnings\":null}");
		return 0;
	}
	if (is(r, "DELETE", "/v1.44/volumes/v1")) {
		fake_reply(fd, 204, NULL);
		return 0;
	}
	if (starts(r, "POST", "/v1.44/networks/create")) {
		if (strstr(r->body, "\"Name\":\"dup\""))
			fake_reply(fd, 409, "{\"message\":\"network with name dup already exists\"}");
		else
			fake_reply(fd, 201, "{\"Id\":\"n1\",\"Warning\":\"\"}");
		return 0;
	}
	return -1;
}

/* ---- the name claim: one table, every outcome ------------------------------------------ */

#define CLAIM_MINE "{\"Name\":\"envup-t\",\"Id\":\"mine\",\"Created\":\"2026-12-01T10:00:00.5Z\"," \
	"\"Labels\":{\"dev.envup.managed\":\"true\",\"dev.envup.env\":\"t\"," \
	"\"dev.envup.instance\":\"aaaaaaaaaaaaaaaa\"}}"
#define CLAIM_OTHER(created, extra) "{\"Name\":\"envup-t\",\"Id\":\"other\",\"Created\":\"" created "\"," \
	"\"Labels\":{\"dev.envup.managed\":\"true\",\"dev.envup.env\":\"t\"," \
	"\"dev.envup.instance\":\"bbbbbbbbbbbbbbbb\"" extra "}}"

typedef struct {
	const char *what;
	const char *other;     /* the other network of the name, or NULL */
	int vanish_after;      /* lists after which the other is gone; 0: never */
	int want_rc;
	const char *want_msg;  /* in the error; NULL: success */
	bool removes_other;    /* DELETE of the other, by id */
	bool removes_mine;     /* DELETE of ours, by id */
} claim_case;

static const claim_case claim_cases[] = {
	{ "alone: won", NULL, 0, 0, NULL, false, false },
	{ "an older live claimant: lost at once",
	  CLAIM_OTHER("2026-12-01T10:00:00.1Z", ""), 0, ENVUP_EEXISTS,
	  "is being brought up by another envup (instance bbbbbbbbbbbbbbbb", false, true },
	{ "a younger claimant that backs off: won",
	  CLAIM_OTHER("2026-12-01T10:00:00.9Z", ""), 2, 0, NULL, false, false },
	/* it listed before ours was visible, saw only itself and won */
	{ "a younger claimant that stays: lost after the wait",
	  CLAIM_OTHER("2026-12-01T10:00:00.9Z", ""), 0, ENVUP_EEXISTS,
	  "is being brought up by another envup (instance bbbbbbbbbbbbbbbb", false, true },
	{ "an expired claimant: removed by id, won",
	  CLAIM_OTHER("2026-12-01T10:00:00.1Z", ",\"dev.envup.expires\":\"1000000000\""), 0, 0, NULL,
	  true, false },
	{ "a network envup did not make: refused, left alone",
	  "{\"Name\":\"envup-t\",\"Id\":\"other\",\"Created\":\"2026-12-01T10:00:00.1Z\",\"Labels\":{}}",
	  0, ENVUP_ERROR, "was not created by envup", false, true },
};

static const claim_case *claim_now;

static int h_claim(int fd, const fake_req *r)
{
	if (starts(r, "POST", "/v1.44/networks/create")) {
		fake_reply(fd, 201, "{\"Id\":\"mine\",\"Warning\":\"\"}");
		return 0;
	}
	if (starts(r, "GET", "/v1.44/networks?filters=")) {
		int lists = __atomic_add_fetch(&F.count, 1, __ATOMIC_SEQ_CST);
		bool other = claim_now->other && !__atomic_load_n(&F.state, __ATOMIC_SEQ_CST) &&
			(claim_now->vanish_after == 0 || lists <= claim_now->vanish_after);
		char body[2048];
		snprintf(body, sizeof(body), "[" CLAIM_MINE "%s%s]", other ? "," : "",
			other ? claim_now->other : "");
		fake_reply(fd, 200, body);
		return 0;
	}
	if (is(r, "DELETE", "/v1.44/networks/other")) {
		__atomic_store_n(&F.state, 1, __ATOMIC_SEQ_CST);
		fake_reply(fd, 204, NULL);
		return 0;
	}
	if (is(r, "DELETE", "/v1.44/networks/mine")) {
		fake_reply(fd, 204, NULL);
		return 0;
	}
	return -1;
}

static int claim_setup(void **state)
{
	claim_now = (const claim_case *)*state;
	return fake_start(state);
}

static void test_engine__claim(void **state)
{
	const claim_case *c = (const claim_case *)*state;
	envup_engine *e;
	envup_identity self;
	envup_kvlist labels = ENVUP_KVLIST_INIT;
	char *id = NULL;
	int rc;

	memset(&self, 0, sizeof(self));
	strcpy(self.env, "t");
	strcpy(self.instance, "aaaaaaaaaaaaaaaa");
	SET_HANDLER(h_claim);
	e = fake_open();
	rc = envup_claim_network(&id, e, "envup-t", &self, &labels);
	if (rc != c->want_rc)
		fail_msg("%s: rc %d, want %d (%s)", c->what, rc, c->want_rc, envup_error_last()->message);
	if (c->want_msg) {
		assert_null(id);
		if (!strstr(envup_error_last()->message, c->want_msg))
			fail_msg("%s: message \"%s\" lacks \"%s\"", c->what, envup_error_last()->message,
				c->want_msg);
	} else {
		assert_non_null(id);
		assert_string_equal(id, "mine");
	}
	assert_int_equal(fake_count("DELETE", "/v1.44/networks/other") > 0, c->removes_other);
	assert_int_equal(fake_count("DELETE", "/v1.44/networks/mine") > 0, c->removes_mine);
	/* nothing is ever removed by name: the engine refuses a shared name */
	assert_int_equal(fake_count("DELETE", "/v1.44/networks/envup-t"), 0);
	free(id);
	envup_engine_free(e);
}

static void test_engine__container_list(void **state)
{
	envup_engine *e;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	envup_container_summary *s = NULL;
	size_t n = 0;
	const fake_req *r;
	char *dec;

	SET_HANDLER(h_lists);
	e = fake_open();
	assert_int_equal(envup_strlist_push(&labels, "dev.envup.managed=true"), 0);
	assert_int_equal(envup_strlist_push(&labels, "dev.envup.env=t"), 0);
	assert_int_equal(envup_container_list(&s, &n, e, &labels), 0);
	assert_int_equal(n, 2);
	assert_string_equal(s[0].id, "c1");
	assert_string_equal(s[0].name, "envup-t-redis");
	assert_string_equal(s[0].state, "running");
	assert_string_equal(s[0].status, "Up 3 minutes");
	assert_int_equal(s[0].created, 1700000000);
	assert_int_equal(s[0].ports.n, 1);
	assert_string_equal(envup_kvlist_get(&s[0].ports, "6379/tcp"), "127.0.0.1:49153");
	assert_string_equal(s[1].name, "envup-t-pg");
	r = fake_find("GET", "/v1.44/containers/json", 0);
	dec = url_decode(r->target);
	assert_string_equal(dec, "/v1.44/containers/json?all=1&filters="
		"{\"label\":{\"dev.envup.managed=true\":true,\"dev.envup.env=t\":true}}");
	free(dec);
	envup_container_summaries_free(s, n);
	envup_container_summaries_free(NULL, 0);
	envup_strlist_dispose(&labels);
	envup_engine_free(e);
}

static void test_engine__networks(void **state)
{
	envup_engine *e;
	envup_kvlist labels = ENVUP_KVLIST_INIT;
	envup_strlist names = ENVUP_STRLIST_INIT, want = ENVUP_STRLIST_INIT;
	const fake_req *r;
	char *id = NULL;
	cJSON *body;

	SET_HANDLER(h_lists);
	e = fake_open();
	assert_int_equal(envup_kvlist_set(&labels, "dev.envup.managed", "true"), 0);
	assert_int_equal(envup_network_create(&id, e, "envup-t", &labels), 0);
	assert_string_equal(id, "n1");
	r = fake_find("POST", "/v1.44/networks/create", 0);
	body = cJSON_Parse(r->body);
	assert_string_equal(cJSON_GetObjectItem(body, "Driver")->valuestring, "bridge");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(body, "CheckDuplicate")));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "Labels"), "dev.envup.managed")->valuestring, "true");
	cJSON_Delete(body);
	envup__free(id);
	assert_int_equal(envup_network_create(&id, e, "dup", &labels), ENVUP_EEXISTS);
	assert_string_equal(envup_error_last()->message, "create network dup: network with name dup already exists");

	assert_int_equal(envup_strlist_push(&want, "dev.envup.managed=true"), 0);
	assert_int_equal(envup_network_list(&names, e, &want), 0);
	assert_int_equal(names.n, 1);
	assert_string_equal(names.v[0], "envup-t");
	envup_strlist_dispose(&names);
	assert_int_equal(envup_volume_list(&names, e, &want), 0);
	assert_int_equal(names.n, 1);
	assert_string_equal(names.v[0], "v1");
	envup_strlist_dispose(&names);
	F.state = 2;
	assert_int_equal(envup_volume_list(&names, e, &want), 0);
	assert_int_equal(names.n, 0);

	/* active endpoints for a moment: retried */
	assert_int_equal(envup_network_remove(e, "envup-t"), 0);
	assert_int_equal(fake_count("DELETE", "/v1.44/networks/envup-t"), 3);
	assert_int_equal(envup_network_remove(e, "absent"), 0);     /* 404 */
	assert_int_equal(envup_volume_remove(e, "absent"), 0);

	envup_kvlist_dispose(&labels);
	envup_strlist_dispose(&want);
	envup_engine_free(e);
}

typedef struct {
	pthread_mutex_t lock;
	envup_buf seen;
} cleanup_seen;

static void cleanup_cb(const char *kind, const char *name, void *payload)
{
	cleanup_seen *s = payload;
	pthread_mutex_lock(&s->lock);
	assert_int_equal(envup_buf_printf(&s->seen, "%s %s\n", kind, name), 0);
	pthread_mutex_unlock(&s->lock);
}

static void test_engine__cleanup(void **state)
{
	envup_engine *e;
	envup_cleanup_report report = ENVUP_CLEANUP_REPORT_INIT;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	cleanup_seen seen;
	char *dec;

	memset(&seen, 0, sizeof(seen));
	pthread_mutex_init(&seen.lock, NULL);
	SET_HANDLER(h_lists);
	e = fake_open();
	assert_int_equal(envup_strlist_push(&labels, "dev.envup.env=t"), 0);
	assert_int_equal(envup_strlist_push(&labels, "dev.envup.managed=false"), 0);  /* ignored */
	assert_int_equal(envup_cleanup_by_labels(&report, e, &labels, cleanup_cb, &seen), 0);
	assert_int_equal(report.containers, 2);
	assert_int_equal(report.networks, 1);
	assert_int_equal(report.volumes, 1);
	assert_int_equal(report.failed.n, 0);
	assert_null(fake_find("DELETE", "/v1.44/containers/intruder", 0));
	assert_null(fake_find("DELETE", "/v1.44/networks/bridge", 0));
	assert_null(fake_find("DELETE", "/v1.44/volumes/anon", 0));
	dec = url_decode(fake_find("GET", "/v1.44/containers/json", 0)->target);
	assert_non_null(strstr(dec, "{\"label\":{\"dev.envup.managed=true\":true,\"dev.envup.env=t\":true}}"));
	free(dec);
	assert_non_null(strstr(seen.seen.ptr, "container envup-t-redis\n"));
	assert_non_null(strstr(seen.seen.ptr, "container envup-t-pg\n"));
	assert_non_null(strstr(seen.seen.ptr, "network envup-t\n"));
	assert_non_null(strstr(seen.seen.ptr, "volume v1\n"));
	envup_cleanup_report_dispose(&report);

	/* one container refuses */
	F.state = 1;
	F.count = 0;
	assert_int_equal(envup_cleanup_by_labels(&report, e, &labels, NULL, NULL), ENVUP_ERROR);
	assert_int_equal(report.containers, 1);
	assert_int_equal(report.failed.n, 1);
	assert_string_equal(report.failed.v[0],
		"container envup-t-pg (c2): remove container c2: device or resource busy");
	assert_string_equal(envup_error_last()->message,
		"could not remove container envup-t-pg (c2): remove container c2: device or resource busy");
	envup_cleanup_report_dispose(&report);
	envup_cleanup_report_dispose(NULL);

	envup_buf_dispose(&seen.seen);
	pthread_mutex_destroy(&seen.lock);
	envup_strlist_dispose(&labels);
	envup_engine_free(e);
}

/* ---- a swarm manager's answers (swarm.h): untrusted, as every answer ----------- */

static const char *const swarm_infos[] = {
	"{\"Swarm\":{\"LocalNodeState\":\"inactive\",\"ControlAvailable\":false}}",
	"{\"Swarm\":{\"LocalNodeState\":\"active\",\"ControlAvailable\":false}}",
	"{\"Swarm\":{\"LocalNodeState\":\"active\",\"ControlAvailable\":true}}",
	"{\"Swarm\":{\"LocalNodeState\":\"locked\"}}",
	"[]",
	"{\"Swarm\":{\"LocalNodeState\":7,\"ControlAvailable\":\"yes\"}}",
};

#define SWARM_SVC(id, name, labels) "{\"ID\":\"" id "\",\"CreatedAt\":\"2026-12-01T10:00:00Z\"," \
	"\"Spec\":{\"Name\":\"" name "\",\"Labels\":" labels ",\"TaskTemplate\":{\"ContainerSpec\":" \
	"{\"Image\":\"redis:7\"}}}}"
#define SWARM_MANAGED "{\"dev.envup.managed\":\"true\",\"dev.envup.env\":\"t\"}"

static int h_swarm(int fd, const fake_req *r)
{
	if (is(r, "GET", "/v1.44/info")) {
		fake_reply(fd, 200, swarm_infos[F.state]);
		return 0;
	}
	if (starts(r, "GET", "/v1.44/services?filters=")) {
		if (F.state == 9)
			fake_reply(fd, 503, "{\"message\":\"This node is not a swarm manager.\"}");
		else
			fake_reply(fd, 200, "[" SWARM_SVC("s1", "envup-t-redis", SWARM_MANAGED) ","
				/* forged: the engine's filter let it through, ours does not */
				SWARM_SVC("s2", "forged", "{\"dev.envup.env\":\"t\"}") ","
				"{\"Spec\":{\"Name\":\"no-id\",\"Labels\":" SWARM_MANAGED "}},"
				"{\"ID\":\"s3\",\"Spec\":7},"
				"\"junk\"]");
		return 0;
	}
	if (starts(r, "GET", "/v1.44/configs?filters=")) {
		fake_reply(fd, 200, "[{\"ID\":\"c1\",\"Spec\":{\"Name\":\"envup-t-mock-file1\",\"Labels\":"
			SWARM_MANAGED "}}]");
		return 0;
	}
	if (is(r, "DELETE", "/v1.44/services/s1")) {
		F.count = 1;   /* from now on the filter does not know s1 */
		fake_reply(fd, 200, "");
		return 0;
	}
	if (is(r, "DELETE", "/v1.44/configs/c1")) {
		fake_reply(fd, 204, NULL);
		return 0;
	}
	if (starts(r, "GET", "/v1.44/tasks?filters=")) {
		if (strstr(r->target, "gone") || (strstr(r->target, "s1") && F.count >= 1)) {
			fake_reply(fd, 404, "{\"message\":\"service gone not found\"}");
			return 0;
		}
		if (strstr(r->target, "empty")) {
			fake_reply(fd, 200, "[]");
			return 0;
		}
		if (strstr(r->target, "odd")) {
			fake_reply(fd, 200, "{\"not\":\"a list\"}");
			return 0;
		}
		fake_reply(fd, 200, "["
			"{\"ID\":\"old\",\"NodeID\":\"n1\",\"CreatedAt\":\"2026-12-01T10:00:00.1Z\",\"DesiredState\":\"shutdown\","
			"\"Status\":{\"State\":\"failed\",\"Err\":\"task: non-zero exit (1)\"}},"
			"{\"ID\":\"new\",\"NodeID\":\"n2\",\"CreatedAt\":\"2026-12-01T10:00:05.2Z\",\"DesiredState\":\"running\","
			"\"Status\":{\"State\":\"running\",\"Message\":\"started\",\"ContainerStatus\":{\"ExitCode\":0},"
			"\"PortStatus\":{\"Ports\":["
			"{\"Protocol\":\"tcp\",\"TargetPort\":6379,\"PublishedPort\":30001,\"PublishMode\":\"host\"},"
			"{\"Protocol\":\"tcp\",\"TargetPort\":6379,\"PublishedPort\":30001,\"PublishMode\":\"host\"},"
			"{\"Protocol\":\"tcp\",\"TargetPort\":0,\"PublishedPort\":30002},"
			"{\"Protocol\":\"tcp\",\"TargetPort\":5432,\"PublishedPort\":99999},"
			"{\"Protocol\":\"tcp\",\"TargetPort\":\"x\",\"PublishedPort\":30003},"
			"{\"Protocol\":\"udp\",\"TargetPort\":53,\"PublishedPort\":30053}]}}},"
			"{\"ID\":\"no-date\",\"Status\":{\"State\":\"running\"}},"
			"\"junk\"]");
		return 0;
	}
	if (is(r, "GET", "/v1.44/tasks")) {
		/* all tasks: one of a service already removed, still going */
		if (F.count++ < 3)
			fake_reply(fd, 200, "[{\"ID\":\"t9\",\"ServiceID\":\"s1\",\"Status\":{\"State\":\"running\","
				"\"ContainerStatus\":{\"ContainerID\":\"abc\"}}},{\"ID\":\"t8\",\"ServiceID\":\"other\"}]");
		else
			fake_reply(fd, 200, "[{\"ID\":\"t8\",\"ServiceID\":\"other\"}]");
		return 0;
	}
	if (starts(r, "GET", "/v1.44/containers/json?") || starts(r, "GET", "/v1.44/networks?")) {
		fake_reply(fd, 200, "[]");
		return 0;
	}
	if (starts(r, "GET", "/v1.44/volumes?")) {
		fake_reply(fd, 200, "{\"Volumes\":[]}");
		return 0;
	}
	if (starts(r, "GET", "/v1.44/nodes/")) {
		const char *id = r->target + strlen("/v1.44/nodes/");
		if (strcmp(id, "m") == 0)
			fake_reply(fd, 200, "{\"Description\":{\"Hostname\":\"mgr\"},\"Spec\":{\"Availability\":\"active\"},"
				"\"Status\":{\"State\":\"ready\",\"Addr\":\"0.0.0.0\"},\"ManagerStatus\":{\"Addr\":\"10.0.0.1:2377\"}}");
		else if (strcmp(id, "w") == 0)
			fake_reply(fd, 200, "{\"Description\":{\"Hostname\":\"w1\"},\"Spec\":{\"Availability\":\"drain\"},"
				"\"Status\":{\"State\":\"ready\",\"Addr\":\"10.0.0.12\"}}");
		else if (strcmp(id, "v6") == 0)
			fake_reply(fd, 200, "{\"Status\":{\"Addr\":\"127.0.0.1\"},\"ManagerStatus\":{\"Addr\":\"[fd00::1]:2377\"}}");
		else if (strcmp(id, "z") == 0)
			fake_reply(fd, 200, "{\"Status\":{\"Addr\":\"0.0.0.0\"},\"Description\":7}");
		else
			fake_reply(fd, 404, "{\"message\":\"node not found\"}");
		return 0;
	}
	return -1;
}

static void test_engine__swarm_manager(void **state)
{
	static const struct { int rc; const char *says; } want[] = {
		{ENVUP_ESPEC, "is not part of a swarm (its swarm state is inactive); point DOCKER_HOST at a swarm manager"},
		{ENVUP_ESPEC, "is a swarm worker, not a manager; point DOCKER_HOST at a manager"},
		{0, NULL},
		{ENVUP_ESPEC, "is not part of a swarm (its swarm state is locked)"},
		{ENVUP_ESPEC, "is not part of a swarm (its swarm state is inactive)"},
		{ENVUP_ESPEC, "is not part of a swarm (its swarm state is inactive)"},
	};
	envup_engine *e;
	size_t i;

	SET_HANDLER(h_swarm);
	e = fake_open();
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		F.state = (int)i;
		assert_int_equal(envup_swarm_check_manager(e), want[i].rc);
		if (want[i].says)
			assert_non_null(strstr(envup_error_last()->message, want[i].says));
	}
	envup_engine_free(e);
}

static void test_engine__swarm_tasks(void **state)
{
	envup_swarm_task t = ENVUP_SWARM_TASK_INIT;
	size_t n = 9;
	envup_engine *e;

	SET_HANDLER(h_swarm);
	e = fake_open();
	/* the newest task, whatever came first; each port once, the absurd ones dropped */
	assert_int_equal(envup_swarm_task_latest(&t, e, "svc"), 0);
	assert_string_equal(t.id, "new");
	assert_string_equal(t.node_id, "n2");
	assert_string_equal(t.state, "running");
	assert_false(envup_swarm_state_final(t.state));
	assert_int_equal(t.ports.n, 2);
	assert_string_equal(envup_kvlist_get(&t.ports, "6379/tcp"), "30001");
	assert_string_equal(envup_kvlist_get(&t.ports, "53/udp"), "30053");
	envup_swarm_task_dispose(&t);
	assert_int_equal(envup_swarm_task_latest(&t, e, "empty"), ENVUP_ENOTFOUND);
	assert_int_equal(envup_swarm_task_latest(&t, e, "odd"), ENVUP_EDOCKER);
	assert_int_equal(envup_swarm_task_latest(&t, e, "gone"), ENVUP_ENOTFOUND);
	assert_true(envup_swarm_state_final("rejected"));
	assert_true(envup_swarm_state_final("complete"));
	assert_false(envup_swarm_state_final("preparing"));
	assert_false(envup_swarm_state_final(NULL));
	/* 2 tasks with no final state or a container, of 4 (junk skipped) */
	assert_int_equal(envup_swarm_task_count(&n, e, "svc"), 0);
	assert_int_equal(n, 3);
	envup_engine_free(e);
}

static void test_engine__swarm_nodes(void **state)
{
	static const struct { const char *id, *addr, *host, *avail; } rows[] = {
		{"m", "10.0.0.1", "mgr", "active"},     /* a manager: ManagerStatus.Addr, not 0.0.0.0 */
		{"w", "10.0.0.12", "w1", "drain"},
		{"v6", "fd00::1", NULL, NULL},
		{"z", NULL, NULL, NULL},
	};
	envup_swarm_node n = ENVUP_SWARM_NODE_INIT;
	envup_engine *e;
	size_t i;

	SET_HANDLER(h_swarm);
	e = fake_open();
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(envup_swarm_node_get(&n, e, rows[i].id), 0);
		if (rows[i].addr)
			assert_string_equal(n.addr, rows[i].addr);
		else
			assert_null(n.addr);
		if (rows[i].host)
			assert_string_equal(n.hostname, rows[i].host);
		else
			assert_null(n.hostname);
		if (rows[i].avail)
			assert_string_equal(n.availability, rows[i].avail);
		envup_swarm_node_dispose(&n);
	}
	assert_int_equal(envup_swarm_node_get(&n, e, "nope"), ENVUP_ENOTFOUND);
	envup_engine_free(e);
}

static void test_engine__swarm_find_and_cleanup(void **state)
{
	envup_swarm_object *v = NULL;
	envup_cleanup_report report = ENVUP_CLEANUP_REPORT_INIT;
	envup_strlist labels = ENVUP_STRLIST_INIT;
	cleanup_seen seen;
	envup_engine *e;
	size_t n = 0;

	memset(&seen, 0, sizeof(seen));
	pthread_mutex_init(&seen.lock, NULL);
	SET_HANDLER(h_swarm);
	e = fake_open();
	assert_int_equal(envup_strlist_push(&labels, "dev.envup.managed=true"), 0);
	assert_int_equal(envup_strlist_push(&labels, "dev.envup.env=t"), 0);
	/* only what carries the labels, has an id and a name */
	assert_int_equal(envup_swarm_find(&v, &n, e, "services", &labels), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].id, "s1");
	assert_string_equal(v[0].image, "redis:7");
	assert_true(v[0].created > 1700000000);
	envup_swarm_objects_free(v, n);
	/* not a manager: none, and no error */
	F.state = 9;
	assert_int_equal(envup_swarm_find(&v, &n, e, "services", &labels), 0);
	assert_int_equal(n, 0);
	envup_swarm_objects_free(v, n);
	F.state = 0;
	/* removal: the service, its tasks waited for (by id, once the filter
	 * forgets it), the config; the forged service is never asked for */
	assert_int_equal(envup_cleanup_by_labels(&report, e, &labels, cleanup_cb, &seen), 0);
	assert_int_equal(report.services, 1);
	assert_int_equal(report.configs, 1);
	assert_int_equal(ENVUP_CLEANUP_REMOVED(&report), 2);
	assert_null(fake_find("DELETE", "/v1.44/services/s2", 0));
	assert_non_null(fake_find("GET", "/v1.44/tasks", 0));
	assert_true(F.count > 3);   /* it waited until the task was gone */
	assert_non_null(strstr(seen.seen.ptr, "service envup-t-redis\n"));
	assert_non_null(strstr(seen.seen.ptr, "config envup-t-mock-file1\n"));
	envup_cleanup_report_dispose(&report);
	envup_buf_dispose(&seen.seen);
	pthread_mutex_destroy(&seen.lock);
	envup_strlist_dispose(&labels);
	envup_engine_free(e);
}

/* kubedock (docs/scale-out.md): networks listed with "ID", no volumes (501) */
static int h_kubedock(int fd, const fake_req *r)
{
	if (starts(r, "GET", "/v1.44/networks?filters=")) {
		fake_reply(fd, 200, "[{\"Name\":\"envup-t\",\"ID\":\"k1\",\"Labels\":{\"dev.envup.managed\":\"true\"}}]");
		return 0;
	}
	if (starts(r, "GET", "/v1.44/volumes")) {
		fake_reply(fd, 501, "{\"message\":\"not implemented\"}");
		return 0;
	}
	return -1;
}

static void test_engine__kubedock_lists(void **state)
{
	envup_network_info *nets = NULL;
	envup_volume_info *vols = NULL;
	envup_strlist names = ENVUP_STRLIST_INIT;
	size_t n = 9;
	envup_engine *e;

	SET_HANDLER(h_kubedock);
	e = fake_open();
	assert_int_equal(envup_network_find(&nets, &n, e, NULL, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(nets[0].id, "k1");
	envup_network_infos_free(nets, n);
	assert_int_equal(envup_volume_find(&vols, &n, e, NULL), 0);
	assert_int_equal(n, 0);
	envup_volume_infos_free(vols, n);
	assert_int_equal(envup_volume_list(&names, e, NULL), 0);
	assert_int_equal(names.n, 0);
	envup_engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_engine__socket_missing, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__connection_refused, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__permission_denied, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__docker_host_forms, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__tcp_address, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__negotiation, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__ping_is_unversioned_requests_are, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__ping_failures, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__request_headers, fake_start, fake_stop),
		cmocka_unit_test(test_engine__api_error),
		cmocka_unit_test(test_engine__escape_and_filters),
		cmocka_unit_test_setup_teardown(test_engine__closed_mid_body, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__deadline, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__cancel, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__stream_callback_abort, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__response_cap, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__invalid_json_answer, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__stream_error_body, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__concurrent_requests, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__image_present_no_pull, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__image_pull, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__image_pull_digest, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__image_pull_errors, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__image_single_flight, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__container_create_body, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__container_start, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__container_inspect, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__container_logs, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__container_remove, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__container_list, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__networks, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__cleanup, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__swarm_manager, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__kubedock_lists, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__swarm_tasks, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__swarm_nodes, fake_start, fake_stop),
		cmocka_unit_test_setup_teardown(test_engine__swarm_find_and_cleanup, fake_start, fake_stop),
#define CLAIM_ROW(i) cmocka_unit_test_prestate_setup_teardown(test_engine__claim, claim_setup, \
		fake_stop, (void *)&claim_cases[i])
		CLAIM_ROW(0), CLAIM_ROW(1), CLAIM_ROW(2), CLAIM_ROW(3), CLAIM_ROW(4), CLAIM_ROW(5),
	};
	_Static_assert(sizeof(claim_cases) / sizeof(claim_cases[0]) == 6,
		"every claim case is a row of the test table");

	unsetenv("DOCKER_HOST");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
