//! Public-cap metering (dataplane.md §13): a VF over its public cap loses default-route
//! packets in `snat` as `meter_red`; other traffic, other VFs and other NIC types are not
//! metered.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use dpservice::model::Metering;

use super::harness::*;
use crate::graph::state::NicType;
use crate::graph::{DropReason, GraphConfig};
use crate::port::PortId;
use crate::wire::ethernet::{ethertype, MacAddr};
use crate::wire::ip_proto;

const INTERNET: Ipv4Addr = Ipv4Addr::new(8, 8, 8, 8);
const INTERNET6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 8);

/// 8 Mbit/s: CIR 1 MiB/s, CBS 4096 bytes, EBS 8 × 131,072 = 1 MiB.
const PUBLIC_CAP: u64 = 8;

/// vm1 (VF0) with a public cap, default routes to the uplink in VNI 100.
fn metered(nic_type: NicType) -> Harness {
    let cfg = GraphConfig {
        nic_type,
        ..pytest_config()
    };
    let mut h = Harness::with(cfg, |vm1| {
        vm1.metering = Metering {
            total_rate: 100,
            public_rate: PUBLIC_CAP,
        };
    });
    for (prefix, len) in [
        (IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        (IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    ] {
        h.route_to_neighbour(prefix, len);
    }
    h
}

/// An IPv4/UDP frame whose IPv4 packet (what is metered) has 1028 bytes.
fn big4(vm_mac: MacAddr, vf_mac: MacAddr, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let ip = ipv4_packet(src, dst, ip_proto::UDP, &udp_datagram(1, 2, &[0; 1000]));
    assert_eq!(ip.len(), 1028);
    eth(vf_mac, vm_mac, ethertype::IPV4, &ip)
}

/// Sends `frame` until the first packet is dropped (at most `limit`); returns how many
/// went out on `out`.
fn passed_until_red(h: &mut Harness, port: PortId, frame: &[u8], out: PortId, limit: u32) -> u32 {
    for n in 0..limit {
        let before = h.graph.drops(DropReason::MeterRed);
        let sent = h.send(port, frame);
        if sent.is_empty() {
            assert_eq!(h.graph.drops(DropReason::MeterRed), before + 1);
            return n;
        }
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, out);
    }
    limit
}

#[test]
fn a_vf_over_its_public_cap_loses_default_route_packets() {
    let mut h = metered(NicType::Mellanox);
    assert_eq!(h.state.vf(VF0).unwrap().metering.public_rate, PUBLIC_CAP);
    let public = big4(VM1_MAC, VF0_MAC, VM1_IP, INTERNET);
    // at one instant: 3 green packets (3084 of the 4096 committed bytes; the other 1012
    // are too few for one more), then 1020 yellow ones (1,048,560 of the 1 MiB excess)
    assert_eq!(passed_until_red(&mut h, VF0, &public, PF0, 5000), 1023);
    h.send_dropped(VF0, &public, DropReason::MeterRed);

    // west-east traffic of the same VF is not metered
    let local = big4(VM1_MAC, VF0_MAC, VM1_IP, VM2_IP);
    for _ in 0..10 {
        h.send_one(VF0, &local, VF1);
    }
    // another VF (no cap) reaches the default route
    let other = big4(VF1_MAC, VF1_MAC, VM2_IP, INTERNET);
    h.send_one(VF1, &other, PF0);
    // IPv6 packets are measured as 0 bytes (as upstream): they pass a red meter
    let ip6 = ipv6_packet(
        VM1_IP6,
        INTERNET6,
        ip_proto::UDP,
        &udp_datagram(1, 2, &[0; 1000]),
    );
    h.send_one(VF0, &eth(VF0_MAC, VM1_MAC, ethertype::IPV6, &ip6), PF0);

    // one second later, 1 MiB more: the committed bucket refills first (3084 bytes, so
    // 3 green packets again), the remaining 1,045,492 join the excess bucket's 16 bytes
    // (1017 yellow packets)
    h.now += Duration::from_secs(1);
    assert_eq!(passed_until_red(&mut h, VF0, &public, PF0, 5000), 1020);
}

#[test]
fn on_tap_caps_read_back_as_zero_and_nothing_is_metered() {
    let mut h = metered(NicType::Tap);
    let got = h.state.get_interface("vm1").unwrap();
    assert_eq!(got.metering, Metering::default());
    let public = big4(VM1_MAC, VF0_MAC, VM1_IP, INTERNET);
    assert_eq!(passed_until_red(&mut h, VF0, &public, PF0, 1500), 1500);
    assert_eq!(h.graph.drops(DropReason::MeterRed), 0);
}

#[test]
fn a_mellanox_vf_without_a_public_cap_is_not_metered() {
    let cfg = GraphConfig {
        nic_type: NicType::Mellanox,
        ..pytest_config()
    };
    let mut h = Harness::new(cfg);
    h.route_to_neighbour(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
    let public = big4(VM1_MAC, VF0_MAC, VM1_IP, INTERNET);
    assert_eq!(passed_until_red(&mut h, VF0, &public, PF0, 1500), 1500);
}
