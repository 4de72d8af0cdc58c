#!/usr/bin/env bash
# A Go suite of parallel tests (t.Parallel()): each test gets databases of
# its own, from `envup db new` or cloned from the template with SQL, and
# gives them back in t.Cleanup (docs/isolation.md, "Go").
#
#   bash docs/examples/go-parallel-style.sh      (from any directory)
#
# A stand-in, runnable without go: this script is the CI step (up,
# `go test ./...`, envdown). go test runs one test binary per package, at
# the same time, each in its package's directory; here each package is a
# shell script (store/store_test.sh, session/session_test.sh) run the same
# way, whose tests do with psql and redis-cli what the Go would do with
# database/sql and go-redis. tests/workflow/test_isolation.sh runs this.
set -u
MODULE=$(cd "$(dirname "$0")/go-parallel-style" && pwd)
cd "$MODULE" || exit 1

# ---- the CI step ----------------------------------------------------------------
exports=$(envup up -q) || exit
eval "$exports"
trap 'envdown -q' EXIT

# ---- go test -count=1 ./... -------------------------------------------------------
# (-count=1: go's test cache cannot tell that a new environment came up)
go_test() {
	local out pkgs=(store session) pids=() rc=0 i
	out=$(mktemp -d) || return 1
	for i in "${!pkgs[@]}"; do
		(cd "$MODULE/${pkgs[$i]}" && bash "./${pkgs[$i]}_test.sh") > "$out/$i" 2>&1 &
		pids+=("$!")
	done
	for i in "${!pkgs[@]}"; do
		wait "${pids[$i]}" || rc=1
		cat "$out/$i"
	done
	rm -rf "$out"
	return "$rc"
}

go_test
