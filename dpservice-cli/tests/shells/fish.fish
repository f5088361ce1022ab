# Completes one line in fish, loading the completion from the directory given (as
# fish loads vendor completions: by command name). Prints one candidate per line.
# Usage: fish --no-config fish.fish <completion dir> '<line>'
set -p fish_complete_path $argv[1]
complete -C "$argv[2]" | string replace -r '\t.*' ''
exit 0
