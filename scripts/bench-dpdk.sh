#!/usr/bin/env bash
# The DPDK backend's packet rate against dpdk-testpmd in the same run, on the same kind of
# DPDK virtual devices, one core each (see BENCHMARKS.md). Needs root, DPDK (libdpdk-dev,
# dpdk-testpmd) and a build with the feature: prints JSON lines.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_PER_RUN:-10}

# testpmd: io forwarding between two net_null devices on one forwarding lcore; the rate
# is the forwarded packets per second (rx on one port = tx on the other), read from its
# periodic statistics after the first two periods
prefix="tpbench$$"
out=$(timeout -s INT "$seconds" dpdk-testpmd -l 0,1 --no-huge -m 1024 --no-pci \
    --file-prefix="$prefix" --vdev=net_null0 --vdev=net_null1 -- \
    --forward-mode=io --auto-start --stats-period=1 --nb-cores=1 2>&1 || true)
rm -rf "/var/run/dpdk/$prefix"
echo "$out" | awk '/Rx-pps:/ { n++; if (n > 4) { s += $2; c++ } }
    END { if (c) printf "{\"case\":\"testpmd_io_null\",\"mpps\":%.3f}\n", 2 * s / c / 1e6 }'

cargo bench -p dpservice-bin --features dpdk --bench dpdk_path --locked 2>/dev/null | grep '^{'
