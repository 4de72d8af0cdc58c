#!/usr/bin/env bash
# The whole test suite (unit + integration) under AddressSanitizer,
# LeakSanitizer and UBSan, or under ThreadSanitizer.
#
#   scripts/sanitize.sh            build in ./build-asan and run every test
#   scripts/sanitize.sh --thread   the same with ThreadSanitizer, in ./build-tsan
#   scripts/sanitize.sh -L unit    pass ctest arguments (here: unit tests only)
#
# Same environment handling as scripts/test.sh: tests/images/.env,
# ENVUP_TEST_ENGINE=1 when an engine answers, CI=true makes a missing engine
# a failure. ENVUP_SANITIZE_BUILD_DIR picks another build directory.
#
# The integration tests run the real envup binary, which is instrumented
# too. A report from such a child must fail the run even when the test
# expected that envup fails (exit 1): every report, from a test program or
# from a child envup, is written to a log file under $LOGDIR, and any such
# file fails the run, printed in full at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=address
if [ "${1:-}" = --thread ]; then
	MODE=thread
	shift
fi
if [ $MODE = thread ]; then
	BUILD=${ENVUP_SANITIZE_BUILD_DIR:-build-tsan}
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DENVUP_TSAN=ON -DENVUP_WERROR=ON >/dev/null
else
	BUILD=${ENVUP_SANITIZE_BUILD_DIR:-build-asan}
	cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DENVUP_SANITIZE=ON -DENVUP_WERROR=ON >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)"
BUILD_ABS=$(cd "$BUILD" && pwd)

if [ -z "${ENVUP_HUB_IMAGE_PREFIX:-}" ] && [ -f tests/images/.env ]; then
	# shellcheck disable=SC1091
	set -a; . tests/images/.env; set +a
fi
if curl -sf --max-time 3 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1 ||
   { [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST#tcp://}" != "$DOCKER_HOST" ]; }; then
	export ENVUP_TEST_ENGINE=1
fi
if [ "${CI:-}" = "true" ]; then
	export ENVUP_TEST_REQUIRE_ENGINE=1 ENVUP_TEST_REQUIRE_SERVERS=1
fi

LOGDIR=$(mktemp -d /tmp/envup-sanitize.XXXXXX)
trap 'rm -rf "$LOGDIR"' EXIT
# log_path: every ASan/LSan report goes to a file $LOGDIR/asan.EXE.PID instead
# of stderr; all of them are printed at the end and fail the run, so a
# report from a child envup (or a detached watchdog) is seen whatever exit
# status the test saw.
# abort_on_error: a report kills the process with SIGABRT (exit 134), which
# no test mistakes for envup's own "exit 1".
# LeakSanitizer runs in this sandbox (ptrace works); if it ever cannot,
# run with ENVUP_SANITIZE_NO_LEAKS=1 and rely on scripts/valgrind.sh.
leaks=1
[ -n "${ENVUP_SANITIZE_NO_LEAKS:-}" ] && leaks=0
export ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=1:log_path=$LOGDIR/asan:log_exe_name=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# UBSan (GCC 12's runtime) ignores log_path and always writes to stderr;
# abort_on_error turns a report into exit 134, which fails every test that
# checks envup's exit status, and the test prints envup's stderr with it.
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# ThreadSanitizer: every report to $LOGDIR/tsan.EXE.PID as well, and a
# process with a report exits 66 (TSan's default), failing its test.
export TSAN_OPTIONS="log_path=$LOGDIR/tsan:log_exe_name=1:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

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

# Watchdogs (envup-watchdog, detached) outlive the tests by a few
# seconds; their reports count too, so let them finish first.
for _ in $(seq 1 60); do
	pgrep -f -- "^envup-watchdog " >/dev/null || break
	sleep 1
done
reports=$(find "$LOGDIR" -type f 2>/dev/null | sort)
if [ -n "$reports" ]; then
	for f in $reports; do
		echo "===== sanitizer report: $(basename "$f") =====" >&2
		cat "$f" >&2
	done
	echo "sanitize.sh: FAIL: $(echo "$reports" | wc -l) sanitizer report(s) (above)" >&2
	status=1
fi

# Same safety net as scripts/test.sh: remove what a killed test left behind.
if [ -n "${ENVUP_TEST_ENGINE:-}" ]; then
	leftovers=$(ASAN_OPTIONS=detect_leaks=0 "$BUILD/envup" ls 2>/dev/null |
		awk 'NR > 1 && $1 ~ /^it-[0-9]+-[0-9]+$/ { print $1 }' || true)
	for env in $leftovers; do
		# it-PID-N: a test process still alive is someone else's run on a shared engine
		pid=${env#it-}; pid=${pid%%-*}
		kill -0 "$pid" 2>/dev/null && continue
		echo "sanitize.sh: FAIL: a test left environment $env behind; removing it" >&2
		ASAN_OPTIONS=detect_leaks=0 "$BUILD/envup" down -q -n "$env" || true
		status=1
	done
fi
[ $status -eq 0 ] && echo "sanitize.sh: no $MODE sanitizer report, all tests passed"
exit $status
