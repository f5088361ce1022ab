//! The NAT gateway through the real daemon (dataplane.md §8.3): a VM with a NAT sends
//! UDP to the Internet, the uplink sees it from the NAT address and port, and the
//! router's answer to the NAT underlay reaches the VM restored. Also: a range with one
//! port exhausted and freed again by aging, echo requests to the NAT IP answered back
//! into the tunnel (§8.4), a port of a neighbour's range relayed unchanged to it
//! (§8.3.4), and NAT64 UDP both ways (§8.5).

use dpservice::model::{CreateNat, NeighborNat};
use dpservice_bin::wire::{checksum, icmpv4};

use super::*;

const NAT_IP: Ipv4Addr = Ipv4Addr::new(172, 20, 0, 3);
const PUBLIC: Ipv4Addr = Ipv4Addr::new(45, 86, 6, 106);
const ROUTER_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 0xff);

/// Whether the UDP checksum of an IPv4 packet (20-byte header) is right.
pub(super) fn udp_checksum_ok(ip: &[u8]) -> bool {
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

    // dpservice-inspect shows the NATed flow and its port in every format (tools.md §2.5)
    let mut golden = String::new();
    for table in ["conntrack", "portmap", "portoverload"] {
        for format in ["human", "table", "csv", "json"] {
            let count = crate::inspect::inspect(&rig.daemon, &["-t", table, "-o", format]);
            let dump = crate::inspect::inspect(&rig.daemon, &["-t", table, "--dump", "-o", format]);
            golden.push_str(&format!(
                "== {table} -o {format}\n{count}{}",
                crate::inspect::sorted_rows(&flows::mask_ages(&dump), format)
            ));
        }
    }
    insta::assert_snapshot!(golden);

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

const ROUTER_MAC: MacAddr = MacAddr([0x02, 0xaa, 0, 0, 0, 1]);
/// The host's own underlay (`--ipv6`): the outer source of answers and relays.
const HOST_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 1);

/// The Rig with default routes (IPv4, IPv6) to the router and a NAT [min, max) on vm1,
/// whose lease is taken; returns the NAT underlay.
fn nat_rig(extra: &[&str], min_port: u16, max_port: u16) -> (Rig, Ipv6Addr) {
    let mut rig = Rig::start(extra);
    rig.configure();
    let nat_ul = rig.daemon.with_client(move |c| async move {
        for prefix in [
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        ] {
            c.create_route(&Route {
                vni: 100,
                prefix: RequestPrefix::new(prefix, 0),
                nexthop_vni: 100,
                nexthop: IpAddr::V6(ROUTER_UL),
            })
            .await
            .unwrap();
        }
        c.create_nat(&CreateNat {
            interface_id: "vm1".into(),
            ip: IpAddr::V4(NAT_IP),
            min_port,
            max_port,
            preferred_underlay: None,
        })
        .await
        .unwrap()
    });
    lease(&mut rig, VF0, vm_mac(1));
    (rig, nat_ul)
}

/// A frame from the router on `pf` carrying `inner` (IPv4) from `outer_src` to `outer_dst`.
fn from_router(pf: usize, outer_src: Ipv6Addr, outer_dst: Ipv6Addr, inner: &[u8]) -> Vec<u8> {
    eth(
        port_mac(pf),
        ROUTER_MAC,
        ethertype::IPV6,
        &ipv6_packet(outer_src, outer_dst, ip_proto::IPIP, 64, inner),
    )
}

/// A tunnelled frame from pf0 whose inner UDP packet comes from the NAT IP to `dst`.
fn natted_to(dst: Ipv4Addr) -> impl Fn(&[u8]) -> bool {
    let pf0 = port_mac(PF0);
    move |f: &[u8]| {
        from_mac(pf0)(f)
            && f.len() >= 54 + 28
            && f[12..14] == [0x86, 0xdd]
            && f[54 + 12..54 + 16] == NAT_IP.octets()
            && f[54 + 16..54 + 20] == dst.octets()
    }
}

/// The inner UDP source port of a tunnelled frame.
fn inner_sport(f: &[u8]) -> u16 {
    u16::from_be_bytes([f[54 + 20], f[54 + 21]])
}

#[test]
fn exhausted_nat_range_sends_nothing_until_aging_frees_the_port() {
    // a range of one port, flows that age after 1 s (§8.3.3, pytest xtratest_flow_timeout)
    let (mut rig, _) = nat_rig(&["--flow-timeout=1"], 100, 101);
    let (vm1, vf0) = (vm_mac(1), port_mac(VF0));
    let from_port = |sport: u16| {
        eth(
            vf0,
            vm1,
            ethertype::IPV4,
            &ipv4_udp(VM1_IP, PUBLIC, sport, 1234, b"hello"),
        )
    };
    let first = rig
        .exchange(VF0, &from_port(1025), PF0, natted_to(PUBLIC))
        .expect("the first flow was not translated");
    assert_eq!(inner_sport(&first), 100);

    // the only port is taken for this destination: a second source gets nothing out
    rig.silence(VF0, &from_port(1026), PF0, natted_to(PUBLIC));

    // once the first flow aged out, the port serves the second source
    let deadline = Instant::now() + Duration::from_secs(6);
    while flows::find(&flows::conntrack(&rig), ip_proto::UDP, VM1_IP, 1025).is_some() {
        assert!(Instant::now() < deadline, "the first flow did not age out");
        std::thread::sleep(Duration::from_millis(100));
    }
    let second = rig
        .exchange(VF0, &from_port(1026), PF0, natted_to(PUBLIC))
        .expect("the freed port was not given to the second flow");
    assert_eq!(inner_sport(&second), 100);
    let ip = ipv4::Packet::new_checked(&second[54..]).unwrap();
    assert!(ip.verify_checksum());
    assert!(udp_checksum_ok(&second[54..]));
}

/// An ICMP echo message (type `kind`) with a valid checksum.
fn icmp_echo(kind: u8, ident: u16, seq: u16) -> Vec<u8> {
    let mut m = vec![kind, 0, 0, 0];
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(b"are you there?");
    icmpv4::Packet::new_unchecked(&mut m[..]).fill_checksum();
    m
}

fn ipv4_icmp(src: Ipv4Addr, dst: Ipv4Addr, icmp: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 20];
    ipv4::Repr {
        src,
        dst,
        protocol: ip_proto::ICMP,
        payload_len: icmp.len() as u16,
        ttl: 61,
        tos: 0,
        ident: 9,
        flags_frag: 0,
    }
    .emit(&mut p);
    p.extend_from_slice(icmp);
    p
}

#[test]
fn echo_to_the_nat_ip_is_answered_back_into_the_tunnel() {
    let (mut rig, nat_ul) = nat_rig(&[], 100, 104);
    let pinger = Ipv6Addr::new(0xfc00, 9, 0, 0, 0, 0, 0, 1);
    // on pf1: the answer leaves the port the request came in on (§8.4)
    let pf1 = port_mac(PF1);
    for seq in [1, 2] {
        let req = ipv4_icmp(PUBLIC, NAT_IP, &icmp_echo(8, 0x77, seq));
        let got = rig
            .exchange(PF1, &from_router(PF1, pinger, nat_ul, &req), PF1, |f| {
                from_mac(pf1)(f) && f.len() > 54 + 20 && f[12..14] == [0x86, 0xdd]
            })
            .unwrap_or_else(|| panic!("echo request {seq} to the NAT IP not answered"));
        let outer = ipv6::Packet::new_checked(&got[14..]).unwrap();
        assert_eq!(outer.next_header(), ip_proto::IPIP);
        assert_eq!(
            (outer.src_addr(), outer.dst_addr()),
            (HOST_UL, pinger),
            "outer: from --ipv6 back to the request's outer source"
        );
        let ip = ipv4::Packet::new_checked(&got[54..]).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!((ip.src_addr(), ip.dst_addr()), (NAT_IP, PUBLIC));
        assert_eq!(ip.ttl(), 61, "TTL unchanged");
        let icmp = icmpv4::Packet::new_checked(ip.payload()).unwrap();
        assert!(icmp.verify_checksum());
        assert_eq!(ip.payload(), &icmp_echo(0, 0x77, seq)[..], "an echo reply");
    }
}

#[test]
fn neighbour_nat_range_leaves_unchanged_towards_the_neighbour() {
    let (mut rig, nat_ul) = nat_rig(&[], 100, 200);
    rig.daemon.with_client(|c| async move {
        c.create_neighbor_nat(&NeighborNat {
            ip: IpAddr::V4(NAT_IP),
            vni: 100,
            min_port: 200,
            max_port: 300,
            underlay_route: NEIGH_UL,
        })
        .await
        .unwrap();
    });
    let pf0 = port_mac(PF0);
    let inbound = ipv4_udp(PUBLIC, NAT_IP, 1234, 250, b"for the neighbour");
    for _ in 0..2 {
        let got = rig
            .exchange(
                PF0,
                &from_router(PF0, ROUTER_UL, nat_ul, &inbound),
                PF0,
                |f| from_mac(pf0)(f) && f.len() > 54 && f[54..] == inbound[..],
            )
            .expect("not relayed towards the neighbour");
        let mut hdr = vec![0x60, 0, 0, 0, 0, inbound.len() as u8, ip_proto::IPIP, 64];
        hdr.extend_from_slice(&HOST_UL.octets());
        hdr.extend_from_slice(&NEIGH_UL.octets());
        assert_eq!(&got[14..54], &hdr[..], "outer header towards the neighbour");
    }
    // a port in no range (neither local nor the neighbour's) goes nowhere
    let stray = ipv4_udp(PUBLIC, NAT_IP, 1234, 300, b"nobody's");
    rig.silence(
        PF0,
        &from_router(PF0, ROUTER_UL, nat_ul, &stray),
        PF0,
        |f| f.len() > 54 && f[54..] == stray[..],
    );
}

#[test]
fn nat64_udp_out_and_back() {
    // `64:ff9b::2d56:66a` is PUBLIC in the NAT64 prefix (§8.5)
    let public64 = Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0x2d56, 0x066a);
    let (mut rig, nat_ul) = nat_rig(&[], 100, 104);
    let (vm1, vf0) = (vm_mac(1), port_mac(VF0));
    let mut dgram = vec![0u8; 8];
    dgram[0..2].copy_from_slice(&5353u16.to_be_bytes());
    dgram[2..4].copy_from_slice(&53u16.to_be_bytes());
    dgram[4..6].copy_from_slice(&13u16.to_be_bytes());
    dgram.extend_from_slice(b"query");
    udp::Packet::new_unchecked(&mut dgram[..]).fill_checksum_v6(&VM1_IP6, &public64);
    let out = eth(
        vf0,
        vm1,
        ethertype::IPV6,
        &ipv6_packet(VM1_IP6, public64, ip_proto::UDP, 64, &dgram),
    );
    let tunnel = rig
        .exchange(VF0, &out, PF0, natted_to(PUBLIC))
        .expect("not translated to IPv4 and tunnelled");
    let outer = ipv6::Packet::new_checked(&tunnel[14..]).unwrap();
    assert_eq!(outer.next_header(), ip_proto::IPIP);
    assert_eq!((outer.src_addr(), outer.dst_addr()), (VM1_UL, ROUTER_UL));
    let h = dpservice_bin::hash::portmap_hash(100, &IpAddr::V6(VM1_IP6), 5353);
    let nat_port = 100 + (h % 4) as u16;
    let ip = ipv4::Packet::new_checked(&tunnel[54..]).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!(ip.ttl(), 64, "TTL = hop limit");
    assert!(udp_checksum_ok(&tunnel[54..]));
    let u = udp::Packet::new_checked(ip.payload()).unwrap();
    assert_eq!((u.src_port(), u.dst_port()), (nat_port, 53));
    assert_eq!(u.payload(), b"query");

    // the answer to the NAT IP and port reaches vm1 as IPv6 from the NAT64 address
    let back = ipv4_udp(PUBLIC, NAT_IP, 53, nat_port, b"answer");
    let got = rig
        .exchange(
            PF0,
            &from_router(PF0, ROUTER_UL, nat_ul, &back),
            VF0,
            from_mac(vf0),
        )
        .expect("the answer was not translated back to the VM");
    assert_eq!(&got[..14], &eth(vm1, vf0, ethertype::IPV6, &[])[..]);
    let ip6 = ipv6::Packet::new_checked(&got[14..]).unwrap();
    assert_eq!((ip6.src_addr(), ip6.dst_addr()), (public64, VM1_IP6));
    assert_eq!(ip6.next_header(), ip_proto::UDP);
    let u = udp::Packet::new_checked(ip6.payload()).unwrap();
    assert!(u.verify_checksum_v6(&ip6.src_addr(), &ip6.dst_addr()));
    assert_eq!((u.src_port(), u.dst_port()), (53, 5353));
    assert_eq!(u.payload(), b"answer");
}
