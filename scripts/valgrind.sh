#!/usr/bin/env bash
# Valgrind memcheck of the real CLI against the real engine (issue #3,
# section 5): `envup up` of the full stack (bench/stack: postgres + redis +
# mockserver, init script and expectations), `envup status`, `envup env`,
# `envup ls`, `envup logs`, `envdown`, then `envup status` of an
# environment that is not up, `envup run`, `envup gc`, a failing up (a
# container that exits) and a spec error. Every run must show zero memcheck errors and zero definitely
# or indirectly lost blocks.
#
#   scripts/valgrind.sh          build ./build-vg and run everything
#
# Needs valgrind and an engine (same environment handling as
# scripts/test.sh: tests/images/.env, CI=true makes a missing engine a
# failure, otherwise the script skips). Bounded: each command runs under
# `timeout`, and `up` gets a generous --timeout (valgrind slows the
# probes). Whatever happens, a trap takes the environments down.
#
# Suppressions: tests/valgrind.supp, third-party noise only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${ENVUP_VALGRIND_BUILD_DIR:-build-vg}
STEP_TIMEOUT=${ENVUP_VALGRIND_STEP_TIMEOUT:-600}   # seconds per command
UP_TIMEOUT=${ENVUP_VALGRIND_UP_TIMEOUT:-300}       # envup up --timeout

fail() { echo "valgrind.sh: FAIL: $*" >&2; exit 1; }

command -v valgrind >/dev/null || fail "valgrind is not installed (apt-get install valgrind)"

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DENVUP_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target envup_cli >/dev/null
ENVUP=$ROOT/$BUILD/envup

if [ -z "${ENVUP_HUB_IMAGE_PREFIX:-}" ] && [ -f tests/images/.env ]; then
	# shellcheck disable=SC1091
	set -a; . tests/images/.env; set +a
fi
if ! curl -sf --max-time 3 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1 &&
   ! { [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST#tcp://}" != "$DOCKER_HOST" ]; }; then
	[ "${CI:-}" = "true" ] && fail "no Docker engine answers (CI=true)"
	echo "valgrind.sh: skipped: no Docker engine answers"
	exit 0
fi

NAME=vg-$$
FAILNAME=vg-$$-fail
WORK=$(mktemp -d /tmp/envup-valgrind.XXXXXX)
LOGS=$WORK/logs
mkdir -p "$LOGS" "$WORK/failing"
mkdir -m 700 "$WORK/state"
# the state file (with the passwords) stays in our own directory
export ENVUP_STATE_DIR=$WORK/state
export ENVUP_SNAPSHOTS=0  # taken by a detached helper: tests/workflow/test_snapshots.sh

cleanup() {
	local rc=$?
	# plain (not valgrind) runs: fast, and they must happen whatever failed
	"$ENVUP" down -q -n "$NAME" >/dev/null 2>&1 || true
	"$ENVUP" down -q -n "$FAILNAME" >/dev/null 2>&1 || true
	if [ $rc -ne 0 ] && [ -d "$LOGS" ]; then
		echo "valgrind.sh: logs kept in $LOGS" >&2
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

VG=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no
	--num-callers=40 --trace-children=no --suppressions="$ROOT/tests/valgrind.supp")

STEP=0
# vg WANT_RC LABEL ARGS...: run envup under memcheck in $WORK; its stdout
# goes to $WORK/out.STEP, its stderr to $WORK/err.STEP, valgrind's report
# (one per process, forks included) to $LOGS/STEP.LABEL.PID.log.
vg() {
	local want=$1 label=$2 rc=0 log bad=0
	shift 2
	STEP=$((STEP + 1))
	OUT=$WORK/out.$STEP
	ERR=$WORK/err.$STEP
	local t0=$SECONDS
	(cd "$WORK" && timeout -k 10 "$STEP_TIMEOUT" "${VG[@]}" \
		--log-file="$LOGS/$STEP.$label.%p.log" "$@") >"$OUT" 2>"$ERR" || rc=$?
	printf 'valgrind.sh: %-28s exit %-3s %4ss\n' "$label" "$rc" "$((SECONDS - t0))"
	[ $rc -eq 124 ] && { cat "$ERR" >&2; fail "$label: timed out after ${STEP_TIMEOUT}s"; }
	for log in "$LOGS/$STEP.$label".*.log; do
		[ -e "$log" ] || continue
		if grep -Eq 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]' "$log"; then
			echo "===== $(basename "$log") =====" >&2
			cat "$log" >&2
			bad=1
		fi
	done
	[ $bad -eq 0 ] || fail "$label: memcheck found errors or leaks (above)"
	[ $rc -ne 99 ] || fail "$label: valgrind exit 99 without a log"
	if [ "$rc" != "$want" ]; then
		echo "----- stderr of $label -----" >&2
		cat "$ERR" >&2
		fail "$label: exit $rc, expected $want"
	fi
}

cp bench/stack/envup.yaml bench/stack/schema.sql bench/stack/expectations.json "$WORK/"

# ---- the full stack: up, the read-only commands, down ----------------------
# the owner is this script (envup's parent is `timeout`, gone when up ends)
vg 0 up "$ENVUP" up -n "$NAME" --format json --timeout "$UP_TIMEOUT" --owner-pid $$
UP_OUT=$OUT
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if all(k in d for k in ("POSTGRES_URL", "REDIS_URL", "MOCKSERVER_URL")) else 1)' "$UP_OUT" ||
	fail "up: exports lack a service URL: $(cat "$UP_OUT")"

vg 0 status "$ENVUP" status -n "$NAME"
for svc in postgres redis mockserver; do
	grep -q "^$svc " "$OUT" || fail "status does not list $svc: $(cat "$OUT")"
done
vg 0 env "$ENVUP" env -n "$NAME" --format json
cmp -s "$UP_OUT" "$OUT" || fail "env differs from up's exports"
vg 0 env-shell "$ENVUP" env -n "$NAME"
vg 0 ls "$ENVUP" ls
grep -q "^$NAME " "$OUT" || fail "ls does not list $NAME: $(cat "$OUT")"
vg 0 logs "$ENVUP" logs -n "$NAME" --tail 5 redis
# databases per test and reset (the pool filler is a helper of its own)
vg 0 db-new "$ENVUP" db new -n "$NAME" postgres --holder valgrind
PG_DB=$(cat "$OUT")
"$ENVUP" db new -n "$NAME" redis > /dev/null || fail "db new redis"
vg 0 db-ls "$ENVUP" db ls -n "$NAME" --format json
grep -q valgrind "$OUT" || fail "db ls does not list the database: $(cat "$OUT")"
vg 0 db-drop "$ENVUP" db drop -n "$NAME" "$PG_DB"
vg 0 reset "$ENVUP" reset -n "$NAME"
vg 0 down "$ROOT/$BUILD/envdown" -n "$NAME"
vg 1 status-not-up "$ENVUP" status -n "$NAME"

# ---- run: up, the command with the exports, down ------------------------------
vg 0 run "$ENVUP" run -n "$NAME" --timeout "$UP_TIMEOUT" -- \
	sh -c 'test -n "$POSTGRES_URL" && test -n "$REDIS_URL" && test -n "$MOCKSERVER_URL"'
vg 0 gc "$ENVUP" gc

# ---- failures: a container that exits, a spec error -------------------------
cat >"$WORK/failing/envup.yaml" <<'EOF'
services:
  crash:
    image: nginx:1.27-alpine
    command: [sh, -c, "echo valgrind-crash-marker >&2; exit 3"]
    ports: [80]
  redis:
    template: redis
EOF
vg 1 up-failing "$ENVUP" up -f "$WORK/failing/envup.yaml" -n "$FAILNAME" --timeout "$UP_TIMEOUT" \
	--owner-pid $$
grep -q "crash: container exited with code 3" "$ERR" || { cat "$ERR" >&2; fail "up-failing: no exit reason"; }
[ ! -s "$OUT" ] || fail "up-failing: stdout not empty"

printf 'services:\n  db:\n    template: postgress\n' >"$WORK/failing/bad.yaml"
vg 2 up-spec-error "$ENVUP" up -f "$WORK/failing/bad.yaml" -n "$FAILNAME"

# ---- nothing left ------------------------------------------------------------
left=$("$ENVUP" ls 2>/dev/null | awk -v a="$NAME" -v b="$FAILNAME" '$1 == a || $1 == b' || true)
[ -z "$left" ] || fail "left behind: $left"
echo "valgrind.sh: $STEP runs under memcheck: no error, no definite or indirect leak"
