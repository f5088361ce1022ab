//! The VIP (1:1 NAT) through the real daemon (dataplane.md §8.1): vm1's traffic to the
//! Internet leaves from its VIP with fresh checksums, a packet from the Internet to the
//! VIP's underlay reaches vm1 with the VM's address as destination, and vm1's answer to it
//! leaves from the VIP again.

use dpservice::model::CreateVip;

use super::nat::udp_checksum_ok;
use super::*;

const VIP: Ipv4Addr = Ipv4Addr::new(172, 20, 0, 1);
const PUBLIC: Ipv4Addr = Ipv4Addr::new(45, 86, 6, 106);
const ROUTER_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 0xff);
const ROUTER_MAC: MacAddr = MacAddr([0x02, 0xaa, 0, 0, 0, 1]);

/// The inner packet of a tunnel from pf0, checked to come from vm1's underlay to the
/// router.
fn inner_from_vm1(tunnel: &[u8]) -> &[u8] {
    assert_eq!(&tunnel[12..14], &[0x86, 0xdd], "not IPv6");
    let outer = ipv6::Packet::new_checked(&tunnel[14..]).unwrap();
    assert_eq!(outer.next_header(), ip_proto::IPIP);
    assert_eq!((outer.src_addr(), outer.dst_addr()), (VM1_UL, ROUTER_UL));
    &tunnel[54..]
}

/// (source, destination, source port, destination port, payload) of an IPv4/UDP packet
/// whose IPv4 and UDP checksums are both right.
fn udp_fields(ip: &[u8]) -> (Ipv4Addr, Ipv4Addr, u16, u16, Vec<u8>) {
    let p = ipv4::Packet::new_checked(ip).unwrap();
    assert!(p.verify_checksum(), "IPv4 header checksum");
    assert!(udp_checksum_ok(ip), "UDP checksum");
    let u = udp::Packet::new_checked(p.payload()).unwrap();
    (
        p.src_addr(),
        p.dst_addr(),
        u.src_port(),
        u.dst_port(),
        u.payload().to_vec(),
    )
}

#[test]
fn vip_is_the_source_outbound_and_the_target_inbound() {
    let mut rig = Rig::start(&[]);
    rig.configure();
    let vip_ul = rig.daemon.with_client(|c| async move {
        c.create_route(&Route {
            vni: 100,
            prefix: RequestPrefix::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            nexthop_vni: 100,
            nexthop: IpAddr::V6(ROUTER_UL),
        })
        .await
        .unwrap();
        c.create_vip(&CreateVip {
            interface_id: "vm1".into(),
            ip: IpAddr::V4(VIP),
            preferred_underlay: None,
        })
        .await
        .unwrap()
    });
    let (vm1, vf0, pf0) = (vm_mac(1), port_mac(VF0), port_mac(PF0));
    lease(&mut rig, VF0, vm1);

    // VM -> Internet: only the source address changes, both checksums are right
    let out = eth(
        vf0,
        vm1,
        ethertype::IPV4,
        &ipv4_udp(VM1_IP, PUBLIC, 4000, 53, b"query"),
    );
    let tunnel = rig
        .exchange(VF0, &out, PF0, from_mac(pf0))
        .expect("not tunnelled to the router");
    assert_eq!(
        udp_fields(inner_from_vm1(&tunnel)),
        (VIP, PUBLIC, 4000, 53, b"query".to_vec())
    );

    // Internet -> VIP through the VIP's underlay: vm1 gets it addressed to itself
    let inbound = ipv4_udp(PUBLIC, VIP, 5000, 22, b"ssh?");
    let frame = eth(
        pf0,
        ROUTER_MAC,
        ethertype::IPV6,
        &ipv6_packet(ROUTER_UL, vip_ul, ip_proto::IPIP, 64, &inbound),
    );
    let got = rig
        .exchange(PF0, &frame, VF0, from_mac(vf0))
        .expect("not delivered to the VM behind the VIP");
    assert_eq!(&got[..14], &eth(vm1, vf0, ethertype::IPV4, &[])[..]);
    assert_eq!(
        udp_fields(&got[14..]),
        (PUBLIC, VM1_IP, 5000, 22, b"ssh?".to_vec())
    );

    // vm1's answer to that flow leaves from the VIP
    let answer = eth(
        vf0,
        vm1,
        ethertype::IPV4,
        &ipv4_udp(VM1_IP, PUBLIC, 22, 5000, b"ssh!"),
    );
    let tunnel = rig
        .exchange(VF0, &answer, PF0, from_mac(pf0))
        .expect("the answer was not tunnelled");
    assert_eq!(
        udp_fields(inner_from_vm1(&tunnel)),
        (VIP, PUBLIC, 22, 5000, b"ssh!".to_vec())
    );
}
