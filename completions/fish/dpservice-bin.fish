complete -c dpservice-bin -l pf0 -d 'first physical interface (e.g. eth0)' -r
complete -c dpservice-bin -l pf1 -d 'second physical interface (e.g. eth1)' -r
complete -c dpservice-bin -l ipv6 -d 'IPv6 underlay address' -r
complete -c dpservice-bin -l vf-pattern -d 'virtual interface name pattern (e.g. \'eth1vf\')' -r
complete -c dpservice-bin -l dhcp-mtu -d 'set the mtu field in DHCP responses (68 - 1500)' -r
complete -c dpservice-bin -l dhcp-dns -d 'set the domain name server field in DHCP responses (can be used multiple times)' -r
complete -c dpservice-bin -l dhcpv6-dns -d 'set the domain name server field in DHCPv6 responses (can be used multiple times)' -r
complete -c dpservice-bin -l udp-virtsvc -d 'map a VM-accessible IPv4 endpoint to an outside IPv6 UDP service' -r
complete -c dpservice-bin -l tcp-virtsvc -d 'map a VM-accessible IPv4 endpoint to an outside IPv6 TCP service' -r
complete -c dpservice-bin -l wcmp -d 'weighted-cost-multipath percentage for pf0 (0 - 100)' -r
complete -c dpservice-bin -l nic-type -d 'NIC type to use' -r -f -a "mellanox\t'Mellanox ConnectX: VF count from SR-IOV sysfs'
tap\t'TAP devices: VF count from the ports matching --vf-pattern'
bluefield2\t'BlueField-2 DPU'"
complete -c dpservice-bin -l graphtrace-loglevel -d 'verbosity level of packet traversing the graph framework' -r
complete -c dpservice-bin -l color -d 'output colorization mode' -r -f -a "never\t'No colours'
always\t'Always colour'
auto\t'Colour when standard output is a terminal'"
complete -c dpservice-bin -l log-format -d 'set the format of individual log lines (on standard output)' -r -f -a "text\t'`<timestamp> <thread-id>(<thread-name>) <level> <TYPE>: <message>, key: value`'
json\t'One JSON object per line (`ts`, `thread_id`, `thread_name`, `level`, `logger`, `msg`, ...)'"
complete -c dpservice-bin -l grpc-port -d 'listen for gRPC clients on this port' -r
complete -c dpservice-bin -l flow-timeout -d 'inactive flow timeout (except TCP established flows)' -r
complete -c dpservice-bin -l active-lockfile -d 'file to be locked before starting packet processing' -r
complete -c dpservice-bin -l sync-tap -d 'TAP device to use for dpservice-ha synchronization' -r
complete -c dpservice-bin -s h -l help -d 'display this help and exit'
complete -c dpservice-bin -s v -l version -d 'display version and exit'
complete -c dpservice-bin -l no-stats -d 'do not print periodic statistics to stdout'
complete -c dpservice-bin -l enable-ipv6-overlay -d 'enable IPv6 overlay addresses'
complete -c dpservice-bin -l no-offload -d 'disable traffic offloading'
complete -c dpservice-bin -l multiport-eswitch -d 'run on NIC configured in multiport e-switch mode'
complete -c dpservice-bin -l debug-coredumps -d 'Change /proc/self/coredump-flags to 0x7f for complete core-dumps'
complete -c dpservice-bin -l static-underlay -d 'generate underlay addresses deterministically, as upstream\'s static-underlay test build does (for reproducible tests)'
