complete -c dpservice-exporter -l port -d 'HTTP port serving /metrics (1024-65535)' -r
complete -c dpservice-exporter -l poll-interval -d 'Seconds between telemetry polls (--metrics=upstream) or between checks that the daemon still answers (otherwise)' -r
complete -c dpservice-exporter -l file-prefix -d 'Daemon instance to attach to (default: $DP_FILE_PREFIX, else "rte")' -r
complete -c dpservice-exporter -l grpc-port -d 'The daemon\'s gRPC port on 127.0.0.1, probed before the first connection' -r
complete -c dpservice-exporter -l hostname -d 'Value of the `node` label (default: $NODE_NAME, else the host name)' -r
complete -c dpservice-exporter -l socket -d 'Telemetry socket to read (default: derived from --file-prefix)' -r -F
complete -c dpservice-exporter -l metrics -d 'Which metric families to serve: upstream\'s (polled on a timer), native ones that follow Prometheus naming rules (read on every scrape), or both (read on every scrape)' -r -f -a "upstream\t'Exactly upstream\'s eleven families (dashboards and upstream\'s tests rely on them)'
native\t'`dpservice_*` families: counters with `_total`, per-heap labels, drops per reason'
both\t'Both sets'"
complete -c dpservice-exporter -l daemon-timeout -d 'Seconds without the daemon after which the exporter gives up and exits 1 (it reconnects when the daemon comes back earlier)' -r
complete -c dpservice-exporter -s v -l version -d 'Print the version and exit'
complete -c dpservice-exporter -s h -l help -d 'Print help (see more with \'--help\')'
