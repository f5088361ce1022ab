//! `packet_relay`: neighbour-NAT relay and ICMP echo answers for NAT and load-balancer
//! addresses (dataplane.md §8.3.4, §8.4, §9.4).
//!
//! Both leave through the uplink the packet came in on, tunnelled with the host's
//! underlay address as source (`ipip_encap` picks `--ipv6` for packets from an uplink,
//! quirk 19): a relayed packet unchanged towards the neighbour owning the port range, an
//! echo answer back to the request's outer source.

use std::net::Ipv6Addr;

use crate::flow::nat_kind;
use crate::graph::drop::DropReason;
use crate::graph::nat::rewrite;
use crate::graph::{Ctx, Next, Node};
use crate::port::meta::NatType;
use crate::port::Buf;
use crate::wire::ethernet::ethertype;
use crate::wire::ip_proto;

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    let Some(flow) = cx.flow.as_ref() else {
        return Next::Drop(DropReason::NotHandled);
    };
    if flow.entry.nat_type == nat_kind::NETWORK_NEIGH {
        let m = &mut pkt.meta;
        m.nxt_hop = m.in_port;
        m.nat_type = NatType::ChangeUnderlayDst;
        m.tun.ul_src = m.tun.ul_dst;
        m.tun.ul_dst = Ipv6Addr::from(flow.entry.underlay_dst);
        return Next::Node(Node::IpipEncap);
    }
    let answered = match (pkt.meta.l3_type, pkt.meta.l4_type) {
        (ethertype::IPV4, ip_proto::ICMP) => rewrite::answer_echo_v4(pkt.frame_mut()),
        (ethertype::IPV6, ip_proto::ICMPV6) => rewrite::answer_echo_v6(pkt.frame_mut()),
        _ => false,
    };
    if !answered {
        return Next::Drop(DropReason::NotHandled);
    }
    let m = &mut pkt.meta;
    std::mem::swap(&mut m.src, &mut m.dst);
    m.nxt_hop = m.in_port;
    m.tun.ul_dst = m.tun.ul_src;
    Next::Node(Node::IpipEncap)
}
