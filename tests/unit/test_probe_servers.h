/*
 * Throwaway servers for the probe and init tests (header-only: each test
 * program is one .c file).
 *
 *  - servers_pg_start():    initdb into a temp dir and run `postgres` on a
 *                           free loopback port (as the `postgres` user when
 *                           running as root)
 *  - servers_redis_start(): redis-server on a free loopback port, with or
 *                           without --requirepass
 *  - canned_start():        a thread serving canned bytes on a free port:
 *                           an HTTP answer, a raw reply, an immediate close
 *                           (what docker-proxy does while nothing listens
 *                           inside), or silence
 *
 * Everything started is killed by servers_stop_all(), registered with
 * atexit() and called from the group teardowns; should the test process
 * die anyway, PR_SET_PDEATHSIG kills the servers.
 *
 * Missing server binaries: the program exits 77 (skip) unless
 * ENVUP_TEST_REQUIRE_SERVERS=1, then it fails. ENVUP_TEST_PG_BINDIR (the
 * directory of initdb and postgres) and ENVUP_TEST_REDIS_SERVER (the
 * redis-server binary) override the search.
 */
#ifndef ENVUP_TEST_PROBE_SERVERS_H
#define ENVUP_TEST_PROBE_SERVERS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "healthcheck/probe.h"

#define SERVERS_MAX 8
#define SERVERS_SKIP 77

static pid_t servers_pids[SERVERS_MAX];
static char servers_dirs[SERVERS_MAX][PATH_MAX];
static bool servers_atexit_done;

static bool servers_required(void)
{
	const char *v = getenv("ENVUP_TEST_REQUIRE_SERVERS");
	return v && strcmp(v, "1") == 0;
}

/* Exit 77 (skip), or 1 when the servers are required. */
static void servers_missing(const char *what)
{
	if (servers_required()) {
		fprintf(stderr, "FAIL: %s not found and ENVUP_TEST_REQUIRE_SERVERS=1\n", what);
		exit(1);
	}
	fprintf(stderr, "SKIP: %s not found (apt-get install postgresql redis-server)\n", what);
	exit(SERVERS_SKIP);
}

static int servers_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void servers_rmtree(const char *dir)
{
	if (dir[0])
		nftw(dir, servers_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Stop one child: `sig` first, SIGKILL after 5 s. */
static void servers_kill(pid_t pid, int sig)
{
	int i, status;

	if (pid <= 0)
		return;
	kill(pid, sig);
	for (i = 0; i < 500; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static void servers_forget(pid_t pid)
{
	int i;
	if (pid <= 0)
		return;
	for (i = 0; i < SERVERS_MAX; i++) {
		if (servers_pids[i] == pid) {
			servers_pids[i] = 0;
			servers_rmtree(servers_dirs[i]);
			servers_dirs[i][0] = '\0';
		}
	}
}

static void servers_stop_all(void)
{
	int i;
	for (i = 0; i < SERVERS_MAX; i++) {
		if (servers_pids[i] > 0) {
			/* SIGINT: postgres "fast" shutdown; redis saves nothing (--save "") */
			servers_kill(servers_pids[i], SIGINT);
			servers_pids[i] = 0;
		}
		servers_rmtree(servers_dirs[i]);
		servers_dirs[i][0] = '\0';
	}
}

static void servers_remember(pid_t pid, const char *dir)
{
	int i;
	if (!servers_atexit_done) {
		atexit(servers_stop_all);
		servers_atexit_done = true;
	}
	for (i = 0; i < SERVERS_MAX; i++) {
		if (servers_pids[i] == 0 && servers_dirs[i][0] == '\0') {
			servers_pids[i] = pid;
			snprintf(servers_dirs[i], sizeof(servers_dirs[i]), "%s", dir ? dir : "");
			return;
		}
	}
}

/* A loopback port nobody listens on (right now). */
static int servers_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		perror("free port");
		exit(1);
	}
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* A listening loopback socket; *port receives its port. */
static int servers_listen(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		perror("listen");
		exit(1);
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/*
 * fork + exec argv[0] (absolute), as `as` when non-NULL, output appended
 * to `log`. The child dies with us (PR_SET_PDEATHSIG, set after the uid
 * change, which would clear it).
 */
static pid_t servers_spawn(char *const argv[], const struct passwd *as, const char *log)
{
	pid_t parent = getpid(), pid;
	int fd;

	fflush(NULL);
	if ((pid = fork()) < 0) {
		perror("fork");
		exit(1);
	}
	if (pid > 0)
		return pid;
	fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, 0);
		close(fd);
	}
	if (as && (setgroups(0, NULL) < 0 || setgid(as->pw_gid) < 0 || setuid(as->pw_uid) < 0))
		_exit(126);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	execv(argv[0], argv);
	_exit(127);
}

/* Run to completion; the exit status, or -1. */
static int servers_run(char *const argv[], const struct passwd *as, const char *log)
{
	int status;
	pid_t pid = servers_spawn(argv, as, log);

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void servers_dump_log(const char *log)
{
	char line[512];
	FILE *f = fopen(log, "r");
	if (!f)
		return;
	fprintf(stderr, "---- %s ----\n", log);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

/* Find `name` in $PATH and a few sbin directories; static buffer. */
static const char *servers_which(const char *name)
{
	static char found[PATH_MAX];
	const char *path = getenv("PATH"), *p;
	const char *extra[] = {"/usr/sbin", "/usr/bin", "/usr/local/bin", "/sbin", NULL};
	int i;

	for (p = path; p && *p;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		snprintf(found, sizeof(found), "%.*s/%s", (int)len, p, name);
		if (len && access(found, X_OK) == 0)
			return found;
		p = colon ? colon + 1 : NULL;
	}
	for (i = 0; extra[i]; i++) {
		snprintf(found, sizeof(found), "%s/%s", extra[i], name);
		if (access(found, X_OK) == 0)
			return found;
	}
	return NULL;
}

/* The directory holding initdb and postgres; static buffer or NULL. */
static const char *servers_pg_bindir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("ENVUP_TEST_PG_BINDIR"), *w;
	glob_t g;
	char probe[PATH_MAX + 16];

	if (env && *env) {
		snprintf(dir, sizeof(dir), "%s", env);
		snprintf(probe, sizeof(probe), "%s/initdb", dir);
		return access(probe, X_OK) == 0 ? dir : NULL;
	}
	/* Debian keeps the server binaries out of $PATH; take the newest */
	if (glob("/usr/lib/postgresql/*/bin", 0, NULL, &g) == 0) {
		size_t i;
		dir[0] = '\0';
		for (i = g.gl_pathc; i-- > 0 && !dir[0];) {
			snprintf(probe, sizeof(probe), "%s/postgres", g.gl_pathv[i]);
			if (access(probe, X_OK) == 0)
				snprintf(dir, sizeof(dir), "%s", g.gl_pathv[i]);
		}
		globfree(&g);
		if (dir[0])
			return dir;
	}
	if ((w = servers_which("postgres")) != NULL) {
		char resolved[PATH_MAX], *slash;
		if (!realpath(w, resolved))
			snprintf(resolved, sizeof(resolved), "%s", w);
		if ((slash = strrchr(resolved, '/')) != NULL)
			*slash = '\0';
		snprintf(dir, sizeof(dir), "%s", resolved);
		snprintf(probe, sizeof(probe), "%s/initdb", dir);
		if (access(probe, X_OK) == 0)
			return dir;
	}
	return NULL;
}

static void servers_mkdtemp(char *out, size_t size, const char *what)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(out, size, "%s/envup-test-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", what);
	if (!mkdtemp(out)) {
		perror("mkdtemp");
		exit(1);
	}
}

/* ---- PostgreSQL ------------------------------------------------------------ */

typedef struct {
	pid_t pid;
	int port;
	char root[PATH_MAX];
	char user[64];
	char password[64];
	char database[64];
	double startup_s;
	char first_reason[512]; /* the first "not ready" reason seen while starting */
} servers_pg;

/* initdb + postgres; exits 77 when postgres is not installed. */
static void servers_pg_start(servers_pg *pg)
{
	const char *bindir = servers_pg_bindir();
	struct passwd *pw = NULL;
	char initdb[PATH_MAX + 16], postgres[PATH_MAX + 16], data[PATH_MAX + 16];
	char pwfile[PATH_MAX + 16], log[PATH_MAX + 16], portarg[16], sockdir[PATH_MAX + 40];
	char pwarg[PATH_MAX + 40];
	double start;
	FILE *f;

	if (!bindir)
		servers_missing("PostgreSQL server binaries (initdb, postgres)");
	memset(pg, 0, sizeof(*pg));
	snprintf(pg->user, sizeof(pg->user), "envup_admin");
	snprintf(pg->password, sizeof(pg->password), "pg-Secret-%ld", (long)getpid());
	snprintf(pg->database, sizeof(pg->database), "postgres");
	if (geteuid() == 0 && (pw = getpwnam("postgres")) == NULL)
		servers_missing("the postgres user");
	servers_mkdtemp(pg->root, sizeof(pg->root), "pg");
	snprintf(initdb, sizeof(initdb), "%s/initdb", bindir);
	snprintf(postgres, sizeof(postgres), "%s/postgres", bindir);
	snprintf(data, sizeof(data), "%s/data", pg->root);
	snprintf(pwfile, sizeof(pwfile), "%s/pw", pg->root);
	snprintf(log, sizeof(log), "%s/server.log", pg->root);
	if ((f = fopen(pwfile, "w")) == NULL) {
		perror(pwfile);
		exit(1);
	}
	fprintf(f, "%s\n", pg->password);
	fclose(f);
	if (pw && (chown(pg->root, pw->pw_uid, pw->pw_gid) < 0 ||
	    chown(pwfile, pw->pw_uid, pw->pw_gid) < 0)) {
		perror("chown");
		exit(1);
	}
	servers_remember(0, pg->root);
	snprintf(pwarg, sizeof(pwarg), "--pwfile=%s", pwfile);
	{
		char *argv[] = {initdb, "-D", data, "-U", pg->user, pwarg, "-E", "UTF8",
			"--locale=C", "--auth-host=scram-sha-256", "--auth-local=trust",
			"--no-sync", "--no-instructions", NULL};
		if (servers_run(argv, pw, log) != 0) {
			servers_dump_log(log);
			fprintf(stderr, "initdb failed\n");
			exit(1);
		}
	}
	pg->port = servers_free_port();
	snprintf(portarg, sizeof(portarg), "%d", pg->port);
	snprintf(sockdir, sizeof(sockdir), "unix_socket_directories=%s", pg->root);
	{
		char *argv[] = {postgres, "-D", data, "-p", portarg,
			"-c", "listen_addresses=127.0.0.1", "-c", sockdir,
			"-c", "fsync=off", "-c", "synchronous_commit=off",
			"-c", "full_page_writes=off", "-c", "max_connections=30",
			"-c", "shared_buffers=16MB", "-c", "logging_collector=off", NULL};
		pg->pid = servers_spawn(argv, pw, log);
	}
	servers_remember(pg->pid, NULL);
	start = envup_now();
	for (;;) {
		char *why = NULL;
		int status, r = envup_probe_postgres(&why, "127.0.0.1", pg->port, pg->user,
			pg->password, pg->database, 1000);
		if (r == 0)
			break;
		if (why && !pg->first_reason[0])
			snprintf(pg->first_reason, sizeof(pg->first_reason), "%s", why);
		envup__free(why);
		if (waitpid(pg->pid, &status, WNOHANG) == pg->pid || envup_now() - start > 60) {
			servers_dump_log(log);
			fprintf(stderr, "postgres did not start\n");
			exit(1);
		}
		envup_sleep_ms(5);
	}
	pg->startup_s = envup_now() - start;
}

static void servers_pg_stop(servers_pg *pg)
{
	servers_kill(pg->pid, SIGINT);
	servers_forget(pg->pid);
	pg->pid = 0;
}

/* ---- Redis ------------------------------------------------------------------- */

typedef struct {
	pid_t pid;
	int port;
	char root[PATH_MAX];
	char password[64]; /* "" = no password */
} servers_redis;

static void servers_redis_start(servers_redis *rs, const char *password)
{
	const char *env = getenv("ENVUP_TEST_REDIS_SERVER");
	const char *bin = env && *env ? (access(env, X_OK) == 0 ? env : NULL) :
		servers_which("redis-server");
	char exe[PATH_MAX], portarg[16], log[PATH_MAX + 16];
	double start;

	if (!bin)
		servers_missing("redis-server");
	memset(rs, 0, sizeof(*rs));
	snprintf(exe, sizeof(exe), "%s", bin);
	snprintf(rs->password, sizeof(rs->password), "%s", password ? password : "");
	servers_mkdtemp(rs->root, sizeof(rs->root), "redis");
	snprintf(log, sizeof(log), "%s/redis.log", rs->root);
	rs->port = servers_free_port();
	snprintf(portarg, sizeof(portarg), "%d", rs->port);
	{
		char *argv[] = {exe, "--port", portarg, "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--daemonize", "no",
			"--dir", rs->root, "--protected-mode", "no",
			password ? "--requirepass" : NULL, (char *)password, NULL};
		rs->pid = servers_spawn(argv, NULL, log);
	}
	servers_remember(rs->pid, rs->root);
	start = envup_now();
	for (;;) {
		char *why = NULL;
		int status, r = envup_probe_redis(&why, "127.0.0.1", rs->port, password, 1000);
		envup__free(why);
		if (r == 0)
			break;
		if (waitpid(rs->pid, &status, WNOHANG) == rs->pid || envup_now() - start > 30) {
			servers_dump_log(log);
			fprintf(stderr, "redis-server did not start\n");
			exit(1);
		}
		envup_sleep_ms(5);
	}
}

static void servers_redis_stop(servers_redis *rs)
{
	servers_kill(rs->pid, SIGTERM);
	servers_forget(rs->pid);
	rs->pid = 0;
}

/* ---- the canned server ------------------------------------------------------- */

typedef enum {
	CANNED_HTTP,   /* read one HTTP request (headers + Content-Length body), answer */
	CANNED_REPLY,  /* answer every read with the canned bytes */
	CANNED_CLOSE,  /* accept and close at once (docker-proxy, nothing inside) */
	CANNED_SILENT  /* accept, read and never answer */
} canned_mode;

typedef struct {
	canned_mode mode;
	int port;
	int listen_fd;
	int stop_pipe[2];
	pthread_t thread;
	pthread_mutex_t lock;
	char reply[16384];
	size_t reply_len;
	char request[262144]; /* the last request received */
	size_t request_len;
	int connections;
} canned_server;

static size_t canned_content_length(const char *req, size_t header_len)
{
	const char *p = req;
	while (p && p < req + header_len) {
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			return (size_t)strtoul(p + 15, NULL, 10);
		p = strstr(p, "\r\n");
		if (p)
			p += 2;
	}
	return 0;
}

/* Wait up to ms for fd or the stop pipe; 1 fd readable, 0 not, -1 stop. */
static int canned_wait(canned_server *s, int fd, int ms)
{
	struct pollfd p[2] = {{fd, POLLIN, 0}, {s->stop_pipe[0], POLLIN, 0}};
	int r = poll(p, 2, ms);
	if (r > 0 && p[1].revents)
		return -1;
	return r > 0 && p[0].revents ? 1 : 0;
}

static void canned_serve(canned_server *s, int fd)
{
	char buf[65536];
	size_t got = 0;
	ssize_t n;

	if (s->mode == CANNED_CLOSE)
		return;
	for (;;) {
		int w = canned_wait(s, fd, 5000);
		if (w <= 0)
			return;
		if ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) <= 0)
			return;
		got += (size_t)n;
		buf[got] = '\0';
		if (s->mode == CANNED_SILENT) {
			got = 0;
			continue;
		}
		if (s->mode == CANNED_REPLY) {
			if (write(fd, s->reply, s->reply_len) < 0)
				return;
			got = 0;
			continue;
		}
		/* HTTP: wait for the whole request */
		{
			char *end = strstr(buf, "\r\n\r\n");
			size_t header_len, want;
			if (!end)
				continue;
			header_len = (size_t)(end - buf) + 4;
			want = header_len + canned_content_length(buf, header_len);
			if (got < want && got < sizeof(buf) - 1)
				continue;
			pthread_mutex_lock(&s->lock);
			memcpy(s->request, buf, got + 1);
			s->request_len = got;
			pthread_mutex_unlock(&s->lock);
			if (write(fd, s->reply, s->reply_len) < 0)
				return;
			shutdown(fd, SHUT_WR);
			/* let the client read before the close (no RST on unread data) */
			while (canned_wait(s, fd, 500) > 0 && read(fd, buf, sizeof(buf)) > 0)
				;
			return;
		}
	}
}

static void *canned_main(void *payload)
{
	canned_server *s = payload;

	for (;;) {
		int fd, w = canned_wait(s, s->listen_fd, 1000);
		if (w < 0)
			break;
		if (w == 0)
			continue;
		if ((fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		pthread_mutex_lock(&s->lock);
		s->connections++;
		pthread_mutex_unlock(&s->lock);
		canned_serve(s, fd);
		close(fd);
	}
	return NULL;
}

/* Start a canned server; `reply` is sent as is (may be NULL). */
static canned_server *canned_start(canned_mode mode, const char *reply)
{
	canned_server *s = calloc(1, sizeof(*s));

	if (!s || pipe2(s->stop_pipe, O_CLOEXEC) < 0) {
		perror("canned");
		exit(1);
	}
	s->mode = mode;
	pthread_mutex_init(&s->lock, NULL);
	if (reply) {
		s->reply_len = strlen(reply);
		memcpy(s->reply, reply, s->reply_len < sizeof(s->reply) ? s->reply_len + 1 : 0);
	}
	s->listen_fd = servers_listen(&s->port);
	pthread_create(&s->thread, NULL, canned_main, s);
	return s;
}

/* An HTTP answer with `status` and `body` (Connection: close). */
static canned_server *canned_http(int status, const char *reason, const char *body)
{
	char reply[16384];
	snprintf(reply, sizeof(reply),
		"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n%s", status, reason, strlen(body), body);
	return canned_start(CANNED_HTTP, reply);
}

/* A copy of the last request (free()). */
static char *canned_request(canned_server *s)
{
	char *r;
	pthread_mutex_lock(&s->lock);
	r = strdup(s->request);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void canned_stop(canned_server *s)
{
	if (!s)
		return;
	if (write(s->stop_pipe[1], "x", 1) < 0)
		perror("canned stop");
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Milliseconds a call took, for the latency report. */
#define SERVERS_MS(t0) ((envup_now() - (t0)) * 1000.0)

#endif
