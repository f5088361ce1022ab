//! Virtual services through the real daemon (dataplane.md §12): started with
//! `--udp-virtsvc`, a VM's UDP request to the virtual endpoint leaves the uplink as plain
//! IPv6 from the service's underlay address to the service, and the service's reply
//! comes back to the VM as IPv4 from the virtual endpoint.

use super::*;

const VIRTUAL: Ipv4Addr = Ipv4Addr::new(1, 2, 3, 4);
const SERVICE: Ipv6Addr = Ipv6Addr::new(0x2a00, 0xda8, 0xfff6, 0, 0, 0, 0, 1);
/// `--ipv6=fc00:1::1`, first service.
const SERVICE_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0xd0ff, 0x4000, 0, 0);

fn udp6(src: Ipv6Addr, dst: Ipv6Addr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut d = vec![0u8; 8];
    let mut u = udp::Packet::new_unchecked(&mut d[..]);
    u.set_src_port(sport);
    u.set_dst_port(dport);
    u.set_len((8 + data.len()) as u16);
    d.extend_from_slice(data);
    let mut u = udp::Packet::new_unchecked(&mut d[..]);
    u.fill_checksum_v6(&src, &dst);
    ipv6_packet(src, dst, ip_proto::UDP, 64, &d)
}

#[test]
fn udp_virtual_service_request_and_reply() {
    let mut rig = Rig::start(&["--udp-virtsvc=1.2.3.4,5353,2a00:da8:fff6::1,53"]);
    rig.configure();
    let (vm1, vf0, pf0) = (vm_mac(1), port_mac(VF0), port_mac(PF0));
    lease(&mut rig, VF0, vm1);

    // VM -> virtual endpoint: IPv6 on pf0 (--wcmp=100), source port 1025 (first slot)
    let request = eth(
        vf0,
        vm1,
        ethertype::IPV4,
        &ipv4_udp(VM1_IP, VIRTUAL, 12345, 5353, b"question"),
    );
    let out = rig
        .exchange(VF0, &request, PF0, |f| {
            from_mac(pf0)(f) && f.len() > 20 && f[12..14] == [0x86, 0xdd] && f[20] == 17
        })
        .expect("the request did not leave pf0 as IPv6");
    assert_eq!(&out[14..22], &[0x60, 0, 0, 0, 0, 16, 17, 64]);
    assert_eq!(
        &out[22..38],
        &SERVICE_UL.octets(),
        "source: the service underlay"
    );
    assert_eq!(&out[38..54], &SERVICE.octets());
    assert_eq!(&out[54..58], &[0x04, 0x01, 0, 53], "ports 1025 -> 53");
    assert_eq!(&out[62..], b"question");
    let seg = udp::Packet::new_checked(&out[54..]).unwrap();
    assert!(
        seg.verify_checksum_v6(&SERVICE_UL, &SERVICE),
        "UDP checksum"
    );

    // the service answers to port 1025: IPv4 from 1.2.3.4:5353 to the VM's port
    let reply = eth(
        pf0,
        MacAddr([0x02, 0xaa, 0, 0, 0, 1]),
        ethertype::IPV6,
        &udp6(SERVICE, SERVICE_UL, 53, 1025, b"answer"),
    );
    let back = rig
        .exchange(PF0, &reply, VF0, |f| {
            from_mac(vf0)(f) && f.len() > 23 && f[12..14] == [8, 0] && f[23] == 17
        })
        .expect("the reply did not reach the VM");
    assert_eq!(&back[..6], &vm1.0, "to the VM's MAC");
    let ip = ipv4::Packet::new_checked(&back[14..]).unwrap();
    assert!(ip.verify_checksum(), "IPv4 header checksum");
    assert_eq!(ip.src_addr(), VIRTUAL);
    assert_eq!(ip.dst_addr(), VM1_IP);
    assert_eq!(ip.ttl(), 64);
    assert_eq!(ip.total_len(), 20 + 8 + 6);
    let seg = udp::Packet::new_checked(&back[34..]).unwrap();
    assert_eq!((seg.src_port(), seg.dst_port()), (5353, 12345));
    assert!(seg.verify_checksum_v4(VIRTUAL, VM1_IP), "UDP checksum");
    assert_eq!(seg.payload(), b"answer");

    // another VM port gets the next slot
    let request = eth(
        vf0,
        vm1,
        ethertype::IPV4,
        &ipv4_udp(VM1_IP, VIRTUAL, 12346, 5353, b"again"),
    );
    let out = rig
        .exchange(VF0, &request, PF0, |f| {
            from_mac(pf0)(f) && f.len() > 20 && f[12..14] == [0x86, 0xdd] && f[20] == 17
        })
        .expect("the second request did not leave pf0");
    assert_eq!(&out[54..56], &[0x04, 0x02], "port 1026");
}
