complete -c dpservice-exporter -s v -l version -d 'Print the version and exit'
complete -c dpservice-exporter -s h -l help -d 'Print help'
