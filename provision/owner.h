/*
 * Who owns an environment: a process, identified so that PID reuse and
 * reboots cannot fool us. Written on every resource as the label
 * dev.envup.owner = "HOST/BOOT_ID/PID/START" where START is the process's
 * start time in clock ticks since boot (/proc/PID/stat field 22).
 */
#ifndef ENVUP_PROVISION_OWNER_H
#define ENVUP_PROVISION_OWNER_H

#include <sys/types.h>
#include "util/util.h"

#define ENVUP_LABEL_OWNER    "dev.envup.owner"    /* HOST/BOOT_ID/PID/START */
#define ENVUP_LABEL_EXPIRES  "dev.envup.expires"  /* unix seconds */
#define ENVUP_LABEL_INSTANCE "dev.envup.instance" /* random id of one `up` */

typedef struct {
	char host[256];
	char boot_id[64];
	long pid;
	unsigned long long start;
} envup_owner;

/** Describe running process `pid` (on this machine). ENVUP_ENOTFOUND if it is gone. */
int envup_owner_of(envup_owner *out, pid_t pid);

/** "HOST/BOOT_ID/PID/START" into out (size >= 400). */
void envup_owner_format(char *out, size_t len, const envup_owner *o);

/** Parse the label value; ENVUP_ERROR when malformed. */
int envup_owner_parse(envup_owner *out, const char *label);

typedef enum {
	ENVUP_OWNER_ALIVE = 0,
	ENVUP_OWNER_GONE,     /* this machine, and the process is gone (or rebooted since) */
	ENVUP_OWNER_UNKNOWN   /* another machine: only the expiry applies */
} envup_owner_state;

envup_owner_state envup_owner_check(const envup_owner *o);

#endif
