complete -c dpservice-dump -l file-prefix -d 'Daemon instance to attach to (default: $DP_FILE_PREFIX, else "rte")' -r
complete -c dpservice-dump -l nodes -d 'Also report every hand-over between graph nodes, limited to nodes matching REGEX (POSIX basic syntax, as upstream: `rx\\|tx`); no value or an empty one means all' -r
complete -c dpservice-dump -l filter -d 'Only report packets matching a pcap-filter expression (host, net, port, portrange, ip, ip6, tcp, udp, icmp, icmp6, arp, proto, PROTO[OFF:SIZE], and/or/not)' -r
complete -c dpservice-dump -l pcap -d 'Write a classic pcap file (`-`: stdout) instead of printing text' -r -F
complete -c dpservice-dump -l pcapng -d 'Write a pcapng file (`-`: stdout) with the graph node and drop reason of every packet as comments' -r -F
complete -c dpservice-dump -s c -l maxcount -d 'Exit after COUNT reported entries (0: no limit)' -r
complete -c dpservice-dump -s v -l version -d 'Print the version and exit'
complete -c dpservice-dump -l drops -d 'Also report packets that are dropped'
complete -c dpservice-dump -l stop -d 'Do nothing but make sure tracing is switched off in the daemon, then exit'
complete -c dpservice-dump -l list-nodes -d 'Print the names of the graph\'s nodes (what --nodes matches) and exit'
complete -c dpservice-dump -s h -l help -d 'Print help'
