#!/usr/bin/env bash
# The dpservice demo: two hypervisor "hosts", each a network namespace running its own
# dpservice-bin on TAP ports, joined by a veth underlay; VMs are namespaces holding the
# daemons' VM-side TAP devices. A third namespace is the underlay router and "the
# Internet": a small userspace IPv4-in-IPv6 tunnel endpoint in front of a kernel stack.
# Interfaces, routes, a NAT gateway and a load balancer are configured with dpservice-cli;
# then pings and a TCP transfer cross the overlay, a VM reaches the Internet through the
# NAT gateway, and connections to the load balancer spread over VMs on both hosts.
# Everything is removed on exit (Ctrl-C too).
#
#   sudo ./scripts/demo.sh          run the demo and tear it down
#   sudo ./scripts/demo.sh --hold   keep it running until Ctrl-C, to explore with the tools
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOLD=0
case "${1:-}" in
    --hold) HOLD=1 ;;
    "") ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
    echo "demo: needs root to create network namespaces and TAP devices (run with sudo)" >&2
    exit 1
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }

step "Installing what the demo needs (iproute2, ping, iperf3, python3), if missing"
missing=()
for tool in ip:iproute2 ping:iputils-ping iperf3:iperf3 python3:python3; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

step "Building the suite (release)"
(cd "$ROOT" && cargo build --release --quiet --bin dpservice-bin --bin dpservice-cli --bin dpservice-dump --bin dpservice-inspect --bin dpservice-exporter)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"

# Unique names, so that a second demo or a test run never collides with this one.
TAG="d$$"
HOST_A="dps-$TAG-hostA" HOST_B="dps-$TAG-hostB"
VM1="dps-$TAG-vm1" VM2="dps-$TAG-vm2" VM3="dps-$TAG-vm3" RTR="dps-$TAG-router"
PORT_A=$((20000 + $$ % 10000)) PORT_B=$((30000 + $$ % 10000))
PIDS=()

cleanup() {
    trap - EXIT INT TERM
    step "Tearing down"
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    for ns in "$VM1" "$VM2" "$VM3" "$RTR" "$HOST_A" "$HOST_B"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -f "/tmp/dps-$TAG-router.py" "/tmp/dps-$TAG-server.py" "/tmp/dps-$TAG-routes"
    echo "removed namespaces, daemons and TAP devices"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "Creating two hosts joined by a veth underlay"
for ns in "$HOST_A" "$HOST_B" "$VM1" "$VM2" "$VM3"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
done
ip link add ul0 netns "$HOST_A" mtu 1600 type veth peer name ul0 netns "$HOST_B" mtu 1600

# start_host NS PREFIX GRPC_PORT UNDERLAY MACBYTE
start_host() {
    local ns=$1 prefix=$2 port=$3 underlay=$4 m=$5
    ip netns exec "$ns" env DP_CONF= "$BIN/dpservice-bin" --no-pci --no-huge \
        --file-prefix="$prefix" \
        --vdev=net_tap0,iface=dtap0,mac=22:22:22:22:$m:00 \
        --vdev=net_tap1,iface=dtap1,mac=22:22:22:22:$m:01 \
        --vdev=net_tap2,iface=dtapvf_0,mac=66:66:66:66:$m:00 \
        --vdev=net_tap3,iface=dtapvf_1,mac=66:66:66:66:$m:01 \
        -- --pf0=dtap0 --pf1=dtap1 --vf-pattern=dtapvf_ --nic-type=tap \
        --ipv6="$underlay" --grpc-port="$port" --no-stats --enable-ipv6-overlay \
        >"/tmp/dps-$TAG-$prefix.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 100); do
        ip -n "$ns" link show dtap0 >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "demo: dpservice-bin in $ns did not come up; its log:" >&2
    cat "/tmp/dps-$TAG-$prefix.log" >&2
    exit 1
}

step "Starting dpservice-bin on each host"
start_host "$HOST_A" "demo$TAG-a" "$PORT_A" fc00:a::1 0a
start_host "$HOST_B" "demo$TAG-b" "$PORT_B" fc00:b::1 0b
for ns in "$HOST_A" "$HOST_B"; do
    ip -n "$ns" link add br0 mtu 1600 type bridge
    for dev in dtap0 ul0; do
        ip -n "$ns" link set "$dev" mtu 1600 master br0 up
    done
    ip -n "$ns" link set br0 up
done
echo "host A: gRPC on port $PORT_A, underlay fc00:a::/64; host B: port $PORT_B, fc00:b::/64"

cli_a() { ip netns exec "$HOST_A" "$BIN/dpservice-cli" --address="localhost:$PORT_A" "$@"; }
cli_b() { ip netns exec "$HOST_B" "$BIN/dpservice-cli" --address="localhost:$PORT_B" "$@"; }

step "Configuring interfaces and routes with dpservice-cli (VNI 100)"
run cli_a init
run cli_b init
run cli_a add interface --id=vm1 --vni=100 --device=net_tap2 --ipv4=10.0.0.1 --ipv6=2001:db8::1
run cli_a add interface --id=vm2 --vni=100 --device=net_tap3 --ipv4=10.0.0.2 --ipv6=2001:db8::2
run cli_b add interface --id=vm3 --vni=100 --device=net_tap2 --ipv4=10.0.0.3 --ipv6=2001:db8::3
underlay() { "$1" -o json get interface --id="$2" | sed -n 's/.*"underlay_route":"\([^"]*\)".*/\1/p'; }
UL1=$(underlay cli_a vm1) UL2=$(underlay cli_a vm2) UL3=$(underlay cli_b vm3)
run cli_a add route --vni=100 --prefix=10.0.0.3/32 --next-hop-vni=100 --next-hop-ip="$UL3"
run cli_b add route --vni=100 --prefix=10.0.0.1/32 --next-hop-vni=100 --next-hop-ip="$UL1"
run cli_b add route --vni=100 --prefix=10.0.0.2/32 --next-hop-vni=100 --next-hop-ip="$UL2"
run cli_a list interfaces
run cli_b list routes --vni=100

step "Attaching the VMs to their TAP ports"
# vm_up HOST DEV VM IP
vm_up() {
    local host=$1 dev=$2 vm=$3 ip=$4
    ip -n "$host" link set "$dev" netns "$vm"
    ip -n "$vm" link set "$dev" mtu 1400 up
    ip -n "$vm" addr add "$ip/32" dev "$dev"
    ip -n "$vm" route add 169.254.0.1 dev "$dev"
    ip -n "$vm" route add default via 169.254.0.1 dev "$dev"
    echo "$vm: $ip on $dev (gateway 169.254.0.1, answered by dpservice-bin)"
}
vm_up "$HOST_A" dtapvf_0 "$VM1" 10.0.0.1
vm_up "$HOST_A" dtapvf_1 "$VM2" 10.0.0.2
vm_up "$HOST_B" dtapvf_0 "$VM3" 10.0.0.3
# A bridge forwards over a port only once the kernel has processed the port's carrier
# change, which its link-watch worker may defer for up to a second after the veth came up
# (until then the first packets across the underlay were lost). Wait for exactly that.
wait_forwarding() {
    local ns=$1 dev=$2
    for _ in $(seq 1 100); do
        ip -n "$ns" -d -o link show dev "$dev" | grep -q 'bridge_slave state forwarding' && return 0
        sleep 0.05
    done
    echo "demo: bridge port $dev in $ns does not forward" >&2
    exit 1
}
for ns in "$HOST_A" "$HOST_B"; do
    for dev in dtap0 ul0; do wait_forwarding "$ns" "$dev"; done
done

step "VM to VM on one host (vm1 -> vm2)"
run ip netns exec "$VM1" ping -c 3 -i 0.2 -W 2 10.0.0.2

step "VM to VM across the underlay, IPv4-in-IPv6 (vm1 on host A -> vm3 on host B)"
run ip netns exec "$VM1" ping -c 3 -i 0.2 -W 2 10.0.0.3

step "Inside host A's graph: dpservice-dump follows one ping node by node"
# every hand-over of the ICMP echo (rx, cls, ..., ipip_encap, tx) until 12 lines
"$BIN/dpservice-dump" --file-prefix="demo$TAG-a" --nodes= --filter="icmp or ip6 proto 4" -c 12 &
DUMP=$!
PIDS+=($DUMP)
sleep 0.5
run ip netns exec "$VM1" ping -c 1 -W 2 10.0.0.3 >/dev/null
wait "$DUMP" || true

step "A TCP transfer across the overlay (iperf3, 3 s)"
ip netns exec "$VM3" iperf3 -s -1 -B 10.0.0.3 >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    [ -n "$(ip netns exec "$VM3" ss -Hltn 'sport = :5201')" ] && break
    sleep 0.05
done
run ip netns exec "$VM1" iperf3 -c 10.0.0.3 -t 3 -f m

step "The underlay router and \"the Internet\" (a third namespace on host A's underlay bridge)"
# The kernel here may have no IPv6 tunnel devices, so the router is a small userspace
# tunnel endpoint: IPv4-in-IPv6 frames addressed to the router's underlay address are
# decapsulated into a TUN device, behind which the router namespace's own kernel stack is
# "the Internet" (45.86.6.106). Its IPv4 answers are tunnelled to the underlay address
# the daemons gave the public address they go to (the NAT IP, the load balancer's IP).
ROUTER_UL=fc00:ff::1 INTERNET=45.86.6.106 NAT_IP=172.20.0.3 LB_IP=172.22.2.1
cat >"/tmp/dps-$TAG-router.py" <<'PY'
import fcntl, os, select, socket, struct, sys

dev, tun_name, own = sys.argv[1], sys.argv[2], socket.inet_pton(socket.AF_INET6, sys.argv[3])
routes_file = sys.argv[4]


def routes():
    """public IPv4 -> the underlay address answers to it are tunnelled to ("IP=UL" lines)"""
    table = {}
    with open(routes_file) as f:
        for line in f:
            ip4, ul = line.strip().split("=")
            table[socket.inet_aton(ip4)] = socket.inet_pton(socket.AF_INET6, ul)
    return table

tun = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(tun, 0x400454CA, struct.pack("16sH", tun_name.encode(), 0x0001 | 0x1000))  # TUNSETIFF: TUN, no PI
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86DD))
raw.bind((dev, 0))
mac = raw.getsockname()[4]
print("router: up", flush=True)
while True:
    ready, _, _ = select.select([raw, tun], [], [])
    if raw in ready:
        frame, addr = raw.recvfrom(65535)
        # outer IPv6 with next header 4 (IPv4) to our address: the inner packet goes in
        if addr[2] != socket.PACKET_OUTGOING and len(frame) >= 74 and frame[20] == 4 and frame[38:54] == own:
            os.write(tun, frame[54:])
    if tun in ready:
        pkt = os.read(tun, 65535)
        ul = routes().get(pkt[16:20]) if len(pkt) >= 20 and pkt[0] >> 4 == 4 else None
        if ul is not None:
            outer = struct.pack("!IHBB", 6 << 28, len(pkt), 4, 64) + own + ul
            # to the zero MAC, as the daemons send to a router they do not know: the
            # bridges flood it and only the owner of the underlay address takes it
            raw.send(b"\0" * 6 + mac + b"\x86\xdd" + outer + pkt)
PY
cat >"/tmp/dps-$TAG-server.py" <<'PY'
import socket, sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
while True:
    c, (ip, port) = s.accept()
    c.sendall(f"{sys.argv[3]} answers {ip}:{port}\n".encode())
    c.close()
PY
ip netns add "$RTR"
ip -n "$RTR" link set lo up
ip link add rt0 netns "$RTR" mtu 1600 type veth peer name rtA netns "$HOST_A" mtu 1600
ip -n "$HOST_A" link set rtA master br0 up
ip -n "$RTR" link set rt0 up
wait_forwarding "$HOST_A" rtA
ROUTES="/tmp/dps-$TAG-routes"
: >"$ROUTES"
ip netns exec "$RTR" python3 -u "/tmp/dps-$TAG-router.py" rt0 inet0 "$ROUTER_UL" "$ROUTES" \
    >"/tmp/dps-$TAG-router.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    ip -n "$RTR" link show inet0 >/dev/null 2>&1 && break
    sleep 0.05
done
ip -n "$RTR" link set inet0 up
ip -n "$RTR" addr add "$INTERNET/32" dev inet0
echo "router: underlay $ROUTER_UL, the Internet $INTERNET behind it (log: /tmp/dps-$TAG-router.log)"
# route_public IP UL: the router tunnels what the Internet sends to IP to UL
route_public() {
    echo "$1=$2" >>"$ROUTES"
    ip -n "$RTR" route add "$1/32" dev inet0
    echo "router: $1 -> tunnel to $2"
}
# serve_tcp NS ADDR PORT NAME: a TCP server answering "<NAME> answers <peer>:<port>"
serve_tcp() {
    ip netns exec "$1" python3 "/tmp/dps-$TAG-server.py" "$2" "$3" "$4" &
    PIDS+=($!)
    for _ in $(seq 1 100); do
        [ -n "$(ip netns exec "$1" ss -Hltn "sport = :$3")" ] && return 0
        sleep 0.05
    done
    echo "demo: the server in $1 did not come up" >&2
    exit 1
}
# The daemons' answers to the underlay addresses they return (-o json)
underlay_of() { "$@" | sed -n 's/.*"underlay_route":"\([^"]*\)".*/\1/p'; }

step "A VM reaches the Internet through the NAT gateway (vm3 on host B, NAT IP $NAT_IP)"
run cli_a add route --vni=100 --prefix=0.0.0.0/0 --next-hop-vni=100 --next-hop-ip=$ROUTER_UL
run cli_b add route --vni=100 --prefix=0.0.0.0/0 --next-hop-vni=100 --next-hop-ip=$ROUTER_UL
printf '\033[2m$ %s\033[0m\n' "cli_b add nat --interface-id=vm3 --nat-ip=$NAT_IP --minport=1024 --maxport=2048"
NAT_UL=$(underlay_of cli_b -o json add nat --interface-id=vm3 --nat-ip=$NAT_IP --minport=1024 --maxport=2048)
echo "nat/vm3 created, underlay route: $NAT_UL"
run cli_b get nat --interface-id=vm3
route_public "$NAT_IP" "$NAT_UL"
serve_tcp "$RTR" "$INTERNET" 8080 "the Internet"
run ip netns exec "$VM3" ping -c 3 -i 0.2 -W 2 "$INTERNET"
printf '\033[2m$ %s\033[0m\n' "ip netns exec $VM3 cat </dev/tcp/$INTERNET/8080   (the server names the address it sees)"
answer=$(ip netns exec "$VM3" timeout 5 bash -c "exec 3<>/dev/tcp/$INTERNET/8080 && cat <&3") || true
echo "$answer"
case "$answer" in
    "the Internet answers $NAT_IP:"*) ;;
    *) echo "demo: the Internet did not see the NAT IP; router log:" >&2
       cat "/tmp/dps-$TAG-router.log" >&2; exit 1 ;;
esac

step "A load balancer on host A with a target on each host (vm1 on A, vm3 on B)"
printf '\033[2m$ %s\033[0m\n' "cli_a add loadbalancer --id=web --vni=100 --vip=$LB_IP --lbports=tcp/80"
LB_UL=$(underlay_of cli_a -o json add loadbalancer --id=web --vni=100 --vip=$LB_IP --lbports=tcp/80)
echo "loadbalancer/web created, underlay route: $LB_UL"
printf '\033[2m$ %s\033[0m\n' "cli_a add lbprefix --interface-id=vm1 --prefix=$LB_IP/32"
T1=$(underlay_of cli_a -o json add lbprefix --interface-id=vm1 --prefix=$LB_IP/32)
echo "lbprefix of vm1 created, underlay route: $T1"
printf '\033[2m$ %s\033[0m\n' "cli_b add lbprefix --interface-id=vm3 --prefix=$LB_IP/32"
T3=$(underlay_of cli_b -o json add lbprefix --interface-id=vm3 --prefix=$LB_IP/32)
echo "lbprefix of vm3 created, underlay route: $T3"
run cli_a add lbtarget --lb-id=web --target-ip="$T1"
run cli_a add lbtarget --lb-id=web --target-ip="$T3"
run cli_a list lbtargets --lb-id=web
# the VMs own the LB IP and serve on it; the router tunnels clients' packets to the LB
for vm in "$VM1:dtapvf_0:vm1" "$VM3:dtapvf_0:vm3"; do
    IFS=: read -r ns dev name <<<"$vm"
    ip -n "$ns" addr add "$LB_IP/32" dev "$dev"
    serve_tcp "$ns" "$LB_IP" 80 "$name"
done
route_public "$LB_IP" "$LB_UL"
# new connections from the Internet (each from another source port) until both VMs
# answered, at least 8; Maglev picks the target by the flow's hash
declare -A answered=()
for i in $(seq 1 32); do
    answer=$(ip netns exec "$RTR" timeout 5 bash -c "exec 3<>/dev/tcp/$LB_IP/80 && cat <&3") || true
    printf 'connection %2d: %s\n' "$i" "${answer:-(no answer)}"
    [ -n "$answer" ] || { echo "demo: no answer from the load balancer; router log:" >&2
                          cat "/tmp/dps-$TAG-router.log" >&2; exit 1; }
    answered[${answer%% *}]=$(( ${answered[${answer%% *}]:-0} + 1 ))
    [ "$i" -ge 8 ] && [ -n "${answered[vm1]:-}" ] && [ -n "${answered[vm3]:-}" ] && break
done
echo "answered by vm1 (host A, recirculated): ${answered[vm1]:-0}, by vm3 (host B, forwarded over the underlay): ${answered[vm3]:-0}"
if [ -z "${answered[vm1]:-}" ] || [ -z "${answered[vm3]:-}" ]; then
    echo "demo: the load balancer did not spread the connections over both hosts" >&2
    exit 1
fi

step "Telemetry: DPDK's v2 socket, without asking the packet worker"
SOCK_A=/var/run/dpdk/demo$TAG-a/dpdk_telemetry.v2
telemetry() {
    if command -v dpdk-telemetry.py >/dev/null 2>&1; then
        echo "$1" | dpdk-telemetry.py -f "demo$TAG-a" | grep -v '^Connecting' | head -c 1200
    else
        python3 - "$SOCK_A" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(1024)  # the greeting
s.send(sys.argv[2].encode())
print(s.recv(16384).decode()[:1200])
PY
    fi
    echo
}
run telemetry /dp_service/table/saturation
run telemetry /dp_service/graph/obj_count
echo "state tables in shared memory: $(ls -l /dev/shm/dpservice_demo$TAG-a | awk '{print $1, $NF}')"

step "Prometheus metrics: dpservice-exporter on host A (port 9064 inside the host)"
ip netns exec "$HOST_A" "$BIN/dpservice-exporter" -file-prefix "demo$TAG-a" -grpc-port "$PORT_A" \
    -port 9064 -hostname hostA 2>"/tmp/dps-$TAG-exporter.log" &
PIDS+=($!)
# a plain HTTP GET with bash alone (no curl needed)
metrics_a() {
    ip netns exec "$HOST_A" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9064 &&
        printf "GET /metrics HTTP/1.0\r\nHost: hostA\r\n\r\n" >&3 && cat <&3' 2>/dev/null
}
for _ in $(seq 1 100); do
    metrics_a | grep -q '^dps_' && break
    sleep 0.1
done
printf '\033[2m$ curl -s http://127.0.0.1:9064/metrics | grep ... (inside host A)\033[0m\n'
metrics_a | grep -E '^(dpdk_ethdev_link_status|dps_firewall_rules_count|dps_graph_call_count\{graph_node="ipip_encap"|dps_hash_table_saturation\{stat="entries",table="(interface|vni)_table")' \
    || { echo "demo: the exporter did not answer; its log:" >&2; cat "/tmp/dps-$TAG-exporter.log" >&2; exit 1; }

step "The state tables, read from shared memory by dpservice-inspect"
run "$BIN/dpservice-inspect" --file-prefix="demo$TAG-a" -t iface --dump -o table
run "$BIN/dpservice-inspect" --file-prefix="demo$TAG-a" --all

step "Watching it"
cat <<MSG
Logs:       /tmp/dps-$TAG-demo$TAG-a.log, /tmp/dps-$TAG-demo$TAG-b.log
The CLI:    ip netns exec $HOST_A $BIN/dpservice-cli --address=localhost:$PORT_A list interfaces
            ip netns exec $HOST_A $BIN/dpservice-cli --address=localhost:$PORT_A -o json list routes
Health:     the daemons answer grpc.health.v1 on their gRPC ports (Kubernetes-style probes)
Telemetry:  echo /dp_service/graph/call_count | dpdk-telemetry.py -f demo$TAG-a   (Debian: dpdk-dev)
On the wire: ip netns exec $HOST_A tcpdump -ni br0 ip6   (the IPv4-in-IPv6 tunnel)
The router: ip netns exec $RTR tcpdump -ni inet0   (the Internet's side of the NAT and the LB)
Metrics:    ip netns exec $HOST_A curl -s http://127.0.0.1:9064/metrics   (dpservice-exporter)
Tables:     $BIN/dpservice-inspect --file-prefix=demo$TAG-a --tui   (live browser; q quits)
Capture:    $BIN/dpservice-dump --file-prefix=demo$TAG-a --pcap - | tcpdump -nr -
MSG

if [ "$HOLD" -eq 1 ]; then
    step "Holding; press Ctrl-C to tear everything down"
    while sleep 3600; do :; done
fi
