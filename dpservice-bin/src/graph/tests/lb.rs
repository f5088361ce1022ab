//! Load balancing (dataplane.md §9): Maglev target choice as upstream's HA test expects
//! it (§19.5), forwarding to a remote target out of the ingress uplink, recirculation to a
//! load-balancer prefix on this host, drops, stickiness after aging and target deletion.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use dpservice::model::{CreateLbPrefix, CreateLoadBalancer, IpPrefix, LoadBalancerTarget};

use super::harness::*;
use crate::flow::key::FlowKey;
use crate::flow::{self, key, nat_kind, CtKey};
use crate::graph::DropReason;
use crate::wire::ethernet::{ethertype, MacAddr};
use crate::wire::{icmpv4, ip_proto};

const LB_IP6: Ipv6Addr = Ipv6Addr::new(0x2000, 0x22, 2, 0, 0, 0, 0, 1);
const T1: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x1234, 1);
const T2: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x1234, 2);
const T3: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x1234, 3);
/// The two clients of `xtratest_ha.test_ha_maglev` (source port 53).
const CLIENT_A: Ipv4Addr = Ipv4Addr::new(45, 86, 6, 6);
const CLIENT_B: Ipv4Addr = Ipv4Addr::new(45, 86, 6, 106);
/// Where the router's tunnels come from.
const ROUTER_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 2, 0, 0, 0, 0, 0, 0xffff);

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// LB `lb1` at 172.22.2.1 (and `lb6` at 2000:22:2::1), udp/1234 and tcp/80, VNI 100,
/// with `targets`.
fn with_lb(targets: &[Ipv6Addr]) -> Harness {
    let mut h = Harness::new(pytest_config());
    let ports = lb1_ports();
    let ul = h
        .state
        .create_load_balancer(CreateLoadBalancer {
            id: "lb1".into(),
            vni: 100,
            ip: IpAddr::V4(LB_IP),
            ports: ports.clone(),
            preferred_underlay: Some(LB_UL),
        })
        .unwrap();
    assert_eq!(ul, LB_UL);
    h.state
        .create_load_balancer(CreateLoadBalancer {
            id: "lb6".into(),
            vni: 100,
            ip: IpAddr::V6(LB_IP6),
            ports,
            preferred_underlay: None,
        })
        .unwrap();
    for &t in targets {
        add_target(&mut h, t);
    }
    h
}

fn add_target(h: &mut Harness, t: Ipv6Addr) {
    h.state
        .create_lb_target(&LoadBalancerTarget {
            loadbalancer_id: "lb1".into(),
            target: IpAddr::V6(t),
        })
        .unwrap();
}

/// Deletes a target and applies the flow purges as the worker does after a gRPC write.
fn delete_target(h: &mut Harness, t: Ipv6Addr) {
    h.state
        .delete_lb_target(&LoadBalancerTarget {
            loadbalancer_id: "lb1".into(),
            target: IpAddr::V6(t),
        })
        .unwrap();
    let purges = h.state.take_flow_purges();
    h.graph.purge_flows(&purges);
}

/// Makes `ul` an LB prefix (172.22.2.1/32) of vm1: a local target.
fn local_prefix(h: &mut Harness, ul: Ipv6Addr) {
    let got = h
        .state
        .create_lb_prefix(&CreateLbPrefix {
            interface_id: "vm1".into(),
            prefix: IpPrefix::new(IpAddr::V4(LB_IP), 32).unwrap(),
            preferred_underlay: Some(ul),
        })
        .unwrap();
    assert_eq!(got, ul);
}

/// The inner IPv4/UDP packet of a client to the LB.
fn client_udp(src: Ipv4Addr, sport: u16, dport: u16) -> Vec<u8> {
    ipv4_packet(
        src,
        LB_IP,
        ip_proto::UDP,
        &udp_datagram(sport, dport, b"balance me"),
    )
}

/// `inner` tunnelled by the router to the LB's underlay, received on `pf`.
fn to_lb(pf: u16, inner: &[u8]) -> Vec<u8> {
    let outer = ipv6_packet(ROUTER_UL, LB_UL, ip_proto::IPIP, inner);
    let mac = if pf == PF0 { PF0_MAC } else { PF1_MAC };
    eth(mac, MacAddr([0xaa; 6]), ethertype::IPV6, &outer)
}

/// What leaves `pf` towards `target`: Ethernet (router MAC not learned: zero ← the PF),
/// IPv6 from the host's underlay, hop limit 64, next header 4, the inner packet as sent.
fn forwarded(pf: u16, target: Ipv6Addr, inner: &[u8]) -> Vec<u8> {
    let mac = if pf == PF0 { PF0_MAC } else { PF1_MAC };
    let len = inner.len() as u16;
    cat(&[
        &[0; 6],
        &mac.0,
        &[0x86, 0xdd],
        &[0x60, 0, 0, 0],
        &len.to_be_bytes(),
        &[4, 64],
        &HOST_UL.octets(),
        &target.octets(),
        inner,
    ])
}

/// The original key of a client's UDP flow to the LB, as conntrack makes it (§7.2: the
/// LB VNF's VNI, VNF type undefined).
fn client_key(src: Ipv4Addr, sport: u16) -> CtKey {
    key::pack(&FlowKey {
        l3_dst: IpAddr::V4(LB_IP),
        l3_src: IpAddr::V4(src),
        proto: ip_proto::UDP,
        port_dst: 1234,
        src: sport,
        vni: 100,
        vnf_type: 0,
    })
}

fn age_everything(h: &mut Harness) {
    h.now += Duration::from_secs(31);
    h.graph.start_aging();
    while h.graph.age_flows(h.now) {}
    assert!(h.graph.flows().is_empty(), "every flow aged out");
}

#[test]
fn worked_example_targets_of_the_ha_maglev_test() {
    let mut h = with_lb(&[T1, T2, T3]);
    // §19.5: the flow hashes that decide
    assert_eq!(key::hash(&client_key(CLIENT_A, 53)), 0xea89_f889);
    assert_eq!(key::hash(&client_key(CLIENT_B, 53)), 0xf35d_4eec);

    let a = client_udp(CLIENT_A, 53, 1234);
    assert_eq!(
        h.send_one(PF0, &to_lb(PF0, &a), PF0),
        forwarded(PF0, T2, &a)
    );
    let b = client_udp(CLIENT_B, 53, 1234);
    assert_eq!(
        h.send_one(PF0, &to_lb(PF0, &b), PF0),
        forwarded(PF0, T3, &b)
    );

    // the flow remembers its target: flagged DST_LB, forward (one-way), both copies
    let e = h.graph.flows().get(&client_key(CLIENT_A, 53)).unwrap();
    assert_eq!(e.flags, flow::flags::DST_LB);
    assert_eq!(e.nat_type, nat_kind::LB_FORWARD);
    assert_eq!(e.underlay_dst, T2.octets());
    let r = h.graph.flows().get(&e.other_key).unwrap();
    assert_eq!(r.underlay_dst, T2.octets());
}

#[test]
fn forwarding_leaves_on_the_ingress_uplink_and_keeps_the_target() {
    let mut h = with_lb(&[T1, T2, T3]);
    let b = client_udp(CLIENT_B, 53, 1234);
    assert_eq!(
        h.send_one(PF1, &to_lb(PF1, &b), PF1),
        forwarded(PF1, T3, &b)
    );
    // later packets of the flow: same target, also when they arrive on the other uplink
    assert_eq!(
        h.send_one(PF1, &to_lb(PF1, &b), PF1),
        forwarded(PF1, T3, &b)
    );
    assert_eq!(
        h.send_one(PF0, &to_lb(PF0, &b), PF0),
        forwarded(PF0, T3, &b)
    );
    // the reply direction of a forwarded flow is not accepted (one-way)
    let reply = ipv4_packet(
        LB_IP,
        CLIENT_B,
        ip_proto::UDP,
        &udp_datagram(1234, 53, b"no"),
    );
    h.send_dropped(PF0, &to_lb(PF0, &reply), DropReason::OneWayFlow);
}

#[test]
fn a_flow_keeps_its_stored_target_when_the_table_changes() {
    let mut h = with_lb(&[T1, T2, T3]);
    let a = client_udp(CLIENT_A, 53, 1234);
    assert_eq!(
        h.send_one(PF0, &to_lb(PF0, &a), PF0),
        forwarded(PF0, T2, &a)
    );
    // add targets until Maglev would pick another one for this flow
    let mut n = 4;
    loop {
        add_target(&mut h, Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x1234, n));
        let lb = h
            .state
            .load_balancers()
            .lookup(100, IpAddr::V4(LB_IP))
            .unwrap();
        if lb.target_for(0xea89_f889) != Some(&T2) {
            break;
        }
        n += 1;
        assert!(n < 64, "Maglev never moved the flow");
    }
    assert_eq!(
        h.send_one(PF0, &to_lb(PF0, &a), PF0),
        forwarded(PF0, T2, &a)
    );
}

#[test]
fn same_five_tuple_same_target_after_aging() {
    let mut h = with_lb(&[T1, T2, T3]);
    for (client, target) in [(CLIENT_A, T2), (CLIENT_B, T3)] {
        let p = client_udp(client, 53, 1234);
        assert_eq!(
            h.send_one(PF0, &to_lb(PF0, &p), PF0),
            forwarded(PF0, target, &p)
        );
    }
    age_everything(&mut h);
    for (client, target) in [(CLIENT_A, T2), (CLIENT_B, T3)] {
        let p = client_udp(client, 53, 1234);
        assert_eq!(
            h.send_one(PF0, &to_lb(PF0, &p), PF0),
            forwarded(PF0, target, &p)
        );
    }
}

#[test]
fn deleting_another_target_keeps_the_flow_and_a_deleted_target_is_never_used() {
    let mut h = with_lb(&[T1, T2, T3]);
    let b = client_udp(CLIENT_B, 53, 1234);
    assert_eq!(
        h.send_one(PF0, &to_lb(PF0, &b), PF0),
        forwarded(PF0, T3, &b)
    );
    // deleting T1 leaves the flow (its target is T3)
    delete_target(&mut h, T1);
    assert!(h.graph.flows().get(&client_key(CLIENT_B, 53)).is_some());
    assert_eq!(
        h.send_one(PF0, &to_lb(PF0, &b), PF0),
        forwarded(PF0, T3, &b)
    );
    // and after aging the rebuilt table still picks T3 (as pytest expects)
    age_everything(&mut h);
    assert_eq!(
        h.send_one(PF0, &to_lb(PF0, &b), PF0),
        forwarded(PF0, T3, &b)
    );
    // deleting T3 purges the flow; it moves to the remaining target
    delete_target(&mut h, T3);
    assert!(h.graph.flows().get(&client_key(CLIENT_B, 53)).is_none());
    assert_eq!(
        h.send_one(PF0, &to_lb(PF0, &b), PF0),
        forwarded(PF0, T2, &b)
    );
    // many flows, none to a deleted target
    for sport in 1..200 {
        let p = client_udp(CLIENT_A, sport, 1234);
        let out = h.send_one(PF0, &to_lb(PF0, &p), PF0);
        assert_eq!(out, forwarded(PF0, T2, &p));
    }
}

#[test]
fn port_mismatch_and_no_target_are_dropped() {
    let mut h = with_lb(&[]);
    let p = client_udp(CLIENT_A, 53, 1234);
    h.send_dropped(PF0, &to_lb(PF0, &p), DropReason::LbNoTarget);
    add_target(&mut h, T1);
    // udp/1235 and tcp/1234 are not balanced; udp/1234 is
    h.send_dropped(
        PF0,
        &to_lb(PF0, &client_udp(CLIENT_B, 53, 1235)),
        DropReason::LbNoTarget,
    );
    let tcp = ipv4_packet(
        CLIENT_B,
        LB_IP,
        ip_proto::TCP,
        &[
            0, 53, 0x04, 0xd2, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        ],
    );
    h.send_dropped(PF0, &to_lb(PF0, &tcp), DropReason::LbNoTarget);
    let q = client_udp(CLIENT_B, 53, 1234);
    assert_eq!(
        h.send_one(PF0, &to_lb(PF0, &q), PF0),
        forwarded(PF0, T1, &q)
    );
    // tcp/80 is balanced too
    let tcp80 = ipv4_packet(
        CLIENT_B,
        LB_IP,
        ip_proto::TCP,
        &[
            0, 53, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        ],
    );
    assert_eq!(
        h.send_one(PF0, &to_lb(PF0, &tcp80), PF0),
        forwarded(PF0, T1, &tcp80)
    );
}

#[test]
fn recirculates_to_a_local_lb_prefix_and_forwards_the_rest() {
    let mut h = with_lb(&[T1, T2, T3]);
    local_prefix(&mut h, T2);
    h.graph.set_neigh_mac(VF0, VM1_MAC);
    let a = client_udp(CLIENT_A, 53, 1234);
    // T2 is vm1's LB prefix: the packet comes out at vm1 unchanged (dst = LB IP)
    let out = h.send_one(PF0, &to_lb(PF0, &a), VF0);
    assert_eq!(out, cat(&[&VM1_MAC.0, &VF0_MAC.0, &[0x08, 0x00], &a]));
    let e = h.graph.flows().get(&client_key(CLIENT_A, 53)).unwrap();
    assert_eq!(e.nat_type, nat_kind::LB_RECIRC);
    assert_eq!(e.flags & flow::flags::DST_LB, flow::flags::DST_LB);
    assert_eq!(e.underlay_dst, T2.octets());
    // the recirculated packet made a second flow: the LB prefix's (VNF type 5)
    let prefix_key = key::pack(&FlowKey {
        vnf_type: crate::hash::vnf_type::LB_ALIAS_PFX,
        ..key::unpack(&client_key(CLIENT_A, 53))
    });
    assert!(h.graph.flows().get(&prefix_key).is_some());
    // it went through cls twice; the second time from the LB's underlay to the target
    assert_eq!(h.graph.node_stat("cls").unwrap().objs, 2);
    assert_eq!(h.graph.node_stat("ipip_decap").unwrap().objs, 2);
    // a later packet takes the same way
    let out = h.send_one(PF1, &to_lb(PF1, &a), VF0);
    assert_eq!(out, cat(&[&VM1_MAC.0, &VF0_MAC.0, &[0x08, 0x00], &a]));
    // the other flow goes to the remote target
    let b = client_udp(CLIENT_B, 53, 1234);
    assert_eq!(
        h.send_one(PF0, &to_lb(PF0, &b), PF0),
        forwarded(PF0, T3, &b)
    );
}

#[test]
fn recirculated_tunnel_comes_from_the_lb_underlay() {
    // the metadata at tx is what `cls` read from the recirculated tunnel header
    let mut h = with_lb(&[T2]);
    local_prefix(&mut h, T2);
    let a = client_udp(CLIENT_A, 53, 1234);
    let metas = h.send_meta(PF0, &to_lb(PF0, &a));
    assert_eq!(metas.len(), 1);
    let m = metas[0];
    assert!(m.is_recirc);
    assert_eq!(
        m.in_port, PF0,
        "recirculated as if received on the same uplink"
    );
    assert_eq!(m.tun.ul_src, LB_UL);
    assert_eq!(m.tun.ul_dst, T2);
    assert_eq!(m.vnf_type, crate::hash::vnf_type::LB_ALIAS_PFX);
    assert_eq!(m.nxt_hop, VF0);
}

#[test]
fn ipv6_lb_forwards_with_next_header_41() {
    let mut h = with_lb(&[]);
    h.state
        .create_lb_target(&LoadBalancerTarget {
            loadbalancer_id: "lb6".into(),
            target: IpAddr::V6(T1),
        })
        .unwrap();
    let inner = ipv6_packet(
        Ipv6Addr::new(0x2a00, 0, 0, 0, 0, 0, 0, 5),
        LB_IP6,
        ip_proto::UDP,
        &udp_datagram(53, 1234, b"six"),
    );
    let lb6_ul = h.state.get_load_balancer("lb6").unwrap().underlay_route;
    let outer = ipv6_packet(ROUTER_UL, lb6_ul, ip_proto::IPV6, &inner);
    let frame = eth(PF0_MAC, MacAddr([0xaa; 6]), ethertype::IPV6, &outer);
    let out = h.send_one(PF0, &frame, PF0);
    let len = inner.len() as u16;
    let expect = cat(&[
        &[0; 6],
        &PF0_MAC.0,
        &[0x86, 0xdd, 0x60, 0, 0, 0],
        &len.to_be_bytes(),
        &[41, 64],
        &HOST_UL.octets(),
        &T1.octets(),
        &inner,
    ]);
    assert_eq!(out, expect);
}

fn icmp4(msg_type: u8, ident: u16) -> Vec<u8> {
    let mut m = vec![msg_type, 0, 0, 0];
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    m.extend_from_slice(b"ping");
    let c = crate::wire::checksum::finish(crate::wire::checksum::sum(&m));
    m[2..4].copy_from_slice(&c.to_be_bytes());
    ipv4_packet(CLIENT_A, LB_IP, ip_proto::ICMP, &m)
}

#[test]
fn echo_requests_go_to_packet_relay_other_icmp_is_dropped() {
    let mut h = with_lb(&[]);
    let relay = |h: &Harness| h.graph.node_stat("packet_relay").unwrap().objs;
    // echo requests are answered even without targets: handed to packet_relay, twice
    // (the second time the flow is a plain "default" ICMP flow)
    let before = relay(&h);
    h.send(PF0, &to_lb(PF0, &icmp4(icmpv4::msg_type::ECHO_REQUEST, 7)));
    assert_eq!(relay(&h), before + 1);
    h.send(PF0, &to_lb(PF0, &icmp4(icmpv4::msg_type::ECHO_REQUEST, 7)));
    assert_eq!(relay(&h), before + 2);
    assert_eq!(h.graph.drops(DropReason::LbNoTarget), 0);
    // an echo reply to the LB IP is neither balanced nor answered
    h.send_dropped(
        PF0,
        &to_lb(PF0, &icmp4(icmpv4::msg_type::ECHO_REPLY, 9)),
        DropReason::UnsupportedIcmp,
    );
}

/// An echo request from `src` to `dst` (ICMPv6, identifier 7, sequence 1), checksummed.
fn icmp6_echo(msg_type: u8, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    use crate::wire::checksum;
    let mut m = vec![msg_type, 0, 0, 0, 0, 7, 0, 1];
    m.extend_from_slice(b"ping6");
    let acc = checksum::pseudo_header_v6(&src, &dst, ip_proto::ICMPV6, m.len() as u32)
        + checksum::sum(&m);
    let c = checksum::finish(acc);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    ipv6_packet(src, dst, ip_proto::ICMPV6, &m)
}

/// The answer packet_relay gives: tunnelled from the host's underlay back to the
/// request's outer source (the router), out of the ingress uplink.
fn answered(pf: u16, next_header: u8, inner: &[u8]) -> Vec<u8> {
    let mac = if pf == PF0 { PF0_MAC } else { PF1_MAC };
    // IPv4 inside: its total length; IPv6 inside: its payload + 40; both the whole packet
    let len = inner.len() as u16;
    cat(&[
        &[0; 6],
        &mac.0,
        &[0x86, 0xdd, 0x60, 0, 0, 0],
        &len.to_be_bytes(),
        &[next_header, 64],
        &HOST_UL.octets(),
        &ROUTER_UL.octets(),
        inner,
    ])
}

#[test]
fn echo_to_lb_ip_is_answered_ipv4_and_ipv6() {
    let mut h = with_lb(&[]);
    // IPv4, twice (pytest pings each LB address twice), out of the uplink it came in on
    let reply_icmp = {
        let mut m = vec![icmpv4::msg_type::ECHO_REPLY, 0, 0, 0, 0, 7, 0, 1];
        m.extend_from_slice(b"ping");
        let c = crate::wire::checksum::finish(crate::wire::checksum::sum(&m));
        m[2..4].copy_from_slice(&c.to_be_bytes());
        m
    };
    let reply = ipv4_packet(LB_IP, CLIENT_A, ip_proto::ICMP, &reply_icmp);
    for pf in [PF0, PF0, PF1] {
        let req = icmp4(icmpv4::msg_type::ECHO_REQUEST, 7);
        assert_eq!(
            h.send_one(pf, &to_lb(pf, &req), pf),
            answered(pf, ip_proto::IPIP, &reply)
        );
    }
    // IPv6: type 129, addresses swapped, checksum over the swapped pseudo header
    let client6 = Ipv6Addr::new(0x2a00, 0, 0, 0, 0, 0, 0, 5);
    let lb6_ul = h.state.get_load_balancer("lb6").unwrap().underlay_route;
    let req = icmp6_echo(128, client6, LB_IP6);
    let frame = eth(
        PF0_MAC,
        MacAddr([0xaa; 6]),
        ethertype::IPV6,
        &ipv6_packet(ROUTER_UL, lb6_ul, ip_proto::IPV6, &req),
    );
    for _ in 0..2 {
        assert_eq!(
            h.send_one(PF0, &frame, PF0),
            answered(PF0, ip_proto::IPV6, &icmp6_echo(129, LB_IP6, client6))
        );
    }
}
