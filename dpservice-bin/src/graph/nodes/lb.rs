//! `lb`: load balancing of packets that arrived on a load balancer's underlay address
//! (dataplane.md §9.2). Skipped (straight to `dnat`) while no load balancer exists, which
//! is all this node knows until packet path II brings Maglev forwarding.

use crate::graph::{Ctx, Next, Node};
use crate::port::Buf;

pub(crate) fn process(_cx: &mut Ctx<'_>, _pkt: &mut Buf) -> Next {
    // (packet path II: target selection, recirculation, echo answers)
    Next::Node(Node::Dnat)
}
