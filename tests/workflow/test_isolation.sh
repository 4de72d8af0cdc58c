#!/usr/bin/env bash
# A database of its own per test (docs/isolation.md), in the process
# models suites use, checked with the real clients (psql, redis-cli, curl):
# up in one shell and `envup db new` in others (CI steps); a Makefile whose
# recipe lines each call it; `$(timeout 10 envup db new db 2>/dev/null)`;
# 8 processes x 10 at once: 80 distinct databases, each a clone of the
# template and invisible to the others; redis numbers of their own; db
# drop, and what it refuses; envup reset of postgres, redis and MockServer;
# the errors (not postgres or redis, no such service, not up); a server
# that refuses with the pool empty (ENVUP_DB_POOL=0): one line, nothing
# half made; envdown takes everything, the pool's filler too. Then the two
# worked examples of docs/examples/ run, so that they cannot rot.
. "$(dirname "$0")/lib.sh"
wf_init
export ENVUP_DB_POOL=4  # the default (the suite runs with 0)

PY=/usr/bin/python3
command -v psql >/dev/null || wf_fail "psql is missing (postgresql-client)"
command -v curl >/dev/null || wf_fail "curl is missing"
command -v make >/dev/null || wf_fail "make is missing"
command -v ss >/dev/null || wf_fail "ss is missing (iproute2)"

# one value from SQL; errors on stderr, and the exit status says
sql() { psql "$1" -X -qAt -v ON_ERROR_STOP=1 -c "$2"; }
redis() { redis-cli -u "$1" --no-auth-warning "${@:2}"; }
# the URL on another database: postgres://u:p@h:port/NAME?query
url_db() { printf '%s\n' "$1" | sed -E "s#^([a-z]+://[^/]*)/[^?]*#\\1/$2#"; }
# exactly one line, non-empty
one_line() { [ -n "$1" ] && [ "$(printf '%s\n' "$1" | wc -l)" = 1 ]; }
# the server's last words, for a failure message
db_logs() { docker logs --tail 15 "envup-$1-db" 2>&1 | sed 's/^/    db: /' >&2; }
# pids of the pool fillers connected to a postgres port
fillers() { ss -Htnp "dst 127.0.0.1:$1" 2>/dev/null | sed -n 's/.*"envup-watchdog",pid=\([0-9]*\).*/\1/p' | sort -u; }

wf_dir ws
wf_name name
cat > "$ws/envup.yaml" <<YAML
name: $name
services:
  db:
    template: postgres
    init: [schema.sql]
  cache:
    template: redis
    export: { REDIS_TEST_URL: "{{url}}/1" }
  mocks:
    template: mockserver
    expectations: mocks.json
YAML
cat > "$ws/schema.sql" <<'SQL'
CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO users (name) VALUES ('alice'), ('bob');
SQL
cat > "$ws/mocks.json" <<'JSON'
[{"httpRequest": {"method": "GET", "path": "/hello"}, "httpResponse": {"statusCode": 200, "body": "hi"}}]
JSON
T0=$(date +%s)

# ---- up in one shell (a CI step), in $(...): the filler must not hold it --------
(cd "$ws" && timeout 60 bash -c 'exports=$(envup up -q) || exit; umask 077; printf "%s\n" "$exports" > exports.sh') \
	2> "$ws/up.err" || { cat "$ws/up.err"; wf_fail "up in a shell of its own"; }
. "$ws/exports.sh"
[ "${DB_TEMPLATE:-}" = envup_template ] || wf_fail "DB_TEMPLATE is '${DB_TEMPLATE:-}', want envup_template"
[ "$(sql "$DB_URL" 'SELECT count(*) FROM users')" = 2 ] || wf_fail "the main database lacks the init script's rows"
META=$(url_db "$DB_URL" envup_meta)
ADMIN=$(url_db "$DB_URL" postgres)
MAIN_DB=$(sql "$DB_URL" 'SELECT current_database()')
wf_ok "up in a shell of its own, inside \$(...), returns; DB_TEMPLATE=envup_template is exported"

# ---- db new in other shells (later CI steps): the spec's name finds it -----------
u1=$(cd "$ws" && bash -c 'envup db new db') || wf_fail "db new in a second shell"
u2=$(cd "$ws" && bash -c 'envup db new db') || wf_fail "db new in a third shell"
case "$u1" in postgres://*"@127.0.0.1:$DB_PORT/"*"?sslmode=disable") ;; *) wf_fail "db new printed '$u1'" ;; esac
[ "$u1" != "$u2" ] || wf_fail "two shells got the same database: $u1"
[ "$u1" != "$DB_URL" ] && [ "$u2" != "$DB_URL" ] || wf_fail "db new handed out the main database"
for u in "$u1" "$u2"; do
	[ "$(bash -c "psql '$u' -XqAt -c 'SELECT count(*) FROM users'")" = 2 ] || wf_fail "$u lacks the init script's rows"
done
(cd "$ws" && bash -c "envup db drop '$u1' && envup db drop '$u2'") || wf_fail "db drop in another shell"
wf_ok "db new in separate bash -c shells: two distinct clones of the template, dropped from a third"

# ---- a Makefile: every recipe line is a shell of its own -------------------------
cat > "$ws/Makefile" <<'MAKE'
test:
	envup db new db > a.url
	envup db new db > b.url
	test -s a.url && test -s b.url && ! cmp -s a.url b.url
	psql "$$(cat a.url)" -XqAt -v ON_ERROR_STOP=1 -c "INSERT INTO users (name) VALUES ('make')"
	test "$$(psql "$$(cat b.url)" -XqAt -c 'SELECT count(*) FROM users')" = 2
	URL=$$(envup db new cache) && redis-cli -u "$$URL" --no-auth-warning SET k v > /dev/null && envup db drop "$$URL"
	envup db drop "$$(cat a.url)"
	envup db drop "$$(cat b.url)"
MAKE
out=$(make -s -C "$ws" test 2>&1) || { echo "$out"; wf_fail "make test"; }
wf_ok "a Makefile whose recipe lines each call envup db new / drop"

# ---- $(timeout 10 envup db new db 2>/dev/null) -----------------------------------
cd "$ws" || wf_fail "cd $ws"
DB=$(timeout 10 envup db new db 2>/dev/null) || wf_fail "DB=\$(timeout 10 envup db new db 2>/dev/null): exit $?"
one_line "$DB" || wf_fail "db new printed more than one line: $DB"
[ "$(sql "$DB" 'SELECT count(*) FROM users')" = 2 ] || wf_fail "$DB lacks the init script's rows"
envup db drop "$DB" || wf_fail "db drop $DB"
cd / || exit 1
wf_ok "DB=\$(timeout 10 envup db new db 2>/dev/null): one URL, and it works"

# ---- 8 processes x 10 at once ----------------------------------------------------
pids=()
for p in 1 2 3 4 5 6 7 8; do
	(cd "$ws" && bash -c 'for i in 1 2 3 4 5 6 7 8 9 10; do envup db new db || echo "FAILED $?"; done' \
		> "$ws/urls.$p" 2> "$ws/err.$p") &
	pids+=("$!")
done
wait "${pids[@]}"
cat "$ws"/urls.? > "$ws/urls"
grep -h . "$ws"/err.? && wf_fail "db new at once wrote errors"
grep -q FAILED "$ws/urls" && wf_fail "db new at once failed: $(grep FAILED "$ws/urls" | sort | uniq -c)"
[ "$(wc -l < "$ws/urls")" = 80 ] || wf_fail "$(wc -l < "$ws/urls") URLs from 80 db new"
[ "$(sort -u "$ws/urls" | wc -l)" = 80 ] || wf_fail "80 db new gave $(sort -u "$ws/urls" | wc -l) distinct URLs"
mapfile -t urls < "$ws/urls"
for u in "${urls[@]}"; do
	[ "$(sql "$u" 'SELECT count(*) FROM users')" = 2 ] || { db_logs "$name"; wf_fail "$u: not a clone of the template"; }
done
sql "${urls[0]}" "INSERT INTO users (name) VALUES ('only-in-0')" || wf_fail "write into ${urls[0]}"
[ "$(sql "${urls[0]}" 'SELECT count(*) FROM users')" = 3 ] || wf_fail "the write is not in its own database"
[ "$(sql "${urls[1]}" "SELECT count(*) FROM users WHERE name = 'only-in-0'")" = 0 ] || wf_fail "a write in one is seen in another"
[ "$(sql "$DB_URL" "SELECT count(*) FROM users WHERE name = 'only-in-0'")" = 0 ] || wf_fail "a write in one is seen in the main database"
held=$(sql "$META" "SELECT count(*) FROM pool WHERE state = 'held'")
[ "$held" = 80 ] || wf_fail "the pool table holds $held held databases, want 80"
# and given back from 8 processes at once
split -n l/8 "$ws/urls" "$ws/drop."
pids=()
for f in "$ws"/drop.*; do
	(cd "$ws" && while read -r u; do envup db drop "$u" || echo "FAILED $u"; done < "$f" > "$f.out" 2>&1) &
	pids+=("$!")
done
wait "${pids[@]}"
grep -h . "$ws"/drop.*.out && wf_fail "db drop at once failed"
names=$(for u in "${urls[@]}"; do u=${u%%\?*}; printf "'%s'," "${u##*/}"; done)
left=$(sql "$ADMIN" "SELECT count(*) FROM pg_database WHERE datname IN (${names%,})")
[ "$left" = 0 ] || wf_fail "$left of the 80 databases are still there after db drop"
[ "$(sql "$META" "SELECT count(*) FROM pool WHERE state = 'held'")" = 0 ] || wf_fail "held rows left in the pool table"
# (that the filler refills the pool is checked below, before envdown)
refill_from=$(date +%s)
wf_ok "8 processes x 10 db new at once: 80 distinct clones, isolated, dropped at once"

# ---- redis: numbers of their own -------------------------------------------------
r1=$(cd "$ws" && bash -c 'envup db new cache') || wf_fail "db new cache"
r2=$(cd "$ws" && bash -c 'envup db new cache') || wf_fail "db new cache, again"
n1=${r1##*/} n2=${r2##*/} suite=${REDIS_TEST_URL##*/}
[ "${r1%/*}" = "$CACHE_URL" ] && [ "${r2%/*}" = "$CACHE_URL" ] || wf_fail "db new cache printed $r1 and $r2, not $CACHE_URL/N"
[ "$n1" != "$n2" ] || wf_fail "two db new cache gave the same number $n1"
for n in "$n1" "$n2"; do
	case "$n" in 0 | "$suite" | *[!0-9]* | '') wf_fail "db new cache handed out '$n' (0 and $suite are the suite's)" ;; esac
done
redis "$CACHE_URL" SET main 0 > /dev/null
redis "$REDIS_TEST_URL" SET suite 1 > /dev/null
redis "$r1" SET k one > /dev/null
redis "$r2" SET k two > /dev/null
redis "$r1" FLUSHDB > /dev/null
[ "$(redis "$r1" DBSIZE)" = 0 ] || wf_fail "FLUSHDB in $n1 left keys"
[ "$(redis "$r2" GET k)" = two ] || wf_fail "FLUSHDB in $n1 touched $n2"
[ "$(redis "$CACHE_URL" GET main)" = 0 ] && [ "$(redis "$REDIS_TEST_URL" GET suite)" = 1 ] ||
	wf_fail "FLUSHDB in $n1 touched 0 or $suite"
# flushed when handed out: stale keys in every number nobody holds
for n in $(seq 2 127); do
	[ "$n" = "$n1" ] || [ "$n" = "$n2" ] || printf 'SELECT %d\nSET stale 1\n' "$n"
done | redis "$CACHE_URL" > /dev/null
r3=$(cd "$ws" && envup db new cache) || wf_fail "db new cache, a third"
[ "$(redis "$r3" DBSIZE)" = 0 ] || wf_fail "number ${r3##*/} was handed out with keys in it"
wf_ok "redis: numbers $n1, $n2, ${r3##*/}: distinct, not 0 or $suite, empty when handed out; FLUSHDB in one spares the rest"

# ---- db drop: given back, once; nothing else ---------------------------------------
(cd "$ws" && envup db drop "$r3") || wf_fail "db drop $r3"
out=$(cd "$ws" && envup db drop "$r3" 2>&1) && wf_fail "a second drop of $r3 succeeded"
rc=$?
[ "$rc" = 2 ] && one_line "$out" || wf_fail "a second drop of $r3: exit $rc: $out"
out=$(cd "$ws" && envup db drop "$REDIS_TEST_URL" 2>&1) && wf_fail "db drop of the suite's redis number succeeded"
rc=$?
[ "$rc" = 2 ] && one_line "$out" || wf_fail "db drop \$REDIS_TEST_URL: exit $rc: $out"
[ "$(redis "$REDIS_TEST_URL" GET suite)" = 1 ] || wf_fail "a refused drop touched $suite"
u=$(cd "$ws" && envup db new db) || wf_fail "db new"
out=$(cd "$ws" && envup db drop "$u" 2>&1) || wf_fail "db drop: $out"
[ -z "$out" ] || wf_fail "db drop said: $out"
out=$(psql "$u" -XqAt -c 'SELECT 1' 2>&1) && wf_fail "psql to a dropped database succeeded"
case "$out" in *"does not exist"*) ;; *) wf_fail "psql to a dropped database: $out" ;; esac
out=$(cd "$ws" && envup db drop "$u" 2>&1) && wf_fail "a second drop succeeded"
rc=$?
[ "$rc" = 2 ] && one_line "$out" || wf_fail "a second drop: exit $rc: $out"
sql "$DB_URL" "INSERT INTO users (name) VALUES ('marker')" || wf_fail "insert into the main database"
out=$(cd "$ws" && envup db drop "$DB_URL" 2>&1) && wf_fail "db drop \$DB_URL succeeded"
rc=$?
[ "$rc" = 2 ] && one_line "$out" || wf_fail "db drop \$DB_URL: exit $rc: $out"
[ "$(sql "$DB_URL" "SELECT count(*) FROM users WHERE name = 'marker'")" = 1 ] || wf_fail "a refused drop touched the main database"
wf_ok "db drop: psql to it then fails; a second drop, \$DB_URL and \$REDIS_TEST_URL: exit 2, one line, untouched"

# ---- envup reset: postgres, redis, MockServer -------------------------------------
h=$(cd "$ws" && envup db new db) || wf_fail "db new"
sql "$h" "INSERT INTO users (name) VALUES ('held')" || wf_fail "insert into $h"
sql "$DB_URL" "INSERT INTO users (name) VALUES ('from a test'), ('another')" || wf_fail "insert into main"
redis "$CACHE_URL" SET main 0 > /dev/null
redis "$REDIS_TEST_URL" SET suite 1 > /dev/null
out=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT "$MOCKS_URL/mockserver/expectation" \
	-d '{"httpRequest": {"path": "/extra"}, "httpResponse": {"statusCode": 201}}') || wf_fail "curl PUT expectation"
[ "$out" = 201 ] || wf_fail "PUT /mockserver/expectation answered $out"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$MOCKS_URL/extra")" = 201 ] || wf_fail "the added expectation does not answer"
# a connection to the main database: reset ends it
psql "$DB_URL" -XqAt -c 'SELECT pg_sleep(60)' > /dev/null 2>&1 &
sleeper=$!
WF_PIDS+=("$sleeper")
sleeping=0
for _ in $(seq 1 50); do
	sleeping=$(sql "$ADMIN" "SELECT count(*) FROM pg_stat_activity WHERE datname = '$MAIN_DB' AND query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()")
	[ "$sleeping" = 1 ] && break
	sleep 0.1
done
[ "$sleeping" = 1 ] || wf_fail "the connection to the main database never showed in pg_stat_activity"
[ "$(redis "$CACHE_URL/5" GET stale)" = 1 ] || wf_fail "no stale key in redis 5 before reset"
out=$(cd "$ws" && envup reset 2>&1) || wf_fail "envup reset: $out"
printf '%s\n' "$out" | grep -Eqx "envup: $name reset in [0-9]+ ms" || wf_fail "envup reset said: $out"
for _ in $(seq 1 50); do kill -0 "$sleeper" 2>/dev/null || break; sleep 0.1; done
kill -0 "$sleeper" 2>/dev/null && wf_fail "reset left a connection to the main database"
[ "$(sql "$DB_URL" 'SELECT string_agg(name, $$,$$ ORDER BY id) FROM users')" = alice,bob ] ||
	wf_fail "after reset the main database holds: $(sql "$DB_URL" 'SELECT string_agg(name, $$,$$) FROM users')"
[ "$(sql "$h" "SELECT count(*) FROM users WHERE name = 'held'")" = 1 ] || wf_fail "reset touched a database db new handed out"
[ "$(redis "$CACHE_URL" DBSIZE)" = 0 ] || wf_fail "reset left keys in redis 0"
[ "$(redis "$REDIS_TEST_URL" DBSIZE)" = 0 ] || wf_fail "reset left keys in redis $suite"
[ "$(redis "$CACHE_URL/5" DBSIZE)" = 0 ] || wf_fail "reset left keys in redis 5"
[ "$(redis "$r2" GET k)" = two ] || wf_fail "reset flushed number $n2, which a test holds"
paths=$(curl -sS -X PUT "$MOCKS_URL/mockserver/retrieve?type=ACTIVE_EXPECTATIONS" |
	"$PY" -c 'import json, sys; print(",".join(sorted(e["httpRequest"]["path"] for e in json.load(sys.stdin))))') ||
	wf_fail "retrieve the expectations"
[ "$paths" = /hello ] || wf_fail "after reset MockServer's expectations are: $paths"
[ "$(curl -s "$MOCKS_URL/hello")" = hi ] || wf_fail "the spec's expectation does not answer after reset"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$MOCKS_URL/extra")" = 404 ] || wf_fail "the added expectation still answers"
# a reset that cannot read the expectations file leaves MockServer as it was
mv "$ws/mocks.json" "$ws/mocks.json.away"
(cd "$ws" && envup reset mocks 2> "$ws/mockerr") && wf_fail "reset mocks without its file succeeded"
grep -c "No such file" "$ws/mockerr" | grep -qx 1 || wf_fail "reset mocks says: $(cat "$ws/mockerr")"
[ "$(curl -s "$MOCKS_URL/hello")" = hi ] || wf_fail "a failed reset cleared MockServer's expectations"
mv "$ws/mocks.json.away" "$ws/mocks.json"
wf_ok "envup reset: main database back to the template (its connections ended), redis flushed but for held numbers, MockServer back to the spec's expectations; held databases untouched; a reset without the expectations file leaves MockServer alone"

# one service, -q, and the db form
sql "$DB_URL" "INSERT INTO users (name) VALUES ('x')"
redis "$CACHE_URL" SET main 0 > /dev/null
out=$(cd "$ws" && envup reset -q db 2>&1) || wf_fail "envup reset -q db: $out"
[ -z "$out" ] || wf_fail "envup reset -q said: $out"
[ "$(sql "$DB_URL" 'SELECT count(*) FROM users')" = 2 ] || wf_fail "reset db did not reset db"
[ "$(redis "$CACHE_URL" GET main)" = 0 ] || wf_fail "reset db touched cache"
out=$(cd "$ws" && envup db reset cache 2>&1) || wf_fail "envup db reset cache: $out"
[ "$(redis "$CACHE_URL" DBSIZE)" = 0 ] || wf_fail "envup db reset cache left keys"
out=$(cd "$ws" && envup reset nosuch 2>&1) && wf_fail "reset nosuch succeeded"
rc=$?
[ "$rc" = 2 ] && one_line "$out" || wf_fail "reset nosuch: exit $rc: $out"
(cd "$ws" && envup db drop "$h" && envup db drop "$r2") || wf_fail "db drop"
wf_ok "envup reset -q SERVICE resets only that one, silently; envup db reset SERVICE; reset nosuch: exit 2"

# ---- errors ------------------------------------------------------------------------
out=$(cd "$ws" && envup db new mocks 2> "$ws/err") && wf_fail "db new mocks succeeded: $out"
rc=$?
err=$(cat "$ws/err")
[ "$rc" = 2 ] && [ -z "$out" ] && one_line "$err" || wf_fail "db new mocks: exit $rc, stdout '$out', stderr: $err"
case "$err" in *mocks*postgres*redis*) ;; *) wf_fail "db new mocks says: $err" ;; esac
out=$(cd "$ws" && envup db new nosuch 2> "$ws/err") && wf_fail "db new nosuch succeeded: $out"
rc=$?
err=$(cat "$ws/err")
[ "$rc" = 2 ] && [ -z "$out" ] && one_line "$err" || wf_fail "db new nosuch: exit $rc, stdout '$out', stderr: $err"
case "$err" in *"no service 'nosuch'"*) ;; *) wf_fail "db new nosuch says: $err" ;; esac
wf_name notup
out=$(envup db new db -n "$notup" 2> "$ws/err") && wf_fail "db new of an environment that is not up succeeded"
rc=$?
err=$(cat "$ws/err")
[ "$rc" = 1 ] && [ -z "$out" ] && one_line "$err" || wf_fail "db new, not up: exit $rc, stdout '$out', stderr: $err"
case "$err" in *"'$notup' is not up"*) ;; *) wf_fail "db new, not up, says: $err" ;; esac
wf_ok "db new mocks (exit 2, one line), db new nosuch (exit 2), db new of an environment not up (exit 1)"

# from a directory below the spec's (go test runs in a package's directory)
mkdir -p "$ws/internal/store"
sub=$(cd "$ws/internal/store" && envup db new db 2> "$ws/suberr") ||
	wf_fail "db new from a subdirectory: $(cat "$ws/suberr")"
[ "$(sql "$sub" "SELECT count(*) FROM users")" -ge 1 ] || wf_fail "the subdirectory's clone"
# db ls: held, by whom; --holder names it
held=$(cd "$ws" && envup db new db --holder "test_payments")
(cd "$ws" && envup db ls) > "$ws/ls" || wf_fail "db ls"
held_db=${held##*/}
held_db=${held_db%%\?*}
grep -q "$held_db .*test_payments" "$ws/ls" || wf_fail "db ls: $(cat "$ws/ls")"
pw=$(python3 -c "import sys, urllib.parse as u; print(u.urlparse(sys.argv[1]).password)" "$held")
grep -qF "$pw" "$ws/ls" && wf_fail "db ls shows the password"
(cd "$ws" && envup db drop "$held" && envup db drop "$sub") || wf_fail "drop"
(cd "$ws" && envup db ls --format json) | python3 -c "
import json, sys
held = json.load(sys.stdin)
assert all(h['holder'] != 'test_payments' for h in held), held" || wf_fail "db ls after drop"
wf_ok "db new from a subdirectory of the project; db ls shows who holds what (no password), --holder"

# ---- pool empty (ENVUP_DB_POOL=0) and a server that refuses ---------------------
wf_dir ws0
wf_name name0
printf 'name: %s\nservices:\n  db:\n    template: postgres\n    init: [schema.sql]\n' "$name0" > "$ws0/envup.yaml"
cp "$ws/schema.sql" "$ws0/"
# cold (ENVUP_SNAPSHOTS=0): the template made at up, whichever way the
# first environment started (a warm start brings it back with the snapshot)
exports0=$(cd "$ws0" && ENVUP_DB_POOL=0 ENVUP_SNAPSHOTS=0 envup up -q) || wf_fail "up with ENVUP_DB_POOL=0"
DB0_URL=$(eval "$exports0"; echo "$DB_URL")
DB0_PORT=$(eval "$exports0"; echo "$DB_PORT")
META0=$(url_db "$DB0_URL" envup_meta)
ADMIN0=$(url_db "$DB0_URL" postgres)
[ "$(sql "$META0" "SELECT value FROM settings WHERE key = 'pool_size'")" = 0 ] || wf_fail "the pool's size is not 0"
[ -z "$(fillers "$DB0_PORT")" ] || wf_fail "a pool filler runs for a pool of 0"
u=$(cd "$ws0" && envup db new db) || wf_fail "db new with an empty pool"
[ "$(sql "$u" 'SELECT count(*) FROM users')" = 2 ] || wf_fail "$u, made on demand, lacks the rows"
sleep 0.5
[ "$(sql "$META0" "SELECT count(*) FROM pool WHERE state <> 'held'")" = 0 ] || wf_fail "a pool of 0 was filled"
sql "$ADMIN0" 'ALTER DATABASE envup_template IS_TEMPLATE false' &&
	sql "$ADMIN0" 'ALTER DATABASE envup_template RENAME TO gone' || wf_fail "cannot take the template away"
dbs_before=$(sql "$ADMIN0" 'SELECT string_agg(datname, $$,$$ ORDER BY datname) FROM pg_database')
pool_before=$(sql "$META0" 'SELECT string_agg(datname || $$:$$ || state, $$,$$ ORDER BY datname) FROM pool')
out=$(cd "$ws0" && envup db new db 2> "$ws0/err") && wf_fail "db new without a template succeeded: $out"
rc=$?
err=$(cat "$ws0/err")
[ "$rc" = 1 ] && [ -z "$out" ] && one_line "$err" || wf_fail "db new, server refusing: exit $rc, stdout '$out', stderr: $err"
case "$err" in *"db: "*template*) ;; *) wf_fail "db new, server refusing, says: $err" ;; esac
[ "$(sql "$ADMIN0" 'SELECT string_agg(datname, $$,$$ ORDER BY datname) FROM pg_database')" = "$dbs_before" ] ||
	wf_fail "a refused db new left a database: $(sql "$ADMIN0" 'SELECT string_agg(datname, $$,$$) FROM pg_database')"
[ "$(sql "$META0" 'SELECT string_agg(datname || $$:$$ || state, $$,$$ ORDER BY datname) FROM pool')" = "$pool_before" ] ||
	wf_fail "a refused db new left a row in the pool table"
# a reset the server refuses leaves the main database as it was
sql "$DB0_URL" "INSERT INTO users (name) VALUES ('kept')" || wf_fail "insert"
(cd "$ws0" && envup reset db 2> "$ws0/reseterr") && wf_fail "reset without a template succeeded"
[ "$(sql "$DB0_URL" 'SELECT count(*) FROM users')" = 3 ] ||
	wf_fail "a refused reset lost the main database: $(cat "$ws0/reseterr")"
wf_ok "ENVUP_DB_POOL=0 (cold): no filler, made on demand; server refusing: exit 1, one line ($err), nothing half made; a refused reset keeps the main database"

# ---- the filler refilled the pool (ENVUP_DB_POOL default 4) ----------------------
# Long before its 30 s recheck: the NOTIFYs that came while it was cloning
# wake it (they wait in libpq's buffer, where poll() does not see them:
# once seen, it slept 29 s). Four clones take well under a second.
check_from=$(date +%s)
while :; do
	ready=$(sql "$META" "SELECT count(*) FROM pool WHERE state = 'ready'")
	[ "$ready" = 4 ] && break
	[ $(($(date +%s) - check_from)) -gt 5 ] &&
		wf_fail "the pool holds $ready ready databases $(($(date +%s) - refill_from)) s after the burst, want 4"
	sleep 0.2
done
wf_ok "the pool is back to 4 ready databases $(($(date +%s) - refill_from)) s after the burst"

# ---- envdown: everything goes, the filler too ------------------------------------
filler=$(fillers "$DB_PORT")
[ -n "$filler" ] || wf_fail "no pool filler is connected to the db service"
(cd "$ws" && envdown -q) && (cd "$ws0" && envdown -q) || wf_fail "envdown"
[ "$(wf_leftovers "$name")" = 0 ] && [ "$(wf_leftovers "$name0")" = 0 ] || wf_fail "envdown left resources"
for _ in $(seq 1 100); do
	kill -0 $filler 2>/dev/null || break
	sleep 0.1
done
kill -0 $filler 2>/dev/null && wf_fail "the pool filler (pid $filler) outlived envdown by 10 s"
out=$(cd "$ws" && envup db new db 2>&1) && wf_fail "db new after envdown succeeded"
rc=$?
[ "$rc" = 1 ] || wf_fail "db new after envdown: exit $rc: $out"
case "$out" in *"is not up: removed at "*) ;; *) wf_fail "db new after envdown says: $out" ;; esac
# (not checked: the held numbers' file, STATE_DIR/NAME.cache.redis, stays
# after envdown; a new up of the name ignores it, as it names the old
# instance)
wf_ok "envdown: nothing left on the engine, the pool filler gone; db new then: exit 1, 'is not up'"

# ---- the worked examples of docs/examples/, for real -----------------------------
wf_dir ex
cp -r "$WF_SOURCE_DIR/docs/examples/." "$ex/"
for example in rust-sqlx-style go-parallel-style; do
	exname=$(cd "$ex/$example" && envup status 2>&1 | sed -n "s/.*environment '\([^']*\)'.*/\1/p")
	[ -n "$exname" ] || wf_fail "no environment name for $example"
	wf_track "$exname"
	(cd / && timeout 60 bash "$ex/$example.sh") > "$ex/$example.log" 2>&1
	rc=$?
	[ "$rc" = 0 ] || { cat "$ex/$example.log"; wf_fail "docs/examples/$example.sh: exit $rc"; }
	case "$example" in
		rust-sqlx-style) grep -qx 'test result: ok. 6 passed; 0 failed' "$ex/$example.log" ;;
		go-parallel-style) [ "$(grep -c '^ok  	example.com/shop/' "$ex/$example.log")" = 2 ] ;;
	esac || { cat "$ex/$example.log"; wf_fail "docs/examples/$example.sh did not run every test"; }
	[ "$(wf_leftovers "$exname")" = 0 ] || wf_fail "docs/examples/$example.sh left $exname behind"
done
wf_ok "docs/examples/rust-sqlx-style.sh and go-parallel-style.sh pass, and leave nothing"
echo "took $(($(date +%s) - T0)) s"
