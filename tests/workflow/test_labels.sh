#!/usr/bin/env bash
# Labels are untrusted input: anyone who can create a container can forge
# envup's labels. Forged containers must not make gc delete files outside
# the state directory, must not make gc remove a live environment, and no
# label text may put a control character on the screen.
. "$(dirname "$0")/lib.sh"
wf_init

IMAGE="${ENVUP_HUB_IMAGE_PREFIX:-}nginx:1.27-alpine"
FORGED=()
forge() {
	local id
	id=$(docker create "$@" "$IMAGE" true) || wf_fail "docker create $*"
	FORGED+=("$id")
}
cleanup_forged() {
	local rc=$?
	[ "${#FORGED[@]}" = 0 ] || docker rm -f "${FORGED[@]}" > /dev/null 2>&1 || true
	wf_cleanup "$rc"
}
trap cleanup_forged EXIT
ESC=$'\033'

# ---- a path in dev.envup.env ------------------------------------------------
wf_dir base
mkdir -p "$base/state" "$base/x"
chmod 700 "$base/state"
echo '{"exports":{}}' > "$base/x/victim.json"
echo '{}' > "$base/x/victim.removed"
forge --label dev.envup.managed=true --label "dev.envup.env=../x/victim" \
	--label dev.envup.instance=0123456789abcdef --label dev.envup.expires=1
out=$(ENVUP_STATE_DIR="$base/state" envup gc 2>&1) || wf_fail "gc failed: $out"
[ -f "$base/x/victim.json" ] && [ -f "$base/x/victim.removed" ] ||
	wf_fail "gc deleted a file outside the state directory: $out"
[ -z "$(ls -A "$base/x" | grep -v '^victim')" ] || wf_fail "gc wrote outside the state directory"
wf_ok "env=../x/victim: nothing outside the state directory was touched ($out)"

# ---- stray resources next to a live environment of the same name ------------
wf_dir dir
wf_spec "$dir"
wf_name name
(cd "$dir" && envup up -q -n "$name" > /dev/null) || wf_fail "up"
instance=$(docker ps --filter "label=dev.envup.env=$name" --format '{{.Label "dev.envup.instance"}}' | head -1)
[ -n "$instance" ] || wf_fail "no instance label on the live environment"
# no instance label at all, expired
forge --label dev.envup.managed=true --label "dev.envup.env=$name" --label dev.envup.expires=1
# the live instance's id, an owner that is gone, expired
forge --label dev.envup.managed=true --label "dev.envup.env=$name" \
	--label "dev.envup.instance=$instance" --label dev.envup.expires=1 \
	--label "dev.envup.owner=$(hostname)/$(cat /proc/sys/kernel/random/boot_id)/999999/1"
# a network with the live instance's id and a past expiry
docker network create --label dev.envup.managed=true --label "dev.envup.env=$name" \
	--label "dev.envup.instance=$instance" --label dev.envup.expires=1 "stray-$name" > /dev/null
out=$(envup gc 2>&1) || wf_fail "gc failed: $out"
wf_alive "$name" || wf_fail "gc removed the live environment because of strays: $out"
[ "$(docker ps -q --filter "label=dev.envup.env=$name" --filter "label=dev.envup.service=cache" | wc -l)" = 1 ] ||
	wf_fail "the live container is gone"
[ "$(docker network ls -q --filter "name=^envup-$name\$" | wc -l)" = 1 ] ||
	wf_fail "the live environment's network is gone"
for id in "${FORGED[@]: -2}"; do
	[ -z "$(docker ps -aq --filter "id=$id")" ] || wf_fail "gc kept a stray that proved expired"
done
[ -z "$(docker network ls -q --filter "name=^stray-$name\$")" ] || wf_fail "gc kept the stray network"
wf_ok "strays with no instance, or the live instance's id and a past expiry: only they went ($out)"

# ---- control characters in labels never reach the terminal -------------------
forge --label dev.envup.managed=true --label "dev.envup.env=${ESC}[31mred${ESC}]0;pwned"$'\a' \
	--label dev.envup.instance=fedcba9876543210 --label "dev.envup.expires=4102444800"
forge --label dev.envup.managed=true --label "dev.envup.env=$name" \
	--label "dev.envup.service=${ESC}[2J${ESC}]0;title"$'\a' \
	--label "dev.envup.owner-comm=${ESC}[31mx" --label dev.envup.expires=4102444800
# C1 controls: CSI as UTF-8 (U+009B), and as a lone byte
forge --label dev.envup.managed=true --label "dev.envup.env=c1"$'\xc2\x9b'"2J"$'\x9b'"x" \
	--label dev.envup.instance=fedcba9876543211 --label "dev.envup.expires=4102444800"
for cmd in "ls" "ls --format json" "status -n $name" "status -n $name --format json" "gc"; do
	# shellcheck disable=SC2086
	out=$(envup $cmd 2>&1) || true
	if printf '%s' "$out" | LC_ALL=C grep -q "[$(printf '\001-\010\013-\037\177')]"; then
		printf '%s' "$out" | od -c | head -20
		wf_fail "envup $cmd printed a control character"
	fi
	# C1: U+0080-U+009F in UTF-8, or a byte that is not UTF-8 at all
	if printf '%s' "$out" | LC_ALL=C grep -qP '\xc2[\x80-\x9f]' ||
	   ! printf '%s' "$out" | iconv -f UTF-8 -t UTF-8 > /dev/null 2>&1; then
		printf '%s' "$out" | od -c | head -20
		wf_fail "envup $cmd printed a C1 control or invalid UTF-8"
	fi
done
out=$(envup ls 2>&1)
case "$out" in *"?[31mred?]0;pwned?"*) ;; *) wf_fail "ls does not show the forged name made printable: $out" ;; esac
wf_ok "escape codes in env, service and owner labels: ls, status, gc print none"
envdown -q -n "$name" || wf_fail "envdown"
