//! NAT (dataplane.md §8): VIP both ways, the NAT gateway's port allocation, replies,
//! ICMP errors, exhaustion and release by aging, neighbour NAT relay, echo answers for
//! NAT addresses, NAT64. Expected frames are built from scratch with the wire builders
//! (fresh checksums) and compared byte for byte with what the graph sends.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use dpservice::model::{CreateNat, CreateVip, NeighborNat, RequestPrefix, Route};

use super::harness::*;
use crate::flow::key::FlowKey;
use crate::flow::{flags, key, nat_kind};
use crate::graph::nat::ports;
use crate::graph::sync_outbox::SyncMessage;
use crate::graph::DropReason;
use crate::hash::vnf_type;
use crate::wire::ethernet::{ethertype, MacAddr};
use crate::wire::{icmpv4, icmpv6, ip_proto, ipv4, ipv6, udp};

/// The router every default route points to.
pub(super) const ROUTER_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 0xff);
pub(super) const PUBLIC: Ipv4Addr = Ipv4Addr::new(45, 86, 6, 106);
const VIP: Ipv4Addr = Ipv4Addr::new(172, 20, 0, 1);
pub(super) const NAT_IP: Ipv4Addr = Ipv4Addr::new(172, 20, 0, 3);
/// `64:ff9b::2d56:66a` (45.86.6.106).
pub(super) const PUBLIC_64: Ipv6Addr = Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0x2d56, 0x066a);

pub(super) fn default_routes(h: &mut Harness) {
    for prefix in [
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    ] {
        h.state
            .create_route(&Route {
                vni: 100,
                prefix: RequestPrefix::new(prefix, 0),
                nexthop_vni: 100,
                nexthop: IpAddr::V6(ROUTER_UL),
            })
            .unwrap();
    }
    h.state.after_write();
}

pub(super) fn with_nat(min: u16, max: u16) -> (Harness, Ipv6Addr) {
    let mut h = Harness::new(pytest_config());
    default_routes(&mut h);
    let ul = h
        .state
        .create_nat(&CreateNat {
            interface_id: "vm1".into(),
            ip: IpAddr::V4(NAT_IP),
            min_port: min,
            max_port: max,
            preferred_underlay: None,
        })
        .unwrap();
    h.state.after_write();
    h.graph.set_neigh_mac(VF0, VM1_MAC);
    (h, ul)
}

fn with_vip() -> (Harness, Ipv6Addr) {
    let mut h = Harness::new(pytest_config());
    default_routes(&mut h);
    let ul = h
        .state
        .create_vip(&CreateVip {
            interface_id: "vm1".into(),
            ip: IpAddr::V4(VIP),
            preferred_underlay: None,
        })
        .unwrap();
    h.state.after_write();
    h.graph.set_neigh_mac(VF0, VM1_MAC);
    (h, ul)
}

/// An IPv4/UDP packet with a valid UDP checksum.
pub(super) fn udp4(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut d = udp_datagram(sport, dport, data);
    udp::Packet::new_unchecked(&mut d[..]).fill_checksum_v4(src, dst);
    ipv4_packet(src, dst, ip_proto::UDP, &d)
}

/// An IPv4/UDP packet whose UDP checksum is zero (as VMs in the tests send).
pub(super) fn udp4_nocsum(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16) -> Vec<u8> {
    ipv4_packet(
        src,
        dst,
        ip_proto::UDP,
        &udp_datagram(sport, dport, b"payload!"),
    )
}

pub(super) fn icmp_echo(kind: u8, ident: u16, seq: u16) -> Vec<u8> {
    let mut m = vec![kind, 0, 0, 0];
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(b"ping");
    icmpv4::Packet::new_unchecked(&mut m[..]).fill_checksum();
    m
}

fn icmp4(src: Ipv4Addr, dst: Ipv4Addr, kind: u8, ident: u16) -> Vec<u8> {
    ipv4_packet(src, dst, ip_proto::ICMP, &icmp_echo(kind, ident, 7))
}

pub(super) fn from_vm(inner: &[u8]) -> Vec<u8> {
    eth(VF0_MAC, VM1_MAC, ethertype::IPV4, inner)
}

/// What leaves pf0 for `inner` tunnelled from `src` to `dst` (router MAC unknown).
pub(super) fn on_pf0(src: Ipv6Addr, dst: Ipv6Addr, nh: u8, inner: &[u8]) -> Vec<u8> {
    eth(
        MacAddr::ZERO,
        PF0_MAC,
        ethertype::IPV6,
        &ipv6_packet(src, dst, nh, inner),
    )
}

/// What reaches vm1 on VF0.
pub(super) fn to_vm1(ethertype: u16, inner: &[u8]) -> Vec<u8> {
    eth(VM1_MAC, VF0_MAC, ethertype, inner)
}

/// The inner UDP source port of a tunnelled frame from pf0.
fn tunnelled_sport(frame: &[u8]) -> u16 {
    u16::from_be_bytes([frame[54 + 20], frame[54 + 21]])
}

// ---- VIP (§8.1) ----

#[test]
fn vip_rewrites_outbound_source_and_restores_replies() {
    let (mut h, vip_ul) = with_vip();
    let out = h.send_one(VF0, &from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 1234, 80)), PF0);
    let expect_inner = udp4(VIP, PUBLIC, 1234, 80, b"payload!");
    assert_eq!(
        out,
        on_pf0(VM1_UL, ROUTER_UL, ip_proto::IPIP, &expect_inner)
    );
    // a later packet of the flow: the same rewrite, from the flow
    let out = h.send_one(VF0, &from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 1234, 80)), PF0);
    assert_eq!(
        out,
        on_pf0(VM1_UL, ROUTER_UL, ip_proto::IPIP, &expect_inner)
    );

    // the reply comes to the VIP's underlay and reaches the VM's address
    let reply = udp4(PUBLIC, VIP, 80, 1234, b"pong");
    let out = h.send_one(PF0, &tunnel4(ROUTER_UL, vip_ul, &reply), VF0);
    let restored = udp4(PUBLIC, VM1_IP, 80, 1234, b"pong");
    assert_eq!(out, to_vm1(ethertype::IPV4, &restored));

    let flow = org_flow(
        &h,
        VM1_IP,
        PUBLIC,
        ip_proto::UDP,
        80,
        1234,
        vnf_type::UNDEFINED,
    );
    assert_eq!(flow.nat_type, nat_kind::VIP);
    assert_ne!(flow.flags & flags::SRC_NAT, 0);
}

#[test]
fn vip_inbound_is_dnated_and_the_vm_answers_from_the_vip() {
    let (mut h, vip_ul) = with_vip();
    let inbound = udp4(PUBLIC, VIP, 5000, 22, b"ssh?");
    let out = h.send_one(PF0, &tunnel4(ROUTER_UL, vip_ul, &inbound), VF0);
    assert_eq!(
        out,
        to_vm1(ethertype::IPV4, &udp4(PUBLIC, VM1_IP, 5000, 22, b"ssh?"))
    );
    // the VM's answer leaves from the VIP
    let answer = udp4(VM1_IP, PUBLIC, 22, 5000, b"ssh!");
    let out = h.send_one(VF0, &from_vm(&answer), PF0);
    assert_eq!(
        out,
        on_pf0(
            VM1_UL,
            ROUTER_UL,
            ip_proto::IPIP,
            &udp4(VIP, PUBLIC, 22, 5000, b"ssh!")
        )
    );
    // a second inbound packet of the flow is DNATed from the flow
    let out = h.send_one(PF0, &tunnel4(ROUTER_UL, vip_ul, &inbound), VF0);
    assert_eq!(
        out,
        to_vm1(ethertype::IPV4, &udp4(PUBLIC, VM1_IP, 5000, 22, b"ssh?"))
    );
}

#[test]
fn vm_to_a_vip_of_its_vni_is_dnated_locally() {
    let (mut h, _) = with_vip();
    let frame = eth(
        VF1_MAC,
        VM1_MAC,
        ethertype::IPV4,
        &udp4(VM2_IP, VIP, 7, 8, b"x"),
    );
    let out = h.send_one(VF1, &frame, VF0);
    assert_eq!(
        out,
        to_vm1(ethertype::IPV4, &udp4(VM2_IP, VM1_IP, 7, 8, b"x"))
    );
}

#[test]
fn nat_wins_over_vip() {
    let (mut h, _) = with_vip();
    h.state
        .create_nat(&CreateNat {
            interface_id: "vm1".into(),
            ip: IpAddr::V4(NAT_IP),
            min_port: 100,
            max_port: 101,
            preferred_underlay: None,
        })
        .unwrap();
    h.state.after_write();
    let out = h.send_one(VF0, &from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 1234, 80)), PF0);
    assert_eq!(
        out,
        on_pf0(
            VM1_UL,
            ROUTER_UL,
            ip_proto::IPIP,
            &udp4(NAT_IP, PUBLIC, 100, 80, b"payload!")
        )
    );
}

// ---- NAT gateway (§8.3) ----

/// The flow entry stored under the original key described.
fn org_flow(
    h: &Harness,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    port_dst: u16,
    sport: u16,
    vnf: u8,
) -> crate::flow::FlowEntry {
    let k = key::pack(&FlowKey {
        l3_dst: IpAddr::V4(dst),
        l3_src: IpAddr::V4(src),
        proto,
        port_dst,
        src: sport,
        vni: 100,
        vnf_type: vnf,
    });
    h.graph.flows().get(&k).expect("the flow exists")
}

#[test]
fn nat_ports_follow_the_worked_example() {
    // HA bulk test: range [100,104), 10.100.1.1 UDP to 45.86.6.106:1234, VNI 100
    let (mut h, _) = with_nat(100, 104);
    for (sport, nat_port) in [(1024, 101), (1025, 102), (1026, 100), (1027, 103)] {
        let out = h.send_one(
            VF0,
            &from_vm(&udp4_nocsum(VM1_IP, PUBLIC, sport, 1234)),
            PF0,
        );
        assert_eq!(
            out,
            on_pf0(
                VM1_UL,
                ROUTER_UL,
                ip_proto::IPIP,
                &udp4(NAT_IP, PUBLIC, nat_port, 1234, b"payload!")
            ),
            "source port {sport}"
        );
    }
    let t = &h.graph.tables;
    assert_eq!(t.portmap.len(), 4);
    assert_eq!(t.portoverload.len(), 4);
    let pm = t
        .portmap
        .get(&ports::portmap_key(100, IpAddr::V4(VM1_IP), 1025))
        .unwrap();
    assert_eq!(
        (pm.nat_ip, pm.nat_port, pm.flow_count),
        (NAT_IP.to_bits(), 102, 1)
    );
    assert_eq!(h.graph.nat_used_ports(VF0), 4);
    let f = org_flow(&h, VM1_IP, PUBLIC, ip_proto::UDP, 1234, 1026, vnf_type::NAT);
    assert_eq!(f.nat_type, nat_kind::NETWORK_LOCAL);
    assert_eq!(f.nat_port, 100);
    assert_eq!(f.nat_vni, 100);
    assert_eq!(f.flags & flags::SRC_NAT, flags::SRC_NAT);
    assert_eq!(f.other_key.port_dst, 100);
}

#[test]
fn a_source_keeps_its_port_across_destinations_and_two_sources_differ() {
    // pytest: range [100,102), ports 1246 and 1547 to the same destination
    let (mut h, _) = with_nat(100, 102);
    let a = h.send_one(VF0, &from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 1246, 53)), PF0);
    let b = h.send_one(VF0, &from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 1547, 53)), PF0);
    assert_ne!(tunnelled_sport(&a), tunnelled_sport(&b));
    // the first source to another destination: the same NAT port (overload)
    let other = Ipv4Addr::new(45, 86, 6, 6);
    let c = h.send_one(VF0, &from_vm(&udp4_nocsum(VM1_IP, other, 1246, 53)), PF0);
    assert_eq!(tunnelled_sport(&a), tunnelled_sport(&c));
    let pm = h
        .graph
        .tables
        .portmap
        .get(&ports::portmap_key(100, IpAddr::V4(VM1_IP), 1246))
        .unwrap();
    assert_eq!(pm.flow_count, 2);
}

#[test]
fn nat_replies_are_restored_tcp_udp_and_echo() {
    let (mut h, nat_ul) = with_nat(100, 101);
    h.graph.tables.sync.enabled = true;
    h.send_one(VF0, &from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 1234, 53)), PF0);
    let reply = udp4(PUBLIC, NAT_IP, 53, 100, b"answer");
    let out = h.send_one(PF0, &tunnel4(ROUTER_UL, nat_ul, &reply), VF0);
    assert_eq!(
        out,
        to_vm1(ethertype::IPV4, &udp4(PUBLIC, VM1_IP, 53, 1234, b"answer"))
    );

    // ICMP echo: the identifier becomes the NAT port, and back
    let out = h.send_one(
        VF0,
        &from_vm(&icmp4(
            VM1_IP,
            PUBLIC,
            icmpv4::msg_type::ECHO_REQUEST,
            0x4242,
        )),
        PF0,
    );
    let expect = icmp4(NAT_IP, PUBLIC, icmpv4::msg_type::ECHO_REQUEST, 100);
    assert_eq!(out, on_pf0(VM1_UL, ROUTER_UL, ip_proto::IPIP, &expect));
    let echo_reply = icmp4(PUBLIC, NAT_IP, icmpv4::msg_type::ECHO_REPLY, 100);
    let out = h.send_one(PF0, &tunnel4(ROUTER_UL, nat_ul, &echo_reply), VF0);
    assert_eq!(
        out,
        to_vm1(
            ethertype::IPV4,
            &icmp4(PUBLIC, VM1_IP, icmpv4::msg_type::ECHO_REPLY, 0x4242)
        )
    );

    // HA: one NAT create per allocation, with the keys of §16.2
    let msgs: Vec<SyncMessage> = h.graph.tables.sync.drain().collect();
    assert_eq!(msgs.len(), 2);
    let SyncMessage::NatCreate {
        portmap,
        overload,
        port_id,
        ..
    } = msgs[0]
    else {
        panic!("expected a NAT create, got {:?}", msgs[0]);
    };
    assert_eq!(portmap, ports::portmap_key(100, IpAddr::V4(VM1_IP), 1234));
    assert_eq!(
        (
            overload.nat_ip,
            overload.nat_port,
            overload.dst_ip,
            overload.dst_port,
            overload.proto
        ),
        (NAT_IP.to_bits(), 100, PUBLIC.to_bits(), 53, ip_proto::UDP)
    );
    assert_eq!(port_id, VF0);
}

#[test]
fn icmp_error_for_a_nated_flow_reaches_the_vm_restored() {
    let (mut h, nat_ul) = with_nat(100, 101);
    let original = udp4_nocsum(VM1_IP, PUBLIC, 1234, 53);
    h.send_one(VF0, &from_vm(&original), PF0);
    // the router's port unreachable quotes the translated packet
    let translated = udp4(NAT_IP, PUBLIC, 100, 53, b"payload!");
    let error = |quoted: &[u8]| {
        let mut m = vec![icmpv4::msg_type::DEST_UNREACHABLE, 3, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&quoted[..28]);
        icmpv4::Packet::new_unchecked(&mut m[..]).fill_checksum();
        m
    };
    let inbound = ipv4_packet(PUBLIC, NAT_IP, ip_proto::ICMP, &error(&translated));
    let out = h.send_one(PF0, &tunnel4(ROUTER_UL, nat_ul, &inbound), VF0);
    // the VM sees the error about its own packet: its address, port and header checksum
    let mut quoted = translated;
    quoted[12..16].copy_from_slice(&VM1_IP.octets());
    quoted[10..12].copy_from_slice(&original[10..12]);
    quoted[20..22].copy_from_slice(&1234u16.to_be_bytes());
    let expect = ipv4_packet(PUBLIC, VM1_IP, ip_proto::ICMP, &error(&quoted));
    assert_eq!(out, to_vm1(ethertype::IPV4, &expect));
    assert!(ipv4::Packet::new_unchecked(&out[14..]).verify_checksum());
}

#[test]
fn exhausted_range_drops_and_aging_frees_the_port() {
    let (mut h, _) = with_nat(1024, 1025);
    h.graph.tables.sync.enabled = true;
    h.send_one(VF0, &from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 1000, 53)), PF0);
    // another source to the same destination: no port left
    h.send_dropped(
        VF0,
        &from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 1001, 53)),
        DropReason::NatPortExhausted,
    );
    // the flow ages out: its port, port-map entry and count go with it
    h.now += Duration::from_secs(31);
    h.graph.start_aging();
    while h.graph.age_flows(h.now) {}
    let t = &h.graph.tables;
    assert_eq!((t.portmap.len(), t.portoverload.len()), (0, 0));
    assert_eq!(h.graph.nat_used_ports(VF0), 0);
    let msgs: Vec<SyncMessage> = h.graph.tables.sync.drain().collect();
    assert!(matches!(msgs[0], SyncMessage::NatCreate { .. }));
    assert!(
        matches!(msgs[1], SyncMessage::NatDelete { overload, .. } if overload.nat_port == 1024),
        "{msgs:?}"
    );
    // the port serves the other source now
    let out = h.send_one(VF0, &from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 1001, 53)), PF0);
    assert_eq!(tunnelled_sport(&out), 1024);
}

#[test]
fn deleting_the_nat_purges_its_flows_and_releases_their_ports() {
    let (mut h, _) = with_nat(100, 104);
    for sport in [1, 2, 3] {
        h.send_one(VF0, &from_vm(&udp4_nocsum(VM1_IP, PUBLIC, sport, 53)), PF0);
    }
    assert_eq!(h.graph.tables.portoverload.len(), 3);
    h.state.delete_nat("vm1").unwrap();
    let purges = h.state.take_flow_purges();
    h.graph.purge_flows(&purges);
    let t = &h.graph.tables;
    assert_eq!((t.portmap.len(), t.portoverload.len()), (0, 0));
    assert_eq!(h.graph.flows().len(), 0);
    assert_eq!(h.graph.nat_used_ports(VF0), 0);
}

#[test]
fn tcp_is_translated_with_a_full_checksum() {
    use crate::wire::tcp;
    let (mut h, nat_ul) = with_nat(100, 101);
    let segment = |sport: u16, dport: u16, src: Ipv4Addr, dst: Ipv4Addr| {
        let mut t = vec![0u8; tcp::HEADER_LEN];
        t[0..2].copy_from_slice(&sport.to_be_bytes());
        t[2..4].copy_from_slice(&dport.to_be_bytes());
        t[12] = 0x50;
        t[13] = tcp::flags::SYN;
        t.extend_from_slice(b"data");
        tcp::Packet::new_unchecked(&mut t[..]).fill_checksum_v4(src, dst);
        ipv4_packet(src, dst, ip_proto::TCP, &t)
    };
    let out = h.send_one(VF0, &from_vm(&segment(40000, 443, VM1_IP, PUBLIC)), PF0);
    let expect = segment(100, 443, NAT_IP, PUBLIC);
    assert_eq!(out, on_pf0(VM1_UL, ROUTER_UL, ip_proto::IPIP, &expect));
    let back = segment(443, 100, PUBLIC, NAT_IP);
    let out = h.send_one(PF0, &tunnel4(ROUTER_UL, nat_ul, &back), VF0);
    assert_eq!(
        out,
        to_vm1(ethertype::IPV4, &segment(443, 40000, PUBLIC, VM1_IP))
    );
}

#[test]
fn west_east_traffic_is_not_translated() {
    let (mut h, _) = with_nat(100, 101);
    let frame = from_vm(&udp4_nocsum(VM1_IP, VM2_IP, 1, 2));
    let out = h.send_one(VF0, &frame, VF1);
    assert_eq!(&out[14..], &frame[14..]);
}

// ---- inbound to the NAT IP without a flow (§8.3.4), packet_relay (§8.4) ----

#[test]
fn echo_to_the_nat_address_is_answered_back_into_the_tunnel() {
    let (mut h, nat_ul) = with_nat(100, 101);
    let pinger = Ipv6Addr::new(0xfc00, 9, 0, 0, 0, 0, 0, 1);
    let req = icmp4(PUBLIC, NAT_IP, icmpv4::msg_type::ECHO_REQUEST, 9);
    for _ in 0..2 {
        let out = h.send_one(PF0, &tunnel4(pinger, nat_ul, &req), PF0);
        let answer = icmp4(NAT_IP, PUBLIC, icmpv4::msg_type::ECHO_REPLY, 9);
        assert_eq!(out, on_pf0(HOST_UL, pinger, ip_proto::IPIP, &answer));
    }
    // anything else without a flow and outside neighbour ranges is dropped
    let stray = udp4(PUBLIC, NAT_IP, 53, 100, b"?");
    h.send_dropped(PF0, &tunnel4(pinger, nat_ul, &stray), DropReason::NatNoFlow);
}

#[test]
fn neighbour_nat_range_is_relayed_unchanged() {
    let (mut h, nat_ul) = with_nat(100, 101);
    let neigh = Ipv6Addr::new(0xfc00, 2, 0, 0, 0, 0, 0, 0x99);
    h.state
        .create_neighbor_nat(&NeighborNat {
            ip: IpAddr::V4(NAT_IP),
            vni: 100,
            min_port: 200,
            max_port: 300,
            underlay_route: neigh,
        })
        .unwrap();
    h.state.after_write();
    let inbound = udp4(PUBLIC, NAT_IP, 53, 250, b"for the neighbour");
    for _ in 0..2 {
        let out = h.send_one(PF0, &tunnel4(ROUTER_UL, nat_ul, &inbound), PF0);
        assert_eq!(out, on_pf0(HOST_UL, neigh, ip_proto::IPIP, &inbound));
    }
    let k = FlowKey {
        l3_dst: IpAddr::V4(NAT_IP),
        l3_src: IpAddr::V4(PUBLIC),
        proto: ip_proto::UDP,
        port_dst: 250,
        src: 53,
        vni: 100,
        vnf_type: vnf_type::NAT,
    };
    let e = h.graph.flows().get(&key::pack(&k)).unwrap();
    assert_eq!(e.nat_type, nat_kind::NETWORK_NEIGH);
    assert_eq!(e.flags & flags::DST_NAT_FWD, flags::DST_NAT_FWD);
    assert_eq!(e.underlay_dst, neigh.octets());
    // a port outside every range
    let stray = udp4(PUBLIC, NAT_IP, 53, 300, b"?");
    h.send_dropped(
        PF0,
        &tunnel4(ROUTER_UL, nat_ul, &stray),
        DropReason::NatNoFlow,
    );
}

#[test]
fn icmpv6_echo_is_answered_in_place() {
    use crate::graph::nat::rewrite;
    let a: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let b: Ipv6Addr = "2001:db8::2".parse().unwrap();
    let echo = |kind: u8, src: Ipv6Addr, dst: Ipv6Addr| {
        let mut m = vec![kind, 0, 0, 0, 0, 5, 0, 1, b'h', b'i'];
        icmpv6::Packet::new_unchecked(&mut m[..]).fill_checksum(&src, &dst);
        eth(
            PF0_MAC,
            PF0_MAC,
            ethertype::IPV6,
            &ipv6_packet(src, dst, ip_proto::ICMPV6, &m),
        )
    };
    let mut f = echo(icmpv6::msg_type::ECHO_REQUEST, a, b);
    assert!(rewrite::answer_echo_v6(&mut f));
    assert_eq!(f, echo(icmpv6::msg_type::ECHO_REPLY, b, a));
    // only requests are answered
    assert!(!rewrite::answer_echo_v6(&mut f));
}

// ---- NAT64 (§8.5) ----

pub(super) fn udp6(src: Ipv6Addr, dst: Ipv6Addr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut d = udp_datagram(sport, dport, data);
    udp::Packet::new_unchecked(&mut d[..]).fill_checksum_v6(&src, &dst);
    ipv6_packet(src, dst, ip_proto::UDP, &d)
}

#[test]
fn nat64_udp_both_ways() {
    let (mut h, nat_ul) = with_nat(100, 101);
    let out6 = udp6(VM1_IP6, PUBLIC_64, 5353, 53, b"query");
    let out = h.send_one(VF0, &eth(VF0_MAC, VM1_MAC, ethertype::IPV6, &out6), PF0);
    let mut expect = udp4(NAT_IP, PUBLIC, 100, 53, b"query");
    expect[4..6].copy_from_slice(&[0, 0]); // identification 0
    ipv4::Packet::new_unchecked(&mut expect[..]).fill_checksum();
    assert_eq!(out, on_pf0(VM1_UL, ROUTER_UL, ip_proto::IPIP, &expect));

    let reply = udp4(PUBLIC, NAT_IP, 53, 100, b"answer");
    let out = h.send_one(PF0, &tunnel4(ROUTER_UL, nat_ul, &reply), VF0);
    assert_eq!(
        out,
        to_vm1(
            ethertype::IPV6,
            &udp6(PUBLIC_64, VM1_IP6, 53, 5353, b"answer")
        )
    );
    let pm = h
        .graph
        .tables
        .portmap
        .get(&ports::portmap_key(100, IpAddr::V6(VM1_IP6), 5353))
        .unwrap();
    assert_eq!(pm.nat_port, 100);
}

#[test]
fn nat64_icmp_echo_both_ways() {
    let (mut h, nat_ul) = with_nat(100, 101);
    let echo6 = |kind: u8, src: Ipv6Addr, dst: Ipv6Addr, ident: u16| {
        let mut m = vec![kind, 0, 0, 0];
        m.extend_from_slice(&ident.to_be_bytes());
        m.extend_from_slice(&7u16.to_be_bytes());
        m.extend_from_slice(b"ping");
        icmpv6::Packet::new_unchecked(&mut m[..]).fill_checksum(&src, &dst);
        ipv6_packet(src, dst, ip_proto::ICMPV6, &m)
    };
    let req = echo6(icmpv6::msg_type::ECHO_REQUEST, VM1_IP6, PUBLIC_64, 0x77);
    let out = h.send_one(VF0, &eth(VF0_MAC, VM1_MAC, ethertype::IPV6, &req), PF0);
    let mut expect = icmp4(NAT_IP, PUBLIC, icmpv4::msg_type::ECHO_REQUEST, 100);
    expect[4..6].copy_from_slice(&[0, 0]);
    ipv4::Packet::new_unchecked(&mut expect[..]).fill_checksum();
    assert_eq!(out, on_pf0(VM1_UL, ROUTER_UL, ip_proto::IPIP, &expect));

    let reply = icmp4(PUBLIC, NAT_IP, icmpv4::msg_type::ECHO_REPLY, 100);
    let out = h.send_one(PF0, &tunnel4(ROUTER_UL, nat_ul, &reply), VF0);
    assert_eq!(
        out,
        to_vm1(
            ethertype::IPV6,
            &echo6(icmpv6::msg_type::ECHO_REPLY, PUBLIC_64, VM1_IP6, 0x77)
        )
    );
    // other ICMPv6 towards the NAT64 prefix is not translated
    let mut other = echo6(icmpv6::msg_type::ECHO_REQUEST, VM1_IP6, PUBLIC_64, 0x78);
    other[ipv6::HEADER_LEN] = 1; // destination unreachable
    h.send_dropped(
        VF0,
        &eth(VF0_MAC, VM1_MAC, ethertype::IPV6, &other),
        DropReason::UnsupportedIcmp,
    );
}
