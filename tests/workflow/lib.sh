# Shared by the workflow tests (tests/workflow/test_*.sh): they run envup
# the way users run it, as separate processes under real shells, make,
# timeout, setsid and CI runner process models, against the real engine.
#
# Each test script sources this file, calls wf_init, and uses:
#   wf_name VAR         set VAR to a fresh environment name (wf-PID-N),
#                       remembered for the exit check
#   wf_dir VAR          set VAR to a fresh directory (removed at exit)
#   (both set a variable rather than print: $(...) would run them in a
#   subshell, and what they remember would be lost)
#   wf_spec DIR [NAME]  write a one-service spec (redis) into DIR
#   wf_alive NAME       the environment answers: redis-cli PING through
#                       its exported URL gives PONG
#   wf_gone NAME S      the environment is fully gone within S seconds;
#                       prints the seconds it took. Used as
#                       `took=$(wf_gone N S) || exit 1`: in $(...) a
#                       failure exits only the subshell
#   wf_leftovers NAME   containers + networks + volumes labelled with NAME
#   wf_fail MSG         fail the test (exit 1), saying why
#   wf_ok MSG           one passed check, printed
#   wf_bg CMD...        start CMD in the background; killed at exit
# At exit, every environment named by wf_name is taken down and must have
# left nothing behind (a failure otherwise), even when the test failed.
#
# ENVUP_BIN is the envup binary (set by ctest); PATH gets its directory
# first, so recipes call `envup` and `envdown` by name as users do.

set -u

: "${ENVUP_BIN:?ENVUP_BIN must name the envup binary}"
ENVUP_BIN_DIR=$(cd "$(dirname "$ENVUP_BIN")" && pwd)
export PATH="$ENVUP_BIN_DIR:$PATH"
WF_SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

WF_NAMES=()
WF_DIRS=()
WF_PIDS=()
WF_COUNTER=0
WF_FAILED=0

wf_require_engine() {
	if [ -n "${ENVUP_TEST_ENGINE:-}" ]; then
		return 0
	fi
	if [ "${ENVUP_TEST_REQUIRE_ENGINE:-}" = 1 ]; then
		echo "ENVUP_TEST_ENGINE is not set but ENVUP_TEST_REQUIRE_ENGINE=1" >&2
		exit 1
	fi
	echo "skipped: set ENVUP_TEST_ENGINE=1 to run against a Docker engine" >&2
	exit 77
}

wf_fail() {
	echo "FAIL: $*" >&2
	WF_FAILED=1
	exit 1
}

wf_ok() {
	echo "ok: $*"
}

wf_name() {
	WF_COUNTER=$((WF_COUNTER + 1))
	WF_NAMES+=("wf-$$-$WF_COUNTER")
	printf -v "$1" '%s' "wf-$$-$WF_COUNTER"
}

# Register a name made elsewhere (a default name) for the exit check.
wf_track() {
	WF_NAMES+=("$1")
}

wf_dir() {
	local d
	d=$(mktemp -d /tmp/envup-wf-XXXXXX)
	WF_DIRS+=("$d")
	printf -v "$1" '%s' "$d"
}

wf_spec() {
	local dir=$1 name=${2:-}
	{
		[ -n "$name" ] && echo "name: $name"
		echo "services:"
		echo "  cache: { template: redis }"
	} > "$dir/envup.yaml"
}

wf_bg() {
	"$@" &
	WF_PIDS+=("$!")
}

wf_leftovers() {
	local n=$1 c k v
	c=$(docker ps -aq --filter "label=dev.envup.env=$n" | wc -l)
	k=$(docker network ls -q --filter "label=dev.envup.env=$n" | wc -l)
	v=$(docker volume ls -q --filter "label=dev.envup.env=$n" | wc -l)
	echo $((c + k + v))
}

# The environment answers, through the URL its exports give.
wf_alive() {
	local n=$1 exports url out
	exports=$(envup env -n "$n" --format shell 2>&1) || { echo "envup env -n $n: $exports"; return 1; }
	url=$(eval "$exports"; echo "${CACHE_URL:-}")
	[ -n "$url" ] || { echo "no CACHE_URL in the exports of $n"; return 1; }
	out=$(redis-cli -u "$url" --no-auth-warning ping 2>&1)
	[ "$out" = PONG ] || { echo "redis-cli ping on $n: $out"; return 1; }
}

# Wait until nothing labelled NAME is left; fail after S seconds.
wf_gone() {
	local n=$1 limit=$2 start now
	start=$(date +%s.%N)
	while [ "$(wf_leftovers "$n")" != 0 ]; do
		now=$(date +%s.%N)
		if awk -v a="$start" -v b="$now" -v l="$limit" 'BEGIN { exit !(b - a > l) }'; then
			wf_fail "environment $n still exists ${limit}s later"
		fi
		sleep 0.1
	done
	now=$(date +%s.%N)
	awk -v a="$start" -v b="$now" 'BEGIN { printf "%.2f\n", b - a }'
}

# `envup status` of a removed environment, once it says why (the record
# is written just after the last resource goes); fails after 10 s.
wf_removal_reason() {
	local n=$1 out
	for _ in $(seq 1 100); do
		if out=$(envup status -n "$n" 2>&1); then
			wf_fail "status of removed environment $n exits 0: $out"
		fi
		case "$out" in *"removed at "*) echo "$out"; return 0 ;; esac
		sleep 0.1
	done
	wf_fail "status of $n never says why it went: $out"
}

# The exit trap; a test's own trap calls it last, passing its $?.
wf_cleanup() {
	local rc=${1:-$?} n pid left
	for pid in "${WF_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
	done
	for n in "${WF_NAMES[@]}"; do
		"$ENVUP_BIN" down -q --force -n "$n" >/dev/null 2>&1 || true
		left=$(wf_leftovers "$n")
		if [ "$left" != 0 ]; then
			echo "FAIL: environment $n left $left resources behind" >&2
			rc=1
		fi
	done
	for d in "${WF_DIRS[@]}"; do
		rm -rf "$d"
	done
	if [ "$rc" = 0 ]; then
		echo "PASS: $(basename "$0")"
	fi
	exit "$rc"
}

wf_init() {
	wf_require_engine
	# a session of the test's own: the owner an `envup up` here gets must
	# not depend on how ctest or a CI harness above happened to run us
	if [ -z "${WF_IN_SESSION:-}" ] && [ "$(awk '{ print $6 }' /proc/$$/stat)" != "$$" ]; then
		WF_IN_SESSION=1 exec setsid --wait bash "$0" "$@"
	fi
	# the tests choose the process model: a CI runner around the suite
	# would make every environment the job's (provision/owner.h)
	unset GITHUB_ACTIONS GITLAB_CI RUNNER_TRACKING_ID
	command -v redis-cli >/dev/null || wf_fail "redis-cli is missing (redis-tools)"
	command -v docker >/dev/null || wf_fail "the docker CLI is missing (docker.io)"
	trap wf_cleanup EXIT
	# a state directory of our own, so the tests read only their records
	wf_dir ENVUP_STATE_DIR
	export ENVUP_STATE_DIR
	chmod 700 "$ENVUP_STATE_DIR"
}
