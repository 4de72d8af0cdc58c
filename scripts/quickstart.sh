#!/usr/bin/env bash
# A newcomer's first command on a fresh Debian 12 machine (as root):
# install the packages and the Docker engine, build envup, and bring the
# example stack (examples/stack/envup.yaml) up, printing its exports.
#
# It also builds the stand-in images the tests use (from Debian packages,
# served from a local registry: tests/images/build.sh); where Docker Hub
# cannot be reached, the example uses them too, through ENVUP_HUB_IMAGE_PREFIX.
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

# The tests always use the stand-in images (deterministic, offline): build
# them now, so that scripts/test.sh works next. The example uses them only
# when Docker Hub cannot be reached.
say "preparing the stand-in images for the tests (a few minutes the first time)"
prefix=$(tests/images/build.sh | tail -1)
if [ -z "${ENVUP_HUB_IMAGE_PREFIX:-}" ] &&
   ! curl -s -o /dev/null --max-time 5 https://registry-1.docker.io/v2/; then
	export "${prefix?}"
	say "Docker Hub cannot be reached: the example uses the stand-ins ($prefix)"
fi

# --keep: this script exits now, and the stack should outlive it (it still
# expires after the default ttl of 1 h)
build/envup up --keep -f examples/stack/envup.yaml
say "the example stack is up; take it down with: build/envdown -f examples/stack/envup.yaml"
