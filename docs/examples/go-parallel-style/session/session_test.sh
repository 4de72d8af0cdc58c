# shellcheck shell=bash
# package session (session_test.go): sessions kept in redis. Each test
# calls t.Parallel() and has a database number of its own.
. ../standin/testing.sh
. ../internal/envuptest/envuptest.sh

redis() { redis-cli -u "$1" --no-auth-warning "${@:2}"; }

TestLoginStoresSession() {
	local rdb
	NewDB rdb cache
	[ "$(redis "$rdb" DBSIZE)" = 0 ] || t_fatal "a fresh number holds keys"
	redis "$rdb" SET session:alice token EX 60 > /dev/null || t_fatal "SET"
	ttl=$(redis "$rdb" TTL session:alice)
	[ "$ttl" -gt 0 ] || t_fatal "TTL = $ttl"
}

TestLogoutEmptiesTheStore() {
	local rdb
	NewDB rdb cache
	redis "$rdb" SET session:bob token > /dev/null || t_fatal "SET"
	# FLUSHDB empties this test's number; FLUSHALL would empty every test's
	redis "$rdb" FLUSHDB > /dev/null || t_fatal "FLUSHDB"
	[ "$(redis "$rdb" DBSIZE)" = 0 ] || t_fatal "keys left after FLUSHDB"
}

TestCountsLogins() {
	local rdb
	NewDB rdb cache
	for _ in 1 2 3; do redis "$rdb" INCR logins > /dev/null || t_fatal "INCR"; done
	n=$(redis "$rdb" GET logins)
	[ "$n" = 3 ] || t_fatal "logins = $n, want 3 (another test's INCR seen?)"
}

go_test_main example.com/shop/session
