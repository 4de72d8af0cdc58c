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
#
# Each run's teardown is not timed. Medians in seconds, and the ratios.
#
#   bench/warm_up.sh [RUNS]        (default 5)
#
# Needs: build/envup, node and npm (bench/node: npm ci, or npm install,
# fetches testcontainers from the npm registry), the stand-in images
# (tests/images/build.sh; ENVUP_HUB_IMAGE_PREFIX offline).
# Goals: warm <= 0.15 x tc; warm <= 0.5 x cold.
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

for i in $(seq "$RUNS"); do
	(cd bench/node && node stack.mjs "$P" "$STACK") >> "$work/tc"
	t0=$(now); "$ENVUP" up -q --no-snapshot -f "$STACK/envup.yaml" -n bench-cold >/dev/null; t1=$(now)
	secs "$t0" "$t1" >> "$work/cold"
	"$ENVUP" down -q -n bench-cold
	t0=$(now); "$ENVUP" up -q -f "$STACK/envup.yaml" -n bench-warm > /dev/null 2> "$work/err"; t1=$(now)
	secs "$t0" "$t1" >> "$work/warm"
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
echo "stack: bench/stack (postgres + init script, redis, MockServer + expectations); $RUNS runs each"
printf '%-40s %8s\n' "testcontainers-node" "$tc"
printf '%-40s %8s\n' "envup up, cold (--no-snapshot)" "$cold"
printf '%-40s %8s\n' "envup up, warm (from the snapshot)" "$warm"
printf '%-40s %8s\n' "ten warm stacks at once (until all up)" "$ten"
echo "ratio warm / testcontainers-node: $(echo "scale=2; $warm / $tc" | bc) (goal <= 0.15)"
echo "ratio warm / cold: $(echo "scale=2; $warm / $cold" | bc) (goal <= 0.5)"
