//! `ipv4_lookup`: IPv4 longest-prefix match in the packet's VNI (dataplane.md §6.5); tunnel
//! egress spreads over the uplinks by weighted multipath (§6.6).

use super::route::{route, Egress};
use crate::graph::{Ctx, Next};
use crate::port::Buf;
use crate::wire::ethernet::ethertype;

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    route(cx, pkt, ethertype::IPV4, Egress::Multipath)
}
