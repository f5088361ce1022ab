//! A dump's side of the rings: claim a free ring, keep a heartbeat, read entries.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{
    monotonic_ms, take, EntryHeader, MirrorError, RingSet, DETACHED, DETACHED_HEARTBEAT,
    DETACHED_STOP, FLAGS, FLAG_DROPS, FLAG_NODES, FLAG_NODE_MASK, HEAD, HEARTBEAT,
    HEARTBEAT_EVERY_MS, LOST, MAX_NODES, MAX_REASONS, NODE_MASK, NODE_MASK_WORDS, OWNER,
    RINGS_NAME, SET_MASK, SET_NODE_COUNT, SET_REASON_COUNT, TAIL,
};
use crate::instance::Instance;
use crate::shm::region;

/// What a dump asks the daemon for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureSettings {
    /// Also DROP events.
    pub drops: bool,
    /// Also NEXT (hand-over) events.
    pub nodes: bool,
    /// Only entries whose source node (or, without one, destination node) has its id in
    /// this list; `None` for all nodes.
    pub node_ids: Option<Vec<u16>>,
}

/// Why the ring stopped being ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detached {
    /// The daemon missed our heartbeat (we were stopped or starved too long).
    Heartbeat,
    /// `dpservice-dump --stop` detached everyone.
    Stopped,
    /// Someone else took the ring (should not happen).
    Other,
}

/// The instance's ring set, opened read-write.
#[derive(Debug)]
pub struct Rings {
    set: RingSet,
}

impl Rings {
    /// Opens the ring set of a running daemon.
    pub fn open(instance: &Instance) -> Result<Rings, MirrorError> {
        let shared = region::open_instance_shared(instance)?;
        Ok(Rings {
            set: RingSet::find(&shared, RINGS_NAME)?,
        })
    }

    /// Opens the ring set of the region file at `path`.
    pub fn open_path(path: &std::path::Path) -> Result<Rings, MirrorError> {
        let shared = region::open_shared(path, true)?;
        Ok(Rings {
            set: RingSet::find(&shared, RINGS_NAME)?,
        })
    }

    /// The graph's node names, index = node id.
    pub fn node_names(&self) -> Vec<String> {
        self.set.names(0, SET_NODE_COUNT, MAX_NODES)
    }

    /// The drop reason names, index = reason id.
    pub fn reason_names(&self) -> Vec<String> {
        self.set.names(MAX_NODES, SET_REASON_COUNT, MAX_REASONS)
    }

    /// The pid of the daemon that created the region.
    pub fn creator_pid(&self) -> u32 {
        self.set.shared.header.creator_pid
    }

    /// Claims a free ring, empties it and switches tracing on for it.
    pub fn attach(&self, settings: &CaptureSettings) -> Result<Consumer, MirrorError> {
        let token = token();
        for r in 0..self.set.geometry.rings {
            let ring = self.set.ring(r);
            // a fresh heartbeat first, so the daemon never sees our claim as stale
            if ring.ctrl[OWNER].load(Ordering::Acquire) != 0 {
                continue;
            }
            ring.ctrl[HEARTBEAT].store(monotonic_ms(), Ordering::Release);
            if ring.ctrl[OWNER]
                .compare_exchange(0, token, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
            {
                continue;
            }
            ring.ctrl[HEARTBEAT].store(monotonic_ms(), Ordering::Release);
            ring.ctrl[DETACHED].store(0, Ordering::Relaxed);
            let mut flags = 0;
            if settings.drops {
                flags |= FLAG_DROPS;
            }
            if settings.nodes {
                flags |= FLAG_NODES;
            }
            let mut mask = [0u64; NODE_MASK_WORDS];
            if let Some(ids) = &settings.node_ids {
                flags |= FLAG_NODE_MASK;
                for &id in ids {
                    let id = usize::from(id);
                    if id < MAX_NODES {
                        mask[id / 64] |= 1 << (id % 64);
                    }
                }
            }
            for (w, m) in ring.ctrl[NODE_MASK..NODE_MASK + NODE_MASK_WORDS]
                .iter()
                .zip(mask)
            {
                w.store(m, Ordering::Relaxed);
            }
            ring.ctrl[FLAGS].store(flags, Ordering::Relaxed);
            // leftovers of an earlier capture are not ours to show
            let head = ring.ctrl[HEAD].load(Ordering::Acquire);
            ring.ctrl[TAIL].store(head, Ordering::Release);
            let lost = ring.ctrl[LOST].load(Ordering::Relaxed);
            self.set
                .set_word(SET_MASK)
                .fetch_or(1 << r, Ordering::AcqRel);
            let stop = Arc::new(AtomicBool::new(false));
            let beat = spawn_heartbeat(self.set.clone(), r, token, Arc::clone(&stop));
            return Ok(Consumer {
                set: self.set.clone(),
                ring: r,
                token,
                lost_at_start: lost,
                stop,
                beat,
                data: Vec::new(),
            });
        }
        Err(MirrorError::Busy(self.set.geometry.rings))
    }

    /// How many rings tracing is on for (their bits in the mask the worker loads).
    pub fn tracing(&self) -> u32 {
        self.set
            .set_word(SET_MASK)
            .load(Ordering::Acquire)
            .count_ones()
    }

    /// Detaches every ring (`--stop`); answers how many were attached.
    pub fn stop_all(&self) -> usize {
        stop_all(&self.set)
    }
}

pub(super) fn stop_all(set: &RingSet) -> usize {
    let mut n = 0;
    set.set_word(SET_MASK).store(0, Ordering::Release);
    for r in 0..set.geometry.rings {
        let ring = set.ring(r);
        let owner = ring.ctrl[OWNER].load(Ordering::Acquire);
        if owner != 0 {
            ring.ctrl[DETACHED].store(DETACHED_STOP, Ordering::Release);
            if ring.ctrl[OWNER]
                .compare_exchange(owner, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                n += 1;
            }
        }
    }
    n
}

/// Our claim on a ring: pid in the high half, a per-process counter and the clock below,
/// never zero.
fn token() -> u64 {
    use std::sync::atomic::AtomicU32;
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) & 0xFF;
    u64::from(std::process::id()) << 32 | u64::from(n) << 24 | (monotonic_ms() & 0xFF_FFFF) | 1
}

fn spawn_heartbeat(
    set: RingSet,
    r: usize,
    token: u64,
    stop: Arc<AtomicBool>,
) -> Option<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("heartbeat".into())
        .spawn(move || {
            let ring = set.ring(r);
            while !stop.load(Ordering::Acquire) {
                if ring.ctrl[OWNER].load(Ordering::Acquire) != token {
                    return;
                }
                ring.ctrl[HEARTBEAT].store(monotonic_ms(), Ordering::Release);
                std::thread::park_timeout(Duration::from_millis(HEARTBEAT_EVERY_MS));
            }
        })
        .ok()
}

/// An attached ring; detaches when dropped.
#[derive(Debug)]
pub struct Consumer {
    set: RingSet,
    ring: usize,
    token: u64,
    lost_at_start: u64,
    stop: Arc<AtomicBool>,
    beat: Option<JoinHandle<()>>,
    data: Vec<u8>,
}

impl Consumer {
    /// Which ring of the set is ours.
    pub fn ring_index(&self) -> usize {
        self.ring
    }

    /// Calls `f` for up to `max` entries in ring order; answers how many were taken
    /// (entries that do not decode are skipped and not counted).
    pub fn read(&mut self, max: usize, mut f: impl FnMut(&EntryHeader, &[u8])) -> usize {
        let ring = self.set.ring(self.ring);
        let mut n = 0;
        while n < max {
            let mut decoded = 0;
            let taken = take(&ring, max - n, &mut self.data, |h, d| {
                if let Some(h) = h {
                    f(h, d);
                    decoded += 1;
                }
            });
            if taken == 0 {
                break;
            }
            n += decoded;
        }
        n
    }

    /// Entries the daemon could not write since we attached (ring full).
    pub fn lost(&self) -> u64 {
        let ring = self.set.ring(self.ring);
        ring.ctrl[LOST]
            .load(Ordering::Relaxed)
            .wrapping_sub(self.lost_at_start)
    }

    /// `Some` once the ring is no longer ours (daemon timeout, `--stop`).
    pub fn detached(&self) -> Option<Detached> {
        let ring = self.set.ring(self.ring);
        if ring.ctrl[OWNER].load(Ordering::Acquire) == self.token {
            return None;
        }
        Some(match ring.ctrl[DETACHED].load(Ordering::Acquire) {
            DETACHED_HEARTBEAT => Detached::Heartbeat,
            DETACHED_STOP => Detached::Stopped,
            _ => Detached::Other,
        })
    }

    /// Switches tracing off for our ring and frees it. Answers whether it was still ours.
    pub fn detach(&mut self) -> bool {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.beat.take() {
            t.thread().unpark();
            let _ = t.join();
        }
        let ring = self.set.ring(self.ring);
        if ring.ctrl[OWNER].load(Ordering::Acquire) != self.token {
            return false;
        }
        self.set
            .set_word(SET_MASK)
            .fetch_and(!(1u64 << self.ring), Ordering::AcqRel);
        ring.ctrl[OWNER]
            .compare_exchange(self.token, 0, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        self.detach();
    }
}
