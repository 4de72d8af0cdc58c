#!/usr/bin/env bash
# An environment made by `envup up` lives as long as the work that needs
# it: the CI job or the terminal session, never merely the process that
# happened to run envup. Each case below is how real projects run it; each
# shows the environment still answers seconds after the process that ran
# envup has exited, and that the end of the job or session removes it.
. "$(dirname "$0")/lib.sh"
wf_init

SIM="$WF_SOURCE_DIR/tests/workflow/sim"

# ---- GitHub Actions: steps are separate shells under one Runner.Worker -----
# gha_job NAME WITH_DOWN: run the job in the fresh directory $dir
gha_job() {
	local name=$1 with_down=$2
	wf_spec "$dir"
	cat > "$dir/workflow.yml" <<EOF
jobs:
  test:
    steps:
      - run: envup up -n $name --format github
      - name: tests, in a later step
        run: |
          sleep 3
          test "\$(redis-cli -u "\$CACHE_URL" --no-auth-warning ping)" = PONG
          echo "step 2 saw PONG"
EOF
	if [ "$with_down" = 1 ]; then
		cat >> "$dir/workflow.yml" <<EOF
      - if: always()
        run: envdown -n $name
EOF
	fi
	(cd "$dir" && "$SIM/Runner.Worker" workflow.yml) > "$dir/job.log" 2>&1
	echo "$?" > "$dir/rc"
}

wf_name name
wf_dir dir
gha_job "$name" 0
grep -q "step 2 saw PONG" "$dir/job.log" || { cat "$dir/job.log"; wf_fail "GitHub job: step 2 did not reach redis"; }
[ "$(cat "$dir/rc")" = 0 ] || { cat "$dir/job.log"; wf_fail "GitHub job failed"; }
grep -q "owned by CI job [0-9]* (Runner.Worker)" "$dir/job.log" || { cat "$dir/job.log"; wf_fail "up did not name the job as owner"; }
wf_ok "GitHub Actions: the environment outlived step 1 and answered in step 2"
# the job ended (Runner.Worker exited, after killing the job's processes):
took=$(wf_gone "$name" 30) || exit 1
wf_ok "GitHub Actions: removed ${took}s after the job ended"
why=$(wf_removal_reason "$name") || exit 1
case "$why" in
	*"removed at "*"by its watchdog: its owner, CI job "*"(Runner.Worker), ended"*) ;;
	*) wf_fail "status does not say why it went: $why" ;;
esac
wf_ok "status says: $why"

# ---- make: up, test and down are separate recipe lines (separate shells) ---
wf_name name
wf_dir dir
wf_spec "$dir"
printf 'all:\n\tenvup up -n %s --format dotenv > .envup.env\n\tsleep 3\n\tset -a; . ./.envup.env; set +a; test "$$(redis-cli -u "$$CACHE_URL" --no-auth-warning ping)" = PONG\n\tenvdown -n %s\n' \
	"$name" "$name" > "$dir/Makefile"
out=$(make -C "$dir" 2>&1) || { echo "$out"; wf_fail "make: the environment did not survive its recipe line"; }
[ "$(wf_leftovers "$name")" = 0 ] || wf_fail "make: envdown left something"
wf_ok "make: the environment answered on a later recipe line"

# ---- timeout(1) is envup's parent, in a process group of its own -----------
wf_name name
wf_dir dir
wf_spec "$dir"
out=$(cd "$dir" && bash -c "eval \"\$(timeout 60 envup up -n $name)\" && sleep 3 && redis-cli -u \"\$CACHE_URL\" --no-auth-warning ping" 2>&1)
case "$out" in *PONG*) ;; *) echo "$out"; wf_fail "timeout: the environment was gone" ;; esac
wf_alive "$name" || wf_fail "timeout: gone after the shell ended"
wf_ok "timeout: alive seconds later, and after the calling shell"

# ---- $(envup up 2>up.log): bash forks a subshell for the redirect ----------
wf_name name
wf_dir dir
wf_spec "$dir"
out=$(cd "$dir" && bash -c "eval \"\$(envup up -n $name 2>up.log)\" && sleep 3 && redis-cli -u \"\$CACHE_URL\" --no-auth-warning ping" 2>&1)
case "$out" in *PONG*) ;; *) echo "$out"; cat "$dir/up.log"; wf_fail "redirect: the environment was gone" ;; esac
grep -q "owned by session" "$dir/up.log" || wf_fail "redirect: no ownership line in up.log"
wf_ok "redirect inside \$(...): alive seconds later"

# ---- a terminal that closes: SIGHUP to the session's process group ---------
wf_name name
wf_dir dir
wf_spec "$dir"
cat > "$dir/session.sh" <<EOF
cd "$dir" || exit 1
eval "\$(envup up -n $name 2>up.log)" || exit 1
echo \$\$ > ready
sleep 600
EOF
setsid bash "$dir/session.sh" < /dev/null > /dev/null 2>&1 &
for _ in $(seq 1 600); do [ -s "$dir/ready" ] && break; sleep 0.1; done
[ -s "$dir/ready" ] || { cat "$dir/up.log"; wf_fail "the session's envup up never finished"; }
leader=$(cat "$dir/ready")
grep -q "owned by session $leader (bash)" "$dir/up.log" || { cat "$dir/up.log"; wf_fail "not owned by session $leader"; }
sleep 2
wf_alive "$name" || wf_fail "session: gone while the session lives"
kill -HUP -- "-$leader"
took=$(wf_gone "$name" 30) || exit 1
wf_ok "closing the terminal (SIGHUP to session $leader) removed it in ${took}s"
why=$(wf_removal_reason "$name") || exit 1
case "$why" in *"its owner, session $leader (bash), ended"*) ;; *) wf_fail "status: $why" ;; esac

# ---- the owner is gone before up finishes: up fails, prints nothing --------
wf_name name
wf_dir dir
cat > "$dir/envup.yaml" <<EOF
services:
  cache: { template: redis }
  slow:
    image: nginx:1.27-alpine
    command: [sh, -c, "sleep 3; exec nginx -g 'daemon off;'"]
    ports: [80]
    wait: { tcp: 80 }
EOF
# the leader dies once up has chosen it (its network exists: the claim
# comes after the owner), while a service is still starting
cat > "$dir/session.sh" <<EOF
( envup up -n $name > out 2> err; echo \$? > rc ) &
for _ in \$(seq 1 300); do
	docker network ls -q --filter "label=dev.envup.env=$name" | grep . >/dev/null && break
	sleep 0.1
done
kill -9 \$\$
EOF
(cd "$dir" && setsid bash session.sh < /dev/null > /dev/null 2>&1)
for _ in $(seq 1 600); do [ -f "$dir/rc" ] && break; sleep 0.1; done
[ "$(cat "$dir/rc" 2>/dev/null)" = 1 ] || { cat "$dir/err"; wf_fail "up did not fail when its owner died (rc $(cat "$dir/rc" 2>/dev/null))"; }
[ ! -s "$dir/out" ] || wf_fail "up printed exports of an environment being removed"
grep -q "owner, session [0-9]* (bash), ended before up finished" "$dir/err" || { cat "$dir/err"; wf_fail "no reason given"; }
[ "$(wf_leftovers "$name")" = 0 ] || wf_fail "up left something behind"
wf_ok "owner gone before up finished: exit 1, no exports, nothing left"
