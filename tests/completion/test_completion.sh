#!/usr/bin/env bash
# Shell completion (completion/envup.bash, completion/_envup): commands,
# each command's options, --format values, spec files, and service names
# read from the spec named by -f (or envup.yaml) through `envup services`.
# bash: the completion function is called as bash calls it (COMP_WORDS);
# zsh: a real interactive zsh on a pty completes the typed line.
#   test_completion.sh SOURCE_DIR ENVUP_BIN
set -euo pipefail
SRC=$(cd "$1" && pwd)
BIN=$(cd "$(dirname "$2")" && pwd)
WORK=$(mktemp -d /tmp/envup-completion-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export PATH=$BIN:$PATH
fails=0
check() { # NAME GOT WANT
	if [ "$2" != "$3" ]; then
		printf 'FAIL %s\n  got:  %s\n  want: %s\n' "$1" "$2" "$3" >&2
		fails=$((fails + 1))
	fi
}

mkdir -p "$WORK/app" "$WORK/other"
cat >"$WORK/app/envup.yaml" <<'Y'
services:
  postgres: { template: postgres }
  cache: { template: redis }
  mock-api: { template: mockserver }
Y
cat >"$WORK/other/stack.yaml" <<'Y'
services:
  db: { template: postgres }
Y
printf 'services:\n  a:\n    imag: x\n' >"$WORK/other/bad.yaml"
cd "$WORK/app"

# ---- bash ----------------------------------------------------------------------
# shellcheck disable=SC1091
. "$SRC/completion/envup.bash"
bash_complete() { # the words of the line; the last one is being completed
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_envup
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
# line | what bash offers
while IFS='|' read -r line want; do
	[ -n "$line" ] || continue
	read -ra words <<<"$line"
	case $line in *' ') words+=("") ;; esac
	check "bash: $line" "$(bash_complete "${words[@]}")" "$want"
done <<'T'

envup s|services snapshot status
envup c|config
envup up --t|--timeout --ttl
envup up --format |dotenv github gitlab json shell
envup up --p|--profile
envup up |cache mock-api postgres
envup config --format |json yaml
envup config -f ../other/stack.yaml |db
envup status --format |json text
envup ls --format |json text
envup down --|--all --file --force --help --name --quiet
envdown --a|--all
envup logs |cache mock-api postgres
envup logs p|postgres
envup logs -f ../other/stack.yaml |db
envup logs --file ../other/stack.yaml d|db
envup logs -f ../other/bad.yaml |
envup gc --|--help --quiet
envup --v|--version
envup run -- ech|echo
envup db |drop ls new reset
envup db new |cache mock-api postgres
envup reset |cache mock-api postgres
envup snapshot |ls rm
envup snapshot rm --|--all --format --help
envup up --no|--no-snapshot
T
# the order of "envup " is not sorted by the table: compare as sets
check "bash: envup (set)" "$(bash_complete envup '')" "config db down env gc logs ls reset run services snapshot status up"
check "bash: -f offers files" "$(bash_complete envup up -f ../other/st)" "../other/stack.yaml"

# ---- zsh -----------------------------------------------------------------------------
if ! command -v zsh >/dev/null; then
	if [ "${CI:-}" = true ]; then
		echo "FAIL: zsh is not installed (.ci/packages.txt)" >&2
		exit 1
	fi
	echo "zsh: skipped (not installed)"
else
	zsh_complete() {
		timeout 30 zsh "$SRC/tests/completion/zsh_complete.zsh" "$SRC/completion" "$1" | sort | tr '\n' ' ' | sed 's/ $//'
	}
	while IFS='|' read -r line want; do
		[ -n "$line" ] || continue
		check "zsh: $line" "$(zsh_complete "$line")" "$want"
	done <<'T'
envup |config db down env gc logs ls reset run services snapshot status up
envup s|services snapshot status
envup db |drop ls new reset
envup snapshot |ls rm
envup up --no|--no-snapshot
envup c|config
envup config --format |json yaml
envup up --t|--timeout --ttl
envup up --format |dotenv github gitlab json shell
envup status --format |json text
envdown --a|--all
envup logs |cache mock-api postgres
envup logs -f ../other/stack.yaml |db
envup run -- ech|echo echotc echoti
T
fi

if [ "$fails" -gt 0 ]; then
	echo "$fails completion checks failed" >&2
	exit 1
fi
echo "ok"
