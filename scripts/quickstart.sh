#!/usr/bin/env bash
# A newcomer's first command on a fresh Debian 12 machine (as root):
# install the packages and the Docker engine, build envup, and bring the
# example stack (examples/stack/envup.yaml) up, printing its exports.
#
# Where Docker Hub cannot be reached, the stand-in images are built from
# Debian packages and served from a local registry (tests/images/build.sh),
# and envup is pointed at them with ENVUP_HUB_IMAGE_PREFIX.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'quickstart: %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { say "run as root (it installs packages and starts dockerd)"; exit 1; }

say "installing packages (.ci/packages.txt)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2046
apt-get install -y -q --no-install-recommends $(grep -v '^#' .ci/packages.txt) >&2

say "starting the Docker engine if none answers"
scripts/setup-engine.sh >&2

say "building envup"
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" >&2

if [ -z "${ENVUP_HUB_IMAGE_PREFIX:-}" ] &&
   ! curl -s -o /dev/null --max-time 5 https://registry-1.docker.io/v2/; then
	say "Docker Hub cannot be reached: building the stand-in images (a few minutes the first time)"
	prefix=$(tests/images/build.sh | tail -1)
	export "${prefix?}"
	say "using $prefix"
fi

# --keep: this script exits now, and the stack should outlive it (it still
# expires after the default ttl of 1 h)
build/envup up --keep -f examples/stack/envup.yaml
say "the example stack is up; take it down with: build/envdown -f examples/stack/envup.yaml"
