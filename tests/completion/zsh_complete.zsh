# What zsh offers for a command line: the completion functions in FPATH_DIR
# are loaded into an interactive zsh on a pseudo-terminal, the line is typed
# with a TAB, and every match compadd adds is printed, one per line.
#   zsh zsh_complete.zsh FPATH_DIR "envup logs "
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1=''; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "zstyle ':completion:*' list-grouped false; zstyle ':completion:*' insert-tab false; zstyle ':completion:*' menu no"
zpty -w z 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  typeset -a __hits __dscr
  builtin compadd -A __hits -D __dscr "$@"
  (( $#__hits == 0 )) && return 1
  local h; for h in $__hits; do print -r -- "<CO""MP>$h"; done
  builtin compadd "$@"
}'
zpty -w z "bindkey '^I' complete-word; zstyle ':completion:*' list-prompt ''; LISTMAX=0"
zpty -w z "print -r -- '<REA''DY>'"
zpty -r z line '*<READY>*'
zpty -w z "print -r -- '<REA''DY2>'"
zpty -r z line '*<READY2>*'
zpty -n -w z "$2"$'\t'
# (the markers are printed from split quotes: the terminal's echo of a
# command line never looks like its output, however late the echo comes)
# the matches are printed while the widget runs; wait for the prompt's redraw
sleep 0.5
zpty -w z $'\C-u'
zpty -w z "print -r -- '<EN''D>'"
out=""
while zpty -r z line; do
  [[ $line == *'<END>'* && $line != *print* ]] && break
  out+=$line
done
print -r -- "$out" | tr '\r' '\n' | grep -ao '<COMP>[^<[:cntrl:]]*' | sed 's/<COMP>//' | sort -u
zpty -d z
