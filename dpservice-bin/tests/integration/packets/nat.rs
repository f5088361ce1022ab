//! The NAT gateway through the real daemon (dataplane.md §8.3): a VM with a NAT sends
//! UDP to the Internet, the uplink sees it from the NAT address and port, and the
//! router's answer to the NAT underlay reaches the VM restored.

use dpservice::model::CreateNat;
use dpservice_bin::wire::checksum;

use super::*;

const NAT_IP: Ipv4Addr = Ipv4Addr::new(172, 20, 0, 3);
const PUBLIC: Ipv4Addr = Ipv4Addr::new(45, 86, 6, 106);
const ROUTER_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 0xff);

/// Whether the UDP checksum of an IPv4 packet (20-byte header) is right.
fn udp_checksum_ok(ip: &[u8]) -> bool {
    let p = ipv4::Packet::new_checked(ip).unwrap();
    let seg = p.payload();
    let acc =
        checksum::pseudo_header_v4(p.src_addr(), p.dst_addr(), ip_proto::UDP, seg.len() as u16)
            + checksum::sum(seg);
    checksum::fold(acc) == 0xffff
}

#[test]
fn nat_gateway_translates_out_and_restores_replies() {
    let mut rig = Rig::start(&[]);
    rig.configure();
    let nat_ul = rig.daemon.with_client(|c| async move {
        c.create_route(&Route {
            vni: 100,
            prefix: RequestPrefix::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            nexthop_vni: 100,
            nexthop: IpAddr::V6(ROUTER_UL),
        })
        .await
        .unwrap();
        c.create_nat(&CreateNat {
            interface_id: "vm1".into(),
            ip: IpAddr::V4(NAT_IP),
            min_port: 100,
            max_port: 104,
            preferred_underlay: None,
        })
        .await
        .unwrap()
    });
    let (vm1, vf0) = (vm_mac(1), port_mac(VF0));
    lease(&mut rig, VF0, vm1);

    // VM -> Internet: source NAT IP and the port of §8.3.3 (the first free port from the
    // hash of the port-map key; nothing else uses the range, so that very port)
    let h = dpservice_bin::hash::portmap_hash(100, &IpAddr::V4(VM1_IP), 1025);
    let nat_port = 100 + (h % 4) as u16;
    let out = eth(
        vf0,
        vm1,
        ethertype::IPV4,
        &ipv4_udp(VM1_IP, PUBLIC, 1025, 1234, b"hello"),
    );
    let pf0_mac = port_mac(PF0);
    let tunnel = rig
        .exchange(VF0, &out, PF0, from_mac(pf0_mac))
        .expect("not translated and tunnelled");
    let mut hdr = vec![0x60, 0, 0, 0, 0, 33, 4, 64];
    hdr.extend_from_slice(&VM1_UL.octets());
    hdr.extend_from_slice(&ROUTER_UL.octets());
    assert_eq!(&tunnel[14..54], &hdr[..]);
    let inner = &tunnel[54..];
    let ip = ipv4::Packet::new_checked(inner).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!((ip.src_addr(), ip.dst_addr()), (NAT_IP, PUBLIC));
    let u = udp::Packet::new_checked(ip.payload()).unwrap();
    assert_eq!((u.src_port(), u.dst_port()), (nat_port, 1234));
    assert_eq!(u.payload(), b"hello");
    assert!(udp_checksum_ok(inner));

    // the router answers the NAT IP and port through the NAT underlay
    let back = ipv4_udp(PUBLIC, NAT_IP, 1234, nat_port, b"answer");
    let frame = eth(
        pf0_mac,
        MacAddr([0x02, 0xaa, 0, 0, 0, 1]),
        ethertype::IPV6,
        &ipv6_packet(ROUTER_UL, nat_ul, ip_proto::IPIP, 64, &back),
    );
    let got = rig
        .exchange(PF0, &frame, VF0, from_mac(vf0))
        .expect("reply not restored to the VM");
    assert_eq!(&got[..14], &eth(vm1, vf0, ethertype::IPV4, &[])[..]);
    let ip = ipv4::Packet::new_checked(&got[14..]).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!((ip.src_addr(), ip.dst_addr()), (PUBLIC, VM1_IP));
    let u = udp::Packet::new_checked(ip.payload()).unwrap();
    assert_eq!((u.src_port(), u.dst_port()), (1234, 1025));
    assert_eq!(u.payload(), b"answer");
    assert!(udp_checksum_ok(&got[14..]));

    // an unsolicited packet to the NAT IP (no flow, no neighbour range) goes nowhere
    let stray = eth(
        pf0_mac,
        MacAddr([0x02, 0xaa, 0, 0, 0, 1]),
        ethertype::IPV6,
        &ipv6_packet(
            ROUTER_UL,
            nat_ul,
            ip_proto::IPIP,
            64,
            &ipv4_udp(PUBLIC, NAT_IP, 1234, 100 + ((h + 1) % 4) as u16, b"?"),
        ),
    );
    rig.silence(PF0, &stray, VF0, from_mac(vf0));
}
