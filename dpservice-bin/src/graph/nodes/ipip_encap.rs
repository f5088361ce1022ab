//! `ipip_encap`: tunnel encapsulation towards the uplink, or back into `cls` for load
//! balancer recirculation (dataplane.md §6.3, §9.3).

use crate::graph::drop::DropReason;
use crate::graph::{Ctx, Next, Node};
use crate::port::meta::NatType;
use crate::port::Buf;
use crate::wire::ethernet::ethertype;
use crate::wire::ipip::{self, Inner, Tunnel};

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    let inner = match pkt.meta.l3_type {
        ethertype::IPV4 => Inner::V4,
        ethertype::IPV6 => Inner::V6,
        _ => return Next::Drop(DropReason::EncapFailed),
    };
    let Some(out) = cx.ports.get(pkt.meta.nxt_hop).copied() else {
        return Next::Drop(DropReason::BadOutputPort);
    };
    let recirc = pkt.meta.nat_type == NatType::LbRecirculate;
    if !recirc && !out.is_pf() {
        return Next::Drop(DropReason::BadOutputPort);
    }
    // outer source: the LB's address when recirculating, else the VM interface's underlay,
    // else (packets from an uplink) the host's
    let src = if recirc {
        pkt.meta.tun.ul_src
    } else {
        cx.state
            .vf(pkt.meta.in_port)
            .map_or(cx.cfg.host_underlay, |vf| vf.underlay)
    };
    let t = Tunnel {
        dst_mac: out.neigh_mac,
        src_mac: out.mac,
        src,
        dst: pkt.meta.tun.ul_dst,
    };
    if ipip::encapsulate(pkt, inner, &t).is_err() {
        return Next::Drop(DropReason::EncapFailed);
    }
    pkt.meta.tun.proto_id = inner.next_header();
    if recirc {
        if pkt.meta.is_recirc {
            return Next::Drop(DropReason::RecirculationLoop);
        }
        pkt.meta.is_recirc = true;
        return Next::Node(Node::Cls);
    }
    Next::Tx(out.id)
}
