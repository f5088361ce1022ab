complete -c dpservice-bin -s v -l version -d 'Print the version and exit'
complete -c dpservice-bin -s h -l help -d 'Print help'
