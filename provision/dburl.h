/*
 * The URLs of databases per test (dburl.c): which service a URL names
 * (its scheme and port), its database (the path), and a service's URL
 * with another database. URLs come from users: any text is safe here.
 */
#ifndef ENVUP_PROVISION_DBURL_H
#define ENVUP_PROVISION_DBURL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
	size_t path_start;   /* index of the '/' of the path, or where it would go */
	size_t path_end;     /* index of '?', '#' or the end */
	int port;            /* -1 when none is written (or not 1..65535) */
	bool postgres;       /* postgres:// or postgresql:// */
	bool redis;          /* redis:// */
} envup_dburl;

/** Split `url`; -1 when it has no "://". */
int envup_dburl_split(envup_dburl *u, const char *url);

/** `url` with the path "/path", its query kept (malloc'd; NULL: OOM or no "://"). */
char *envup_dburl_with_path(const char *url, const char *path);

/** The path without its '/', percent-decoded (malloc'd); NULL when it
 *  decodes to a NUL byte (or on OOM). */
char *envup_dburl_path(const char *url, const envup_dburl *u);

#endif
