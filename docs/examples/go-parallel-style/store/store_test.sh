# shellcheck shell=bash
# package store (store_test.go): the user store's tests. Each one calls
# t.Parallel(), so they all run at once, and each has a database of its own.
. ../standin/testing.sh
. ../internal/envuptest/envuptest.sh

sql() { psql "$1" -X -qAt -v ON_ERROR_STOP=1 -c "$2"; }

TestCreateUser() {
	local db
	NewDB db db
	sql "$db" "INSERT INTO users (email, name) VALUES ('carol@example.com', 'Carol')" || t_fatal "insert"
	n=$(sql "$db" 'SELECT count(*) FROM users')
	[ "$n" = 3 ] || t_fatal "users = $n, want 3"
}

TestEmailIsUnique() {
	local db
	NewDB db db
	if sql "$db" "INSERT INTO users (email, name) VALUES ('alice@example.com', 'Eve')" 2> /dev/null; then
		t_fatal "a second alice@example.com was accepted"
	fi
}

TestDeleteAll() {
	local db
	CloneDB db
	sql "$db" 'DELETE FROM users' || t_fatal "delete"
	n=$(sql "$db" 'SELECT count(*) FROM users')
	[ "$n" = 0 ] || t_fatal "users = $n after DELETE, want 0"
}

# slow on purpose: the others write and delete meanwhile, in their own
# databases
TestSeedIsThere() {
	local db
	CloneDB db
	sleep 0.5
	names=$(sql "$db" 'SELECT string_agg(name, $$,$$ ORDER BY id) FROM users')
	[ "$names" = Alice,Bob ] || t_fatal "users = $names, want Alice,Bob"
}

go_test_main example.com/shop/store
