#!/bin/sh
# Integration tests against an envup environment: for any CI, or a laptop.
#
#   sh docs/ci/integration.sh
#
# `exports=$(envup up)` under `set -e` stops the script when up fails
# (eval "$(envup up)" would not: eval of an empty string succeeds, and the
# tests would run with unset variables). The trap takes the environment
# down however the script ends.
set -eu
envup gc
exports=$(envup up)
eval "$exports"
trap 'envdown' EXIT
cargo test --test integration
