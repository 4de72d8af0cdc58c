/*
 * The engine client: Docker Engine API over a unix socket or TCP, with
 * libcurl. envup_engine_open() finds the engine (DOCKER_HOST, else
 * /var/run/docker.sock), pings it and negotiates the API version:
 * min(engine's Api-Version, ENVUP_API_MAX), refusing engines older than
 * ENVUP_API_MIN. DOCKER_API_VERSION pins the version, as with the docker CLI.
 *
 * Threads: an envup_engine is read-only after open; requests from several
 * threads at once are safe (each request uses its own curl handle or a
 * locked pool).
 *
 * Errors: transport failures return ENVUP_EDOCKER ("cannot connect to the
 * Docker engine at unix:///var/run/docker.sock: no such file (is dockerd
 * running?)"), ENVUP_ETIMEOUT (deadline passed) or ENVUP_ECANCELLED (the
 * cancel flag was raised). Non-2xx answers are not errors of the request
 * functions; callers turn them into errors with envup_engine_api_error().
 */
#ifndef ENVUP_PROVISION_ENGINE_H
#define ENVUP_PROVISION_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include "util/util.h"

#define ENVUP_API_MAX "1.44"
#define ENVUP_API_MIN "1.41"

typedef struct envup_engine envup_engine;

typedef struct {
	const char *docker_host;     /* NULL: $DOCKER_HOST, else unix:///var/run/docker.sock */
	const atomic_int *cancel;    /* transfers abort soon after *cancel becomes non-zero */
	double deadline;             /* envup_now() after which requests fail; 0 = none */
} envup_engine_options;

/**
 * Connect, ping and negotiate.
 * @param[out] out the engine, freed with envup_engine_free()
 */
int envup_engine_open(envup_engine **out, const envup_engine_options *opts);
void envup_engine_free(envup_engine *e);

/** Negotiated API version, e.g. "1.41". */
const char *envup_engine_api_version(const envup_engine *e);
/** The engine address as given/defaulted, e.g. "unix:///var/run/docker.sock". */
const char *envup_engine_address(const envup_engine *e);
/** Host where published ports are reached: "127.0.0.1", or the tcp:// host. */
const char *envup_engine_port_host(const envup_engine *e);
/** HostIp to publish ports on: "127.0.0.1" for local engines (unix socket, or
 *  tcp:// to a loopback address), "0.0.0.0" for remote tcp:// engines. */
const char *envup_engine_bind_ip(const envup_engine *e);
/** Change the deadline (envup_now() based; 0 = none). Not thread-safe. */
void envup_engine_set_deadline(envup_engine *e, double deadline);

/**
 * One request. `path` excludes the version prefix ("/containers/json?all=1").
 * `content_type` NULL with a body means "application/json". A body-less
 * POST sends no Content-Type. The response body (max 16 MiB) goes to
 * `resp` when non-NULL (emptied first). Plain requests without a deadline
 * give up after 300 s (ENVUP_ETIMEOUT); streams are bounded only by the
 * deadline and the cancel flag.
 * @return 0 when an HTTP answer arrived (check *status), or a transport error
 */
int envup_engine_request(envup_engine *e, const char *method, const char *path,
	const char *content_type, const void *body, size_t body_len,
	long *status, envup_buf *resp);

/** The same with one more request header ("X-Registry-Auth: ..."), a JSON
 *  body when body_len > 0. */
int envup_engine_request_header(envup_engine *e, const char *method, const char *path,
	const char *header, const void *body, size_t body_len, long *status, envup_buf *resp);

/** Receives streamed body bytes; return < 0 to abort (that error is returned). */
typedef int (*envup_engine_data_cb)(const char *data, size_t len, void *payload);

/**
 * A streaming request (pull, logs). The body is handed to `cb` as it
 * arrives when the status is 2xx; otherwise it is collected into `errbody`
 * (may be NULL) for envup_engine_api_error().
 */
int envup_engine_stream(envup_engine *e, const char *method, const char *path,
	envup_engine_data_cb cb, void *payload, long *status, envup_buf *errbody);

/** The same with one more request header ("X-Registry-Auth: ..."; NULL: none). */
int envup_engine_stream_header(envup_engine *e, const char *method, const char *path,
	const char *header, envup_engine_data_cb cb, void *payload, long *status, envup_buf *errbody);

/** True when the engine is reached over a unix socket (it sees this
 *  machine's files), false over tcp:// or ssh://. */
bool envup_engine_is_local(const envup_engine *e);

/** A streaming POST with a JSON body (exec start). */
int envup_engine_stream_post(envup_engine *e, const char *path, const char *json,
	envup_engine_data_cb cb, void *payload, long *status, envup_buf *errbody);

/**
 * Turn a non-2xx answer into an error: "WHAT: MESSAGE" where MESSAGE is the
 * engine's {"message": ...} (or "HTTP STATUS"). Returns ENVUP_ENOTFOUND for
 * 404, ENVUP_EEXISTS for 409, ENVUP_EDOCKER otherwise.
 */
int envup_engine_api_error(long status, const envup_buf *resp, const char *what);


/** Build a `filters` query value matching all the labels ("k=v", or "k"). Malloc'd, escaped. */
char *envup_engine_label_filter(const envup_strlist *labels);

/* ---- helpers for the provision layer ------------------------------------ */

struct cJSON;

/**
 * Parse an engine answer as JSON. On failure: ENVUP_ERROR with
 * "invalid JSON from the engine for WHAT".
 * @param[out] out the tree, freed with cJSON_Delete()
 */
int envup_engine_parse_json(struct cJSON **out, const envup_buf *resp, const char *what);

/**
 * GET `path`, require 200 (else envup_engine_api_error(status, ..., what)),
 * and parse the answer.
 * @param[out] out the tree, freed with cJSON_Delete()
 */
int envup_engine_get_json(struct cJSON **out, envup_engine *e, const char *path, const char *what);

/**
 * POST a JSON `body` to a create endpoint (/containers/create,
 * /networks/create) and return the new object's "Id". A non-2xx answer is
 * reported with envup_engine_api_error(status, ..., what).
 * @param[out] id_out malloc'd id; may be NULL when the caller needs none
 */
int envup_engine_create(char **id_out, envup_engine *e, const char *path,
	const struct cJSON *body, const char *what);

/** The same with one more request header (or NULL) and the answer's id
 *  under `id_key` (a swarm's objects spell it "ID"). */
int envup_engine_create_with(char **id_out, envup_engine *e, const char *path,
	const struct cJSON *body, const char *header, const char *id_key, const char *what);

/**
 * 0 while neither the cancel flag nor the deadline stops us; otherwise
 * ENVUP_ECANCELLED or ENVUP_ETIMEOUT with the error set. For wait loops.
 */
int envup_engine_check_interrupt(const envup_engine *e);

/** The deadline set at open or by envup_engine_set_deadline() (0 = none). */
double envup_engine_deadline(const envup_engine *e);

/** The engine's own Api-Version from the ping (borrowed), or NULL when it sent none. */
const char *envup_engine_server_api_version(const envup_engine *e);

/**
 * True when `have` (labels of a resource) satisfies every entry of `want`
 * ("k=v": exact value; "k": present). Used to double-check what the
 * engine's label filter returned before removing anything.
 */
bool envup_engine_labels_match(const envup_kvlist *have, const envup_strlist *want);

#endif
