//! `ipip_decap`: tunnel termination (dataplane.md §6.4). The outer destination names the
//! object (VNF) the packet is for; that object gives the VNI and the provisional output
//! port.

use crate::graph::drop::DropReason;
use crate::graph::{Ctx, Next, Node};
use crate::port::Buf;
use crate::wire::ipip::{self, Inner};

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    let Some(vnf) = cx.state.vnf_lookup(&pkt.meta.tun.ul_dst) else {
        return Next::Drop(DropReason::UnknownUnderlay);
    };
    // load balancers live on the uplink (upstream registers them on pf0)
    let port_id = match vnf.port {
        Some(p) => p,
        None => match cx.ports.pf0() {
            Some(pf0) => pf0.id,
            None => return Next::Drop(DropReason::BadOutputPort),
        },
    };
    let Some(out) = cx.ports.get(port_id).copied() else {
        return Next::Drop(DropReason::BadOutputPort);
    };
    let Some(inner) = Inner::from_next_header(pkt.meta.tun.proto_id) else {
        return Next::Drop(DropReason::NotTunnel);
    };
    pkt.meta.tun.dst_vni = vnf.vni;
    pkt.meta.vnf_type = vnf.kind.number();
    pkt.meta.nxt_hop = port_id;
    if ipip::decapsulate(pkt, inner, out.neigh_mac, out.mac).is_err() {
        return Next::Drop(DropReason::Malformed);
    }
    Next::Node(Node::Conntrack)
}
