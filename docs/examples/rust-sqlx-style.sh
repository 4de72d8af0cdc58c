#!/usr/bin/env bash
# A Rust suite in the style of #[sqlx::test]: every test gets a database
# of its own and gives it back when it ends, passed or failed. Here the
# database comes from `envup db new db`, a clone of the migrated template,
# and a guard's Drop runs `envup db drop` (docs/isolation.md, "Rust").
#
#   bash docs/examples/rust-sqlx-style.sh        (from any directory)
#
# A stand-in, runnable without cargo: this script is the CI step (up, the
# tests, envdown), and `cargo_test` below is the test binary. libtest runs
# a crate's tests at the same time, on threads of one process, in the
# crate's root directory; here each test is a background subshell, and its
# body does with psql and redis-cli what the Rust body would do with sqlx
# and the redis crate. tests/workflow/test_isolation.sh runs this script.
set -u
CRATE=$(cd "$(dirname "$0")/rust-sqlx-style" && pwd)
cd "$CRATE" || exit 1    # cargo test runs in the crate's root, where envup.yaml is

# ---- the CI step ----------------------------------------------------------------
exports=$(envup up -q) || exit
eval "$exports"
trap 'envdown -q' EXIT

# ---- tests/common/mod.rs: the guards --------------------------------------------
# TestDb::new(SERVICE): `envup db new SERVICE`, its stdout is the URL (in
# the crate root, -f is not needed; the helper in docs/isolation.md passes
# it, for workspaces). Drop: `envup db drop URL` (dropped WITH (FORCE): a
# pool still open in the test does not block it).
with_db() {    # with_db SERVICE TEST_BODY: the body gets the URL as $1
	local url rc
	url=$(envup db new "$1") || return 1
	"$2" "$url"
	rc=$?
	envup db drop "$url" || rc=1
	return "$rc"
}

# sqlx::query(...).fetch_one(&pool): one value, errors on stderr
sql() { psql "$1" -X -qAt -v ON_ERROR_STOP=1 -c "$2"; }
redis() { redis-cli -u "$1" --no-auth-warning "${@:2}"; }
assert_eq() { [ "$1" = "$2" ] || { echo "assertion failed: left: $1, right: $2 ($3)" >&2; return 1; }; }

# ---- tests/accounts.rs ------------------------------------------------------------
# #[tokio::test] async fn starts_from_the_migrations() — slow on purpose:
# the other tests write and delete meanwhile, each in its own database.
starts_from_the_migrations() {
	sleep 0.5
	assert_eq "$(sql "$1" 'SELECT count(*) FROM accounts')" 2 "accounts after the migrations" &&
	assert_eq "$(sql "$1" 'SELECT sum(balance) FROM accounts')" 150 "money after the migrations"
}
test_starts_from_the_migrations() { with_db db starts_from_the_migrations; }

open_account() {
	sql "$1" "INSERT INTO accounts (email) VALUES ('carol@example.com')" &&
	assert_eq "$(sql "$1" 'SELECT count(*) FROM accounts')" 3 "accounts after opening one"
}
test_open_account() { with_db db open_account; }

duplicate_email_is_refused() {
	if sql "$1" "INSERT INTO accounts (email) VALUES ('alice@example.com')" 2> /dev/null; then
		echo "a second alice@example.com was accepted" >&2
		return 1
	fi
}
test_duplicate_email_is_refused() { with_db db duplicate_email_is_refused; }

transfer_moves_money() {
	sql "$1" "BEGIN;
		UPDATE accounts SET balance = balance - 30 WHERE email = 'alice@example.com';
		UPDATE accounts SET balance = balance + 30 WHERE email = 'bob@example.com';
		COMMIT" &&
	assert_eq "$(sql "$1" "SELECT balance FROM accounts WHERE email = 'bob@example.com'")" 80 "bob's balance" &&
	assert_eq "$(sql "$1" 'SELECT sum(balance) FROM accounts')" 150 "money is neither made nor lost"
}
test_transfer_moves_money() { with_db db transfer_moves_money; }

close_every_account() {
	sql "$1" 'DELETE FROM accounts' &&
	assert_eq "$(sql "$1" 'SELECT count(*) FROM accounts')" 0 "accounts after closing them all"
}
test_close_every_account() { with_db db close_every_account; }

# a redis database number of its own, empty when handed out
sessions_expire() {
	assert_eq "$(redis "$1" DBSIZE)" 0 "keys in a fresh number" &&
	redis "$1" SET session:alice token EX 60 > /dev/null &&
	assert_eq "$(redis "$1" EXISTS session:alice)" 1 "the session" &&
	redis "$1" FLUSHDB > /dev/null     # FLUSHDB, never FLUSHALL: that empties every test's number
}
test_sessions_expire() { with_db cache sessions_expire; }

# ---- the test binary: every test at once, then libtest's summary ------------------
cargo_test() {
	local out names=() pids=() failed=0 i t
	out=$(mktemp -d) || return 1
	mapfile -t names < <(declare -F | awk '$3 ~ /^test_/ { print $3 }')
	echo "running ${#names[@]} tests"
	for t in "${names[@]}"; do
		"$t" > "$out/$t" 2>&1 &
		pids+=("$!")
	done
	for i in "${!names[@]}"; do
		if wait "${pids[$i]}"; then
			echo "test ${names[$i]#test_} ... ok"
		else
			echo "test ${names[$i]#test_} ... FAILED"
			sed 's/^/    /' "$out/${names[$i]}"
			failed=$((failed + 1))
		fi
	done
	rm -rf "$out"
	if [ "$failed" = 0 ]; then
		echo "test result: ok. ${#names[@]} passed; 0 failed"
	else
		echo "test result: FAILED. $((${#names[@]} - failed)) passed; $failed failed"
		return 101
	fi
}

cargo_test
