//! The daemon's side of the rings: the worker is the one producer of every ring.

use std::sync::atomic::Ordering;

use super::{
    publish, realtime_ns, stage, EntryHeader, EventKind, MirrorError, RingSet, DETACHED,
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

/// The worker's handle on the ring set.
#[derive(Debug)]
pub struct Producer {
    set: RingSet,
    /// The mask as loaded by the last [`Producer::refresh`].
    active: u64,
    settings: Vec<Settings>,
    /// Per ring: how many tx entries are staged and the packet index of each.
    staged: Vec<Vec<u32>>,
    /// Per ring: entries written but not yet published (published in groups, at the end
    /// of a tx burst and by [`Producer::flush`]).
    pending: Vec<u64>,
    /// Per ring: the consumer's position as last read.
    tails: Vec<u64>,
    /// Per ring: found full in this burst: the rest of the burst is counted as lost
    /// without touching the ring again (a dump that cannot keep up costs the worker
    /// little).
    full: Vec<bool>,
    /// Per ring: entries lost in this burst, added to the shared counter at flush.
    lost: Vec<u64>,
    /// Realtime clock at the last refresh: the timestamp of the burst's entries.
    now_ns: u64,
}

/// Entries written before they are published at the latest.
const PUBLISH_EVERY: u64 = 32;

impl Producer {
    pub(super) fn new(set: RingSet) -> Result<Producer, MirrorError> {
        let rings = set.geometry.rings;
        Ok(Producer {
            set,
            active: 0,
            settings: vec![Settings::default(); rings],
            staged: vec![Vec::new(); rings],
            pending: vec![0; rings],
            tails: vec![0; rings],
            full: vec![false; rings],
            lost: vec![0; rings],
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
        for r in 0..self.settings.len() {
            if mask & (1 << r) == 0 {
                continue;
            }
            let ring = self.set.ring(r);
            let s = &mut self.settings[r];
            s.flags = ring.ctrl[FLAGS].load(Ordering::Relaxed);
            for (m, w) in s
                .node_mask
                .iter_mut()
                .zip(&ring.ctrl[NODE_MASK..NODE_MASK + NODE_MASK_WORDS])
            {
                *m = w.load(Ordering::Relaxed);
            }
            self.tails[r] = ring.ctrl[super::TAIL].load(Ordering::Acquire);
            self.full[r] = false;
            self.active |= 1 << r;
        }
    }

    /// Publishes every written entry and the loss count (end of a worker turn).
    pub fn flush(&mut self) {
        for r in 0..self.pending.len() {
            if self.pending[r] > 0 {
                publish(&self.set.ring(r), self.pending[r]);
                self.pending[r] = 0;
            }
            if self.lost[r] > 0 {
                let ring = self.set.ring(r);
                let lost = ring.ctrl[super::LOST].load(Ordering::Relaxed);
                ring.ctrl[super::LOST].store(lost.wrapping_add(self.lost[r]), Ordering::Relaxed);
                self.lost[r] = 0;
            }
        }
    }

    /// Whether ring `r` takes this entry now; a ring full earlier in the burst counts it
    /// as lost at once.
    #[inline]
    fn open(&mut self, r: usize, kind: EventKind, node: u16) -> bool {
        if self.active & (1 << r) == 0 || !self.settings[r].wants(kind, node) {
            return false;
        }
        if self.full[r] {
            self.lost[r] += 1;
            return false;
        }
        true
    }

    /// Whether an attached consumer wants this entry (the node filter and event kinds).
    #[inline]
    pub fn wants(&self, t: TraceTarget) -> bool {
        if self.active == 0 {
            return false;
        }
        let node = if t.src != NONE16 { t.src } else { t.dst };
        self.rings().any(|r| self.settings[r].wants(t.kind, node))
    }

    fn rings(&self) -> impl Iterator<Item = usize> + '_ {
        let active = self.active;
        (0..self.settings.len()).filter(move |r| active & (1 << r) != 0)
    }

    fn node_of(h: &EntryHeader) -> u16 {
        if h.src != NONE16 {
            h.src
        } else {
            h.dst
        }
    }

    /// Copies an entry into every attached ring that wants it (timestamp: the burst's,
    /// read at refresh); a full ring counts it as lost.
    pub fn record(&mut self, header: &EntryHeader, data: &[u8]) {
        let mut h = *header;
        h.timestamp_ns = self.now_ns;
        h.orig_len = data.len() as u32;
        let node = Self::node_of(&h);
        for r in 0..self.settings.len() {
            if self.open(r, h.kind, node) {
                let ring = self.set.ring(r);
                if stage(&ring, self.pending[r], &mut self.tails[r], &h, data) {
                    self.pending[r] += 1;
                    if self.pending[r] >= PUBLISH_EVERY && self.staged[r].is_empty() {
                        publish(&ring, self.pending[r]);
                        self.pending[r] = 0;
                    }
                } else {
                    self.full[r] = true;
                }
            }
        }
    }

    /// A tx entry for packet `index` of the burst handed to the port: written but not
    /// visible until [`Producer::commit_tx`] says whether the port took the packet.
    pub fn stage_tx(&mut self, index: u32, header: &EntryHeader, data: &[u8]) {
        let mut h = *header;
        h.timestamp_ns = self.now_ns;
        h.orig_len = data.len() as u32;
        let node = Self::node_of(&h);
        for r in 0..self.settings.len() {
            if self.open(r, h.kind, node) {
                let ring = self.set.ring(r);
                let ahead = self.pending[r] + self.staged[r].len() as u64;
                if stage(&ring, ahead, &mut self.tails[r], &h, data) {
                    self.staged[r].push(index);
                } else {
                    self.full[r] = true;
                }
            }
        }
    }

    /// The port took the first `sent` packets: their staged entries become visible
    /// (with everything written before), the others are forgotten.
    pub fn commit_tx(&mut self, sent: usize) {
        for r in 0..self.staged.len() {
            let taken = self.staged[r]
                .iter()
                .take_while(|&&i| (i as usize) < sent)
                .count() as u64;
            let count = self.pending[r] + taken;
            if count > 0 {
                publish(&self.set.ring(r), count);
            }
            self.pending[r] = 0;
            self.staged[r].clear();
        }
    }

    /// Detaches consumers whose heartbeat is older than [`HEARTBEAT_TIMEOUT_MS`] at
    /// `now_ms` (monotonic). Answers whether any ring is still owned.
    pub fn watch(&mut self, now_ms: u64) -> bool {
        let mut owned = false;
        for r in 0..self.settings.len() {
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
