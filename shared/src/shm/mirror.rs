//! Mirror rings: the graph's trace events, copied by the worker into the region for
//! `dpservice-dump` (tools.md §1, ARCHITECTURE.md principle 4).
//!
//! A ring set is one directory entry of kind `KIND_RINGS`. Its area:
//!
//! ```text
//! set header  mask word (bit r: ring r is attached), node and drop-reason name counts,
//!             the names themselves (32 bytes each), written by the daemon
//! ring 0      control words, then a record area of `slots × slot_words` words
//! ring 1 ...
//! ```
//! A record is the entry header (4 words, its length in it) and the bytes kept, padded
//! to a word: records are packed one after the other, so the worker writes a stream of
//! consecutive cache lines (a 64-byte frame takes 12 words) instead of one 9 KiB slot per
//! entry. `HEAD` and `TAIL` count words; a record never crosses the end of the area (a
//! padding word sends the reader back to its start).
//! Each ring is single producer (the worker) and single consumer (one dump process).
//! Control goes through words of the region, never through gRPC: a consumer claims a
//! ring by compare-and-swap of its owner word, writes its settings (drops, node mask),
//! empties the ring and sets its bit in the mask; the worker loads the mask once per burst
//! (the only cost while nobody is attached). The consumer stores a monotonic timestamp
//! into its heartbeat word ten times a second; the daemon detaches a ring whose heartbeat
//! is older than [`HEARTBEAT_TIMEOUT_MS`], so a killed dump switches tracing off by
//! itself. A full ring counts the entry as lost and never blocks.
//!
//! The ring protocol itself ([`push`], [`pop`]) is generic over the word traits of
//! `seqlock`, so the loom tests below check it over every interleaving.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::header::KIND_RINGS;
use super::region::{self, OpenError, Shared, WritableRegion};
use super::seqlock::StoreWord;
use crate::instance::Instance;

/// Directory name of the daemon's ring set.
pub const RINGS_NAME: &str = "graphtrace";
/// Bytes of a packet a ring entry keeps at most (upstream's snap length).
pub const SNAP_LEN: usize = 9100;
/// Rings (concurrent dumps) of the daemon's set.
pub const DAEMON_RINGS: usize = 4;
/// Slots per ring of the daemon's set.
pub const DAEMON_SLOTS: u64 = 2048;
/// Most graph nodes the name table and node masks hold.
pub const MAX_NODES: usize = 512;
/// Most drop reasons the name table holds.
pub const MAX_REASONS: usize = 64;
/// Longest name in the name table (the field keeps a NUL).
pub const MAX_NAME: usize = 31;
/// A consumer whose heartbeat is older than this is gone: the daemon detaches it.
pub const HEARTBEAT_TIMEOUT_MS: u64 = 1200;
/// How often a consumer beats.
pub const HEARTBEAT_EVERY_MS: u64 = 100;
/// "No node" / "no port" in an entry.
pub const NONE16: u16 = 0xFFFF;

const NAME_WORDS: usize = 4;
// set header words
const SET_MASK: usize = 0;
const SET_NODE_COUNT: usize = 1;
const SET_REASON_COUNT: usize = 2;
const SET_NAMES: usize = 8;
const SET_HEADER_WORDS: usize = SET_NAMES + (MAX_NODES + MAX_REASONS) * NAME_WORDS;
// ring control words; head and tail on cache lines of their own
const OWNER: usize = 0;
const HEARTBEAT: usize = 1;
const FLAGS: usize = 2;
const DETACHED: usize = 3;
const HEAD: usize = 8;
const LOST: usize = 9;
const TAIL: usize = 16;
const NODE_MASK: usize = 24;
const NODE_MASK_WORDS: usize = MAX_NODES / 64;
const CTRL_WORDS: usize = NODE_MASK + NODE_MASK_WORDS;
/// Words of an entry before its data.
const ENTRY_HEADER_WORDS: usize = 4;

/// Flag: report DROP events.
pub const FLAG_DROPS: u64 = 1;
/// Flag: report NEXT (hand-over) events.
pub const FLAG_NODES: u64 = 2;
/// Flag: only the nodes of the node mask (else all).
pub const FLAG_NODE_MASK: u64 = 4;

/// Why the daemon detached a ring (the consumer reads it).
pub const DETACHED_HEARTBEAT: u64 = 1;
/// `dpservice-dump --stop` detached it.
pub const DETACHED_STOP: u64 = 2;

/// The shape of a ring set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingGeometry {
    /// Number of rings (1..=64).
    pub rings: usize,
    /// Entries of the full snap length a ring holds, a power of two (at least 2); the
    /// ring's record area is that many full-size slots, and shorter entries are packed
    /// into it (a 64-byte frame takes 96 bytes), so it holds many more of them.
    pub slots: u64,
    /// Packet bytes a slot keeps (64..=65535).
    pub snap_len: usize,
}

/// A geometry out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("1 to 64 rings of a power-of-two number of slots (2 to 2^24), snap length 64 to 65535")]
pub struct BadGeometry;

impl RingGeometry {
    /// The daemon's set.
    pub const DAEMON: RingGeometry = RingGeometry {
        rings: DAEMON_RINGS,
        slots: DAEMON_SLOTS,
        snap_len: SNAP_LEN,
    };

    /// Checks the ranges (so the sizes below cannot overflow).
    pub fn check(&self) -> Result<(), BadGeometry> {
        let ok = (1..=64).contains(&self.rings)
            && self.slots.is_power_of_two()
            && self.slots >= 2
            && self.slots <= 1 << 24
            && (64..=65535).contains(&self.snap_len);
        ok.then_some(()).ok_or(BadGeometry)
    }

    /// Words per slot: entry header and data.
    pub fn slot_words(&self) -> usize {
        ENTRY_HEADER_WORDS + self.snap_len.div_ceil(8)
    }

    fn ring_words(&self) -> usize {
        CTRL_WORDS + self.slots as usize * self.slot_words()
    }

    /// Words of the whole area.
    pub fn area_words(&self) -> Option<usize> {
        self.ring_words()
            .checked_mul(self.rings)?
            .checked_add(SET_HEADER_WORDS)
    }

    /// Bytes of the whole area.
    pub fn area_bytes(&self) -> Option<u64> {
        (self.area_words()? as u64).checked_mul(8)
    }
}

/// The event a ring entry records (tools.md §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Received by an rx node.
    Rx = 1,
    /// Handed from one node to the next.
    Next = 2,
    /// Accepted by the port for transmission.
    Tx = 3,
    /// Freed by the `drop` node.
    Drop = 4,
}

impl EventKind {
    fn from_u8(v: u8) -> Option<EventKind> {
        Some(match v {
            1 => EventKind::Rx,
            2 => EventKind::Next,
            3 => EventKind::Tx,
            4 => EventKind::Drop,
            _ => return None,
        })
    }
}

/// The metadata of one ring entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryHeader {
    /// What happened.
    pub kind: EventKind,
    /// Realtime clock at the trace point, nanoseconds since the epoch.
    pub timestamp_ns: u64,
    /// Id of the packet in the graph.
    pub pkt_id: u32,
    /// Port the packet came in on.
    pub in_port: u16,
    /// Tx events: the port it left on; else [`NONE16`].
    pub out_port: u16,
    /// Source node id (index into the name table), [`NONE16`] for none.
    pub src: u16,
    /// Destination node id, [`NONE16`] for none.
    pub dst: u16,
    /// Drop events: the reason's index in the name table; else [`NONE16`].
    pub drop_reason: u16,
    /// Length of the whole packet.
    pub orig_len: u32,
    /// Bytes kept (at most the snap length).
    pub cap_len: u16,
}

impl EntryHeader {
    fn pack(&self) -> [u64; ENTRY_HEADER_WORDS] {
        [
            self.kind as u64 | u64::from(self.cap_len) << 8 | u64::from(self.orig_len) << 32,
            self.timestamp_ns,
            u64::from(self.pkt_id) | u64::from(self.in_port) << 32 | u64::from(self.out_port) << 48,
            u64::from(self.src) | u64::from(self.dst) << 16 | u64::from(self.drop_reason) << 32,
        ]
    }

    /// The record header for `data` cut to `snap` bytes (`cap_len` set, everything else
    /// as is) and the bytes kept.
    #[inline]
    pub(crate) fn packed<'d>(
        &self,
        data: &'d [u8],
        snap: usize,
    ) -> ([u64; ENTRY_HEADER_WORDS], &'d [u8]) {
        let body = &data[..data.len().min(snap)];
        let mut h = *self;
        h.cap_len = body.len() as u16;
        (h.pack(), body)
    }

    fn unpack(w: [u64; ENTRY_HEADER_WORDS]) -> Option<EntryHeader> {
        Some(EntryHeader {
            kind: EventKind::from_u8(w[0] as u8)?,
            cap_len: (w[0] >> 8) as u16,
            orig_len: (w[0] >> 32) as u32,
            timestamp_ns: w[1],
            pkt_id: w[2] as u32,
            in_port: (w[2] >> 32) as u16,
            out_port: (w[2] >> 48) as u16,
            src: w[3] as u16,
            dst: (w[3] >> 16) as u16,
            drop_reason: (w[3] >> 32) as u16,
        })
    }
}

/// A word of a ring's record area: records go in and out as whole byte ranges. The
/// default copies word by word through atomics (the loom model's words); the region's
/// words copy in bulk (`raw::write_record`, `raw::read_bytes`), which the protocol makes
/// race-free: a record is the producer's alone until the release store of the head
/// publishes it, and the consumer's alone until the release store of the tail frees it.
pub(crate) trait RecordWord: StoreWord + Sized {
    /// Producer: `head` words, then `body`'s bytes, the last word's tail zeroed, from the
    /// start of `record` (the caller sized it: `head.len() + body.len().div_ceil(8)`).
    #[inline]
    fn store_record(record: &[Self], head: &[u64], body: &[u8]) {
        let (head_words, rest) = record.split_at(head.len().min(record.len()));
        for (w, &v) in head_words.iter().zip(head) {
            w.store(v, Ordering::Relaxed);
        }
        for (w, c) in rest.iter().zip(body.chunks(8)) {
            let mut b = [0u8; 8];
            b[..c.len()].copy_from_slice(c);
            w.store(u64::from_ne_bytes(b), Ordering::Relaxed);
        }
    }

    /// Consumer: the first `out.len()` bytes of `words` (the caller sized `out`).
    #[inline]
    fn load_bytes(words: &[Self], out: &mut [u8]) {
        for (c, w) in out.chunks_mut(8).zip(words) {
            c.copy_from_slice(&w.load(Ordering::Relaxed).to_ne_bytes()[..c.len()]);
        }
    }
}

impl RecordWord for AtomicU64 {
    #[inline]
    fn store_record(record: &[Self], head: &[u64], body: &[u8]) {
        // the caller sized `record`; a mismatch would write nothing, never out of bounds
        let written = super::raw::write_record(record, head, body);
        debug_assert!(written, "record sized by the caller");
    }

    #[inline]
    fn load_bytes(words: &[Self], out: &mut [u8]) {
        let read = super::raw::read_bytes(words, out);
        debug_assert!(read, "output sized by the caller");
    }
}

#[cfg(test)]
impl RecordWord for loom::sync::atomic::AtomicU64 {}

/// One ring as word slices: the unit the protocol works on.
#[derive(Debug)]
pub(crate) struct RingWords<'a, W> {
    pub(crate) ctrl: &'a [W],
    /// The record area: `slots × slot_words` words, filled with packed records.
    pub(crate) data: &'a [W],
    /// Words of a record of the full snap length (the largest record).
    pub(crate) slot_words: usize,
}

/// Word 0 of a padding record: the rest of the area up to its end is unused (a record
/// never wraps around the end).
const PAD_WORD: u64 = PAD_KIND as u64;
/// Kind byte of a padding record (no [`EventKind`] has it).
const PAD_KIND: u8 = 0xFF;

/// The producer's private write position: monotonic count of words written (what
/// `HEAD` is published as) and its index in the record area (kept alongside so the
/// per-entry path never divides).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub(crate) pos: u64,
    pub(crate) off: usize,
}

impl Cursor {
    /// The cursor at the published head (once per attach, not per entry).
    pub(crate) fn at_head<W: RecordWord>(r: &RingWords<'_, W>) -> Cursor {
        let pos = r.ctrl[HEAD].load(Ordering::Relaxed);
        let n = r.data.len().max(1) as u64;
        Cursor {
            pos,
            off: (pos % n) as usize,
        }
    }
}

/// Whether `need` more words fit between the producer at `pos` and the consumer at
/// `tail`. The consumer's word is untrusted: a tail ahead of the head, or further behind
/// than the area, looks like a full ring, never like room.
#[inline]
fn fits(pos: u64, tail: u64, need: u64, area: u64) -> bool {
    let used = pos.wrapping_sub(tail);
    used <= area && need <= area - used
}

/// Producer: writes one record (`head`, the packed header whose `cap_len` is
/// `body.len()`, then `body`, the bytes kept, padded to a word: 64-byte frames take 12
/// words, not a full-snap slot) at `at` without publishing it (the caller publishes with
/// [`publish`]); `false` when the ring is full (the caller counts the loss) or `body` is
/// longer than a slot keeps. `tail` is the producer's cached copy of the consumer's
/// position, reloaded only when the ring looks full (so the consumer's cache line is not
/// read per entry). A record that would cross the end of the area is preceded by a
/// padding word and written at the start. Only the one producer may call it.
#[inline]
pub(crate) fn stage<W: RecordWord>(
    r: &RingWords<'_, W>,
    at: &mut Cursor,
    tail: &mut u64,
    head: &[u64; ENTRY_HEADER_WORDS],
    body: &[u8],
) -> bool {
    let area = r.data.len();
    let words = ENTRY_HEADER_WORDS + body.len().div_ceil(8);
    if words > r.slot_words {
        return false;
    }
    let pad = if at.off + words > area {
        area - at.off
    } else {
        0
    };
    let need = (pad + words) as u64;
    if !fits(at.pos, *tail, need, area as u64) {
        *tail = r.ctrl[TAIL].load(Ordering::Acquire);
        if !fits(at.pos, *tail, need, area as u64) {
            return false;
        }
    }
    if pad > 0 {
        r.data[at.off].store(PAD_WORD, Ordering::Relaxed);
        at.pos = at.pos.wrapping_add(pad as u64);
        at.off = 0;
    }
    W::store_record(&r.data[at.off..at.off + words], head, body);
    at.pos = at.pos.wrapping_add(words as u64);
    at.off += words;
    if at.off == area {
        at.off = 0;
    }
    true
}

/// Producer: makes everything written up to `pos` visible to the consumer.
#[inline]
pub(crate) fn publish<W: RecordWord>(r: &RingWords<'_, W>, pos: u64) {
    r.ctrl[HEAD].store(pos, Ordering::Release);
}

/// Producer: stages and publishes one entry; a full ring counts it in `LOST`.
#[cfg(test)]
pub(crate) fn push<W: RecordWord>(r: &RingWords<'_, W>, header: &EntryHeader, data: &[u8]) -> bool {
    let mut tail = r.ctrl[TAIL].load(Ordering::Acquire);
    let mut at = Cursor::at_head(r);
    let snap = (r.slot_words - ENTRY_HEADER_WORDS) * 8;
    let (head, body) = header.packed(data, snap);
    let ok = stage(r, &mut at, &mut tail, &head, body);
    if ok {
        publish(r, at.pos);
    } else {
        let lost = r.ctrl[LOST].load(Ordering::Relaxed);
        r.ctrl[LOST].store(lost.wrapping_add(1), Ordering::Relaxed);
    }
    ok
}

/// Consumer: reads up to `max` published records in order, calling `f` for each one
/// that decodes, then frees their words with one store of the tail. Answers how many
/// entries were taken (0: empty). Records are checked against the published head and
/// the area's end; one that does not fit (a corrupt or foreign region) makes the
/// consumer skip to the head and report `None` once.
pub(crate) fn take<W: RecordWord>(
    r: &RingWords<'_, W>,
    max: usize,
    data: &mut Vec<u8>,
    mut f: impl FnMut(Option<&EntryHeader>, &[u8]),
) -> usize {
    let area = r.data.len();
    let tail = r.ctrl[TAIL].load(Ordering::Relaxed);
    let head = r.ctrl[HEAD].load(Ordering::Acquire);
    let resync = |f: &mut dyn FnMut(Option<&EntryHeader>, &[u8])| {
        r.ctrl[TAIL].store(head, Ordering::Release);
        f(None, &[]);
        1
    };
    if area == 0 || head.wrapping_sub(tail) > area as u64 {
        // cannot happen with one consumer; resynchronise instead of reading garbage
        return resync(&mut f);
    }
    let mut pos = tail;
    let mut off = (tail % area as u64) as usize;
    let mut n = 0;
    while n < max && pos != head {
        let left = head.wrapping_sub(pos);
        let to_end = area - off;
        let w0 = r.data[off].load(Ordering::Relaxed);
        if w0 as u8 == PAD_KIND {
            if to_end as u64 > left {
                return n + resync(&mut f);
            }
            pos = pos.wrapping_add(to_end as u64);
            off = 0;
            continue;
        }
        let cap = usize::from((w0 >> 8) as u16);
        let words = ENTRY_HEADER_WORDS + cap.div_ceil(8);
        if words > r.slot_words || words > to_end || words as u64 > left {
            return n + resync(&mut f);
        }
        let record = &r.data[off..off + words];
        let mut hw = [0u64; ENTRY_HEADER_WORDS];
        for (v, w) in hw.iter_mut().zip(record) {
            *v = w.load(Ordering::Relaxed);
        }
        let header = EntryHeader::unpack(hw);
        data.clear();
        if header.is_some() {
            data.resize(cap, 0);
            W::load_bytes(&record[ENTRY_HEADER_WORDS..], data);
        }
        f(header.as_ref(), data);
        pos = pos.wrapping_add(words as u64);
        off += words;
        if off == area {
            off = 0;
        }
        n += 1;
    }
    if pos != tail {
        r.ctrl[TAIL].store(pos, Ordering::Release);
    }
    n
}

/// Consumer: takes the oldest entry into `data` (replaced); `None` when the ring is empty.
/// An entry that does not decode is skipped and reported as `Some(None)`.
#[cfg(test)]
pub(crate) fn pop<W: RecordWord>(
    r: &RingWords<'_, W>,
    data: &mut Vec<u8>,
) -> Option<Option<EntryHeader>> {
    let mut out = None;
    let mut copy = Vec::new();
    let n = take(r, 1, data, |h, d| {
        out = Some(h.copied());
        copy = d.to_vec();
    });
    *data = copy;
    (n > 0).then_some(out.flatten())
}

/// Why a ring set cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// The region could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The region has no ring set (a daemon without tracing, or a bug).
    #[error("the shared-memory region has no '{0}' rings: cannot connect to service")]
    NoRings(String),
    /// The region is mapped read-only.
    #[error("the shared-memory region is mapped read-only")]
    ReadOnly,
    /// Every ring is in use.
    #[error("{0} dumps are already attached to this dpservice-bin (the most it serves at once); stop one of them, or run 'dpservice-dump --stop' if none is running")]
    Busy(usize),
}

/// A ring set of a mapping, with word-level accessors.
#[derive(Debug, Clone)]
struct RingSet {
    shared: Arc<Shared>,
    /// First word of the area.
    base: usize,
    geometry: RingGeometry,
    /// Sizes from the geometry, computed once (the producer looks a ring up per entry).
    area_words: usize,
    ring_words: usize,
    slot_words: usize,
}

impl RingSet {
    fn find(shared: &Arc<Shared>, name: &str) -> Result<RingSet, MirrorError> {
        let info = shared
            .tables
            .iter()
            .find(|t| t.name == name && t.kind == KIND_RINGS)
            .ok_or_else(|| MirrorError::NoRings(name.to_owned()))?;
        if shared.map.atomic_words().is_none() {
            return Err(MirrorError::ReadOnly);
        }
        let geometry = RingGeometry {
            rings: info.bucket_count as usize,
            slots: info.capacity,
            snap_len: info.key_size as usize,
        };
        Ok(RingSet {
            shared: Arc::clone(shared),
            base: (info.offset / 8) as usize,
            geometry,
            area_words: geometry.area_words().unwrap_or(0),
            ring_words: geometry.ring_words(),
            slot_words: geometry.slot_words(),
        })
    }

    /// The area's words (checked against the mapping when the header was parsed).
    #[inline]
    fn words(&self) -> &[AtomicU64] {
        let all = self.shared.map.atomic_words().unwrap_or(&[]);
        all.get(self.base..self.base + self.area_words)
            .unwrap_or(&[])
    }

    fn set_word(&self, i: usize) -> &AtomicU64 {
        &self.words()[i]
    }

    #[inline]
    fn ring(&self, r: usize) -> RingWords<'_, AtomicU64> {
        let start = SET_HEADER_WORDS + r * self.ring_words;
        let words = &self.words()[start..start + self.ring_words];
        let (ctrl, data) = words.split_at(CTRL_WORDS);
        RingWords {
            ctrl,
            data,
            slot_words: self.slot_words,
        }
    }

    fn names(&self, first: usize, count_word: usize, max: usize) -> Vec<String> {
        let count = (self.set_word(count_word).load(Ordering::Acquire) as usize).min(max);
        (0..count)
            .map(|i| {
                let at = SET_NAMES + (first + i) * NAME_WORDS;
                let mut bytes = Vec::with_capacity(32);
                for w in &self.words()[at..at + NAME_WORDS] {
                    bytes.extend_from_slice(&w.load(Ordering::Relaxed).to_ne_bytes());
                }
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                String::from_utf8_lossy(&bytes[..end]).into_owned()
            })
            .collect()
    }

    fn write_names(&self, first: usize, count_word: usize, max: usize, names: &[&str]) {
        let n = names.len().min(max);
        for (i, name) in names.iter().take(n).enumerate() {
            let mut bytes = [0u8; NAME_WORDS * 8];
            let len = name.len().min(MAX_NAME);
            bytes[..len].copy_from_slice(&name.as_bytes()[..len]);
            let at = SET_NAMES + (first + i) * NAME_WORDS;
            for (w, c) in self.words()[at..at + NAME_WORDS]
                .iter()
                .zip(bytes.chunks_exact(8))
            {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                w.store(u64::from_ne_bytes(b), Ordering::Relaxed);
            }
        }
        self.set_word(count_word).store(n as u64, Ordering::Release);
    }
}

/// Monotonic clock in milliseconds (system-wide, so daemon and dump agree).
pub fn monotonic_ms() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    (t.tv_sec as u64).wrapping_mul(1000) + (t.tv_nsec as u64) / 1_000_000
}

/// Realtime clock in nanoseconds since the epoch (entry timestamps).
pub fn realtime_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Realtime);
    (t.tv_sec as u64).wrapping_mul(1_000_000_000) + t.tv_nsec as u64
}

mod consumer;
mod producer;

pub use consumer::{CaptureSettings, Consumer, Detached, Rings};
pub use producer::{Producer, TraceTarget};

/// Creates a producer on the daemon's writable region.
pub fn producer(region: &WritableRegion) -> Result<Producer, MirrorError> {
    Producer::new(RingSet::find(region.shared(), RINGS_NAME)?)
}

/// `dpservice-dump --stop`: detaches every ring of the instance's daemon; answers how
/// many were attached.
pub fn stop_all(instance: &Instance) -> Result<usize, MirrorError> {
    let set = RingSet::find(&region::open_instance_shared(instance)?, RINGS_NAME)?;
    Ok(consumer::stop_all(&set))
}

#[cfg(test)]
mod tests;
