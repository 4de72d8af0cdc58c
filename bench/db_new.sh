#!/usr/bin/env bash
# Benchmark: a database of its own per test (issue #9), in one sitting.
#
#   psql:   the pgtestdb technique with the psql binary:
#           psql ADMIN_URL -c "CREATE DATABASE x TEMPLATE main"
#   envup:  envup db new postgres            (the whole command)
#   lib:    envup_db_new() on one handle     (bench/db/db_new_lib.c)
#
# On the same server: bench/db/envup.yaml, a template of about 10 MB (the
# example schema plus 20 tables x 1000 rows). psql and envup runs are
# interleaved; each database is dropped after. Medians and p99 in ms.
#
#   bench/db_new.sh [RUNS] [PAUSE_MS]   (default 40 runs, 20 ms between
#                                        library calls in the paced run)
#
# Goals: envup db new <= 0.5 x psql; the library call <= 5 ms median.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-40}
PAUSE=${2:-20}
ENVUP=${ENVUP:-$PWD/build/envup}
DIR=$PWD/bench/db
if [ -z "${ENVUP_HUB_IMAGE_PREFIX:-}" ] && [ -f tests/images/.env ]; then
	set -a; . tests/images/.env; set +a
fi
command -v psql >/dev/null || { echo "psql is not installed" >&2; exit 1; }
work=$(mktemp -d)
trap '"$ENVUP" down -q -n bench-db >/dev/null 2>&1 || :; rm -rf "$work"' EXIT

python3 - "$DIR/fixtures.sql" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for t in range(20):
        f.write(f"CREATE TABLE fixture_{t} (id serial PRIMARY KEY, name text, body text, n int);\n")
        f.write(f"INSERT INTO fixture_{t} (name, body, n) SELECT 'row-' || g, repeat('x', 100), g"
                f" FROM generate_series(1, 1000) g;\n")
PY
"$ENVUP" up -q --keep -f "$DIR/envup.yaml" > "$work/env"
. "$work/env"
ADMIN="${POSTGRES_URL%/test\?*}/postgres?sslmode=disable"
size=$(psql "$ADMIN" -Atc "SELECT pg_size_pretty(pg_database_size('test'))")
cc -O2 -I include -o "$work/db_new_lib" "$DIR/db_new_lib.c" -L build -lenvup -Wl,-rpath,"$PWD/build"

ms() { python3 -c "import sys; print(round((float(sys.argv[2]) - float(sys.argv[1])) * 1000, 2))" "$1" "$2"; }
stats() { sort -n | python3 -c "
import sys
v = [float(x) for x in sys.stdin]
print('%.1f %.1f' % (v[len(v) // 2], v[min(len(v) - 1, len(v) * 99 // 100)]))"; }
now() { date +%s.%N; }
: > "$work/psql"; : > "$work/envup"
for i in $(seq "$RUNS"); do
	t0=$(now); psql "$ADMIN" -qc "CREATE DATABASE bench_$i TEMPLATE test" >/dev/null; t1=$(now)
	ms "$t0" "$t1" >> "$work/psql"
	psql "$ADMIN" -qc "DROP DATABASE bench_$i" >/dev/null
	t0=$(now); url=$("$ENVUP" db new postgres -n bench-db); t1=$(now)
	ms "$t0" "$t1" >> "$work/envup"
	"$ENVUP" db drop -n bench-db "$url"
done
read -r pm pp < <(stats < "$work/psql")
read -r em ep < <(stats < "$work/envup")
lib=$("$work/db_new_lib" bench-db postgres "$RUNS" "$PAUSE")
read -r _ bm bp < <(echo "$lib" | grep '^burst')
read -r _ lm lp < <(echo "$lib" | grep '^paced')
echo "template: $size; $RUNS runs each"
printf '%-34s %8s %8s\n' "" "median" "p99"
printf '%-34s %8s %8s\n' "psql CREATE DATABASE ... TEMPLATE" "$pm" "$pp"
printf '%-34s %8s %8s\n' "envup db new (command)" "$em" "$ep"
printf '%-34s %8s %8s\n' "envup_db_new() back to back" "$bm" "$bp"
printf '%-34s %8s %8s\n' "envup_db_new() ${PAUSE} ms apart" "$lm" "$lp"
echo "ratio envup db new / psql (median): $(python3 -c "print(round($em / $pm, 2))") (goal <= 0.5)"
