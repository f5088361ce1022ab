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
//! timed first packet of a sampled burst (per-node cycles). A packet it declines has
//! been changed in nothing: it goes on through `conntrack`'s lookup with the table's
//! answer for its key (no second search). `graph::tests::fast_lane` feeds the same
//! random bursts to graphs with and without the lane and compares everything observable.
//!
//! Trains: a run whose burst starts with two packets of one flow from one VM port (a
//! bulk transfer; [`is_train`]) keeps the lane's last packet's slot and plan
//! ([`LastFlow`]); the packets after it with the same header bytes skip `cls`'s dispatch,
//! the key, its hash, the search and the plan, and get only the per-packet part
//! ([`train_next`]: metadata, TCP flags, rewrites). Towards an uplink, untranslated, the
//! packets after that replay the result ([`replay_run`]: the outer headers copied, the
//! payload length their own; the run's invariants checked once for all). The first
//! packet of another flow ends the train for the rest of the run. Other runs, and the
//! staged path of large tables, do none of this.
//!
//! A replayed packet keeps the metadata it was received with (its mark, and an earlier
//! packet's rest, `stale`): past the graph a queued packet is read for its frame and
//! mark alone (the port, the tracer's transmit and drop events), so the lane's metadata
//! would be written for no reader, into two cache lines of the header that nothing else
//! of the replay touches (about a tenth of the packet's time on DPDK).

use dpservice::shm::table::Slot;

use crate::config::NicType;
use crate::flow::{flags, nat_kind, tcp, FlowEntry, FlowTable};
use crate::graph::drop::DropReason;
use crate::graph::nodes::conntrack::{self, Staged, V4Ports};
use crate::graph::nodes::{route, snat};
use crate::graph::state::RouteTarget;
use crate::graph::{Ctx, Next, Node};
use crate::hash::vnf_type;
use crate::port::meta::{FlowDir, FlowType};
use crate::port::{Buf, PacketBuf, PortId};
use crate::wire::ethernet::{self, ethertype, MacAddr};
use crate::wire::ip_proto;
use crate::wire::ipip::{self, Inner};
use std::net::Ipv6Addr;

/// `conntrack` with the fast lane in front (its visit counted by the caller): the
/// lane's answer, a transmission or a drop, for a packet it takes; the node's for any
/// other. A recirculated packet, which has a flow open, goes through the node alone.
/// `TRAIN`: the run is a train's ([`is_train`]): a packet the lane takes is kept as its
/// last flow, for the packets after it (`graph::run_train`, which tries those first);
/// else none of that is done (compiled out).
#[inline(never)]
pub(super) fn conntrack<const TRAIN: bool>(
    cx: &mut Ctx<'_>,
    pkt: &mut Buf,
    visits: &mut [u64; Node::COUNT],
) -> Next {
    if cx.flow.is_some() {
        cx.tables.last_flow.forget();
        return conntrack::process(cx, pkt);
    }
    // the common case's record straight from its builder: through `prepare`'s `Result`
    // it went via the stack, copied in pieces the CPU cannot forward (14 % of the
    // worker's profile on one flow)
    // only these are kept as the last flow: a next packet with the same header bytes
    // from the same port has the same key (`prepare_v4_ports` builds it from those
    // bytes and the port)
    if let Some(st) = conntrack::prepare_v4_ports(cx, pkt) {
        return take_or_lookup(cx, pkt, &st, TRAIN, visits);
    }
    cx.tables.last_flow.forget();
    match conntrack::prepare_any(cx, pkt) {
        Ok(st) => take_or_lookup(cx, pkt, &st, false, visits),
        Err(next) => next,
    }
}

/// The lane's answer for the prepared packet (kept as the last flow if `keep`), else
/// `conntrack`'s with the lane's lookup.
#[inline(always)]
fn take_or_lookup(
    cx: &mut Ctx<'_>,
    pkt: &mut Buf,
    st: &Staged,
    keep: bool,
    visits: &mut [u64; Node::COUNT],
) -> Next {
    match try_take(cx, pkt, st, keep, visits) {
        Ok(next) => next,
        Err(found) => conntrack::lookup_found(cx, pkt, st, found, None),
    }
}

/// Whether a run's burst starts as one flow's train: at least two packets, the first two
/// from one port with the same IPv4 protocol, addresses and ports. Only such runs keep
/// the lane's last flow, which costs a burst of many flows a tenth of its time for
/// nothing; the train's run (`graph::run_train`) gives up keeping it at the first packet
/// of another flow. Two packets, not the whole burst: a check of every packet was a pass
/// over all their frames before the walks' own (10 % of the time on DPDK's 4 KiB pages).
pub(super) fn is_train(burst: &[PacketBuf]) -> bool {
    let [first, second, ..] = burst else {
        return false;
    };
    first.meta.in_port == second.meta.in_port
        && V4Ports::of(first.frame()).is_some_and(|h| V4Ports::of(second.frame()) == Some(h))
}

/// The lane's last packet from a VM, within one run of the graph: a packet of the same
/// flow right after it (a burst of one connection, the usual case for bulk traffic) is
/// known to take the lane with the same plan, and skips its key's hash, the table
/// search and the plan. Valid only while nothing but the lane ran since: the graph
/// forgets it at the start of each run and whenever a packet goes anywhere else
/// ([`LastFlow::forget`]), so no table, port or state change can come in between (the
/// lane itself changes only the entry's last-seen time, refreshed once per run:
/// the plan it keeps says not stale).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LastFlow {
    valid: bool,
    in_port: PortId,
    /// Its IPv4 header's protocol and addresses and its L4 ports, as received.
    header: Option<V4Ports>,
    slot: Slot,
    plan: Plan,
}

impl LastFlow {
    /// Something else than the lane ran: the last flow may be stale.
    #[inline(always)]
    pub(crate) fn forget(&mut self) {
        self.valid = false;
    }

    /// The last flow, if one is kept.
    #[inline(always)]
    pub(crate) fn kept(&self) -> Option<&LastFlow> {
        self.valid.then_some(self)
    }
}

/// `cls` and the lane's `conntrack` for a packet of a train's run after the lane kept
/// `last` (a copy of [`Ctx`]'s last flow, still kept): the answer of the lane's repeat,
/// both nodes' visits counted, for a fresh IPv4 frame from `last`'s port with its header
/// bytes (what `cls` sends on to `conntrack` unchanged: `last`'s port is a VM's, and
/// with no virtual services `cls` looks at nothing else). `Err(node)`: the walk takes
/// over at `node` — `cls` (nothing changed) or `conntrack` (`cls` ran and is counted;
/// the repeat declined, the packet is as `conntrack` would find it).
#[inline(always)]
pub(super) fn train_next(
    cx: &mut Ctx<'_>,
    pkt: &mut Buf,
    last: &LastFlow,
    visits: &mut [u64; Node::COUNT],
) -> Result<Next, Node> {
    let header = train_header(cx, pkt, last).ok_or(Node::Cls)?;
    // `cls` (its reset first, if a port stamped the mark alone)
    visits[Node::Cls as usize] += 1;
    if pkt.meta.stale {
        pkt.meta.reset_flow();
    }
    let len = pkt.len();
    pkt.meta.l3_type = ethertype::IPV4;
    pkt.meta.l3_payload_length = (len - ethernet::HEADER_LEN) as u32;
    // the lane's `conntrack`: `prepare_v4_ports`'s metadata, then the repeat
    header.set_meta(&mut pkt.meta);
    let proto = header.proto();
    let next = repeat(
        cx,
        pkt,
        proto,
        conntrack::V4_L4_AT,
        last.slot,
        &last.plan,
        visits,
    )
    .ok_or(Node::Conntrack)?;
    visits[Node::Conntrack as usize] += 1;
    Ok(next)
}

/// The header of a packet that `cls` sends on to the lane's `conntrack` unchanged and
/// that has `last`'s port and header bytes (so its key): a fresh IPv4 frame (`last`'s
/// port is a VM's and, with no virtual services, `cls` looks at nothing else).
#[inline(always)]
fn train_header(cx: &Ctx<'_>, pkt: &Buf, last: &LastFlow) -> Option<V4Ports> {
    let header = last.header?;
    let run_ok = !cx.flow.is_some() && cx.tables.services.is_empty();
    (run_ok && replays(pkt, last.in_port, &header)).then_some(header)
}

/// What the lane did to a packet of a train towards an uplink (untranslated), to do to
/// the packets after it: their outer headers are its outer headers but for the payload
/// length. With source NAT (a rewrite that depends on each packet) or to a VM port there
/// is none.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Replay {
    outer: [u8; ipip::OUTER_LEN],
    out: PortId,
}

impl Replay {
    /// The port the replayed packets leave by.
    #[inline(always)]
    pub(super) fn out(&self) -> PortId {
        self.out
    }

    /// The visits of `n` replayed packets: `cls`, `conntrack` and the nodes the lane
    /// counts for a packet it sends to an uplink untranslated.
    #[inline]
    pub(super) fn count_visits(visits: &mut [u64; Node::COUNT], n: u64) {
        for node in [
            Node::Cls,
            Node::Conntrack,
            Node::Dnat,
            Node::Ipv4Lookup,
            Node::Snat,
            Node::Firewall,
            Node::IpipEncap,
        ] {
            visits[node as usize] += n;
        }
    }

    /// Of a packet [`train_next`] just sent to `next` with `last`'s plan.
    #[inline(always)]
    pub(super) fn of(pkt: &Buf, last: &LastFlow, next: Next) -> Option<Replay> {
        let Next::Tx(out) = next else {
            return None;
        };
        if last.plan.uplink.is_none() || last.plan.src_nat {
            return None;
        }
        Some(Replay {
            outer: *pkt.frame().first_chunk::<{ ipip::OUTER_LEN }>()?,
            out,
        })
    }
}

/// [`train_next`] done as `replay` says for `first` and the packets after it in `rest`,
/// as long as they let it: the same checks (header, TCP state), the same frame, from one
/// copy (the metadata past the mark is left as received: see the module's doc), each
/// packet queued on `out` (the replayed packet's port's transmit queue). The run's
/// invariants (no flow open, no virtual services, the flow's entry) are checked once,
/// not per packet. Returns how many were replayed (the caller
/// counts their visits, [`Replay::count_visits`]) and the first packet that was not,
/// unchanged (`None`: `rest` ran out); [`train_next`] decides for that one.
#[inline(always)]
pub(super) fn replay_run(
    cx: &mut Ctx<'_>,
    last: &LastFlow,
    replay: &Replay,
    first: PacketBuf,
    rest: &mut impl ExactSizeIterator<Item = PacketBuf>,
    out: &mut Vec<PacketBuf>,
) -> (u64, Option<PacketBuf>) {
    let (Some(header), Some(e)) = (last.header, cx.tables.flows.stored(last.slot)) else {
        return (0, Some(first));
    };
    if cx.flow.is_some() || !cx.tables.services.is_empty() {
        return (0, Some(first));
    }
    let org = last.plan.dir == FlowDir::Org;
    out.reserve(rest.len() + 1);
    let mut replayed = 0;
    let mut pkt = first;
    let declined = loop {
        let ok = replays(&pkt, last.in_port, &header)
            && tcp_state_kept(e, org, header.proto(), &pkt, conntrack::V4_L4_AT)
            && replay_one(&mut pkt, replay);
        if !ok {
            break Some(pkt);
        }
        out.push(pkt);
        replayed += 1;
        match rest.next() {
            Some(next) => pkt = next,
            None => break None,
        }
    };
    #[cfg(test)]
    {
        cx.tables.last_flow_taken += replayed;
        cx.tables.lane_taken += replayed;
    }
    (replayed, declined)
}

/// [`train_header`]'s checks of one packet, for a run whose invariants hold (no flow
/// open, no virtual services): a fresh IPv4 frame from `in_port` with the header bytes
/// `header`.
#[inline(always)]
fn replays(pkt: &Buf, in_port: PortId, header: &V4Ports) -> bool {
    let f = pkt.frame();
    !pkt.meta.is_recirc
        && pkt.meta.in_port == in_port
        && f.len() >= ethernet::HEADER_LEN
        && u16::from_be_bytes([f[12], f[13]]) == ethertype::IPV4
        && V4Ports::of(f) == Some(*header)
}

/// The replayed packet's outer headers on `pkt` (with its own payload length); false if
/// the frame has no room for them (nothing changed).
#[inline(always)]
fn replay_one(pkt: &mut Buf, replay: &Replay) -> bool {
    ipip::encapsulate_like(pkt, Inner::V4, &replay.outer).is_ok()
}

/// [`try_take`] for a staged packet, without the lane's last flow: the staged path
/// runs for large tables, where bursts mix many flows; the constant `keep` lets the
/// compiler drop the bookkeeping from this path.
#[inline(always)]
pub(super) fn take_staged(
    cx: &mut Ctx<'_>,
    pkt: &mut Buf,
    st: &Staged,
    visits: &mut [u64; Node::COUNT],
) -> Result<Next, Option<Slot>> {
    try_take(cx, pkt, st, false, visits)
}

/// The lane's answer for a packet of the last flow (`slot`, `plan`), if its TCP flags
/// keep the flow's state; `None` (nothing changed) if not.
#[inline(always)]
fn repeat(
    cx: &mut Ctx<'_>,
    pkt: &mut Buf,
    proto: u8,
    l4_at: usize,
    slot: Slot,
    plan: &Plan,
    visits: &mut [u64; Node::COUNT],
) -> Option<Next> {
    let e = cx.tables.flows.stored(slot)?;
    if !tcp_state_kept(e, plan.dir == FlowDir::Org, proto, pkt, l4_at) {
        return None;
    }
    #[cfg(test)]
    {
        cx.tables.last_flow_taken += 1;
    }
    Some(apply(cx, pkt, slot, plan, visits))
}

/// The tunnel of a packet towards an uplink.
#[derive(Debug, Clone, Copy)]
struct Tunnel {
    /// The VM's underlay (`ipip_encap`'s outer source for packets from a VM).
    src: Ipv6Addr,
    /// The route's next hop and VNI.
    nexthop: Ipv6Addr,
    vni: u32,
}

/// What the walk would do with the packet, worked out before anything is changed.
#[derive(Debug, Clone, Copy, Default)]
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
/// `keep`: a packet it takes is kept as the lane's last flow.
#[inline(always)]
fn try_take(
    cx: &mut Ctx<'_>,
    pkt: &mut Buf,
    st: &Staged,
    keep: bool,
    visits: &mut [u64; Node::COUNT],
) -> Result<Next, Option<Slot>> {
    let found = cx.tables.flows.find_words(st.words(), st.hash());
    let Some(slot) = found else {
        cx.tables.last_flow.forget();
        return Err(None);
    };
    if st.is_from_pf() {
        cx.tables.last_flow.forget();
        return from_uplink(cx, pkt, st, slot, visits).ok_or(found);
    }
    let Some(plan) = plan(cx, pkt, st, slot) else {
        cx.tables.last_flow.forget();
        return Err(found);
    };
    // the header bytes as received (`apply` rewrites the frame)
    let header = if keep { V4Ports::of(pkt.frame()) } else { None };
    let next = apply(cx, pkt, slot, &plan, visits);
    if !keep || !matches!(next, Next::Tx(_)) {
        cx.tables.last_flow.forget();
        return Ok(next);
    }
    cx.tables.last_flow = LastFlow {
        valid: true,
        in_port: pkt.meta.in_port,
        header,
        slot,
        // refreshed by now, if it was stale, with the run's time
        plan: Plan {
            stale: false,
            ..plan
        },
    };
    Ok(next)
}

/// What the lane does with a packet from a VM whose flow is stored at `slot` and which
/// `plan` says the lane may take: the walk's metadata, rewrites and visits.
#[inline(always)]
fn apply(
    cx: &mut Ctx<'_>,
    pkt: &mut Buf,
    slot: Slot,
    plan: &Plan,
    visits: &mut [u64; Node::COUNT],
) -> Next {
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
            return Next::Drop(reason);
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
                return Next::Drop(DropReason::EncapFailed);
            }
            pkt.meta.tun.proto_id = Inner::V4.next_header();
            Next::Tx(plan.out)
        }
        None => Next::Tx(plan.out),
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
    if !tcp_state_kept(e, org, key.proto, pkt, st.l4_at()) {
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
fn tcp_state_kept(e: &FlowEntry, org: bool, proto: u8, pkt: &Buf, l4_at: usize) -> bool {
    match proto {
        ip_proto::TCP => {
            let tcp_flags = pkt.frame().get(l4_at + 13).copied().unwrap_or(0);
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
    if !tcp_state_kept(e, org, key.proto, pkt, st.l4_at()) {
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
