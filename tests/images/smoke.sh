#!/usr/bin/env bash
# smoke.sh — check the stand-in images the way envup uses them: pulled from the
# local registry through ENVUP_HUB_IMAGE_PREFIX, ports published on 127.0.0.1,
# tmpfs data dirs, files copied in before start. Prints each image's pull time
# and start-to-ready time, then "N passed, N failed".
#
# Needs: a running engine, tests/images/build.sh run before (or
# ENVUP_HUB_IMAGE_PREFIX set), and on the host: curl, psql, redis-cli, python3.
# Containers are removed on exit (even on failure); images that were not in
# the engine before are removed again so later tests still exercise pulls.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${ENVUP_HUB_IMAGE_PREFIX:-}" ] && [ -f "$HERE/.env" ]; then
    # shellcheck disable=SC1091
    . "$HERE/.env"
fi
PREFIX=${ENVUP_HUB_IMAGE_PREFIX:?run tests/images/build.sh first (or set ENVUP_HUB_IMAGE_PREFIX)}
NAME=envup-smoke-$$
PASSED=0 FAILED=0
CONTAINERS=() PULLED=() REPORT=()
TMP=$(mktemp -d)

cleanup() {
    [ "${#CONTAINERS[@]}" -eq 0 ] || docker rm -f -v "${CONTAINERS[@]}" >/dev/null 2>&1 || true
    [ "${#PULLED[@]}" -eq 0 ] || docker rmi "${PULLED[@]}" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

for tool in docker curl psql redis-cli python3; do
    command -v "$tool" >/dev/null || { echo "smoke: missing tool: $tool" >&2; exit 1; }
done

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
check() {  # check NAME COMMAND...
    local name=$1; shift
    if "$@"; then PASSED=$((PASSED + 1)); echo "ok   $name"
    else FAILED=$((FAILED + 1)); echo "FAIL $name"; fi
}

# pull IMAGE: pull through the prefix (timed), remember to remove it afterwards.
pull() {
    local ref=$PREFIX$1 t
    if ! docker image inspect "$ref" >/dev/null 2>&1; then PULLED+=("$ref"); fi
    t=$(now)
    docker pull -q "$ref" >/dev/null
    REPORT+=("$(printf '%-30s pull %5ss' "$1" "$(elapsed "$t")")")
}

# poll TIMEOUT COMMAND...: retry COMMAND every 50 ms for up to TIMEOUT seconds.
poll() {
    local deadline
    deadline=$(awk -v s="$(now)" -v t="$1" 'BEGIN { printf "%.3f", s + t }')
    shift
    until "$@" >/dev/null 2>&1; do
        awk -v d="$deadline" -v n="$(now)" 'BEGIN { exit !(n > d) }' && return 1
        sleep 0.05
    done
}
# wait_ready TIMEOUT COMMAND...: poll, and report the time since $START (container start).
START=0
wait_ready() {
    if poll "$@"; then
        REPORT[-1]+="$(printf '   start->ready %5ss' "$(elapsed "$START")")"
    else
        REPORT[-1]+="   ready: TIMEOUT"; return 1
    fi
}

port_of() { docker port "$1" "$2" | head -n 1 | sed 's/.*://'; }
logs_of() { docker logs "$1" 2>&1; }
count_in_logs() { logs_of "$1" | grep -c -- "$2" || true; }
exit_code() { docker wait "$1"; }

# --- postgres ----------------------------------------------------------------------
smoke_postgres() {
    local tag=$1 c=$NAME-pg-${1//[:.]/-}
    pull "$tag"
    cat >"$TMP/01-init.sql" <<'SQL'
CREATE TABLE smoke (id int PRIMARY KEY, note text);
INSERT INTO smoke VALUES (1, 'from init script');
SQL
    CONTAINERS+=("$c")
    docker create --name "$c" -e POSTGRES_USER=test -e POSTGRES_PASSWORD=pw -e POSTGRES_DB=testdb \
        --tmpfs /var/lib/postgresql/data -p 127.0.0.1::5432 "$PREFIX$tag" >/dev/null
    docker cp "$TMP/01-init.sql" "$c:/docker-entrypoint-initdb.d/01-init.sql"
    START=$(now)
    docker start "$c" >/dev/null
    local url
    url="postgres://test:pw@127.0.0.1:$(port_of "$c" 5432)/testdb?sslmode=disable"
    check "$tag: psql select 1 over published port" wait_ready 60 psql "$url" -tAc 'select 1'
    check "$tag: init script ran in POSTGRES_DB" \
        test "$(psql "$url" -tAc 'select note from smoke where id = 1')" = "from init script"
    check "$tag: wrong password rejected" \
        bash -c "! psql 'postgres://test:wrong@127.0.0.1:$(port_of "$c" 5432)/testdb?sslmode=disable' -c 'select 1' 2>/dev/null"
    check "$tag: 'ready to accept connections' logged twice" \
        test "$(count_in_logs "$c" 'database system is ready to accept connections')" = 2
    check "$tag: 'init process complete' logged" \
        test "$(count_in_logs "$c" 'PostgreSQL init process complete; ready for start up.')" = 1
    check "$tag: stops on SIGINT (docker stop) with exit 0" \
        bash -c "docker stop -t 20 '$c' >/dev/null && test \"\$(docker inspect -f '{{.State.ExitCode}}' '$c')\" = 0"
}

smoke_postgres_errors() {
    local ref=${PREFIX}postgres:16-alpine c=$NAME-pg-nopw
    CONTAINERS+=("$c")
    docker run -d --name "$c" --tmpfs /var/lib/postgresql/data "$ref" >/dev/null
    check "postgres: no POSTGRES_PASSWORD -> exit 1 with the official message" \
        bash -c "test \"\$(docker wait '$c')\" = 1 &&
                 docker logs '$c' 2>&1 | grep -q 'Error: Database is uninitialized and superuser password is not specified.'"
    c=$NAME-pg-badinit
    CONTAINERS+=("$c")
    printf 'SELECT * FROM no_such_table;\n' >"$TMP/bad.sql"
    docker create --name "$c" -e POSTGRES_PASSWORD=pw --tmpfs /var/lib/postgresql/data "$ref" >/dev/null
    docker cp "$TMP/bad.sql" "$c:/docker-entrypoint-initdb.d/bad.sql"
    docker start "$c" >/dev/null
    check "postgres: failing init script -> non-zero exit" bash -c "test \"\$(docker wait '$c')\" != 0"
    c=$NAME-pg-trust
    CONTAINERS+=("$c")
    docker run -d --name "$c" -e POSTGRES_HOST_AUTH_METHOD=trust --tmpfs /var/lib/postgresql/data \
        -p 127.0.0.1::5432 "$ref" -c fsync=off >/dev/null
    local url
    url="postgres://postgres@127.0.0.1:$(port_of "$c" 5432)/postgres?sslmode=disable"
    check "postgres: trust auth + '-c' args prepended with postgres" \
        bash -c "$(declare -f poll now); poll 60 psql '$url' -tAc 'select 1' &&
                 test \"\$(psql '$url' -tAc 'show fsync')\" = off"
}

# --- redis -------------------------------------------------------------------------
smoke_redis() {
    local tag=redis:7-alpine c=$NAME-redis
    pull "$tag"
    CONTAINERS+=("$c")
    docker create --name "$c" --tmpfs /data -p 127.0.0.1::6379 "$PREFIX$tag" \
        redis-server --requirepass pw --save "" --appendonly no >/dev/null
    START=$(now)
    docker start "$c" >/dev/null
    local port
    port=$(port_of "$c" 6379)
    check "$tag: redis-cli -a pw ping" wait_ready 30 \
        bash -c "test \"\$(redis-cli --no-auth-warning -h 127.0.0.1 -p $port -a pw ping)\" = PONG"
    check "$tag: no password -> NOAUTH" \
        bash -c "redis-cli -h 127.0.0.1 -p $port ping 2>&1 | grep -q NOAUTH"
    check "$tag: 'Ready to accept connections tcp' logged" \
        test "$(count_in_logs "$c" 'Ready to accept connections tcp')" = 1
    check "$tag: runs as redis" \
        test "$(docker exec "$c" sh -c 'stat -c %U /proc/1')" = redis
    c=$NAME-redis-open
    CONTAINERS+=("$c")
    docker run -d --name "$c" -p 127.0.0.1::6379 "$PREFIX$tag" --loglevel warning >/dev/null
    port=$(port_of "$c" 6379)
    check "$tag: no password, protected mode off, '-' args prepended" \
        poll 30 bash -c "test \"\$(redis-cli -h 127.0.0.1 -p $port ping)\" = PONG"
}

# --- mockserver --------------------------------------------------------------------
smoke_mockserver() {
    local tag=mockserver/mockserver:5.15.0 c=$NAME-mockserver
    pull "$tag"
    CONTAINERS+=("$c")
    printf '[{"httpRequest":{"path":"/from-file"},"httpResponse":{"body":"init ok"}}]\n' >"$TMP/init.json"
    mkdir -p "$TMP/cfg/config" && cp "$TMP/init.json" "$TMP/cfg/config/expectations.json"
    chmod 0755 "$TMP/cfg/config" && chmod 0644 "$TMP/cfg/config/expectations.json"
    docker create --name "$c" -p 127.0.0.1::1080 \
        -e MOCKSERVER_INITIALIZATION_JSON_PATH=/config/expectations.json "$PREFIX$tag" >/dev/null
    tar -C "$TMP/cfg" -cf - config | docker cp - "$c:/"
    START=$(now)
    docker start "$c" >/dev/null
    local base
    base=http://127.0.0.1:$(port_of "$c" 1080)
    check "$tag: PUT /mockserver/status" wait_ready 60 curl -fsS -X PUT "$base/mockserver/status"
    check "$tag: 'started on port: 1080' logged" \
        bash -c "docker logs '$c' 2>&1 | grep -qE '^[0-9-]+ [0-9:]+ 5\.15\.0 INFO 1080 started on port: 1080$'"
    check "$tag: initialization json loaded" test "$(curl -fsS "$base/from-file")" = "init ok"
    check "$tag: selftest.py against the container" \
        bash -c "python3 '$HERE/mockserver/selftest.py' '$base' >'$TMP/selftest.out' 2>&1 || { cat '$TMP/selftest.out'; exit 1; }"
}

# --- nginx -------------------------------------------------------------------------
smoke_nginx() {
    local tag=nginx:1.27-alpine c=$NAME-nginx
    pull "$tag"
    CONTAINERS+=("$c")
    docker create --name "$c" -p 127.0.0.1::80 "$PREFIX$tag" >/dev/null
    START=$(now)
    docker start "$c" >/dev/null
    local url
    url=http://127.0.0.1:$(port_of "$c" 80)/
    check "$tag: GET / 200" wait_ready 30 curl -fsS "$url"
    check "$tag: default page" bash -c "curl -fsS '$url' | grep -q 'Welcome to nginx!'"
    check "$tag: access log on stdout" bash -c "docker logs '$c' 2>/dev/null | grep -q 'GET / HTTP/1.1\" 200'"
}

smoke_postgres postgres:16-alpine
smoke_postgres postgres:15-alpine
smoke_postgres_errors
smoke_redis
smoke_mockserver
smoke_nginx

echo
echo "timings (pull from the registry; container start -> first successful client call):"
printf '  %s\n' "${REPORT[@]}"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
