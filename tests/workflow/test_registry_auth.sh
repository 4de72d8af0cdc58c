#!/usr/bin/env bash
# Registry logins as the docker CLI keeps them, against Debian's
# docker-registry with htpasswd on loopback holding a private image:
#   - no login: the pull fails saying the registry needs one, exit 1,
#     nothing created;
#   - auths in $DOCKER_CONFIG/config.json (base64 user:password): up works;
#   - a wrong password: one line naming the registry and whose login it
#     refused, the password never shown, exit 1, nothing created;
#   - credHelpers: a docker-credential-* helper on PATH gives the login.
. "$(dirname "$0")/lib.sh"
wf_init
command -v htpasswd >/dev/null || wf_fail "htpasswd is missing (apache2-utils)"
[ -x /usr/bin/docker-registry ] || wf_fail "docker-registry is missing"
: "${ENVUP_HUB_IMAGE_PREFIX:?the stand-in images (tests/images/.env)}"

wf_dir T
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG=127.0.0.1:$port
htpasswd -Bbc "$T/htpasswd" ci-user 'S3cret-pw' 2>/dev/null
cat > "$T/registry.yml" <<YAML
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $T/data}}
http: {addr: $REG}
auth: {htpasswd: {realm: envup-test, path: $T/htpasswd}}
YAML
wf_bg sh -c 'exec /usr/bin/docker-registry serve "$1" 2>"$2"' sh "$T/registry.yml" "$T/registry.log"
for _ in $(seq 1 100); do curl -s -o /dev/null "http://$REG/v2/" && break; sleep 0.05; done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/")" = 401 ] || wf_fail "the registry does not ask for a login"

# a private image: the stand-in nginx, pushed with the docker CLI's own login
IMG=$REG/private/web:1
docker pull -q "${ENVUP_HUB_IMAGE_PREFIX}nginx:1.27-alpine" >/dev/null
docker tag "${ENVUP_HUB_IMAGE_PREFIX}nginx:1.27-alpine" "$IMG"
mkdir -p "$T/pusher"
docker --config "$T/pusher" login -u ci-user --password-stdin "$REG" <<<'S3cret-pw' >/dev/null 2>&1 ||
	wf_fail "docker login to the test registry failed"
docker --config "$T/pusher" push -q "$IMG" >/dev/null || wf_fail "push to the test registry failed"
gone() { docker image rm -f "$IMG" >/dev/null 2>&1 || true; }
gone
trap 'gone; wf_cleanup $?' EXIT

wf_dir sdir
printf 'services:\n  web:\n    image: %s\n    ports: [80]\n' "$IMG" > "$sdir/envup.yaml"
cfg() { # DIR JSON
	mkdir -p "$1"
	printf '%s\n' "$2" > "$1/config.json"
}
refused() { # LABEL DOCKER_CONFIG WANT
	local n out rc
	wf_name n
	gone
	out=$(cd "$sdir" && DOCKER_CONFIG=$2 envup up -n "$n" 2>&1) && wf_fail "$1: up succeeded"
	rc=$?
	[ "$rc" = 1 ] || wf_fail "$1: exit $rc, want 1"
	case "$out" in *"$3"*) ;; *) wf_fail "$1: the message lacks '$3': $out" ;; esac
	case "$out" in *S3cret*|*wrong-pw*) wf_fail "$1: a password is shown: $out" ;; esac
	[ "$(wf_leftovers "$n")" = 0 ] || wf_fail "$1: something was created"
	wf_ok "$1: $(printf '%s\n' "$out" | grep -v '^envup: \[' | head -1)"
}

# ---- no login ------------------------------------------------------------------------
cfg "$T/none" '{"auths":{}}'
refused "no login" "$T/none" "registry $REG needs a login"

# ---- auths ---------------------------------------------------------------------------
auth=$(printf 'ci-user:S3cret-pw' | base64)
cfg "$T/good" "{\"auths\":{\"$REG\":{\"auth\":\"$auth\"}}}"
wf_name ok
gone
out=$(cd "$sdir" && DOCKER_CONFIG=$T/good envup up -q -n "$ok" --keep) || wf_fail "up with the login in auths failed"
eval "$out"
curl -fsS -o /dev/null "http://$WEB_HOST:$WEB_PORT/" || wf_fail "the private image's service does not answer"
envdown -q -n "$ok"
wf_ok "auths in config.json: the private image pulled and up"

# ---- a wrong password ----------------------------------------------------------------------
bad=$(printf 'ci-user:wrong-pw' | base64)
cfg "$T/bad" "{\"auths\":{\"http://$REG\":{\"auth\":\"$bad\"}}}"
refused "a wrong password" "$T/bad" "registry $REG refused the login from auths in $T/bad/config.json"

# ---- a credential helper ---------------------------------------------------------------------
mkdir -p "$T/bin"
cat > "$T/bin/docker-credential-envuptest" <<'SH'
#!/bin/sh
[ "$1" = get ] || exit 1
read -r server
printf '{"ServerURL":"%s","Username":"ci-user","Secret":"S3cret-pw"}\n' "$server"
SH
chmod +x "$T/bin/docker-credential-envuptest"
cfg "$T/helper" "{\"auths\":{},\"credHelpers\":{\"$REG\":\"envuptest\"}}"
wf_name hk
gone
out=$(cd "$sdir" && PATH="$T/bin:$PATH" DOCKER_CONFIG=$T/helper envup up -q -n "$hk" --keep) ||
	wf_fail "up with the credential helper failed"
envdown -q -n "$hk"
wf_ok "credHelpers: docker-credential-envuptest gave the login"
cfg "$T/store" "{\"auths\":{\"$REG\":{}},\"credsStore\":\"envuptest\"}"
wf_name hs
gone
out=$(cd "$sdir" && PATH="$T/bin:$PATH" DOCKER_CONFIG=$T/store envup up -q -n "$hs" --keep) ||
	wf_fail "up with the credential store failed"
envdown -q -n "$hs"
wf_ok "credsStore: the store named by config.json gave the login auths lists"
cfg "$T/nohelper" "{\"credHelpers\":{\"$REG\":\"missing-helper\"}}"
refused "a missing credential helper" "$T/nohelper" "docker-credential-missing-helper (from the docker config) cannot run"
