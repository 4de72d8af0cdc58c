#!/usr/bin/env bash
# The idioms README.md leads with (the ```sh lines between its
# "<!-- idioms" and "<!-- /idioms -->" markers) fail safe: against a bad
# spec and against a service that cannot start, the tests never run, the
# idiom exits non-zero (2 and 1), and nothing is left; with a working spec
# the tests run and see the exports, and their failure is the idiom's.
# And the idiom they replace really is unsafe.
. "$(dirname "$0")/lib.sh"
wf_init

mapfile -t IDIOMS < <(awk '/<!-- idioms/ { on = 1; next } /<!-- \/idioms -->/ { on = 0 }
	on && /^```sh/ { code = 1; next } on && /^```/ { code = 0; next } on && code && NF { print }' \
	"$WF_SOURCE_DIR/README.md")
[ "${#IDIOMS[@]}" -ge 2 ] || wf_fail "found ${#IDIOMS[@]} idioms in README.md"

# a workspace whose `make test` records that it ran, and checks the exports
workspace() {
	local ws=$1 kind=$2 result=${3:-0}
	printf 'test:\n\t@echo ran > ran; test -n "$$CACHE_URL"; test "$$(redis-cli -u "$$CACHE_URL" --no-auth-warning ping)" = PONG; exit %s\n' \
		"$result" > "$ws/Makefile"
	wf_spec "$ws"
	case "$kind" in
		spec) echo "  typo: { imagee: nginx }" >> "$ws/envup.yaml" ;;
		runtime) printf '  broken:\n    image: nginx:1.27-alpine\n    command: [sh, -c, "exit 3"]\n' >> "$ws/envup.yaml" ;;
	esac
}

for idiom in "${IDIOMS[@]}"; do
	for shell in bash sh; do
		for kind in good spec runtime failing-tests; do
			wf_dir ws
			if [ "$kind" = failing-tests ]; then workspace "$ws" good 1; else workspace "$ws" "$kind"; fi
			name=$(cd "$ws" && envup status 2>&1 | sed -n "s/.*environment '\([^']*\)'.*/\1/p")
			[ -n "$name" ] && wf_track "$name"
			(cd "$ws" && "$shell" -c "$idiom") > "$ws/log" 2>&1
			rc=$?
			case "$kind" in
				good) [ "$rc" = 0 ] && [ -f "$ws/ran" ] || { cat "$ws/log"; wf_fail "[$shell] $idiom: failed with a working spec (rc $rc)"; } ;;
				spec) [ "$rc" = 2 ] && [ ! -f "$ws/ran" ] || { cat "$ws/log"; wf_fail "[$shell] $idiom: bad spec gave rc $rc, tests ran: $([ -f "$ws/ran" ] && echo yes || echo no)"; } ;;
				runtime) [ "$rc" = 1 ] && [ ! -f "$ws/ran" ] || { cat "$ws/log"; wf_fail "[$shell] $idiom: failing service gave rc $rc, tests ran: $([ -f "$ws/ran" ] && echo yes || echo no)"; } ;;
				failing-tests) [ "$rc" != 0 ] && [ -f "$ws/ran" ] || { cat "$ws/log"; wf_fail "[$shell] $idiom: failing tests gave rc $rc"; } ;;
			esac
			if [ -n "$name" ] && [ "$(wf_leftovers "$name")" != 0 ]; then
				wf_fail "[$shell] $idiom ($kind): left $name behind"
			fi
		done
	done
	wf_ok "fails safe in bash and sh: $idiom"
done

# the idiom these replace: with a failing service, the tests still run
wf_dir ws
workspace "$ws" runtime
(cd "$ws" && bash -ec 'eval "$(envup up)"; make test') > "$ws/log" 2>&1
[ -f "$ws/ran" ] || wf_fail "bash -ec 'eval \"\$(envup up)\"; make test' did not run the tests; the README's warning is wrong"
wf_ok "and bash -ec 'eval \"\$(envup up)\"; make test' runs the tests after a failed up, as the README warns"
