//! `firewall`: the verdict is computed once per flow and cached in it, but never enforced
//! (upstream does not either, and tests send to VMs without accepting rules; dataplane.md
//! §10, quirk 1); the node's visible job is the egress choice: a tunnel for uplinks, the
//! VF's tx node otherwise.

use crate::flow;
use crate::graph::drop::DropReason;
use crate::graph::state::{FirewallPacket, Verdict};
use crate::graph::{Ctx, Next, Node};
use crate::port::meta::Meta;
use crate::port::{Buf, PortId};
use crate::wire::ip_proto;

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    let (out_id, out_is_pf) = match cx.ports.get(pkt.meta.nxt_hop) {
        Some(out) => (out.id, out.is_pf()),
        None => return Next::Drop(DropReason::BadOutputPort),
    };
    // the first original-direction packet decides for both directions (§10) and marks
    // the flow as seen by the firewall (§7.5); replies of a flow without a verdict
    // would read "drop"
    if cx
        .flow
        .as_ref()
        .is_some_and(|f| f.is_org() && f.flags() & flow::flags::FIREWALL == 0)
    {
        decide(cx, pkt, out_id, out_is_pf);
    }
    if out_is_pf {
        Next::Node(Node::IpipEncap)
    } else {
        Next::Tx(out_id)
    }
}

/// Computes the flow's verdict (once per flow, so out of the per-packet path).
#[inline(never)]
fn decide(cx: &mut Ctx<'_>, pkt: &Buf, out_id: PortId, out_is_pf: bool) {
    let Some(f) = cx.flow.as_mut() else {
        return;
    };
    let to_vf: Option<PortId> = (!out_is_pf).then_some(out_id);
    let verdict = match cx
        .state
        .firewall_verdict(pkt.meta.in_port, to_vf, &packet(&pkt.meta))
    {
        Verdict::Accept => flow::verdict::ACCEPT,
        Verdict::Drop => flow::verdict::DROP,
    };
    f.update(|e| {
        e.flags |= flow::flags::FIREWALL;
        e.fw_verdict_org = verdict;
        e.fw_verdict_reply = verdict;
    });
}

/// What the rules are matched against.
fn packet(m: &Meta) -> FirewallPacket {
    let (src_port_or_type, dst_port_or_code) = match m.l4_type {
        ip_proto::TCP | ip_proto::UDP => (m.l4.src_port, m.l4.dst_port),
        _ => (u16::from(m.l4.icmp_type), u16::from(m.l4.icmp_code)),
    };
    FirewallPacket {
        src: m.src,
        dst: m.dst,
        protocol: m.l4_type,
        src_port_or_type,
        dst_port_or_code,
    }
}
