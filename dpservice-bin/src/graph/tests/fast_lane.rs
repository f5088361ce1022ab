//! The established-flow fast lane against the walk alone: two graphs with the same
//! configuration, one with the lane, fed the same pseudo-random bursts (seeded) with
//! configuration changes, link and neighbour changes and time passing in between; after
//! every burst everything observable must be equal: frames per port in order with their
//! marks (the metadata a queued packet is read for past the graph: the rest is the
//! graph's working state, which a replayed packet leaves as received), drops per reason,
//! every node's objects and calls, the whole conntrack table (every field of every entry;
//! last-seen times relative to the start), HA sync messages, graph events and NAT ports
//! in use. The lane must also have taken packets
//! (else the comparison would prove nothing).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use dpservice::model::{
    CreateFirewallRule, CreateInterface, CreateLoadBalancer, CreateNat, CreateVip, FirewallAction,
    FirewallRule, IpPrefix, LoadBalancerTarget, Metering, PortFilter, PortRange, ProtocolFilter,
    RequestPrefix, Route, RouteKey, TrafficDirection,
};

use super::harness::*;
use crate::flow::{CtKey, FlowEntry};
use crate::graph::state::{NicType, SplitMix64};
use crate::graph::sync_outbox::SyncMessage;
use crate::graph::{DropReason, GraphConfig, GraphEvent, NodeStats};
use crate::port::meta::Meta;
use crate::port::PortId;
use crate::wire::ethernet::{ethertype, MacAddr};
use crate::wire::ip_proto;

const ROUTER_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 0xff);
const PUBLIC: [Ipv4Addr; 3] = [
    Ipv4Addr::new(45, 86, 6, 106),
    Ipv4Addr::new(8, 8, 8, 8),
    Ipv4Addr::new(1, 1, 1, 1),
];
/// Routed to the neighbour host (west-east through an uplink) while the route exists.
const NEIGH_NET: Ipv4Addr = Ipv4Addr::new(10, 100, 9, 0);
const NEIGH_HOST: Ipv4Addr = Ipv4Addr::new(10, 100, 9, 7);
const NAT_IP: Ipv4Addr = Ipv4Addr::new(172, 20, 0, 3);
const NAT2_IP: Ipv4Addr = Ipv4Addr::new(172, 20, 0, 4);
const VIP: Ipv4Addr = Ipv4Addr::new(172, 20, 0, 1);
/// Fixed underlays of the NATs and the VIP (both graphs' states must agree).
const NAT_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x20, 3);
const NAT2_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x20, 4);
const VIP_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x20, 1);
const LB_TARGET: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x1234, 1);
/// A source address vm1 does not own (no NAT applies to it).
const SPOOFED: Ipv4Addr = Ipv4Addr::new(10, 100, 1, 77);

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// A seeded generator (the state's SplitMix64): the same sequence on every run.
struct Rng(SplitMix64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.next()
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What one graph did with a burst.
#[derive(Debug, PartialEq)]
struct Outcome {
    frames: BTreeMap<PortId, Vec<(Vec<u8>, Mark)>>,
    drops: Vec<(DropReason, u64)>,
    nodes: Vec<(String, NodeStats)>,
    flows: Vec<(CtKey, FlowEntry)>,
    sync: Vec<SyncMessage>,
    events: Vec<GraphEvent>,
    nat_ports: Vec<u64>,
}

/// A queued packet's mark: its input port, id and recirculation flag.
type Mark = (PortId, u32, bool);

/// One graph of the pair, with the instant its last-seen times are measured from.
struct Side {
    h: Harness,
    start_ns: u64,
}

impl Side {
    fn outcome(&mut self) -> Outcome {
        let mut frames: BTreeMap<PortId, Vec<(Vec<u8>, Mark)>> = BTreeMap::new();
        for port in [PF0, PF1, VF0, VF1, VF2] {
            self.h.graph.flush_tx(port, |q, pool| {
                let n = q.len();
                for b in q.drain(..) {
                    frames.entry(port).or_default().push((
                        b.frame().to_vec(),
                        (b.meta.in_port, b.meta.pkt_id, b.meta.is_recirc),
                    ));
                    pool.free(b);
                }
                n
            });
        }
        let g = &mut self.h.graph;
        let mut flows = Vec::new();
        let start = self.start_ns;
        g.flows().for_each(|k, e| {
            let mut e = *e;
            e.last_seen_ns = e.last_seen_ns.wrapping_sub(start);
            flows.push((*k, e));
        });
        flows.sort_by_key(|(k, _)| bytemuck::bytes_of(k).to_vec());
        Outcome {
            frames,
            drops: g.drop_stats().collect(),
            nodes: g.node_stats().map(|(n, s)| (n.to_owned(), s)).collect(),
            flows,
            sync: g.tables.sync.drain().collect(),
            events: g.drain_events().collect(),
            nat_ports: [VF0, VF1, VF2]
                .iter()
                .map(|&p| g.nat_used_ports(p))
                .collect(),
        }
    }
}

/// The two graphs: `lane` with the fast lane, `walk` without.
struct Pair {
    lane: Side,
    walk: Side,
    /// `lane` gets its packets stamped, with an earlier packet's metadata
    /// ([`Harness::receive_burst_stamped`]), `walk` fresh ones.
    stamped: bool,
}

/// Metadata in which every field differs from a fresh packet's, varied by `n`: what an
/// earlier packet may have left in a buffer that a port stamps.
fn earlier_meta(n: usize) -> Meta {
    use crate::port::meta::{FlowDir, FlowType, L4Info, NatType, TunnelInfo};
    let n16 = n as u16;
    Meta {
        pkt_id: 0,
        in_port: 0,
        is_recirc: true,
        stale: true,
        l3_payload_length: 1000 + n as u32,
        flow_hash: 0xdead_0000 | u32::from(n16),
        conntrack: Some(n as u32),
        tun: TunnelInfo {
            ul_src: NAT_UL,
            ul_dst: LB_UL,
            l3_type: ethertype::IPV6,
            proto_id: 41,
            dst_vni: 999,
        },
        l3_type: ethertype::IPV6,
        nat_port: n16 | 1,
        nxt_hop: 3,
        virtsvc: Some(n16),
        l4: L4Info {
            src_port: n16,
            dst_port: 53,
            icmp_type: 8,
            icmp_code: 1,
            icmp_ident: n16,
        },
        l4_type: ip_proto::TCP,
        vnf_type: 2,
        flow_type: FlowType::SouthNorth,
        flow_dir: FlowDir::Reply,
        nat_type: if n % 2 == 0 {
            NatType::ChangeDstIp
        } else {
            NatType::ChangeSrcIp
        },
        nat_addr: NAT_IP,
        src: IpAddr::V6(LB_TARGET),
        dst: IpAddr::V4(VIP),
    }
}

fn vm(id: &str, device: &str, vni: u32, v4: Ipv4Addr, ul: Ipv6Addr, cap: u64) -> CreateInterface {
    let mut c = iface(id, device, vni, v4, None, ul);
    c.metering = Metering {
        total_rate: 100,
        public_rate: cap,
    };
    c
}

/// vm1 (VF0) with a NAT, vm2 (VF1) plain, vm3 (VF2, VNI 200) with a VIP; default routes
/// in both VNIs, a route to the neighbour host, a load balancer with a remote target.
fn configure(h: &mut Harness) {
    for vni in [100, 200] {
        h.state
            .create_route(&Route {
                vni,
                prefix: RequestPrefix::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
                nexthop_vni: vni,
                nexthop: IpAddr::V6(ROUTER_UL),
            })
            .unwrap();
    }
    h.route_to_neighbour(IpAddr::V4(NEIGH_NET), 24);
    h.state
        .create_nat(&CreateNat {
            interface_id: "vm1".into(),
            ip: IpAddr::V4(NAT_IP),
            min_port: 100,
            max_port: 120,
            preferred_underlay: Some(NAT_UL),
        })
        .unwrap();
    h.state
        .create_vip(&CreateVip {
            interface_id: "vm3".into(),
            ip: IpAddr::V4(VIP),
            preferred_underlay: Some(VIP_UL),
        })
        .unwrap();
    h.state
        .create_load_balancer(CreateLoadBalancer {
            id: "lb1".into(),
            vni: 100,
            ip: IpAddr::V4(LB_IP),
            ports: lb1_ports(),
            preferred_underlay: Some(LB_UL),
        })
        .unwrap();
    h.state
        .create_lb_target(&LoadBalancerTarget {
            loadbalancer_id: "lb1".into(),
            target: IpAddr::V6(LB_TARGET),
        })
        .unwrap();
    h.state.after_write();
    h.graph.set_neigh_mac(VF0, VM1_MAC);
    h.graph.set_neigh_mac(PF0, MacAddr([0x0a, 0, 0, 0, 0, 1]));
    h.graph.set_neigh_mac(PF1, MacAddr([0x0a, 0, 0, 0, 0, 2]));
    h.graph.tables.sync.enabled = true;
}

impl Pair {
    /// Both graphs, configured alike; `metered`: a Mellanox NIC with a public cap on
    /// vm2; `staged`: every burst staged (else none).
    fn new(metered: bool, staged: bool) -> Pair {
        let cfg = GraphConfig {
            nic_type: if metered {
                NicType::Mellanox
            } else {
                NicType::Tap
            },
            // both uplinks carry tunnels (weighted multipath by flow hash)
            wcmp_percent: 50,
            ..pytest_config()
        };
        let t0 = Instant::now();
        let side = |lane: bool| {
            let mut h = Harness::new(cfg.clone());
            if metered {
                // vm2 again, with a public cap of 8 Mbit/s
                h.state.delete_interface("vm2").unwrap();
                h.state
                    .create_interface(vm("vm2", "net_tap3", 100, VM2_IP, VM2_UL, 8))
                    .unwrap();
            }
            configure(&mut h);
            h.now = t0;
            h.graph.set_fast_lane(lane);
            h.graph
                .set_stage_from_keys(if staged { 0 } else { usize::MAX });
            let start_ns = h.graph.flows().mono_ns(t0);
            Side { h, start_ns }
        };
        Pair {
            lane: side(true),
            walk: side(false),
            stamped: false,
        }
    }

    /// Applies the same change to both graphs and their states.
    fn both(&mut self, mut f: impl FnMut(&mut Harness)) {
        f(&mut self.lane.h);
        f(&mut self.walk.h);
    }

    /// Runs one burst on `port` through both and compares what they did.
    fn burst(&mut self, port: PortId, frames: &[Vec<u8>], round: usize) {
        if self.stamped {
            let earlier = earlier_meta(round);
            self.lane.h.receive_burst_stamped(port, frames, &earlier);
        } else {
            self.lane.h.receive_burst(port, frames);
        }
        let lane = self.lane.outcome();
        self.walk.h.receive_burst(port, frames);
        let walk = self.walk.outcome();
        assert_eq!(
            lane.frames, walk.frames,
            "round {round}: frames differ (port {port})"
        );
        assert_eq!(lane.drops, walk.drops, "round {round}: drops differ");
        assert_eq!(
            lane.nodes, walk.nodes,
            "round {round}: node statistics differ"
        );
        assert_eq!(
            lane.flows.len(),
            walk.flows.len(),
            "round {round}: flow count"
        );
        for (a, b) in lane.flows.iter().zip(&walk.flows) {
            assert_eq!(a, b, "round {round}: conntrack entries differ");
        }
        assert_eq!(lane.sync, walk.sync, "round {round}: sync messages differ");
        assert_eq!(lane.events, walk.events, "round {round}: events differ");
        assert_eq!(
            lane.nat_ports, walk.nat_ports,
            "round {round}: NAT ports differ"
        );
    }
}

/// A TCP segment with flag byte `flags`.
fn tcp_segment(sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let mut s = vec![0u8; 20];
    s[0..2].copy_from_slice(&sport.to_be_bytes());
    s[2..4].copy_from_slice(&dport.to_be_bytes());
    s[12] = 5 << 4;
    s[13] = flags;
    s.extend_from_slice(b"data");
    s
}

/// An IPv4 packet of a random kind from `src` to `dst`: UDP or TCP with any flags
/// mostly (few ports, so flows repeat), ICMP echo, DHCP, options, fragments.
fn ipv4_of(rng: &mut Rng, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let sport = 1000 + rng.below(4) as u16;
    let dport = rng.pick(&[53u16, 80, 1234]);
    let mut p = match rng.below(10) {
        0..=3 => ipv4_packet(src, dst, ip_proto::UDP, &udp_datagram(sport, dport, b"hi")),
        4..=7 => {
            let any = rng.below(256) as u8;
            let flags = rng.pick(&[
                ACK,
                ACK,
                ACK | PSH,
                SYN,
                SYN | ACK,
                FIN | ACK,
                RST,
                RST | ACK,
                0,
                any,
            ]);
            ipv4_packet(src, dst, ip_proto::TCP, &tcp_segment(sport, dport, flags))
        }
        8 => {
            let echo = [8, 0, 0, 0, 0, 7, 0, 1];
            ipv4_packet(src, dst, ip_proto::ICMP, &echo)
        }
        _ => ipv4_packet(src, dst, ip_proto::UDP, &udp_datagram(68, 67, &[0; 8])),
    };
    if rng.chance(5) {
        // options: IHL 6, four option bytes (no-ops) after the fixed header
        p[0] = 0x46;
        p.splice(20..20, [1u8; 4]);
        let len = p.len() as u16;
        p[2..4].copy_from_slice(&len.to_be_bytes());
    }
    if rng.chance(5) {
        // a fragment (more fragments, or a later one)
        p[6] = rng.pick(&[0x20, 0x00, 0x20]);
        p[7] = rng.pick(&[0, 0, 8]);
    }
    p
}

/// A burst from VM port `port` (whose VM has `vm_ip`); with `trains`, packets often
/// repeat the one before (a connection's train, the lane's last-flow case), some with
/// other TCP flags.
fn vm_burst(rng: &mut Rng, port: PortId, vm_ip: Ipv4Addr, trains: bool) -> Vec<Vec<u8>> {
    let frames = vm_frames(rng, port, vm_ip);
    if !trains {
        return frames;
    }
    if rng.chance(50) {
        // the whole burst one packet's train (the lane keeps its last flow only there)
        let first = frames.first().cloned().unwrap_or_default();
        return (0..1 + rng.below(40))
            .map(|_| {
                let mut again = first.clone();
                if rng.chance(10) && again.len() > 14 + 20 + 13 {
                    again[14 + 20 + 13] = rng.pick(&[ACK, ACK | PSH, FIN | ACK, RST, SYN, 0]);
                }
                again
            })
            .collect();
    }
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(frames.len());
    for f in frames {
        while let (Some(last), true) = (out.last(), rng.chance(70)) {
            let mut again = last.clone();
            if rng.chance(15) && again.len() > 14 + 20 + 13 {
                // the TCP flag byte of a packet without options (UDP: a payload byte)
                again[14 + 20 + 13] = rng.pick(&[ACK, ACK | PSH, FIN | ACK, RST, SYN, 0]);
            }
            out.push(again);
        }
        out.push(f);
    }
    out
}

/// The frames of [`vm_burst`] before trains.
fn vm_frames(rng: &mut Rng, port: PortId, vm_ip: Ipv4Addr) -> Vec<Vec<u8>> {
    let (vf_mac, vm_mac) = match port {
        VF0 => (VF0_MAC, VM1_MAC),
        VF1 => (VF1_MAC, VF1_MAC),
        _ => (VF2_MAC, VF2_MAC),
    };
    let n = 1 + rng.below(40) as usize;
    (0..n)
        .map(|_| {
            let src = if rng.chance(10) { SPOOFED } else { vm_ip };
            let dst = rng.pick(&[
                PUBLIC[0], PUBLIC[1], PUBLIC[2], NEIGH_HOST, VM1_IP, VM2_IP, VM3_IP, VIP, NAT_IP,
                LB_IP,
            ]);
            let mac = if rng.chance(5) {
                MacAddr([0x52, 0, 0, 0, 0, rng.below(256) as u8])
            } else {
                vm_mac
            };
            match rng.below(20) {
                0 => {
                    let p = ipv6_packet(
                        VM1_IP6,
                        VM2_IP6,
                        ip_proto::UDP,
                        &udp_datagram(1000, 53, b"six"),
                    );
                    eth(vf_mac, mac, ethertype::IPV6, &p)
                }
                1 => {
                    let mut f = eth(vf_mac, mac, ethertype::IPV4, &ipv4_of(rng, src, dst));
                    f.truncate(14 + rng.below(30) as usize);
                    f
                }
                _ => eth(vf_mac, mac, ethertype::IPV4, &ipv4_of(rng, src, dst)),
            }
        })
        .collect()
}

/// A burst from an uplink: replies to the VMs' flows, to the NAT, the VIP and the LB.
fn uplink_burst(rng: &mut Rng) -> Vec<Vec<u8>> {
    let n = 1 + rng.below(20) as usize;
    (0..n)
        .map(|_| {
            let remote = rng.pick(&PUBLIC);
            let (ul, dst) = rng.pick(&[
                (VM2_UL, VM2_IP),
                (VM1_UL, VM1_IP),
                (NAT_UL, NAT_IP),
                (NAT2_UL, NAT2_IP),
                (VIP_UL, VIP),
                (LB_UL, LB_IP),
            ]);
            let sport = rng.pick(&[53u16, 80, 1234]);
            let dport = 1000 + rng.below(4) as u16;
            let inner = match rng.below(3) {
                0 => ipv4_packet(
                    remote,
                    dst,
                    ip_proto::UDP,
                    &udp_datagram(sport, dport, b"re"),
                ),
                1 => ipv4_packet(
                    remote,
                    dst,
                    ip_proto::TCP,
                    &tcp_segment(sport, dport, rng.pick(&[ACK, SYN | ACK, FIN | ACK, RST])),
                ),
                _ => ipv4_packet(
                    remote,
                    dst,
                    ip_proto::UDP,
                    &udp_datagram(sport, 100 + rng.below(21) as u16, b"nat"),
                ),
            };
            tunnel4(ROUTER_UL, ul, &inner)
        })
        .collect()
}

/// The same control-plane, port or clock change on both graphs.
fn change(pair: &mut Pair, rng: &mut Rng) {
    match rng.below(14) {
        0 => pair.both(|h| {
            let _ = h.state.delete_route(&RouteKey {
                vni: 100,
                prefix: RequestPrefix::new(IpAddr::V4(NEIGH_NET), 24),
            });
            h.state.after_write();
        }),
        1 => pair.both(|h| {
            let _ = h.state.create_route(&Route {
                vni: 100,
                prefix: RequestPrefix::new(IpAddr::V4(NEIGH_NET), 24),
                nexthop_vni: 100,
                nexthop: IpAddr::V6(NEIGH_UL),
            });
            h.state.after_write();
        }),
        2 => {
            // vm2's interface deleted (its flows purged, its port stopped) and made again
            pair.both(|h| {
                if h.state.delete_interface("vm2").is_err() {
                    return;
                }
                h.state.after_write();
                let purges = h.state.take_flow_purges();
                h.graph.purge_flows(&purges);
                h.graph.stop_port(VF1);
            });
        }
        3 => pair.both(|h| {
            if h.state.port_of("vm2").is_none() {
                h.state
                    .create_interface(iface("vm2", "net_tap3", 100, VM2_IP, None, VM2_UL))
                    .unwrap();
                h.state.after_write();
                h.graph.start_port(VF1);
            }
        }),
        4 => {
            let id = format!("r{}", rng.below(1000));
            let action = rng.pick(&[FirewallAction::Drop, FirewallAction::Accept]);
            let port = 1000 + rng.below(4) as u16;
            pair.both(|h| {
                let _ = h.state.create_firewall_rule(CreateFirewallRule {
                    interface_id: "vm2".into(),
                    rule: FirewallRule {
                        id: id.as_str().into(),
                        direction: TrafficDirection::Egress,
                        action,
                        priority: 100,
                        source: IpPrefix::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0).unwrap(),
                        destination: IpPrefix::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0).unwrap(),
                        filter: ProtocolFilter::Udp(PortFilter {
                            src: PortRange {
                                lower: Some(port),
                                upper: Some(port),
                            },
                            dst: PortRange::ANY,
                        }),
                    },
                });
                h.state.after_write();
            });
        }
        5 => pair.both(|h| {
            // a NAT for vm2 comes, or goes (its flows purged)
            if h.state.delete_nat("vm2").is_err() {
                let _ = h.state.create_nat(&CreateNat {
                    interface_id: "vm2".into(),
                    ip: IpAddr::V4(NAT2_IP),
                    min_port: 200,
                    max_port: 220,
                    preferred_underlay: Some(NAT2_UL),
                });
            }
            h.state.after_write();
            let purges = h.state.take_flow_purges();
            h.graph.purge_flows(&purges);
        }),
        6 => {
            let up = rng.chance(50);
            let pf = rng.pick(&[PF0, PF1, PF1]);
            pair.both(|h| h.graph.set_link(pf, up));
        }
        7 => {
            let mac = MacAddr([0x0a, 0, 0, 0, 1, rng.below(4) as u8]);
            let pf = rng.pick(&[PF0, PF1]);
            pair.both(|h| {
                h.graph.set_neigh_mac(pf, mac);
            });
        }
        8 => {
            let mac = MacAddr([0x52, 0x54, 0, 0, 2, rng.below(4) as u8]);
            pair.both(|h| {
                h.graph.set_neigh_mac(VF1, mac);
            });
        }
        _ => {
            // time passes: a burst apart, past the last-seen refresh, past timeouts
            let step = rng.pick(&[
                Duration::from_micros(10),
                Duration::from_millis(20),
                Duration::from_millis(60),
                Duration::from_secs(2),
                Duration::from_secs(31),
                Duration::from_secs(100_000),
            ]);
            pair.both(|h| {
                h.now += step;
                h.graph.start_aging();
                while h.graph.age_flows(h.now) {}
            });
        }
    }
}

/// `rounds` rounds of a burst and, often, a change; answers how many packets the lane
/// took.
fn differential(seed: u64, metered: bool, staged: bool, rounds: usize) -> u64 {
    differential_with(seed, metered, staged, false, rounds).0
}

/// [`differential_of`] on a new pair; answers how many packets the lane took, and how
/// many of them as its last flow's.
fn differential_with(
    seed: u64,
    metered: bool,
    staged: bool,
    trains: bool,
    rounds: usize,
) -> (u64, u64) {
    differential_of(Pair::new(metered, staged), seed, trains, rounds)
}

/// [`differential`] on `pair`, with `trains` of [`vm_burst`]; answers also how many
/// packets the lane took as its last flow's.
fn differential_of(mut pair: Pair, seed: u64, trains: bool, rounds: usize) -> (u64, u64) {
    let mut rng = Rng(SplitMix64(seed));
    let mut last: Option<(PortId, Vec<Vec<u8>>)> = None;
    for round in 0..rounds {
        // trains go on across bursts, often after a change in between
        if let Some((port, frames)) = last.take().filter(|_| trains && rng.chance(40)) {
            pair.burst(port, &frames, round);
            if rng.chance(30) {
                change(&mut pair, &mut rng);
            }
            last = Some((port, frames));
            continue;
        }
        let (port, frames) = match rng.below(8) {
            0..=2 => (VF1, vm_burst(&mut rng, VF1, VM2_IP, trains)),
            3..=4 => (VF0, vm_burst(&mut rng, VF0, VM1_IP, trains)),
            5 => (VF2, vm_burst(&mut rng, VF2, VM3_IP, trains)),
            _ => (rng.pick(&[PF0, PF1]), uplink_burst(&mut rng)),
        };
        pair.burst(port, &frames, round);
        if rng.chance(20) {
            change(&mut pair, &mut rng);
        }
        last = Some((port, frames));
    }
    assert_eq!(pair.walk.h.graph.tables.lane_taken, 0, "the walk alone");
    let t = &pair.lane.h.graph.tables;
    (t.lane_taken, t.last_flow_taken)
}

#[test]
fn the_lane_does_what_the_walk_does_small_tables() {
    let taken = differential(1, false, false, 2000);
    assert!(taken > 150, "the lane took {taken} packets");
}

#[test]
fn the_lane_does_what_the_walk_does_staged() {
    let taken = differential(2, false, true, 2000);
    assert!(taken > 150, "the lane took {taken} packets");
}

#[test]
fn the_lane_does_what_the_walk_does_metered() {
    let taken = differential(3, true, false, 800) + differential(4, true, true, 800);
    assert!(taken > 150, "the lane took {taken} packets");
}

/// Trains of one connection: most of their packets are the lane's last flow's, and
/// everything stays as the walk does it (a flag that changes the TCP state, a change
/// between bursts, bursts of several flows, which keep no last flow).
#[test]
fn the_lane_does_what_the_walk_does_for_trains() {
    let (taken, repeated) = differential_with(5, false, false, true, 1500);
    assert!(
        repeated > 1000,
        "{repeated} of {taken} taken as the last flow's"
    );
}

/// Packets that a port stamped (the mark written, the rest of the metadata an earlier
/// packet's, as the DPDK backend receives them) go as fresh ones: in trains, replayed or
/// walked, and on the staged path (the graph with the lane takes them stamped, the one
/// without fresh).
#[test]
fn stamped_packets_go_as_fresh_ones() {
    for (seed, staged) in [(7, false), (8, true)] {
        let pair = Pair {
            stamped: true,
            ..Pair::new(false, staged)
        };
        let (taken, repeated) = differential_of(pair, seed, true, 600);
        assert!(taken > 300, "the lane took {taken} packets");
        if !staged {
            assert!(repeated > 300, "{repeated} of {taken} as the last flow's");
        }
    }
}

/// The staged path keeps no last flow (`fast_lane::take_staged`): trains there take
/// the lane packet by packet, each with its own search.
#[test]
fn the_lane_does_what_the_walk_does_for_trains_staged() {
    let (taken, repeated) = differential_with(6, false, true, true, 1500);
    assert!(taken > 1000, "the lane took {taken} packets");
    assert_eq!(repeated, 0, "no last flow on the staged path");
}

/// A train whose route goes between two bursts: the next burst's first packet, of the
/// lane's last flow in the burst before, must not be sent by the old route (the
/// neighbour host's) but by the default one (the router's), as the walk does.
#[test]
fn a_route_removed_between_bursts_ends_the_train() {
    for staged in [false, true] {
        let mut pair = Pair::new(false, staged);
        let udp = udp_datagram(1000, 53, b"train");
        let frame = eth(
            VF0_MAC,
            VM1_MAC,
            ethertype::IPV4,
            &ipv4_packet(VM1_IP, NEIGH_HOST, ip_proto::UDP, &udp),
        );
        let train = vec![frame; 8];
        pair.burst(VF0, &train, 0);
        pair.burst(VF0, &train, 1);
        let repeated = pair.lane.h.graph.tables.last_flow_taken;
        assert!(staged || repeated >= 12, "{repeated} repeated");
        pair.both(|h| {
            let _ = h.state.delete_route(&RouteKey {
                vni: 100,
                prefix: RequestPrefix::new(IpAddr::V4(NEIGH_NET), 24),
            });
            h.state.after_write();
        });
        // now by the default route, to the router: compared with the walk's
        pair.burst(VF0, &train, 2);
    }
}

/// A burst that starts as one flow's train and goes on with another flow's packets (two
/// connections interleaved): the train ends at the first packet of the other flow, the
/// rest is walked, and everything is as the walk does it.
#[test]
fn a_train_that_turns_into_a_mix_ends_at_the_other_flow() {
    let mut pair = Pair::new(false, false);
    let frame = |sport: u16| {
        let udp = udp_datagram(sport, 53, b"mix");
        let ip = ipv4_packet(VM1_IP, NEIGH_HOST, ip_proto::UDP, &udp);
        eth(VF0_MAC, VM1_MAC, ethertype::IPV4, &ip)
    };
    let (a, b) = (frame(1000), frame(1001));
    let burst = [&a, &a, &a, &a, &b, &a, &b, &a].map(|f| f.clone());
    for round in 0..3 {
        pair.burst(VF0, &burst, round);
    }
    // first burst: the first `a` opens its flow (the slow way), the lane keeps the
    // second, the third and fourth repeat it; later bursts: the lane keeps the first `a`,
    // the next three repeat it; never a packet after the first `b`
    let repeated = pair.lane.h.graph.tables.last_flow_taken;
    assert_eq!(repeated, 2 + 3 + 3, "packets repeated as the last flow's");
}
