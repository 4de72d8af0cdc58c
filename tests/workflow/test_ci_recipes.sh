#!/usr/bin/env bash
# The recipes in docs/ci/, run as written under their runner's process
# model: the GitHub Actions workflow under a stand-in Runner.Worker (steps
# as separate shells, $GITHUB_ENV, ::add-mask::), the GitLab pipeline under
# a stand-in shell executor (jobs as `bash -l`, the dotenv report read by a
# later job's shell), the Makefile with real make, the shell script as is.
#
# The "tests" of each recipe are a stand-in cargo/go on PATH that check
# every exported URL with psql and redis-cli, as a Rust or Go suite would.
# Each recipe must: pass, keep passwords out of the logs it makes, and
# leave nothing behind; and against a failing spec, never run the tests,
# fail, and leave nothing behind.
. "$(dirname "$0")/lib.sh"
wf_init

SIM="$WF_SOURCE_DIR/tests/workflow/sim"
CI_DOCS="$WF_SOURCE_DIR/docs/ci"
command -v psql >/dev/null || wf_fail "psql is missing (postgresql-client)"

wf_dir tools
cat > "$tools/cargo" <<'EOF'
#!/bin/sh
# stand-in test suite: every exported URL answers its real client
set -e
echo "suite: $0 $*" >> "$SUITE_LOG"
test "$(psql "$TEST_DATABASE_URL" -XAtc 'select 40 + 2')" = 42
test "$(redis-cli -u "$REDIS_TEST_URL" --no-auth-warning set k v)" = OK
test "$(redis-cli -u "$REDIS_URL/1" --no-auth-warning get k)" = v
printf '%s\n' "$TEST_DATABASE_URL" > "$SUITE_LOG.url"
echo "integration tests passed"
EOF
cp "$tools/cargo" "$tools/go"
chmod +x "$tools/cargo" "$tools/go"
export PATH="$tools:$PATH"

# workspace: the spec a Rust or Go service keeps next to its code
workspace() {
	local ws=$1 broken=${2:-}
	cat > "$ws/envup.yaml" <<'EOF'
services:
  postgres:
    template: postgres
    export: { TEST_DATABASE_URL: "{{url}}" }
  redis:
    template: redis
    export: { REDIS_TEST_URL: "{{url}}/1" }
EOF
	if [ "$broken" = runtime ]; then
		cat >> "$ws/envup.yaml" <<'EOF'
  broken:
    image: nginx:1.27-alpine
    command: [sh, -c, "echo cannot start; exit 3"]
EOF
	elif [ "$broken" = spec ]; then
		echo "  typo: { imagee: nginx }" >> "$ws/envup.yaml"
	fi
	export SUITE_LOG="$ws/suite.log"
	rm -f "$SUITE_LOG" "$SUITE_LOG.url"
}

# The environment name the recipe's `envup up` printed.
up_name() {
	sed -n "s/.*environment '\([^']*\)' ready.*/\1/p" "$1" | head -1
}

password_of() {
	sed -n 's#^postgres://[^:]*:\([^@]*\)@.*#\1#p' "$1"
}

check_clean() {
	local what=$1 log=$2 n pw
	n=$(up_name "$log")
	[ -n "$n" ] || { cat "$log"; wf_fail "$what: no environment came up"; }
	wf_track "$n"
	[ "$(wf_leftovers "$n")" = 0 ] || wf_fail "$what: environment $n left behind"
	pw=$(password_of "$SUITE_LOG.url")
	[ -n "$pw" ] || wf_fail "$what: the suite saw no password"
	if grep -qF "$pw" "$log"; then
		wf_fail "$what: the log shows the password"
	fi
}

check_failed_safe() {
	local what=$1 rc=$2 log=$3
	[ "$rc" != 0 ] || { cat "$log"; wf_fail "$what: passed against a failing spec"; }
	[ ! -s "$SUITE_LOG" ] || { cat "$log"; wf_fail "$what: the tests ran against a failed environment"; }
	[ -z "$(docker ps -aq --filter label=dev.envup.managed=true --filter "label=dev.envup.service=broken")" ] ||
		wf_fail "$what: the failed environment was left behind"
}

# ---- GitHub Actions ---------------------------------------------------------
wf_dir ws
workspace "$ws"
cp "$CI_DOCS/github-actions.yml" "$ws/workflow.yml"
(cd "$ws" && "$SIM/Runner.Worker" workflow.yml) > "$ws/job.log" 2>&1 ||
	{ cat "$ws/job.log"; wf_fail "GitHub Actions recipe failed"; }
grep -q "integration tests passed" "$ws/job.log" || { cat "$ws/job.log"; wf_fail "GitHub: tests did not run"; }
grep -q "TEST_DATABASE_URL: postgres://test:\*\*\*@127.0.0.1" "$ws/job.log" ||
	{ cat "$ws/job.log"; wf_fail "GitHub: later steps do not show the masked URL"; }
check_clean "GitHub Actions" "$ws/job.log"
wf_ok "GitHub Actions recipe: steps as separate shells, variables via \$GITHUB_ENV, passwords masked, nothing left"

for broken in spec runtime; do
	wf_dir ws
	workspace "$ws" "$broken"
	cp "$CI_DOCS/github-actions.yml" "$ws/workflow.yml"
	(cd "$ws" && "$SIM/Runner.Worker" workflow.yml) > "$ws/job.log" 2>&1
	check_failed_safe "GitHub Actions ($broken error)" $? "$ws/job.log"
done
wf_ok "GitHub Actions recipe against a bad spec and a failing service: tests skipped, job failed"

# ---- GitLab CI: the dotenv report read by a later job ----------------------
# jobs run in login shells: /etc/profile resets PATH, and the profile of
# the runner's user brings envup and the tools back, as on a real runner
wf_dir glhome
printf 'export PATH="%s:%s:$PATH"\n' "$tools" "$ENVUP_BIN_DIR" > "$glhome/.bash_profile"
gitlab() {
	HOME="$glhome" "$SIM/gitlab-runner" "$@"
}
wf_dir ws
workspace "$ws"
cp "$CI_DOCS/gitlab-ci.yml" "$ws/.gitlab-ci.yml"
(cd "$ws" && gitlab .gitlab-ci.yml) > "$ws/pipeline.log" 2>&1 ||
	{ cat "$ws/pipeline.log"; wf_fail "GitLab recipe failed"; }
grep -q "integration tests passed" "$ws/pipeline.log" || { cat "$ws/pipeline.log"; wf_fail "GitLab: tests did not run"; }
grep -q "Job envdown succeeded" "$ws/pipeline.log" || wf_fail "GitLab: envdown did not run"
check_clean "GitLab CI" "$ws/pipeline.log"
wf_ok "GitLab CI recipe: the dotenv report reached the test job's shell; envdown job ran; nothing left"

for broken in spec runtime; do
	wf_dir ws
	workspace "$ws" "$broken"
	cp "$CI_DOCS/gitlab-ci.yml" "$ws/.gitlab-ci.yml"
	(cd "$ws" && gitlab .gitlab-ci.yml) > "$ws/pipeline.log" 2>&1
	check_failed_safe "GitLab CI ($broken error)" $? "$ws/pipeline.log"
	grep -q "Job envdown succeeded" "$ws/pipeline.log" || wf_fail "GitLab: envdown did not run after a failure"
done
wf_ok "GitLab CI recipe against a bad spec and a failing service: tests skipped, envdown ran"

# ---- make ------------------------------------------------------------------
wf_dir ws
workspace "$ws"
cp "$CI_DOCS/Makefile" "$ws/Makefile"
make -C "$ws" integration > "$ws/make.log" 2>&1 || { cat "$ws/make.log"; wf_fail "Makefile recipe failed"; }
grep -q "integration tests passed" "$ws/make.log" || wf_fail "make: tests did not run"
[ ! -e "$ws/.envup.env" ] || wf_fail "make: the file with the passwords was left behind"
check_clean "Makefile" "$ws/make.log"
wf_ok "Makefile recipe: up, tests and down on separate recipe lines; nothing left"

for broken in spec runtime; do
	wf_dir ws
	workspace "$ws" "$broken"
	cp "$CI_DOCS/Makefile" "$ws/Makefile"
	make -C "$ws" integration > "$ws/make.log" 2>&1
	check_failed_safe "Makefile ($broken error)" $? "$ws/make.log"
done
wf_ok "Makefile recipe against a bad spec and a failing service: make stopped before the tests"

# ---- the plain shell script --------------------------------------------------
wf_dir ws
workspace "$ws"
(cd "$ws" && sh "$CI_DOCS/integration.sh") > "$ws/sh.log" 2>&1 || { cat "$ws/sh.log"; wf_fail "integration.sh failed"; }
grep -q "integration tests passed" "$ws/sh.log" || wf_fail "integration.sh: tests did not run"
check_clean "integration.sh" "$ws/sh.log"
wf_ok "shell script recipe: passed, nothing left"

for broken in spec runtime; do
	wf_dir ws
	workspace "$ws" "$broken"
	(cd "$ws" && sh "$CI_DOCS/integration.sh") > "$ws/sh.log" 2>&1
	check_failed_safe "integration.sh ($broken error)" $? "$ws/sh.log"
done
wf_ok "shell script recipe against a bad spec and a failing service: stopped before the tests"
