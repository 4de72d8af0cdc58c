#!/bin/sh
# Every symbol the library exports starts with envup_ (house style: a
# library must not squat on names its users may have).
#   check_symbols.sh LIBRARY.a
set -eu
# (sanitizer builds add their own instrumentation symbols: not ours)
bad=$(nm -g --defined-only "$1" | awk 'NF == 3 { print $3 }' |
	grep -v -e '^envup_' -e '^__odr_asan' -e '^__asan' -e '^__ubsan' -e '^__sancov' || true)
if [ -n "$bad" ]; then
	echo "exported without the envup_ prefix:" >&2
	echo "$bad" >&2
	exit 1
fi
echo "all $(nm -g --defined-only "$1" | awk 'NF == 3' | wc -l) exported symbols start with envup_"
