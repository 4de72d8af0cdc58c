#!/usr/bin/env bash
# build.sh — build the offline stand-in images for envup's integration tests and
# serve them from a local registry on 127.0.0.1:${ENVUP_TEST_REGISTRY_PORT:-5858}.
#
#   postgres:16-alpine, postgres:15-alpine   PostgreSQL 15 (Debian) + postgres/docker-entrypoint.sh
#   redis:7-alpine                           Redis 7.0 (Debian)     + redis/docker-entrypoint.sh
#   mockserver/mockserver:5.15.0             mockserver/mockserver.py (Python stand-in)
#   nginx:1.27-alpine                        nginx 1.22 (Debian)    + nginx/*.conf
#   envup-test/healthy:1                     the nginx stand-in with a HEALTHCHECK
#
# All five share one Debian rootfs (mkrootfs.sh), imported once; each variant is
# a small commit on top, so pushes and pulls move the big layer only once.
# After pushing, the prefixed tags are removed from the engine so tests go
# through the real pull path.
#
# Idempotent and cached: skips everything when the registry already holds all
# tags built from the current inputs (label envup.test.hash); the rootfs tarball
# is cached in /var/cache/envup/images by a hash of its own inputs.
#
# Progress goes to stderr; stdout gets exactly one line,
#   ENVUP_HUB_IMAGE_PREFIX=127.0.0.1:PORT/
# which is also written to tests/images/.env.
# Needs root (debootstrap, starting the registry) and a running engine
# (scripts/setup-engine.sh is run when the engine does not answer).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PORT=${ENVUP_TEST_REGISTRY_PORT:-5858}
REG=127.0.0.1:$PORT
CACHE=${ENVUP_TEST_CACHE:-/var/cache/envup}
REGISTRY_LOG=/var/log/envup-registry.log
IMAGES=(postgres:16-alpine postgres:15-alpine redis:7-alpine mockserver/mockserver:5.15.0 nginx:1.27-alpine
        envup-test/healthy:1)
T0=$(date +%s)

say() { printf '[images +%ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }

hash_files() { (cd "$HERE" && sha256sum "$@") | sha256sum | cut -c1-16; }

# --- prerequisites -----------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, registry, engine)"
missing=()
command -v curl >/dev/null || missing+=(curl)
command -v debootstrap >/dev/null || missing+=(debootstrap)
[ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
        { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; } ||
        die "cannot install ${missing[*]}"
fi
if ! curl -fsS --max-time 3 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; then
    [ -x "$REPO/scripts/setup-engine.sh" ] || die "Docker Engine not answering on /var/run/docker.sock"
    "$REPO/scripts/setup-engine.sh" >&2
fi

mkdir -p "$CACHE/images" "$CACHE/registry"
exec 9>"$CACHE/images/.lock"
flock -w 900 9 || die "another build.sh holds $CACHE/images/.lock"

# --- local registry ------------------------------------------------------------------
registry_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$REG/v2/")" = 200 ]; }
if registry_up; then
    say "registry answering on $REG"
else
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        die "127.0.0.1:$PORT is taken by something that is not a registry; set ENVUP_TEST_REGISTRY_PORT"
    fi
    say "starting docker-registry on $REG (log: $REGISTRY_LOG)"
    REGISTRY_HTTP_ADDR=$REG REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=$CACHE/registry \
        setsid nohup /usr/bin/docker-registry serve "$HERE/registry.yml" >>"$REGISTRY_LOG" 2>&1 </dev/null 9>&- &
    for _ in $(seq 1 50); do registry_up && break; sleep 0.2; done
    registry_up || { tail -n 20 "$REGISTRY_LOG" >&2; die "registry did not come up on $REG"; }
fi

# --- input hashes --------------------------------------------------------------------
ROOTFS_HASH=$(hash_files mkrootfs.sh packages.txt)
HASH=$( { echo "$ROOTFS_HASH"; hash_files build.sh postgres/docker-entrypoint.sh redis/docker-entrypoint.sh \
          mockserver/mockserver.py nginx/nginx.conf nginx/default.conf nginx/index.html; } |
        sha256sum | cut -c1-16)

# True when the registry serves REF (name:tag) and its config carries our hash.
registry_current() {
    local name=${1%:*} tag=${1##*:} manifest digest
    manifest=$(curl -fsS --max-time 10 -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$REG/v2/$name/manifests/$tag" 2>/dev/null) || return 1
    digest=$(printf '%s' "$manifest" | tr -d ' \n' | grep -o '"config":{[^}]*}' |
             grep -o 'sha256:[0-9a-f]\{64\}') || return 1
    curl -fsS --max-time 10 "http://$REG/v2/$name/blobs/$digest" 2>/dev/null |
        grep -q "\"envup.test.hash\":\"$HASH\""
}

# Local images built from other inputs (pulled earlier by tests) would shadow the
# registry, since envup pulls only missing images: remove them, unless a
# container still uses them.
drop_stale_local() {
    local id h
    for id in $(docker images -a -q --no-trunc --filter label=envup.test.hash | sort -u); do
        h=$(docker image inspect -f '{{index .Config.Labels "envup.test.hash"}}' "$id" 2>/dev/null) || continue
        [ "$h" != "$HASH" ] || continue
        if [ -n "$(docker ps -a -q --filter "ancestor=$id")" ]; then
            say "WARNING: keeping stale image $id (used by a container)"
        else
            docker rmi -f "$id" >/dev/null 2>&1 || true
        fi
    done
}

finish() {
    drop_stale_local
    # Base images of interrupted runs (a finished run removes its own).
    docker images -q envup-test/base | sort -u | xargs -r docker rmi -f >/dev/null 2>&1 || true
    echo "ENVUP_HUB_IMAGE_PREFIX=$REG/" >"$HERE/.env"
    say "done in $(($(date +%s) - T0))s"
    echo "ENVUP_HUB_IMAGE_PREFIX=$REG/"
    exit 0
}

all_current=1
for img in "${IMAGES[@]}"; do
    registry_current "$img" || { all_current=0; break; }
done
if [ "$all_current" = 1 ]; then
    say "registry already has all images for inputs $HASH"
    finish
fi

# --- rootfs -----------------------------------------------------------------------------
ROOTFS_TAR=$CACHE/images/rootfs-$ROOTFS_HASH.tar
if [ -s "$ROOTFS_TAR" ]; then
    say "using cached rootfs $ROOTFS_TAR"
else
    say "building rootfs (debootstrap, 1-2 minutes)"
    rm -f "$CACHE"/images/rootfs-*.tar   # older inputs
    "$HERE/mkrootfs.sh" "$ROOTFS_TAR" >&2
fi

# --- images -----------------------------------------------------------------------------
BASE=envup-test/base:$HASH
# On failure below, remove what we created.
CIDS=()
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup_failed_build() {
    [ "${#CIDS[@]}" -eq 0 ] || docker rm -f "${CIDS[@]}" >/dev/null 2>&1 || true
    docker rmi -f "$BASE" >/dev/null 2>&1 || true
}
# shellcheck disable=SC2317
on_exit() { local rc=$?; [ "$rc" -eq 0 ] || cleanup_failed_build; }
trap on_exit EXIT
say "importing rootfs as $BASE"
docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL envup.test.hash=$HASH" \
    --change 'CMD ["/bin/bash"]' \
    "$ROOTFS_TAR" "$BASE" >/dev/null

# derive REF STOPSIGNAL "SRC:DEST ..." CHANGE...
#   Commits a never-started container of the base with the files SRC (relative
#   to this folder, mode kept) copied to DEST, and the image config CHANGEs.
#   Each variant adds one small layer to the shared base. STOPSIGNAL "-": default.
derive() {
    local ref=$1 signal=$2 files=$3 cid stage spec changes=() create=(docker create) c
    shift 3
    for c in "$@" "LABEL envup.test.standin=$ref"; do changes+=(--change "$c"); done
    [ "$signal" = - ] || create+=(--stop-signal "$signal")
    cid=$("${create[@]}" "$BASE")
    CIDS+=("$cid")
    stage=$(mktemp -d)
    for spec in $files; do
        install -D -m "$(stat -c %a "$HERE/${spec%%:*}")" "$HERE/${spec%%:*}" "$stage${spec#*:}"
    done
    find "$stage" -type d -exec chmod 0755 {} +
    (cd "$stage" && tar --owner=0 --group=0 --numeric-owner -cf - -- *) | docker cp - "$cid:/"
    rm -rf "$stage"
    docker commit "${changes[@]}" "$cid" "$REG/$ref" >/dev/null
    docker rm "$cid" >/dev/null
}

PG_PATH='PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
for ref in postgres:16-alpine postgres:15-alpine; do
    say "creating $REG/$ref"
    derive "$ref" SIGINT "postgres/docker-entrypoint.sh:/usr/local/bin/docker-entrypoint.sh" \
        "ENV $PG_PATH" 'ENV PG_MAJOR=15' 'ENV PGDATA=/var/lib/postgresql/data' \
        'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["postgres"]' 'EXPOSE 5432' \
        'VOLUME /var/lib/postgresql/data' 'WORKDIR /'
done
say "creating $REG/redis:7-alpine"
derive redis:7-alpine - "redis/docker-entrypoint.sh:/usr/local/bin/docker-entrypoint.sh" \
    'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["redis-server"]' 'EXPOSE 6379' \
    'VOLUME /data' 'WORKDIR /data'
say "creating $REG/mockserver/mockserver:5.15.0"
derive mockserver/mockserver:5.15.0 - "mockserver/mockserver.py:/usr/local/bin/mockserver" \
    'ENV SERVER_PORT=1080' 'ENTRYPOINT ["/usr/local/bin/mockserver"]' 'CMD []' 'EXPOSE 1080' \
    'USER 65532' 'WORKDIR /home/nonroot'
say "creating $REG/nginx:1.27-alpine"
derive nginx:1.27-alpine SIGQUIT "nginx/nginx.conf:/etc/nginx/nginx.conf
    nginx/default.conf:/etc/nginx/conf.d/default.conf nginx/index.html:/usr/share/nginx/html/index.html" \
    'CMD ["nginx", "-g", "daemon off;"]' 'EXPOSE 80' 'WORKDIR /'
# An image with a HEALTHCHECK, for `wait: {healthcheck: true}`: healthy one
# second after it starts. `docker commit --change` cannot set HEALTHCHECK,
# so a one-line legacy build on the nginx stand-in (offline: FROM is local).
say "creating $REG/envup-test/healthy:1"
printf '%s\n' "FROM $REG/nginx:1.27-alpine" \
    'HEALTHCHECK --interval=1s --timeout=2s --retries=60 CMD ["test", "-f", "/tmp/healthy"]' \
    'CMD ["sh", "-c", "sleep 1; touch /tmp/healthy; exec sleep 100000"]' \
    'LABEL envup.test.standin=envup-test/healthy:1' |
    DOCKER_BUILDKIT=0 docker build -q -t "$REG/envup-test/healthy:1" - >/dev/null 2>&1 ||
    die "docker build of $REG/envup-test/healthy:1 failed"

for img in "${IMAGES[@]}"; do
    say "pushing $REG/$img"
    docker push -q "$REG/$img" >/dev/null || die "push of $REG/$img failed (see $REGISTRY_LOG)"
done
for img in "${IMAGES[@]}"; do
    registry_current "$img" || die "registry does not serve $REG/$img with hash $HASH after push"
done

say "removing local tags (tests pull from the registry)"
for img in "${IMAGES[@]}"; do
    # A test may already have pulled and started it (the registry serves it now).
    docker rmi "$REG/$img" >/dev/null 2>&1 || say "WARNING: $REG/$img is in use, left in the engine"
done
docker rmi "$BASE" >/dev/null 2>&1 || true
finish
