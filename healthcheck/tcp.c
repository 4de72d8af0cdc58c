/*
 * The TCP probe: a non-blocking connect bounded by poll().
 *
 * A published port is not proof of a listener. Docker's userland proxy
 * (docker-proxy) owns the host port and accepts every connection at once,
 * then dials the container; when nothing listens inside yet it closes (or
 * resets) the accepted connection within a millisecond or so. So after the
 * connect succeeds the probe waits up to ENVUP_TCP_SETTLE_MS for the peer
 * to hang up: a read returning 0 or ECONNRESET in that window means "not
 * ready" ("connection closed by peer"). Silence or data (a server greeting)
 * means ready. The price is up to 20 ms per successful attempt.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "healthcheck/health.h"
#include "healthcheck/probe.h"

#define ENVUP_TCP_SETTLE_MS 20

/* Wait for `events` on fd until deadline; 1 ready, 0 timed out, -1 error. */
static int tcp_poll(int fd, short events, double deadline, short *revents)
{
	struct pollfd pfd;
	int r;

	for (;;) {
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, (int)envup_health__remaining_ms(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0)
			*revents = pfd.revents;
		return r < 0 ? -1 : r;
	}
}

/* After connect: did the peer hang up at once? 0 ready, 1 not ready. */
static int tcp_settle(char **why, int fd, const char *where, double deadline)
{
	double settle = envup_now() + ENVUP_TCP_SETTLE_MS / 1000.0;
	short revents = 0;
	char c;
	ssize_t n;
	int r;

	if (settle > deadline)
		settle = deadline;
	r = tcp_poll(fd, POLLIN, settle, &revents);
	if (r <= 0)
		return 0; /* quiet for the whole window (or poll failed): accept it */
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0)
		return 0; /* the server spoke first: certainly alive */
	if (n == 0)
		return envup_health__not_ready(why, "%s: connection closed by peer", where);
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	if (errno == ECONNRESET)
		return envup_health__not_ready(why, "%s: connection reset by peer", where);
	return envup_health__not_ready(why, "%s: %s", where, strerror(errno));
}

static int tcp_try(char **why, const struct addrinfo *ai, const char *where,
	long timeout_ms, double deadline)
{
	int fd, r, soerr = 0;
	short revents = 0;
	socklen_t len = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		ai->ai_protocol);
	if (fd < 0)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "%s: cannot create a socket", where);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS && errno != EINTR) {
			soerr = errno;
			goto failed;
		}
		r = tcp_poll(fd, POLLOUT, deadline, &revents);
		if (r == 0) {
			r = envup_health__not_ready(why, "%s: no connection within %ld ms",
				where, timeout_ms);
			goto done;
		}
		if (r < 0) {
			soerr = errno;
			goto failed;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		if (soerr)
			goto failed;
	}
	r = tcp_settle(why, fd, where, deadline);
	goto done;
failed:
	if (soerr == ECONNREFUSED)
		r = envup_health__not_ready(why, "%s: connection refused", where);
	else
		r = envup_health__not_ready(why, "%s: %s", where, strerror(soerr));
done:
	close(fd);
	return r;
}

int envup_probe_tcp(char **why, const char *host, int port, long timeout_ms)
{
	struct addrinfo hints, *res = NULL, *ai;
	char service[16], where[300];
	double deadline;
	int r, gai;

	ENVUP_ASSERT_ARG(why);
	*why = NULL;
	ENVUP_ASSERT_ARG(host && *host);
	ENVUP_ASSERT_ARG(port > 0 && port <= 65535);
	if (timeout_ms <= 0)
		timeout_ms = 1000;
	deadline = envup_now() + (double)timeout_ms / 1000.0;
	snprintf(service, sizeof(service), "%d", port);
	snprintf(where, sizeof(where), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((gai = getaddrinfo(host, service, &hints, &res)) != 0)
		return envup_health__not_ready(why, "%s: cannot resolve: %s", where,
			gai_strerror(gai));
	r = 1;
	/* every address gets a chance ("localhost" is ::1 and 127.0.0.1) */
	for (ai = res; ai; ai = ai->ai_next) {
		r = tcp_try(why, ai, where, timeout_ms, deadline);
		if (r <= 0 || envup_health__remaining_ms(deadline) == 0)
			break;
	}
	freeaddrinfo(res);
	if (r == 0) {
		envup__free(*why);
		*why = NULL;
	}
	return r;
}
