#!/usr/bin/env bash
# The installed library and tool, as a user meets them:
#   1. `cmake --install` into a fresh prefix gives bin/envup, bin/envdown
#      (a relative link), lib/libenvup.so.MAJOR with its soname,
#      libenvup.a, the headers, envup.pc, the helper, man pages, completion;
#   2. the prefix can be moved: envup.pc and the programs follow it;
#   3. the shared library exports exactly the functions include/ declares;
#   4. the manuals render without warnings and the synopsis of libenvup(3)
#      names every public function;
#   5. the API tests (tests/api) built against the moved prefix with
#      pkg-config, shared and static, run and pass: up a spec, read the
#      exports, down (against the engine when there is one);
#   6. installed into /usr/local (in a private mount namespace, so the
#      machine is not touched), a program built with plain
#      `pkg-config --cflags --libs envup` runs without LD_LIBRARY_PATH.
#
#   test_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
WORK=$(mktemp -d /tmp/envup-install-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }
unset LD_LIBRARY_PATH

VERSION=$(sed -n 's/^#define ENVUP_VERSION_STRING "\(.*\)"/\1/p' "$SRC/include/envup/common.h")
MAJOR=${VERSION%%.*}

step "1. install into a fresh prefix"
P=$WORK/prefix
cmake --install "$BUILD" --prefix "$P" >"$WORK/install.log" || { cat "$WORK/install.log"; fail "cmake --install"; }
pc=$(find "$P" -name envup.pc)
[ -n "$pc" ] || fail "no envup.pc installed"
LIBDIR=$(dirname "$(dirname "${pc#"$P"/}")")
for f in bin/envup bin/envdown "$LIBDIR/libenvup.so.$MAJOR" "$LIBDIR/libenvup.so.$VERSION" \
	"$LIBDIR/libenvup.so" "$LIBDIR/libenvup.a" "$LIBDIR/pkgconfig/envup.pc" \
	include/envup.h include/envup/common.h include/envup/up.h include/envup/env.h \
	include/envup/target.h include/envup/spec.h include/envup/progress.h \
	libexec/envup/envup-watchdog \
	share/man/man1/envup.1 share/man/man1/envdown.1 share/man/man5/envup.yaml.5 \
	share/man/man3/libenvup.3 \
	share/bash-completion/completions/envup share/bash-completion/completions/envdown \
	share/zsh/site-functions/_envup; do
	[ -e "$P/$f" ] || fail "cmake --install did not install $f"
done
[ "$(readlink "$P/bin/envdown")" = envup ] || fail "bin/envdown is not a relative link to envup: $(readlink "$P/bin/envdown")"
soname=$(readelf -d "$P/$LIBDIR/libenvup.so.$VERSION" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libenvup.so.$MAJOR" ] || fail "soname is '$soname', not libenvup.so.$MAJOR"
grep -rq "$BUILD" "$P/$LIBDIR/pkgconfig/envup.pc" && fail "envup.pc names the build directory"
echo "installed: $(cd "$P" && find . -type f -o -type l | wc -l) files; soname $soname"

step "2. the prefix moves"
mv "$P" "$WORK/moved"
P=$WORK/moved
export PKG_CONFIG_PATH=$P/$LIBDIR/pkgconfig
[ "$(pkg-config --modversion envup)" = "$VERSION" ] || fail "pkg-config --modversion envup"
# (pkg-config does not shorten ${pcfiledir}/../..: compare real paths)
inc=$(pkg-config --cflags-only-I envup | tr ' ' '\n' | sed -n '1s/^-I//p')
[ "$(realpath "$inc")" = "$P/include" ] || fail "pkg-config --cflags envup gives -I$inc, not $P/include"
lib=$(pkg-config --libs-only-L envup | tr ' ' '\n' | sed -n '1s/^-L//p')
[ "$(realpath "$lib")" = "$P/$LIBDIR" ] || fail "pkg-config --libs envup gives -L$lib, not $P/$LIBDIR"
[ "$("$P/bin/envup" --version)" = "envup $VERSION" ] || fail "bin/envup --version: $("$P/bin/envup" --version 2>&1)"
"$P/bin/envdown" --help | grep "usage: envdown" >/dev/null || fail "bin/envdown --help"
found=$(ldd "$P/bin/envup" | sed -n "s/.*libenvup.so.$MAJOR => \([^ ]*\) .*/\1/p")
[ -n "$found" ] && [ "$(realpath "$found")" = "$(realpath "$P/$LIBDIR/libenvup.so.$MAJOR")" ] ||
	fail "bin/envup does not find its library in the prefix: $(ldd "$P/bin/envup" | grep envup)"

step "3. exported symbols = the functions include/ declares"
nm -D --defined-only "$P/$LIBDIR/libenvup.so.$MAJOR" | awk '$2 ~ /^[TtWDdBbRr]$/ { print $3 }' |
	grep -v -e '^_init$' -e '^_fini$' -e '^_edata$' -e '^_end$' -e '^__bss_start$' | sort -u >"$WORK/exported"
grep -ho 'ENVUP_EXTERN([^)]*) *envup_[a-z0-9_]*' "$P"/include/envup/*.h | sed 's/.* //' | sort -u >"$WORK/declared"
if ! diff -u "$WORK/declared" "$WORK/exported" >"$WORK/symbols.diff"; then
	cat "$WORK/symbols.diff" >&2
	fail "the library exports other symbols than include/ declares (- declared only, + exported only)"
fi
echo "$(wc -l <"$WORK/exported") symbols exported, all declared in include/"

step "4. manuals"
for page in man1/envup.1 man1/envdown.1 man5/envup.yaml.5 man3/libenvup.3; do
	warnings=$(cd "$P/share/man" && MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null) ||
		fail "man -l $page failed: $warnings"
	[ -z "$warnings" ] || fail "man -l $page warns: $warnings"
	lines=$(cd "$P/share/man" && MANWIDTH=80 man -l "$page" 2>/dev/null | wc -l)
	[ "$lines" -gt 20 ] || fail "man -l $page renders only $lines lines"
done
MANPATH=$P/share/man man -w envdown >/dev/null || fail "man envdown does not find its page"
synopsis=$(MANWIDTH=200 man -l "$P/share/man/man3/libenvup.3" 2>/dev/null | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p')
for fn in $(cat "$WORK/declared"); do
	grep -q "$fn(" <<<"$synopsis" || fail "libenvup(3)'s synopsis does not list $fn"
done
for cmd in up down run env status logs ls gc services config db reset snapshot; do
	MANWIDTH=200 man -l "$P/share/man/man1/envup.1" 2>/dev/null | grep "envup $cmd\|^ *$cmd" >/dev/null ||
		fail "envup(1) does not describe $cmd"
done
echo "4 pages render without warnings"

step "5. the API tests, built against the moved prefix"
api=$SRC/tests/api
deps="libpq hiredis libcurl libcjson cmocka"
# shellcheck disable=SC2046
# the programs a suite builds first (no engine), one of each kind that runs
# helper processes from the prefix's libexec (the watchdog; the pool
# filler): the threads and snapshot programs add nothing the build tree's
# run does not test, and CI has 25 minutes
for t in "$api"/test_api_spec.c "$api"/test_api_alloc.c "$api"/test_api_env.c "$api"/test_api_db.c; do
	name=$(basename "$t" .c)
	cc -std=c11 -Wall -Werror -o "$WORK/$name" "$t" "$api/api.c" \
		$(pkg-config --cflags envup $deps) \
		$(pkg-config --libs envup $deps) -pthread -Wl,-rpath,"$(realpath "$(pkg-config --variable=libdir envup)")" ||
		fail "$name does not build against the installed prefix"
	ldd "$WORK/$name" | grep "libenvup.so.$MAJOR => $P/$LIBDIR/" >/dev/null ||
		fail "$name does not use the installed library: $(ldd "$WORK/$name" | grep envup)"
	rc=0
	(cd "$WORK" && "./$name" >"$WORK/$name.log" 2>&1) || rc=$?
	if [ "$rc" = 77 ]; then
		echo "$name: skipped (no engine)"
	elif [ "$rc" != 0 ]; then
		cat "$WORK/$name.log" >&2
		fail "$name against the installed library: exit $rc"
	else
		echo "$name: $(grep -c '\[       OK \]' "$WORK/$name.log") passed"
	fi
done
# the static library: nothing of libenvup.so in the program
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$WORK/static_spec" "$api/test_api_spec.c" "$api/api.c" \
	$(pkg-config --cflags envup $deps) $(pkg-config --variable=static_libs envup) \
	$(pkg-config --libs $deps) -pthread ||
	fail "the API test does not link with libenvup.a (pkg-config --variable=static_libs envup)"
ldd "$WORK/static_spec" | grep libenvup >/dev/null && fail "the static build still needs libenvup.so"
(cd "$WORK" && ./static_spec >"$WORK/static.log" 2>&1) || { cat "$WORK/static.log" >&2; fail "static_spec"; }
echo "test_api_spec linked with libenvup.a: passed"

step "6. a standard prefix, no LD_LIBRARY_PATH"
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	if [ "${CI:-}" = true ]; then
		fail "needs root and unshare -m (CI runs as root)"
	fi
	echo "skipped: needs root and unshare -m (to install into /usr/local privately)"
	exit 0
fi
cat >"$WORK/hello.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <envup.h>
int main(void)
{
	envup_spec *spec = NULL;
	if (envup_spec_read_text(&spec, "services:\n  db: { template: postgres }\n", NULL, NULL) < 0) {
		fprintf(stderr, "%s\n", envup_error_last()->message);
		return 1;
	}
	printf("%s %s\n", envup_version(), envup_spec_service_name(spec, 0));
	envup_spec_free(spec);
	return strcmp(envup_version(), ENVUP_VERSION_STRING) != 0;
}
C
# (ldconfig replaces /etc/ld.so.cache by a rename: the private /etc is a copy)
cp -a /etc "$WORK/etc"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")
[ "$prefix" = /usr/local ] || { echo "skipped: the build was configured for $prefix, not /usr/local"; exit 0; }
WORK=$WORK BUILD=$BUILD MAJOR=$MAJOR VERSION=$VERSION unshare -m bash -euo pipefail -c '
	mount --make-rprivate /
	mount -t tmpfs tmpfs /usr/local
	mount --bind "$WORK/etc" /etc
	unset PKG_CONFIG_PATH
	cmake --install "$BUILD" >/dev/null
	cc -o "$WORK/hello" "$WORK/hello.c" $(pkg-config --cflags --libs envup)
	out=$(env -u LD_LIBRARY_PATH "$WORK/hello")
	[ "$out" = "$VERSION db" ] || { echo "hello printed: $out" >&2; exit 1; }
	ldd "$WORK/hello" | grep "libenvup.so.$MAJOR => /usr/local/lib" >/dev/null || { ldd "$WORK/hello" >&2; exit 1; }
	[ "$(/usr/local/bin/envup --version)" = "envup $VERSION" ]
	MANPATH=/usr/local/share/man man -w envup.yaml >/dev/null
' || fail "installed into /usr/local, a program built with pkg-config does not run"
echo "/usr/local: built with plain pkg-config, runs without LD_LIBRARY_PATH"
echo "ok"
