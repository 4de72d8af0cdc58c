/*
 * ssh:// engines, as the docker CLI reaches them: every connection to the
 * engine is `ssh [-l USER] [-p PORT] HOST docker system dial-stdio`, the
 * ssh process's stdin and stdout being the connection. libcurl speaks to a
 * private unix socket (a 0700 directory of its own); a thread accepts on it
 * and starts one ssh per connection, without a shell, with BatchMode so
 * that nothing prompts. ssh's stderr is kept (the last line says why a
 * login failed).
 *
 * Threads: the relay belongs to one engine; start and stop are not
 * concurrent with each other. Ownership: stop frees it and removes its
 * directory; children still running are ended.
 */
#ifndef ENVUP_PROVISION_SSH_RELAY_H
#define ENVUP_PROVISION_SSH_RELAY_H

#include <stddef.h>

typedef struct envup_ssh_relay envup_ssh_relay;

/**
 * Start the relay for `address` (ssh://[USER@]HOST[:PORT]).
 * @param[out] socket_path the unix socket to connect to (borrowed from the relay)
 * @param[out] host HOST, malloc'd (where published ports are reached)
 * @return 0; ENVUP_EDOCKER for a bad address or when the relay cannot start
 */
int envup_ssh_relay_start(envup_ssh_relay **out, const char *address, const char **socket_path,
	char **host);

/** The last line the newest ssh wrote on stderr, or "", copied into out. */
void envup_ssh_relay_last_error(envup_ssh_relay *r, char *out, size_t size);

/** Stop the relay. Accepts NULL. */
void envup_ssh_relay_stop(envup_ssh_relay *r);

#endif
