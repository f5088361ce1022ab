//! The IPv4 TCP/UDP key path of `conntrack` (built straight from the frame) against the
//! general one: for every packet the direct path takes, the same key, hash, L4 offset,
//! port kind and metadata; everything else is left to the general path.

use std::net::{IpAddr, Ipv4Addr};

use dpservice::model::{CreateLbPrefix, IpPrefix};

use super::harness::*;
use super::nat::{icmp_echo, udp4, with_nat, NAT_IP, PUBLIC};
use crate::graph::nodes::conntrack::{prepare_any, prepare_v4_ports, Staged};
use crate::graph::{DropReason, Next, Node};
use crate::hash::vnf_type;
use crate::port::meta::Meta;
use crate::port::PortId;
use crate::wire::ethernet::ethertype;
use crate::wire::ip_proto;

/// How a packet came out of both paths.
#[derive(Debug)]
enum Compared {
    /// The direct path took it, with the same result as the general one.
    Same,
    /// The direct path left it to the general one (which answered this).
    Declined(Result<Staged, Next>),
}

/// Runs both paths on copies of one packet as `cls` hands it on (`l3_type` set; from an
/// uplink also the tunnel's VNI and VNF type) and compares them.
fn compare(h: &mut Harness, port: PortId, frame: &[u8], tunnel: Option<(u32, u8)>) -> Compared {
    let now = h.now;
    h.graph.with_ctx(&h.state, now, |cx, pool| {
        let mut meta = Meta::received(port, 1);
        meta.l3_type = ethertype::IPV4;
        if let Some((vni, vnf)) = tunnel {
            meta.tun.dst_vni = vni;
            meta.vnf_type = vnf;
        }
        let mut direct = pool.alloc_frame(frame).unwrap();
        let mut general = pool.alloc_frame(frame).unwrap();
        direct.meta = meta;
        general.meta = meta;
        let fast = prepare_v4_ports(cx, &mut direct);
        let slow = prepare_any(cx, &mut general);
        let out = match fast {
            Some(st) => {
                assert_eq!(slow, Ok(st), "key path of {frame:02x?}");
                assert_eq!(direct.meta, general.meta, "metadata of {frame:02x?}");
                Compared::Same
            }
            None => {
                assert_eq!(
                    direct.meta, meta,
                    "a declined packet's metadata was changed"
                );
                Compared::Declined(slow)
            }
        };
        pool.free(direct);
        pool.free(general);
        out
    })
}

fn tcp4(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16) -> Vec<u8> {
    let mut s = vec![0u8; 20];
    s[0..2].copy_from_slice(&sport.to_be_bytes());
    s[2..4].copy_from_slice(&dport.to_be_bytes());
    s[12] = 5 << 4;
    s[13] = 0x02;
    ipv4_packet(src, dst, ip_proto::TCP, &s)
}

fn from(port_mac: crate::wire::ethernet::MacAddr, inner: &[u8]) -> Vec<u8> {
    eth(port_mac, VM1_MAC, ethertype::IPV4, inner)
}

#[test]
fn direct_key_path_matches_the_general_one() {
    let (mut h, _) = with_nat(100, 200);
    let lb = Ipv4Addr::new(172, 22, 2, 9);
    h.state
        .create_lb_prefix(&CreateLbPrefix {
            interface_id: "vm2".into(),
            prefix: IpPrefix::new(IpAddr::V4(lb), 32).unwrap(),
            preferred_underlay: None,
        })
        .unwrap();
    h.state.after_write();

    let taken = [
        // vm1 with its NAT address as source (VNF type NAT), another source, TCP
        (
            VF0,
            from(VF0_MAC, &udp4(VM1_IP, PUBLIC, 4000, 80, b"x")),
            None,
        ),
        (VF0, from(VF0_MAC, &udp4(VM3_IP, PUBLIC, 1, 2, b"")), None),
        (VF0, from(VF0_MAC, &tcp4(VM1_IP, VM2_IP, 5555, 22)), None),
        // vm2 sending from its /32 LB prefix, and from its own address
        (VF1, from(VF1_MAC, &udp4(lb, PUBLIC, 9, 53, b"q")), None),
        (VF1, from(VF1_MAC, &udp4(VM2_IP, NAT_IP, 9, 68, b"q")), None),
        // from an uplink: VNF types kept (NAT, LB prefix) and cleared (interface)
        (
            PF0,
            from(PF0_MAC, &udp4(PUBLIC, NAT_IP, 80, 150, b"r")),
            Some((100, vnf_type::NAT)),
        ),
        (
            PF0,
            from(PF0_MAC, &tcp4(PUBLIC, lb, 80, 9)),
            Some((100, vnf_type::LB_ALIAS_PFX)),
        ),
        (
            PF1,
            from(PF1_MAC, &tcp4(PUBLIC, VM2_IP, 1, 2)),
            Some((7, vnf_type::INTERFACE_IP)),
        ),
    ];
    for (port, frame, tunnel) in &taken {
        assert!(
            matches!(compare(&mut h, *port, frame, *tunnel), Compared::Same),
            "the direct path declined {frame:02x?} from port {port}"
        );
    }

    // left to the general path: DHCP, ICMP, a cut L4 header, a cut IP header, an
    // unknown port
    let dhcp = from(
        VF0_MAC,
        &udp4(Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST, 68, 67, b""),
    );
    let echo = from(
        VF0_MAC,
        &ipv4_packet(VM1_IP, PUBLIC, ip_proto::ICMP, &icmp_echo(8, 1, 1)),
    );
    let full = from(VF0_MAC, &udp4(VM1_IP, PUBLIC, 4000, 80, b""));
    let cut_l4 = full[..14 + 20 + 3].to_vec();
    let cut_ip = full[..14 + 19].to_vec();
    let expected = [
        (VF0, dhcp, Some(Next::Node(Node::Dhcp))),
        (VF0, echo, None),
        (VF0, cut_l4, Some(Next::Drop(DropReason::Malformed))),
        (VF0, cut_ip, Some(Next::Drop(DropReason::Malformed))),
        (9, full, Some(Next::Drop(DropReason::UnknownPort))),
    ];
    for (port, frame, want) in expected {
        match compare(&mut h, port, &frame, None) {
            Compared::Declined(general) => assert_eq!(general.err(), want, "{frame:02x?}"),
            Compared::Same => panic!("the direct path took {frame:02x?} from port {port}"),
        }
    }
}

#[test]
fn a_vf_without_interface_keys_with_vni_zero_on_both_paths() {
    let mut h = Harness::new(pytest_config());
    h.state.delete_interface("vm3").unwrap();
    h.state.after_write();
    let frame = from(VF2_MAC, &udp4(VM3_IP, PUBLIC, 1, 2, b""));
    assert!(matches!(compare(&mut h, VF2, &frame, None), Compared::Same));
}
