//! Trace points for `dpservice-dump` (dataplane.md §3.2, tools.md §1.3).
//!
//! The graph reports rx, edge, tx and drop events through one mechanism with two sinks:
//! the log sink of `--graphtrace-loglevel` ([`TraceSink`], while its switch is on) and the
//! mirror rings in the shared-memory region (`dpservice::shm::mirror::Producer`, while a
//! dump is attached); both run when both are on. Whether anything is on is read once per
//! burst: one atomic load when nothing is (ARCHITECTURE principle 4). The sinks decide
//! what to keep (node filter, drops, ring full) and never block.
//!
//! Tx events are staged before the burst goes to the port and committed after it: only
//! the packets the port took appear as transmitted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dpservice::shm::mirror::{EntryHeader, EventKind, Producer, NONE16};

use super::drop::DropReason;
use crate::port::{Buf, PacketBuf, PortId};

/// What happened to the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceKind {
    /// Received; `node` is the rx node, there is no source node.
    Rx,
    /// Moved from `node` to `next` (also into `drop` and `tx-<port>`).
    Edge,
    /// Transmitted by the `tx-<port>` node `node` to `port`.
    Tx,
    /// Freed by the `drop` node.
    Drop,
}

/// One trace event. Borrowed data is only valid during the call.
#[derive(Debug, Clone, Copy)]
pub struct TraceEvent<'a> {
    pub kind: TraceKind,
    /// The current node (rx: the rx node).
    pub node: &'a str,
    /// The next node (edge events).
    pub next: Option<&'a str>,
    /// Port the packet was received on, or for tx events the destination port.
    pub port: PortId,
    pub pkt_id: u32,
    /// Drop events: why.
    pub drop_reason: Option<DropReason>,
    pub frame: &'a [u8],
    /// Id of `node` in the graph's name table.
    pub node_id: u16,
    /// Id of `next`.
    pub next_id: Option<u16>,
}

impl TraceEvent<'_> {
    /// The mirror ring's entry header for this event (timestamp and length are filled
    /// in by the producer).
    fn entry(&self) -> EntryHeader {
        entry_header(
            self.kind,
            self.node_id,
            self.next_id,
            self.port,
            self.pkt_id,
            self.drop_reason,
        )
    }
}

/// A mirror ring entry header from ids only (no names): what the rings store.
#[inline]
fn entry_header(
    kind: TraceKind,
    node: u16,
    next: Option<u16>,
    port: PortId,
    pkt_id: u32,
    drop_reason: Option<DropReason>,
) -> EntryHeader {
    let (kind, src, dst) = match kind {
        TraceKind::Rx => (EventKind::Rx, NONE16, node),
        TraceKind::Edge => (EventKind::Next, node, next.unwrap_or(NONE16)),
        TraceKind::Tx => (EventKind::Tx, node, NONE16),
        TraceKind::Drop => (EventKind::Drop, node, NONE16),
    };
    let tx = kind == EventKind::Tx;
    EntryHeader {
        kind,
        timestamp_ns: 0,
        pkt_id,
        in_port: if tx { NONE16 } else { port },
        out_port: if tx { port } else { NONE16 },
        src,
        dst,
        drop_reason: drop_reason.map_or(NONE16, |r| r as u16),
        orig_len: 0,
        cap_len: 0,
    }
}

/// The name of node `id` for the log sink ("?" for an id outside the table).
fn name_of(names: &[String], id: u16) -> &str {
    names.get(usize::from(id)).map_or("?", String::as_str)
}

/// Receives trace events (the dump issue implements it over the mirror ring).
pub trait TraceSink: Send {
    fn event(&mut self, ev: &TraceEvent<'_>);

    /// A tx event for packet `index` of the burst about to go to the port; it happened
    /// only if [`TraceSink::tx_committed`] then says the port took the packet. By default
    /// reported at once.
    fn tx_staged(&mut self, _index: usize, ev: &TraceEvent<'_>) {
        self.event(ev);
    }

    /// The port took the first `sent` packets of the staged burst.
    fn tx_committed(&mut self, _sent: usize) {}
}

/// The on/off switch, shareable with other threads.
#[derive(Debug, Clone, Default)]
pub struct TraceSwitch(Arc<AtomicBool>);

impl TraceSwitch {
    pub fn set(&self, on: bool) {
        self.0.store(on, Ordering::Release);
    }

    #[inline]
    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The graph's tracing state: the log switch and sink, the mirror rings, and whether
/// either is on for this run.
pub(crate) struct Tracer {
    pub switch: TraceSwitch,
    pub sink: Option<Box<dyn TraceSink>>,
    /// The mirror rings of the shared-memory region (the daemon; `None` in unit tests).
    pub mirror: Option<Producer>,
    /// Snapshot taken once per run: some sink is on.
    pub active: bool,
    /// Snapshot: some sink takes edge (hand-over) events; without one the graph skips
    /// their trace points (a dump of rx and tx only does not pay for the edges between).
    pub edges: bool,
    /// Snapshot: some sink takes drop events.
    pub drops: bool,
    /// Snapshot: the log sink is on.
    log_on: bool,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("switch", &self.switch)
            .field("sink", &self.sink.is_some())
            .field("mirror", &self.mirror.is_some())
            .field("active", &self.active)
            .finish()
    }
}

impl Tracer {
    pub fn new() -> Self {
        Tracer {
            switch: TraceSwitch::default(),
            sink: None,
            mirror: None,
            active: false,
            edges: false,
            drops: false,
            log_on: false,
        }
    }

    /// Reads the switches: once per burst (one atomic load when tracing is off).
    #[inline]
    pub fn refresh(&mut self) {
        self.log_on = self.sink.is_some() && self.switch.is_on();
        let (mut edges, mut drops) = (self.log_on, self.log_on);
        let mut ring_on = false;
        if let Some(m) = self.mirror.as_mut() {
            ring_on = m.refresh();
            edges |= ring_on && m.wants_nodes();
            drops |= ring_on && m.wants_drops();
        }
        self.active = self.log_on || ring_on;
        self.edges = edges;
        self.drops = drops;
    }

    #[cold]
    pub fn emit(&mut self, ev: &TraceEvent<'_>) {
        if self.log_on {
            if let Some(sink) = self.sink.as_mut() {
                sink.event(ev);
            }
        }
        if let Some(m) = self.mirror.as_mut().filter(|m| m.is_active()) {
            m.record(&ev.entry(), ev.frame);
        }
    }

    /// An rx or edge trace point of packet `pkt` at node `node` (towards `next`): the
    /// event with names is built only for the log sink; the mirror rings take ids.
    #[inline]
    pub fn point(
        &mut self,
        kind: TraceKind,
        node: u16,
        next: Option<u16>,
        port: PortId,
        pkt: &Buf,
        names: &[String],
    ) {
        if self.log_on {
            if let Some(sink) = self.sink.as_mut() {
                sink.event(&TraceEvent {
                    kind,
                    node: name_of(names, node),
                    next: next.map(|n| name_of(names, n)),
                    port,
                    pkt_id: pkt.meta.pkt_id,
                    drop_reason: None,
                    frame: pkt.frame(),
                    node_id: node,
                    next_id: next,
                });
            }
        }
        if let Some(m) = self.mirror.as_mut().filter(|m| m.is_active()) {
            let h = entry_header(kind, node, next, port, pkt.meta.pkt_id, None);
            m.record(&h, pkt.frame());
        }
    }

    /// Whether rx events go out per burst ([`Tracer::rx_burst`]) rather than per packet:
    /// only the rings are on and they take no hand-over events (those must follow the
    /// packet's rx event), so one ring lookup serves the whole burst.
    #[inline]
    pub fn rx_in_bursts(&self) -> bool {
        !self.log_on && !self.edges
    }

    /// The rx events of the burst `pkts` received by rx node `node` from `port` (when
    /// [`Tracer::rx_in_bursts`]).
    #[cold]
    pub fn rx_burst(&mut self, node: u16, port: PortId, pkts: &[PacketBuf]) {
        if let Some(m) = self.mirror.as_mut().filter(|m| m.is_active()) {
            let h = entry_header(TraceKind::Rx, node, None, port, 0, None);
            m.record_burst(&h, &pkts.iter().map(|p| (p.meta.pkt_id, p.frame())));
        }
    }

    /// The tx events of the burst `pkts` handed by tx node `node` to `port` (see
    /// [`Tracer::commit_tx`]); the rings get one call for the whole burst, and rings that
    /// take no tx events of this node are not touched.
    #[cold]
    pub fn stage_tx_burst(
        &mut self,
        node: u16,
        port: PortId,
        pkts: &[PacketBuf],
        names: &[String],
    ) {
        if self.log_on {
            if let Some(sink) = self.sink.as_mut() {
                for (i, pkt) in pkts.iter().enumerate() {
                    let ev = TraceEvent {
                        kind: TraceKind::Tx,
                        node: name_of(names, node),
                        next: None,
                        port,
                        pkt_id: pkt.meta.pkt_id,
                        drop_reason: None,
                        frame: pkt.frame(),
                        node_id: node,
                        next_id: None,
                    };
                    sink.tx_staged(i, &ev);
                }
            }
        }
        if let Some(m) = self.mirror.as_mut().filter(|m| m.is_active()) {
            let h = entry_header(TraceKind::Tx, node, None, port, 0, None);
            m.stage_tx_burst(&h, &pkts.iter().map(|p| (p.meta.pkt_id, p.frame())));
        }
    }

    /// The port took the first `sent` packets of the staged burst.
    #[cold]
    pub fn commit_tx(&mut self, sent: usize) {
        if self.log_on {
            if let Some(sink) = self.sink.as_mut() {
                sink.tx_committed(sent);
            }
        }
        if let Some(m) = self.mirror.as_mut() {
            m.commit_tx(sent);
        }
    }
}
