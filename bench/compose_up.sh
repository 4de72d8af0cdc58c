#!/usr/bin/env bash
# Benchmark: time to a ready stack from one Compose file
# (bench/compose/docker-compose.test.yml: postgres with a pg_isready
# healthcheck, redis with redis-cli ping, MockServer with its
# expectations file), envup against Debian's docker-compose 1.29 in the
# same sitting, runs interleaved, medians reported.
#
#   envup:   envup up -f FILE            (ready: every service answers)
#   compose: docker-compose up -d, then a health poll every 500 ms until
#            every container with a healthcheck is healthy and the rest
#            run: what compose v2's `up --wait` does (1.29 has no --wait)
# Each side's teardown (envdown; docker-compose down -v) is timed too.
#
#   bench/compose_up.sh [RUNS]     (default 5)
#
# Needs: build/envup, docker-compose (apt-get install docker-compose), the
# stand-in images (tests/images/build.sh; ENVUP_HUB_IMAGE_PREFIX offline).
# Goal (issue #8): envup's ready time <= 0.35 x compose's.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
ENVUP=${ENVUP:-$PWD/build/envup}
DIR=$PWD/bench/compose
FILE=$DIR/docker-compose.test.yml
if [ -z "${ENVUP_HUB_IMAGE_PREFIX:-}" ] && [ -f tests/images/.env ]; then
	set -a; . tests/images/.env; set +a
fi
export IMAGE_PREFIX=${ENVUP_HUB_IMAGE_PREFIX:-}
command -v docker-compose >/dev/null || { echo "docker-compose is not installed" >&2; exit 1; }
now() { date +%s.%N; }
for img in postgres:15-alpine redis:7-alpine mockserver/mockserver:5.15.0; do
	docker image inspect "$IMAGE_PREFIX$img" >/dev/null 2>&1 || docker pull -q "$IMAGE_PREFIX$img" >/dev/null
done

compose_once() {
	local p=bench-compose-$$ t0 t1 t2 ready ids id st
	t0=$(now)
	docker-compose -p "$p" -f "$FILE" up -d >/dev/null 2>&1
	ids=$(docker-compose -p "$p" -f "$FILE" ps -q)
	while :; do
		ready=1
		for id in $ids; do
			st=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id")
			case "$st" in healthy|running) ;; *) ready=0 ;; esac
		done
		[ "$ready" = 1 ] && break
		sleep 0.5
	done
	t1=$(now)
	docker-compose -p "$p" -f "$FILE" down -v >/dev/null 2>&1
	t2=$(now)
	echo "$(echo "$t1 - $t0" | bc) $(echo "$t2 - $t1" | bc)"
}

envup_once() {
	local t0 t1 t2
	t0=$(now)
	"$ENVUP" up -q -f "$FILE" -n bench-compose-envup >/dev/null
	t1=$(now)
	"$ENVUP" down -q -n bench-compose-envup
	t2=$(now)
	echo "$(echo "$t1 - $t0" | bc) $(echo "$t2 - $t1" | bc)"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

: > /tmp/bench-compose.$$.c
: > /tmp/bench-compose.$$.e
trap 'rm -f /tmp/bench-compose.$$.*' EXIT
for i in $(seq 1 "$RUNS"); do
	c=$(compose_once)
	e=$(envup_once)
	echo "run $i: compose ready ${c% *}s down ${c#* }s | envup ready ${e% *}s down ${e#* }s"
	echo "$c" >> /tmp/bench-compose.$$.c
	echo "$e" >> /tmp/bench-compose.$$.e
done
cr=$(cut -d' ' -f1 /tmp/bench-compose.$$.c | median)
cd_=$(cut -d' ' -f2 /tmp/bench-compose.$$.c | median)
er=$(cut -d' ' -f1 /tmp/bench-compose.$$.e | median)
ed=$(cut -d' ' -f2 /tmp/bench-compose.$$.e | median)
ratio=$(echo "scale=3; $er / $cr" | bc)
echo "median ready: envup ${er}s, docker-compose + 500 ms poll ${cr}s: ratio $ratio (goal <= 0.35)"
echo "median teardown: envdown ${ed}s, docker-compose down -v ${cd_}s"
