# bash completion for envup and envdown: commands, their options, formats,
# spec files, environment names (envup ls) and service names (envup
# services, from the spec named by -f or envup.yaml). Installed as
# share/bash-completion/completions/envup (and envdown); or source it.

_envup_words() {
	# the words of "$1"'s output that are plain names (never a control char)
	local line
	while IFS= read -r line; do
		[[ $line =~ ^[A-Za-z0-9_.-]+$ ]] && printf '%s\n' "$line"
	done
}

_envup_spec() {
	# the spec the command line names with -f/--file, else envup.yaml
	local i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-f|--file) printf '%s\n' "${COMP_WORDS[i + 1]}"; return ;;
		--file=*) printf '%s\n' "${COMP_WORDS[i]#--file=}"; return ;;
		esac
	done
	printf 'envup.yaml\n'
}

_envup_services() {
	local spec
	spec=$(_envup_spec)
	spec=${spec/#\~/$HOME}
	command envup services -f "$spec" 2>/dev/null </dev/null | _envup_words
}

_envup_envs() {
	command envup ls --format json 2>/dev/null </dev/null |
		grep -o '"name": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' | _envup_words
}

_envup_reply() {
	# COMPREPLY from candidate words (one per line) matching the current word
	local cur=$1 w
	COMPREPLY=()
	while IFS= read -r w; do
		[[ -n $w && $w == "$cur"* ]] && COMPREPLY+=("$w")
	done
}

_envup_files() {
	local cur=$1
	COMPREPLY=()
	local f
	while IFS= read -r f; do
		COMPREPLY+=("$f")
	done < <(compgen -f -- "$cur")
	compopt -o filenames 2>/dev/null
}

_envup() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd="" i first=1 opts formats
	local commands="up down run env status logs ls gc services config db reset snapshot"

	if [[ ${COMP_WORDS[0]##*/} == envdown ]]; then
		cmd=down
		first=1
	else
		for ((i = 1; i < COMP_CWORD; i++)); do
			case ${COMP_WORDS[i]} in
			-*) ;;
			*) cmd=${COMP_WORDS[i]}; first=$((i + 1)); break ;;
			esac
		done
	fi
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			_envup_reply "$cur" <<< $'--help\n--version'
		else
			_envup_reply "$cur" < <(printf '%s\n' $commands)
		fi
		return 0
	fi

	# after run's --: the command and its arguments
	if [[ $cmd == run ]]; then
		for ((i = first; i < COMP_CWORD; i++)); do
			if [[ ${COMP_WORDS[i]} == -- ]]; then
				if ((i + 1 == COMP_CWORD)); then
					_envup_reply "$cur" < <(compgen -c -- "$cur" | sort -u)
				else
					_envup_files "$cur"
				fi
				return 0
			fi
		done
	fi

	formats="shell dotenv json github gitlab"
	case $cmd in
	status|ls) formats="text json" ;;
	config) formats="yaml json" ;;
	esac
	case $prev in
	-f|--file)
		_envup_files "$cur"
		return 0 ;;
	-n|--name)
		_envup_reply "$cur" < <(_envup_envs)
		return 0 ;;
	--format)
		_envup_reply "$cur" < <(printf '%s\n' $formats)
		return 0 ;;
	--env-file)
		_envup_files "$cur"
		return 0 ;;
	--backend)
		_envup_reply "$cur" < <(printf '%s\n' docker swarm)
		return 0 ;;
	--timeout|--ttl|--owner-pid|--tail|--profile)
		COMPREPLY=()
		return 0 ;;
	esac

	case $cmd in
	up) opts="-f --file -n --name --format --timeout --owner-pid --keep --ttl --profile --env-file --no-snapshot --backend -q --quiet -h --help" ;;
	down) opts="-f --file -n --name --force --all -q --quiet -h --help" ;;
	run) opts="-f --file -n --name --timeout --ttl --owner-pid --keep --no-snapshot --backend -q --quiet -h --help --" ;;
	env|status) opts="-f --file -n --name --format -h --help" ;;
	logs) opts="-f --file -n --name --tail --follow -h --help" ;;
	ls) opts="--format -h --help" ;;
	gc) opts="-q --quiet -h --help" ;;
	services) opts="-f --file -h --help" ;;
	config) opts="-f --file --format --profile --env-file -h --help" ;;
	db) opts="-f --file -n --name --holder --format -h --help" ;;
	reset) opts="-f --file -n --name -q --quiet -h --help" ;;
	snapshot) opts="--format --all -h --help" ;;
	*) COMPREPLY=(); return 0 ;;
	esac
	# db and snapshot: the subcommand first
	if [[ ($cmd == db || $cmd == snapshot) && $cur != -* ]] && ((COMP_CWORD == first)); then
		if [[ $cmd == db ]]; then
			_envup_reply "$cur" <<< $'new\ndrop\nls\nreset'
		else
			_envup_reply "$cur" <<< $'ls\nrm'
		fi
		return 0
	fi
	if [[ $cur == -* ]]; then
		_envup_reply "$cur" < <(printf '%s\n' $opts)
	elif [[ $cmd == logs || $cmd == up || $cmd == config || $cmd == reset || $cmd == db ]]; then
		_envup_reply "$cur" < <(_envup_services)
	else
		COMPREPLY=()
	fi
	return 0
}

complete -F _envup envup envdown
