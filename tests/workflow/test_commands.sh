#!/usr/bin/env bash
# The commands as a user meets them: what up says about ownership and a
# missing spec; status and ls in text and JSON (the schema README.md
# documents, never a password); logs of a service that does not exist;
# run --keep; the github and gitlab formats read back as GitHub and
# GitLab read them; what status and down say after envup removed it.
. "$(dirname "$0")/lib.sh"
wf_init

PY=/usr/bin/python3
SIM="$WF_SOURCE_DIR/tests/workflow/sim"

# ---- up without a spec ---------------------------------------------------------
wf_dir empty
out=$(cd "$empty" && envup up 2>&1) && wf_fail "up without envup.yaml succeeded"
rc=$?
[ "$rc" = 2 ] || wf_fail "up without envup.yaml: exit $rc, want 2"
case "$out" in
	*"no envup.yaml, compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml in $empty"*"-f FILE"*) ;;
	*) wf_fail "up without envup.yaml says: $out" ;;
esac
wf_ok "up without envup.yaml: exit 2, names the directory and suggests -f"

# ---- up, and what it says about ownership --------------------------------------
wf_dir dir
wf_spec "$dir"
wf_name name
exports=$(cd "$dir" && envup up -n "$name" 2> "$dir/up.err") || { cat "$dir/up.err"; wf_fail "up"; }
grep -Eq "^envup: owned by session [0-9]+ \(.*\), expires [0-9]{2}:[0-9]{2}; \`envdown -n $name\` removes it sooner$" "$dir/up.err" ||
	{ cat "$dir/up.err"; wf_fail "no ownership line"; }
password=$(eval "$exports"; echo "${CACHE_URL#redis://default:}" | cut -d@ -f1)
[ -n "$password" ] && [ "${#password}" -ge 16 ] || wf_fail "no generated password in $exports"
wf_ok "up: one line says who owns it and when it expires"

# ---- status and ls, text and JSON ------------------------------------------------
st=$(envup status -n "$name") || wf_fail "status"
case "$st" in *"owner       session "*"expires     "*"cache"*"running"*"127.0.0.1:"*"->6379/tcp"*) ;;
	*) wf_fail "status text: $st" ;; esac
js=$(envup status -n "$name" --format json) || wf_fail "status --format json"
printf '%s' "$js" | NAME="$name" "$PY" -c '
import json, os, sys
d = json.load(sys.stdin)
assert d["name"] == os.environ["NAME"] and d["up"] is True, d
o = d["owner"]
assert o["kind"] == "session" and isinstance(o["pid"], int) and o["alive"] is True, o
assert o["command"] and o["text"].startswith("session "), o
assert d["keep"] is False and d["expires"].endswith("Z") and d["created"].endswith("Z"), d
(s,) = d["services"]
assert s["service"] == "cache" and s["state"] == "running" and "redis" in s["image"], s
(p,) = s["ports"]
assert p["container_port"] == 6379 and p["protocol"] == "tcp", p
assert p["host_ip"] == "127.0.0.1" and 1024 <= p["host_port"] <= 65535, p
' || wf_fail "status --format json does not follow the schema: $js"
js=$(envup ls --format json) || wf_fail "ls --format json"
printf '%s' "$js" | NAME="$name" "$PY" -c '
import json, os, sys
envs = [e for e in json.load(sys.stdin) if e["name"] == os.environ["NAME"]]
assert len(envs) == 1, envs
e = envs[0]
assert e["containers"] == 1 and e["running"] == 1 and e["keep"] is False, e
assert e["owner"]["kind"] == "session" and e["expires"].endswith("Z"), e
' || wf_fail "ls --format json does not follow the schema: $js"
for cmd in "status -n $name" "status -n $name --format json" "ls" "ls --format json"; do
	# shellcheck disable=SC2086
	if envup $cmd 2>&1 | grep -F "$password" >/dev/null; then
		wf_fail "envup $cmd shows the password"
	fi
done
wf_ok "status and ls, text and JSON: owner, expiry, ports; no password"

# ---- logs of a service that does not exist ---------------------------------------
out=$(envup logs -n "$name" nosuch 2>&1) && wf_fail "logs nosuch succeeded"
case "$out" in *"has no service 'nosuch'; its services: cache"*) ;; *) wf_fail "logs nosuch: $out" ;; esac
wf_ok "logs nosuch lists the services"

# ---- the github format, read back as the runner reads it -------------------------
ghenv="$dir/github_env"
: > "$ghenv"
masks=$(GITHUB_ENV="$ghenv" envup env -n "$name" --format github 2>/dev/null) || wf_fail "env --format github"
grep -qxF "::add-mask::$password" <<< "$masks" || wf_fail "no ::add-mask:: for the password: $masks"
[ "$(grep -vc '^::add-mask::' <<< "$masks")" = 0 ] || wf_fail "stdout holds more than masks: $masks"
envup env -n "$name" --format json > "$dir/exports.json"
"$PY" - "$SIM/Runner.Worker" "$ghenv" "$dir/exports.json" <<'EOF' || wf_fail "\$GITHUB_ENV does not read back as the exports"
import importlib.machinery, importlib.util, json, sys
loader = importlib.machinery.SourceFileLoader("runner", sys.argv[1])
spec = importlib.util.spec_from_loader("runner", loader)
runner = importlib.util.module_from_spec(spec)
loader.exec_module(runner)
got = runner.parse_env_file(sys.argv[2])
want = json.load(open(sys.argv[3]))
assert got == want, (got, want)
EOF
wf_ok "--format github: masks on stdout, \$GITHUB_ENV reads back as the exports"

# ---- the gitlab format, read back as GitLab reads it -----------------------------
envup env -n "$name" --format gitlab > "$dir/gitlab.env" || wf_fail "env --format gitlab"
"$PY" - "$dir/gitlab.env" "$dir/exports.json" <<'EOF' || wf_fail "the dotenv report does not read back as the exports"
import json, re, sys
got = {}
for line in open(sys.argv[1]).read().split("\n")[:-1]:
    m = re.match(r"^(.*?)=(.*)$", line)
    assert m, line
    got[m.group(1).strip()] = m.group(2).strip()
assert got == json.load(open(sys.argv[2])), got
EOF
wf_ok "--format gitlab: the report reads back as the exports"

# ---- a value GitLab cannot carry: an error naming it, nothing left ---------------
wf_dir bad
wf_name badname
printf 'services:\n  cache:\n    template: redis\n    export: { GREETING: "hello world" }\n' > "$bad/envup.yaml"
out=$(cd "$bad" && envup up -n "$badname" --format gitlab 2>&1 > "$bad/out") && wf_fail "gitlab format of a blank passed"
rc=$?
[ "$rc" = 2 ] || wf_fail "gitlab format refusal: exit $rc, want 2: $out"
case "$out" in *"--format gitlab: the value of GREETING holds a blank"*) ;; *) wf_fail "refusal says: $out" ;; esac
[ ! -s "$bad/out" ] || wf_fail "a refused format printed exports"
[ "$(wf_leftovers "$badname")" = 0 ] || wf_fail "a refused format left the environment up"
wf_ok "--format gitlab refuses 'hello world' by name, exit 2, nothing left"

# ---- run --keep --------------------------------------------------------------------
wf_name kept
out=$(cd "$dir" && envup run --keep -n "$kept" -- true 2>&1) || wf_fail "run --keep: $out"
case "$out" in *"kept (no owner), expires "*) ;; *) wf_fail "run --keep says: $out" ;; esac
wf_alive "$kept" || wf_fail "run --keep took the environment down"
envdown -q -n "$kept" || wf_fail "envdown of a kept environment"
wf_ok "run --keep leaves the environment up, and says until when"

# ---- after envdown: status and down say when and why ------------------------------
envdown -q -n "$name" || wf_fail "envdown"
out=$(envup status -n "$name" 2>&1) && wf_fail "status after envdown exits 0"
case "$out" in *"is not up: removed at "*" by envdown: it was taken down"*) ;; *) wf_fail "status: $out" ;; esac
out=$(envdown -n "$name" 2>&1) || wf_fail "a second envdown failed: $out"
case "$out" in *"is not up: removed at "*" by envdown"*) ;; *) wf_fail "second envdown: $out" ;; esac
js=$(envup status -n "$name" --format json) && wf_fail "status --format json of a removed one exits 0"
printf '%s' "$js" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
r = d["removed"]
assert d["up"] is False and r["by"] == "envdown" and r["reason"] == "it was taken down", d
assert r["at"].endswith("Z"), d
' || wf_fail "status --format json of a removed environment: $js"
wf_ok "after envdown, status (text and JSON) and down say when and by what"

# ---- records do not accumulate: old ones are pruned, big logs rotated --------------
for f in old-1.removed old-2.watchdog.log old-3.watchdog.log.1; do
	echo '{}' > "$ENVUP_STATE_DIR/$f"
	touch -d '8 days ago' "$ENVUP_STATE_DIR/$f"
done
echo '{}' > "$ENVUP_STATE_DIR/fresh.removed"
head -c 300000 /dev/zero | tr '\0' x > "$ENVUP_STATE_DIR/$name.watchdog.log"
envup gc -q || wf_fail "gc"
for f in old-1.removed old-2.watchdog.log old-3.watchdog.log.1; do
	[ ! -e "$ENVUP_STATE_DIR/$f" ] || wf_fail "gc kept $f, 8 days old"
done
[ -e "$ENVUP_STATE_DIR/fresh.removed" ] || wf_fail "gc pruned a fresh record"
(cd "$dir" && envup up -q -n "$name" > /dev/null) || wf_fail "up"
[ -e "$ENVUP_STATE_DIR/$name.watchdog.log.1" ] || wf_fail "a 300 KB watchdog log was not rotated"
[ "$(stat -c %s "$ENVUP_STATE_DIR/$name.watchdog.log")" -lt 10000 ] || wf_fail "the new log is not fresh"
[ ! -e "$ENVUP_STATE_DIR/$name.removed" ] || wf_fail "a new up kept the old removal record"
envdown -q -n "$name"
wf_ok "records older than 7 days are pruned, logs past 256 KiB rotated, a new up forgets the old record"

# ---- gc's record, and env of a removed environment ---------------------------------
wf_name name
sleep 600 &
owner=$!
WF_PIDS+=("$owner")
(cd "$dir" && envup up -q -n "$name" --owner-pid "$owner" > /dev/null) || wf_fail "up --owner-pid"
# the watchdog is killed too (a runner that kills the job's cgroup): gc must do it
pkill -9 -f "envup-watchdog --env $name " || wf_fail "no watchdog for $name"
kill -9 "$owner"
wait "$owner" 2>/dev/null
out=$(envup gc 2>&1) || wf_fail "gc: $out"
case "$out" in *"removed $name (its owner, process $owner (sleep), is gone)"*) ;; *) wf_fail "gc says: $out" ;; esac
[ "$(wf_leftovers "$name")" = 0 ] || wf_fail "gc left $name"
out=$(envup env -n "$name" 2>&1) && wf_fail "env of a removed environment exits 0"
case "$out" in *"is not up: removed at "*" by envup gc: its owner, process $owner (sleep), is gone"*) ;;
	*) wf_fail "env of a removed environment says: $out" ;; esac
wf_ok "gc records why; env of the removed environment says so"

# ---- another session's live environment: envdown leaves it, unless --force -----
wf_name name
cat > "$dir/other.sh" <<SH
cd "$dir" || exit 1
envup up -q -n $name > /dev/null 2> other.err || exit 1
echo \$\$ > other.ready
exec sleep 600
SH
setsid bash "$dir/other.sh" < /dev/null > /dev/null 2>&1 &
WF_PIDS+=("$!")
for _ in $(seq 1 600); do [ -s "$dir/other.ready" ] && break; sleep 0.1; done
[ -s "$dir/other.ready" ] || { cat "$dir/other.err"; wf_fail "the other session's up"; }
other=$(cat "$dir/other.ready")
out=$(envdown -n "$name" 2>&1) && wf_fail "envdown removed another live session's environment"
case "$out" in *"belongs to session $other (bash), which is still running"*"envdown --force -n $name"*) ;;
	*) wf_fail "envdown's refusal says: $out" ;; esac
wf_alive "$name" || wf_fail "the refused envdown touched it"
out=$(envdown --force -n "$name" 2>&1) || wf_fail "envdown --force: $out"
[ "$(wf_leftovers "$name")" = 0 ] || wf_fail "envdown --force left something"
kill -9 "$other" 2>/dev/null
wf_ok "envdown leaves another live session's environment (exit 1, says whose), --force removes it"

# ---- stdin closed; a relative state directory; names between services ------------
wf_name name
wf_dir rel
mkdir -m 700 "$rel/state"
cat > "$rel/envup.yaml" <<'YAML'
services:
  cache: { template: redis }
  client:
    image: nginx:1.27-alpine
    command: [sh, -c, "getent hosts cache || exit 9; exec sleep 1000"]
    depends_on: [cache]
YAML
(cd "$rel" && ENVUP_STATE_DIR=state envup up -q -n "$name" <&- > /dev/null) || wf_fail "up with stdin closed"
sleep 2
(cd "$rel" && ENVUP_STATE_DIR=state wf_alive "$name") || wf_fail "with stdin closed, the environment went"
[ -s "$rel/state/$name.watchdog.log" ] || wf_fail "the watchdog lost a relative state directory"
grep -q "envup up finished; watching" "$rel/state/$name.watchdog.log" || wf_fail "the watchdog did not see up finish"
[ "$(docker inspect -f '{{.State.Running}}' "envup-$name-client")" = true ] || wf_fail "client could not resolve cache"
(cd "$rel" && ENVUP_STATE_DIR=state envdown -q -n "$name") || wf_fail "envdown"
wf_ok "stdin closed, a relative ENVUP_STATE_DIR, and services reaching each other by name"
