#!/usr/bin/env bash
# Packets per second of dpservice-bin on the DPDK backend (issue 15), against DPDK's own
# dpdk-testpmd and against our in-memory packet path, in the same run on the same CPU.
#
# Mode `null` (default): VF -> PF encapsulation of one established flow (vm1 10.100.1.1 ->
# 10.100.2.2, UDP, 64-byte frames; route in VNI 100 to a neighbour host's underlay
# address) on DPDK virtual devices without a kernel:
#   net_null0, net_null1   the uplinks pf0/pf1: sinks that count and never receive
#   net_pcap0              the VF: replays a one-frame pcap for ever (each rx copies the
#                          frame into a fresh mbuf)
# Contenders, each alone on the machine while measured, back to back per round, the
# order rotating by round so that drifting load hits all alike:
#   testpmd        dpdk-testpmd --forward-mode=io --port-topology=chained over the same
#                  three vdevs (pcap -> null0 unchanged, no graph): DPDK's floor
#   dpservice-bin  the release daemon (--features dpdk, --port-backend=dpdk), interface
#                  and route made with dpservice-cli; encapsulated frames (104 bytes) leave
#                  by pf0 or pf1
#   in-memory      the packet_path bench's `vf_to_pf_encap` loop (same graph, in-memory
#                  ports generating copies of the frame), pinned to the same CPU
# Both DPDK processes run with -l 0,1: main lcore on CPU 0, the forwarding lcore
# busy-polling on CPU 1. Their rate is read from their telemetry sockets
# (`/ethdev/stats,<port>` opackets of the output ports) twice, SECONDS apart, after a
# warm-up; the forwarding lcore polls without pause, so that is the rate of one core
# (as much of it as the machine's other load leaves), and packets per CPU-second of that
# lcore's thread are given too (the in-memory loop's CPU time likewise).
#
# Mode `tap`: the daemon over TAP devices with --port-backend=dpdk (DPDK's net_tap
# ports) against --port-backend=tap, same binary and generator: scripts/bench-tap.sh with
# DPSERVICE_BACKENDS="tap dpdk" (see that script).
#
# Usage: sudo scripts/bench-dpdk.sh [null|tap] [ROUNDS] [SECONDS]
#   ROUNDS   rounds (default 7)
#   SECONDS  measured window per contender (default 5; a warm-up of 2 s precedes it)
# Prints one JSON line per measurement, then the medians, the ratios dpservice-bin /
# testpmd and dpservice-bin / in-memory (of medians, and the median of the per-round
# ratios) and one summary JSON line. Processes and files it made are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=null
case "${1:-}" in
    null | tap) mode=$1; shift ;;
esac
rounds=${1:-7}
seconds=${2:-5}
case "$rounds/$seconds" in
    *[!0-9./]* | /* | */) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
if [ "$mode" = tap ]; then
    DPSERVICE_BACKENDS="tap dpdk" exec scripts/bench-tap.sh "$rounds" "$seconds"
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "bench-dpdk: needs root (DPDK's runtime directory under /var/run/dpdk; run with sudo)" >&2
    exit 1
fi
for tool in dpdk-testpmd python3; do
    command -v "$tool" >/dev/null || { echo "bench-dpdk: $tool not found (apt-get install dpdk python3)" >&2; exit 1; }
done
if [ "$(nproc)" -lt 2 ]; then
    echo "bench-dpdk: needs 2 CPUs (main lcore 0, forwarding lcore 1)" >&2
    exit 1
fi

# the bench first: building it also builds target/release/dpservice-bin, without the
# feature, which the second build replaces
bench_exe=$(cargo bench --quiet --no-run -p dpservice-bin --bench packet_path \
    --message-format=json |
    sed -n 's/.*"executable":"\([^"]*packet_path[^"]*\)".*/\1/p' | tail -n 1) || true
[ -x "${bench_exe:-}" ] || { echo "bench-dpdk: could not build the packet_path bench" >&2; exit 1; }
cargo build --quiet --release -p dpservice-bin -p dpservice-cli --features dpservice-bin/dpdk \
    --bin dpservice-bin --bin dpservice-cli
bin=$PWD/target/release

tag="dpdkbench$$"
work=$(mktemp -d)
grpc_port=$((40000 + $$ % 20000))
running=""

cleanup() {
    trap - EXIT INT TERM
    stop_running
    rm -rf "$work" "/var/run/dpdk/$tag-"*
}
# stop_running: ends the contender started last (SIGINT: testpmd and the daemon both
# stop their ports and leave on it)
stop_running() {
    if [ -n "$running" ]; then
        kill -INT "$running" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$running" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$running" 2>/dev/null || true
        wait "$running" 2>/dev/null || true
        running=""
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'echo "bench-dpdk: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

# The VF's frame: Ethernet to the VF's MAC (net_pcap's first port), IPv4 10.100.1.1 ->
# 10.100.2.2, UDP 4000 -> 80, 64 bytes.
vf_mac=02:70:63:61:70:00
python3 - "$work/vm.pcap" "$vf_mac" <<'EOF'
import struct, sys
path, dst = sys.argv[1], bytes(int(x, 16) for x in sys.argv[2].split(":"))
src = bytes([0x66, 0x66, 0x66, 0x66, 0x01, 0x01])
payload = b"dpservice-dpdkbench".ljust(64 - 14 - 20 - 8, b"\0")
udp = struct.pack("!HHHH", 4000, 80, 8 + len(payload), 0) + payload
ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                           bytes([10, 100, 1, 1]), bytes([10, 100, 2, 2])))
s = sum(struct.unpack("!10H", ip))
s = (s & 0xFFFF) + (s >> 16)
s = (s & 0xFFFF) + (s >> 16)
ip[10:12] = struct.pack("!H", ~s & 0xFFFF)
frame = dst + src + b"\x08\x00" + bytes(ip) + udp
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame)
EOF

# The same EAL words for both DPDK processes: ports 0, 1 = net_null0/1 (pf0, pf1), port 2
# = net_pcap0 (the VF).
eal_words() {
    echo --no-pci --no-huge -m 1024 -l 0,1 --file-prefix="$tag-$1" \
        --vdev=net_null0,no-rx=1 --vdev=net_null1,no-rx=1 \
        --vdev=net_pcap0,rx_pcap="$work/vm.pcap",infinite_rx=1
}

# rate NAME ROUND SOCKET PID: the output ports' opackets (ports 0 and 1) read over the
# telemetry socket SECONDS apart, after the first packets and a warm-up, and the CPU time
# the forwarding lcore's thread (rte-worker-1) got meanwhile; one JSON line.
rate() {
    python3 - "$1" "$2" "$3" "$seconds" "$4" <<'EOF'
import glob, json, os, socket, sys, time
name, rnd, path, window = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
pid = sys.argv[5]
def lcore_cpu():
    # utime + stime of the EAL worker thread, in seconds
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            if open(f"{task}/comm").read().strip() == "rte-worker-1":
                f = open(f"{task}/stat").read().rsplit(")", 1)[1].split()
                return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    sys.exit(f"bench-dpdk: no thread rte-worker-1 in {name} (pid {pid})")
def out_packets():
    total = 0
    for port in (0, 1):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(5)
        s.connect(path)
        s.recv(1 << 16)
        s.send(f"/ethdev/stats,{port}".encode())
        total += json.loads(s.recv(1 << 20))["/ethdev/stats"]["opackets"]
        s.close()
    return total
deadline = time.monotonic() + 60
while True:
    try:
        if out_packets() > 0:
            break
    except (OSError, KeyError, TypeError, ValueError):
        pass
    if time.monotonic() > deadline:
        sys.exit(f"bench-dpdk: {name} sent nothing within 60 s ({path})")
    time.sleep(0.2)
time.sleep(2)
t0, c0, n0 = time.monotonic(), lcore_cpu(), out_packets()
time.sleep(window)
t1, c1, n1 = time.monotonic(), lcore_cpu(), out_packets()
mpps = (n1 - n0) / (t1 - t0) / 1e6
cpu = max(c1 - c0, 0.01)
load1 = float(open("/proc/loadavg").read().split()[0])
print(json.dumps({"forwarder": name, "round": rnd, "mpps": round(mpps, 3),
                  "mpps_cpu": round((n1 - n0) / cpu / 1e6, 3), "packets": n1 - n0,
                  "seconds": round(t1 - t0, 3), "lcore_cpu": round(cpu / (t1 - t0), 3),
                  "load1": load1}, separators=(",", ":")))
EOF
}

run_testpmd() {
    # shellcheck disable=SC2046 # the EAL words are split on purpose
    dpdk-testpmd $(eal_words testpmd) -- --forward-mode=io --port-topology=chained \
        --nb-cores=1 --total-num-mbufs=16384 --auto-start --stats-period=1 \
        >"$work/testpmd-$1.log" 2>&1 </dev/null &
    running=$!
    rate testpmd "$1" "/var/run/dpdk/$tag-testpmd/dpdk_telemetry.v2" "$running" |
        tee -a "$work/results.jsonl"
    stop_running
}

run_daemon() {
    local log="$work/daemon-$1.log"
    # shellcheck disable=SC2046 # the EAL words are split on purpose
    env DP_CONF= "$bin/dpservice-bin" $(eal_words daemon) -- \
        --pf0=net_null0 --pf1=net_null1 --vf-pattern=net_pcap --nic-type=tap \
        --ipv6=fc00:1::1 --grpc-port="$grpc_port" --no-stats --port-backend=dpdk \
        >"$log" 2>&1 &
    running=$!
    local cli=("$bin/dpservice-cli" --address="127.0.0.1:$grpc_port")
    for _ in $(seq 1 200); do
        "${cli[@]}" get version >/dev/null 2>&1 && break
        kill -0 "$running" 2>/dev/null || break
        sleep 0.1
    done
    {
        "${cli[@]}" init
        "${cli[@]}" add interface --id=vm1 --vni=100 --device=net_pcap0 --ipv4=10.100.1.1
        "${cli[@]}" add route --vni=100 --prefix=10.100.2.0/24 --next-hop-vni=100 \
            --next-hop-ip=fc00:2::64:0:1
    } >"$work/cli.log" 2>&1 || {
        echo "bench-dpdk: configuring dpservice-bin failed:" >&2
        cat "$work/cli.log" "$log" >&2
        exit 1
    }
    rate dpservice-bin "$1" "/var/run/dpdk/$tag-daemon/dpdk_telemetry.v2" "$running" |
        tee -a "$work/results.jsonl"
    stop_running
}

run_memory() {
    local out
    out=$(PACKET_PATH_CYCLES=1 PACKET_PATH_PROFILE=vf_to_pf_encap taskset -c 1 "$bench_exe")
    python3 - "$1" "$out" <<'EOF' | tee -a "$work/results.jsonl"
import json, sys
r = json.loads(sys.argv[2])
load1 = float(open("/proc/loadavg").read().split()[0])
print(json.dumps({"forwarder": "in-memory", "round": int(sys.argv[1]), "mpps": r["mpps_wall"],
                  "mpps_cpu": r["mpps_cpu"], "seconds": 5, "load1": load1},
                 separators=(",", ":")))
EOF
}

load0=$(cut -d' ' -f1 /proc/loadavg)
echo "bench-dpdk: $rounds rounds, ${seconds} s windows, $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
contenders=(testpmd daemon memory)
for r in $(seq 1 "$rounds"); do
    for i in 0 1 2; do
        "run_${contenders[$(((i + r) % 3))]}" "$r"
    done
done

python3 - "$work/results.jsonl" "$load0" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by, cpu = {}, {}
for r in rows:
    by.setdefault(r["forwarder"], {})[r["round"]] = r["mpps"]
    cpu.setdefault(r["forwarder"], {})[r["round"]] = r["mpps_cpu"]
med = {k: statistics.median(v.values()) for k, v in by.items()}
medc = {k: statistics.median(v.values()) for k, v in cpu.items()}
def paired(a, b, by=by):
    return statistics.median(by[a][r] / by[b][r] for r in by[a] if r in by[b] and by[b][r] > 0)
d, t, m = med["dpservice-bin"], med["testpmd"], med["in-memory"]
load = statistics.median(r["load1"] for r in rows)
n = len(by["dpservice-bin"])
print()
for k in ("testpmd", "dpservice-bin", "in-memory"):
    v = sorted(by[k].values())
    print(f"{k}: {med[k]:.2f} Mpps median ({v[0]:.2f}-{v[-1]:.2f}), "
          f"{medc[k]:.2f} Mpps per CPU-second of the forwarding thread, over {len(v)} rounds")
dc, tc, mc = medc["dpservice-bin"], medc["testpmd"], medc["in-memory"]
print(f"dpservice-bin / testpmd {d / t:.3f} (paired rounds {paired('dpservice-bin', 'testpmd'):.3f}; "
      f"per CPU-s {dc / tc:.3f}); "
      f"dpservice-bin / in-memory {d / m:.3f} (paired {paired('dpservice-bin', 'in-memory'):.3f}; "
      f"per CPU-s {dc / mc:.3f}); load average {float(sys.argv[2]):.2f} before, {load:.2f} during")
print(json.dumps({"case": "vf-pf-encap", "rounds": n, "testpmd_mpps": round(t, 3),
                  "dpservice_bin_mpps": round(d, 3), "in_memory_mpps": round(m, 3),
                  "ratio_testpmd": round(d / t, 3),
                  "paired_ratio_testpmd": round(paired("dpservice-bin", "testpmd"), 3),
                  "ratio_in_memory": round(d / m, 3),
                  "paired_ratio_in_memory": round(paired("dpservice-bin", "in-memory"), 3),
                  "testpmd_mpps_cpu": round(tc, 3), "dpservice_bin_mpps_cpu": round(dc, 3),
                  "in_memory_mpps_cpu": round(mc, 3), "ratio_testpmd_cpu": round(dc / tc, 3),
                  "paired_ratio_testpmd_cpu": round(paired("dpservice-bin", "testpmd", cpu), 3),
                  "ratio_in_memory_cpu": round(dc / mc, 3),
                  "load1_before": float(sys.argv[2]), "load1": load}, separators=(",", ":")))
EOF
