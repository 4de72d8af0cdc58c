#!/usr/bin/env bash
# ssh:// engines as the docker CLI reaches them (ssh HOST docker system
# dial-stdio per connection), against a local sshd on loopback with keys
# made here; ssh is the one on PATH (a wrapper adds this test's ssh
# config, as a user's ~/.ssh/config would):
#   - up, the exports answer, envdown, all over ssh://root@127.0.0.1:PORT;
#   - a Compose file's bind mounts are copied into the container through
#     the archive API (the remote engine cannot see this machine's files):
#     nginx serves the copied directory, and no bind mount is made;
#   - a refused login and an unknown host key: one line saying what ssh
#     said, exit 1, nothing created.
. "$(dirname "$0")/lib.sh"
wf_init
[ -x /usr/sbin/sshd ] || wf_fail "sshd is missing (openssh-server)"
command -v ssh >/dev/null || wf_fail "ssh is missing (openssh-client)"
command -v docker >/dev/null || wf_fail "the docker CLI (docker system dial-stdio) is missing"

wf_dir S
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$S/client_key"
cp "$S/client_key.pub" "$S/authorized_keys"
mkdir -p /run/sshd
cat > "$S/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $S/host_key
AuthorizedKeysFile $S/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile $S/sshd.pid
CFG
wf_bg /usr/sbin/sshd -D -f "$S/sshd_config" -E "$S/sshd.log"
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done
# the known host, as the user's known_hosts would have it
printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$S/host_key.pub")" > "$S/known_hosts"
cat > "$S/ssh_config" <<CFG
Host *
  IdentityFile $S/client_key
  IdentitiesOnly yes
  UserKnownHostsFile $S/known_hosts
  StrictHostKeyChecking yes
  LogLevel ERROR
CFG
mkdir -p "$S/bin"
printf '#!/bin/sh\nexec /usr/bin/ssh -F "%s" "$@"\n' "$S/ssh_config" > "$S/bin/ssh"
chmod +x "$S/bin/ssh"
E=(env PATH="$S/bin:$PATH" DOCKER_HOST="ssh://root@127.0.0.1:$port")

wf_dir sdir
wf_spec "$sdir"
wf_name name
out=$(cd "$sdir" && "${E[@]}" envup up -q -n "$name" --keep) || wf_fail "up over ssh failed"
url=$(eval "$out"; echo "$CACHE_URL")
case "$url" in *@127.0.0.1:*) ;; *) wf_fail "over ssh to loopback, the URL is $url" ;; esac
[ "$(redis-cli -u "$url" --no-auth-warning ping)" = PONG ] || wf_fail "the redis brought up over ssh does not answer"
"${E[@]}" envup env -n "$name" > /dev/null || wf_fail "envup env over ssh"
"${E[@]}" envdown -q -n "$name" || wf_fail "envdown over ssh"
[ "$(wf_leftovers "$name")" = 0 ] || wf_fail "envdown over ssh left resources"
grep -q "Accepted publickey for root" "$S/sshd.log" || wf_fail "sshd logged no login"
wf_ok "up, redis-cli through the export, envup env, envdown: all over ssh://root@127.0.0.1:$port"

# ---- bind mounts, copied -------------------------------------------------------------
wf_dir cdir
mkdir -p "$cdir/site/sub"
echo "copied over ssh" > "$cdir/site/index.html"
echo "nested" > "$cdir/site/sub/deep.txt"
ln -s index.html "$cdir/site/link.html"
cat > "$cdir/docker-compose.yml" <<YAML
services:
  web:
    image: nginx:1.27-alpine
    ports: ["80"]
    volumes: ["./site:/usr/share/nginx/html:ro"]
YAML
wf_name cname
out=$(cd "$cdir" && "${E[@]}" envup up -q -n "$cname" --keep) || wf_fail "compose up over ssh failed"
eval "$out"
[ "$(curl -fsS "http://$WEB_HOST:$WEB_PORT/")" = "copied over ssh" ] || wf_fail "the copied index is not served"
[ "$(curl -fsS "http://$WEB_HOST:$WEB_PORT/sub/deep.txt")" = nested ] || wf_fail "the copied subdirectory is not served"
[ "$(curl -fsS "http://$WEB_HOST:$WEB_PORT/link.html")" = "copied over ssh" ] || wf_fail "the copied link is not served"
mounts=$(docker inspect "envup-$cname-web" --format '{{len .Mounts}}')
[ "$mounts" = 0 ] || wf_fail "the remote engine got $mounts mounts, want copies"
"${E[@]}" envdown -q -n "$cname" || wf_fail "envdown of the compose environment over ssh"
wf_ok "bind mounts copied into the container through the archive API over ssh (a file, a subdirectory, a link)"

refused() { # LABEL WANT ENV...
	local label=$1 want=$2 n out rc
	shift 2
	wf_name n
	out=$(cd "$sdir" && env PATH="$S/bin:$PATH" "$@" envup up -n "$n" 2>&1) && wf_fail "$label: up succeeded"
	rc=$?
	[ "$rc" = 1 ] || wf_fail "$label: exit $rc, want 1"
	[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || wf_fail "$label: not one line: $out"
	case "$out" in *"$want"*) ;; *) wf_fail "$label: the message lacks '$want': $out" ;; esac
	[ "$(wf_leftovers "$n")" = 0 ] || wf_fail "$label: something was created"
	wf_ok "$label: $out"
}
refused "a refused login" "ssh: nobody@127.0.0.1: Permission denied" DOCKER_HOST="ssh://nobody@127.0.0.1:$port"
: > "$S/known_hosts"
refused "an unknown host key" "ssh: Host key verification failed" DOCKER_HOST="ssh://root@127.0.0.1:$port"
