#!/bin/sh
# Every function the public headers declare (ENVUP_EXTERN) is called by an
# API test.   check_calls.sh INCLUDE_DIR TESTS_DIR
set -eu
inc=$1 tests=$2
fns=$(grep -ho 'ENVUP_EXTERN([^)]*) *envup_[a-z0-9_]*' "$inc"/envup/*.h | sed 's/.* //' | sort -u)
[ -n "$fns" ] || { echo "no ENVUP_EXTERN declarations in $inc" >&2; exit 1; }
missing=""
n=0
for f in $fns; do
	n=$((n + 1))
	grep -q "\\b$f(" "$tests"/test_api_*.c || missing="$missing $f"
done
if [ -n "$missing" ]; then
	echo "public functions no API test calls:$missing" >&2
	exit 1
fi
echo "all $n public functions are called by tests/api"
