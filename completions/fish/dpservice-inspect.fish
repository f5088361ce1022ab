complete -c dpservice-inspect -l file-prefix -d 'Daemon instance to attach to (default: $DP_FILE_PREFIX, else "rte")' -r
complete -c dpservice-inspect -s o -l output-format -d 'Output format' -r -f -a "human\t'Lines for people'
table\t'Aligned columns with a header'
csv\t'Comma-separated values with a header'
json\t'A JSON array or object'"
complete -c dpservice-inspect -s t -l table -d 'Table to show ("list": the names of the tables)' -r -f -a "list\t''
conntrack\t''
dnat\t''
iface\t''
lb\t''
lb_id\t''
portmap\t''
portoverload\t''
snat\t''
vnf\t''
vnf_rev\t''
vni\t''"
complete -c dpservice-inspect -s s -l socket -d 'NUMA socket the daemon created its tables on (default: the one it used)' -r
complete -c dpservice-inspect -l refresh-ms -d 'Browser refresh interval in milliseconds' -r
complete -c dpservice-inspect -l dump -d 'Print the table\'s entries instead of its entry count'
complete -c dpservice-inspect -l all -d 'Print the entry count of every table'
complete -c dpservice-inspect -l tui -d 'Open the live browser (the default on a terminal without -t, -o, -s, --dump, --all)'
complete -c dpservice-inspect -s v -l version -d 'Print the version and exit'
complete -c dpservice-inspect -s h -l help -d 'Print help (see more with \'--help\')'
