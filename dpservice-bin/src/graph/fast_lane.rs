//! The established-flow fast lane: a packet whose conntrack key finds a flow that the
//! walk would pass through unchanged skips the walk's node-by-node dispatch, the copy of
//! its 152-byte entry into the flow cursor and the entry's write-back, and gets the
//! walk's result straight from the stored entry, read in place (a flow cache in the
//! manner of OVS's microflow cache, kept in the conntrack entry itself). The action is
//! the one the walk recorded there: the routing result cached by `route` (first
//! packets of a flow go the slow way and record it), the NAT translation `snat` decided.
//!
//! What it takes from a VM: IPv4 TCP and UDP packets (prepared by `conntrack`: not DHCP,
//! no virtual service; not recirculated) whose flow is stored and
//! - untranslated, or source-translated (VIP, network NAT) in the original direction,
//!   with no destination NAT, LB, NAT64 or forwarding flag and no one-way NAT kind
//!   (`dnat` has nothing to restore; `snat` rewrites from the entry alone);
//! - `DEFAULT` or translated already (`mark_default` changes nothing) and, in the
//!   original direction, judged by the firewall already (`firewall` decides nothing);
//! - for TCP, left in its state and first-SYN direction by the packet's flags (the
//!   state machine's own function says so: SYN, FIN, RST that change the state stay on
//!   the walk);
//! - routed by a result cached in this key's copy at the current `State::version()`
//!   (any control-plane write, a route, interface, NAT, VIP, LB or firewall change,
//!   moves the version on and sends the flow back to the walk once), to an uplink or
//!   to a VM port;
//! - not metered (the public meter marks south-north packets of a VM with a public cap
//!   on a Mellanox NIC; a cap of 0 is none).
//!
//! What it takes from an uplink: decapsulated IPv4 TCP and UDP packets for a VM's own
//! address or prefix (`ipip_decap` chose the VM's port and rewrote the frame; after
//! `conntrack` the walk runs only `firewall`) whose flow is stored, not dropped as
//! one-way, `DEFAULT` or translated, judged by the firewall if in the original
//! direction, with its TCP state kept, to a VM port.
//!
//! Everything else the walk reads it reads too, per packet and from the same places:
//! the port table (uplink link states for WCMP, the router's and VMs' MACs, the ports'
//! own MACs), the VM's interface (its underlay), the WCMP table. Nothing is cached
//! outside the entry, so no port change (link, neighbour MAC, start/stop) can leave a
//! stale action behind, and no port generation is needed.
//!
//! Why the result is the walk's: under these checks `conntrack` (flow found, TCP state
//! kept, not one-way), `dnat` (its first branch), `ipv4_lookup` (cache hit), `snat`
//! (meter passes; the source rewrite by `snat::src_nat_original`, which `snat` itself
//! calls), `firewall` (verdict known) and the end of the walk (`mark_default` and the
//! write-back of the last-seen time only) change nothing but the frame and the packet's
//! metadata, which the lane changes the same way, with the same code where there is
//! code (`route::cached`, `route::multipath_uplink`, `ethernet::emit`,
//! `ipip::encapsulate` with the tunnel `ipip_encap` builds, `tcp::next`), and refreshes
//! the last-seen time under the same rule ([`FlowTable::is_stale`]). The lane counts its
//! packet as a visit of each node the walk would have visited (a drop in `snat` stops
//! there, as the walk does). It is off while tracing (a dump sees every node) and for the
//! timed first packet of a burst (per-node cycles). A packet it declines has been
//! changed in nothing: it goes on through `conntrack`'s lookup with the table's answer
//! for its key (no second search). `graph::tests::fast_lane` feeds the same random
//! bursts to graphs with and without the lane and compares everything observable.

use dpservice::shm::table::Slot;

use crate::config::NicType;
use crate::flow::{flags, nat_kind, tcp, FlowEntry, FlowTable};
use crate::graph::drop::DropReason;
use crate::graph::nodes::conntrack::{self, Staged};
use crate::graph::nodes::{route, snat};
use crate::graph::state::RouteTarget;
use crate::graph::{Ctx, Next, Node};
use crate::hash::vnf_type;
use crate::port::meta::{FlowDir, FlowType};
use crate::port::{Buf, PortId};
use crate::wire::ethernet::{self, ethertype, MacAddr};
use crate::wire::ip_proto;
use crate::wire::ipip::{self, Inner};
use std::net::Ipv6Addr;

/// `conntrack` with the fast lane in front (its visit counted by the caller): the
/// lane's answer, a transmission or a drop, for a packet it takes; the node's for any
/// other. A recirculated packet, which has a flow open, goes through the node alone.
#[inline(never)]
pub(super) fn conntrack(cx: &mut Ctx<'_>, pkt: &mut Buf, visits: &mut [u64; Node::COUNT]) -> Next {
    if cx.flow.is_some() {
        return conntrack::process(cx, pkt);
    }
    // the common case's record straight from its builder: through `prepare`'s `Result`
    // it went via the stack, copied in pieces the CPU cannot forward (a quarter of a
    // packet's time on one flow)
    if let Some(st) = conntrack::prepare_v4_ports(cx, pkt) {
        return take_or_lookup(cx, pkt, &st, visits);
    }
    match conntrack::prepare_any(cx, pkt) {
        Ok(st) => take_or_lookup(cx, pkt, &st, visits),
        Err(next) => next,
    }
}

/// The lane's answer for the prepared packet, else `conntrack`'s with the lane's lookup.
#[inline(always)]
fn take_or_lookup(
    cx: &mut Ctx<'_>,
    pkt: &mut Buf,
    st: &Staged,
    visits: &mut [u64; Node::COUNT],
) -> Next {
    match try_take(cx, pkt, st, visits) {
        Ok(next) => next,
        Err(found) => conntrack::lookup_found(cx, pkt, st, found, None),
    }
}

/// The tunnel of a packet towards an uplink.
#[derive(Clone, Copy)]
struct Tunnel {
    /// The VM's underlay (`ipip_encap`'s outer source for packets from a VM).
    src: Ipv6Addr,
    /// The route's next hop and VNI.
    nexthop: Ipv6Addr,
    vni: u32,
}

/// What the walk would do with the packet, worked out before anything is changed.
struct Plan {
    dir: FlowDir,
    flow_hash: u32,
    flow_type: FlowType,
    /// The flow's source is translated (`snat` rewrites it).
    src_nat: bool,
    /// The output port, with its own MAC and its neighbour's (VM or router).
    out: PortId,
    out_mac: MacAddr,
    out_neigh_mac: MacAddr,
    /// Towards an uplink: the tunnel's source (the VM's underlay), next hop and VNI.
    uplink: Option<Tunnel>,
    /// The entry's last-seen time is to be refreshed.
    stale: bool,
}

/// Takes the prepared packet `pkt` (key and hash in `st`; no flow open) if its flow is
/// one the lane can do, counting its visits of the nodes after `conntrack`, and answers
/// where it goes; else leaves it unchanged and answers the table's slot of its key.
#[inline(always)]
pub(super) fn try_take(
    cx: &mut Ctx<'_>,
    pkt: &mut Buf,
    st: &Staged,
    visits: &mut [u64; Node::COUNT],
) -> Result<Next, Option<Slot>> {
    let found = cx.tables.flows.find_words(st.words(), st.hash());
    let Some(slot) = found else {
        return Err(None);
    };
    if st.is_from_pf() {
        return from_uplink(cx, pkt, st, slot, visits).ok_or(found);
    }
    let Some(plan) = plan(cx, pkt, st, slot) else {
        return Err(found);
    };
    let m = &mut pkt.meta;
    m.flow_hash = plan.flow_hash;
    m.flow_dir = plan.dir;
    m.tun.dst_vni = plan.uplink.as_ref().map_or(0, |t| t.vni);
    m.flow_type = plan.flow_type;
    m.nxt_hop = plan.out;
    #[cfg(test)]
    {
        cx.tables.lane_taken += 1;
    }
    // `dnat` and `ipv4_lookup` ran; the route's local delivery rewrites the Ethernet
    // header: the inner frame goes straight to that VM
    visits[Node::Dnat as usize] += 1;
    visits[Node::Ipv4Lookup as usize] += 1;
    match plan.uplink {
        Some(t) => pkt.meta.tun.ul_dst = t.nexthop,
        None => {
            let (dst, src) = (plan.out_neigh_mac, plan.out_mac);
            ethernet::emit(pkt.frame_mut(), dst, src, ethertype::IPV4);
        }
    }
    // `snat`: the source rewrite of a translated flow, from the stored entry
    visits[Node::Snat as usize] += 1;
    if plan.src_nat {
        let translated = match cx.tables.flows.stored(slot) {
            Some(e) => snat::src_nat_original(pkt, e),
            None => Err(DropReason::NotHandled),
        };
        if let Err(reason) = translated {
            if plan.stale {
                cx.tables.flows.refresh(slot, cx.now_ns);
            }
            return Ok(Next::Drop(reason));
        }
    }
    if plan.stale {
        cx.tables.flows.refresh(slot, cx.now_ns);
    }
    visits[Node::Firewall as usize] += 1;
    match plan.uplink {
        Some(t) => {
            visits[Node::IpipEncap as usize] += 1;
            // `ipip_encap` of a packet from a VM (no recirculation) to an uplink
            let tunnel = ipip::Tunnel {
                dst_mac: plan.out_neigh_mac,
                src_mac: plan.out_mac,
                src: t.src,
                dst: t.nexthop,
            };
            if ipip::encapsulate(pkt, Inner::V4, &tunnel).is_err() {
                return Ok(Next::Drop(DropReason::EncapFailed));
            }
            pkt.meta.tun.proto_id = Inner::V4.next_header();
            Ok(Next::Tx(plan.out))
        }
        None => Ok(Next::Tx(plan.out)),
    }
}

/// A decapsulated packet from an uplink to a VM's own address or prefix: after
/// `conntrack` the walk runs only `firewall` (the output port `ipip_decap` chose, the
/// frame rewritten there already) and ends. Taken, with its visit counted, if neither
/// changes anything but the packet's metadata; `None` (nothing changed) otherwise.
#[inline(never)]
fn from_uplink(
    cx: &mut Ctx<'_>,
    pkt: &mut Buf,
    st: &Staged,
    slot: Slot,
    visits: &mut [u64; Node::COUNT],
) -> Option<Next> {
    let key = st.key();
    // `conntrack` sends these to `firewall`; TCP of an LB VNF is not state-tracked
    if !matches!(
        pkt.meta.vnf_type,
        vnf_type::INTERFACE_IP | vnf_type::ALIAS_PFX | vnf_type::LB_ALIAS_PFX
    ) || key.dst_is_v6 != 0
        || pkt.meta.l3_type != ethertype::IPV4
    {
        return None;
    }
    let e = cx.tables.flows.stored(slot)?;
    let fl = e.flags;
    let org = e.direction == 0;
    let one_way = matches!(e.nat_type, nat_kind::NETWORK_NEIGH | nat_kind::LB_FORWARD);
    // not dropped as one-way, no verdict to take, `mark_default` changes nothing
    if (one_way && !org)
        || (org && fl & flags::FIREWALL == 0)
        || fl & (flags::TRANSLATED | flags::DEFAULT) == 0
    {
        return None;
    }
    if !tcp_state_kept(e, org, key.proto, pkt, st) {
        return None;
    }
    let out = cx.ports.get(pkt.meta.nxt_hop)?;
    if out.is_pf() {
        return None;
    }
    let (out, flow_hash, stale) = (out.id, e.flow_hash, FlowTable::is_stale(e, cx.now_ns));
    let m = &mut pkt.meta;
    m.flow_hash = flow_hash;
    m.flow_dir = if org { FlowDir::Org } else { FlowDir::Reply };
    if stale {
        cx.tables.flows.refresh(slot, cx.now_ns);
    }
    #[cfg(test)]
    {
        cx.tables.lane_taken += 1;
    }
    visits[Node::Firewall as usize] += 1;
    Some(Next::Tx(out))
}

/// Whether `conntrack` leaves a TCP flow's state and first-SYN direction as stored in
/// `e` for this packet (always, for UDP); `false` for other protocols.
#[inline(always)]
fn tcp_state_kept(e: &FlowEntry, org: bool, proto: u8, pkt: &Buf, st: &Staged) -> bool {
    match proto {
        ip_proto::TCP => {
            let tcp_flags = pkt.frame().get(st.l4_at() + 13).copied().unwrap_or(0);
            let dir = if org { tcp::DIR_ORG } else { tcp::DIR_REPLY };
            let now = (e.tcp_state, e.first_syn_dir);
            tcp::next(e.tcp_state, e.first_syn_dir, dir, tcp_flags) == now
        }
        ip_proto::UDP => true,
        _ => false,
    }
}

/// The walk's result for the packet, if the lane may give it (see the module doc).
#[inline(always)]
fn plan(cx: &Ctx<'_>, pkt: &Buf, st: &Staged, slot: Slot) -> Option<Plan> {
    let key = st.key();
    if key.dst_is_v6 != 0 || pkt.meta.l3_type != ethertype::IPV4 {
        return None;
    }
    let e = cx.tables.flows.stored(slot)?;
    let fl = e.flags;
    let org = e.direction == 0;
    // untranslated, or source-translated (VIP, NAT) in the original direction: `dnat`
    // has nothing to restore, `snat` rewrites from the entry alone
    let src_nat = fl & flags::SRC_NAT != 0;
    if fl & flags::TRANSLATED & !flags::SRC_NAT != 0 {
        return None;
    }
    let nat_ok = if src_nat {
        org && matches!(e.nat_type, nat_kind::VIP | nat_kind::NETWORK_LOCAL)
    } else {
        e.nat_type == nat_kind::NONE
    };
    // `mark_default` changes nothing (already default, or translated)
    if !nat_ok || fl & (flags::TRANSLATED | flags::DEFAULT) == 0 {
        return None;
    }
    if org && fl & flags::FIREWALL == 0 {
        return None;
    }
    if !tcp_state_kept(e, org, key.proto, pkt, st) {
        return None;
    }
    // `route` drops packets of a port without interface before its cache
    let vf = cx.state.vf(pkt.meta.in_port)?;
    let (target, flow_type) = route::cached(e, cx.state.version() as u32)?;
    // the public meter marks these (a cap of 0 is none: nothing is marked)
    if flow_type == FlowType::SouthNorth
        && cx.cfg.nic_type == NicType::Mellanox
        && vf.metering.public_rate != 0
    {
        return None;
    }
    let (out, uplink) = match target {
        RouteTarget::Local { port } => {
            let out = cx.ports.get(port)?;
            if out.is_pf() {
                return None;
            }
            (out, None)
        }
        RouteTarget::Uplink {
            nexthop,
            nexthop_vni,
        } => {
            let out = route::multipath_uplink(cx.ports, cx.wcmp, e.flow_hash)?;
            let tunnel = Tunnel {
                src: vf.underlay,
                nexthop,
                vni: nexthop_vni,
            };
            (out, Some(tunnel))
        }
    };
    Some(Plan {
        dir: if org { FlowDir::Org } else { FlowDir::Reply },
        flow_hash: e.flow_hash,
        flow_type,
        src_nat,
        out: out.id,
        out_mac: out.mac,
        out_neigh_mac: out.neigh_mac,
        uplink,
        stale: FlowTable::is_stale(e, cx.now_ns),
    })
}
