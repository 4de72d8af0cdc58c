/*
 * A fault-injecting proxy for the Docker Engine API, for the integration
 * tests: it listens on a unix socket of its own (in a fresh /tmp dir),
 * forwards every request to the real engine and, for requests matching a
 * rule, injects one fault instead of passing the answer through.
 *
 * It runs in threads of the test process (one per client connection, each
 * with its own upstream connection), keeps connections alive, and passes
 * Content-Length, chunked and close-delimited bodies through byte for byte
 * unless a rule says otherwise. Request paths "/vX.Y/..." newer than the
 * real engine's API are rewritten down to it, and every version a client
 * used is recorded.
 *
 * Not supported: protocol upgrades (attach, exec), which envup never uses.
 *
 * Children started by the tests inherit none of the proxy's descriptors
 * (all are close-on-exec). All strings returned are owned by the proxy.
 */
#ifndef ENVUP_TESTS_INTEGRATION_SUPPORT_FAULT_H
#define ENVUP_TESTS_INTEGRATION_SUPPORT_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "support.h"

typedef enum {
	FAULT_STATUS = 1, /* answer `status` with `body`; the engine never sees the request */
	FAULT_HANG,       /* forward; pass the head and `after` body bytes (<0: nothing), then
	                   * go silent until the client closes (the engine's answer is drained) */
	FAULT_CLOSE,      /* forward; pass the head and `after` body bytes, then close */
	FAULT_TRUNCATE,   /* forward; answer the engine's status with its body cut to `after`
	                   * bytes, as a complete message (Content-Length of the cut body) */
	FAULT_REPLACE     /* forward; answer the engine's status with `body` instead of its own */
} fault_kind;

typedef struct {
	const char *match;   /* POSIX ERE on "METHOD PATH", PATH as the client sent it */
	fault_kind kind;
	int status;          /* FAULT_STATUS */
	const char *body;    /* FAULT_STATUS, FAULT_REPLACE */
	long after;          /* FAULT_HANG, FAULT_CLOSE, FAULT_TRUNCATE */
	int times;           /* how many matching requests get the fault; 0 = all */
	int skip;            /* let this many matching requests through first */
} fault_rule;

typedef struct fault_proxy fault_proxy;

/** Start a proxy in front of the unix socket `engine` (NULL: /var/run/docker.sock). */
int fault_proxy_start(fault_proxy **out, const char *engine);
/** Stop accepting, end every connection, join all threads, remove the socket. NULL ok. */
void fault_proxy_stop(fault_proxy *p);
/** The same proxy listening on 127.0.0.1 (host "tcp://127.0.0.1:PORT"). */
int fault_proxy_start_tcp(fault_proxy **out, const char *engine);

/** "unix:///tmp/envup-fault-XXXXXX/proxy.sock", for DOCKER_HOST. */
const char *fault_proxy_host(const fault_proxy *p);
/** The socket's path. */
const char *fault_proxy_socket(const fault_proxy *p);

/** Add a rule (copied); rules are tried in the order added. Returns its index. */
int fault_proxy_add_rule(fault_proxy *p, const fault_rule *rule);
/** How many faults rule `index` has injected. */
int fault_proxy_hits(fault_proxy *p, int index);
/** Report `version` as the engine's Api-Version (in /_ping and every answer); NULL: the real one. */
void fault_proxy_set_api_version(fault_proxy *p, const char *version);
/** The API versions clients put in request paths, sorted, comma separated ("1.44"). */
const char *fault_proxy_versions(fault_proxy *p);
/** Client connections accepted and requests read so far. */
void fault_proxy_counts(fault_proxy *p, int *connections, int *requests);
/** Every request line seen so far, one per line (for failure messages). */
const char *fault_proxy_log(fault_proxy *p);
/** Wait until no client connection is open and every drained answer has ended. */
bool fault_proxy_wait_idle(fault_proxy *p, double seconds);

/**
 * Run the envup binary like it_envup() (in t->dir, with -n NAME after the
 * subcommand), with DOCKER_HOST=docker_host (NULL: inherited) and, when
 * uid > 0, as that user. Fills t->out, t->err, t->status, t->seconds.
 */
int it_fault_envup(it_env *t, const char *docker_host, uid_t uid, ...);

/** Remove an image tag from the real engine; a missing one is fine. */
void it_fault_remove_image(const char *image);
/** True when the real engine has the image. */
bool it_fault_has_image(const char *image);

#endif
