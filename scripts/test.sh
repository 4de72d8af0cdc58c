#!/usr/bin/env bash
# The test command (README.md, .ci/run): build, then run every test with
# ctest: unit tests, then integration tests against the Docker engine with
# the stand-in images (tests/images/build.sh prepares them).
#
#   scripts/test.sh            build in ./build and run everything
#   scripts/test.sh -L unit    pass ctest arguments (here: unit tests only)
#
# Integration tests need ENVUP_TEST_ENGINE=1 (set here when an engine
# answers); in CI (CI=true) a missing engine is a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${ENVUP_BUILD_DIR:-build}

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo} -DENVUP_WERROR=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)"

if [ -z "${ENVUP_HUB_IMAGE_PREFIX:-}" ] && [ -f tests/images/.env ]; then
	# shellcheck disable=SC1091
	set -a; . tests/images/.env; set +a
fi
if curl -sf --max-time 3 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1 ||
   { [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST#tcp://}" != "$DOCKER_HOST" ]; }; then
	export ENVUP_TEST_ENGINE=1
fi
if [ "${CI:-}" = "true" ]; then
	# CI owns its engine: the tests of envdown --all may remove everything
	export ENVUP_TEST_REQUIRE_ENGINE=1 ENVUP_TEST_REQUIRE_SERVERS=1 ENVUP_TEST_DESTRUCTIVE=1
fi

# Warm starts stay off for the suite (every cold postgres up would take a
# snapshot, and every envdown wait for it): the tests of snapshots turn
# them on for themselves (tests/workflow/test_snapshots.sh).
export ENVUP_SNAPSHOTS=${ENVUP_SNAPSHOTS:-0}
# Nor does every postgres keep a pool of clones filled in the background
# (CPU every other test would wait for): the tests of databases per test
# ask for one themselves (test_isolation, test_api_db).
export ENVUP_DB_POOL=${ENVUP_DB_POOL:-0}

status=0
ctest --test-dir "$BUILD" --output-on-failure "$@" || status=$?

# Safety net: an integration test killed half-way (crash, timeout) cannot
# run its teardown; remove whatever its environments left behind.
if [ -n "${ENVUP_TEST_ENGINE:-}" ]; then
	leftovers=$("$BUILD/envup" ls 2>/dev/null | awk 'NR > 1 && $1 ~ /^(it|wf)-[0-9]+-[0-9]+$/ { print $1 }' || true)
	for env in $leftovers; do
		echo "test.sh: FAIL: a test left environment $env behind; removing it" >&2
		"$BUILD/envup" down -q -n "$env" || true
		status=1
	done
fi
exit $status
