#!/bin/sh
# Run every libFuzzer target (fuzz/*_fuzzer.c) for a while.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60); TARGETs among spec interp pullstream
# demux placeholder (default all). Configures and builds a clang fuzz build
# in $ENVUP_FUZZ_BUILD (default build-fuzz), then runs each fuzzer on a
# temporary copy of fuzz/corpora/TARGET, so the repository's corpus only
# grows when someone adds a minimized crasher on purpose. Extra libFuzzer
# flags can be passed in $FUZZ_ARGS (e.g. FUZZ_ARGS=-max_len=16384).
#
# Prints one summary line per target on stdout (progress and crash logs go
# to stderr) and exits 1 when any target found a crash, leak, timeout or
# sanitizer report; its work directory (the log, the crashing input) is
# kept and named in the output.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${ENVUP_FUZZ_BUILD:-$root/build-fuzz}
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-spec interp pullstream demux placeholder}

case $seconds in
	''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DENVUP_BUILD_FUZZERS=ON >/dev/null
set --
for t in $targets; do
	set -- "$@" --target "${t}_fuzzer"
done
cmake --build "$build" -j"$(nproc)" "$@" >/dev/null

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=0
for t in $targets; do
	work=$(mktemp -d "${TMPDIR:-/tmp}/envup-fuzz-$t-XXXXXX")
	mkdir "$work/corpus" "$work/artifacts"
	cp "$root/fuzz/corpora/$t/"* "$work/corpus/"
	seeds=$(find "$work/corpus" -type f | wc -l)
	dict=""
	[ -f "$root/fuzz/$t.dict" ] && dict="-dict=$root/fuzz/$t.dict"
	echo "fuzz: $t for ${seconds}s ($seeds seeds, work dir $work)" >&2
	rc=0
	# shellcheck disable=SC2086 # $dict and $FUZZ_ARGS are lists of flags
	"$build/fuzz/${t}_fuzzer" -max_total_time="$seconds" -timeout=25 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/" $dict ${FUZZ_ARGS:-} \
		"$work/corpus" >"$work/log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	cov=$(grep -E '^#[0-9]+' "$work/log" | tail -n 1 | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*/cov \1, ft \2/p')
	corpus=$(find "$work/corpus" -type f | wc -l)
	if [ "$rc" -eq 0 ]; then
		line="$t: ok, ${execs:-?} execs in ${seconds}s, ${cov:-cov ?}, corpus $seeds -> $corpus"
		rm -rf "$work"
	else
		failed=1
		line="$t: FAILED (exit $rc), ${execs:-?} execs, ${cov:-cov ?}: see $work/log"
		for a in "$work/artifacts/"*; do
			[ -e "$a" ] && line="$line
  input: $a"
		done
		echo "---- $t: last lines of $work/log" >&2
		tail -n 40 "$work/log" >&2
	fi
	echo "$line"
done
exit $failed
