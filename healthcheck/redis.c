/*
 * The Redis probe: hiredis connects (bounded), AUTH when a password is
 * given, then PING must answer PONG. Error replies ("LOADING ...",
 * "NOAUTH ...", "WRONGPASS ...") and dropped connections are "not ready"
 * with the reply as the reason.
 *
 * hiredis writes with plain write(2): a peer that already hung up (as
 * docker-proxy does while nothing listens inside) would raise SIGPIPE and
 * kill the host program. The exchange runs inside the SIGPIPE guard
 * (util/sigpipe.c).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <hiredis/hiredis.h>
#include "healthcheck/health.h"
#include "healthcheck/probe.h"

static struct timeval ms_to_tv(long ms)
{
	struct timeval tv;

	if (ms < 1)
		ms = 1;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

/* Why a redisContext failed, as a reason. */
static int redis_ctx_failure(char **why, const redisContext *c, const char *where,
	const char *step, long timeout_ms)
{
	if (c->err == REDIS_ERR_EOF)
		return envup_health__not_ready(why, "%s: %s: connection closed by peer",
			where, step);
	if (c->err == REDIS_ERR_IO && (strstr(c->errstr, "temporarily unavailable") ||
	    strstr(c->errstr, "timed out")))
		return envup_health__not_ready(why, "%s: %s: no answer within %ld ms",
			where, step, timeout_ms);
	return envup_health__not_ready(why, "%s: %s: %s", where, step,
		c->errstr[0] ? c->errstr : "I/O error");
}

/* One command; 0 with *out on a reply (any type), 1 not ready, <0 fatal. */
static int redis_call(redisReply **out, char **why, redisContext *c, const char *where,
	const char *step, double deadline, long timeout_ms, int argc, const char **argv)
{
	long left = envup_health__remaining_ms(deadline);

	*out = NULL;
	if (left == 0)
		return envup_health__not_ready(why, "%s: %s: no answer within %ld ms",
			where, step, timeout_ms);
	if (redisSetTimeout(c, ms_to_tv(left)) != REDIS_OK)
		return redis_ctx_failure(why, c, where, step, timeout_ms);
	*out = redisCommandArgv(c, argc, argv, NULL);
	if (!*out)
		return redis_ctx_failure(why, c, where, step, timeout_ms);
	return 0;
}

int envup_probe_redis(char **why, const char *host, int port, const char *password,
	long timeout_ms)
{
	envup_sigpipe_guard guard;
	redisContext *c = NULL;
	redisReply *reply = NULL;
	const char *argv[2];
	char where[300];
	double deadline;
	int r;

	ENVUP_ASSERT_ARG(why);
	*why = NULL;
	ENVUP_ASSERT_ARG(host && *host && port > 0 && port <= 65535);
	if (password && envup_secret_add(password) < 0)
		return ENVUP_ERROR;
	if (timeout_ms <= 0)
		timeout_ms = 1000;
	deadline = envup_now() + (double)timeout_ms / 1000.0;
	snprintf(where, sizeof(where), strchr(host, ':') ? "redis [%s]:%d" : "redis %s:%d",
		host, port);

	envup_sigpipe_block(&guard);
	c = redisConnectWithTimeout(host, port, ms_to_tv(timeout_ms));
	if (!c) {
		r = envup_error_set_oom();
		goto done;
	}
	if (c->err) {
		if (strstr(c->errstr, "refused"))
			r = envup_health__not_ready(why, "%s: connection refused", where);
		else
			r = redis_ctx_failure(why, c, where, "connect", timeout_ms);
		goto done;
	}
	if (password) {
		argv[0] = "AUTH";
		argv[1] = password;
		if ((r = redis_call(&reply, why, c, where, "AUTH", deadline, timeout_ms, 2, argv)) != 0)
			goto done;
		if (reply->type == REDIS_REPLY_ERROR) {
			r = envup_health__not_ready(why, "%s: AUTH: %s", where, reply->str);
			goto done;
		}
		freeReplyObject(reply);
		reply = NULL;
	}
	argv[0] = "PING";
	if ((r = redis_call(&reply, why, c, where, "PING", deadline, timeout_ms, 1, argv)) != 0)
		goto done;
	if (reply->type == REDIS_REPLY_ERROR) {
		r = envup_health__not_ready(why, "%s: PING: %s", where, reply->str);
		goto done;
	}
	if ((reply->type != REDIS_REPLY_STATUS && reply->type != REDIS_REPLY_STRING) ||
	    strcmp(reply->str, "PONG") != 0) {
		r = envup_health__not_ready(why, "%s: PING: unexpected reply", where);
		goto done;
	}
	r = 0;
done:
	if (reply)
		freeReplyObject(reply);
	if (c)
		redisFree(c);
	envup_sigpipe_restore(&guard);
	return r;
}
