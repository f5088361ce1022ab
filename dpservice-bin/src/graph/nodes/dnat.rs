//! `dnat`: destination NAT, NAT reply restore, NAT64 replies (dataplane.md §8). Without the
//! NAT tables (packet path II) every packet continues to the lookup of its family.

use crate::graph::drop::DropReason;
use crate::graph::{Ctx, Next, Node};
use crate::port::Buf;
use crate::wire::ethernet::ethertype;

pub(crate) fn process(_cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    // (packet path II: VIP / network-NAT DNAT, reply restore, relay to packet_relay)
    match pkt.meta.l3_type {
        ethertype::IPV4 => Next::Node(Node::Ipv4Lookup),
        ethertype::IPV6 => Next::Node(Node::Ipv6Lookup),
        _ => Next::Drop(DropReason::Malformed),
    }
}
