#!/usr/bin/env bash
# Stand-in for the official postgres image's docker-entrypoint.sh (envup tests).
# Written for envup; follows the documented interface of the official image:
#   POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust),
#   POSTGRES_USER (default postgres), POSTGRES_DB (default = user),
#   POSTGRES_INITDB_ARGS, POSTGRES_INITDB_WALDIR, POSTGRES_HOST_AUTH_METHOD,
#   the *_FILE variants, and /docker-entrypoint-initdb.d/* on first start.
set -Eeo pipefail   # no -u: init scripts may be sourced into this shell

log() { printf '%s\n' "$@"; }
fail() { printf '%s\n' "$@" >&2; exit 1; }

# VAR, or the contents of the file named by VAR_FILE, or a default.
load_env() {
    local name=$1 default=${2:-} file_var="${1}_FILE"
    local value=${!name:-} file=${!file_var:-}
    if [ -n "$value" ] && [ -n "$file" ]; then
        fail "error: both $name and $file_var are set (but are exclusive)"
    fi
    if [ -n "$file" ]; then
        value=$(<"$file")
    elif [ -z "$value" ]; then
        value=$default
    fi
    export "$name=$value"
    unset "$file_var"
}

is_initialized() { [ -s "$PGDATA/PG_VERSION" ]; }

# Directories the server needs, owned by postgres (we may be on a fresh tmpfs).
prepare_dirs() {
    mkdir -p "$PGDATA"
    chmod 00700 "$PGDATA" 2>/dev/null || :
    mkdir -p /var/run/postgresql
    chmod 03777 /var/run/postgresql 2>/dev/null || :
    if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
        mkdir -p "$POSTGRES_INITDB_WALDIR"
    fi
    if [ "$(id -u)" = 0 ]; then
        chown postgres:postgres "$PGDATA" /var/run/postgresql
        [ -z "${POSTGRES_INITDB_WALDIR:-}" ] || chown postgres:postgres "$POSTGRES_INITDB_WALDIR"
    fi
}

check_password_given() {
    if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
        fail "Error: Database is uninitialized and superuser password is not specified." \
             "       You must specify POSTGRES_PASSWORD to a non-empty value for the" \
             "       superuser. For example, \"-e POSTGRES_PASSWORD=password\" on \"docker run\"." \
             "" \
             "       You may also use \"POSTGRES_HOST_AUTH_METHOD=trust\" to allow all" \
             "       connections without a password. This is *not* recommended."
    fi
    if [ "$POSTGRES_HOST_AUTH_METHOD" = trust ]; then
        log "WARNING: POSTGRES_HOST_AUTH_METHOD=trust: every host connection is accepted without a password."
    fi
}

run_initdb() {
    local args=()
    eval "args=($POSTGRES_INITDB_ARGS)"   # documented as shell-split, like the official image
    [ -z "${POSTGRES_INITDB_WALDIR:-}" ] || args+=(--waldir "$POSTGRES_INITDB_WALDIR")
    if [ -n "$POSTGRES_PASSWORD" ]; then
        initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") "${args[@]}"
    else
        initdb --username="$POSTGRES_USER" "${args[@]}"
    fi
    # Connections from outside the container; local (socket) connections stay trust.
    printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
}

# psql as the superuser over the unix socket of the temporary server.
sql() { psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username "$POSTGRES_USER" "$@"; }

start_temp_server() {
    # Unix socket only: nothing can connect over TCP before init is complete.
    PGUSER=$POSTGRES_USER pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
}

stop_temp_server() {
    PGUSER=$POSTGRES_USER pg_ctl -D "$PGDATA" -m fast -w stop
}

create_database() {
    # psql variables (:'db', :"db") quote the name safely; they only work on stdin/-f.
    local exists
    exists=$(printf "SELECT 1 FROM pg_database WHERE datname = :'db';\n" |
             sql --dbname postgres -tA -v db="$POSTGRES_DB")
    if [ -z "$exists" ]; then
        printf 'CREATE DATABASE :"db";\n' | sql --dbname postgres -v db="$POSTGRES_DB"
    fi
}

run_init_files() {
    local f
    for f in /docker-entrypoint-initdb.d/*; do
        [ -e "$f" ] || continue
        case "$f" in
            *.sh)
                if [ -x "$f" ]; then
                    log "$0: running $f"; "$f"
                else
                    log "$0: sourcing $f"
                    # shellcheck disable=SC1090
                    . "$f"
                fi ;;
            *.sql)     log "$0: running $f"; sql --dbname "$POSTGRES_DB" -f "$f"; log ;;
            *.sql.gz)  log "$0: running $f"; gunzip -c "$f" | sql --dbname "$POSTGRES_DB"; log ;;
            *.sql.xz)  log "$0: running $f"; xz -dc "$f" | sql --dbname "$POSTGRES_DB"; log ;;
            *.sql.zst) log "$0: running $f"; zstd -dc "$f" | sql --dbname "$POSTGRES_DB"; log ;;
            *)         log "$0: ignoring $f" ;;
        esac
    done
}

main() {
    # "docker run image -c fsync=off" means "postgres -c fsync=off".
    if [ "${1:-}" != "" ] && [ "${1#-}" != "$1" ]; then
        set -- postgres "$@"
    fi
    if [ "${1:-}" != postgres ] || [ "${2:-}" = --help ] || [ "${2:-}" = -V ] || [ "${2:-}" = --version ] ||
       [ "${2:-}" = --describe-config ]; then
        exec "$@"
    fi

    load_env POSTGRES_PASSWORD
    load_env POSTGRES_USER postgres
    load_env POSTGRES_DB "$POSTGRES_USER"
    load_env POSTGRES_INITDB_ARGS
    : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
    export POSTGRES_HOST_AUTH_METHOD

    if [ "$(id -u)" = 0 ]; then
        prepare_dirs
        # Re-run this script as postgres (the server refuses to run as root).
        exec setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql \
            "${BASH_SOURCE[0]}" "$@"
    fi
    prepare_dirs

    if is_initialized; then
        log "" "PostgreSQL Database directory appears to contain a database; Skipping initialization" ""
    else
        check_password_given
        run_initdb
        export PGPASSWORD=$POSTGRES_PASSWORD
        start_temp_server
        create_database
        run_init_files
        stop_temp_server
        unset PGPASSWORD
        log "" "PostgreSQL init process complete; ready for start up." ""
    fi
    exec "$@"
}

main "$@"
