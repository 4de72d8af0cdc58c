# shellcheck shell=bash
# Package envuptest (internal/envuptest/envuptest.go in a Go module): what
# a test calls for databases of its own. A stand-in, sourced by the
# packages' *_test.sh; the Go it stands for is in docs/isolation.md ("Go").
#
#   NewDB VAR SERVICE   VAR := the URL of a database of the test's own,
#                       from `envup db new SERVICE` (postgres: a clone of
#                       the template; redis: a number of its own, empty);
#                       given back with `envup db drop` in t.Cleanup
#   CloneDB VAR         VAR := the URL of a clone of $DB_TEMPLATE made with
#                       SQL (CREATE DATABASE ... TEMPLATE), dropped with SQL
#                       in t.Cleanup: no envup at test time
# (both set a variable rather than print: $(...) would run them in a
# subshell, and the cleanup they register would be lost)

# go test runs a package's tests in the package's directory, where there
# is no envup.yaml (and envup, given none, would look for an environment
# named after that directory): find the module's spec by walking up, as
# one finds go.mod, and name it with -f.
envuptest_spec() {
	local d=$PWD
	while :; do
		[ -f "$d/envup.yaml" ] && { printf '%s\n' "$d/envup.yaml"; return 0; }
		[ "$d" = / ] && return 1
		d=$(dirname "$d")
	done
}

NewDB() {
	local spec url
	spec=$(envuptest_spec) || t_fatal "envuptest: no envup.yaml in $PWD or above"
	url=$(envup db new "$2" -f "$spec") || t_fatal "envuptest: envup db new $2 failed"
	t_cleanup envup db drop "$url" -f "$spec"
	printf -v "$1" '%s' "$url"
}

# The URL with another database: postgres://u:p@host:port/NAME?query
envuptest_url_db() {
	printf '%s\n' "$1" | sed -E "s#^([a-z]+://[^/]*)/[^?]*#\\1/$2#"
}

# The clone is made over a connection to the maintenance database
# "postgres", never the main one: envup reset recreates that, ending every
# connection to it. Names: t_<process>_<counter> in Go; here the
# subshell's pid and a random number.
CloneDB() {
	local name="t_${BASHPID}_${RANDOM}" admin
	admin=$(envuptest_url_db "$DB_URL" postgres)
	psql "$admin" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$name\" TEMPLATE \"$DB_TEMPLATE\"" ||
		t_fatal "envuptest: cannot clone $DB_TEMPLATE"
	t_cleanup psql "$admin" -X -q -v ON_ERROR_STOP=1 -c "DROP DATABASE \"$name\" WITH (FORCE)"
	printf -v "$1" '%s' "$(envuptest_url_db "$DB_URL" "$name")"
}
