#!/usr/bin/env bash
# setup-engine.sh — make sure a Docker Engine is installed and answering on
# /var/run/docker.sock. Idempotent: does nothing when the engine already answers.
#
# Installs (apt-get, only when missing): docker.io (dockerd, containerd, runc,
# iptables). Starts dockerd in the background (nohup, log in
# /var/log/envup-dockerd.log) when nothing answers, then waits up to
# ENVUP_ENGINE_WAIT seconds (default 60).
#
# Must run as root (it installs packages and starts the daemon). Safe to run
# from CI (no prompts) and by hand.
set -euo pipefail

SOCK=/var/run/docker.sock
LOG=/var/log/envup-dockerd.log
WAIT=${ENVUP_ENGINE_WAIT:-60}

say() { printf 'setup-engine: %s\n' "$*"; }
die() { printf 'setup-engine: ERROR: %s\n' "$*" >&2; exit 1; }

engine_answers() {
    # _ping is the cheapest call; it works without any client/daemon API
    # version agreement.
    [ -S "$SOCK" ] || return 1
    [ "$(curl -fsS --max-time 3 --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null)" = OK ]
}

apt_install() {
    # Wait for a concurrent apt/dpkg run (e.g. a provisioning step) to finish.
    local i
    for i in $(seq 1 300); do
        pgrep -x apt-get >/dev/null 2>&1 || pgrep -x dpkg >/dev/null 2>&1 || break
        [ "$i" = 1 ] && say "waiting for another apt-get/dpkg to finish"
        sleep 2
    done
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -print -quit 2>/dev/null)" ]; then
        apt-get update -q
    fi
    apt-get install -y -q --no-install-recommends "$@" || {
        apt-get update -q && apt-get install -y -q --no-install-recommends "$@"
    }
}

[ "$(id -u)" = 0 ] || die "must run as root (installs packages, starts dockerd)"

if engine_answers; then
    say "engine already answering on $SOCK"
    exit 0
fi

# --- packages ---------------------------------------------------------------
missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v containerd >/dev/null 2>&1 || missing+=(containerd)
command -v runc >/dev/null 2>&1 || missing+=(runc)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing: ${missing[*]}"
    apt_install "${missing[@]}"
fi
# The docker CLI: docker.io ships /usr/bin/docker; a newer one may be in
# /usr/local/bin. Either works against this engine (API version negotiation).
command -v docker >/dev/null 2>&1 || die "no docker CLI after installing docker.io"

# --- start dockerd -------------------------------------------------------------
if engine_answers; then   # e.g. the package's postinst started it
    say "engine answering on $SOCK"
    exit 0
fi

if pgrep -x dockerd >/dev/null 2>&1; then
    say "dockerd is running but not answering yet; waiting"
else
    # A stale socket or pid file from a killed daemon makes dockerd refuse to start.
    if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        rm -f /var/run/docker.pid
    fi
    [ -S "$SOCK" ] && rm -f "$SOCK"
    say "starting dockerd (log: $LOG)"
    # setsid + nohup: the daemon must outlive this script and its session.
    setsid nohup dockerd --host "unix://$SOCK" >>"$LOG" 2>&1 </dev/null &
fi

for _ in $(seq 1 "$WAIT"); do
    if engine_answers; then
        say "engine ready: $(docker version --format 'server {{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || echo ok)"
        exit 0
    fi
    if ! pgrep -x dockerd >/dev/null 2>&1; then
        tail -n 30 "$LOG" >&2 || true
        die "dockerd exited during startup (see $LOG)"
    fi
    sleep 1
done
tail -n 30 "$LOG" >&2 || true
die "dockerd did not answer on $SOCK within ${WAIT}s (see $LOG)"
