# Completes one line in zsh: the completion directory is put on fpath, compinit must
# bind the command to `_<command>` from the file's #compdef line, and that function
# is called as compsys would on the first TAB. `_describe` is replaced by a stub that
# prints the candidates it is handed (value, without the ":description").
# Usage: zsh -f zsh.zsh <completion dir> '<line>'
fpath=("$1" $fpath)
autoload -Uz compinit && compinit -u -D
line="$2"
words=(${(s: :)line})
[[ "$line" == *" " ]] && words+=("")
CURRENT=${#words}
cmd=${words[1]}
[[ ${_comps[$cmd]} == "_$cmd" ]] || { print -u2 "compinit did not bind $cmd (got '${_comps[$cmd]}')"; exit 3 }
_describe() {
    local name=$3
    local item
    for item in "${(@P)name}"; do
        print -r -- "${${item%%:*}//\\\\/}"
    done
}
"_$cmd"
exit 0
