#!/usr/bin/env bash
# mkrootfs.sh OUT.tar — build the Debian rootfs shared by all stand-in images.
#
# debootstrap --variant=minbase bookworm + packages.txt, system setup (users,
# directories, configs the stand-ins expect), slimmed down and tarred to OUT.tar.
# The stand-ins' own files (entrypoints, mockserver.py, nginx config) are not
# here: build.sh adds them per image, so editing them does not rebuild this.
# Called by build.sh, which caches OUT.tar by a hash of this script and
# packages.txt. Needs root, debootstrap and a reachable Debian mirror (taken
# from apt's sources, or ENVUP_DEBIAN_MIRROR).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:?usage: mkrootfs.sh OUT.tar}
SUITE=bookworm   # postgresql-15 / redis 7.0 / python 3.11 are this suite's versions

say() { printf 'mkrootfs: %s\n' "$*"; }
die() { printf 'mkrootfs: ERROR: %s\n' "$*" >&2; exit 1; }

# First mirror URI that apt uses for "$SUITE" (deb822 .sources or one-line .list).
apt_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v suite="$SUITE" '
            BEGIN { RS = ""; FS = "\n" }
            {
                uri = ""; ok = 0; enabled = 1
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^URIs:/)    { split(substr($i, 6), u, " "); for (k in u) if (u[k] != "") { uri = u[k]; break } }
                    if ($i ~ /^Suites:/)  { n = split(substr($i, 8), s, " "); for (k = 1; k <= n; k++) if (s[k] == suite) ok = 1 }
                    if ($i ~ /^Enabled: *no/) enabled = 0
                }
                if (ok && enabled && uri != "") { print uri; exit }
            }' "$f"
    done
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk -v suite="$SUITE" '$1 == "deb" { sub(/\[[^]]*\] */, ""); if ($3 == suite) print $2 }'
    return 0
}

MIRROR=${ENVUP_DEBIAN_MIRROR:-$(apt_mirror 2>/dev/null | sed -n 1p)}
[ -n "$MIRROR" ] || die "no Debian mirror for '$SUITE' in /etc/apt/sources*; set ENVUP_DEBIAN_MIRROR"
command -v debootstrap >/dev/null || die "debootstrap is not installed"
[ "$(id -u)" = 0 ] || die "must run as root"

PACKAGES=$(grep -v '^[[:space:]]*#' "$HERE/packages.txt" | xargs | tr ' ' ',')
WORK=$(mktemp -d "$(dirname "$OUT")/rootfs-build.XXXXXX")
ROOT=$WORK/root

# Nothing may stay mounted in the tree (the slimming below deletes under dev/ proc/ sys/).
unmount_all() {
    awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    ! awk -v w="$WORK/" 'index($2, w) == 1 { found = 1 } END { exit !found }' /proc/mounts
}
# debootstrap mounts /proc and /sys inside the target; never delete through a mount.
cleanup() {
    if unmount_all; then
        rm -rf --one-file-system "$WORK"
    else
        say "WARNING: mounts left under $WORK, not deleting it"
    fi
}
trap cleanup EXIT

say "debootstrap $SUITE from $MIRROR (+ $PACKAGES)"
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 40 "$WORK/debootstrap.log" >&2
    [ -f "$ROOT/debootstrap/debootstrap.log" ] && tail -n 40 "$ROOT/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
fi

unmount_all || die "cannot unmount everything under $WORK"

say "configuring"
in_root() { chroot "$ROOT" /bin/sh -ec "$1"; }

# PostgreSQL: no Debian-managed cluster; initdb's sample config listens on all
# addresses (the entrypoint's temporary server overrides it), as in the official image.
in_root '
    rm -rf /etc/postgresql/15 /var/lib/postgresql/15
    sed -ri "s!^#?(listen_addresses)[[:space:]]*=[[:space:]]*[^[:space:]]+.*!\1 = '"'*'"'!" \
        /usr/share/postgresql/15/postgresql.conf.sample
    grep -q "^listen_addresses = '"'*'"'" /usr/share/postgresql/15/postgresql.conf.sample
    mkdir -p /docker-entrypoint-initdb.d /var/lib/postgresql/data /run/postgresql
    chown postgres:postgres /var/lib/postgresql /var/lib/postgresql/data /run/postgresql
    chmod 1777 /var/lib/postgresql/data
    chmod 3777 /run/postgresql
'
# Redis: data in /data, no Debian config/daemon.
in_root '
    mkdir -p /data && chown redis:redis /data
'
# nginx: official layout (conf.d, /usr/share/nginx/html), runs workers as "nginx".
in_root '
    getent passwd nginx >/dev/null || useradd --system --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --user-group nginx
    rm -f /etc/nginx/sites-enabled/* /etc/nginx/modules-enabled/*
    mkdir -p /etc/nginx/conf.d /usr/share/nginx/html /var/cache/nginx
    ln -sf /dev/stdout /var/log/nginx/access.log
    ln -sf /dev/stderr /var/log/nginx/error.log
'
# MockServer: runs as distroless "nonroot" (65532) with /config for its files.
in_root '
    getent passwd nonroot >/dev/null || { groupadd --gid 65532 nonroot &&
        useradd --uid 65532 --gid 65532 --create-home --home-dir /home/nonroot --shell /usr/sbin/nologin nonroot; }
    mkdir -p /config
'

say "slimming"
# LLVM is only for PostgreSQL's optional JIT (jit silently turns off without it).
rm -f "$ROOT"/usr/lib/postgresql/15/lib/llvmjit*.so "$ROOT"/usr/lib/x86_64-linux-gnu/libLLVM-*.so* \
      "$ROOT"/usr/lib/x86_64-linux-gnu/libz3.so*   # z3: only used by LLVM
rm -rf "$ROOT"/usr/lib/postgresql/15/lib/bitcode
rm -rf "${ROOT:?}"/var/cache/apt/* "${ROOT:?}"/var/lib/apt/lists/* "${ROOT:?}"/var/cache/debconf/*-old \
       "${ROOT:?}"/usr/share/doc/* "${ROOT:?}"/usr/share/man/* "${ROOT:?}"/usr/share/info/* \
       "${ROOT:?}"/usr/share/locale/* "${ROOT:?}"/usr/share/i18n "${ROOT:?}"/usr/share/lintian \
       "${ROOT:?}"/var/log/*.log "${ROOT:?}"/var/log/apt/* "${ROOT:?}"/debootstrap \
       "${ROOT:?}"/dev/* "${ROOT:?}"/proc/* "${ROOT:?}"/sys/* "${ROOT:?}"/tmp/* "${ROOT:?}"/etc/machine-id
find "$ROOT" -name '__pycache__' -prune -exec rm -rf {} +

say "packing $(du -sh --one-file-system "$ROOT" | cut -f1) rootfs"
tar --numeric-owner -C "$ROOT" -cf "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
say "wrote $OUT"
