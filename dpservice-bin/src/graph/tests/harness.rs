//! A graph with two uplinks and three VM ports, configured like upstream's pytest setup,
//! driven frame by frame.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use dpservice::model::{CreateInterface, Metering, RequestPrefix, Route};

use crate::graph::state::{PortInfo, PortKind, State, StateConfig};
use crate::graph::{DropReason, Graph, GraphConfig, GraphPort, PortRole};
use crate::port::PortId;
use crate::wire::ethernet::{ethertype, MacAddr};
use crate::wire::ip_proto;

pub const PF0: PortId = 0;
pub const PF1: PortId = 1;
pub const VF0: PortId = 2;
pub const VF1: PortId = 3;
pub const VF2: PortId = 4;

pub const PF0_MAC: MacAddr = MacAddr([0x22, 0x22, 0x22, 0x22, 0x22, 0x00]);
pub const PF1_MAC: MacAddr = MacAddr([0x22, 0x22, 0x22, 0x22, 0x22, 0x01]);
pub const VF0_MAC: MacAddr = MacAddr([0x66, 0x66, 0x66, 0x66, 0x66, 0x00]);
pub const VF1_MAC: MacAddr = MacAddr([0x66, 0x66, 0x66, 0x66, 0x66, 0x01]);
pub const VF2_MAC: MacAddr = MacAddr([0x66, 0x66, 0x66, 0x66, 0x66, 0x02]);
/// A VM's MAC that differs from its port's (so learning is visible).
pub const VM1_MAC: MacAddr = MacAddr([0x52, 0x54, 0x00, 0x00, 0x00, 0x01]);

pub const HOST_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 1);
pub const VM1_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0, 1);
pub const VM2_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0, 2);
pub const VM3_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0, 3);
pub const VM1_IP: Ipv4Addr = Ipv4Addr::new(10, 100, 1, 1);
pub const VM2_IP: Ipv4Addr = Ipv4Addr::new(10, 100, 1, 2);
pub const VM3_IP: Ipv4Addr = Ipv4Addr::new(10, 200, 1, 1);
pub const VM1_IP6: Ipv6Addr = Ipv6Addr::new(0x2000, 100, 1, 0, 0, 0, 0, 1);
pub const VM2_IP6: Ipv6Addr = Ipv6Addr::new(0x2000, 100, 1, 0, 0, 0, 0, 2);
/// The neighbour host's VNI-100 network (`neigh_vni1_ov_ip_route`).
pub const NEIGH_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 2, 0, 0, 0, 0x64, 0, 1);

pub fn pytest_config() -> GraphConfig {
    GraphConfig {
        host_underlay: HOST_UL,
        dhcp_mtu: 1337,
        dhcp_dns: vec![Ipv4Addr::new(8, 8, 4, 4), Ipv4Addr::new(8, 8, 8, 8)],
        dhcpv6_dns: vec![
            "2001:4860:4860::6464".parse().unwrap(),
            "2002:4861:4861::6464".parse().unwrap(),
        ],
        ipv6_overlay: true,
        ..GraphConfig::default()
    }
}

pub struct Harness {
    pub graph: Graph,
    pub state: State,
    pub now: Instant,
}

fn port_info(id: PortId, kind: PortKind, name: &str) -> PortInfo {
    PortInfo {
        id,
        device: format!("net_tap{id}"),
        kernel_name: name.into(),
        kind,
    }
}

pub fn iface(
    id: &str,
    device: &str,
    vni: u32,
    v4: Ipv4Addr,
    v6: Option<Ipv6Addr>,
    ul: Ipv6Addr,
) -> CreateInterface {
    CreateInterface {
        id: id.into(),
        vni,
        ipv4: Some(v4),
        ipv6: v6,
        pxe: None,
        device: device.into(),
        metering: Metering::default(),
        preferred_underlay: Some(ul),
        hostname: None,
    }
}

impl Harness {
    /// Routes `prefix/len` of VNI 100 to the neighbour host (`NEIGH_UL`).
    pub fn route_to_neighbour(&mut self, prefix: IpAddr, len: u8) {
        self.state
            .create_route(&Route {
                vni: 100,
                prefix: RequestPrefix::new(prefix, len),
                nexthop_vni: 100,
                nexthop: IpAddr::V6(NEIGH_UL),
            })
            .unwrap();
    }

    /// pf0, pf1, three VFs; vm1/vm2 in VNI 100 on VF0/VF1, vm3 in VNI 200 on VF2.
    pub fn new(cfg: GraphConfig) -> Harness {
        Self::with(cfg, |_| {})
    }

    /// Like [`Harness::new`], letting the test adjust vm1's interface first.
    pub fn with(cfg: GraphConfig, adjust_vm1: impl FnOnce(&mut CreateInterface)) -> Harness {
        let ports = vec![
            port_info(PF0, PortKind::Pf0, "dtap0"),
            port_info(PF1, PortKind::Pf1, "dtap1"),
            port_info(VF0, PortKind::Vf, "dtapvf_0"),
            port_info(VF1, PortKind::Vf, "dtapvf_1"),
            port_info(VF2, PortKind::Vf, "dtapvf_2"),
        ];
        // the state meters (or ignores metering) for the same NIC type as the graph
        let mut state_cfg = StateConfig::new(HOST_UL, ports);
        state_cfg.nic_type = cfg.nic_type;
        let mut state = State::new(state_cfg);
        let mut vm1 = iface("vm1", "net_tap2", 100, VM1_IP, Some(VM1_IP6), VM1_UL);
        adjust_vm1(&mut vm1);
        state.create_interface(vm1).unwrap();
        state
            .create_interface(iface("vm2", "net_tap3", 100, VM2_IP, Some(VM2_IP6), VM2_UL))
            .unwrap();
        state
            .create_interface(iface("vm3", "net_tap4", 200, VM3_IP, None, VM3_UL))
            .unwrap();
        let graph_ports = [
            GraphPort {
                id: PF0,
                role: PortRole::Pf0,
                mac: PF0_MAC,
            },
            GraphPort {
                id: PF1,
                role: PortRole::Pf1,
                mac: PF1_MAC,
            },
            GraphPort {
                id: VF0,
                role: PortRole::Vf,
                mac: VF0_MAC,
            },
            GraphPort {
                id: VF1,
                role: PortRole::Vf,
                mac: VF1_MAC,
            },
            GraphPort {
                id: VF2,
                role: PortRole::Vf,
                mac: VF2_MAC,
            },
        ];
        let mut graph = Graph::new(cfg, &graph_ports).expect("a graph with private flow tables");
        for vf in [VF0, VF1, VF2] {
            graph.start_port(vf);
        }
        graph.set_active(true);
        Harness {
            graph,
            state,
            now: Instant::now(),
        }
    }

    /// Receives `frame` on `port`, runs the graph and returns everything transmitted.
    pub fn send(&mut self, port: PortId, frame: &[u8]) -> Vec<(PortId, Vec<u8>)> {
        let mut pkts = vec![self.graph.pool_mut().alloc_frame(frame).unwrap()];
        self.graph.rx(port, &mut pkts);
        self.graph.run(&self.state, self.now);
        self.collect()
    }

    /// Receives `frames` as one burst on `port` and runs the graph; what it transmitted
    /// waits in the queues ([`Harness::collect`]).
    pub fn receive_burst(&mut self, port: PortId, frames: &[Vec<u8>]) {
        let mut pkts: Vec<_> = frames
            .iter()
            .map(|f| self.graph.pool_mut().alloc_frame(f).unwrap())
            .collect();
        self.graph.rx(port, &mut pkts);
        self.graph.run(&self.state, self.now);
    }

    /// [`Harness::receive_burst`] the way a port that stamps its packets hands them over
    /// ([`Graph::rx_stamped`]): each with its mark (and `stale`), the rest of its
    /// metadata `earlier`'s, as an earlier packet left it in the buffer.
    pub fn receive_burst_stamped(
        &mut self,
        port: PortId,
        frames: &[Vec<u8>],
        earlier: &crate::port::meta::Meta,
    ) {
        let first = self.graph.next_rx_pkt_id();
        let mut pkts: Vec<_> = frames
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mut p = self.graph.pool_mut().alloc_frame(f).unwrap();
                p.meta = crate::port::meta::Meta {
                    pkt_id: first.wrapping_add(i as u32),
                    in_port: port,
                    is_recirc: false,
                    stale: true,
                    ..*earlier
                };
                p
            })
            .collect();
        self.graph.rx_stamped(port, &mut pkts);
        self.graph.run(&self.state, self.now);
    }

    /// Empties every transmit queue.
    pub fn collect(&mut self) -> Vec<(PortId, Vec<u8>)> {
        let mut out = Vec::new();
        for port in [PF0, PF1, VF0, VF1, VF2] {
            self.graph.flush_tx(port, |q, pool| {
                let n = q.len();
                for b in q.drain(..) {
                    out.push((port, b.frame().to_vec()));
                    pool.free(b);
                }
                n
            });
        }
        out
    }

    /// Sends and returns the metadata of every packet queued for transmission.
    pub fn send_meta(&mut self, port: PortId, frame: &[u8]) -> Vec<crate::port::meta::Meta> {
        let mut pkts = vec![self.graph.pool_mut().alloc_frame(frame).unwrap()];
        self.graph.rx(port, &mut pkts);
        self.graph.run(&self.state, self.now);
        let mut out = Vec::new();
        for port in [PF0, PF1, VF0, VF1, VF2] {
            self.graph.flush_tx(port, |q, pool| {
                let n = q.len();
                for b in q.drain(..) {
                    out.push(b.meta);
                    pool.free(b);
                }
                n
            });
        }
        out
    }

    /// Sends and expects exactly one frame out, on `out_port`.
    pub fn send_one(&mut self, port: PortId, frame: &[u8], out_port: PortId) -> Vec<u8> {
        let mut out = self.send(port, frame);
        assert_eq!(out.len(), 1, "expected one frame out, got {out:?}");
        let (p, f) = out.remove(0);
        assert_eq!(p, out_port, "left on the wrong port");
        f
    }

    /// Sends and expects the packet dropped for `reason`.
    pub fn send_dropped(&mut self, port: PortId, frame: &[u8], reason: DropReason) {
        let before = self.graph.drops(reason);
        let out = self.send(port, frame);
        assert!(
            out.is_empty(),
            "expected a drop ({}), got {out:?}",
            reason.name()
        );
        assert_eq!(
            self.graph.drops(reason),
            before + 1,
            "not dropped as {}",
            reason.name()
        );
    }
}

/// The tests' load balancer `lb1`: its address, underlay and ports (udp/1234, tcp/80).
pub const LB_IP: Ipv4Addr = Ipv4Addr::new(172, 22, 2, 1);
pub const LB_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x22, 1);

pub fn lb1_ports() -> Vec<dpservice::model::LbPort> {
    use dpservice::model::{L4Protocol, LbPort};
    vec![
        LbPort {
            protocol: L4Protocol::Udp,
            port: 1234,
        },
        LbPort {
            protocol: L4Protocol::Tcp,
            port: 80,
        },
    ]
}

// ---- frame builders for inputs (outputs are checked against hand-written bytes) ----
// Built with etherparse, not with our own emitters: a mistake shared by our parser and
// our emitter cannot cancel out in a test.

pub fn eth(dst: MacAddr, src: MacAddr, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let header = etherparse::Ethernet2Header {
        destination: dst.0,
        source: src.0,
        ether_type: etherparse::EtherType(ethertype),
    };
    [&header.to_bytes()[..], payload].concat()
}

pub fn ipv4_packet(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut header = etherparse::Ipv4Header::new(
        payload.len() as u16,
        64,
        etherparse::IpNumber(proto),
        src.octets(),
        dst.octets(),
    )
    .unwrap();
    header.identification = 1;
    header.dont_fragment = false;
    header.header_checksum = header.calc_header_checksum();
    [&header.to_bytes()[..], payload].concat()
}

pub fn ipv6_packet(src: Ipv6Addr, dst: Ipv6Addr, nh: u8, payload: &[u8]) -> Vec<u8> {
    let header = etherparse::Ipv6Header {
        traffic_class: 0,
        flow_label: etherparse::Ipv6FlowLabel::ZERO,
        payload_length: payload.len() as u16,
        next_header: etherparse::IpNumber(nh),
        hop_limit: 64,
        source: src.octets(),
        destination: dst.octets(),
    };
    [&header.to_bytes()[..], payload].concat()
}

/// A UDP datagram (checksum left zero: the packet path does not verify).
pub fn udp_datagram(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let header = etherparse::UdpHeader {
        source_port: sport,
        destination_port: dport,
        length: (etherparse::UdpHeader::LEN + payload.len()) as u16,
        checksum: 0,
    };
    [&header.to_bytes()[..], payload].concat()
}

/// VM → anywhere, IPv4/UDP, Ethernet to the VF.
pub fn vm_udp4(
    vm_mac: MacAddr,
    vf_mac: MacAddr,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
) -> Vec<u8> {
    let ip = ipv4_packet(
        src,
        dst,
        ip_proto::UDP,
        &udp_datagram(sport, dport, b"payload!"),
    );
    eth(vf_mac, vm_mac, ethertype::IPV4, &ip)
}

/// The same IPv4 packet in a tunnel from `ul_src` to `ul_dst`, as a router sends it to pf0.
pub fn tunnel4(ul_src: Ipv6Addr, ul_dst: Ipv6Addr, inner_ip: &[u8]) -> Vec<u8> {
    let outer = ipv6_packet(ul_src, ul_dst, ip_proto::IPIP, inner_ip);
    eth(PF0_MAC, MacAddr([0xaa; 6]), ethertype::IPV6, &outer)
}
