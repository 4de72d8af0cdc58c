#!/usr/bin/env bash
# Stand-in for the official redis image's docker-entrypoint.sh (envup tests).
# Written for envup; follows the documented interface of the official image:
#   - a first argument starting with "-" or ending in ".conf" means
#     "redis-server <args>";
#   - redis-server runs as the redis user (dropping root), data in /data;
#   - protected mode is off unless the user asks for it (the official image
#     compiles it off; Debian's redis-server has it on, so we pass
#     "--protected-mode no" ahead of the user's own options).
set -eo pipefail

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
    # Let redis own its working directory (a fresh volume or tmpfs is root's).
    find . \! -user redis -exec chown redis '{}' + 2>/dev/null || :
    exec setpriv --reuid=redis --regid=redis --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = redis-server ]; then
    shift
    conf=()
    if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then   # first argument is a config file
        conf=("$1")
        shift
    fi
    defaults=()
    if [ ${#conf[@]} -eq 0 ] || ! grep -qsE '^[[:space:]]*protected-mode[[:space:]]' "${conf[0]}"; then
        defaults=(--protected-mode no)
    fi
    set -- redis-server "${conf[@]}" "${defaults[@]}" "$@"

    # Same default umask hardening as the official image.
    [ "$(umask)" != 0022 ] || umask 0077

    # Redis < 7.2 ends its readiness line with "connections"; 7.2+ (the
    # official redis:7 images) print "Ready to accept connections tcp". Emit the
    # newer form so log-based readiness checks behave the same. redis-server
    # stays PID 1 (exec), only its stdout goes through sed.
    if "$1" --version | grep -qE 'v=7\.[01]\.|v=[0-6]\.'; then
        exec "$@" > >(exec sed -u 's/Ready to accept connections$/Ready to accept connections tcp/')
    fi
fi

exec "$@"
