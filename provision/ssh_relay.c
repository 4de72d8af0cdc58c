/*
 * The ssh:// relay (ssh_relay.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>
#include "provision/ssh_relay.h"
#include "util/util.h"

#define RELAY_MAX_CHILDREN 64

extern char **environ;

struct envup_ssh_relay {
	char dir[64];            /* mkdtemp'd, 0700 */
	char sock[108];
	char errfile[128];
	char last_error[512];
	char *user, *host, *port;
	int lfd;
	int stop[2];             /* a byte on stop[1] ends the thread */
	pthread_t thread;
	bool running;
	pid_t children[RELAY_MAX_CHILDREN];
	size_t nchildren;
	pthread_mutex_t lock;
};

static void reap(envup_ssh_relay *r, bool wait_all)
{
	size_t i = 0;

	pthread_mutex_lock(&r->lock);
	while (i < r->nchildren) {
		pid_t got;
		if (wait_all)
			kill(r->children[i], SIGTERM);
		got = waitpid(r->children[i], NULL, wait_all ? 0 : WNOHANG);
		if (got == r->children[i] || (got < 0 && errno == ECHILD)) {
			r->children[i] = r->children[--r->nchildren];
			continue;
		}
		i++;
	}
	pthread_mutex_unlock(&r->lock);
}

/* one ssh for one accepted connection: its stdin and stdout */
static void spawn_ssh(envup_ssh_relay *r, int fd)
{
	const char *argv[16];
	size_t n = 0;
	posix_spawn_file_actions_t fa;
	pid_t pid;

	argv[n++] = "ssh";
	argv[n++] = "-o";
	argv[n++] = "BatchMode=yes";
	argv[n++] = "-o";
	argv[n++] = "ConnectTimeout=30";
	if (r->user) {
		argv[n++] = "-l";
		argv[n++] = r->user;
	}
	if (r->port) {
		argv[n++] = "-p";
		argv[n++] = r->port;
	}
	argv[n++] = "--";
	argv[n++] = r->host;
	argv[n++] = "docker";
	argv[n++] = "system";
	argv[n++] = "dial-stdio";
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 0);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	/* the newest ssh's words: what the last connection said */
	posix_spawn_file_actions_addopen(&fa, 2, r->errfile, O_WRONLY | O_TRUNC | O_CREAT, 0600);
	pthread_mutex_lock(&r->lock);
	if (r->nchildren >= RELAY_MAX_CHILDREN) {
		/* refused: every child is one we reap and end */
		snprintf(r->last_error, sizeof(r->last_error), "more than %d connections at once",
			RELAY_MAX_CHILDREN);
		pthread_mutex_unlock(&r->lock);
		posix_spawn_file_actions_destroy(&fa);
		return;
	}
	pthread_mutex_unlock(&r->lock);
	{
		int err = posix_spawnp(&pid, "ssh", &fa, NULL, (char *const *)argv, environ);
		pthread_mutex_lock(&r->lock);
		if (err == 0)
			r->children[r->nchildren++] = pid;
		else
			snprintf(r->last_error, sizeof(r->last_error), "cannot run ssh: %s", strerror(err));
		pthread_mutex_unlock(&r->lock);
	}
	posix_spawn_file_actions_destroy(&fa);
}

static void *relay_main(void *arg)
{
	envup_ssh_relay *r = arg;

	for (;;) {
		struct pollfd p[2] = {{r->lfd, POLLIN, 0}, {r->stop[0], POLLIN, 0}};
		int fd;
		if (poll(p, 2, 500) < 0 && errno != EINTR)
			break;
		reap(r, false);
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		if ((fd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		spawn_ssh(r, fd);
		close(fd);
	}
	return NULL;
}

static int parse(envup_ssh_relay *r, const char *address)
{
	CURLU *u = curl_url();
	char *user = NULL, *host = NULL, *port = NULL;
	int error = ENVUP_EDOCKER;

	if (!u)
		return envup_error_set_oom();
	if (curl_url_set(u, CURLUPART_URL, address, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
		envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
			"DOCKER_HOST %s: expected ssh://[USER@]HOST[:PORT]", address);
		goto done;
	}
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	{
		/* a password in the URL: never kept, never shown (ssh takes keys) */
		char *pw = NULL;
		if (curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK && pw) {
			curl_free(pw);
			envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER,
				"DOCKER_HOST: an ssh:// address with a password is refused (use an ssh key or agent)");
			goto done;
		}
	}
	/* ssh takes ::1, not [::1]; nothing that could read as an option */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (host[0] == '-' || (user && (user[0] == '-' || !*user))) {
		envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER, "DOCKER_HOST %s: bad user or host",
			address);
		goto done;
	}
	error = ENVUP_ERROR;
	if ((r->host = envup__strdup(host)) == NULL || (user && (r->user = envup__strdup(user)) == NULL) ||
	    (port && (r->port = envup__strdup(port)) == NULL)) {
		envup_error_set_oom();
		goto done;
	}
	error = 0;
done:
	curl_free(user);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return error;
}

int envup_ssh_relay_start(envup_ssh_relay **out, const char *address, const char **socket_path,
	char **host_out)
{
	envup_ssh_relay *r;
	struct sockaddr_un sa;
	const char *tmp = getenv("TMPDIR");
	int error;

	*out = NULL;
	*socket_path = NULL;
	*host_out = NULL;
	if ((r = envup__calloc(1, sizeof(*r))) == NULL)
		return ENVUP_ERROR;
	r->lfd = r->stop[0] = r->stop[1] = -1;
	pthread_mutex_init(&r->lock, NULL);
	if ((error = parse(r, address)) < 0)
		goto fail;
	/* a short path: sun_path holds 108 bytes */
	if (!tmp || !*tmp || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(r->dir, sizeof(r->dir), "%s/envup-ssh-XXXXXX", tmp);
	if (!mkdtemp(r->dir)) {
		r->dir[0] = '\0';
		error = envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_OS, "ssh relay: cannot make a directory in %s", tmp);
		goto fail;
	}
	snprintf(r->sock, sizeof(r->sock), "%s/docker.sock", r->dir);
	snprintf(r->errfile, sizeof(r->errfile), "%s/ssh.err", r->dir);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", r->sock);
	if ((r->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(r->lfd, 16) < 0 ||
	    pipe2(r->stop, O_CLOEXEC) < 0) {
		error = envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_OS, "ssh relay: cannot listen on %s", r->sock);
		goto fail;
	}
	if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
		error = envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_OS, "ssh relay: cannot start its thread");
		goto fail;
	}
	r->running = true;
	if ((*host_out = envup__strdup(r->host)) == NULL) {
		error = ENVUP_ERROR;
		goto fail;
	}
	*socket_path = r->sock;
	*out = r;
	return 0;
fail:
	envup_ssh_relay_stop(r);
	return error;
}

void envup_ssh_relay_last_error(envup_ssh_relay *r, char *out, size_t size)
{
	char buf[4096];
	ssize_t n;
	int fd;

	if (size)
		out[0] = '\0';
	if (!r || !size)
		return;
	if ((fd = open(r->errfile, O_RDONLY | O_CLOEXEC)) >= 0) {
		off_t end_at = lseek(fd, 0, SEEK_END);
		off_t from = end_at > (off_t)sizeof(buf) - 1 ? end_at - (off_t)sizeof(buf) + 1 : 0;
		if (lseek(fd, from, SEEK_SET) >= 0 && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
			char *end, *start;
			buf[n] = '\0';
			end = buf + n;
			while (end > buf && (end[-1] == '\n' || end[-1] == '\r'))
				*--end = '\0';
			start = strrchr(buf, '\n');
			pthread_mutex_lock(&r->lock);
			envup_printable_into(r->last_error, sizeof(r->last_error), start ? start + 1 : buf);
			pthread_mutex_unlock(&r->lock);
		}
		close(fd);
	}
	pthread_mutex_lock(&r->lock);
	snprintf(out, size, "%s", r->last_error);
	pthread_mutex_unlock(&r->lock);
}

void envup_ssh_relay_stop(envup_ssh_relay *r)
{
	if (!r)
		return;
	if (r->running) {
		if (write(r->stop[1], "x", 1) < 0) { /* the thread also wakes every 500 ms */ }
		pthread_join(r->thread, NULL);
	}
	reap(r, true);
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->stop[0] >= 0)
		close(r->stop[0]);
	if (r->stop[1] >= 0)
		close(r->stop[1]);
	if (r->dir[0]) {
		unlink(r->sock);
		unlink(r->errfile);
		rmdir(r->dir);
	}
	pthread_mutex_destroy(&r->lock);
	envup__free(r->user);
	envup__free(r->host);
	envup__free(r->port);
	envup__free(r);
}
