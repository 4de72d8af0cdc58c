#!/usr/bin/env bash
# Warm starts as users meet them: `eval "$(envup up)"` and `envdown` in
# separate shells, on a spec whose init script is this run's own (so its
# key is too). Checked with psql against every exported URL:
#   - the first up is cold and envdown right after it still leaves a
#     snapshot (it waits for the one being taken);
#   - the next up says it started from it, has the init script's rows, the
#     new password works and the old one does not, db new hands out clones;
#   - a row added to the init script: cold again, with the row;
#   - --no-snapshot and ENVUP_SNAPSHOTS=0: cold, and no snapshot taken;
#   - a snapshot that does not restore: removed, the up starts cold and
#     says so, the data is right;
#   - three warm ups of one key at once, all from the snapshot;
#   - envup snapshot ls/rm and gc: newest 3 kept per environment and
#     service; an image with envup's label that is not envup's own is never
#     listed or removed.
. "$(dirname "$0")/lib.sh"
wf_init
unset ENVUP_SNAPSHOTS
command -v psql >/dev/null || wf_fail "psql is missing (postgresql-client)"

FOREIGN=()
SNAP_NAMES=()
cleanup_snapshots() {
	local rc=$? n id
	for n in "${SNAP_NAMES[@]}"; do
		for id in $(docker images -q --filter "label=dev.envup.snapshot.env=$n" | sort -u); do
			docker rmi -f "$id" > /dev/null 2>&1 || true
		done
	done
	[ "${#FOREIGN[@]}" = 0 ] || docker rmi -f "${FOREIGN[@]}" > /dev/null 2>&1 || true
	wf_cleanup "$rc"
}
trap cleanup_snapshots EXIT

wf_dir dir
wf_name name
SNAP_NAMES+=("$name")
cat > "$dir/envup.yaml" <<EOF
name: $name
services:
  db:
    template: postgres
    init: [schema.sql]
EOF
cat > "$dir/schema.sql" <<EOF
-- run $$ $(date +%s%N)
CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO users (name) VALUES ('ada'), ('grace');
EOF

snapshots_of() { # NAME -> how many snapshot images envup lists for it
	envup snapshot ls --format json | python3 -c "
import json, sys
print(sum(1 for s in json.load(sys.stdin) if s['env'] == sys.argv[1]))" "$1"
}
up_in() { # DIR ERRFILE [ARGS] -> exports on stdout
	local d=$1 err=$2
	shift 2
	(cd "$d" && envup up "$@" 2> "$err")
}
users() { psql "$1" -Atc "SELECT string_agg(name, ',' ORDER BY id) FROM users"; }

# ---- 1. cold, then envdown at once: the snapshot is still made ---------------
bash -c "cd '$dir' && envup up > '$dir/env1' 2> '$dir/err1'" || wf_fail "up: $(cat "$dir/err1")"
grep -q "from snapshot" "$dir/err1" && wf_fail "the first up claims a snapshot: $(cat "$dir/err1")"
bash -c "cd '$dir' && envdown -q" || wf_fail "envdown failed"
[ "$(snapshots_of "$name")" = 1 ] || wf_fail "no snapshot after up + envdown: $(envup snapshot ls)"
old_url=$(. "$dir/env1"; echo "$DB_URL")
wf_ok "cold up, envdown right after it: one snapshot"

# ---- 2. warm ---------------------------------------------------------------
up_in "$dir" "$dir/err2" > "$dir/env2" || wf_fail "warm up: $(cat "$dir/err2")"
grep -q "db: creating .* from snapshot [0-9a-f]\{12\}" "$dir/err2" ||
	wf_fail "the second up does not say it started from the snapshot: $(cat "$dir/err2")"
grep -q "running init scripts" "$dir/err2" && wf_fail "the warm up ran the init scripts again"
url=$(. "$dir/env2"; echo "$DB_URL")
[ "$(users "$url")" = "ada,grace" ] || wf_fail "warm data: $(users "$url")"
[ "$url" != "$old_url" ] || wf_fail "the warm up reused the old password"
psql "${url%%\?*}?sslmode=disable&password=wrong" -Atc 'SELECT 1' > /dev/null 2>&1 &&
	wf_fail "a wrong password was accepted"
old_pw=$(python3 -c "import sys, urllib.parse as u; print(u.urlparse(sys.argv[1]).password)" "$old_url")
if PGPASSWORD="$old_pw" psql "postgres://test@${url#*@}" -Atc 'SELECT 1' > /dev/null 2>&1; then
	wf_fail "the first environment's password opens the warm one"
fi
clone=$(cd "$dir" && envup db new db) || wf_fail "db new on a warm start"
[ "$(users "$clone")" = "ada,grace" ] || wf_fail "a clone of the warm template: $(users "$clone")"
psql "$url" -Atc "SELECT datname FROM pg_database ORDER BY 1" | grep -qv -e '^postgres$' -e '^template' \
	-e '^test' -e '^envup_' && wf_fail "stray databases in the warm server"
(cd "$dir" && envdown -q)
wf_ok "warm up: from the snapshot, rows right, only the new password, clones work"

# ---- 3. a key input changes: cold, with the change ----------------------------
echo "INSERT INTO users (name) VALUES ('linus');" >> "$dir/schema.sql"
up_in "$dir" "$dir/err3" > "$dir/env3" || wf_fail "up after the change: $(cat "$dir/err3")"
grep -q "from snapshot" "$dir/err3" && wf_fail "a changed init script started warm: $(cat "$dir/err3")"
[ "$(users "$(. "$dir/env3"; echo "$DB_URL")")" = "ada,grace,linus" ] || wf_fail "the new row is missing"
(cd "$dir" && envdown -q)
[ "$(snapshots_of "$name")" = 2 ] || wf_fail "no snapshot of the changed spec"
up_in "$dir" "$dir/err4" > "$dir/env4" || wf_fail "warm up 2: $(cat "$dir/err4")"
grep -q "from snapshot" "$dir/err4" || wf_fail "the changed spec's second up is not warm"
[ "$(users "$(. "$dir/env4"; echo "$DB_URL")")" = "ada,grace,linus" ] || wf_fail "warm data after the change"
(cd "$dir" && envdown -q)
wf_ok "a row added to the init script: cold with the row, then warm with it"

# ---- 3b. a role a test makes right after up never enters a snapshot ---------------
echo "-- late $$" >> "$dir/schema.sql"
late_url=$(up_in "$dir" "$dir/err3b" | sed -n "s/^export DB_URL='\(.*\)'$/\1/p") || wf_fail "up: $(cat "$dir/err3b")"
psql "$late_url" -qc "CREATE ROLE late_$$" || wf_fail "create role"
(cd "$dir" && envdown -q)
up_in "$dir" "$dir/err3c" > "$dir/env3c" || wf_fail "up after the role: $(cat "$dir/err3c")"
[ "$(psql "$(. "$dir/env3c"; echo "$DB_URL")" -Atc "SELECT count(*) FROM pg_roles WHERE rolname = 'late_$$'")" = 0 ] ||
	wf_fail "a role made after up came back in a warm start"
(cd "$dir" && envdown -q)
wf_ok "a role made right after up: not in any snapshot ($(grep -q 'from snapshot' "$dir/err3c" && echo 'a later one was warm' || echo 'none taken'))"

# ---- 4. off: --no-snapshot and ENVUP_SNAPSHOTS=0 -------------------------------
# a key with a snapshot (the last one): --no-snapshot starts cold anyway
up_in "$dir" "$dir/err6" --no-snapshot > /dev/null || wf_fail "up --no-snapshot"
grep -q "from snapshot" "$dir/err6" && wf_fail "--no-snapshot started warm"
(cd "$dir" && envdown -q)
# a new key: with either switch, no snapshot is taken of it
before=$(snapshots_of "$name")
echo "-- off $$" >> "$dir/schema.sql"
up_in "$dir" "$dir/err5" --no-snapshot > /dev/null || wf_fail "up --no-snapshot: $(cat "$dir/err5")"
(cd "$dir" && envdown -q)
(cd "$dir" && ENVUP_SNAPSHOTS=0 envup up -q > /dev/null) || wf_fail "up with ENVUP_SNAPSHOTS=0"
(cd "$dir" && envdown -q)
[ "$(snapshots_of "$name")" = "$before" ] || wf_fail "a snapshot was taken with snapshots off"
wf_ok "--no-snapshot and ENVUP_SNAPSHOTS=0: cold, nothing taken"

# ---- 5. a snapshot that does not restore ----------------------------------------
sed -i '$d' "$dir/schema.sql"  # back to the key of 3b, which has a snapshot
key=$(envup snapshot ls --format json | python3 -c "
import json, sys
print([s['key'] for s in json.load(sys.stdin) if s['env'] == sys.argv[1]][0])" "$name")
bad=$(docker create --entrypoint /bin/sh "envup-snapshot:$key" -c true) || wf_fail "docker create"
docker cp "$dir/schema.sql" "$bad:/envup-snapshot/data/global/pg_control" ||
	wf_fail "cannot damage the copy"
docker commit "$bad" "envup-snapshot:$key" > /dev/null || wf_fail "docker commit"
docker rm -f "$bad" > /dev/null
damaged=$(docker images -q --no-trunc "envup-snapshot:$key")
up_in "$dir" "$dir/err7" > "$dir/env7" || wf_fail "up with a damaged snapshot: $(cat "$dir/err7")"
grep -q "snapshot ${key:0:12} did not restore (.*): removed it, starting cold" "$dir/err7" ||
	wf_fail "the damaged snapshot's failure is not said: $(cat "$dir/err7")"
[ "$(users "$(. "$dir/env7"; echo "$DB_URL")")" = "ada,grace,linus" ] || wf_fail "data after the fallback"
(cd "$dir" && envdown -q)
[ "$(docker images -q --no-trunc "envup-snapshot:$key")" != "$damaged" ] ||
	wf_fail "the damaged snapshot is still there"
wf_ok "a damaged snapshot: said, removed, cold start with the right data"

# ---- 6. three warm ups of one key at once --------------------------------------
pids=()
for i in 1 2 3; do
	wf_name "n$i"
	SNAP_NAMES+=("$(eval echo "\$n$i")")
	(cd "$dir" && envup up -n "$(eval echo "\$n$i")" > "$dir/par$i" 2> "$dir/parerr$i") &
	pids+=($!)
done
for i in 1 2 3; do
	wait "${pids[$((i - 1))]}" || wf_fail "parallel up $i: $(cat "$dir/parerr$i")"
	grep -q "from snapshot" "$dir/parerr$i" || wf_fail "parallel up $i was cold: $(cat "$dir/parerr$i")"
	[ "$(users "$(. "$dir/par$i"; echo "$DB_URL")")" = "ada,grace,linus" ] || wf_fail "parallel data $i"
done
for i in 1 2 3; do envdown -q -n "$(eval echo "\$n$i")"; done
wf_ok "three warm ups of one key at once"

# ---- 7. ls, gc keeps the newest 3, rm, and what is not envup's -----------------
# three more of this environment, newer: made as envup makes them (tagged
# envup-snapshot:KEY, labelled with that key), without three more cold ups
for i in 1 2 3; do
	k=$(printf '%s %s' "$name" "$i" | sha256sum | cut -c1-64)
	c=$(docker create --label dev.envup.snapshot=1 --label "dev.envup.snapshot.key=$k" \
		--label dev.envup.snapshot.format=1 --label "dev.envup.snapshot.env=$name" \
		--label dev.envup.snapshot.service=db "${ENVUP_HUB_IMAGE_PREFIX:-}nginx:1.27-alpine" true) ||
		wf_fail "docker create"
	docker commit "$c" "envup-snapshot:$k" > /dev/null || wf_fail "docker commit"
	docker rm -f "$c" > /dev/null
	sleep 1  # Created has whole seconds: one apart, the order is theirs
done
n=$(snapshots_of "$name")
[ "$n" -ge 4 ] || wf_fail "expected 4 or more snapshots of $name, saw $n"
# an image with envup's labels that envup did not make: a key that is not
# its tag's
fk=$(printf 'f%.0s' {1..64})
docker tag "envup-snapshot:$(envup snapshot ls --format json | python3 -c "
import json, sys; print([s['key'] for s in json.load(sys.stdin) if s['env'] == sys.argv[1]][0])" "$name")" \
	"envup-foreign/copy:1" || wf_fail "docker tag"
fid=$(docker create --label dev.envup.snapshot=1 --label "dev.envup.snapshot.key=$fk" \
	--label "dev.envup.snapshot.env=$name" --label dev.envup.snapshot.service=db \
	--label dev.envup.snapshot.format=1 "envup-foreign/copy:1" true)
docker commit "$fid" "envup-foreign/forged:$fk" > /dev/null
docker rm -f "$fid" > /dev/null
FOREIGN+=("envup-foreign/forged:$fk" "envup-foreign/copy:1")
envup snapshot ls | grep -q "^ffffffffffff" && wf_fail "a forged image is listed"
out=$(envup gc 2>&1) || wf_fail "gc: $out"
[ "$(snapshots_of "$name")" = 3 ] || wf_fail "gc kept $(snapshots_of "$name") of $name, not 3 ($out)"
echo "$out" | grep -q "removed [0-9]* older snapshot" || wf_fail "gc does not say what it removed: $out"
newest=$(envup snapshot ls --format json | python3 -c "
import json, sys; print([s['key'] for s in json.load(sys.stdin) if s['env'] == sys.argv[1]][0])" "$name")
envup snapshot rm "${newest:0:12}" 2> /dev/null || wf_fail "snapshot rm"
[ "$(snapshots_of "$name")" = 2 ] || wf_fail "snapshot rm did not remove one"
envup snapshot rm zz 2> "$dir/rmerr" && wf_fail "snapshot rm zz succeeded"
grep -q "not a snapshot key" "$dir/rmerr" || wf_fail "snapshot rm zz: $(cat "$dir/rmerr")"
envup snapshot rm ffffffffffff 2> /dev/null && wf_fail "a forged image was removed"
docker image inspect "envup-foreign/forged:$fk" > /dev/null 2>&1 || wf_fail "the forged image is gone"
wf_ok "ls, gc keeps 3 per environment and service, rm by key; a forged image is never touched"
