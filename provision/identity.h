/*
 * Identity: the labels envup writes on every container, network and
 * volume it creates, and what may be concluded from labels read back.
 *
 * Labels are untrusted input. Anyone who can create a container on the
 * engine can write dev.envup.env=../../x or put terminal escapes in a
 * label. So every label read back passes envup_identity_read() first: a
 * name that is not a valid environment name, an instance that is not 16
 * hex digits, an owner or an expiry that does not parse, is treated as
 * absent. Nothing read from the engine is used as a path, printed, or
 * trusted as proof of anything before that.
 *
 * The labels of one `up` (an instance):
 *   dev.envup.managed     "true": down, gc and --all touch nothing without it
 *   dev.envup.env         the environment's name
 *   dev.envup.service     the service (containers, volumes)
 *   dev.envup.version     envup's version
 *   dev.envup.instance    16 hex digits, random per `up`
 *   dev.envup.owner       HOST/BOOT_ID/PID/START of the owner (none with --keep)
 *   dev.envup.owner-kind  process | session | job
 *   dev.envup.owner-comm  the owner's command name, for messages
 *   dev.envup.expires     unix seconds
 */
#ifndef ENVUP_PROVISION_IDENTITY_H
#define ENVUP_PROVISION_IDENTITY_H

#include <stdbool.h>
#include "util/util.h"
#include "provision/owner.h"

#define ENVUP_LABEL_MANAGED    "dev.envup.managed"
#define ENVUP_LABEL_ENV        "dev.envup.env"
#define ENVUP_LABEL_SERVICE    "dev.envup.service"
#define ENVUP_LABEL_VERSION    "dev.envup.version"
#define ENVUP_LABEL_INSTANCE   "dev.envup.instance"
#define ENVUP_LABEL_OWNER      "dev.envup.owner"
#define ENVUP_LABEL_OWNER_KIND "dev.envup.owner-kind"
#define ENVUP_LABEL_OWNER_COMM "dev.envup.owner-comm"
#define ENVUP_LABEL_EXPIRES    "dev.envup.expires"

#define ENVUP_INSTANCE_LEN 16

typedef struct {
	char env[64];          /* valid environment name, or "" */
	char instance[ENVUP_INSTANCE_LEN + 1]; /* 16 lower-case hex digits, or "" */
	char service[64];      /* valid service name, or "" */
	bool has_owner;        /* owner parsed */
	envup_owner owner;
	envup_owner_kind owner_kind;
	char owner_comm[32];   /* printable */
	long long expires;     /* unix seconds; 0 when absent or malformed */
	/* the owner and expiry labels exactly as written (capped), so that
	 * resources disagreeing about them are never taken as one group */
	char owner_raw[400];
	char expires_raw[24];
} envup_identity;

/** Read and validate the labels of one resource. Never fails. */
void envup_identity_read(envup_identity *out, const envup_kvlist *labels);

/** True when a and b carry the same env, instance, owner and expiry labels. */
bool envup_identity_same_group(const envup_identity *a, const envup_identity *b);

/** The labels to write on a resource of `id` (service "" for none). */
int envup_identity_labels(envup_kvlist *out, const envup_identity *id);

/**
 * The label filter of environment `name`: managed=true, env=NAME and, when
 * `instance` is not NULL, instance=INSTANCE (one `up`).
 */
int envup_identity_filter(envup_strlist *out, const char *name, const char *instance);

/** True for 16 lower-case hex digits. */
bool envup_instance_valid(const char *s);

/** "session 4711 (bash)" for an identity with an owner; "" without. */
void envup_identity_owner_text(char *out, size_t len, const envup_identity *id);

#endif
