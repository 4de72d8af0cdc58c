#!/usr/bin/env bash
# Load benchmark (issue #3, section 6): N environments of the full stack
# (bench/stack: postgres + redis + mockserver, init script, expectations)
# brought up CONCURRENTLY by N separate `envup up` processes on one
# engine, then checked and torn down concurrently.
#
#   bench/load.sh [N]            (default 10)
#
# Checks: every up exits 0 and its JSON exports parse; every postgres URL
# answers `select 1` (psql) and has the init script's rows, every redis
# answers PING (redis-cli -h -p -a), every mockserver its status (curl);
# no two environments share a container name or a host port; after the
# concurrent envdowns `envup ls` lists none of them. Prints the median and
# worst time to ready and to removed, and the wall time of each phase.
# Exit 1 when a check fails. A trap takes everything down whatever happens.
#
# Needs: a built envup (build/envup, or ENVUP=...), an engine, psql,
# redis-cli, curl, python3, and the images (tests/images/.env offline).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10}
ENVUP=${ENVUP:-$PWD/build/envup}
STACK=$PWD/bench/stack
UP_TIMEOUT=${LOAD_UP_TIMEOUT:-300}
if [ -z "${ENVUP_HUB_IMAGE_PREFIX:-}" ] && [ -f tests/images/.env ]; then
	# shellcheck disable=SC1091
	set -a; . tests/images/.env; set +a
fi
for tool in "$ENVUP" docker psql redis-cli curl python3; do
	command -v "$tool" >/dev/null || { echo "load.sh: $tool is missing" >&2; exit 1; }
done
P=${ENVUP_HUB_IMAGE_PREFIX:-}
W=$(mktemp -d /tmp/envup-load.XXXXXX)
export ENVUP_STATE_DIR=$W/state
PREFIX=load-$$
names=()
for i in $(seq "$N"); do names+=("$PREFIX-$i"); done
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
# export NAME of a JSON exports file, or "" (exit 1 when the file is not a JSON object)
field() { python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, dict)
print(d.get(sys.argv[2], ""))' "$1" "$2"; }
failures=0
check() { # check MESSAGE COMMAND...: count a failure when COMMAND fails
	local msg=$1
	shift
	if ! "$@"; then
		echo "load.sh: FAIL: $msg" >&2
		failures=$((failures + 1))
	fi
}

cleanup() {
	local rc=$? n
	for n in "${names[@]}"; do "$ENVUP" down -q -n "$n" >/dev/null 2>&1 & done
	wait
	rm -rf "$W"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Warm the image cache: the benchmark measures starting, not pulling.
for img in postgres:16-alpine redis:7-alpine mockserver/mockserver:5.15.0; do
	docker image inspect "$P$img" >/dev/null 2>&1 || docker pull -q "$P$img" >/dev/null
done

# ---- up, all at once -----------------------------------------------------------
echo "load.sh: $N x envup up of $STACK/envup.yaml, concurrently" >&2
T0=$(now)
for i in $(seq "$N"); do
	(
		t0=$(now)
		rc=0
		# the owner is this script: the subshell ends with its envup
		"$ENVUP" up -f "$STACK/envup.yaml" -n "$PREFIX-$i" --format json \
			--timeout "$UP_TIMEOUT" --owner-pid $$ >"$W/up.$i.json" 2>"$W/up.$i.err" || rc=$?
		echo "$rc $(since "$t0")" >"$W/up.$i.time"
	) &
done
wait
T_UP=$(since "$T0")

# ---- check every environment -----------------------------------------------------
: >"$W/ports"
for i in $(seq "$N"); do
	read -r rc secs <"$W/up.$i.time"
	if [ "$rc" != 0 ]; then
		check "$PREFIX-$i: up exited $rc after ${secs}s: $(tail -n 5 "$W/up.$i.err")" false
		continue
	fi
	echo "$secs" >>"$W/ready"
	# "environment 'NAME' ready in 7.55s (redis 5.31s, mockserver 5.96s, postgres 7.52s)"
	sed -n "s/.*environment '$PREFIX-$i' ready in [0-9.]*s (\(.*\))\$/\1/p" "$W/up.$i.err" |
		tr ',' '\n' | while read -r svc t; do
			[ -n "$svc" ] && echo "${t%s}" >>"$W/ready.$svc"
		done
	if ! field "$W/up.$i.json" POSTGRES_URL >/dev/null 2>&1; then
		check "$PREFIX-$i: exports are not JSON: $(head -c 300 "$W/up.$i.json")" false
		continue
	fi
	pg=$(field "$W/up.$i.json" POSTGRES_URL)
	rd=$(field "$W/up.$i.json" REDIS_URL)
	ms=$(field "$W/up.$i.json" MOCKSERVER_URL)
	for port in POSTGRES_PORT REDIS_PORT MOCKSERVER_PORT; do
		field "$W/up.$i.json" "$port" >>"$W/ports"
	done
	out=$(psql "$pg" -XAtc 'select 1' 2>&1) || true
	check "$PREFIX-$i: psql select 1 on $pg: $out" [ "$out" = 1 ]
	out=$(psql "$pg" -XAtc 'select count(*) from users' 2>&1) || true
	check "$PREFIX-$i: the init script's rows: $out" [ "$out" = 2 ]
	# redis://default:PASSWORD@HOST:PORT
	rpass=${rd#redis://default:}; rpass=${rpass%@*}
	rhost=${rd##*@}; rport=${rhost##*:}; rhost=${rhost%:*}
	out=$(redis-cli -h "$rhost" -p "$rport" -a "$rpass" --no-auth-warning ping 2>&1) || true
	check "$PREFIX-$i: redis-cli ping on $rhost:$rport: $out" [ "$out" = PONG ]
	code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$ms/mockserver/status" 2>&1) || true
	check "$PREFIX-$i: mockserver status on $ms: HTTP $code" [ "$code" = 200 ]
done

# no port and no container name used twice
total=$(grep -c . "$W/ports" || true)
distinct=$(sort -u "$W/ports" | grep -c . || true)
check "host ports collide: $total published, $distinct distinct" [ "$total" = "$distinct" ]
docker ps -a --filter "label=dev.envup.managed=true" --format '{{.Names}}' |
	grep "^envup-$PREFIX-" >"$W/containers" || true
ncont=$(grep -c . "$W/containers" || true)
check "expected $((N * 3)) containers, found $ncont" [ "$ncont" = $((N * 3)) ]
check "container names collide" [ "$(sort -u "$W/containers" | grep -c . || true)" = "$ncont" ]
nup=$("$ENVUP" ls 2>/dev/null | awk -v p="$PREFIX-" 'index($1, p) == 1' | grep -c . || true)
check "envup ls lists $nup of the $N environments" [ "$nup" = "$N" ]

# ---- down, all at once -----------------------------------------------------------
T0=$(now)
for i in $(seq "$N"); do
	(
		t0=$(now)
		rc=0
		"$ENVUP" down -q -n "$PREFIX-$i" 2>"$W/down.$i.err" || rc=$?
		echo "$rc $(since "$t0")" >"$W/down.$i.time"
	) &
done
wait
T_DOWN=$(since "$T0")
for i in $(seq "$N"); do
	read -r rc secs <"$W/down.$i.time"
	check "$PREFIX-$i: envdown exited $rc: $(cat "$W/down.$i.err")" [ "$rc" = 0 ]
	echo "$secs" >>"$W/removed"
done
left=$("$ENVUP" ls 2>/dev/null | awk -v p="$PREFIX-" 'index($1, p) == 1' || true)
check "left behind after envdown: $left" [ -z "$left" ]
nleft=$(docker ps -aq --filter "name=envup-$PREFIX-" | grep -c . || true)
check "$nleft containers named envup-$PREFIX-* left" [ "$nleft" = 0 ]
nnet=$(docker network ls -q --filter "name=envup-$PREFIX-" | grep -c . || true)
check "$nnet networks named envup-$PREFIX-* left" [ "$nnet" = 0 ]

# ---- figures ----------------------------------------------------------------------
stats() { # median and worst of the numbers in a file
	sort -n "$1" | awk '{ a[NR] = $1 } END {
		if (NR == 0) { print "n/a n/a"; exit }
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf "%.2f %.2f\n", m, a[NR] }'
}
touch "$W/ready" "$W/removed"
read -r r_med r_max < <(stats "$W/ready")
read -r d_med d_max < <(stats "$W/removed")
printf 'load.sh: %d concurrent environments (3 services each) on one engine\n' "$N"
printf '  ready:    %d/%d  median %ss  worst %ss  (all %d up after %.2fs)\n' \
	"$(grep -c . "$W/ready" || true)" "$N" "$r_med" "$r_max" "$N" "$T_UP"
for svc in postgres redis mockserver; do
	[ -s "$W/ready.$svc" ] || continue
	read -r s_med s_max < <(stats "$W/ready.$svc")
	printf '    %-11s ready after median %ss, worst %ss\n' "$svc" "$s_med" "$s_max"
done
printf '  removed:  %d/%d  median %ss  worst %ss  (all %d down after %.2fs)\n' \
	"$(grep -c . "$W/removed" || true)" "$N" "$d_med" "$d_max" "$N" "$T_DOWN"
printf '  host ports: %s published, %s distinct; containers: %s\n' "$total" "$distinct" "$ncont"
if [ $failures -gt 0 ]; then
	echo "load.sh: $failures check(s) failed" >&2
	exit 1
fi
echo "load.sh: all checks passed"
