//! The routing step shared by `ipv4_lookup` and `ipv6_lookup` (dataplane.md §6.5, §6.6).

use crate::graph::drop::DropReason;
use crate::graph::meta::FlowType;
use crate::graph::state::RouteTarget;
use crate::graph::{Ctx, Next, Node};
use crate::hash::Uplink;
use crate::port::Buf;
use crate::wire::ethernet;

/// Which uplink carries tunnels of this family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Egress {
    /// IPv4: weighted multipath over pf0/pf1 by flow hash.
    Multipath,
    /// IPv6: always pf0, the port stored with the route (upstream; no failover).
    Pf0,
}

pub(crate) fn route(cx: &mut Ctx<'_>, pkt: &mut Buf, ethertype: u16, egress: Egress) -> Next {
    let m = &pkt.meta;
    let Some(in_port) = cx.ports.get(m.in_port).copied() else {
        return Next::Drop(DropReason::UnknownPort);
    };
    // the VNF's VNI for tunnel ingress, the interface's VNI for VM ingress
    let vni = if in_port.is_pf() {
        m.tun.dst_vni
    } else {
        match cx.state.vf(in_port.id) {
            Some(vf) => vf.vni,
            None => return Next::Drop(DropReason::NoRoute),
        }
    };
    let Some(entry) = cx.state.route_lookup_entry(vni, m.dst) else {
        return Next::Drop(DropReason::NoRoute);
    };
    let flow_type = if entry.prefix.is_empty() {
        FlowType::SouthNorth
    } else {
        FlowType::WestEast
    };
    let (nxt_hop, dst_vni) = match entry.target {
        RouteTarget::Local { port } => {
            let Some(out) = cx.ports.get(port).copied() else {
                return Next::Drop(DropReason::BadOutputPort);
            };
            // the next hop is known: the inner frame goes straight to that VM
            ethernet::emit(pkt.frame_mut(), out.neigh_mac, out.mac, ethertype);
            (port, 0)
        }
        RouteTarget::Uplink {
            nexthop,
            nexthop_vni,
        } => {
            if in_port.is_pf() {
                return Next::Drop(DropReason::PfToPf);
            }
            let (Some(pf0), pf1) = (cx.ports.pf0(), cx.ports.pf1()) else {
                return Next::Drop(DropReason::BadOutputPort);
            };
            let out = match egress {
                Egress::Pf0 => pf0.id,
                Egress::Multipath => {
                    let pf1_up = pf1.is_some_and(|p| p.link_up);
                    match (cx.wcmp.choose(pkt.meta.flow_hash, pf0.link_up, pf1_up), pf1) {
                        (Uplink::Pf1, Some(pf1)) => pf1.id,
                        _ => pf0.id,
                    }
                }
            };
            pkt.meta.tun.ul_dst = nexthop;
            (out, nexthop_vni)
        }
    };
    let m = &mut pkt.meta;
    if !in_port.is_pf() {
        m.tun.dst_vni = dst_vni;
    }
    m.flow_type = flow_type;
    m.nxt_hop = nxt_hop;
    Next::Node(Node::Snat)
}
