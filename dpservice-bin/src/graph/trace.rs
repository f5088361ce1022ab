//! Trace points for `dpservice-dump` (dataplane.md §3.2).
//!
//! The graph reports rx, edge, tx and drop events to a [`TraceSink`] only while the shared
//! switch is on. The switch is read once per graph run (one atomic load per burst when
//! tracing is off, ARCHITECTURE principle 4); the sink decides what to keep (node filter,
//! drops only, ring full) and must never block.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::drop::DropReason;
use crate::port::PortId;

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
}

/// Receives trace events (the dump issue implements it over the mirror ring).
pub trait TraceSink: Send {
    fn event(&mut self, ev: &TraceEvent<'_>);
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

/// The graph's tracing state: the switch, the sink, and the switch value for this run.
pub(crate) struct Tracer {
    pub switch: TraceSwitch,
    pub sink: Option<Box<dyn TraceSink>>,
    /// Snapshot of the switch (and sink presence) taken once per run.
    pub active: bool,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("switch", &self.switch)
            .field("sink", &self.sink.is_some())
            .field("active", &self.active)
            .finish()
    }
}

impl Tracer {
    pub fn new() -> Self {
        Tracer {
            switch: TraceSwitch::default(),
            sink: None,
            active: false,
        }
    }

    /// Reads the switch: once per burst.
    #[inline]
    pub fn refresh(&mut self) {
        self.active = self.sink.is_some() && self.switch.is_on();
    }

    #[cold]
    pub fn emit(&mut self, ev: &TraceEvent<'_>) {
        if let Some(sink) = self.sink.as_mut() {
            sink.event(ev);
        }
    }
}
