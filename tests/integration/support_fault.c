/*
 * See support_fault.h.
 *
 * One thread accepts; each client connection gets a thread and, on its
 * first forwarded request, its own connection to the engine, which it
 * keeps for the next requests (keep-alive on both sides). Every blocking
 * read or write polls the stop pipe as well, so fault_proxy_stop() ends
 * any connection, even one hanging on purpose.
 *
 * A message is passed through as it arrives: the head (rewritten only
 * where the proxy has to), then the body by its own framing: Content-
 * Length, chunked (chunk lines parsed, bytes passed verbatim) or up to
 * EOF. A fault that cuts an answer still reads the engine's answer to its
 * end, so that what the engine did (a pull, a create) is finished once the
 * proxy is idle: tests can then check and clean up without guessing.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "support_fault.h"
#include "provision/engine.h"

#define FAULT_IO_SIZE      16384
#define FAULT_HEAD_MAX     (64 * 1024)
#define FAULT_RULES_MAX    16
#define FAULT_VERSIONS_MAX 8
#define FAULT_LOG_MAX      (256 * 1024)
#define FAULT_ENGINE       "/var/run/docker.sock"

extern char **environ;

/* ---- buffered socket input ------------------------------------------------ */

typedef struct {
	int fd;
	int stop;                /* readable once the proxy stops */
	char buf[FAULT_IO_SIZE];
	size_t pos, len;
} conn_io;

/* Wait until fd has `events`: 0 ready, -1 when the proxy stops or poll fails. */
static int io_wait(int fd, short events, int stop)
{
	struct pollfd pfd[2];

	pfd[0].fd = fd;
	pfd[0].events = events;
	pfd[1].fd = stop;
	pfd[1].events = POLLIN;
	for (;;) {
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pfd[1].revents)
			return -1;
		if (pfd[0].revents)
			return 0;
	}
}

/* Bytes buffered, reading more when none are: >0, 0 at EOF, -1 on error or stop. */
static int io_fill(conn_io *io)
{
	ssize_t n;

	if (io->pos < io->len)
		return (int)(io->len - io->pos);
	io->pos = io->len = 0;
	if (io_wait(io->fd, POLLIN, io->stop) < 0)
		return -1;
	do
		n = recv(io->fd, io->buf, sizeof(io->buf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? 0 : -1;
	io->len = (size_t)n;
	return (int)n;
}

/* One line, '\n' included, into line: 1, 0 at EOF before any byte, -1 otherwise. */
static int io_line(conn_io *io, envup_buf *line, size_t max)
{
	envup_buf_clear(line);
	for (;;) {
		int n = io_fill(io);
		if (n <= 0)
			return n == 0 && line->size == 0 ? 0 : -1;
		while (io->pos < io->len) {
			char c = io->buf[io->pos++];
			if (envup_buf_putc(line, c) < 0 || line->size > max)
				return -1;
			if (c == '\n')
				return 1;
		}
	}
}

/* A message head, through its blank line: 1, 0 at EOF before any byte, -1 otherwise. */
static int io_head(conn_io *io, envup_buf *head)
{
	envup_buf line = ENVUP_BUF_INIT;
	int r;

	envup_buf_clear(head);
	for (;;) {
		if ((r = io_line(io, &line, FAULT_HEAD_MAX)) <= 0) {
			if (r == 0 && head->size)
				r = -1;
			goto done;
		}
		if (envup_buf_put(head, line.ptr, line.size) < 0 || head->size > FAULT_HEAD_MAX) {
			r = -1;
			goto done;
		}
		if (strcmp(line.ptr, "\r\n") == 0 || strcmp(line.ptr, "\n") == 0) {
			r = 1;
			goto done;
		}
	}
done:
	envup_buf_dispose(&line);
	return r;
}

/* Write everything, unless the proxy stops: 0 or -1. Never raises SIGPIPE. */
static int write_all(int fd, int stop, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w;
		if (io_wait(fd, POLLOUT, stop) < 0)
			return -1;
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- where a body goes ------------------------------------------------------ */

typedef enum { CUT_NONE, CUT_HANG, CUT_CLOSE } cut_mode;

/*
 * The receiving side of a body: a socket (fd >= 0), a buffer (collect), or
 * nowhere. With a budget (>= 0) only that many bytes pass; when it runs
 * out the cut happens (CUT_CLOSE shuts the socket down) and the rest is
 * dropped, so the body can still be read to its end.
 */
typedef struct {
	int fd;
	int stop;
	envup_buf *collect;
	long budget;
	cut_mode cut;
	bool cut_done;
} sink;

static void sink_check_cut(sink *s)
{
	if (s->cut_done || s->cut == CUT_NONE || s->budget != 0)
		return;
	s->cut_done = true;
	if (s->cut == CUT_CLOSE && s->fd >= 0)
		shutdown(s->fd, SHUT_RDWR);
}

/* 0, or -1 when the receiver cannot take the bytes. */
static int sink_put(sink *s, const char *p, size_t n)
{
	size_t pass = s->cut_done ? 0 : n;

	if (s->budget >= 0 && (size_t)s->budget < pass)
		pass = (size_t)s->budget;
	if (pass && s->collect && envup_buf_put(s->collect, p, pass) < 0)
		return -1;
	if (pass && s->fd >= 0 && write_all(s->fd, s->stop, p, pass) < 0)
		return -1;
	if (s->budget >= 0)
		s->budget -= (long)pass;
	sink_check_cut(s);
	return 0;
}

/* ---- message framing ---------------------------------------------------------- */

typedef enum { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_EOF } body_kind;

typedef struct {
	char method[16];         /* requests */
	char target[4096];       /* requests: the path as sent */
	int status;              /* responses */
	body_kind body;
	long long length;
	bool close;              /* Connection: close */
} msg_info;

/* Value of header `name` (case-insensitive, trimmed) into out; false when absent. */
static bool head_get(const envup_buf *head, const char *name, char *out, size_t size)
{
	const char *line = strchr(envup_buf_cstr(head), '\n');
	size_t nlen = strlen(name);

	while (line && *++line) {
		const char *end = strchr(line, '\n');
		if (!end)
			break;
		if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			const char *v = line + nlen + 1;
			size_t n;
			while (*v == ' ' || *v == '\t')
				v++;
			n = (size_t)(end - v);
			while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			snprintf(out, size, "%.*s", (int)n, v);
			return true;
		}
		line = end;
	}
	return false;
}

/* Framing from the headers; `bodyless`: the answer to a HEAD, a 1xx, 204 or 304. */
static int head_framing(msg_info *m, const envup_buf *head, bool is_response, bool bodyless)
{
	char v[64];

	m->body = is_response ? BODY_EOF : BODY_NONE;
	m->length = 0;
	m->close = head_get(head, "Connection", v, sizeof(v)) && strcasestr(v, "close");
	if (bodyless) {
		m->body = BODY_NONE;
	} else if (head_get(head, "Transfer-Encoding", v, sizeof(v)) && strcasestr(v, "chunked")) {
		m->body = BODY_CHUNKED;
	} else if (head_get(head, "Content-Length", v, sizeof(v))) {
		char *end;
		m->length = strtoll(v, &end, 10);
		if (*end || m->length < 0)
			return -1;
		m->body = m->length ? BODY_LENGTH : BODY_NONE;
	}
	if (is_response && m->body == BODY_EOF)
		m->close = true;
	return 0;
}

static int parse_request(msg_info *m, const envup_buf *head)
{
	memset(m, 0, sizeof(*m));
	if (sscanf(envup_buf_cstr(head), "%15s %4095s HTTP/1.%*c", m->method, m->target) != 2)
		return -1;
	return head_framing(m, head, false, false);
}

static int parse_response(msg_info *m, const envup_buf *head, const char *method)
{
	memset(m, 0, sizeof(*m));
	if (sscanf(envup_buf_cstr(head), "HTTP/1.%*c %d", &m->status) != 1)
		return -1;
	return head_framing(m, head, true, strcmp(method, "HEAD") == 0 ||
		(m->status >= 100 && m->status < 200) || m->status == 204 || m->status == 304);
}

/* Copy n body bytes (n < 0: up to EOF) to s; payload (may be NULL) gets them too. */
static int io_copy(conn_io *io, long long n, sink *s, envup_buf *payload)
{
	while (n != 0) {
		int got = io_fill(io);
		size_t take;

		if (got == 0 && n < 0)
			return 0;
		if (got <= 0)
			return -1;
		take = io->len - io->pos;
		if (n > 0 && (long long)take > n)
			take = (size_t)n;
		if (sink_put(s, io->buf + io->pos, take) < 0 ||
		    (payload && envup_buf_put(payload, io->buf + io->pos, take) < 0))
			return -1;
		io->pos += take;
		if (n > 0)
			n -= (long long)take;
	}
	return 0;
}

/* Pass one body to s as it arrives; payload (may be NULL) gets the decoded bytes. 0 at its end. */
static int body_relay(conn_io *io, const msg_info *m, sink *s, envup_buf *payload)
{
	envup_buf line = ENVUP_BUF_INIT;
	int error = -1;

	if (m->body == BODY_NONE)
		return 0;
	if (m->body != BODY_CHUNKED)
		return io_copy(io, m->body == BODY_LENGTH ? m->length : -1, s, payload);
	for (;;) {
		long long size;
		char *end;

		if (io_line(io, &line, 1024) <= 0 || sink_put(s, line.ptr, line.size) < 0)
			goto done;
		size = strtoll(line.ptr, &end, 16);
		if (end == line.ptr || size < 0 || (*end != ';' && *end != '\r' && *end != '\n'))
			goto done;
		if (size == 0)
			break;
		if (io_copy(io, size, s, payload) < 0 ||
		    io_line(io, &line, 16) <= 0 || sink_put(s, line.ptr, line.size) < 0)
			goto done;
	}
	/* trailers, up to the blank line */
	do {
		if (io_line(io, &line, FAULT_HEAD_MAX) <= 0 || sink_put(s, line.ptr, line.size) < 0)
			goto done;
	} while (strcmp(line.ptr, "\r\n") != 0 && strcmp(line.ptr, "\n") != 0);
	error = 0;
done:
	envup_buf_dispose(&line);
	return error;
}

/*
 * Copy head into out with its first line replaced by `first` (NULL: kept),
 * the headers named in `drop` (NULL-terminated) left out, and `extra`
 * ("Name: value\r\n" lines, may be NULL) added before the blank line.
 */
static int head_rewrite(envup_buf *out, const envup_buf *head, const char *first,
	const char *const *drop, const char *extra)
{
	const char *line = envup_buf_cstr(head);
	bool is_first = true;

	envup_buf_clear(out);
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
		bool keep = true;
		size_t i;

		if (len <= 2 && (line[0] == '\r' || line[0] == '\n'))
			break;                       /* the blank line */
		for (i = 0; !is_first && drop && drop[i]; i++)
			if (strncasecmp(line, drop[i], strlen(drop[i])) == 0 && line[strlen(drop[i])] == ':')
				keep = false;
		if (is_first && first) {
			if (envup_buf_printf(out, "%s\r\n", first) < 0)
				return -1;
		} else if (keep && envup_buf_put(out, line, len) < 0) {
			return -1;
		}
		is_first = false;
		line += len;
	}
	if (extra && envup_buf_puts(out, extra) < 0)
		return -1;
	return envup_buf_puts(out, "\r\n");
}

/* ---- the proxy ---------------------------------------------------------------- */

typedef struct {
	fault_rule rule;         /* match and body owned */
	regex_t re;
	int hits;
	int passed;              /* matching requests let through (rule.skip) */
} proxy_rule;

typedef struct proxy_conn {
	struct proxy_conn *next;
	fault_proxy *p;
	pthread_t thread;
	bool finished;           /* under p->lock; the thread is about to end */
	conn_io cin;             /* from the client */
	conn_io uin;             /* from the engine; fd -1 until needed */
} proxy_conn;

struct fault_proxy {
	char dir[64];
	char path[108];
	char host[128];
	char engine[108];
	char engine_api[16];     /* the real engine's Api-Version */
	int listen_fd;
	int stop_pipe[2];
	pthread_t acceptor;
	bool acceptor_started;
	pthread_mutex_t lock;    /* everything below */
	pthread_cond_t idle;
	proxy_rule rules[FAULT_RULES_MAX];
	int nrules;
	char api_override[16];
	char versions[FAULT_VERSIONS_MAX][16];
	int nversions;
	char versions_text[FAULT_VERSIONS_MAX * 17];
	envup_buf log;
	char *log_snapshot;
	proxy_conn *conns;
	int live;                /* connections not finished */
	int connections;         /* accepted */
	int requests;            /* read */
};

/* "1.44" -> 1044; -1 when not MAJOR.MINOR */
static long version_num(const char *v)
{
	int major, minor, n = 0;

	if (sscanf(v, "%d.%d%n", &major, &minor, &n) != 2 || v[n] != '\0')
		return -1;
	return major * 1000L + minor;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void proxy_log(fault_proxy *p, const char *method, const char *target, const char *what)
{
	pthread_mutex_lock(&p->lock);
	p->requests++;
	if (p->log.size < FAULT_LOG_MAX &&
	    envup_buf_printf(&p->log, "%s %s%s%s\n", method, target, what ? " -> " : "",
		what ? what : "") < 0)
		envup_buf_clear(&p->log);
	pthread_mutex_unlock(&p->lock);
}

/*
 * "/vX.Y/rest": record X.Y and, when the engine's API is older, rewrite
 * the prefix to the engine's version in `out`; other paths are copied.
 */
static void proxy_version(fault_proxy *p, const char *target, char *out, size_t size)
{
	char version[16];
	const char *rest;
	int i;

	snprintf(out, size, "%s", target);
	if (strncmp(target, "/v", 2) != 0 || (rest = strchr(target + 2, '/')) == NULL ||
	    (size_t)(rest - target - 2) >= sizeof(version))
		return;
	snprintf(version, sizeof(version), "%.*s", (int)(rest - target - 2), target + 2);
	if (version_num(version) < 0)
		return;
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->nversions && strcmp(p->versions[i], version) != 0; i++)
		;
	if (i == p->nversions && p->nversions < FAULT_VERSIONS_MAX)
		snprintf(p->versions[p->nversions++], sizeof(p->versions[0]), "%s", version);
	pthread_mutex_unlock(&p->lock);
	if (version_num(version) > version_num(p->engine_api))
		snprintf(out, size, "/v%s%s", p->engine_api, rest);
}

/* The first rule matching "METHOD PATH" that has faults left, copied; false when none. */
static bool proxy_match(fault_proxy *p, const msg_info *req, fault_rule *out)
{
	char *subject = envup__sprintf("%s %s", req->method, req->target);
	bool found = false;
	int i;

	if (!subject)
		return false;
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->nrules && !found; i++) {
		proxy_rule *r = &p->rules[i];
		if (r->rule.times > 0 && r->hits >= r->rule.times)
			continue;
		if (regexec(&r->re, subject, 0, NULL, 0) == 0) {
			if (r->passed < r->rule.skip) {
				r->passed++;
				continue;
			}
			r->hits++;
			*out = r->rule;
			found = true;
		}
	}
	pthread_mutex_unlock(&p->lock);
	envup__free(subject);
	return found;
}

/* The Api-Version the clients see ("" : the engine's own, untouched). */
static void proxy_api_override(fault_proxy *p, char *out, size_t size)
{
	pthread_mutex_lock(&p->lock);
	snprintf(out, size, "%s", p->api_override);
	pthread_mutex_unlock(&p->lock);
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 409: return "Conflict";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	default: return "Fault";
	}
}

/* A complete answer made up by the proxy (keep-alive). */
static int conn_answer(proxy_conn *c, int status, const char *body)
{
	fault_proxy *p = c->p;
	char api[16];
	envup_buf msg = ENVUP_BUF_INIT;
	int error = -1;

	proxy_api_override(p, api, sizeof(api));
	if (envup_buf_printf(&msg, "HTTP/1.1 %d %s\r\nApi-Version: %s\r\n"
	    "Content-Type: application/json\r\nServer: envup-fault-proxy\r\n"
	    "Content-Length: %zu\r\n\r\n%s", status, reason_phrase(status),
	    api[0] ? api : p->engine_api, strlen(body ? body : ""), body ? body : "") < 0)
		goto done;
	error = write_all(c->cin.fd, c->cin.stop, msg.ptr, msg.size);
done:
	envup_buf_dispose(&msg);
	return error;
}

/* Discard what the client sends until it closes (or the proxy stops). */
static void conn_wait_close(proxy_conn *c)
{
	for (;;) {
		c->cin.pos = c->cin.len = 0;
		if (io_fill(&c->cin) <= 0)
			return;
	}
}

/*
 * Send the request (head and raw body in `req`) to the engine and read the
 * answer's head, skipping interim 1xx answers. A kept connection the
 * engine closed meanwhile is replaced once.
 */
static int conn_exchange(proxy_conn *c, const envup_buf *req, const msg_info *rq,
	envup_buf *head, msg_info *rs)
{
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		bool fresh = c->uin.fd < 0;
		int r;

		if (fresh && (c->uin.fd = connect_unix(c->p->engine)) < 0)
			return -1;
		c->uin.pos = c->uin.len = 0;
		if (write_all(c->uin.fd, c->uin.stop, req->ptr, req->size) < 0)
			r = 0;
		else
			while ((r = io_head(&c->uin, head)) > 0 &&
			       parse_response(rs, head, rq->method) == 0 &&
			       rs->status >= 100 && rs->status < 200 && rs->status != 101)
				;
		if (r > 0)
			return parse_response(rs, head, rq->method);
		close(c->uin.fd);
		c->uin.fd = -1;
		if (fresh || r < 0)
			return -1;
	}
	return -1;
}

/*
 * One request from the client: 1 to read the next one on this
 * connection, 0 to close it.
 */
static int conn_request(proxy_conn *c, envup_buf *head)
{
	static const char *const reframe[] = {"Content-Length", "Transfer-Encoding", NULL};
	static const char *const reframe_api[] = {"Content-Length", "Transfer-Encoding",
		"Api-Version", NULL};
	static const char *const api_header[] = {"Api-Version", NULL};
	fault_proxy *p = c->p;
	msg_info rq, rs;
	fault_rule rule;
	envup_buf req = ENVUP_BUF_INIT, rhead = ENVUP_BUF_INIT, out = ENVUP_BUF_INIT;
	envup_buf payload = ENVUP_BUF_INIT;
	sink to_req = {-1, -1, NULL, -1, CUT_NONE, false};
	sink to_client;
	char target[4096], first[4200], api[16], extra[64];
	bool faulted;
	int keep = 0;

	if (parse_request(&rq, head) < 0) {
		conn_answer(c, 400, "{\"message\":\"fault proxy: unreadable request\"}");
		goto done;
	}
	proxy_version(p, rq.target, target, sizeof(target));
	snprintf(first, sizeof(first), "%s %s HTTP/1.1", rq.method, target);
	/* the request, rewritten, with its body (kept raw: it may be sent twice) */
	to_req.collect = &req;
	if (head_rewrite(&req, head, first, NULL, NULL) < 0 ||
	    body_relay(&c->cin, &rq, &to_req, NULL) < 0)
		goto done;
	faulted = proxy_match(p, &rq, &rule);
	proxy_log(p, rq.method, rq.target, faulted ? "fault" : NULL);

	if (faulted && rule.kind == FAULT_STATUS) {
		keep = conn_answer(c, rule.status, rule.body) == 0 && !rq.close;
		goto done;
	}
	if (conn_exchange(c, &req, &rq, &rhead, &rs) < 0) {
		conn_answer(c, 502, "{\"message\":\"fault proxy: no answer from the engine\"}");
		goto done;
	}
	proxy_api_override(p, api, sizeof(api));
	snprintf(extra, sizeof(extra), "Api-Version: %s\r\n", api);
	to_client = (sink){c->cin.fd, c->cin.stop, NULL, -1, CUT_NONE, false};

	if (faulted && (rule.kind == FAULT_TRUNCATE || rule.kind == FAULT_REPLACE)) {
		/* a complete message with the wrong body */
		sink drop = {-1, -1, NULL, -1, CUT_NONE, false};
		const char *body;
		size_t len;

		if (body_relay(&c->uin, &rs, &drop, &payload) < 0)
			goto done;
		body = rule.kind == FAULT_REPLACE && rule.body ? rule.body : envup_buf_cstr(&payload);
		len = rule.kind == FAULT_REPLACE ? strlen(body) : payload.size;
		if (rule.kind == FAULT_TRUNCATE && rule.after >= 0 && (size_t)rule.after < len)
			len = (size_t)rule.after;
		snprintf(extra, sizeof(extra), "%s%s%sContent-Length: %zu\r\n",
			api[0] ? "Api-Version: " : "", api, api[0] ? "\r\n" : "", len);
		if (head_rewrite(&out, &rhead, NULL, api[0] ? reframe_api : reframe, extra) < 0 ||
		    envup_buf_put(&out, body, len) < 0 ||
		    write_all(c->cin.fd, c->cin.stop, out.ptr, out.size) < 0)
			goto done;
		keep = !rq.close && !rs.close;
		goto done;
	}

	if (head_rewrite(&out, &rhead, NULL, api[0] ? api_header : NULL, api[0] ? extra : NULL) < 0)
		goto done;
	if (faulted && (rule.kind == FAULT_HANG || rule.kind == FAULT_CLOSE)) {
		to_client.cut = rule.kind == FAULT_HANG ? CUT_HANG : CUT_CLOSE;
		to_client.budget = rule.after < 0 ? 0 : rule.after;
	}
	/* after < 0: not even the head */
	if ((!faulted || rule.after >= 0) && write_all(c->cin.fd, c->cin.stop, out.ptr, out.size) < 0)
		goto done;
	sink_check_cut(&to_client);
	/* the engine's answer is read to its end even when the client gets less */
	if (body_relay(&c->uin, &rs, &to_client, NULL) < 0)
		goto done;
	if (faulted && rule.kind == FAULT_HANG)
		conn_wait_close(c);
	else if (!faulted)
		keep = !rq.close && !rs.close;
done:
	envup_buf_dispose(&req);
	envup_buf_dispose(&rhead);
	envup_buf_dispose(&out);
	envup_buf_dispose(&payload);
	return keep;
}

static void *conn_main(void *arg)
{
	proxy_conn *c = arg;
	fault_proxy *p = c->p;
	envup_buf head = ENVUP_BUF_INIT;

	while (io_head(&c->cin, &head) > 0 && conn_request(c, &head) > 0)
		;
	envup_buf_dispose(&head);
	close(c->cin.fd);
	if (c->uin.fd >= 0)
		close(c->uin.fd);
	pthread_mutex_lock(&p->lock);
	c->finished = true;
	p->live--;
	pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Join and free the connections that ended (all of them when `all`). Caller holds no lock. */
static void proxy_reap(fault_proxy *p, bool all)
{
	proxy_conn **pp, *done = NULL, *c;

	pthread_mutex_lock(&p->lock);
	for (pp = &p->conns; *pp;) {
		c = *pp;
		if (all || c->finished) {
			*pp = c->next;
			c->next = done;
			done = c;
		} else {
			pp = &c->next;
		}
	}
	pthread_mutex_unlock(&p->lock);
	while ((c = done) != NULL) {
		done = c->next;
		pthread_join(c->thread, NULL);
		envup__free(c);
	}
}

static void *accept_main(void *arg)
{
	fault_proxy *p = arg;

	while (io_wait(p->listen_fd, POLLIN, p->stop_pipe[0]) == 0) {
		proxy_conn *c;
		int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			continue;            /* EINTR, ECONNABORTED, ...: try again */
		proxy_reap(p, false);
		if ((c = envup__calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->p = p;
		c->cin.fd = fd;
		c->cin.stop = c->uin.stop = p->stop_pipe[0];
		c->uin.fd = -1;
		pthread_mutex_lock(&p->lock);
		c->next = p->conns;
		p->conns = c;
		p->live++;
		p->connections++;
		if (pthread_create(&c->thread, NULL, conn_main, c) != 0) {
			p->conns = c->next;
			p->live--;
			close(fd);
			envup__free(c);
		}
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

/* The real engine's Api-Version, from its /_ping. */
static int proxy_engine_api(fault_proxy *p)
{
	static const char ping[] = "GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n";
	conn_io *io = envup__calloc(1, sizeof(*io));
	envup_buf head = ENVUP_BUF_INIT;
	int error = -1;

	if (!io)
		return -1;
	io->stop = p->stop_pipe[0];
	if ((io->fd = connect_unix(p->engine)) < 0)
		goto done;
	if (write_all(io->fd, io->stop, ping, strlen(ping)) < 0 || io_head(io, &head) <= 0 ||
	    !head_get(&head, "Api-Version", p->engine_api, sizeof(p->engine_api)) ||
	    version_num(p->engine_api) < 0)
		goto done;
	error = 0;
done:
	if (io->fd >= 0)
		close(io->fd);
	envup_buf_dispose(&head);
	envup__free(io);
	return error;
}

static int proxy_start(fault_proxy **out, const char *engine, bool tcp)
{
	fault_proxy *p = envup__calloc(1, sizeof(*p));
	struct sockaddr_un sa;
	const char *dh = getenv("DOCKER_HOST");

	*out = NULL;
	if (!p)
		return -1;
	p->listen_fd = p->stop_pipe[0] = p->stop_pipe[1] = -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->idle, NULL);
	if (!engine)
		engine = dh && strncmp(dh, "unix://", 7) == 0 ? dh + 7 : FAULT_ENGINE;
	snprintf(p->engine, sizeof(p->engine), "%s", engine);
	snprintf(p->dir, sizeof(p->dir), "/tmp/envup-fault-XXXXXX");
	if (!mkdtemp(p->dir) || chmod(p->dir, 0755) < 0) {
		p->dir[0] = '\0';
		goto fail;
	}
	snprintf(p->path, sizeof(p->path), "%s/proxy.sock", p->dir);
	snprintf(p->host, sizeof(p->host), "unix://%s", p->path);
	if (pipe2(p->stop_pipe, O_CLOEXEC) < 0 || proxy_engine_api(p) < 0)
		goto fail;
	if (tcp) {
		/* the same proxy on 127.0.0.1:PORT, for DOCKER_HOST=tcp:// */
		struct sockaddr_in in;
		socklen_t len = sizeof(in);
		if ((p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			goto fail;
		memset(&in, 0, sizeof(in));
		in.sin_family = AF_INET;
		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(p->listen_fd, (struct sockaddr *)&in, sizeof(in)) < 0 ||
		    getsockname(p->listen_fd, (struct sockaddr *)&in, &len) < 0 ||
		    listen(p->listen_fd, 64) < 0)
			goto fail;
		p->path[0] = '\0';
		snprintf(p->host, sizeof(p->host), "tcp://127.0.0.1:%d", ntohs(in.sin_port));
	} else {
		if ((p->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			goto fail;
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->path);
		if (bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    chmod(p->path, 0666) < 0 || listen(p->listen_fd, 64) < 0)
			goto fail;
	}
	if (pthread_create(&p->acceptor, NULL, accept_main, p) != 0)
		goto fail;
	p->acceptor_started = true;
	*out = p;
	return 0;
fail:
	fault_proxy_stop(p);
	return -1;
}

int fault_proxy_start(fault_proxy **out, const char *engine)
{
	return proxy_start(out, engine, false);
}

int fault_proxy_start_tcp(fault_proxy **out, const char *engine)
{
	return proxy_start(out, engine, true);
}

void fault_proxy_stop(fault_proxy *p)
{
	int i;

	if (!p)
		return;
	if (p->stop_pipe[1] >= 0 && write(p->stop_pipe[1], "x", 1) < 0)
		fprintf(stderr, "fault proxy: cannot signal stop\n");
	if (p->acceptor_started)
		pthread_join(p->acceptor, NULL);
	proxy_reap(p, true);
	if (p->listen_fd >= 0)
		close(p->listen_fd);
	if (p->stop_pipe[0] >= 0)
		close(p->stop_pipe[0]);
	if (p->stop_pipe[1] >= 0)
		close(p->stop_pipe[1]);
	if (p->path[0])
		unlink(p->path);
	if (p->dir[0])
		rmdir(p->dir);
	for (i = 0; i < p->nrules; i++) {
		regfree(&p->rules[i].re);
		envup__free((char *)p->rules[i].rule.match);
		envup__free((char *)p->rules[i].rule.body);
	}
	envup_buf_dispose(&p->log);
	envup__free(p->log_snapshot);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->idle);
	envup__free(p);
}

const char *fault_proxy_host(const fault_proxy *p)
{
	return p->host;
}

const char *fault_proxy_socket(const fault_proxy *p)
{
	return p->path;
}

int fault_proxy_add_rule(fault_proxy *p, const fault_rule *rule)
{
	proxy_rule *r;
	int index = -1;

	pthread_mutex_lock(&p->lock);
	if (p->nrules == FAULT_RULES_MAX)
		goto done;
	r = &p->rules[p->nrules];
	memset(r, 0, sizeof(*r));
	if (regcomp(&r->re, rule->match, REG_EXTENDED | REG_NOSUB) != 0)
		goto done;
	r->rule = *rule;
	r->rule.match = envup__strdup(rule->match);
	r->rule.body = rule->body ? envup__strdup(rule->body) : NULL;
	index = p->nrules++;
done:
	pthread_mutex_unlock(&p->lock);
	if (index < 0)
		fail_msg("fault proxy: bad rule %s", rule->match);
	return index;
}

int fault_proxy_hits(fault_proxy *p, int index)
{
	int hits;

	pthread_mutex_lock(&p->lock);
	hits = index >= 0 && index < p->nrules ? p->rules[index].hits : 0;
	pthread_mutex_unlock(&p->lock);
	return hits;
}

void fault_proxy_set_api_version(fault_proxy *p, const char *version)
{
	pthread_mutex_lock(&p->lock);
	snprintf(p->api_override, sizeof(p->api_override), "%s", version ? version : "");
	pthread_mutex_unlock(&p->lock);
}

static int version_cmp(const void *a, const void *b)
{
	long x = version_num(a), y = version_num(b);
	return x < y ? -1 : x > y;
}

const char *fault_proxy_versions(fault_proxy *p)
{
	int i;

	pthread_mutex_lock(&p->lock);
	qsort(p->versions, (size_t)p->nversions, sizeof(p->versions[0]), version_cmp);
	p->versions_text[0] = '\0';
	for (i = 0; i < p->nversions; i++) {
		size_t used = strlen(p->versions_text);
		snprintf(p->versions_text + used, sizeof(p->versions_text) - used, "%s%s",
			i ? "," : "", p->versions[i]);
	}
	pthread_mutex_unlock(&p->lock);
	return p->versions_text;
}

void fault_proxy_counts(fault_proxy *p, int *connections, int *requests)
{
	pthread_mutex_lock(&p->lock);
	*connections = p->connections;
	*requests = p->requests;
	pthread_mutex_unlock(&p->lock);
}

const char *fault_proxy_log(fault_proxy *p)
{
	pthread_mutex_lock(&p->lock);
	envup__free(p->log_snapshot);
	p->log_snapshot = envup__strdup(envup_buf_cstr(&p->log));
	pthread_mutex_unlock(&p->lock);
	return p->log_snapshot ? p->log_snapshot : "";
}

bool fault_proxy_wait_idle(fault_proxy *p, double seconds)
{
	struct timespec until;
	bool idle;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)seconds;
	pthread_mutex_lock(&p->lock);
	while (p->live > 0 && pthread_cond_timedwait(&p->idle, &p->lock, &until) == 0)
		;
	idle = p->live == 0;
	pthread_mutex_unlock(&p->lock);
	return idle;
}

/* ---- running envup ------------------------------------------------------------ */

/* Like it_exec(), with a replaced DOCKER_HOST and an optional user. */
static int fault_exec(const char *dir, const char *const *argv, const char *docker_host,
	uid_t uid, envup_buf *out, envup_buf *err, double *seconds)
{
	const struct passwd *pw = uid > 0 ? getpwuid(uid) : NULL;
	gid_t gid = pw ? pw->pw_gid : (gid_t)uid;
	char *host = docker_host ? envup__sprintf("DOCKER_HOST=%s", docker_host) : NULL;
	char **envp;
	size_t n = 0, i;
	int po[2], pe[2], status;
	double start = envup_now();
	pid_t pid;

	for (i = 0; environ[i]; i++)
		;
	envp = envup__calloc(i + 2, sizeof(char *));
	assert_non_null(envp);
	for (i = 0; environ[i]; i++)
		if (!docker_host || strncmp(environ[i], "DOCKER_HOST=", 12) != 0)
			envp[n++] = environ[i];
	if (host)
		envp[n++] = host;
	envp[n] = NULL;

	assert_int_equal(pipe2(po, O_CLOEXEC), 0);
	assert_int_equal(pipe2(pe, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		if (dir && chdir(dir) < 0)
			_exit(126);
		if (uid > 0 && (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0))
			_exit(125);
		execve(argv[0], (char *const *)argv, envp);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	status = it_collect(pid, po[0], pe[0], out, err);
	*seconds = envup_now() - start;
	envup__free(host);
	envup__free(envp);
	return status;
}

int it_fault_envup(it_env *t, const char *docker_host, uid_t uid, ...)
{
	const char *argv[64];
	const char *arg;
	size_t n = 0;
	va_list ap;

	envup_buf_clear(&t->out);
	envup_buf_clear(&t->err);
	argv[n++] = ENVUP_BIN;
	va_start(ap, uid);
	if ((arg = va_arg(ap, const char *)) != NULL) {
		argv[n++] = arg;
		argv[n++] = "-n";
		argv[n++] = t->name;
		while (n < 63 && (arg = va_arg(ap, const char *)) != NULL)
			argv[n++] = arg;
	}
	va_end(ap);
	argv[n] = NULL;
	t->status = fault_exec(t->dir, argv, docker_host, uid, &t->out, &t->err, &t->seconds);
	if (getenv("ENVUP_TEST_VERBOSE"))
		fprintf(stderr, "--- envup %s (DOCKER_HOST=%s) -> %d in %.2fs\n%s", argv[1],
			docker_host ? docker_host : "-", t->status, t->seconds, envup_buf_cstr(&t->err));
	return t->status;
}

/* ---- images on the real engine ------------------------------------------------ */

static long image_request(const char *method, const char *image)
{
	envup_engine *e = NULL;
	envup_engine_options eo = {0};
	envup_buf resp = ENVUP_BUF_INIT;
	char *path = NULL;
	long status = 0;

	assert_int_equal(envup_engine_open(&e, &eo), 0);
	path = envup__sprintf(strcmp(method, "GET") == 0 ? "/images/%s/json" : "/images/%s", image);
	assert_non_null(path);
	if (envup_engine_request(e, method, path, NULL, NULL, 0, &status, &resp) < 0)
		status = -1;
	if (status != 200 && status != 404)
		fprintf(stderr, "%s %s: %ld %s\n", method, path, status, envup_buf_cstr(&resp));
	envup__free(path);
	envup_buf_dispose(&resp);
	envup_engine_free(e);
	return status;
}

void it_fault_remove_image(const char *image)
{
	long status = image_request("DELETE", image);
	if (status != 200 && status != 404)
		fail_msg("cannot remove image %s (HTTP %ld)", image, status);
}

bool it_fault_has_image(const char *image)
{
	return image_request("GET", image) == 200;
}
