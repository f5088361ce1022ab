//! Overlay forwarding (dataplane.md §6): VM↔VM, encapsulation, decapsulation, VNI
//! isolation, prefixes, WCMP and the drop reasons of §6.7.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dpservice::model::{CreatePrefix, CreateVip, IpPrefix};

use super::harness::*;
use crate::graph::{DropReason, GraphConfig};
use crate::wire::ethernet::{ethertype, MacAddr};
use crate::wire::ip_proto;

const REMOTE_IP: Ipv4Addr = Ipv4Addr::new(10, 100, 2, 2);
const REMOTE_IP6: Ipv6Addr = Ipv6Addr::new(0x2000, 100, 2, 0, 0, 0, 0, 1);

fn add_remote_routes(h: &mut Harness) {
    for (prefix, len) in [
        (IpAddr::V4(Ipv4Addr::new(10, 100, 2, 0)), 24),
        (IpAddr::V6(REMOTE_IP6), 48),
    ] {
        h.route_to_neighbour(prefix, len);
    }
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn vm_to_vm_same_host_rewrites_ethernet_only() {
    let mut h = Harness::new(pytest_config());
    let frame = vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, VM2_IP, 1234, 80);
    let out = h.send_one(VF0, &frame, VF1);
    // Ethernet: to vm2 (its MAC is still guessed as the VF's) from VF1; IP untouched
    let mut expect = frame.clone();
    expect[0..6].copy_from_slice(&VF1_MAC.0);
    expect[6..12].copy_from_slice(&VF1_MAC.0);
    assert_eq!(out, expect);
    // the IPv6 path as well
    let ip6 = ipv6_packet(VM1_IP6, VM2_IP6, ip_proto::UDP, &udp_datagram(1, 2, b"x"));
    let frame = eth(VF0_MAC, VM1_MAC, ethertype::IPV6, &ip6);
    let out = h.send_one(VF0, &frame, VF1);
    assert_eq!(&out[12..], &frame[12..]);
    assert_eq!(&out[..12], &[VF1_MAC.0, VF1_MAC.0].concat()[..]);
}

#[test]
fn vm_to_remote_ipv4_is_encapsulated_golden() {
    let mut h = Harness::new(pytest_config());
    add_remote_routes(&mut h);
    let frame = vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, REMOTE_IP, 1234, 80);
    let inner = &frame[14..]; // 20 + 8 + 8 = 36 bytes
    let out = h.send_one(VF0, &frame, PF0);
    let expect = cat(&[
        // router MAC not learned yet (all zero) <- pf0
        &[0, 0, 0, 0, 0, 0],
        &PF0_MAC.0,
        &[0x86, 0xdd],
        // version 6, tc 0, flow 0, payload 36, next header 4, hop limit 64
        &[0x60, 0, 0, 0, 0, 36, 4, 64],
        &[0xfc, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 1],
        &[0xfc, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x64, 0, 0, 0, 1],
        inner,
    ]);
    assert_eq!(out, expect);
}

#[test]
fn vm_to_remote_ipv6_is_encapsulated_on_pf0_always() {
    // even with all IPv4 egress on pf1, IPv6 tunnels leave on pf0 (upstream)
    let cfg = GraphConfig {
        wcmp_percent: 0,
        ..pytest_config()
    };
    let mut h = Harness::new(cfg);
    add_remote_routes(&mut h);
    let ip6 = ipv6_packet(
        VM1_IP6,
        REMOTE_IP6,
        ip_proto::UDP,
        &udp_datagram(1, 2, b"x"),
    );
    let frame = eth(VF0_MAC, VM1_MAC, ethertype::IPV6, &ip6);
    let out = h.send_one(VF0, &frame, PF0);
    // payload = inner payload (9) + 40; next header 41
    assert_eq!(&out[14..22], &[0x60, 0, 0, 0, 0, 49, 41, 64]);
    assert_eq!(&out[54..], &frame[14..]);
}

#[test]
fn learned_router_mac_is_used() {
    let mut h = Harness::new(pytest_config());
    add_remote_routes(&mut h);
    let router = MacAddr([0x02, 0xaa, 0, 0, 0, 1]);
    h.graph.set_neigh_mac(PF0, router);
    let out = h.send_one(
        VF0,
        &vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, REMOTE_IP, 1, 2),
        PF0,
    );
    assert_eq!(&out[..6], &router.0);
}

#[test]
fn tunnel_to_vm_is_decapsulated_golden() {
    let mut h = Harness::new(pytest_config());
    h.graph.set_neigh_mac(VF0, VM1_MAC);
    let inner = ipv4_packet(
        REMOTE_IP,
        VM1_IP,
        ip_proto::UDP,
        &udp_datagram(80, 1234, b"reply"),
    );
    // two bytes of Ethernet padding behind the tunnel stay behind the inner packet
    let mut frame = tunnel4(NEIGH_UL, VM1_UL, &inner);
    frame.extend_from_slice(&[0, 0]);
    let out = h.send_one(PF0, &frame, VF0);
    let expect = cat(&[&VM1_MAC.0, &VF0_MAC.0, &[0x08, 0x00], &inner, &[0, 0]]);
    assert_eq!(out, expect);

    // IPv6 inside IPv6
    let inner6 = ipv6_packet(
        REMOTE_IP6,
        VM1_IP6,
        ip_proto::UDP,
        &udp_datagram(80, 1234, b"r"),
    );
    let outer = ipv6_packet(NEIGH_UL, VM1_UL, ip_proto::IPV6, &inner6);
    let out = h.send_one(
        PF1,
        &eth(PF1_MAC, MacAddr([0xaa; 6]), ethertype::IPV6, &outer),
        VF0,
    );
    assert_eq!(out, cat(&[&VM1_MAC.0, &VF0_MAC.0, &[0x86, 0xdd], &inner6]));
}

#[test]
fn unknown_underlay_is_dropped() {
    let mut h = Harness::new(pytest_config());
    let inner = ipv4_packet(REMOTE_IP, VM1_IP, ip_proto::UDP, &udp_datagram(1, 2, b""));
    let nowhere = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0, 99);
    h.send_dropped(
        PF0,
        &tunnel4(NEIGH_UL, nowhere, &inner),
        DropReason::UnknownUnderlay,
    );
}

#[test]
fn vnis_are_isolated() {
    let mut h = Harness::new(pytest_config());
    // vm3 (VNI 200) cannot reach vm1 (VNI 100) and vice versa: no route
    h.send_dropped(
        VF2,
        &vm_udp4(VM1_MAC, VF2_MAC, VM3_IP, VM1_IP, 1, 2),
        DropReason::NoRoute,
    );
    h.send_dropped(
        VF0,
        &vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, VM3_IP, 1, 2),
        DropReason::NoRoute,
    );
    // a tunnel to vm3's underlay carrying vm1's address is delivered to vm3 (no routing
    // check of the inner destination for interface VNFs, §6.2)
    let inner = ipv4_packet(REMOTE_IP, VM1_IP, ip_proto::UDP, &udp_datagram(1, 2, b""));
    h.send_one(PF0, &tunnel4(NEIGH_UL, VM3_UL, &inner), VF2);
}

#[test]
fn no_transit_between_uplinks() {
    let mut h = Harness::new(pytest_config());
    add_remote_routes(&mut h);
    // a VIP-type underlay is routed; routing back to the uplink is refused
    let vip_ul = h
        .state
        .create_vip(&CreateVip {
            interface_id: "vm1".into(),
            ip: IpAddr::V4(Ipv4Addr::new(172, 20, 0, 1)),
            preferred_underlay: None,
        })
        .unwrap();
    let inner = ipv4_packet(
        Ipv4Addr::new(45, 86, 6, 6),
        REMOTE_IP,
        ip_proto::UDP,
        &udp_datagram(1, 2, b""),
    );
    h.send_dropped(PF0, &tunnel4(NEIGH_UL, vip_ul, &inner), DropReason::PfToPf);
    // and routed to a local VM it works (VIP DNAT itself: `graph::tests::nat`)
    let inner = ipv4_packet(
        Ipv4Addr::new(45, 86, 6, 6),
        VM2_IP,
        ip_proto::UDP,
        &udp_datagram(1, 2, b""),
    );
    h.send_one(PF0, &tunnel4(NEIGH_UL, vip_ul, &inner), VF1);
}

#[test]
fn alias_prefix_is_routed_locally_and_delivered_from_the_tunnel() {
    let mut h = Harness::new(pytest_config());
    let prefix = IpPrefix::new(IpAddr::V4(Ipv4Addr::new(10, 100, 3, 0)), 24).unwrap();
    let ul = h
        .state
        .create_prefix(&CreatePrefix {
            interface_id: "vm1".into(),
            prefix: prefix.into(),
            preferred_underlay: None,
        })
        .unwrap();
    // vm2 -> an address in vm1's prefix: routed to VF0
    let target = Ipv4Addr::new(10, 100, 3, 5);
    h.send_one(VF1, &vm_udp4(VM1_MAC, VF1_MAC, VM2_IP, target, 1, 2), VF0);
    // a tunnel to the prefix's underlay: straight to the VM
    let inner = ipv4_packet(REMOTE_IP, target, ip_proto::UDP, &udp_datagram(1, 2, b""));
    h.send_one(PF0, &tunnel4(NEIGH_UL, ul, &inner), VF0);
    // an LB prefix adds no route, only the underlay
    let lb = IpPrefix::new(IpAddr::V4(Ipv4Addr::new(172, 22, 2, 1)), 32).unwrap();
    let lb_ul = h
        .state
        .create_lb_prefix(&CreatePrefix {
            interface_id: "vm2".into(),
            prefix: lb,
            preferred_underlay: None,
        })
        .unwrap();
    let inner = ipv4_packet(
        REMOTE_IP,
        Ipv4Addr::new(172, 22, 2, 1),
        ip_proto::UDP,
        &udp_datagram(1, 2, b""),
    );
    h.send_one(PF0, &tunnel4(NEIGH_UL, lb_ul, &inner), VF1);
    h.send_dropped(
        VF0,
        &vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, Ipv4Addr::new(172, 22, 2, 1), 1, 2),
        DropReason::NoRoute,
    );
}

fn ping(dst: Ipv4Addr) -> Vec<u8> {
    let icmp = [8, 0, 0xf7, 0xff, 0, 0, 0, 0]; // echo request id 0 seq 0
    eth(
        VF0_MAC,
        VM1_MAC,
        ethertype::IPV4,
        &ipv4_packet(VM1_IP, dst, ip_proto::ICMP, &icmp),
    )
}

#[test]
fn wcmp_splits_by_flow_hash_as_upstream() {
    // §19.5: pings from 10.100.1.1 in VNI 100 to 10.100.2.102 hash to pf0, .125 to pf1
    let cfg = GraphConfig {
        wcmp_percent: 50,
        ..pytest_config()
    };
    let mut h = Harness::new(cfg);
    add_remote_routes(&mut h);
    h.send_one(VF0, &ping(Ipv4Addr::new(10, 100, 2, 102)), PF0);
    let out = h.send_one(VF0, &ping(Ipv4Addr::new(10, 100, 2, 125)), PF1);
    assert_eq!(&out[6..12], &PF1_MAC.0, "source MAC is the chosen uplink's");
    // pf1 down: everything on pf0; pf0 down: the pf0 share moves to pf1
    h.graph.set_link(PF1, false);
    h.send_one(VF0, &ping(Ipv4Addr::new(10, 100, 2, 125)), PF0);
    h.graph.set_link(PF1, true);
    h.graph.set_link(PF0, false);
    h.send_one(VF0, &ping(Ipv4Addr::new(10, 100, 2, 102)), PF1);
}

#[test]
fn wcmp_100_uses_pf0_unless_down() {
    let mut h = Harness::new(pytest_config());
    add_remote_routes(&mut h);
    h.send_one(VF0, &ping(Ipv4Addr::new(10, 100, 2, 125)), PF0);
    h.graph.set_link(PF0, false);
    h.send_one(VF0, &ping(Ipv4Addr::new(10, 100, 2, 125)), PF1);
}

#[test]
fn forwarding_keeps_ttl_and_checksums() {
    let mut h = Harness::new(pytest_config());
    add_remote_routes(&mut h);
    let mut frame = vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, REMOTE_IP, 1, 2);
    frame[14 + 8] = 1; // TTL 1, checksum now wrong: neither fixed nor checked
    let out = h.send_one(VF0, &frame, PF0);
    assert_eq!(&out[54..], &frame[14..]);
}

#[test]
fn classification_drops() {
    let mut h = Harness::new(pytest_config());
    let udp4 = vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, VM2_IP, 1, 2);
    // VLAN-tagged
    let mut vlan = udp4.clone();
    vlan[12..14].copy_from_slice(&[0x81, 0x00]);
    h.send_dropped(VF0, &vlan, DropReason::NotEthernet);
    h.send_dropped(VF0, &udp4[..10], DropReason::NotEthernet);
    // LLDP
    let mut other = udp4.clone();
    other[12..14].copy_from_slice(&[0x88, 0xcc]);
    h.send_dropped(VF0, &other, DropReason::NotIp);
    // plain IPv4 on an uplink
    h.send_dropped(PF0, &udp4, DropReason::Ipv4FromPf);
    // IPv6 on an uplink that is no tunnel
    let ip6 = ipv6_packet(NEIGH_UL, HOST_UL, ip_proto::UDP, &udp_datagram(1, 2, b""));
    h.send_dropped(
        PF0,
        &eth(PF0_MAC, MacAddr([0xaa; 6]), ethertype::IPV6, &ip6),
        DropReason::NotTunnel,
    );
    // truncated IPv6, truncated UDP
    let mut short6 = eth(VF0_MAC, VM1_MAC, ethertype::IPV6, &ip6);
    short6.truncate(50);
    h.send_dropped(VF0, &short6, DropReason::Malformed);
    h.send_dropped(VF0, &udp4[..14 + 20 + 2], DropReason::Malformed);
    // unknown port
    h.send_dropped(9, &udp4, DropReason::UnknownPort);
}

#[test]
fn l4_and_icmp_drops() {
    let mut h = Harness::new(pytest_config());
    add_remote_routes(&mut h);
    let gre = ipv4_packet(VM1_IP, VM2_IP, 47, &[0; 8]);
    h.send_dropped(
        VF0,
        &eth(VF0_MAC, VM1_MAC, ethertype::IPV4, &gre),
        DropReason::UnsupportedL4,
    );
    // time exceeded: not tracked
    let te = ipv4_packet(VM1_IP, VM2_IP, ip_proto::ICMP, &[11, 0, 0, 0, 0, 0, 0, 0]);
    h.send_dropped(
        VF0,
        &eth(VF0_MAC, VM1_MAC, ethertype::IPV4, &te),
        DropReason::UnsupportedIcmp,
    );
    // port unreachable about a UDP packet: forwarded; about ICMP: dropped; code 1: dropped
    let embedded = ipv4_packet(
        REMOTE_IP,
        VM1_IP,
        ip_proto::UDP,
        &udp_datagram(53, 1234, b""),
    );
    let err = [&[3u8, 3, 0, 0, 0, 0, 0, 0][..], &embedded].concat();
    let pkt = ipv4_packet(VM1_IP, REMOTE_IP, ip_proto::ICMP, &err);
    h.send_one(VF0, &eth(VF0_MAC, VM1_MAC, ethertype::IPV4, &pkt), PF0);
    let mut code1 = err;
    code1[1] = 1;
    let pkt = ipv4_packet(VM1_IP, REMOTE_IP, ip_proto::ICMP, &code1);
    h.send_dropped(
        VF0,
        &eth(VF0_MAC, VM1_MAC, ethertype::IPV4, &pkt),
        DropReason::UnsupportedIcmp,
    );
    let embedded_icmp = ipv4_packet(REMOTE_IP, VM1_IP, ip_proto::ICMP, &[8, 0, 0, 0, 0, 0, 0, 0]);
    let err = [&[3u8, 3, 0, 0, 0, 0, 0, 0][..], &embedded_icmp].concat();
    let pkt = ipv4_packet(VM1_IP, REMOTE_IP, ip_proto::ICMP, &err);
    h.send_dropped(
        VF0,
        &eth(VF0_MAC, VM1_MAC, ethertype::IPV4, &pkt),
        DropReason::UnsupportedIcmp,
    );
}

#[test]
fn full_tx_queue_drops_and_counts() {
    let mut h = Harness::new(pytest_config());
    let frame = vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, VM2_IP, 1, 2);
    let mut pkts = vec![h.graph.pool_mut().alloc_frame(&frame).unwrap()];
    h.graph.rx(VF0, &mut pkts);
    h.graph.run(&h.state, h.now);
    // a device that takes nothing
    let sent = h.graph.flush_tx(VF1, |_, _| 0);
    assert_eq!(sent, 0);
    assert_eq!(h.graph.drops(DropReason::TxQueueFull), 1);
    assert_eq!(h.graph.tx_pending(VF1), 0);
    assert_eq!(
        h.graph.pool_mut().in_use(),
        0,
        "dropped buffers return to the pool"
    );
}

#[test]
fn flow_hash_key_carries_the_vnf_type() {
    use crate::flow::key::FlowKey;
    use crate::hash::vnf_type;
    use dpservice::model::CreateNat;
    let mut h = Harness::new(pytest_config());
    let key = |vnf: u8| FlowKey {
        l3_dst: IpAddr::V4(VM2_IP),
        l3_src: IpAddr::V4(VM1_IP),
        proto: ip_proto::UDP,
        port_dst: 80,
        src: 1234,
        vni: 100,
        vnf_type: vnf,
    };
    let frame = vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, VM2_IP, 1234, 80);
    let meta = h.send_meta(VF0, &frame);
    assert_eq!(meta[0].flow_hash, key(vnf_type::UNDEFINED).hash());
    // a NAT on the sender's interface marks its IPv4 flows
    h.state
        .create_nat(&CreateNat {
            interface_id: "vm1".into(),
            ip: IpAddr::V4(Ipv4Addr::new(172, 21, 1, 1)),
            min_port: 100,
            max_port: 102,
            preferred_underlay: None,
        })
        .unwrap();
    let meta = h.send_meta(VF0, &frame);
    assert_eq!(meta[0].flow_hash, key(vnf_type::NAT).hash());
    // from an uplink the VNF type counts (interface VNFs are keyed as undefined)
    let meta = h.send_meta(PF0, &tunnel4(NEIGH_UL, VM1_UL, &frame[14..]));
    let mut k = key(vnf_type::UNDEFINED);
    k.l3_src = IpAddr::V4(VM1_IP);
    assert_eq!(
        meta[0].flow_hash,
        k.hash(),
        "interface VNFs are keyed as undefined"
    );
    assert_eq!(meta[0].tun.dst_vni, 100);
}
