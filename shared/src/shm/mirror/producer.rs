//! The daemon's side of the rings: the worker is the one producer of every ring.

use std::sync::atomic::Ordering;

use super::{
    publish, realtime_ns, stage, Cursor, EntryHeader, EventKind, MirrorError, RingSet, DETACHED,
    DETACHED_HEARTBEAT, FLAGS, FLAG_DROPS, FLAG_NODES, FLAG_NODE_MASK, HEARTBEAT,
    HEARTBEAT_TIMEOUT_MS, MAX_NODES, MAX_REASONS, NODE_MASK, NODE_MASK_WORDS, NONE16, OWNER,
    SET_MASK, SET_NODE_COUNT, SET_REASON_COUNT,
};

/// What an attached consumer asked for, read when its bit appears in the mask.
#[derive(Debug, Clone, Copy, Default)]
struct Settings {
    flags: u64,
    node_mask: [u64; NODE_MASK_WORDS],
}

impl Settings {
    #[inline]
    fn wants(&self, kind: EventKind, node: u16) -> bool {
        let kind_ok = match kind {
            EventKind::Rx | EventKind::Tx => true,
            EventKind::Next => self.flags & FLAG_NODES != 0,
            EventKind::Drop => self.flags & FLAG_DROPS != 0,
        };
        if !kind_ok {
            return false;
        }
        if self.flags & FLAG_NODE_MASK == 0 {
            return true;
        }
        let n = usize::from(node);
        n < MAX_NODES && self.node_mask[n / 64] & (1 << (n % 64)) != 0
    }
}

/// Which entry a trace point is about to write, for [`Producer::wants`].
#[derive(Debug, Clone, Copy)]
pub struct TraceTarget {
    /// The event.
    pub kind: EventKind,
    /// Source node id ([`NONE16`] for rx events).
    pub src: u16,
    /// Destination node id.
    pub dst: u16,
}

/// The worker's state of one ring.
#[derive(Debug, Clone, Default)]
struct RingState {
    settings: Settings,
    /// Where the next record goes (private: only published by storing `HEAD`).
    at: Cursor,
    /// `HEAD` as last stored.
    published: u64,
    /// Entries written since the last publish.
    unpublished: u64,
    /// Tx entries of the burst at the port, in packet order: the cursor after each
    /// record (a buffer kept across bursts).
    staged: Vec<Cursor>,
    /// The cursor before the first staged tx entry (where unsent ones are rewound to).
    staged_from: Cursor,
    /// The consumer's position as last read.
    tail: u64,
    /// Found full in this burst: the rest of the burst is counted as lost without
    /// touching the ring again (a dump that cannot keep up costs the worker little).
    full: bool,
    /// Entries lost since the last flush, added to the shared counter then.
    lost: u64,
}

/// The worker's handle on the ring set.
#[derive(Debug)]
pub struct Producer {
    set: RingSet,
    /// The mask as loaded by the last [`Producer::refresh`].
    active: u64,
    /// Some active ring takes NEXT events / DROP events (refreshed with the mask).
    nodes: bool,
    drops: bool,
    rings: Vec<RingState>,
    /// Realtime clock at the last refresh: the timestamp of the burst's entries.
    now_ns: u64,
}

/// Entries written before they are published at the latest (tx bursts and the end of a
/// worker turn publish earlier).
const PUBLISH_EVERY: u64 = 256;

impl Producer {
    pub(super) fn new(set: RingSet) -> Result<Producer, MirrorError> {
        let rings = (0..set.geometry.rings)
            .map(|r| {
                let ring = set.ring(r);
                let at = Cursor::at_head(&ring);
                RingState {
                    at,
                    published: at.pos,
                    ..RingState::default()
                }
            })
            .collect();
        Ok(Producer {
            set,
            active: 0,
            nodes: false,
            drops: false,
            rings,
            now_ns: 0,
        })
    }

    /// Writes the node names (index = node id) and drop reason names consumers show.
    pub fn publish_names(&self, nodes: &[&str], reasons: &[&str]) {
        self.set.write_names(0, SET_NODE_COUNT, MAX_NODES, nodes);
        self.set
            .write_names(MAX_NODES, SET_REASON_COUNT, MAX_REASONS, reasons);
    }

    /// Once per burst: one atomic load when no consumer is attached. Answers whether any
    /// is.
    #[inline]
    pub fn refresh(&mut self) -> bool {
        let mask = self.set.set_word(SET_MASK).load(Ordering::Acquire);
        if mask == 0 {
            if self.active != 0 {
                // just detached: what is written goes out (nobody may read it)
                self.flush();
                self.active = 0;
                self.nodes = false;
                self.drops = false;
            }
            return false;
        }
        self.load_settings(mask);
        true
    }

    #[cold]
    fn load_settings(&mut self, mask: u64) {
        self.flush();
        self.now_ns = realtime_ns();
        self.active = 0;
        self.nodes = false;
        self.drops = false;
        for (r, st) in self.rings.iter_mut().enumerate() {
            if mask & (1 << r) == 0 {
                continue;
            }
            let ring = self.set.ring(r);
            let s = &mut st.settings;
            s.flags = ring.ctrl[FLAGS].load(Ordering::Relaxed);
            for (m, w) in s
                .node_mask
                .iter_mut()
                .zip(&ring.ctrl[NODE_MASK..NODE_MASK + NODE_MASK_WORDS])
            {
                *m = w.load(Ordering::Relaxed);
            }
            self.nodes |= s.flags & FLAG_NODES != 0;
            self.drops |= s.flags & FLAG_DROPS != 0;
            // the cached tail stays: it is only ever behind the consumer's, which looks
            // fuller than the ring is and makes `stage` reload it then (loading it here
            // would pull the consumer's cache line over on every burst)
            st.full = false;
            self.active |= 1 << r;
        }
    }

    /// Publishes every written entry and the loss count (end of a worker turn).
    pub fn flush(&mut self) {
        for (r, st) in self.rings.iter_mut().enumerate() {
            if st.at.pos != st.published && st.staged.is_empty() {
                publish(&self.set.ring(r), st.at.pos);
                st.published = st.at.pos;
                st.unpublished = 0;
            }
            if st.lost > 0 {
                let ring = self.set.ring(r);
                let lost = ring.ctrl[super::LOST].load(Ordering::Relaxed);
                ring.ctrl[super::LOST].store(lost.wrapping_add(st.lost), Ordering::Relaxed);
                st.lost = 0;
            }
        }
    }

    /// Whether an attached consumer wants this entry (the node filter and event kinds).
    #[inline]
    pub fn wants(&self, t: TraceTarget) -> bool {
        if self.active == 0 {
            return false;
        }
        let node = if t.src != NONE16 { t.src } else { t.dst };
        self.active_rings()
            .any(|r| self.rings[r].settings.wants(t.kind, node))
    }

    /// Whether some attached consumer takes NEXT (hand-over) events: the graph skips
    /// their trace points otherwise.
    #[inline]
    pub fn wants_nodes(&self) -> bool {
        self.nodes
    }

    /// Whether some attached consumer takes DROP events.
    #[inline]
    pub fn wants_drops(&self) -> bool {
        self.drops
    }

    /// The attached rings by index (bit by bit: no loop over the rest).
    fn active_rings(&self) -> impl Iterator<Item = usize> {
        let mut m = self.active;
        std::iter::from_fn(move || {
            (m != 0).then(|| {
                let r = m.trailing_zeros() as usize;
                m &= m - 1;
                r
            })
        })
    }

    fn node_of(h: &EntryHeader) -> u16 {
        if h.src != NONE16 {
            h.src
        } else {
            h.dst
        }
    }

    /// The packed record header of an entry (the burst's timestamp, the lengths) and the
    /// bytes kept.
    #[inline]
    fn packed<'d>(&self, header: &EntryHeader, data: &'d [u8]) -> ([u64; 4], &'d [u8]) {
        let mut h = *header;
        h.timestamp_ns = self.now_ns;
        h.orig_len = data.len() as u32;
        h.packed(data, self.set.geometry.snap_len)
    }

    /// Copies an entry into every attached ring that wants it (timestamp: the burst's,
    /// read at refresh); a full ring counts it as lost, and so the rest of the burst
    /// (a dump that cannot keep up costs the worker little).
    #[inline]
    pub fn record(&mut self, header: &EntryHeader, data: &[u8]) {
        let node = Self::node_of(header);
        let (head, body) = self.packed(header, data);
        let mut m = self.active;
        while m != 0 {
            let r = m.trailing_zeros() as usize;
            m &= m - 1;
            let st = &mut self.rings[r];
            if !st.settings.wants(header.kind, node) {
                continue;
            }
            if st.full {
                st.lost += 1;
                continue;
            }
            let ring = self.set.ring(r);
            if !stage(&ring, &mut st.at, &mut st.tail, &head, body) {
                st.full = true;
                st.lost += 1;
                continue;
            }
            st.unpublished += 1;
            if st.unpublished >= PUBLISH_EVERY && st.staged.is_empty() {
                publish(&ring, st.at.pos);
                st.published = st.at.pos;
                st.unpublished = 0;
            }
        }
    }

    /// Entries for a burst of packets at one trace point: `header` (kind, nodes, ports)
    /// applies to every packet, `pkts` gives each packet's id and bytes in burst order
    /// (walked once per ring that takes them).
    /// Same as [`Producer::record`] per packet, with the ring looked up once per burst.
    pub fn record_burst<'a, I>(&mut self, header: &EntryHeader, pkts: &I)
    where
        I: Iterator<Item = (u32, &'a [u8])> + Clone,
    {
        self.write_burst(header, pkts, false);
    }

    /// Tx entries for a burst handed to a port (as [`Producer::record_burst`]): written
    /// but not visible until [`Producer::commit_tx`] says how many the port took. Rings
    /// that do not want tx entries of this node are not touched at all. Bursts staged
    /// without a commit in between count as one (packet indices continue).
    pub fn stage_tx_burst<'a, I>(&mut self, header: &EntryHeader, pkts: &I)
    where
        I: Iterator<Item = (u32, &'a [u8])> + Clone,
    {
        self.write_burst(header, pkts, true);
    }

    #[inline]
    fn write_burst<'a, I>(&mut self, header: &EntryHeader, pkts: &I, staging: bool)
    where
        I: Iterator<Item = (u32, &'a [u8])> + Clone,
    {
        let node = Self::node_of(header);
        let mut h = *header;
        h.timestamp_ns = self.now_ns;
        let snap = self.set.geometry.snap_len;
        let mut m = self.active;
        while m != 0 {
            let r = m.trailing_zeros() as usize;
            m &= m - 1;
            let st = &mut self.rings[r];
            if !st.settings.wants(header.kind, node) {
                continue;
            }
            if staging && st.staged.is_empty() {
                st.staged_from = st.at;
            }
            let ring = self.set.ring(r);
            for (id, data) in pkts.clone() {
                if st.full {
                    st.lost += 1;
                    continue;
                }
                h.pkt_id = id;
                h.orig_len = data.len() as u32;
                let (head, body) = h.packed(data, snap);
                if !stage(&ring, &mut st.at, &mut st.tail, &head, body) {
                    st.full = true;
                    st.lost += 1;
                } else if staging {
                    st.staged.push(st.at);
                } else {
                    st.unpublished += 1;
                }
            }
            if st.unpublished >= PUBLISH_EVERY && st.staged.is_empty() {
                publish(&ring, st.at.pos);
                st.published = st.at.pos;
                st.unpublished = 0;
            }
        }
    }

    /// The port took the first `sent` packets: their staged entries become visible
    /// (with everything written before, in one store of the head), the space of the
    /// others is written over by the next entries.
    pub fn commit_tx(&mut self, sent: usize) {
        for (r, st) in self.rings.iter_mut().enumerate() {
            if !st.staged.is_empty() {
                st.at = sent
                    .min(st.staged.len())
                    .checked_sub(1)
                    .and_then(|last| st.staged.get(last).copied())
                    .unwrap_or(st.staged_from);
                st.staged.clear();
            }
            if st.at.pos != st.published {
                publish(&self.set.ring(r), st.at.pos);
                st.published = st.at.pos;
                st.unpublished = 0;
            }
        }
    }

    /// Detaches consumers whose heartbeat is older than [`HEARTBEAT_TIMEOUT_MS`] at
    /// `now_ms` (monotonic). Answers whether any ring is still owned.
    pub fn watch(&mut self, now_ms: u64) -> bool {
        let mut owned = false;
        for r in 0..self.rings.len() {
            let ring = self.set.ring(r);
            let owner = ring.ctrl[OWNER].load(Ordering::Acquire);
            if owner == 0 {
                continue;
            }
            let beat = ring.ctrl[HEARTBEAT].load(Ordering::Acquire);
            if now_ms.saturating_sub(beat) <= HEARTBEAT_TIMEOUT_MS {
                owned = true;
                continue;
            }
            self.set
                .set_word(SET_MASK)
                .fetch_and(!(1u64 << r), Ordering::AcqRel);
            ring.ctrl[DETACHED].store(DETACHED_HEARTBEAT, Ordering::Release);
            let _ =
                ring.ctrl[OWNER].compare_exchange(owner, 0, Ordering::AcqRel, Ordering::Relaxed);
            self.active &= !(1 << r);
        }
        owned
    }

    /// Whether the last refresh saw a consumer.
    pub fn is_active(&self) -> bool {
        self.active != 0
    }
}
