# Completes one line the way an interactive bash with bash-completion does: the
# completion file is found by bash-completion's loader (by command name, from
# $BASH_COMPLETION_USER_DIR/completions), then the registered function is called with
# COMP_WORDS/COMP_CWORD as readline would set them. Prints one candidate per line.
# Usage: bash bash.sh '<line>'   (a trailing space means "complete a new word")
set -u
source /usr/share/bash-completion/bash_completion
line="$1"
# Split as readline does with the default COMP_WORDBREAKS: at blanks, and '=' and ':'
# become words of their own (`--address=host:1` -> `--address` `=` `host` `:` `1`).
set -f
COMP_WORDS=()
for w in $line; do
    while [[ "$w" =~ ^([^=:]*)([=:])(.*)$ ]]; do
        [[ -n "${BASH_REMATCH[1]}" ]] && COMP_WORDS+=("${BASH_REMATCH[1]}")
        COMP_WORDS+=("${BASH_REMATCH[2]}")
        w="${BASH_REMATCH[3]}"
    done
    [[ -n "$w" ]] && COMP_WORDS+=("$w")
done
set +f
[[ "$line" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$line"; COMP_POINT=${#line}; COMP_TYPE=9; COMP_KEY=9
cmd="${COMP_WORDS[0]}"
__load_completion "$cmd" || { echo "bash-completion found no completion for $cmd" >&2; exit 3; }
spec=$(complete -p "$cmd") || exit 3
fn=$(sed -n 's/.*-F \([^ ]*\).*/\1/p' <<< "$spec")
"$fn" "$cmd" "${COMP_WORDS[$COMP_CWORD]}" "${COMP_WORDS[$COMP_CWORD-1]:-}"
[[ ${#COMPREPLY[@]} -gt 0 ]] && printf '%s\n' "${COMPREPLY[@]}"
exit 0
