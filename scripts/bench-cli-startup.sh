#!/usr/bin/env bash
# Cold-start wall time of `dpservice-cli get version` on loopback, median of many runs,
# with two baselines measured in the same run: `true` (the cost of spawning any process)
# and `bare_client` (the least a Rust gRPC client must do: runtime, connect, one call).
#
# Usage: scripts/bench-cli-startup.sh [RUNS] [ADDRESS]
#   RUNS     number of timed runs per command (default 300)
#   ADDRESS  a running daemon (host:port); default: start the GetVersion-only
#            bench_server example on a free loopback port
# Prints one JSON line per command, then the CLI's median and its ratios to both baselines.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-300}
address=${2:-}

cargo build --quiet --release -p dpservice-cli --bin dpservice-cli \
    --example bench_server --example bare_client --example spawn_bench
bin=target/release
ex=target/release/examples

if [ -z "$address" ]; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 47337)
    address="127.0.0.1:$port"
    fifo=$(mktemp -u)
    mkfifo "$fifo"
    "$ex/bench_server" "$port" >"$fifo" &
    server=$!
    trap 'kill "$server" 2>/dev/null || true; rm -f "$fifo"' EXIT
    read -r _ready <"$fifo"
fi

"$bin/dpservice-cli" --address="$address" get version >/dev/null

# The three commands run interleaved, so machine load affects them alike.
lines=$("$ex/spawn_bench" "$runs" \
    "true=$(command -v true)" \
    "bare_client=$ex/bare_client $address" \
    "dpservice-cli get version=$bin/dpservice-cli --address=$address get version")
printf '%s\n' "$lines"
true_line=$(sed -n 1p <<<"$lines"); bare_line=$(sed -n 2p <<<"$lines"); cli_line=$(sed -n 3p <<<"$lines")

median() { sed -E 's/.*"median_us":([0-9]+).*/\1/' <<<"$1"; }
t=$(median "$true_line"); b=$(median "$bare_line"); c=$(median "$cli_line")
awk -v t="$t" -v b="$b" -v c="$c" -v r="$runs" 'BEGIN {
    printf "dpservice-cli get version: median %.2f ms over %d runs (true: %.2f ms, bare tonic client: %.2f ms); %.2fx bare client, +%.2f ms over bare client\n",
        c/1000, r, t/1000, b/1000, c/b, (c-b)/1000 }'
