//! The routing step shared by `ipv4_lookup` and `ipv6_lookup` (dataplane.md §6.5, §6.6).

use crate::flow::{route_info, FlowEntry, NO_PORT};
use crate::graph::drop::DropReason;
use crate::graph::state::RouteTarget;
use crate::graph::{Ctx, Next, Node};
use crate::graph::{PortState, PortTable};
use crate::port::meta::FlowType;
use crate::port::Buf;
use crate::wcmp::{Uplink, Wcmp};
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
    // the flow's cached result while the state has not changed since, else the tables
    let gen = cx.state.version() as u32;
    let (target, flow_type) = match cx.flow.as_ref().and_then(|f| cached(&f.entry, gen)) {
        Some(hit) => hit,
        None => {
            let Some(entry) = cx.state.route_lookup_entry(vni, m.dst) else {
                return Next::Drop(DropReason::NoRoute);
            };
            let flow_type = if entry.prefix.is_empty() {
                FlowType::SouthNorth
            } else {
                FlowType::WestEast
            };
            if let Some(f) = cx.flow.as_mut() {
                f.update_own(|e| remember(e, gen, &entry.target, flow_type));
            }
            (entry.target, flow_type)
        }
    };
    let (nxt_hop, dst_vni) = match target {
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
            let out = match egress {
                Egress::Pf0 => cx.ports.pf0().map(|p| p.id),
                Egress::Multipath => {
                    multipath_uplink(cx.ports, cx.wcmp, pkt.meta.flow_hash).map(|p| p.id)
                }
            };
            let Some(out) = out else {
                return Next::Drop(DropReason::BadOutputPort);
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

/// The uplink an IPv4 tunnel of flow hash `hash` leaves by: weighted multipath over
/// pf0 and pf1 by their link states (§6.6); `None` without pf0.
#[inline(always)]
pub(in crate::graph) fn multipath_uplink(
    ports: &PortTable,
    wcmp: Wcmp,
    hash: u32,
) -> Option<&PortState> {
    let pf0 = ports.pf0()?;
    let pf1 = ports.pf1();
    let pf1_up = pf1.is_some_and(|p| p.link_up);
    Some(match (wcmp.choose(hash, pf0.link_up, pf1_up), pf1) {
        (Uplink::Pf1, Some(pf1)) => pf1,
        _ => pf0,
    })
}

/// Route target kind bit of `FlowEntry::route_info` (beside the flow module's bits).
const UPLINK: u8 = 0x04;

/// The routing result cached in a flow's copy, if taken at state version `gen`.
#[inline(always)]
pub(in crate::graph) fn cached(e: &FlowEntry, gen: u32) -> Option<(RouteTarget, FlowType)> {
    if e.route_info & route_info::VALID == 0 || e.route_gen != gen {
        return None;
    }
    let target = if e.route_info & UPLINK != 0 {
        RouteTarget::Uplink {
            nexthop: e.route_underlay.into(),
            nexthop_vni: e.route_vni,
        }
    } else {
        RouteTarget::Local { port: e.out_port }
    };
    let flow_type = if e.route_info & route_info::SOUTH_NORTH != 0 {
        FlowType::SouthNorth
    } else {
        FlowType::WestEast
    };
    Some((target, flow_type))
}

/// Caches a routing result in a flow's copy (one direction's).
fn remember(e: &mut FlowEntry, gen: u32, target: &RouteTarget, flow_type: FlowType) {
    let mut info = route_info::VALID;
    if flow_type == FlowType::SouthNorth {
        info |= route_info::SOUTH_NORTH;
    }
    match *target {
        RouteTarget::Local { port } => {
            e.out_port = port;
        }
        RouteTarget::Uplink {
            nexthop,
            nexthop_vni,
        } => {
            info |= UPLINK;
            e.out_port = NO_PORT;
            e.route_underlay = nexthop.octets();
            e.route_vni = nexthop_vni;
        }
    }
    e.route_info = info;
    e.route_gen = gen;
}
