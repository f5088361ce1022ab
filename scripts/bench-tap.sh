#!/usr/bin/env bash
# End-to-end packets/s over TAP devices: the real dpservice-bin (release) against a bare
# TAP-to-TAP forwarder (example tap_forward: the same port library and poll/idle loop,
# no graph), fed by the same generator with the same 64-byte frame, in the same run.
#
# Cases, each forwarder on the same TAP names in a network namespace of its own:
#   vf-vf  VM -> VM in one VNI: frames into dtapvf_0, counted out of dtapvf_1
#   vf-pf  VM -> neighbour host (route in VNI 100): frames into dtapvf_0, counted out of
#          dtap0 + dtap1 (IPv4-in-IPv6 encapsulated by dpservice-bin, 104 bytes; the bare
#          forwarder passes the 64-byte frame to dtap0 unchanged)
# All three forwarders (dpservice-bin, bare dtapvf_0<->dtapvf_1, bare dtapvf_0<->dtap0)
# run throughout and sleep in poll(2) while not fed; the generator feeds one at a time,
# the two of a case back to back, alternating which goes first, so drifting machine load
# hits both alike. Generator and forwarders are pinned to different CPUs. The generator
# (example tap_blast) sends from the kernel side of the input TAP and the kernel counts
# what the forwarder writes; see that example for the method.
#
# DPSERVICE_BACKENDS="tap dpdk" adds the daemon on the DPDK backend (issue 15): the same
# binary, built with --features dpdk, once with --port-backend=tap and once with
# --port-backend=dpdk (DPDK's net_tap ports on the same TAP names; `--no-huge -m 512`,
# both lcores mapped to the forwarders' CPU: `--lcores=0@1,1@1`), each in a namespace of
# its own, measured back to back with the bare forwarder, the order rotating by round;
# the summary adds dpservice-bin-dpdk / bare and dpservice-bin-dpdk / dpservice-bin (TAP
# backend). Default: "tap" (the TAP backend alone, as before).
#
# Usage: sudo [DPSERVICE_BACKENDS="tap dpdk"] scripts/bench-tap.sh [ROUNDS] [SECONDS]
#   ROUNDS   rounds of every case on every forwarder (default 9)
#   SECONDS  measured window per case (default 5; 1 s of warm-up precedes it)
# Prints one JSON line per measurement, then per case the medians, the ratio
# dpservice-bin / bare and one summary JSON line. Everything it creates (namespaces,
# processes, TAPs) is removed on exit, Ctrl-C included.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-9}
seconds=${2:-5}
case "$rounds/$seconds" in
    *[!0-9./]* | /* | */) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
    echo "bench-tap: needs root for network namespaces and TAP devices (run with sudo)" >&2
    exit 1
fi

# the daemons to measure: dpservice-bin (TAP backend), dpservice-bin-dpdk (DPDK backend)
daemons=() features=()
for b in ${DPSERVICE_BACKENDS:-tap}; do
    case "$b" in
        tap) daemons+=(dpservice-bin) ;;
        dpdk) daemons+=(dpservice-bin-dpdk) features=(--features dpservice-bin/dpdk) ;;
        *) echo "bench-tap: unknown backend '$b' in DPSERVICE_BACKENDS (tap, dpdk)" >&2; exit 2 ;;
    esac
done
[ "${#daemons[@]}" -gt 0 ] || { echo "bench-tap: DPSERVICE_BACKENDS is empty" >&2; exit 2; }

cargo build --quiet --release -p dpservice-bin -p dpservice-cli "${features[@]}" \
    --bin dpservice-bin --bin dpservice-cli --example tap_forward --example tap_blast
bin=$PWD/target/release
ex=$bin/examples

tag="dps-tapbench-$$"
# namespace per forwarder: the daemons, bare vf-vf, bare vf-pf
declare -A ns=([bare/vf-vf]="$tag-vv" [bare/vf-pf]="$tag-vp")
ns[dpservice-bin]="$tag-dp" ns[dpservice-bin-dpdk]="$tag-dpdk"
for d in dpservice-bin dpservice-bin-dpdk; do
    [[ " ${daemons[*]} " == *" $d "* ]] || unset "ns[$d]"
done
declare -A pid=()
work=$(mktemp -d)
grpc_port=$((40000 + $$ % 20000))

cleanup() {
    trap - EXIT INT TERM
    local p n
    for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pid[@]}"; do wait "$p" 2>/dev/null || true; done
    for n in "${ns[@]}"; do ip netns del "$n" 2>/dev/null || true; done
    rm -rf "$work" "/var/run/dpdk/tapbench$$"*
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'echo "bench-tap: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

# The generator and the forwarders on different CPUs, so that generator and forwarder
# never take turns on one core (other processes still share both).
pin_gen=() pin_fwd=() fwd_cpu=0
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    pin_gen=(taskset -c 0) pin_fwd=(taskset -c 1) fwd_cpu=1
fi

for n in "${ns[@]}"; do
    ip netns add "$n"
    ip -n "$n" link set lo up
    # no kernel IPv6 chatter (ND, MLD) on the TAPs while measuring
    ip netns exec "$n" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
        echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6'
done

# The forwarders' output frames must not be addressed to the kernel side of an output
# TAP (the daemon's VF MAC is on both ends until a VM MAC is learned), or the kernel would
# route them and that cost would be charged to the forwarder's write: give the kernel
# sides of the outputs MACs of their own, so the stack drops the frames at once.
kernel_macs() {
    local i=0 dev
    for dev in dtapvf_1 dtap0 dtap1; do
        i=$((i + 1))
        if ip -n "$1" link show "$dev" >/dev/null 2>&1; then
            ip -n "$1" link set "$dev" address "02:00:00:00:fe:0$i"
        fi
    done
}

# start_daemon NAME: dpservice-bin (TAP backend) or dpservice-bin-dpdk (DPDK backend)
start_daemon() {
    local n=${ns[$1]} backend=(--port-backend=tap) eal=()
    if [ "$1" = dpservice-bin-dpdk ]; then
        backend=(--port-backend=dpdk)
        # a main and a worker lcore, both on the forwarders' CPU (as the TAP daemon's
        # threads); without hugepages
        eal=(-m 512 "--lcores=0@$fwd_cpu,1@$fwd_cpu")
    fi
    # `ip netns exec`, `taskset` and `env` exec the program, so $! is the daemon itself
    ip netns exec "$n" "${pin_fwd[@]}" env DP_CONF= "$bin/dpservice-bin" --no-pci --no-huge \
        "${eal[@]}" --file-prefix="tapbench$$${1#dpservice-bin}" \
        --vdev=net_tap0,iface=dtap0,mac=22:22:22:22:22:00 \
        --vdev=net_tap1,iface=dtap1,mac=22:22:22:22:22:01 \
        --vdev=net_tap2,iface=dtapvf_0,mac=66:66:66:66:66:00 \
        --vdev=net_tap3,iface=dtapvf_1,mac=66:66:66:66:66:01 \
        -- --pf0=dtap0 --pf1=dtap1 --vf-pattern=dtapvf_ --nic-type=tap \
        --ipv6=fc00:1::1 --grpc-port="$grpc_port" --no-stats "${backend[@]}" \
        >"$work/$1.log" 2>&1 &
    pid[$1]=$!
    local cli=(ip netns exec "$n" "$bin/dpservice-cli" --address="127.0.0.1:$grpc_port")
    for _ in $(seq 1 100); do
        "${cli[@]}" get version >/dev/null 2>&1 && break
        sleep 0.1
    done
    {
        "${cli[@]}" init
        "${cli[@]}" add interface --id=vm1 --vni=100 --device=net_tap2 --ipv4=10.100.1.1
        "${cli[@]}" add interface --id=vm2 --vni=100 --device=net_tap3 --ipv4=10.100.1.2
        "${cli[@]}" add route --vni=100 --prefix=10.100.2.0/24 --next-hop-vni=100 \
            --next-hop-ip=fc00:2::64:0:1
    } >"$work/cli.log" 2>&1 || {
        echo "bench-tap: configuring $1 failed:" >&2
        cat "$work/cli.log" "$work/$1.log" >&2
        exit 1
    }
    kernel_macs "$n"
}

# start_bare CASE IFACE_A IFACE_B
start_bare() {
    local n=${ns[bare/$1]} log="$work/bare-$1.log"
    ip netns exec "$n" "${pin_fwd[@]}" "$ex/tap_forward" "$2" "$3" >"$log" 2>&1 &
    pid[bare/$1]=$!
    for _ in $(seq 1 100); do
        grep -q ready "$log" && break
        sleep 0.05
    done
    grep -q ready "$log" || { cat "$log" >&2; exit 1; }
    kernel_macs "$n"
}

# measure CASE FORWARDER ROUND
measure() {
    local key=$2 out
    [ "$2" = bare ] && key=bare/$1
    case "$1/$2" in
        vf-vf/*) out=(--out dtapvf_1 --dst-ip 10.100.1.2) ;;
        vf-pf/dpservice-bin*) out=(--out dtap0 --out dtap1 --dst-ip 10.100.2.2) ;;
        vf-pf/bare) out=(--out dtap0 --dst-ip 10.100.2.2) ;;
    esac
    ip netns exec "${ns[$key]}" "${pin_gen[@]}" "$ex/tap_blast" --into dtapvf_0 "${out[@]}" \
        --dst-mac 66:66:66:66:66:00 --src-ip 10.100.1.1 --seconds "$seconds" \
        --forwarder-pid "${pid[$key]}" --case "$1" --forwarder "$2" --round "$3" |
        tee -a "$work/results.jsonl"
}

for d in "${daemons[@]}"; do start_daemon "$d"; done
start_bare vf-vf dtapvf_0 dtapvf_1
start_bare vf-pf dtapvf_0 dtap0

# the machine's load before the benchmark adds its own (generator and forwarder: ~2)
load0=$(cut -d' ' -f1 /proc/loadavg)
echo "bench-tap: $rounds rounds, ${seconds} s per case, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
forwarders=("${daemons[@]}" bare)
nf=${#forwarders[@]}
for r in $(seq 1 "$rounds"); do
    for c in vf-vf vf-pf; do
        # the order rotates by round (two forwarders: alternates, as before)
        for i in $(seq 0 $((nf - 1))); do
            measure "$c" "${forwarders[$(((i + r + 1) % nf))]}" "$r"
        done
    done
done

# field NAME: the numeric values of NAME in the JSON lines on stdin
field() { sed -E "s/.*\"$1\":(-?[0-9.]+).*/\1/"; }
median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print 0; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
values() { grep "\"case\":\"$1\",\"forwarder\":\"$2\"" "$work/results.jsonl" | field "$3"; }
stat_of() { values "$@" | median; }
# paired CASE FIELD [A [B]]: the median over rounds of A / B (default dpservice-bin /
# bare), each pair measured in the same round
paired() { paste <(values "$1" "${3:-dpservice-bin}" "$2") <(values "$1" "${4:-bare}" "$2") | awk '{ print $1 / $2 }' | median; }

echo
# summary DAEMON: its medians against the bare forwarder's, per case
summary() {
    local c=$1 n=$2 d b dc bc dl bl pr prc load
    d=$(stat_of "$c" "$n" received_pps)
    b=$(stat_of "$c" bare received_pps)
    dc=$(stat_of "$c" "$n" received_pps_per_forwarder_cpu)
    bc=$(stat_of "$c" bare received_pps_per_forwarder_cpu)
    dl=$(stat_of "$c" "$n" loss)
    bl=$(stat_of "$c" bare loss)
    pr=$(paired "$c" received_pps "$n")
    prc=$(paired "$c" received_pps_per_forwarder_cpu "$n")
    load=$(grep "\"case\":\"$c\"" "$work/results.jsonl" | field load1 | median)
    awk -v c="$c" -v n="$n" -v d="$d" -v b="$b" -v dc="$dc" -v bc="$bc" -v dl="$dl" -v bl="$bl" \
        -v pr="$pr" -v prc="$prc" -v load="$load" -v load0="$load0" -v r="$rounds" 'BEGIN {
        printf "%s: %s %.0f pps (%.0f per forwarder CPU-s, loss %.1f %%), bare forwarder %.0f pps (%.0f per CPU-s, loss %.1f %%); ratio %.2f, per CPU-s %.2f (paired rounds: %.2f, %.2f); medians of %d rounds; load average %.2f before, %.2f during\n",
            c, n, d, dc, dl * 100, b, bc, bl * 100, d / b, dc / bc, pr, prc, r, load0, load
        key = n == "dpservice-bin" ? "" : ",\"daemon\":\"" n "\""
        printf "{\"case\":\"%s\"%s,\"rounds\":%d,\"dpservice_bin_pps\":%.0f,\"bare_pps\":%.0f,\"ratio\":%.3f,\"paired_ratio\":%.3f,\"dpservice_bin_pps_per_cpu\":%.0f,\"bare_pps_per_cpu\":%.0f,\"ratio_per_cpu\":%.3f,\"paired_ratio_per_cpu\":%.3f,\"dpservice_bin_loss\":%.4f,\"bare_loss\":%.4f,\"load1_before\":%.2f,\"load1\":%.2f}\n",
            c, key, r, d, b, d / b, pr, dc, bc, dc / bc, prc, dl, bl, load0, load }'
}
for c in vf-vf vf-pf; do
    for n in "${daemons[@]}"; do summary "$c" "$n"; done
    if [ "${#daemons[@]}" -eq 2 ]; then
        # the DPDK backend against the TAP backend, same binary, same generator
        dp=$(stat_of "$c" dpservice-bin-dpdk received_pps)
        tp=$(stat_of "$c" dpservice-bin received_pps)
        dpc=$(stat_of "$c" dpservice-bin-dpdk received_pps_per_forwarder_cpu)
        tpc=$(stat_of "$c" dpservice-bin received_pps_per_forwarder_cpu)
        pr=$(paired "$c" received_pps dpservice-bin-dpdk dpservice-bin)
        prc=$(paired "$c" received_pps_per_forwarder_cpu dpservice-bin-dpdk dpservice-bin)
        awk -v c="$c" -v dp="$dp" -v tp="$tp" -v dpc="$dpc" -v tpc="$tpc" -v pr="$pr" \
            -v prc="$prc" -v r="$rounds" 'BEGIN {
            printf "%s: DPDK backend %.0f pps / TAP backend %.0f pps = %.2f (paired rounds %.2f); per forwarder CPU-s %.0f / %.0f = %.2f (paired %.2f)\n",
                c, dp, tp, dp / tp, pr, dpc, tpc, dpc / tpc, prc
            printf "{\"case\":\"%s\",\"rounds\":%d,\"dpdk_backend_pps\":%.0f,\"tap_backend_pps\":%.0f,\"ratio_dpdk_tap\":%.3f,\"paired_ratio_dpdk_tap\":%.3f,\"dpdk_backend_pps_per_cpu\":%.0f,\"tap_backend_pps_per_cpu\":%.0f,\"ratio_dpdk_tap_per_cpu\":%.3f,\"paired_ratio_dpdk_tap_per_cpu\":%.3f}\n",
                c, r, dp, tp, dp / tp, pr, dpc, tpc, dpc / tpc, prc }'
    fi
done
