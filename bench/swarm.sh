#!/usr/bin/env bash
# Benchmark: the Swarm backend (issue #10) against the local engine, in
# one sitting, runs interleaved:
#
#   local:      envup up --no-snapshot of bench/stack on this machine's engine
#   swarm:      envup up --backend swarm of bench/stack on the three-node
#               swarm of tests/swarm/cluster.sh (built here, removed after)
#   local-ten:  ten stacks at once on the local engine (until the last is up)
#   swarm-ten:  ten stacks at once on the swarm
#
# Time to ready (up's own exit), teardown not timed. The images are pulled
# onto every node before the first timed run (a pull is not what is
# measured). Medians in seconds, and the ratios swarm / local.
#
#   bench/swarm.sh [RUNS]        (default 3)
#
# Needs root (the swarm), build/envup and the stand-in images
# (tests/images/build.sh). Both sides start cold (no snapshots: a swarm
# has none).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
ENVUP=${ENVUP:-$PWD/build/envup}
STACK=$PWD/bench/stack
if [ -z "${ENVUP_HUB_IMAGE_PREFIX:-}" ] && [ -f tests/images/.env ]; then
	set -a; . tests/images/.env; set +a
fi
LOCAL_PREFIX=${ENVUP_HUB_IMAGE_PREFIX:-}
# shellcheck source=../tests/swarm/cluster.sh
. tests/swarm/cluster.sh
export ENVUP_DB_POOL=0 ENVUP_SNAPSHOTS=0
unset ENVUP_BACKEND
work=$(mktemp -d)
names() { for i in $(seq 1 10); do echo "bench-$1-$i"; done; echo "bench-$1"; }
cleanup() {
	for n in $(names local); do "$ENVUP" down -q -n "$n" >/dev/null 2>&1 || :; done
	for n in $(names swarm); do
		DOCKER_HOST=$(swarm_node_host 1) "$ENVUP" down -q -n "$n" >/dev/null 2>&1 || :
	done
	[ "${SWARM_KEEP:-}" = 1 ] || swarm_down
	rm -rf "$work"
	return 0
}
trap cleanup EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

swarm_up >&2
SWARM_HOST=$(swarm_node_host 1)

# side NAME: run envup for that side (local or swarm)
side() {
	local s=$1; shift
	if [ "$s" = swarm ]; then
		DOCKER_HOST=$SWARM_HOST ENVUP_HUB_IMAGE_PREFIX="$SWARM_REGISTRY/" "$ENVUP" "$@" --backend swarm
	else
		DOCKER_HOST=unix:///var/run/docker.sock ENVUP_HUB_IMAGE_PREFIX="$LOCAL_PREFIX" "$ENVUP" "$@"
	fi
}
down() {
	local s=$1 n=$2
	if [ "$s" = swarm ]; then
		DOCKER_HOST=$SWARM_HOST "$ENVUP" down -q -n "$n" >/dev/null
	else
		"$ENVUP" down -q -n "$n" >/dev/null
	fi
}

one() {
	local s=$1 t0 t1
	t0=$(now)
	side "$s" up -q --keep --no-snapshot -f "$STACK/envup.yaml" -n "bench-$s" >/dev/null
	t1=$(now)
	secs "$t0" "$t1"
	down "$s" "bench-$s"
}

ten() {
	local s=$1 t0 t1 i pids=()
	t0=$(now)
	for i in $(seq 1 10); do
		side "$s" up -q --keep --no-snapshot -f "$STACK/envup.yaml" -n "bench-$s-$i" >/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	t1=$(now)
	secs "$t0" "$t1"
	for i in $(seq 1 10); do down "$s" "bench-$s-$i" & done
	for i in $(seq 1 10); do wait -n || :; done
}

# the images onto every node (and locally), untimed: one stack per node
for i in 1 2 3; do
	side swarm up -q --keep -f "$STACK/envup.yaml" -n "bench-swarm-$i" >/dev/null
done
for i in 1 2 3; do down swarm "bench-swarm-$i"; done
side local up -q --keep -f "$STACK/envup.yaml" -n bench-local >/dev/null
down local bench-local

for r in $(seq 1 "$RUNS"); do
	for s in local swarm; do
		one "$s" >>"$work/$s"
		ten "$s" >>"$work/$s-ten"
	done
	echo "run $r: local $(tail -n 1 "$work/local") swarm $(tail -n 1 "$work/swarm")" \
		"local-ten $(tail -n 1 "$work/local-ten") swarm-ten $(tail -n 1 "$work/swarm-ten")" >&2
done

l=$(median <"$work/local"); s=$(median <"$work/swarm")
lt=$(median <"$work/local-ten"); st=$(median <"$work/swarm-ten")
printf 'median of %d runs, seconds to ready (bench/stack: postgres+init, redis, mockserver+expectations)\n' "$RUNS"
printf '  local engine        %6.2f\n' "$l"
printf '  swarm, 3 nodes      %6.2f   (%.2fx local)\n' "$s" "$(echo "$s / $l" | bc -l)"
printf '  ten at once, local  %6.2f\n' "$lt"
printf '  ten at once, swarm  %6.2f   (%.2fx local)\n' "$st" "$(echo "$st / $lt" | bc -l)"
exit 0
