#!/usr/bin/env bash
# Benchmark: warm starts (issue #9), in one sitting, runs interleaved:
#
#   tc:    testcontainers-node (bench/node/stack.mjs: @testcontainers/
#          postgresql, redis and mockserver, Ryuk off, the same images),
#          the three-service stack of bench/stack with its init script and
#          expectations loaded
#   cold:  envup up --no-snapshot of bench/stack
#   warm:  envup up of bench/stack with its postgres snapshot present
#   ten:   ten warm stacks brought up at once (the time until the last is up)
#   floor: the engine alone: the three images run at once with docker run -d
#          and published ports, nothing waited for (what any tool pays)
#   reset: envup reset of the warm stack (all three services), the command
#
# Each run's teardown is not timed. Medians in seconds, and the ratios.
#
#   bench/warm_up.sh [RUNS]        (default 5)
#
# Needs: build/envup, node and npm (bench/node: npm ci, or npm install,
# fetches testcontainers from the npm registry), the stand-in images
# (tests/images/build.sh; ENVUP_HUB_IMAGE_PREFIX offline).
# Goals: warm <= 0.15 x tc; warm <= 0.5 x cold; reset <= 150 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
ENVUP=${ENVUP:-$PWD/build/envup}
STACK=$PWD/bench/stack
if [ -z "${ENVUP_HUB_IMAGE_PREFIX:-}" ] && [ -f tests/images/.env ]; then
	set -a; . tests/images/.env; set +a
fi
P=${ENVUP_HUB_IMAGE_PREFIX:-}
unset ENVUP_SNAPSHOTS
export TESTCONTAINERS_RYUK_DISABLED=true
[ -d bench/node/node_modules ] || (cd bench/node && npm ci --no-audit --no-fund >/dev/null 2>&1 ||
	npm install --no-audit --no-fund >/dev/null)
work=$(mktemp -d)
cleanup() {
	for n in bench-warm bench-cold $(seq -f 'bench-ten-%g' 1 10); do
		"$ENVUP" down -q -n "$n" >/dev/null 2>&1 || :
	done
	rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# the snapshot of this stack, once
"$ENVUP" up -q -f "$STACK/envup.yaml" -n bench-warm >/dev/null
"$ENVUP" down -q -n bench-warm

floor_once() {
	local t0 t1 n=bench-floor-$$
	t0=$(now)
	docker run -d --rm --name "$n-pg" -p 127.0.0.1::5432 --tmpfs /var/lib/postgresql/data \
		-e POSTGRES_PASSWORD=x "${P}postgres:16-alpine" > /dev/null &
	docker run -d --rm --name "$n-rd" -p 127.0.0.1::6379 "${P}redis:7-alpine" > /dev/null &
	docker run -d --rm --name "$n-ms" -p 127.0.0.1::1080 "${P}mockserver/mockserver:5.15.0" > /dev/null &
	wait
	t1=$(now)
	docker rm -f "$n-pg" "$n-rd" "$n-ms" > /dev/null 2>&1
	secs "$t0" "$t1"
}

for i in $(seq "$RUNS"); do
	floor_once >> "$work/floor"
	(cd bench/node && node stack.mjs "$P" "$STACK") >> "$work/tc"
	t0=$(now); "$ENVUP" up -q --no-snapshot -f "$STACK/envup.yaml" -n bench-cold >/dev/null; t1=$(now)
	secs "$t0" "$t1" >> "$work/cold"
	"$ENVUP" down -q -n bench-cold
	t0=$(now); "$ENVUP" up -q -f "$STACK/envup.yaml" -n bench-warm > /dev/null 2> "$work/err"; t1=$(now)
	secs "$t0" "$t1" >> "$work/warm"
	for k in 1 2; do
		t0=$(now); "$ENVUP" reset -q -n bench-warm; t1=$(now)
		secs "$t0" "$t1" >> "$work/reset"
	done
	"$ENVUP" down -q -n bench-warm
done
t0=$(now)
for n in $(seq 10); do
	"$ENVUP" up -q -f "$STACK/envup.yaml" -n "bench-ten-$n" >/dev/null &
done
wait
t1=$(now)
ten=$(secs "$t0" "$t1")
for n in $(seq 10); do "$ENVUP" down -q -n "bench-ten-$n"; done

tc=$(median < "$work/tc"); cold=$(median < "$work/cold"); warm=$(median < "$work/warm")
floor=$(median < "$work/floor"); reset=$(median < "$work/reset")
echo "stack: bench/stack (postgres + init script, redis, MockServer + expectations); $RUNS runs each"
printf '%-40s %8s\n' "testcontainers-node" "$tc"
printf '%-40s %8s\n' "envup up, cold (--no-snapshot)" "$cold"
printf '%-40s %8s\n' "envup up, warm (from the snapshot)" "$warm"
printf '%-40s %8s\n' "ten warm stacks at once (until all up)" "$ten"
printf '%-40s %8s\n' "floor: the three containers started" "$floor"
printf '%-40s %8s\n' "envup reset (three services)" "$reset"
echo "ratio warm / testcontainers-node: $(echo "scale=2; $warm / $tc" | bc) (goal <= 0.15)"
echo "ratio warm / cold: $(echo "scale=2; $warm / $cold" | bc) (goal <= 0.5)"
echo "ratio floor / testcontainers-node: $(echo "scale=2; $floor / $tc" | bc) (no tool that starts containers goes below)"
