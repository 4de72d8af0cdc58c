#!/usr/bin/env bash
# Two jobs, one name: two `envup up` of the same name at the same moment
# (two CI jobs in checkouts of the same name). At most one wins; the loser
# fails with a clear message and touches nothing of the winner's; no
# duplicate network is left; envdown works every round, and the name works
# again. Then: leftovers of older versions (two networks of one name) go
# with envdown; and default names differ between checkouts of one name.
. "$(dirname "$0")/lib.sh"
wf_init

ROUNDS=${WF_ROUNDS:-20}
wf_dir dir
wf_spec "$dir"
wf_name name
wins=0
for round in $(seq 1 "$ROUNDS"); do
	stagger=$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", (r % 301) / 1000 }')
	(cd "$dir" && envup up -n "$name" > a.out 2> a.err; echo $? > a.rc) &
	a=$!
	sleep "$stagger"
	(cd "$dir" && envup up -n "$name" > b.out 2> b.err; echo $? > b.rc) &
	b=$!
	wait "$a" "$b"
	ra=$(cat "$dir/a.rc") rb=$(cat "$dir/b.rc")
	if [ "$ra" = 0 ] && [ "$rb" = 0 ]; then
		wf_fail "round $round (stagger ${stagger}s): both ups won"
	fi
	if [ "$ra" != 0 ] && [ "$rb" != 0 ]; then
		cat "$dir/a.err" "$dir/b.err"
		wf_fail "round $round (stagger ${stagger}s): neither up won"
	fi
	if [ "$ra" = 0 ]; then w=a l=b; else w=b l=a; fi
	[ "$(cat "$dir/$l.rc")" = 1 ] || wf_fail "round $round: the loser exited $(cat "$dir/$l.rc"), not 1"
	[ ! -s "$dir/$l.out" ] || wf_fail "round $round: the loser printed exports"
	grep -Eq "is already up|is being brought up by another envup" "$dir/$l.err" ||
		{ cat "$dir/$l.err"; wf_fail "round $round: the loser's message is unclear"; }
	# the winner's environment is whole and answers
	wf_alive "$name" || wf_fail "round $round: the winner's environment does not answer"
	nets=$(docker network ls -q --filter "name=^envup-$name\$" | wc -l)
	[ "$nets" = 1 ] || wf_fail "round $round: $nets networks named envup-$name"
	out=$(envdown -n "$name" 2>&1) || wf_fail "round $round: envdown failed: $out"
	left=$(wf_leftovers "$name")
	[ "$left" = 0 ] || wf_fail "round $round: $left resources left after envdown"
	wins=$((wins + 1))
done
wf_ok "$ROUNDS rounds of two simultaneous ups (staggered 0-300 ms): one winner each, envdown exit 0, nothing left"

# ---- leftovers of an older envup: two networks of one name, no instance ----
# (engines of API 1.44 and later refuse a second network of a name, so
# there is nothing to leave behind there)
wf_name name
dups=0
for _ in 1 2; do
	curl -sf --unix-socket /var/run/docker.sock -H 'Content-Type: application/json' \
		-d "{\"Name\":\"envup-$name\",\"CheckDuplicate\":false,\"Labels\":{\"dev.envup.managed\":\"true\",\"dev.envup.env\":\"$name\"}}" \
		http://localhost/networks/create > /dev/null && dups=$((dups + 1))
done
if [ "$dups" = 2 ]; then
	out=$(envdown -n "$name" 2>&1) || wf_fail "envdown of two same-named networks failed: $out"
	[ "$(wf_leftovers "$name")" = 0 ] || wf_fail "envdown left a same-named network"
	wf_ok "two same-named networks of an older envup: envdown removed both"
else
	envdown -q -n "$name"
	wf_ok "skipped: this engine refuses two networks of one name"
fi

# ---- and an up of that name is not blocked by such leftovers ----------------
docker network create --label dev.envup.managed=true --label "dev.envup.env=$name" \
	"envup-$name" > /dev/null
out=$(cd "$dir" && envup up -q -n "$name" 2>&1 > /dev/null) || wf_fail "up after an old leftover network: $out"
wf_alive "$name" || wf_fail "up after an old leftover: no answer"
envdown -q -n "$name" || wf_fail "envdown"
wf_ok "an old leftover network does not block a new up"

# ---- default names: unique per checkout, found again by envdown -------------
wf_dir a
wf_dir b
mkdir -p "$a/app" "$b/app" "$a/проект"
for d in "$a/app" "$b/app" "$a/проект"; do
	wf_spec "$d"
done
na=$(cd "$a/app" && envup up --format json 2>&1 > /dev/null | sed -n "s/.*environment '\([^']*\)' ready.*/\1/p")
nb=$(cd "$b/app" && envup up --format json 2>&1 > /dev/null | sed -n "s/.*environment '\([^']*\)' ready.*/\1/p")
nc=$(cd "$a/проект" && envup up --format json 2>&1 > /dev/null | sed -n "s/.*environment '\([^']*\)' ready.*/\1/p")
wf_track "$na"
wf_track "$nb"
wf_track "$nc"
case "$na" in app-????????) ;; *) wf_fail "default name '$na' is not app-HASH" ;; esac
case "$nb" in app-????????) ;; *) wf_fail "default name '$nb' is not app-HASH" ;; esac
case "$nc" in envup-????????) ;; *) wf_fail "non-ASCII directory gave '$nc'" ;; esac
[ "$na" != "$nb" ] || wf_fail "two checkouts named app share the name $na"
(cd "$a/app" && envdown -q) || wf_fail "envdown in checkout a"
[ "$(wf_leftovers "$na")" = 0 ] || wf_fail "envdown in a did not find $na"
wf_alive "$nb" || wf_fail "envdown in a touched b's environment"
(cd "$b/app" && envdown -q) && (cd "$a/проект" && envdown -q) || wf_fail "envdown in b or проект"
[ "$(wf_leftovers "$nb")" = 0 ] && [ "$(wf_leftovers "$nc")" = 0 ] || wf_fail "envdown did not find its environment"
wf_ok "default names: $na and $nb for two checkouts of app, $nc for проект; envdown finds each"
