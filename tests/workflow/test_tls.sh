#!/usr/bin/env bash
# An engine over TLS (DOCKER_HOST=tcp://, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH,
# and a docker context's TLS material), end to end against a TLS endpoint on
# loopback (socat, requiring a client certificate) in front of the real
# engine, with certificates made here (openssl):
#   - the right CA and client certificate: up, the exports answer, envdown;
#   - the wrong CA, a missing client certificate, a client certificate the
#     engine does not trust: one clear line each, exit 1, nothing created;
#   - a context whose TLS material is under contexts/tls/<sha256>/docker/.
. "$(dirname "$0")/lib.sh"
wf_init
command -v socat >/dev/null || wf_fail "socat is missing (.ci/packages.txt)"
command -v openssl >/dev/null || wf_fail "openssl is missing"
ENGINE=/var/run/docker.sock
[ -S "$ENGINE" ] || { echo "skipped: the engine is not at $ENGINE"; exit 77; }
unset DOCKER_HOST DOCKER_CONTEXT DOCKER_CONFIG DOCKER_TLS_VERIFY DOCKER_CERT_PATH

wf_dir T
cd "$T"
ossl() { openssl "$@" 2>/dev/null || wf_fail "openssl $1 failed"; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 1 -subj /CN=envup-test-ca
ossl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr -subj /CN=127.0.0.1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
ossl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server.pem -days 1 -extfile san.ext
mkdir good wrongca nocert stranger
ossl req -newkey rsa:2048 -nodes -keyout good/key.pem -out client.csr -subj /CN=client
printf 'extendedKeyUsage=clientAuth\n' > client.ext
ossl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out good/cert.pem -days 1 -extfile client.ext
cp ca.pem good/
ossl req -x509 -newkey rsa:2048 -nodes -keyout wrongca/other-key.pem -out wrongca/ca.pem -days 1 -subj /CN=other-ca
cp good/cert.pem good/key.pem wrongca/
cp ca.pem nocert/
cp ca.pem stranger/
ossl req -x509 -newkey rsa:2048 -nodes -keyout stranger/key.pem -out stranger/cert.pem -days 1 -subj /CN=stranger

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
wf_bg socat OPENSSL-LISTEN:"$port",bind=127.0.0.1,reuseaddr,fork,cert=server.pem,key=server-key.pem,cafile=ca.pem,verify=1 \
	UNIX-CONNECT:"$ENGINE"
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done
# envup gets the TLS settings; the harness's docker CLI (leftover checks)
# keeps talking to the engine's socket
E=(env DOCKER_HOST="tcp://127.0.0.1:$port" DOCKER_TLS_VERIFY=1)

# ---- the right certificates -------------------------------------------------------
wf_dir sdir
wf_spec "$sdir"
wf_name name
out=$(cd "$sdir" && "${E[@]}" DOCKER_CERT_PATH="$T/good" envup up -q -n "$name" --keep) || wf_fail "up over TLS failed"
url=$(eval "$out"; echo "$CACHE_URL")
case "$url" in redis://*@127.0.0.1:*) ;; *) wf_fail "over TLS to loopback, the URL is $url" ;; esac
[ "$(redis-cli -u "$url" --no-auth-warning ping)" = PONG ] || wf_fail "the redis of the TLS environment does not answer"
"${E[@]}" DOCKER_CERT_PATH="$T/good" envdown -q -n "$name" || wf_fail "envdown over TLS"
[ "$(wf_leftovers "$name")" = 0 ] || wf_fail "envdown over TLS left resources"
wf_ok "up, redis-cli through the export, envdown: all over TLS with a client certificate"

# ---- the wrong ones: one clear line, exit 1, nothing created ---------------------------
bad() { # DIR WANT-IN-MESSAGE
	local n out rc
	wf_name n
	out=$(cd "$sdir" && "${E[@]}" DOCKER_CERT_PATH="$T/$1" envup up -n "$n" 2>&1) && wf_fail "$1: up succeeded"
	rc=$?
	[ "$rc" = 1 ] || wf_fail "$1: exit $rc, want 1: $out"
	[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || wf_fail "$1: not one line: $out"
	case "$out" in *"$2"*) ;; *) wf_fail "$1: the message lacks '$2': $out" ;; esac
	[ "$(wf_leftovers "$n")" = 0 ] || wf_fail "$1: something was created"
	wf_ok "$1: $out"
}
bad wrongca "its certificate is not signed by $T/wrongca/ca.pem"
bad nocert "cannot read $T/nocert/cert.pem"
bad stranger "does it trust the client certificate $T/stranger/cert.pem?"

# ---- a docker context's TLS material ---------------------------------------------------
cfg=$T/config
sha=$(printf %s tlsctx | sha256sum | cut -d' ' -f1)
mkdir -p "$cfg/contexts/meta/$sha" "$cfg/contexts/tls/$sha/docker"
printf '{"Name":"tlsctx","Metadata":{},"Endpoints":{"docker":{"Host":"tcp://127.0.0.1:%s","SkipTLSVerify":false}}}\n' \
	"$port" > "$cfg/contexts/meta/$sha/meta.json"
cp good/ca.pem good/cert.pem good/key.pem "$cfg/contexts/tls/$sha/docker/"
out=$(env DOCKER_CONFIG="$cfg" DOCKER_CONTEXT=tlsctx envup ls 2>&1) ||
	wf_fail "ls through a TLS context: $out"
rm "$cfg/contexts/tls/$sha/docker/cert.pem"
out=$(env DOCKER_CONFIG="$cfg" DOCKER_CONTEXT=tlsctx envup ls 2>&1) &&
	wf_fail "ls through a TLS context without its certificate succeeded"
case "$out" in *"docker context 'tlsctx'"*"cert.pem"*) ;; *) wf_fail "a context's missing certificate: $out" ;; esac
wf_ok "a docker context's TLS material (contexts/tls/<sha256>/docker), and its absence named"
