complete -c dpservice-dump -l file-prefix -d 'Daemon instance to attach to (default: $DP_FILE_PREFIX, else "rte")' -r
complete -c dpservice-dump -s v -l version -d 'Print the version and exit'
complete -c dpservice-dump -s h -l help -d 'Print help'
