//! `firewall`: the verdict is computed but never enforced upstream (dataplane.md §10); the
//! node's visible job is the egress choice: a tunnel for uplinks, the VF's tx node
//! otherwise.

use crate::flow;
use crate::graph::drop::DropReason;
use crate::graph::{Ctx, Next, Node};
use crate::port::Buf;

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    // the first original-direction packet marks the flow as seen by the firewall (§7.5)
    if let Some(f) = cx.flow.as_mut() {
        if f.is_org() && f.flags() & flow::flags::FIREWALL == 0 {
            f.update(|e| {
                e.flags |= flow::flags::FIREWALL;
                e.fw_verdict_org = flow::verdict::ACCEPT;
                e.fw_verdict_reply = flow::verdict::ACCEPT;
            });
        }
    }
    match cx.ports.get(pkt.meta.nxt_hop) {
        Some(out) if out.is_pf() => Next::Node(Node::IpipEncap),
        Some(out) => Next::Tx(out.id),
        None => Next::Drop(DropReason::BadOutputPort),
    }
}
