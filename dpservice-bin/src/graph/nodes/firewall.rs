//! `firewall`: the verdict is computed but never enforced upstream (dataplane.md §10); the
//! node's visible job is the egress choice: a tunnel for uplinks, the VF's tx node
//! otherwise.

use crate::graph::drop::DropReason;
use crate::graph::{Ctx, Next, Node};
use crate::port::Buf;

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    // (packet path II: per-flow verdict from the interface rules, cached in the flow)
    match cx.ports.get(pkt.meta.nxt_hop) {
        Some(out) if out.is_pf() => Next::Node(Node::IpipEncap),
        Some(out) => Next::Tx(out.id),
        None => Next::Drop(DropReason::BadOutputPort),
    }
}
