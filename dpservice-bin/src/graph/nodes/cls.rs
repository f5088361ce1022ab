//! `cls`: classification of every received (and recirculated) frame (dataplane.md §4).

use crate::graph::drop::DropReason;
use crate::graph::{Ctx, Next, Node};
use crate::port::Buf;
use crate::wire::ethernet::{ethertype, HEADER_LEN as ETH};
use crate::wire::icmpv6::msg_type;
use crate::wire::{arp, be16, ip_proto, ipv4, ipv4_at, ipv6, ipv6_at};

/// Offset of an ICMPv6 type directly after the fixed IPv6 header.
const ICMPV6_TYPE: usize = ETH + ipv6::HEADER_LEN;
/// Offset of the L4 header after a 20-byte IPv4 header (upstream assumes no options
/// for virtual services, §12).
const V4_L4: usize = ETH + ipv4::HEADER_LEN;
/// Offset of the L4 header directly after the fixed IPv6 header.
const V6_L4: usize = ETH + ipv6::HEADER_LEN;

/// The service whose virtual endpoint an IPv4 TCP/UDP frame from a VM is addressed to.
#[inline]
fn virtsvc_request(cx: &Ctx<'_>, f: &[u8]) -> Option<u16> {
    if f.len() < V4_L4 + 4 {
        return None;
    }
    let proto = f[ETH + 9];
    if proto != ip_proto::TCP && proto != ip_proto::UDP {
        return None;
    }
    cx.tables
        .services
        .match_request(proto, ipv4_at(f, ETH + 16), be16(f, V4_L4 + 2))
}

/// The service an IPv6 frame from an uplink comes from (by protocol, source and port).
#[inline]
fn virtsvc_reply(cx: &Ctx<'_>, f: &[u8]) -> Option<u16> {
    let proto = f[ETH + 6];
    if (proto != ip_proto::TCP && proto != ip_proto::UDP) || f.len() < V6_L4 + 4 {
        return None;
    }
    cx.tables
        .services
        .match_reply(proto, ipv6_at(f, ETH + 8), be16(f, V6_L4))
}

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    // packets enter here from rx, whose metadata is fresh (`Meta::received`: all reset
    // already) or `stale` (a port wrote the mark alone), or recirculated from
    // `ipip_encap`, marked `is_recirc`: only the last two carry an earlier walk's fields
    if pkt.meta.is_recirc || pkt.meta.stale {
        pkt.meta.reset_flow();
    }
    debug_assert_eq!(
        pkt.meta,
        crate::port::meta::Meta {
            is_recirc: pkt.meta.is_recirc,
            ..crate::port::meta::Meta::received(pkt.meta.in_port, pkt.meta.pkt_id)
        },
        "a packet enters cls with its metadata reset"
    );
    // the common case, IPv4 from a VM with no virtual services configured, inline; the
    // rest outlined
    let f = pkt.frame();
    if f.len() >= ETH
        && be16(f, 12) == ethertype::IPV4
        && cx.tables.services.is_empty()
        && cx.ports.get(pkt.meta.in_port).is_some_and(|p| !p.is_pf())
    {
        let len = f.len();
        pkt.meta.l3_type = ethertype::IPV4;
        pkt.meta.l3_payload_length = (len - ETH) as u32;
        return Next::Node(Node::Conntrack);
    }
    classify(cx, pkt)
}

/// Everything but IPv4 from a VM without virtual services.
#[inline(never)]
fn classify(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    let f = pkt.frame();
    if f.len() < ETH {
        return Next::Drop(DropReason::NotEthernet);
    }
    match be16(f, 12) {
        ethertype::ARP => {
            let is_arp = arp::Packet::new_checked(&f[ETH..]).is_ok_and(|a| a.is_ethernet_ipv4());
            return if is_arp {
                Next::Node(Node::Arp)
            } else {
                Next::Drop(DropReason::NotIp)
            };
        }
        ethertype::IPV4 | ethertype::IPV6 => {}
        ethertype::VLAN | ethertype::QINQ => return Next::Drop(DropReason::NotEthernet),
        _ => return Next::Drop(DropReason::NotIp),
    }
    let Some(port) = cx.ports.get(pkt.meta.in_port) else {
        return Next::Drop(DropReason::UnknownPort);
    };
    let from_pf = port.is_pf();

    if be16(f, 12) == ethertype::IPV4 {
        if from_pf {
            return Next::Drop(DropReason::Ipv4FromPf);
        }
        // virtual-service requests are diverted here
        if !cx.tables.services.is_empty() {
            if let Some(index) = virtsvc_request(cx, f) {
                pkt.meta.virtsvc = Some(index);
                return Next::Node(Node::Virtsvc);
            }
        }
        let len = f.len();
        pkt.meta.l3_type = ethertype::IPV4;
        pkt.meta.l3_payload_length = (len - ETH) as u32;
        return Next::Node(Node::Conntrack);
    }

    if f.len() < ETH + ipv6::HEADER_LEN {
        return Next::Drop(DropReason::Malformed);
    }
    let nh = f[ETH + 6];
    let is_nd = nh == ip_proto::ICMPV6
        && f.get(ICMPV6_TYPE)
            .is_some_and(|&t| t == msg_type::NEIGHBOR_SOLICIT || t == msg_type::ROUTER_SOLICIT);
    if !from_pf {
        if is_nd {
            return Next::Node(Node::Ipv6Nd);
        }
        pkt.meta.l3_type = ethertype::IPV6;
        return Next::Node(Node::Conntrack);
    }
    if is_nd {
        return Next::Drop(DropReason::NdFromPf);
    }
    // virtual-service replies are diverted here
    if !cx.tables.services.is_empty() {
        if let Some(index) = virtsvc_reply(cx, f) {
            pkt.meta.virtsvc = Some(index);
            return Next::Node(Node::Virtsvc);
        }
    }
    let inner = match nh {
        ip_proto::IPIP => ethertype::IPV4,
        ip_proto::IPV6 => ethertype::IPV6,
        _ => return Next::Drop(DropReason::NotTunnel),
    };
    let (ul_src, ul_dst) = (ipv6_at(f, ETH + 8), ipv6_at(f, ETH + 24));
    let m = &mut pkt.meta;
    m.l3_type = inner;
    m.tun.l3_type = ethertype::IPV6;
    m.tun.proto_id = nh;
    m.tun.ul_src = ul_src;
    m.tun.ul_dst = ul_dst;
    Next::Node(Node::IpipDecap)
}
