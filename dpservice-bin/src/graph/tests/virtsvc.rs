//! Virtual services (dataplane.md §12): requests leave as IPv6 to the service, replies
//! come back to the VM as IPv4 from the virtual endpoint; slot allocation, WCMP, drops,
//! HA messages and interface deletion.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::harness::*;
use crate::config::virtsvc::{VirtsvcProto, VirtsvcSpec, VirtualService};
use crate::graph::sync_outbox::SyncMessage;
use crate::graph::{DropReason, GraphConfig};
use crate::wire::ethernet::{ethertype, MacAddr};
use crate::wire::ip_proto;
use crate::wire::tcp::flags::{ACK, FIN, RST, SYN};

const UDP_VIRTUAL: Ipv4Addr = Ipv4Addr::new(1, 2, 3, 4);
const UDP_SERVICE: Ipv6Addr = Ipv6Addr::new(0x2a00, 0xda8, 0xfff6, 0, 0, 0, 0, 1);
const TCP_VIRTUAL: Ipv4Addr = Ipv4Addr::new(5, 6, 7, 8);
const TCP_SERVICE: Ipv6Addr = Ipv6Addr::new(0x2a00, 0xda8, 0xfff6, 0, 0, 0, 0, 2);
/// `--ipv6=fc00:1::1`: service 0 sends from `fc00:1::d0ff:4000:0:0`, service 1 from
/// `fc00:1::d0ff:4000:100:0`.
const UDP_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0xd0ff, 0x4000, 0, 0);
const TCP_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0xd0ff, 0x4000, 0x100, 0);
const ROUTER: MacAddr = MacAddr([0x02, 0xaa, 0, 0, 0, 1]);

fn services_config(flow_timeout: Duration, wcmp_percent: u8) -> GraphConfig {
    let list = vec![
        VirtualService {
            proto: VirtsvcProto::Udp,
            spec: VirtsvcSpec::parse("1.2.3.4,5353,2a00:da8:fff6::1,53").unwrap(),
        },
        VirtualService {
            proto: VirtsvcProto::Tcp,
            spec: VirtsvcSpec::parse("5.6.7.8,4443,2a00:da8:fff6::2,443").unwrap(),
        },
    ];
    GraphConfig {
        virtual_services_count: list.len(),
        virtual_service_list: list,
        flow_timeout,
        wcmp_percent,
        ..pytest_config()
    }
}

pub(super) fn harness() -> Harness {
    harness_with(Duration::from_secs(30), 100)
}

fn harness_with(flow_timeout: Duration, wcmp_percent: u8) -> Harness {
    let mut h = Harness::new(services_config(flow_timeout, wcmp_percent));
    h.graph.set_neigh_mac(PF0, ROUTER);
    h.graph.set_neigh_mac(PF1, ROUTER);
    h.graph.set_neigh_mac(VF0, VM1_MAC);
    h
}

/// The Internet checksum over `parts`, computed here independently of `wire`.
fn inet_checksum(parts: &[&[u8]]) -> [u8; 2] {
    let bytes: Vec<u8> = parts.concat();
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0)))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    (!(sum as u16)).to_be_bytes()
}

pub(super) fn udp_request(vm_port: u16, payload: &[u8]) -> Vec<u8> {
    let ip = ipv4_packet(
        VM1_IP,
        UDP_VIRTUAL,
        ip_proto::UDP,
        &udp_datagram(vm_port, 5353, payload),
    );
    eth(VF0_MAC, VM1_MAC, ethertype::IPV4, &ip)
}

pub(super) fn udp_reply(dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let mut ip = ipv6_packet(
        UDP_SERVICE,
        UDP_UL,
        ip_proto::UDP,
        &udp_datagram(53, dst_port, payload),
    );
    ip[7] = 60; // hop limit
    eth(PF0_MAC, ROUTER, ethertype::IPV6, &ip)
}

/// A 20-byte TCP header with `flags` (checksum left zero).
fn tcp_segment(sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let mut s = vec![0u8; 20];
    s[0..2].copy_from_slice(&sport.to_be_bytes());
    s[2..4].copy_from_slice(&dport.to_be_bytes());
    s[4..8].copy_from_slice(&7u32.to_be_bytes());
    s[12] = 5 << 4;
    s[13] = flags;
    s[14..16].copy_from_slice(&512u16.to_be_bytes());
    s
}

fn tcp_request(vm_port: u16, flags: u8) -> Vec<u8> {
    let ip = ipv4_packet(
        VM1_IP,
        TCP_VIRTUAL,
        ip_proto::TCP,
        &tcp_segment(vm_port, 4443, flags),
    );
    eth(VF0_MAC, VM1_MAC, ethertype::IPV4, &ip)
}

fn tcp_reply(dst_port: u16, flags: u8) -> Vec<u8> {
    let ip = ipv6_packet(
        TCP_SERVICE,
        TCP_UL,
        ip_proto::TCP,
        &tcp_segment(443, dst_port, flags),
    );
    eth(PF0_MAC, ROUTER, ethertype::IPV6, &ip)
}

/// The translated source port of a request that left as IPv6.
pub(super) fn sport6(frame: &[u8]) -> u16 {
    u16::from_be_bytes([frame[54], frame[55]])
}

#[test]
fn udp_request_leaves_as_ipv6_to_the_service_golden() {
    let mut h = harness();
    let out = h.send_one(VF0, &udp_request(12345, b"payload!"), PF0);
    let udp_len = 16u16.to_be_bytes();
    let mut l4 = [
        &[0x04, 0x01][..], // 1025
        &[0, 53],
        &udp_len,
        &[0, 0],
        b"payload!",
    ]
    .concat();
    let pseudo = [
        &UDP_UL.octets()[..],
        &UDP_SERVICE.octets(),
        &[0, 0, 0, 16, 0, 0, 0, 17],
    ]
    .concat();
    let ck = inet_checksum(&[&pseudo, &l4]);
    l4[6..8].copy_from_slice(&ck);
    let expect = [
        &ROUTER.0[..],
        &PF0_MAC.0,
        &[0x86, 0xdd],
        // version 6, tc 0, flow label 0, payload 16, UDP, hop limit = TTL 64
        &[0x60, 0, 0, 0, 0, 16, 17, 64],
        &[0xfc, 0, 0, 1, 0, 0, 0, 0, 0xd0, 0xff, 0x40, 0, 0, 0, 0, 0],
        &[
            0x2a, 0, 0x0d, 0xa8, 0xff, 0xf6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        ],
        &l4,
    ]
    .concat();
    assert_eq!(out, expect);
    // the region's table holds the connection key → slot
    let key = dpservice::shm::catalogue::VirtsvcKey {
        vf_port_id: VF0,
        vm_port: 12345u16.to_be_bytes(),
        vm_ip: VM1_IP.octets(),
    };
    assert_eq!(h.graph.tables.virtsvc[0].get(&key).map(|v| v.slot), Some(1));
}

#[test]
fn udp_reply_comes_back_as_ipv4_from_the_virtual_endpoint_golden() {
    let mut h = harness();
    h.send_one(VF0, &udp_request(12345, b"payload!"), PF0);
    let out = h.send_one(PF0, &udp_reply(1025, b"answer"), VF0);
    let mut ip = [
        // version/IHL, TOS, total 34, ID 0 (first reply), no fragmentation, TTL = hop
        // limit 60, UDP, checksum, 1.2.3.4 -> 10.100.1.1
        &[0x45, 0, 0, 34, 0, 0, 0, 0, 60, 17, 0, 0][..],
        &UDP_VIRTUAL.octets(),
        &VM1_IP.octets(),
    ]
    .concat();
    let ck = inet_checksum(&[&ip]);
    ip[10..12].copy_from_slice(&ck);
    let mut l4 = [
        &5353u16.to_be_bytes()[..],
        &12345u16.to_be_bytes(),
        &[0, 14, 0, 0],
        b"answer",
    ]
    .concat();
    let pseudo = [&UDP_VIRTUAL.octets()[..], &VM1_IP.octets(), &[0, 17, 0, 14]].concat();
    let ck = inet_checksum(&[&pseudo, &l4]);
    l4[6..8].copy_from_slice(&ck);
    let expect = [&VM1_MAC.0[..], &VF0_MAC.0, &[0x08, 0x00], &ip, &l4].concat();
    assert_eq!(out, expect);
    // the next reply takes the next identification
    let out = h.send_one(PF0, &udp_reply(1025, b"again"), VF0);
    assert_eq!(&out[18..20], &[0, 1]);
}

#[test]
fn slots_are_1025_1026_1027_and_a_connection_keeps_its_own() {
    let mut h = harness();
    for (vm_port, port) in [(12345, 1025), (12346, 1026), (12347, 1027), (12345, 1025)] {
        let out = h.send_one(VF0, &udp_request(vm_port, b"x"), PF0);
        assert_eq!(sport6(&out), port, "VM port {vm_port}");
    }
}

#[test]
fn tcp_slots_age_with_a_short_flow_timeout_as_in_the_fast_timeout_suite() {
    let mut h = harness_with(Duration::from_secs(1), 100);
    // 12345: a connection that ends (transient)
    let out = h.send_one(VF0, &tcp_request(12345, SYN), PF0);
    assert_eq!(sport6(&out), 1025);
    h.send_one(PF0, &tcp_reply(1025, SYN | ACK), VF0);
    h.send_one(VF0, &tcp_request(12345, ACK), PF0);
    h.send_one(VF0, &tcp_request(12345, FIN | ACK), PF0);
    // 12346: established and left open
    let out = h.send_one(VF0, &tcp_request(12346, SYN), PF0);
    assert_eq!(sport6(&out), 1026);
    let back = h.send_one(PF0, &tcp_reply(1026, SYN | ACK), VF0);
    assert_eq!(&back[34..38], &[0x11, 0x5b, 0x30, 0x3a], "4443 -> 12346");
    h.send_one(VF0, &tcp_request(12346, ACK), PF0);
    // after aging the first port is free again, the established one is not
    h.now += Duration::from_secs(2);
    let out = h.send_one(VF0, &tcp_request(12348, SYN), PF0);
    assert_eq!(sport6(&out), 1025);
    h.send_one(VF0, &tcp_request(12348, RST), PF0);
    let out = h.send_one(VF0, &tcp_request(12349, SYN), PF0);
    assert_eq!(sport6(&out), 1027);
    h.send_one(VF0, &tcp_request(12349, RST), PF0);
    h.now += Duration::from_secs(2);
    let out = h.send_one(VF0, &tcp_request(12350, SYN), PF0);
    assert_eq!(sport6(&out), 1025);
}

#[test]
fn tcp_request_ports_and_checksum() {
    let mut h = harness();
    let out = h.send_one(VF0, &tcp_request(40000, SYN), PF0);
    assert_eq!(&out[14..22], &[0x60, 0, 0, 0, 0, 20, 6, 64]);
    assert_eq!(&out[22..38], &TCP_UL.octets());
    assert_eq!(&out[38..54], &TCP_SERVICE.octets());
    assert_eq!(&out[54..58], &[0x04, 0x01, 0x01, 0xbb], "1025 -> 443");
    let pseudo = [
        &TCP_UL.octets()[..],
        &TCP_SERVICE.octets(),
        &[0, 0, 0, 20, 0, 0, 0, 6],
    ]
    .concat();
    assert_eq!(
        inet_checksum(&[&pseudo, &out[54..]]),
        [0, 0],
        "TCP checksum"
    );
}

#[test]
fn wcmp_picks_the_uplink_by_connection_hash_as_pytest() {
    let mut h = harness_with(Duration::from_secs(30), 50);
    for vm_port in [12345, 12346, 12347, 12349, 12350] {
        h.send_one(VF0, &udp_request(vm_port, b"x"), PF0);
    }
    for vm_port in [12348, 12351, 12354, 12355, 12357] {
        let out = h.send_one(VF0, &udp_request(vm_port, b"x"), PF1);
        assert_eq!(&out[6..12], &PF1_MAC.0);
    }
    // pf1 down: its share moves to pf0
    h.graph.set_link(PF1, false);
    h.send_one(VF0, &udp_request(12348, b"x"), PF0);
}

#[test]
fn replies_without_a_connection_are_dropped() {
    let mut h = harness();
    h.send_one(VF0, &udp_request(12345, b"x"), PF0);
    // a slot never used
    h.send_dropped(PF0, &udp_reply(1030, b"x"), DropReason::VirtsvcNoConnection);
    // the fix: ports below 1024 belong to no slot
    h.send_dropped(PF0, &udp_reply(80, b"x"), DropReason::VirtsvcNoConnection);
    h.send_dropped(PF0, &udp_reply(1023, b"x"), DropReason::VirtsvcNoConnection);
    // from the service's address but another port: no reply, no tunnel
    let mut other = udp_reply(1025, b"x");
    other[54..56].copy_from_slice(&54u16.to_be_bytes());
    h.send_dropped(PF0, &other, DropReason::NotTunnel);
}

#[test]
fn other_ports_of_the_virtual_address_are_not_diverted() {
    let mut h = harness();
    let ip = ipv4_packet(
        VM1_IP,
        UDP_VIRTUAL,
        ip_proto::UDP,
        &udp_datagram(12345, 5354, b"x"),
    );
    // no route to 1.2.3.4 in VNI 100: conntrack and routing saw it
    h.send_dropped(
        VF0,
        &eth(VF0_MAC, VM1_MAC, ethertype::IPV4, &ip),
        DropReason::NoRoute,
    );
    // nor TCP to the UDP service's endpoint
    let ip = ipv4_packet(
        VM1_IP,
        UDP_VIRTUAL,
        ip_proto::TCP,
        &tcp_segment(12345, 5353, SYN),
    );
    h.send_dropped(
        VF0,
        &eth(VF0_MAC, VM1_MAC, ethertype::IPV4, &ip),
        DropReason::NoRoute,
    );
}

#[test]
fn without_services_nothing_is_diverted() {
    let mut h = Harness::new(pytest_config());
    h.send_dropped(VF0, &udp_request(12345, b"x"), DropReason::NoRoute);
    h.send_dropped(PF0, &udp_reply(1025, b"x"), DropReason::NotTunnel);
}

#[test]
fn a_new_slot_is_announced_to_the_ha_peer_once() {
    let mut h = harness();
    h.graph.tables.sync.enabled = true;
    h.send_one(VF0, &udp_request(12345, b"x"), PF0);
    h.send_one(VF0, &udp_request(12345, b"x"), PF0);
    let msgs: Vec<_> = h.graph.tables.sync.drain().collect();
    assert_eq!(
        msgs,
        vec![SyncMessage::VirtsvcConnection {
            virtual_addr: UDP_VIRTUAL,
            virtual_port: 5353,
            slot: 1,
            vm_addr: VM1_IP,
            vm_port: 12345,
            port_id: VF0,
            proto: ip_proto::UDP,
        }]
    );
}

#[test]
fn deleting_the_interface_frees_its_connections() {
    let mut h = harness();
    h.send_one(VF0, &udp_request(12345, b"x"), PF0);
    h.send_one(PF0, &udp_reply(1025, b"x"), VF0);
    h.state.delete_interface("vm1").unwrap();
    let purges = h.state.take_flow_purges();
    h.graph.purge_flows(&purges);
    assert!(h.graph.tables.virtsvc[0].is_empty());
    h.send_dropped(PF0, &udp_reply(1025, b"x"), DropReason::VirtsvcNoConnection);
}

#[test]
fn a_standby_takes_over_announced_connections() {
    let mut active = harness();
    active.send_one(VF0, &udp_request(12345, b"x"), PF0);
    active.send_one(VF0, &tcp_request(40000, SYN), PF0);
    let dump = active.graph.virtsvc_sync_dump();
    assert_eq!(dump.len(), 2);
    assert!(dump.contains(&SyncMessage::VirtsvcConnection {
        virtual_addr: TCP_VIRTUAL,
        virtual_port: 4443,
        slot: 1,
        vm_addr: VM1_IP,
        vm_port: 40000,
        port_id: VF0,
        proto: ip_proto::TCP,
    }));

    let mut standby = harness();
    for msg in &dump {
        assert!(standby.graph.open_synced_virtsvc(msg, standby.now));
    }
    // the service's reply reaches the VM, the same connection keeps its port, a new one
    // gets the next
    let back = standby.send_one(PF0, &udp_reply(1025, b"x"), VF0);
    assert_eq!(&back[36..38], &12345u16.to_be_bytes());
    let out = standby.send_one(VF0, &udp_request(12345, b"x"), PF0);
    assert_eq!(sport6(&out), 1025);
    let out = standby.send_one(VF0, &udp_request(12346, b"x"), PF0);
    assert_eq!(sport6(&out), 1026);
    // an unknown endpoint is refused
    let bogus = SyncMessage::VirtsvcConnection {
        virtual_addr: Ipv4Addr::new(9, 9, 9, 9),
        virtual_port: 1,
        slot: 1,
        vm_addr: VM1_IP,
        vm_port: 1,
        port_id: VF0,
        proto: ip_proto::UDP,
    };
    assert!(!standby.graph.open_synced_virtsvc(&bogus, standby.now));
}

#[test]
fn used_ports_count_live_connections_per_service() {
    let mut h = harness_with(Duration::from_secs(1), 100);
    h.send_one(VF0, &udp_request(12345, b"x"), PF0);
    h.send_one(VF0, &udp_request(12346, b"x"), PF0);
    h.send_one(VF0, &tcp_request(40000, SYN), PF0);
    assert_eq!(h.graph.virtsvc_used_ports(h.now), vec![2, 1]);
    assert_eq!(
        h.graph.virtsvc_used_ports(h.now + Duration::from_secs(2)),
        vec![0, 0]
    );
}
