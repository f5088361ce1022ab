//! The packet graph: named nodes with upstream's names and edges (dataplane.md §3), driven
//! with bursts of packets and the current time. Sans-I/O: the graph never reads a device
//! or a clock; the worker hands it received bursts ([`Graph::rx`]), runs it
//! ([`Graph::run`]) and empties its per-port transmit queues ([`Graph::flush_tx`]).
//! [`crate::datapath::port_set::PortSet`] does exactly that over [`crate::port::Port`]s.
//!
//! Nodes are functions `fn(&mut Ctx, &mut Buf) -> Next` in `nodes/`, one file per node.
//! A burst is walked packet by packet to completion (node after node until a transmit
//! queue or `drop`), which keeps a packet hot in cache and needs no queue between nodes;
//! every node visit is counted (objects per packet, calls per burst), every drop per
//! reason, and every edge is reported to the trace sink while tracing is on.

pub mod config;
pub mod cycles;
pub mod drop;
mod fast_lane;
pub mod ha_sync;
pub(crate) mod nat;
pub mod node;
pub mod ports;
pub mod sync_outbox;
pub mod trace;
pub mod trace_log;
pub mod virtsvc;

mod nodes;

#[cfg(test)]
mod tests;

use std::net::Ipv6Addr;
use std::time::Instant;

pub use config::GraphConfig;
pub use drop::DropReason;
pub use node::{Next, Node, NodeId, NodeStats, TxEdges};
pub use nodes::rx_periodic::MaintenanceTimer;
pub use ports::{GraphPort, PortRole, PortState, PortTable};
pub use trace::{TraceEvent, TraceKind, TraceSink, TraceSwitch};

/// The control-plane state the nodes read (through its packet-path accessors only).
pub(crate) use crate::state;

use crate::flow::{self, CtKey, FlowCursor, FlowEntry, FlowTable};
use crate::port::meta::Meta;
use crate::port::{Buf, PacketBuf, Pool, PortId};
use crate::tables::{FlowTables, TablesError};
use crate::wcmp::Wcmp;
use crate::wire::MacAddr;
use dpservice::shm::catalogue::{
    PortmapKey, PortmapValue, PortoverloadKey, PortoverloadValue, VirtsvcKey, VirtsvcValue,
};
use dpservice::shm::table::TableWriter;
use state::State;
use trace::Tracer;

/// Something the control side must hear about (HA sync of learned VM MACs, §16.2).
///
/// Events are not queued: the graph keeps one "changed" mark per port and reports the
/// port's value at the time of [`Graph::drain_events`], so a VM that changes its MAC a
/// million times costs no memory (ARCHITECTURE.md "The worker thread").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphEvent {
    /// A VF's `neigh_mac` (the VM's MAC) changed.
    NeighMacChanged { port: PortId, mac: MacAddr },
}

/// The stateful tables the packet path owns (all in the shared-memory region, so the
/// tools read the very entries the packets use).
#[derive(Debug)]
pub(crate) struct PathTables {
    /// `conntrack_table`.
    pub flows: FlowTable,
    /// `nat_portmap_table`.
    pub portmap: TableWriter<PortmapKey, PortmapValue>,
    /// `nat_portoverload_table`.
    pub portoverload: TableWriter<PortoverloadKey, PortoverloadValue>,
    /// `virtsvc_table_<i>`, one per virtual service in command-line order.
    pub virtsvc: Vec<TableWriter<VirtsvcKey, VirtsvcValue>>,
    /// Flows removed (aging, purges) whose NAT state must be released, with their
    /// original key; emptied by [`Graph::release_flows`].
    pub released: Vec<(CtKey, FlowEntry)>,
    /// Messages for the HA peer (§16.2).
    pub sync: sync_outbox::SyncOutbox,
    /// NAT ports in use per port, rate-limited warnings (§8.3.3).
    pub nat: nat::NatPorts,
    /// The virtual services with their connection slots (§12); their key → slot
    /// mappings are `virtsvc`.
    pub services: virtsvc::Services,
    /// The fast lane's last packet from a VM in this run (its flow's next packets skip
    /// the search).
    pub(crate) last_flow: fast_lane::LastFlow,
    /// Packets the fast lane took (tests: that the lane was used at all).
    #[cfg(test)]
    pub lane_taken: u64,
    /// Of those, packets it took as its last flow's (tests).
    #[cfg(test)]
    pub last_flow_taken: u64,
}

impl PathTables {
    fn new(t: FlowTables, cfg: &GraphConfig, now: Instant) -> PathTables {
        PathTables {
            flows: FlowTable::new(t.conntrack, cfg.flow_timeout, now),
            portmap: t.portmap,
            portoverload: t.portoverload,
            virtsvc: t.virtsvc,
            released: Vec::new(),
            sync: sync_outbox::SyncOutbox::default(),
            nat: nat::NatPorts::default(),
            services: virtsvc::Services::new(
                &cfg.virtual_service_list,
                cfg.host_underlay,
                virtsvc::Timeouts::from_flow_timeout(cfg.flow_timeout),
                now,
            ),
            last_flow: fast_lane::LastFlow::default(),
            #[cfg(test)]
            lane_taken: 0,
            #[cfg(test)]
            last_flow_taken: 0,
        }
    }

    /// Remembers a removed flow when something besides its keys must go with it.
    fn removed(released: &mut Vec<(CtKey, FlowEntry)>, org: &CtKey, e: &FlowEntry) {
        if e.nat_type == flow::nat_kind::NETWORK_LOCAL {
            released.push((*org, *e));
        }
    }
}

/// How many pool entries one loop turn's share of an aging sweep visits (a sweep of
/// the full 1,020,000-entry pool then takes about 16 turns).
const AGING_BUDGET: usize = 65_536;

/// From how many conntrack keys on a burst is staged (its lookups prefetched before the
/// walks): 16 384 entries of 224 bytes are about the size of a core's L2 cache, beyond
/// which a lookup misses it (measured: the 1 000-flow case loses ~10 % when staged, the
/// 65 536-flow case gains ~1.3x and the 1 000 000-flow case ~2.2x; BENCHMARKS.md
/// "Connection tracking at scale").
const STAGE_FROM_KEYS: usize = 16_384;

/// How many lookups ahead of its own a staged packet's table entry is prefetched
/// (measured at 1M flows: 8 beats 2, 4, 16, 32 and a whole burst ahead; BENCHMARKS.md
/// "Issue 10: 1M flows").
const CHAIN_AHEAD: usize = 8;

/// What nodes see besides the packet.
pub(crate) struct Ctx<'a> {
    pub state: &'a State,
    pub cfg: &'a GraphConfig,
    pub ports: &'a mut PortTable,
    pub consts: &'a nodes::Consts,
    pub wcmp: Wcmp,
    /// Per port slot: the VM MAC changed since the last [`Graph::drain_events`].
    pub neigh_mac_changed: &'a mut [bool],
    pub now: Instant,
    /// `now` as `CLOCK_MONOTONIC` nanoseconds (flow timestamps), taken once per burst.
    pub now_ns: u64,
    /// The stateful tables.
    pub tables: &'a mut PathTables,
    /// The flow of the packet being walked (set by `conntrack`, written back when the
    /// walk ends).
    pub flow: FlowCursor,
}

impl Ctx<'_> {
    /// Writes the current packet's flow back to the table (end of a walk, or a
    /// recirculated packet entering `conntrack` again).
    #[inline]
    pub fn close_flow(&mut self) {
        if let Some(f) = self.flow.as_ref() {
            self.tables.flows.close(f);
            self.flow.clear();
        }
    }

    /// Records the VM's MAC on a VF and marks the port changed (bounded: one mark per
    /// port, whatever the number of changes).
    pub fn learn_neigh_mac(&mut self, port: PortId, mac: MacAddr) {
        if let Some(p) = self.ports.get_mut(port) {
            if p.neigh_mac != mac {
                p.neigh_mac = mac;
                if let Some(mark) = self.neigh_mac_changed.get_mut(usize::from(port)) {
                    *mark = true;
                }
            }
        }
    }
}

/// Queues, counters, the pool and the tracer: everything a packet move touches.
struct Fabric {
    /// Packets received and not yet walked (the input of `cls`).
    entry: Vec<PacketBuf>,
    tx: Vec<Vec<PacketBuf>>,
    stats: Vec<NodeStats>,
    /// Visits of each fixed node by the walks of the burst being run, added to `stats`
    /// when the run ends (a fixed-size array: one add per visit, no bounds check and no
    /// reload of the vector).
    visits: [u64; Node::COUNT],
    names: Vec<String>,
    exists: Vec<bool>,
    drops: [u64; DropReason::COUNT],
    pool: Pool,
    tracer: Tracer,
    slots: usize,
    /// Per-node cycle cost of one packet, from the timed packets (fixed nodes only).
    costs: cycles::NodeCosts,
    /// Packets of the burst being run that wait for their conntrack lookup (kept for
    /// its allocation).
    staged_pkts: Vec<PacketBuf>,
    /// What `conntrack` learnt of each of `staged_pkts`, at the same index (apart from
    /// the packets: the chain prefetch runs over these records alone).
    staged: Vec<nodes::conntrack::Staged>,
    /// The reply keys the chain prefetch made (for records whose chain was empty: new
    /// flows only), with their record's index in `staged`, in index order.
    staged_replies: Vec<(usize, (CtKey, u64))>,
    /// Whether the run under way may use the fast lane.
    lane: bool,
    /// Whether the run under way is one flow's train (`fast_lane::is_train`).
    train: bool,
}

/// How a walk's `conntrack` runs: without the fast lane, with it, or with it and the
/// lane's last flow (a train's run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    Off,
    On,
    Train,
}

impl Fabric {
    /// The fast lane's mode for a walk of the run under way that is not observed.
    #[inline(always)]
    fn lane_mode(&self) -> Lane {
        match (self.lane, self.train) {
            (false, _) => Lane::Off,
            (true, false) => Lane::On,
            (true, true) => Lane::Train,
        }
    }

    #[inline]
    fn rx_id(&self, port: PortId) -> NodeId {
        NodeId((Node::COUNT + usize::from(port)) as u16)
    }

    #[inline]
    fn tx_id(&self, port: PortId) -> NodeId {
        NodeId((Node::COUNT + self.slots + usize::from(port)) as u16)
    }

    #[cold]
    fn trace(
        &mut self,
        kind: TraceKind,
        node: NodeId,
        next: Option<NodeId>,
        pkt: &Buf,
        port: PortId,
    ) {
        let next = next.map(|n| n.0);
        self.tracer
            .point(kind, node.0, next, port, pkt, &self.names);
    }

    #[inline]
    fn drop_pkt(&mut self, from: NodeId, reason: DropReason, pkt: PacketBuf) {
        self.drops[reason.index()] += 1;
        self.stats[Node::Drop.id().index()].objs += 1;
        if self.tracer.active {
            self.trace_drop(from, reason, &pkt);
        }
        self.pool.free(pkt);
    }

    /// The edge into `drop` and the drop event, for the sinks that take them.
    #[cold]
    fn trace_drop(&mut self, from: NodeId, reason: DropReason, pkt: &Buf) {
        if self.tracer.edges {
            self.trace(
                TraceKind::Edge,
                from,
                Some(Node::Drop.id()),
                pkt,
                pkt.meta.in_port,
            );
        }
        if self.tracer.drops {
            let names = &self.names;
            let ev = TraceEvent {
                kind: TraceKind::Drop,
                node: &names[Node::Drop.id().index()],
                next: None,
                port: pkt.meta.in_port,
                pkt_id: pkt.meta.pkt_id,
                drop_reason: Some(reason),
                frame: pkt.frame(),
                node_id: Node::Drop.id().0,
                next_id: None,
            };
            self.tracer.emit(&ev);
        }
    }

    /// The transmit queue of `port`, if the port exists: where [`Fabric::route`] puts a
    /// packet for it (less the edge event, for callers that run untraced).
    #[inline(always)]
    fn tx_queue(&mut self, port: PortId) -> Option<&mut Vec<PacketBuf>> {
        let idx = usize::from(port);
        if idx >= self.slots || !self.exists[self.tx_id(port).index()] {
            return None;
        }
        self.tx.get_mut(idx)
    }

    /// Moves a packet that leaves a node to a transmit queue or `drop` (or, from a
    /// source node, into `cls`).
    #[inline(always)]
    fn route(&mut self, from: NodeId, next: Next, pkt: PacketBuf) {
        match next {
            Next::Node(n) => {
                if self.tracer.edges {
                    self.trace(TraceKind::Edge, from, Some(n.id()), &pkt, pkt.meta.in_port);
                }
                debug_assert_eq!(n, Node::Cls, "only source nodes queue for a node");
                self.entry.push(pkt);
            }
            Next::Tx(port) => {
                let idx = usize::from(port);
                if idx >= self.slots || !self.exists[self.tx_id(port).index()] {
                    self.drop_pkt(from, DropReason::BadOutputPort, pkt);
                    return;
                }
                if self.tracer.edges {
                    let to = self.tx_id(port);
                    self.trace(TraceKind::Edge, from, Some(to), &pkt, pkt.meta.in_port);
                }
                self.tx[idx].push(pkt);
            }
            Next::Drop(reason) => self.drop_pkt(from, reason, pkt),
        }
    }
}

/// The packet graph of one worker.
pub struct Graph {
    cfg: GraphConfig,
    ports: PortTable,
    consts: nodes::Consts,
    wcmp: Wcmp,
    fabric: Fabric,
    /// Per port slot: the learned VM MAC changed since the last [`Graph::drain_events`].
    neigh_mac_changed: Vec<bool>,
    next_pkt_id: u32,
    active: bool,
    tables: PathTables,
    /// From how many conntrack keys on bursts are staged ([`STAGE_FROM_KEYS`]; tests
    /// change it to compare both ways).
    stage_from_keys: usize,
    /// The flow cursor's storage, lent to each run's [`Ctx`] (kept, not rebuilt).
    flow_cursor: FlowCursor,
    /// Whether established flows may take the fast lane (`fast_lane.rs`; tests compare
    /// with and without).
    fast_lane: bool,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("cfg", &self.cfg)
            .field("ports", &self.ports)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl Graph {
    /// A graph for these ports (uplinks and VFs; not the HA sync port), with flow tables
    /// of its own (the daemon hands it the region's with [`Graph::attach_tables`]). It
    /// starts standby (receives nothing) until [`Graph::set_active`].
    pub fn new(cfg: GraphConfig, ports: &[GraphPort]) -> Result<Graph, TablesError> {
        let services = cfg
            .virtual_services_count
            .max(cfg.virtual_service_list.len());
        let tables = FlowTables::private(services, cfg.conntrack_capacity)?;
        Ok(Graph::with_tables(cfg, ports, tables))
    }

    /// A graph over the given flow tables.
    pub fn with_tables(cfg: GraphConfig, ports: &[GraphPort], tables: FlowTables) -> Graph {
        let table = PortTable::new(ports);
        let slots = table.slots();
        let total = Node::COUNT + 2 * slots;
        let mut names = vec![String::new(); total];
        let mut exists = vec![false; total];
        for n in Node::ALL {
            names[n as usize] = n.name().to_owned();
            // `sync` only with --sync-tap (§3.1)
            exists[n as usize] = n != Node::Sync;
        }
        for p in table.iter() {
            let rx = Node::COUNT + usize::from(p.id);
            let tx = Node::COUNT + slots + usize::from(p.id);
            names[rx] = node::rx_node_name(p.id);
            names[tx] = node::tx_node_name(p.id);
            exists[rx] = true;
            exists[tx] = true;
        }
        let fabric = Fabric {
            entry: Vec::with_capacity(cfg.burst_size),
            tx: (0..slots)
                .map(|_| Vec::with_capacity(cfg.burst_size))
                .collect(),
            stats: vec![NodeStats::default(); total],
            visits: [0; Node::COUNT],
            names,
            exists,
            drops: [0; DropReason::COUNT],
            pool: Pool::new(cfg.pool_size),
            tracer: Tracer::new(),
            slots,
            costs: cycles::NodeCosts::default(),
            staged_pkts: Vec::with_capacity(cfg.burst_size),
            staged: Vec::with_capacity(cfg.burst_size),
            staged_replies: Vec::with_capacity(cfg.burst_size),
            lane: false,
            train: false,
        };
        let cfg_copy = cfg.clone();
        Graph {
            consts: nodes::Consts::new(&cfg),
            wcmp: Wcmp::new(cfg.wcmp_percent),
            cfg,
            ports: table,
            fabric,
            neigh_mac_changed: vec![false; slots],
            next_pkt_id: 0,
            active: false,
            tables: PathTables::new(tables, &cfg_copy, Instant::now()),
            stage_from_keys: STAGE_FROM_KEYS,
            flow_cursor: FlowCursor::default(),
            fast_lane: true,
        }
    }

    /// Replaces the graph's flow tables by `tables` (the daemon's, in its region). Flows
    /// in the old tables are forgotten.
    pub fn attach_tables(&mut self, tables: FlowTables) {
        let sync = self.tables.sync.enabled;
        self.tables = PathTables::new(tables, &self.cfg, Instant::now());
        self.tables.sync.enabled = sync;
    }

    /// Stages bursts from `keys` conntrack keys on (tests: 0 stages every burst,
    /// `usize::MAX` none).
    #[cfg(test)]
    pub(crate) fn set_stage_from_keys(&mut self, keys: usize) {
        self.stage_from_keys = keys;
    }

    /// Turns the established-flow fast lane on or off (tests: the walk alone is what
    /// the lane must equal).
    #[cfg(test)]
    pub(crate) fn set_fast_lane(&mut self, on: bool) {
        self.fast_lane = on;
    }

    /// The conntrack table (tests, telemetry).
    pub fn flows(&self) -> &FlowTable {
        &self.tables.flows
    }

    // ---- flow maintenance (called by the worker between bursts) ----

    /// The flow-aging tick (§17.1): starts a sweep, which [`Graph::age_flows`] carries
    /// out a share at a time.
    pub fn start_aging(&mut self) {
        self.tables.flows.start_aging();
    }

    /// One share of a running aging sweep; answers whether the sweep goes on.
    pub fn age_flows(&mut self, now: Instant) -> bool {
        let t = &mut self.tables;
        if !t.flows.aging() {
            return false;
        }
        let released = &mut t.released;
        t.flows.age_step(now, AGING_BUDGET, |org, e| {
            PathTables::removed(released, org, e)
        });
        self.release_flows();
        self.tables.flows.aging()
    }

    /// Removes the flows configuration changes made stale (§7.7).
    pub fn purge_flows(&mut self, purges: &[state::FlowPurge]) {
        if purges.is_empty() {
            return;
        }
        let t = &mut self.tables;
        for p in purges {
            if let state::FlowPurge::Interface { port, .. } = p {
                t.services.release_port(*port, &mut t.virtsvc);
            }
        }
        let released = &mut t.released;
        t.flows.purge(
            |org, e| purges.iter().any(|p| flow::purge::matches(p, org, e)),
            |org, e| PathTables::removed(released, org, e),
        );
        self.release_flows();
    }

    /// Releases what removed flows held besides their keys (NAT ports, §8.3.3).
    fn release_flows(&mut self) {
        let t = &mut self.tables;
        for (org, e) in t.released.drain(..) {
            if let Some((portmap, overload)) =
                nat::ports::release(&mut t.portmap, &mut t.portoverload, &org, &e)
            {
                t.nat.released(e.port_id);
                t.sync
                    .push(sync_outbox::SyncMessage::NatDelete { portmap, overload });
            }
        }
    }

    /// NAT ports in use by flows created on `port` (telemetry
    /// `/dp_service/nat/used_port_count`).
    pub fn nat_used_ports(&self, port: PortId) -> u64 {
        self.tables.nat.used(port)
    }

    // ---- virtual services and HA sync (§12, §16.2) ----

    /// Installs a virtual-service connection the active peer announced (message type
    /// 3); false if no service has that endpoint or the entry does not fit.
    pub fn open_synced_virtsvc(&mut self, msg: &sync_outbox::SyncMessage, now: Instant) -> bool {
        let sync_outbox::SyncMessage::VirtsvcConnection {
            virtual_addr,
            virtual_port,
            slot,
            vm_addr,
            vm_port,
            port_id,
            proto,
        } = *msg
        else {
            return false;
        };
        let t = &mut self.tables;
        let Some(index) = t.services.match_request(proto, virtual_addr, virtual_port) else {
            return false;
        };
        let Some(table) = t.virtsvc.get_mut(usize::from(index)) else {
            return false;
        };
        let key = virtsvc::ConnKey {
            port_id,
            vm_port,
            vm_ip: vm_addr,
        };
        let stamp = t.services.stamp(now);
        t.services
            .open_synced(index, key, slot, stamp, table)
            .is_ok()
    }

    /// Ports in use per virtual service at `now`, in command-line order (telemetry).
    pub fn virtsvc_used_ports(&self, now: Instant) -> Vec<u64> {
        let t = &self.tables;
        let stamp = t.services.stamp(now);
        (0..t.services.len())
            .zip(0u16..)
            .map(|(i, index)| {
                t.virtsvc
                    .get(i)
                    .map_or(0, |table| t.services.used_ports(index, stamp, table))
            })
            .collect()
    }

    /// One message per held virtual-service slot: part of an active instance's answer
    /// to a dump request (§16.2).
    pub fn virtsvc_sync_dump(&self) -> Vec<sync_outbox::SyncMessage> {
        let services = &self.tables.services;
        services
            .connections()
            .filter_map(|(index, slot, conn)| {
                let svc = services.get(index)?;
                Some(sync_outbox::SyncMessage::VirtsvcConnection {
                    virtual_addr: svc.virtual_addr,
                    virtual_port: svc.virtual_port,
                    slot,
                    vm_addr: conn.vm_ip,
                    vm_port: conn.vm_port,
                    port_id: conn.port_id,
                    proto: svc.proto,
                })
            })
            .collect()
    }

    pub fn config(&self) -> &GraphConfig {
        &self.cfg
    }

    // ---- instance and port control (called by the worker between bursts) ----

    /// Active instances receive; standby ones only send periodic frames (§16.1).
    pub fn set_active(&mut self, active: bool) {
        self.active = active;
    }

    pub fn is_active(&self) -> bool {
        self.active
    }

    pub fn ports(&self) -> &PortTable {
        &self.ports
    }

    pub fn port(&self, port: PortId) -> Option<&PortState> {
        self.ports.get(port)
    }

    /// Marks a port started (CreateInterface for a VF): it receives from now on, and its
    /// ARP cycle begins anew. The learned VM MAC is kept (§2.3).
    pub fn start_port(&mut self, port: PortId) -> bool {
        let Some(p) = self.ports.get_mut(port) else {
            return false;
        };
        p.started = true;
        p.arp_done = false;
        true
    }

    /// Marks a port stopped (DeleteInterface).
    pub fn stop_port(&mut self, port: PortId) -> bool {
        let Some(p) = self.ports.get_mut(port) else {
            return false;
        };
        p.started = false;
        true
    }

    /// Link state of an uplink changed (§2.5); VFs are always up.
    pub fn set_link(&mut self, port: PortId, up: bool) {
        if let Some(p) = self.ports.get_mut(port) {
            if p.is_pf() {
                p.link_up = up;
            }
        }
    }

    /// Sets a port's neighbour MAC: the underlay router of a PF (§17.4) or, from HA sync,
    /// the VM behind a VF. No event is reported.
    pub fn set_neigh_mac(&mut self, port: PortId, mac: MacAddr) -> bool {
        let Some(p) = self.ports.get_mut(port) else {
            return false;
        };
        p.neigh_mac = mac;
        true
    }

    /// What changed since the last call: one event per port whose VM MAC changed,
    /// carrying the MAC it has now (older values in between are not reported).
    pub fn drain_events(&mut self) -> impl Iterator<Item = GraphEvent> + '_ {
        let ports = &self.ports;
        self.neigh_mac_changed
            .iter_mut()
            .enumerate()
            .filter_map(move |(idx, changed)| {
                if !std::mem::take(changed) {
                    return None;
                }
                let port = PortId::try_from(idx).ok()?;
                let mac = ports.get(port)?.neigh_mac;
                Some(GraphEvent::NeighMacChanged { port, mac })
            })
    }

    // ---- packets in and out ----

    /// The buffer pool (for ports to receive into).
    pub fn pool_mut(&mut self) -> &mut Pool {
        &mut self.fabric.pool
    }

    fn next_id(&mut self) -> u32 {
        self.next_pkt_id = self.next_pkt_id.wrapping_add(1);
        self.next_pkt_id
    }

    /// The `rx-<port>-0` node: takes a received burst (emptying `pkts`), stamps each packet
    /// and queues it for `cls`.
    pub fn rx(&mut self, port: PortId, pkts: &mut Vec<PacketBuf>) {
        self.rx_in::<false>(port, pkts);
    }

    /// The packet id the next packet received gets (for a port that stamps its packets
    /// itself, [`crate::port::Port::rx_burst_stamped`]).
    pub fn next_rx_pkt_id(&self) -> u32 {
        self.next_pkt_id.wrapping_add(1)
    }

    /// [`Graph::rx`] for a burst the port stamped ([`crate::port::Port::rx_burst_stamped`]
    /// from [`Graph::next_rx_pkt_id`]): the i-th packet has the mark of a packet received
    /// on `port` with id `first id + i` (the rest of its metadata is `cls`'s to reset)
    /// and none is too long, so the burst is queued without touching a packet (one pass
    /// over the buffers less). Traced, or from a port the graph does not know, it goes
    /// the way of [`Graph::rx`].
    pub fn rx_stamped(&mut self, port: PortId, pkts: &mut Vec<PacketBuf>) {
        self.fabric.tracer.refresh();
        if self.fabric.tracer.active || self.ports.get(port).is_none() {
            self.rx_in::<true>(port, pkts);
            return;
        }
        #[cfg(debug_assertions)]
        for (i, pkt) in pkts.iter().enumerate() {
            let id = self.next_pkt_id.wrapping_add(1).wrapping_add(i as u32);
            let m = &pkt.meta;
            let mark = (m.in_port, m.pkt_id, m.is_recirc, m.stale);
            debug_assert_eq!(mark, (port, id, false, true), "a stamped packet");
            debug_assert!(!pkt.is_too_long(), "a stamped packet");
        }
        let rx = self.fabric.rx_id(port);
        let call = self.fabric.costs.io_start(rx.index());
        let n = pkts.len();
        self.next_pkt_id = self.next_pkt_id.wrapping_add(n as u32);
        self.fabric.entry.append(pkts);
        let cycles = self.fabric.costs.io_cycles(call, n as u64);
        let s = &mut self.fabric.stats[rx.index()];
        s.calls += 1;
        s.objs += n as u64;
        s.cycles += cycles;
    }

    #[inline(always)]
    fn rx_in<const STAMPED: bool>(&mut self, port: PortId, pkts: &mut Vec<PacketBuf>) {
        if pkts.is_empty() {
            return;
        }
        self.fabric.tracer.refresh();
        let rx = self.fabric.rx_id(port);
        let call = self.fabric.costs.io_start(rx.index());
        let known = self.ports.get(port).is_some();
        let n = pkts.len() as u64;
        if known {
            let s = &mut self.fabric.stats[rx.index()];
            s.calls += 1;
            s.objs += pkts.len() as u64;
        }
        // rx events per packet, or for the whole burst once it is queued
        let per_packet = self.fabric.tracer.active && !self.fabric.tracer.rx_in_bursts();
        let first = self.fabric.entry.len();
        for mut pkt in pkts.drain(..) {
            self.next_pkt_id = self.next_pkt_id.wrapping_add(1);
            if STAMPED {
                let m = &pkt.meta;
                let mark = (m.in_port, m.pkt_id, m.is_recirc, m.stale);
                let want = (port, self.next_pkt_id, false, true);
                debug_assert_eq!(mark, want, "a stamped packet");
            }
            // a stamped packet's other fields are another packet's: a trace shows them
            pkt.meta = Meta::received(port, self.next_pkt_id);
            if !known {
                self.fabric
                    .drop_pkt(Node::Cls.id(), DropReason::UnknownPort, pkt);
                continue;
            }
            if pkt.is_too_long() {
                // a truncated frame parses as a shorter, valid one: never answer it
                self.fabric.drop_pkt(rx, DropReason::FrameTooLong, pkt);
                continue;
            }
            if per_packet {
                self.fabric.trace(TraceKind::Rx, rx, None, &pkt, port);
            }
            self.fabric.route(rx, Next::Node(Node::Cls), pkt);
        }
        if self.fabric.tracer.active && !per_packet {
            let queued = self.fabric.entry.get(first..).unwrap_or(&[]);
            self.fabric.tracer.rx_burst(rx.0, port, queued);
        }
        let cycles = self.fabric.costs.io_cycles(call, n);
        if known {
            self.fabric.stats[rx.index()].cycles += cycles;
        }
    }

    /// Walks every received packet through the nodes until it is queued for transmission
    /// or dropped. Returns the number of packets walked.
    pub fn run(&mut self, state: &State, now: Instant) -> usize {
        self.fabric.tracer.refresh();
        let stage_from_keys = self.stage_from_keys;
        let mut input = std::mem::take(&mut self.fabric.entry);
        let walked = input.len();
        // a node's calls count bursts it saw packets in: compare objects before and after
        let mut before = [0u64; Node::COUNT];
        for (b, s) in before.iter_mut().zip(&self.fabric.stats) {
            *b = s.objs;
        }
        let lane_on = self.fast_lane;
        // the state, ports and tables may have changed since the last run
        self.tables.last_flow.forget();
        let (mut cx, fabric) = self.split(state, now);
        // the first packet of a sampled burst is timed node by node (cycles.rs)
        let mut timed = fabric.costs.sample_due();
        // a dump sees every node: no fast lane while tracing
        fabric.lane = lane_on && !fabric.tracer.active;
        if fabric.tracer.active || cx.tables.flows.len() < stage_from_keys {
            // traced: each packet walked alone, its events in one piece; a small table
            // stays in the caches, where staging costs more than it saves
            fabric.train = fabric.lane && fast_lane::is_train(&input);
            if fabric.train {
                run_train(fabric, &mut cx, &mut input, timed);
            } else {
                for pkt in input.drain(..) {
                    walk(fabric, &mut cx, pkt, Node::Cls, None, timed, false);
                    timed = false;
                }
            }
            fabric.train = false;
        } else {
            // staged: every packet up to its conntrack lookup, prefetching where its key
            // lives, then the lookups and the rest of the walks; the table's cache misses
            // of a burst overlap instead of one following the other
            let mut pkts = std::mem::take(&mut fabric.staged_pkts);
            let mut staged = std::mem::take(&mut fabric.staged);
            let mut replies = std::mem::take(&mut fabric.staged_replies);
            // only a burst's first packet is timed: whether it was staged (as the first)
            let mut timed_staged = false;
            let mut prepare_cycles = 0;
            for pkt in input.drain(..) {
                let mut at = if timed || fabric.tracer.edges {
                    walk(fabric, &mut cx, pkt, Node::Cls, None, timed, true)
                } else {
                    // most packets go from `cls` straight to `conntrack`: no walk loop
                    cls_to_conntrack(fabric, &mut cx, pkt)
                };
                while let Some(mut pkt) = at.take() {
                    fabric.visits[Node::Conntrack as usize] += 1;
                    let t0 = if timed { fabric.costs.start() } else { 0 };
                    let prepared = nodes::conntrack::prepare(&cx, &mut pkt);
                    if timed {
                        prepare_cycles = fabric.costs.since(t0);
                    }
                    match prepared {
                        Ok(st) => {
                            st.prefetch(&cx.tables.flows);
                            timed_staged |= timed;
                            staged.push(st);
                            pkts.push(pkt);
                        }
                        Err(next) => {
                            at = walk(
                                fabric,
                                &mut cx,
                                pkt,
                                Node::Conntrack,
                                Some(next),
                                timed,
                                true,
                            );
                        }
                    }
                }
                timed = false;
            }
            // each entry is prefetched a few lookups before its own: early enough to
            // arrive, late enough to stay cached (the heads are cached by now)
            for (i, st) in staged.iter().enumerate().take(CHAIN_AHEAD) {
                if let Some(reply) = st.prefetch_chain(&cx.tables.flows) {
                    replies.push((i, reply));
                }
            }
            // the next of `replies` to hand out
            let mut next_reply = 0;
            for (i, mut pkt) in pkts.drain(..).enumerate() {
                let ahead = i + CHAIN_AHEAD;
                if let Some(st) = staged.get(ahead) {
                    if let Some(reply) = st.prefetch_chain(&cx.tables.flows) {
                        replies.push((ahead, reply));
                    }
                }
                let reply = match replies.get(next_reply) {
                    Some(&(at, reply)) if at == i => {
                        next_reply += 1;
                        Some(reply)
                    }
                    _ => None,
                };
                let Some(st) = staged.get(i) else {
                    // one record per packet: never
                    fabric.drop_pkt(Node::Conntrack.id(), DropReason::NotHandled, pkt);
                    continue;
                };
                let timed = timed_staged && i == 0;
                if fabric.lane && !timed {
                    lane_or_walk(fabric, &mut cx, pkt, st, reply);
                    continue;
                }
                let t0 = if timed { fabric.costs.start() } else { 0 };
                let next = nodes::conntrack::lookup(&mut cx, &mut pkt, st, reply);
                if timed {
                    let started = t0.saturating_sub(prepare_cycles);
                    fabric.costs.sample(Node::Conntrack, started);
                }
                walk(
                    fabric,
                    &mut cx,
                    pkt,
                    Node::Conntrack,
                    Some(next),
                    timed,
                    false,
                );
            }
            staged.clear();
            replies.clear();
            fabric.staged = staged;
            fabric.staged_replies = replies;
            fabric.staged_pkts = pkts;
        }
        for (s, v) in fabric.stats.iter_mut().zip(&mut fabric.visits) {
            s.objs += std::mem::take(v);
        }
        for ((s, b), cost) in fabric.stats.iter_mut().zip(before).zip(fabric.costs.iter()) {
            if s.objs != b {
                s.calls += 1;
                s.cycles += (s.objs - b) * cost;
            }
        }
        // keep the allocation for the next burst
        if fabric.entry.is_empty() {
            fabric.entry = input;
        }
        let flow = cx.flow;
        self.flow_cursor = flow;
        walked
    }

    /// The context a walk sees (the flow cursor lent to it: put it back with
    /// `self.flow_cursor` when done) and, borrowed apart from it, the fabric.
    #[inline(always)]
    fn split<'a>(&'a mut self, state: &'a State, now: Instant) -> (Ctx<'a>, &'a mut Fabric) {
        let now_ns = self.tables.flows.mono_ns(now);
        let Graph {
            cfg,
            ports,
            consts,
            wcmp,
            fabric,
            neigh_mac_changed,
            tables,
            flow_cursor,
            ..
        } = self;
        let cx = Ctx {
            state,
            cfg,
            ports,
            consts,
            wcmp: *wcmp,
            neigh_mac_changed,
            now,
            now_ns,
            tables,
            flow: std::mem::take(flow_cursor),
        };
        (cx, fabric)
    }

    /// Runs `f` with the context a walk sees (tests of single node steps).
    #[cfg(test)]
    pub(crate) fn with_ctx<R>(
        &mut self,
        state: &State,
        now: Instant,
        f: impl FnOnce(&mut Ctx<'_>, &mut Pool) -> R,
    ) -> R {
        let (mut cx, fabric) = self.split(state, now);
        let out = f(&mut cx, &mut fabric.pool);
        let flow = cx.flow;
        self.flow_cursor = flow;
        out
    }

    /// The `tx-<port>` node: hands the port's queued packets to `send`, which must transmit
    /// from the front and leave unsent packets in the vector (as [`crate::port::Port::tx_burst`]
    /// does); those are dropped as `tx_queue_full`. Returns the number sent.
    pub fn flush_tx<F>(&mut self, port: PortId, send: F) -> usize
    where
        F: FnOnce(&mut Vec<PacketBuf>, &mut Pool) -> usize,
    {
        let idx = usize::from(port);
        if idx >= self.fabric.slots || self.fabric.tx[idx].is_empty() {
            return 0;
        }
        let tx = self.fabric.tx_id(port);
        let call = self.fabric.costs.io_start(tx.index());
        let mut q = std::mem::take(&mut self.fabric.tx[idx]);
        let n = q.len() as u64;
        {
            let s = &mut self.fabric.stats[tx.index()];
            s.calls += 1;
            s.objs += q.len() as u64;
        }
        let traced = self.fabric.tracer.active;
        if traced {
            // staged now, shown after the port answered: only packets it took count as
            // sent; the rest go to `drop` below
            let names = &self.fabric.names;
            self.fabric.tracer.stage_tx_burst(tx.0, port, &q, names);
        }
        let sent = send(&mut q, &mut self.fabric.pool);
        if traced {
            self.fabric.tracer.commit_tx(sent);
        }
        for pkt in q.drain(..) {
            self.fabric.drop_pkt(tx, DropReason::TxQueueFull, pkt);
        }
        if self.fabric.tx[idx].is_empty() {
            self.fabric.tx[idx] = q;
        }
        self.fabric.stats[tx.index()].cycles += self.fabric.costs.io_cycles(call, n);
        sent
    }

    /// Packets waiting in a port's transmit queue.
    pub fn tx_pending(&self, port: PortId) -> usize {
        self.fabric.tx.get(usize::from(port)).map_or(0, Vec::len)
    }

    /// The `rx_periodic` node: queues the maintenance frames of §5.5 (ARP; with the IPv6
    /// overlay also RA and unsolicited NA) for every started VF. Returns how many.
    pub fn inject_periodic(&mut self, state: &State) -> usize {
        self.fabric.tracer.refresh();
        let started = self.fabric.costs.start();
        let mut frames = Vec::new();
        nodes::rx_periodic::build(&self.cfg, &self.ports, state, &mut frames);
        let src = Node::RxPeriodic.id();
        let mut n = 0;
        for (port, frame) in frames {
            let Some(mut pkt) = self.fabric.pool.alloc_frame(frame.as_slice()) else {
                break;
            };
            let id = self.next_id();
            pkt.meta = Meta::received(port, id);
            pkt.meta.l3_type = frame.ethertype();
            self.fabric.route(src, Next::Tx(port), pkt);
            n += 1;
        }
        if n > 0 {
            let s = &mut self.fabric.stats[src.index()];
            s.calls += 1;
            s.objs += n as u64;
            s.cycles += self.fabric.costs.since(started);
        }
        n
    }

    // ---- observation ----

    /// Sets the clock that per-node cycle counts are sampled with (`None`: no cycle
    /// counts, no clock reads). The graph never reads a clock of its own.
    pub fn set_cycle_clock(&mut self, clock: Option<cycles::CycleClock>) {
        self.fabric.costs.set_clock(clock);
    }

    /// The buffer pool (for statistics).
    pub fn pool(&self) -> &Pool {
        &self.fabric.pool
    }

    /// Every node with its statistics, fixed nodes first.
    pub fn node_stats(&self) -> impl Iterator<Item = (&str, NodeStats)> + '_ {
        let f = &self.fabric;
        (0..f.names.len())
            .filter(|&i| f.exists[i])
            .map(|i| (f.names[i].as_str(), f.stats[i]))
    }

    /// Statistics of one node by name.
    pub fn node_stat(&self, name: &str) -> Option<NodeStats> {
        self.node_stats().find(|(n, _)| *n == name).map(|(_, s)| s)
    }

    /// Drops per reason.
    pub fn drop_stats(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        DropReason::ALL
            .iter()
            .map(|&r| (r, self.fabric.drops[r.index()]))
    }

    pub fn drops(&self, reason: DropReason) -> u64 {
        self.fabric.drops[reason.index()]
    }

    /// Names of every node of this graph.
    pub fn node_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.node_stats().map(|(n, _)| n)
    }

    /// Successor names of a node (`drop` first, as edge 0 upstream).
    pub fn edges(&self, name: &str) -> Option<Vec<String>> {
        let f = &self.fabric;
        let idx = (0..f.names.len()).find(|&i| f.exists[i] && f.names[i] == name)?;
        let mut out = Vec::new();
        if idx != Node::Drop as usize {
            out.push(Node::Drop.name().to_owned());
        }
        let pfs: Vec<PortId> = self
            .ports
            .iter()
            .filter(|p| p.is_pf())
            .map(|p| p.id)
            .collect();
        let vfs: Vec<PortId> = self
            .ports
            .iter()
            .filter(|p| !p.is_pf())
            .map(|p| p.id)
            .collect();
        if idx < Node::COUNT {
            let n = Node::ALL[idx];
            if n == Node::Drop {
                return Some(out);
            }
            out.extend(n.fixed_edges().iter().map(|e| e.name().to_owned()));
            let tx: Vec<PortId> = match n.tx_edges() {
                TxEdges::None => Vec::new(),
                TxEdges::Vfs => vfs,
                TxEdges::Pfs => pfs,
                TxEdges::All => self.ports.iter().map(|p| p.id).collect(),
            };
            out.extend(tx.into_iter().map(node::tx_node_name));
        } else if idx < Node::COUNT + f.slots {
            out.push(Node::Cls.name().to_owned());
        }
        Some(out)
    }

    /// The switch that turns tracing on and off (shareable with other threads).
    pub fn trace_switch(&self) -> TraceSwitch {
        self.fabric.tracer.switch.clone()
    }

    /// Connects the graph to the mirror rings of the shared-memory region and publishes
    /// the node and drop reason names a dump shows.
    pub fn set_mirror(&mut self, producer: dpservice::shm::mirror::Producer) {
        let nodes: Vec<&str> = self.fabric.names.iter().map(String::as_str).collect();
        let reasons: Vec<&str> = DropReason::ALL.iter().map(|r| r.name()).collect();
        producer.publish_names(&nodes, &reasons);
        self.fabric.tracer.mirror = Some(producer);
    }

    /// Detaches dumps whose heartbeat stopped (`now_ms`: monotonic milliseconds, as
    /// `dpservice::shm::mirror::monotonic_ms`). Answers whether a dump is attached.
    pub fn watch_mirror(&mut self, now_ms: u64) -> bool {
        self.fabric
            .tracer
            .mirror
            .as_mut()
            .is_some_and(|m| m.watch(now_ms))
    }

    /// Makes every trace entry written so far visible to the dumps (end of a worker
    /// turn; entries are otherwise published in groups).
    pub fn flush_mirror(&mut self) {
        if let Some(m) = self.fabric.tracer.mirror.as_mut() {
            if m.is_active() {
                m.flush();
            }
        }
    }

    /// Whether the graph writes to mirror rings at all.
    pub fn has_mirror(&self) -> bool {
        self.fabric.tracer.mirror.is_some()
    }

    /// Installs (or removes) the trace sink.
    pub fn set_trace_sink(&mut self, sink: Option<Box<dyn TraceSink>>) {
        self.fabric.tracer.sink = sink;
    }

    /// The host underlay (`--ipv6`).
    pub fn host_underlay(&self) -> Ipv6Addr {
        self.cfg.host_underlay
    }
}

/// The conntrack lookup of a prepared packet (its `conntrack` visit counted) and where
/// it goes: the fast lane if it takes the packet, else the rest of the walk from the
/// table's answer.
#[inline(always)]
fn lane_or_walk(
    fabric: &mut Fabric,
    cx: &mut Ctx<'_>,
    mut pkt: PacketBuf,
    st: &nodes::conntrack::Staged,
    reply: nodes::conntrack::Reply,
) {
    match fast_lane::take_staged(cx, &mut pkt, st, &mut fabric.visits) {
        Ok(next) => fabric.route(Node::Conntrack.id(), next, pkt),
        Err(found) => {
            let next = nodes::conntrack::lookup_found(cx, &mut pkt, st, found, reply);
            walk(fabric, cx, pkt, Node::Conntrack, Some(next), false, false);
        }
    }
}

/// The packets of a train's run (`fast_lane::is_train`): each walks until the lane
/// keeps its flow as the last flow; the packets after that take `cls` and the lane's
/// `conntrack` in one step ([`fast_lane::train_next`], with a copy of the last flow made
/// once, not per packet), or replay what that step did to the packet before
/// ([`fast_lane::replay_run`], for as many packets in a row as it can). A packet the
/// lane's repeat declines walks on from `conntrack` (the last flow is copied anew: the
/// walk may have forgotten or replaced it); a packet of another flow ends the train: it
/// and the rest walk as in any run.
#[inline(always)]
fn run_train(fabric: &mut Fabric, cx: &mut Ctx<'_>, input: &mut Vec<PacketBuf>, mut timed: bool) {
    let mut kept: Option<fast_lane::LastFlow> = None;
    let mut replay: Option<fast_lane::Replay> = None;
    let mut replayed = 0;
    let mut pkts = input.drain(..);
    while let Some(mut pkt) = pkts.next() {
        if let Some(last) = &kept {
            if let Some(r) = &replay {
                // no edge events to give: a traced run is no train
                debug_assert!(!fabric.tracer.edges);
                if let Some(tx) = fabric.tx_queue(r.out()) {
                    let (n, declined) = fast_lane::replay_run(cx, last, r, pkt, &mut pkts, tx);
                    replayed += n;
                    match declined {
                        Some(p) => pkt = p,
                        None => break,
                    }
                }
            }
            match fast_lane::train_next(cx, &mut pkt, last, &mut fabric.visits) {
                Ok(next) => {
                    replay = fast_lane::Replay::of(&pkt, last, next);
                    fabric.route(Node::Conntrack.id(), next, pkt);
                    continue;
                }
                // `cls` ran (counted)
                Err(Node::Conntrack) => walk(fabric, cx, pkt, Node::Conntrack, None, false, false),
                Err(_) => {
                    // another flow: no train after all
                    fabric.train = false;
                    cx.tables.last_flow.forget();
                    walk(fabric, cx, pkt, Node::Cls, None, false, false)
                }
            };
        } else {
            walk(fabric, cx, pkt, Node::Cls, None, timed, false);
            timed = false;
        }
        kept = cx.tables.last_flow.kept().copied();
        replay = None;
    }
    fast_lane::Replay::count_visits(&mut fabric.visits, replayed);
}

/// `cls` on a packet that is neither timed nor traced edge by edge, then, as
/// [`walk`] to `conntrack` with `stop_at_conntrack`: the packet back if it is bound
/// for `conntrack` (uncounted there yet), else walked on from `cls`'s answer.
#[inline(always)]
fn cls_to_conntrack(
    fabric: &mut Fabric,
    cx: &mut Ctx<'_>,
    mut pkt: PacketBuf,
) -> Option<PacketBuf> {
    let lane = fabric.lane_mode();
    let next = dispatch(Node::Cls, cx, &mut pkt, &mut fabric.visits, lane);
    if next == Next::Node(Node::Conntrack) {
        return Some(pkt);
    }
    walk_in::<false>(fabric, cx, pkt, Node::Cls, Some(next), false, true)
}

/// Walks `pkt` from `node` until it is queued for transmission or dropped (`None`);
/// `ran`: `node` ran already and answered this. With `stop_at_conntrack`, a packet about
/// to enter `conntrack` is handed back instead (uncounted there yet).
///
/// A packet that is neither timed nor traced edge by edge (all but the first of a burst,
/// while no dump asks for edges) takes a copy of the loop without those checks: they
/// cost about a sixth of the walk's instructions when made at every node visit.
#[inline(always)]
fn walk(
    fabric: &mut Fabric,
    cx: &mut Ctx<'_>,
    pkt: PacketBuf,
    node: Node,
    ran: Option<Next>,
    timed: bool,
    stop_at_conntrack: bool,
) -> Option<PacketBuf> {
    if timed || fabric.tracer.edges {
        walk_in::<true>(fabric, cx, pkt, node, ran, timed, stop_at_conntrack)
    } else {
        walk_in::<false>(fabric, cx, pkt, node, ran, false, stop_at_conntrack)
    }
}

/// The loop of [`walk`]; `OBSERVED`: whether it checks `timed` and the edge tracing at
/// all (if not, the packet is not timed and no edges are traced).
#[inline(always)]
fn walk_in<const OBSERVED: bool>(
    fabric: &mut Fabric,
    cx: &mut Ctx<'_>,
    mut pkt: PacketBuf,
    mut node: Node,
    mut ran: Option<Next>,
    timed: bool,
    stop_at_conntrack: bool,
) -> Option<PacketBuf> {
    let timed = OBSERVED && timed;
    // established flows may skip the rest of the walk (not in the observed copy: the
    // lane is off for timed and traced packets)
    let lane = if OBSERVED {
        Lane::Off
    } else {
        fabric.lane_mode()
    };
    loop {
        let next = match ran.take() {
            Some(next) => next,
            None => {
                if stop_at_conntrack && node == Node::Conntrack {
                    return Some(pkt);
                }
                let t0 = if timed { fabric.costs.start() } else { 0 };
                let next = dispatch(node, cx, &mut pkt, &mut fabric.visits, lane);
                if timed {
                    fabric.costs.sample(node, t0);
                }
                next
            }
        };
        debug_assert!(
            edge_allowed(node, next)
                || (lane != Lane::Off && node == Node::Conntrack && matches!(next, Next::Tx(_))),
            "{} -> {next:?} is not an edge",
            node.name()
        );
        match next {
            Next::Node(n) => {
                if OBSERVED && fabric.tracer.edges {
                    fabric.trace(
                        TraceKind::Edge,
                        node.id(),
                        Some(n.id()),
                        &pkt,
                        pkt.meta.in_port,
                    );
                }
                node = n;
            }
            _ => {
                if let Next::Tx(_) = next {
                    mark_default(&mut cx.flow);
                }
                cx.close_flow();
                fabric.route(node.id(), next, pkt);
                return None;
            }
        }
    }
}

/// A flow whose packet is transmitted becomes "default" unless translated (§7.5).
#[inline]
fn mark_default(flow: &mut FlowCursor) {
    if let Some(f) = flow.as_mut() {
        if f.flags() & (flow::flags::TRANSLATED | flow::flags::DEFAULT) == 0 {
            f.update(|e| e.flags |= flow::flags::DEFAULT);
        }
    }
}

/// Runs one node on one packet, counting the visit (in each arm, where the node is a
/// constant: no index computation or bounds check per visit).
/// `lane`: `conntrack` tries the fast lane first, which may answer a transmission.
#[inline(always)]
fn dispatch(
    node: Node,
    cx: &mut Ctx<'_>,
    pkt: &mut Buf,
    visits: &mut [u64; Node::COUNT],
    lane: Lane,
) -> Next {
    use nodes::*;
    // a node that may change what the fast lane's last flow stands for: all but `cls`
    // and the lane's own `conntrack` (which forgets it where needed)
    macro_rules! visit {
        ($node:ident, $run:expr) => {{
            visits[Node::$node as usize] += 1;
            cx.tables.last_flow.forget();
            $run
        }};
    }
    macro_rules! visit_keeping_last_flow {
        ($node:ident, $run:expr) => {{
            visits[Node::$node as usize] += 1;
            $run
        }};
    }
    match node {
        Node::Cls => visit_keeping_last_flow!(Cls, cls::process(cx, pkt)),
        Node::Arp => visit!(Arp, arp::process(cx, pkt)),
        Node::Ipv6Nd => visit!(Ipv6Nd, ipv6_nd::process(cx, pkt)),
        Node::Dhcp => visit!(Dhcp, dhcp::process(cx, pkt)),
        Node::Dhcpv6 => visit!(Dhcpv6, dhcpv6::process(cx, pkt)),
        Node::IpipDecap => visit!(IpipDecap, ipip_decap::process(cx, pkt)),
        Node::Conntrack if lane == Lane::On => {
            visit_keeping_last_flow!(Conntrack, fast_lane::conntrack::<false>(cx, pkt, visits))
        }
        Node::Conntrack if lane == Lane::Train => {
            visit_keeping_last_flow!(Conntrack, fast_lane::conntrack::<true>(cx, pkt, visits))
        }
        Node::Conntrack => visit!(Conntrack, conntrack::process(cx, pkt)),
        Node::Lb => visit!(Lb, lb::process(cx, pkt)),
        Node::Dnat => visit!(Dnat, dnat::process(cx, pkt)),
        Node::Ipv4Lookup => visit!(Ipv4Lookup, ipv4_lookup::process(cx, pkt)),
        Node::Ipv6Lookup => visit!(Ipv6Lookup, ipv6_lookup::process(cx, pkt)),
        Node::Snat => visit!(Snat, snat::process(cx, pkt)),
        Node::Firewall => visit!(Firewall, firewall::process(cx, pkt)),
        Node::PacketRelay => visit!(PacketRelay, packet_relay::process(cx, pkt)),
        Node::IpipEncap => visit!(IpipEncap, ipip_encap::process(cx, pkt)),
        Node::Virtsvc => visit!(Virtsvc, virtsvc::process(cx, pkt)),
        // source and sink nodes are not walked
        Node::RxPeriodic => visit!(RxPeriodic, Next::Drop(DropReason::NotHandled)),
        Node::Sync => visit!(Sync, Next::Drop(DropReason::NotHandled)),
        Node::Drop => visit!(Drop, Next::Drop(DropReason::NotHandled)),
    }
}

/// Whether `node` may send to `next` (the declared edges of §3.1).
fn edge_allowed(node: Node, next: Next) -> bool {
    match next {
        Next::Drop(_) => true,
        Next::Node(n) => node.fixed_edges().contains(&n),
        // the port kind is checked by the nodes themselves
        Next::Tx(_) => node.tx_edges() != TxEdges::None,
    }
}
