/*
 * The spec: envup.yaml parsed, interpolated, merged with its templates and
 * validated. After envup_spec_load() succeeds, every service has an image,
 * its template's defaults applied, resolved absolute file paths, and the
 * spec has a dependency order. Nothing about the spec is checked later:
 * a spec that loads can be brought up.
 *
 * Errors: ENVUP_ESPEC with a one-line message
 *   "FILE:LINE:COL: KEY.PATH: what is wrong"
 * e.g. "envup.yaml:7:5: services.postgres.envv: unknown key (did you mean 'env'?)".
 * LINE:COL (1-based) point at the offending key or value; KEY.PATH is left
 * out for YAML syntax errors. Errors about the file as a whole have no
 * position: "FILE: No such file or directory",
 * "FILE: the spec is larger than 1 MiB (N bytes)".
 *
 * Format decisions (see compose/README.md for the whole format):
 *  - YAML: one document, at most 1 MiB, 64 levels of nesting, 100000
 *    nodes and 8 MiB of scalar text, counting aliases expanded. Anchors
 *    and aliases work; merge keys (<<: *a, <<: [*a, *b]) are supported:
 *    keys written in the mapping win, then earlier merged mappings win.
 *    Tags other than the YAML core ones (!!str ...) are errors, as are
 *    aliases used as keys.
 *  - "x-*" keys are ignored (not even interpolated) in every mapping that
 *    has a schema: the top level, services:, a service, wait and its
 *    forms, credentials. env: and export: are data: no key is ignored.
 *  - ${VAR} applies to scalar values (never keys), when they are read.
 *  - command/entrypoint as one string are split into words like a shell
 *    would ('...', "...", backslash) without running one.
 *  - tcp/http waits get their port at load (the first port when not
 *    written); the port must be one of the service's ports.
 *  - {{placeholders}} are checked at load against what the service has:
 *    exports may use url host port port:N user password database; env,
 *    command and entrypoint may use user password database.
 *
 * Ownership: envup_spec_load() allocates; free with envup_spec_free().
 * Everything inside the spec is owned by it.
 */
#ifndef ENVUP_COMPOSE_SPEC_H
#define ENVUP_COMPOSE_SPEC_H

#include <stdbool.h>
#include "util/util.h"
#include "envup/spec.h"

typedef enum {
	ENVUP_WAIT_NONE = 0,    /* ready as soon as the container runs */
	ENVUP_WAIT_TCP,         /* a TCP connect to the published port succeeds */
	ENVUP_WAIT_HTTP,        /* an HTTP request answers with `status` */
	ENVUP_WAIT_LOG,         /* `pattern` matched `times` times in the logs */
	ENVUP_WAIT_HEALTHCHECK, /* the image's HEALTHCHECK reports healthy */
	ENVUP_WAIT_POSTGRES,    /* libpq connects and SELECT 1 answers */
	ENVUP_WAIT_REDIS,       /* hiredis AUTH + PING answers PONG */
	ENVUP_WAIT_MOCKSERVER,  /* PUT /mockserver/status answers 200 */
	ENVUP_WAIT_EXEC,        /* `exec` run in the container exits 0 (a compose
	                         * healthcheck, run by envup at short intervals) */
	ENVUP_WAIT_EXIT         /* the container exited 0 (a one-shot service that
	                         * a dependant waits on: service_completed_successfully) */
} envup_wait_kind;

typedef struct {
	envup_wait_kind kind;
	int port;      /* container port for tcp/http (set at load, one of the
	                * service's ports); 0 for other kinds */
	char *path;    /* http: default "/" */
	char *method;  /* http: default "GET" */
	int status;    /* http: default 200 */
	char *pattern; /* log: POSIX extended regex */
	int times;     /* log: default 1 */
	envup_strlist exec;   /* exec: the command (argv) */
	double exec_timeout;  /* exec: seconds one run may take (0: 30) */
} envup_wait;

/* How a dependant waits for a service it depends on. */
typedef enum {
	ENVUP_DEP_READY = 0,    /* ready (envup specs; compose service_healthy) */
	ENVUP_DEP_STARTED,      /* its container started (compose service_started) */
	ENVUP_DEP_COMPLETED     /* exited 0 (compose service_completed_successfully) */
} envup_dep_condition;

/* A published port's host side; a port without one gets an engine-chosen
 * port on envup's bind address (127.0.0.1). */
typedef struct {
	int host;      /* 0: the engine chooses */
	char *ip;      /* NULL: envup's bind address */
} envup_port_bind;

typedef enum { ENVUP_MOUNT_BIND = 0, ENVUP_MOUNT_VOLUME, ENVUP_MOUNT_TMPFS } envup_mount_kind;

typedef struct {
	envup_mount_kind kind;
	char *source;  /* bind: absolute host path; volume: the spec's volume name */
	char *target;  /* absolute container path */
	bool read_only;
} envup_mount;

/* Container settings a compose file may give (all optional). */
typedef struct {
	char *working_dir;
	char *user;
	char *hostname;
	envup_strlist extra_hosts;  /* "host:ip" */
	long long shm_size;         /* bytes; 0 unset */
	bool has_init, init;        /* init: when has_init */
	envup_strlist cap_add;
	envup_strlist cap_drop;
	bool privileged;
	envup_kvlist ulimits;       /* name -> "soft:hard" */
	char *stop_signal;
	bool has_stop_timeout;
	int stop_timeout;           /* seconds, when has_stop_timeout */
	envup_kvlist labels;        /* the file's own labels (never dev.envup.*) */
} envup_runtime;

enum { ENVUP_CRED_USER = 0, ENVUP_CRED_PASSWORD, ENVUP_CRED_DATABASE, ENVUP_CRED_COUNT };

/*
 * A credential a template knows about. At `up` time: if `env` is set and
 * the service's env has that variable, the credential is its value;
 * otherwise it is `def` ("random" means a fresh random password per
 * environment) and, when `env` is set, the variable is added to the env.
 * `def == NULL` means the template has no such credential.
 */
typedef struct {
	char *env;
	char *def;
} envup_cred;

typedef struct {
	int line; /* 1-based */
	int col;  /* 1-based */
} envup_pos;

typedef struct {
	char *name;
	envup_pos pos;            /* where the service's key is */
	char *template_name;      /* NULL when the service has no template */
	char *image;              /* never NULL after load */
	envup_kvlist env;         /* template env, overlaid by the spec's */
	envup_strlist command;    /* valid when has_command */
	bool has_command;
	envup_strlist entrypoint; /* valid when has_entrypoint */
	bool has_entrypoint;
	int *ports;               /* container ports to publish; template port first */
	size_t nports;
	envup_port_bind *binds;   /* nports entries, or NULL: all engine-chosen */
	envup_mount *mounts;      /* bind mounts and volumes (compose files) */
	size_t nmounts;
	envup_runtime rt;         /* compose settings */
	bool compose;             /* from a Compose file: values are literal, no
	                           * {{placeholders}} outside x-envup exports */
	int *dep_cond;            /* depends_on.n entries (envup_dep_condition), or NULL */
	envup_strlist tmpfs;      /* container paths mounted as tmpfs */
	envup_wait wait;
	envup_strlist depends_on; /* names of services in the same spec */
	envup_strlist init;       /* absolute paths of SQL files, in order (postgres) */
	char *expectations;       /* absolute path of a JSON file (mockserver), or NULL */
	envup_kvlist exports;     /* NAME -> value with {{placeholders}} */
	char *url;                /* URL pattern from the template, or NULL */
	envup_cred cred[ENVUP_CRED_COUNT];
} envup_service;

typedef struct envup_spec {
	char *path;               /* as given (used in messages) */
	char *dir;                /* absolute directory holding the spec */
	char *name;               /* the spec's name:, or NULL */
	char *backend;            /* the spec's backend: ("docker", "swarm"), or NULL */
	envup_service *services;  /* in the order written */
	size_t nservices;
	size_t *order;            /* indexes into services, dependencies first */
	bool compose;             /* read from a Compose file */
	envup_strlist volumes;    /* named volumes the services use (compose) */
	envup_strlist notices;    /* one-line notices for the user (ignored keys) */
} envup_spec;

/*
 * What selects a spec's services, and how a Compose file is read (all
 * optional; a zeroed struct selects everything).
 */
typedef struct {
	const char *const *services;  /* names; NULL/0: all (a Compose file: the active ones) */
	size_t nservices;
	const char *const *profiles;  /* Compose profiles; also $COMPOSE_PROFILES */
	size_t nprofiles;
	const char *env_file;         /* instead of .env next to a Compose file */
	bool compose;                 /* read as a Compose file whatever its content */
} envup_spec_select;

/** Looks up ${VAR}; return NULL when unset. */
typedef const char *(*envup_getenv_fn)(const char *name, void *payload);

/**
 * Load and validate a spec file. `getenv_fn` NULL means getenv(3).
 * @param[out] out the spec; NULL on failure
 * @return 0, or ENVUP_ESPEC (message as above), or ENVUP_ERROR (OOM)
 */
int envup_spec_load(envup_spec **out, const char *path,
	envup_getenv_fn getenv_fn, void *payload);

/**
 * The same from memory. `display_path` names the file in messages; relative
 * file references are resolved against `dir` (NULL: the working directory;
 * a relative dir is made absolute).
 */
int envup_spec_load_buffer(envup_spec **out, const char *display_path,
	const char *dir, const char *data, size_t len,
	envup_getenv_fn getenv_fn, void *payload);

/**
 * The same two with a selection (`sel` may be NULL): a Compose file (by
 * its content, or sel->compose) is read as compose.h says; named services
 * are kept with what they depend on.
 */
int envup_spec_load_sel(envup_spec **out, const char *path,
	envup_getenv_fn getenv_fn, void *payload, const envup_spec_select *sel);
int envup_spec_load_buffer_sel(envup_spec **out, const char *display_path,
	const char *dir, const char *data, size_t len,
	envup_getenv_fn getenv_fn, void *payload, const envup_spec_select *sel);


/** The resolved model as JSON or YAML (config.c); ports bound to bind_ip
 *  (NULL: 127.0.0.1) unless the file names an address. */
int envup_spec__config(char **out, const envup_spec *spec, bool yaml, const char *bind_ip);

/** envup_spec_read() with a selection; `path` NULL: the default one. */
int envup_spec__read_sel(envup_spec **out, const char *path, const envup_spec_select *sel);

/* envup_spec_free() is public: include/envup/spec.h */

/** The spec envup reads when no file is named. */
#define ENVUP_DEFAULT_SPEC "envup.yaml"

/** Index of the named service, or -1. */
int envup_spec_find(const envup_spec *spec, const char *service);

/**
 * Interpolate ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message},
 * ${VAR?message}, ${VAR:+alt}, ${VAR+alt} and $$ (a literal $) in `in`.
 * The ':' forms treat an empty variable like an unset one. An unset
 * ${VAR} is "". A '$' before anything but '{' or '$' stays as it is
 * ($VAR is not expanded). default/message/alt are interpolated themselves,
 * only when used, so ${A:-${B}} works; values from the environment are not.
 * At most 16 levels of nesting.
 * @param[out] out malloc'd result
 * @param[out] why on ENVUP_ESPEC, a malloc'd reason, without position:
 *                 "VAR: message", "VAR is required" (no message),
 *                 "unterminated ${ in '...'", "invalid variable name in '${...}'",
 *                 "invalid substitution '${...}'". May be NULL.
 * @return 0, ENVUP_ESPEC (the reason is also the thread's error) or ENVUP_ERROR
 */
int envup_interp(char **out, char **why, const char *in,
	envup_getenv_fn getenv_fn, void *payload);

/** The same with Compose's rules: $VAR (no braces) is expanded too. */
int envup_interp__compose(char **out, char **why, const char *in,
	envup_getenv_fn getenv_fn, void *payload);

/** True when s is a valid environment name: [a-z0-9][a-z0-9_.-]{0,62}. */
bool envup_name_valid(const char *s);

/** True when s is a valid environment variable name. */
bool envup_export_name_valid(const char *s);

/** Service name to a variable's stem: upper-case, '-' and '.' to '_' (malloc'd). */
char *envup_env_stem(const char *service);

/**
 * The environment's name: `override` (validated strictly), else the spec's
 * name:, else the basename of `dir` made valid (lower-cased, other
 * characters replaced by '-', leading non-alphanumerics dropped, at most
 * 54 characters; "envup" when nothing is left), then "-" and 8 hex digits
 * of a hash of the absolute path of `dir` (NULL: the current directory),
 * so two checkouts of the same name never share an environment.
 * @param[out] out malloc'd name
 * @return 0, ENVUP_ESPEC ("invalid environment name 'X': use lower-case
 *         letters, digits, '.', '_' and '-'") or ENVUP_ERROR
 */
int envup_name_resolve(char **out, const char *override, const char *spec_name,
	const char *dir);

#endif
