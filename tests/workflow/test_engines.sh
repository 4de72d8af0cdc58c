#!/usr/bin/env bash
# Finding the engine as the docker CLI does (provision/discover.h), each
# place a relay socket (socat) in front of the real engine, so that the
# test sees which one envup used:
#   - DOCKER_HOST wins over a context; a context (DOCKER_CONTEXT, then
#     config.json's currentContext, through contexts/meta/<sha256>/) wins
#     over the sockets; `envup --context NAME` picks one; "default" means
#     the sockets; an unknown context is an error naming it, exit 1, and
#     nothing is created;
#   - with the system socket hidden (a private mount namespace with an
#     empty /run), the rootless socket, then Docker Desktop's, then
#     podman's are tried in order; when none answers the error lists every
#     place and why;
#   - podman's API service (podman system service) found at its socket and
#     negotiated with (API 1.41); its containers cannot start on this
#     machine, so only discovery, negotiation and listing are tested.
. "$(dirname "$0")/lib.sh"
wf_init
command -v socat >/dev/null || wf_fail "socat is missing (.ci/packages.txt)"
command -v unshare >/dev/null || wf_fail "unshare is missing (util-linux)"
ENGINE=/var/run/docker.sock
[ -S "$ENGINE" ] || { echo "skipped: the engine is not at $ENGINE"; exit 77; }
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_CONFIG

wf_dir R
# relay NAME PATH: a socket at PATH forwarding to the engine; each
# connection is logged in $R/NAME.log
relay() {
	mkdir -p "$(dirname "$2")"
	wf_bg socat -d -d -lf "$R/$1.log" UNIX-LISTEN:"$2",fork,mode=600 UNIX-CONNECT:"$ENGINE"
	for _ in $(seq 1 50); do [ -S "$2" ] && return 0; sleep 0.02; done
	wf_fail "relay $1 did not start"
}
used() { grep -c "accepting connection" "$R/$1.log" 2>/dev/null || true; }
reset_logs() { for f in "$R"/*.log; do : > "$f"; done; }

relay host "$R/host.sock"
relay ctx "$R/ctx.sock"
relay cur "$R/cur.sock"
relay rootless "$R/xdg/docker.sock"
relay desktop "$R/home/.docker/run/docker.sock"
relay podman "$R/xdg/podman/podman.sock"

# a docker config with two contexts, as `docker context create` writes them
cfg=$R/home/.docker
context() { # NAME SOCKET
	local sha
	sha=$(printf %s "$1" | sha256sum | cut -d' ' -f1)
	mkdir -p "$cfg/contexts/meta/$sha"
	printf '{"Name":"%s","Metadata":{},"Endpoints":{"docker":{"Host":"unix://%s","SkipTLSVerify":false}}}\n' \
		"$1" "$2" > "$cfg/contexts/meta/$sha/meta.json"
}
context ci "$R/ctx.sock"
context current "$R/cur.sock"
printf '{"auths":{},"currentContext":"current"}\n' > "$cfg/config.json"
# envup sees this home and runtime directory; the docker CLI of the
# harness (leftover checks) keeps the real ones
E=(env HOME="$R/home" XDG_RUNTIME_DIR="$R/xdg")

check() { # LABEL EXPECTED-RELAY COMMAND...
	local label=$1 want=$2 r n
	shift 2
	reset_logs
	out=$("$@" 2>&1) || wf_fail "$label: $* failed: $out"
	for r in host ctx cur rootless desktop podman; do
		n=$(used "$r")
		if [ "$r" = "$want" ] && [ "$n" = 0 ]; then wf_fail "$label: the $want relay saw no connection"; fi
		if [ "$r" != "$want" ] && [ "$n" != 0 ]; then wf_fail "$label: the $r relay was used ($n), want $want"; fi
	done
	wf_ok "$label: $want"
}

check "currentContext of config.json" cur "${E[@]}" envup ls
check "DOCKER_CONTEXT over currentContext" ctx "${E[@]}" DOCKER_CONTEXT=ci envup ls
check "envup --context" ctx "${E[@]}" envup --context ci ls
check "DOCKER_HOST over any context" host "${E[@]}" DOCKER_HOST="unix://$R/host.sock" DOCKER_CONTEXT=ci envup ls
check "DOCKER_CONFIG names the config" ctx "${E[@]}" DOCKER_CONFIG="$cfg" HOME=/nonexistent DOCKER_CONTEXT=ci envup ls
# an environment brought up through a context, and taken down through it
wf_dir sdir
wf_spec "$sdir"
wf_name name
(cd "$sdir" && "${E[@]}" DOCKER_CONTEXT=ci envup up -q -n "$name" --keep > /dev/null) || wf_fail "up through the context"
[ "$(used ctx)" != 0 ] || wf_fail "up did not go through the context"
("${E[@]}" DOCKER_CONTEXT=ci envdown -q -n "$name") || wf_fail "envdown through the context"
[ "$(wf_leftovers "$name")" = 0 ] || wf_fail "envdown through the context left resources"
wf_ok "up and envdown through context ci"

# unknown context: one line naming it, exit 1, nothing created
wf_name bad
out=$(cd "$sdir" && "${E[@]}" DOCKER_CONTEXT=nope envup up -n "$bad" 2>&1) && wf_fail "up with an unknown context succeeded"
rc=$?
[ "$rc" = 1 ] || wf_fail "unknown context: exit $rc, want 1"
case "$out" in *"docker context 'nope' (DOCKER_CONTEXT) not found"*) ;; *) wf_fail "unknown context says: $out" ;; esac
[ "$(wf_leftovers "$bad")" = 0 ] || wf_fail "an unknown context created something"
wf_ok "an unknown context: exit 1, named, nothing created"

# ENVUP_HOST: where published ports are reached (a dind service, a VM)
wf_name eh
out=$(cd "$sdir" && ENVUP_HOST=localhost envup up -q -n "$eh" --keep) || wf_fail "up with ENVUP_HOST"
url=$(eval "$out"; echo "$CACHE_URL")
case "$url" in *@localhost:*) ;; *) wf_fail "ENVUP_HOST=localhost, but the URL is $url" ;; esac
[ "$(redis-cli -u "$url" --no-auth-warning ping)" = PONG ] || wf_fail "the URL with ENVUP_HOST does not answer"
envdown -q -n "$eh" || wf_fail "envdown (ENVUP_HOST)"
out=$(ENVUP_HOST='a b' envup ls 2>&1) && wf_fail "a bad ENVUP_HOST was taken"
case "$out" in *"ENVUP_HOST 'a b': expected a host name or address"*) ;; *) wf_fail "bad ENVUP_HOST says: $out" ;; esac
wf_ok "ENVUP_HOST names the host in the URLs; a bad one is refused"

# ---- the sockets, with the system one hidden ----------------------------------
# (a private mount namespace with an empty /run: /var/run/docker.sock and
# /run/podman are gone there, the relays under $R stay)
hidden() { unshare -m sh -c 'mount -t tmpfs none /run && exec "$@"' sh "$@"; }
check "default context: the rootless socket first" rootless hidden "${E[@]}" DOCKER_CONTEXT=default envup ls
mv "$R/xdg/docker.sock" "$R/xdg/docker.sock.off"
check "then Docker Desktop's" desktop hidden "${E[@]}" DOCKER_CONTEXT=default envup ls
mv "$R/home/.docker/run/docker.sock" "$R/home/.docker/run/docker.sock.off"
check "then podman's" podman hidden "${E[@]}" DOCKER_CONTEXT=default envup ls
mv "$R/xdg/podman/podman.sock" "$R/xdg/podman/podman.sock.off"
# a socket file nobody listens on: refused, and said so
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$R/xdg/docker.sock"
out=$(hidden "${E[@]}" DOCKER_CONTEXT=default envup ls 2>&1) && wf_fail "ls with no engine anywhere succeeded"
for place in /var/run/docker.sock "$R/xdg/docker.sock" "$R/home/.docker/run/docker.sock" \
	"$R/xdg/podman/podman.sock" /run/podman/podman.sock; do
	case "$out" in *"$place ("*) ;; *) wf_fail "the error does not name $place: $out" ;; esac
done
case "$out" in *"$R/xdg/docker.sock (connection refused"*) ;; *) wf_fail "the error does not say why $R/xdg/docker.sock failed: $out" ;; esac
case "$out" in *"/var/run/docker.sock (no such file)"*) ;; *) wf_fail "the error does not say /var/run/docker.sock is missing: $out" ;; esac
wf_ok "no engine anywhere: every place tried, and why each failed"

# ---- podman -------------------------------------------------------------------------
if ! command -v podman >/dev/null; then
	[ "${CI:-}" = true ] && wf_fail "podman is missing (.ci/packages.txt)"
	echo "podman: skipped (not installed)"
	exit 0
fi
rm -f "$R/xdg/docker.sock"
wf_bg podman system service --log-level=debug --time=0 "unix://$R/xdg/podman/podman.sock" 2> "$R/podman.log"
for _ in $(seq 1 100); do [ -S "$R/xdg/podman/podman.sock" ] && break; sleep 0.05; done
out=$(hidden "${E[@]}" DOCKER_CONTEXT=default envup ls --format json 2>&1) || wf_fail "ls against podman: $out"
[ "$out" = "[]" ] || wf_fail "ls against podman gave: $out"
grep -q '/v1.41/containers/json' "$R/podman.log" || wf_fail "envup did not speak API 1.41 to podman: $(grep -c . "$R/podman.log") log lines"
wf_ok "podman's API service: found at its socket, API 1.41 negotiated, ls answers"
