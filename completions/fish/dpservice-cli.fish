complete -c dpservice-cli -s v -l version -d 'Print the version and exit'
complete -c dpservice-cli -s h -l help -d 'Print help'
