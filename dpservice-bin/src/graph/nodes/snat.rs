//! `snat`: metering and VIP / NAT / NAT64 source rewrite (dataplane.md §8, §13), applied
//! only to south-north flows. Without the NAT tables (packet path II) it passes packets on.

use crate::graph::{Ctx, Next, Node};
use crate::port::Buf;

pub(crate) fn process(_cx: &mut Ctx<'_>, _pkt: &mut Buf) -> Next {
    // (packet path II: metering on Mellanox, VIP/NAT/NAT64 source translation)
    Next::Node(Node::Firewall)
}
