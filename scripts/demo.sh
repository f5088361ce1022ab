#!/usr/bin/env bash
# The demo (README's first command). Until the packet path lands it says what it will do.
set -euo pipefail
cat <<'MSG'
dpservice demo (not yet runnable: the packet path is being built)

When complete, this script will:
  1. build the suite (cargo build --release);
  2. create a private sandbox of network namespaces: two "hosts" joined by a veth
     underlay, and VMs (namespaces) on each host attached to the daemon's TAP ports;
  3. start dpservice-bin on each host and configure interfaces and routes with
     dpservice-cli;
  4. show pings and a TCP transfer crossing the overlay, and print the commands to watch
     it with dpservice-dump, dpservice-inspect and dpservice-exporter;
  5. remove everything on exit (Ctrl-C too).
MSG
