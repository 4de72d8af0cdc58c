#!/usr/bin/env bash
# Benchmark: time from `envup up` to exports printed for the three-service
# stack (bench/stack), and the time of `envdown`, against a floor: the same
# containers started in parallel with the docker CLI and probed every 5 ms
# with their own clients (psql, redis-cli, curl), init script and
# expectations loaded the same way. Runs are interleaved, medians reported.
#
#   bench/up_down.sh [RUNS]        (default 7)
#
# Needs: a built envup (build/envup), the docker CLI, psql, redis-cli, curl,
# and the images (ENVUP_HUB_IMAGE_PREFIX from tests/images/.env offline).
# Goal (issue #2): envup ready <= 1.10 x floor; envdown < 1 s.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
ENVUP=${ENVUP:-$PWD/build/envup}
STACK=$PWD/bench/stack
if [ -z "${ENVUP_HUB_IMAGE_PREFIX:-}" ] && [ -f tests/images/.env ]; then
	set -a; . tests/images/.env; set +a
fi
P=${ENVUP_HUB_IMAGE_PREFIX:-}
now() { date +%s.%N; }

# Warm the image cache so neither side measures a pull.
for img in postgres:16-alpine redis:7-alpine mockserver/mockserver:5.15.0; do
	docker image inspect "$P$img" >/dev/null 2>&1 || docker pull -q "$P$img" >/dev/null
done

floor_once() {
	local n=bench-floor-$$ pw=benchpw$$ t0 t1 pgp rdp msp
	t0=$(now)
	docker network create --label bench=floor "$n" >/dev/null
	docker run -d --name "$n-pg" --network "$n" -p 127.0.0.1::5432 \
		--tmpfs /var/lib/postgresql/data -e POSTGRES_USER=test \
		-e POSTGRES_PASSWORD=$pw -e POSTGRES_DB=test "${P}postgres:16-alpine" >/dev/null &
	docker run -d --name "$n-rd" --network "$n" -p 127.0.0.1::6379 --tmpfs /data \
		"${P}redis:7-alpine" redis-server --requirepass $pw --save "" --appendonly no >/dev/null &
	docker run -d --name "$n-ms" --network "$n" -p 127.0.0.1::1080 \
		"${P}mockserver/mockserver:5.15.0" >/dev/null &
	wait
	pgp=$(docker port "$n-pg" 5432/tcp | head -1 | sed 's/.*://')
	rdp=$(docker port "$n-rd" 6379/tcp | head -1 | sed 's/.*://')
	msp=$(docker port "$n-ms" 1080/tcp | head -1 | sed 's/.*://')
	( until psql "postgres://test:$pw@127.0.0.1:$pgp/test?sslmode=disable" -Atc 'select 1' >/dev/null 2>&1; do sleep 0.005; done
	  psql -q "postgres://test:$pw@127.0.0.1:$pgp/test?sslmode=disable" -v ON_ERROR_STOP=1 -f "$STACK/schema.sql" >/dev/null ) &
	( until [ "$(redis-cli -p "$rdp" -a $pw --no-auth-warning ping 2>/dev/null)" = PONG ]; do sleep 0.005; done ) &
	( until curl -sf -X PUT "http://127.0.0.1:$msp/mockserver/status" >/dev/null 2>&1; do sleep 0.005; done
	  curl -sf -X PUT --data-binary @"$STACK/expectations.json" "http://127.0.0.1:$msp/mockserver/expectation" >/dev/null ) &
	wait
	t1=$(now)
	docker rm -f "$n-pg" "$n-rd" "$n-ms" >/dev/null
	docker network rm "$n" >/dev/null
	echo "$t1 - $t0" | bc
}

envup_once() {
	local t0 t1 t2
	t0=$(now)
	"$ENVUP" up -q -f "$STACK/envup.yaml" -n bench-envup >/dev/null
	t1=$(now)
	"$ENVUP" down -q -f "$STACK/envup.yaml" -n bench-envup
	t2=$(now)
	echo "$(echo "$t1 - $t0" | bc) $(echo "$t2 - $t1" | bc)"
}

median() { sort -n | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f", m }'; }

floors=() ups=() downs=()
for i in $(seq "$RUNS"); do
	floors+=("$(floor_once)")
	read -r u d < <(envup_once)
	ups+=("$u"); downs+=("$d")
	printf 'run %d: floor %.3fs  envup up %.3fs  envdown %.3fs\n' "$i" "${floors[-1]}" "$u" "$d" >&2
done
f=$(printf '%s\n' "${floors[@]}" | median)
u=$(printf '%s\n' "${ups[@]}" | median)
d=$(printf '%s\n' "${downs[@]}" | median)
ratio=$(echo "scale=3; $u / $f" | bc)
echo "median floor (docker CLI + 5 ms probes): ${f}s"
echo "median envup up:                         ${u}s  (ratio ${ratio}, goal <= 1.10)"
echo "median envdown:                          ${d}s  (goal < 1 s)"
