#!/usr/bin/env bash
# Progress on a terminal: `up` under a real pty (stderr a tty, stdout a
# pipe, as in eval "$(envup up)" at a prompt) redraws one line per service
# in place and ends with the summary; colours, unless NO_COLOR is set;
# plain lines, with no escape at all, when stderr is not a terminal; a
# failure under a tty still shows the service's last log lines.
. "$(dirname "$0")/lib.sh"
wf_init

wf_dir dir
cat > "$dir/envup.yaml" <<'YAML'
services:
  cache: { template: redis }
  web:
    image: nginx:1.27-alpine
    command: [sh, -c, "sleep 1; exec nginx -g 'daemon off;'"]
    ports: [80]
    wait: { tcp: 80 }
YAML

# pty_run OUTFILE ERRFILE ENVUP-ARGS...: stderr on a pty, stdout to OUTFILE
pty_run() {
	local out=$1 err=$2
	shift 2
	/usr/bin/python3 - "$out" "$err" "$@" <<'PY'
import os, pty, sys
out, err, args = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    o = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(o, 1)
    os.execvp(args[0], args)
data = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
_, status = os.waitpid(pid, 0)
open(err, "wb").write(data)
sys.exit(os.waitstatus_to_exitcode(status))
PY
}

has() { LC_ALL=C grep -qF "$2" "$1"; }

wf_name name
(cd "$dir" && TERM=xterm pty_run "$dir/out" "$dir/err" envup up -n "$name") || { cat -v "$dir/err"; wf_fail "up under a pty"; }
has "$dir/err" $'\r\033[2K' || { cat -v "$dir/err"; wf_fail "no line redrawn in place"; }
has "$dir/err" $'\033[2A' || { cat -v "$dir/err"; wf_fail "the cursor never went back up over the two lines"; }
has "$dir/err" $'\033[32m' || wf_fail "no colour for ready"
has "$dir/err" "environment '$name' ready in" || wf_fail "no summary"
grep -aq "web  *ready" "$dir/err" || { cat -v "$dir/err"; wf_fail "no final line for web"; }
if LC_ALL=C grep -q $'\033' "$dir/out"; then wf_fail "escapes on stdout"; fi
exports=$(cat "$dir/out")
(eval "$exports" && [ -n "$CACHE_URL" ]) || wf_fail "stdout is not the exports"
envdown -q -n "$name"
wf_ok "on a terminal: lines redrawn in place, colours, the summary; stdout is only exports"

wf_name name
(cd "$dir" && TERM=xterm NO_COLOR=1 pty_run "$dir/out" "$dir/err" envup up -n "$name") || wf_fail "up under a pty, NO_COLOR"
has "$dir/err" $'\r\033[2K' || wf_fail "NO_COLOR: no redraw"
if LC_ALL=C grep -q $'\033\\[[0-9;]*m' "$dir/err"; then cat -v "$dir/err"; wf_fail "NO_COLOR: colour codes"; fi
envdown -q -n "$name"
wf_ok "NO_COLOR: redrawn, without colour"

wf_name name
(cd "$dir" && envup up -n "$name" > "$dir/out" 2> "$dir/err") || wf_fail "up to a pipe"
if LC_ALL=C grep -q $'\033' "$dir/err"; then wf_fail "escapes in plain output"; fi
grep -q "^envup: \[ *[0-9.]*s\] web: ready" "$dir/err" || { cat "$dir/err"; wf_fail "plain lines"; }
envdown -q -n "$name"
wf_ok "not a terminal: plain lines, no escape"

wf_name name
printf '  broken:\n    image: nginx:1.27-alpine\n    command: [sh, -c, "echo the config is wrong; exit 3"]\n' >> "$dir/envup.yaml"
(cd "$dir" && TERM=xterm pty_run "$dir/out" "$dir/err" envup up -n "$name")
rc=$?
[ "$rc" = 1 ] || wf_fail "a failing service under a pty: exit $rc"
grep -aq "broken | the config is wrong" "$dir/err" || { cat -v "$dir/err"; wf_fail "no log lines of the failed service"; }
grep -aq "envup: broken: container exited with code 3" "$dir/err" || { cat -v "$dir/err"; wf_fail "no error line"; }
[ "$(wf_leftovers "$name")" = 0 ] || wf_fail "left behind"
wf_ok "a failure on a terminal: the row, the last log lines, the error; nothing left"
