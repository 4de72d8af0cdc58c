# shellcheck shell=bash
# Stand-in for Go's testing package, as much as the example needs (sourced
# by each package's *_test.sh). Nothing here is about envup.
#
#   t_cleanup CMD ARGS...   t.Cleanup: run at the end of the test, last
#                           registered first, passed or failed
#   t_fatal MSG             t.Fatal: the test fails here
#   go_test_main IMPORTPATH the package's test binary: every Test*
#                           function at once (each calls t.Parallel()),
#                           each in a subshell of its own, then what
#                           `go test` prints for the package; exit 1 when
#                           one failed

t_cleanups=()

t_cleanup() {
	local c
	printf -v c '%q ' "$@"
	t_cleanups=("$c" "${t_cleanups[@]}")
}

t_fatal() {
	echo "$*" >&2
	exit 1
}

# one test, in a subshell: its cleanups run however it ends, and a
# failing one fails the test
t_finish() {
	local rc=$? c
	for c in "${t_cleanups[@]}"; do
		eval "$c" || rc=1
	done
	exit "$rc"
}

t_run() {
	trap t_finish EXIT
	"$1"
}

go_test_main() {
	local pkg=$1 out start end names=() pids=() failed=0 i t
	start=$(date +%s.%N)
	out=$(mktemp -d) || return 1
	mapfile -t names < <(declare -F | awk '$3 ~ /^Test/ { print $3 }')
	for t in "${names[@]}"; do
		(t_run "$t") > "$out/$t" 2>&1 &
		pids+=("$!")
	done
	for i in "${!names[@]}"; do
		if ! wait "${pids[$i]}"; then
			echo "--- FAIL: ${names[$i]}"
			sed 's/^/    /' "$out/${names[$i]}"
			failed=$((failed + 1))
		fi
	done
	rm -rf "$out"
	end=$(date +%s.%N)
	if [ "$failed" = 0 ]; then
		awk -v p="$pkg" -v a="$start" -v b="$end" 'BEGIN { printf "ok  \t%s\t%.3fs\n", p, b - a }'
	else
		echo FAIL
		awk -v p="$pkg" -v a="$start" -v b="$end" 'BEGIN { printf "FAIL\t%s\t%.3fs\n", p, b - a }'
		return 1
	fi
}
