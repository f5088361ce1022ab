//! `ipv6_lookup`: IPv6 longest-prefix match in the packet's VNI (dataplane.md §6.5). IPv6
//! tunnel egress always leaves on pf0, as upstream's (quirk 8).

use super::route::{route, Egress};
use crate::graph::{Ctx, Next};
use crate::port::Buf;
use crate::wire::ethernet::ethertype;

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    route(cx, pkt, ethertype::IPV6, Egress::Pf0)
}
