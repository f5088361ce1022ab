//! `packet_relay`: neighbour-NAT relay and ICMP echo answers for NAT and load-balancer
//! addresses (dataplane.md §8.3.4, §8.4, §9.4). Nothing reaches it until packet path II
//! routes packets here.

use crate::graph::drop::DropReason;
use crate::graph::{Ctx, Next};
use crate::port::Buf;

pub(crate) fn process(_cx: &mut Ctx<'_>, _pkt: &mut Buf) -> Next {
    Next::Drop(DropReason::NotHandled)
}
