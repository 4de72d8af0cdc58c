#!/bin/sh
# Every symbol the library exports starts with envup_ (house style: a
# library must not squat on names its users may have).
#   check_symbols.sh LIBRARY.a
set -eu
bad=$(nm -g --defined-only "$1" | awk 'NF == 3 { print $3 }' | grep -v '^envup_' || true)
if [ -n "$bad" ]; then
	echo "exported without the envup_ prefix:" >&2
	echo "$bad" >&2
	exit 1
fi
echo "all $(nm -g --defined-only "$1" | awk 'NF == 3' | wc -l) exported symbols start with envup_"
