//! The conntrack table (§7.3, §7.6): both keys of every flow in the region's
//! `conntrack_table`, and the cursor ([`Flow`]) a packet carries through the graph.

use std::time::{Duration, Instant};

use dpservice::shm::catalogue::FLOW_KEY_WORDS;
use dpservice::shm::table::{InsertError, Slot, TableWriter};

use super::{key, CtKey, FlowEntry, NO_PORT};
use crate::flow::key::FlowKey;
use crate::port::meta::FlowDir;
use crate::port::PortId;

/// A packet's refresh of its copy's last-seen time is written only once the stored
/// time is this old: aging works in seconds, and an established flow then costs no
/// store per packet.
const TOUCH_NS: u64 = 50_000_000;

/// Why a flow could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    /// No room in the conntrack table (counted in its insert failures).
    #[error("the conntrack table is full")]
    Full,
    /// The key is another flow's already.
    #[error("the key belongs to another flow")]
    Taken,
}

/// The flow of the packet being walked: this key's copy of the entry, changed in place by
/// the nodes and written back once when the walk ends ([`FlowTable::close`]).
#[derive(Debug, Clone, Copy)]
pub struct Flow {
    /// The packet's key.
    pub key: CtKey,
    slot: Slot,
    /// The table hash of `key` (where a created flow's key is linked).
    hash: u64,
    /// Of a created flow: what its reply copy keeps of its own (fixed when the reply key
    /// was made).
    reply_own: ReplyOwn,
    /// This key's copy of the entry.
    pub entry: FlowEntry,
    /// Whether the packet is in the original or the reply direction.
    pub dir: FlowDir,
    /// Made by this packet (a table miss). Its keys are linked into the table only when
    /// the walk ends ([`FlowTable::close`]), each written once with what the walk made
    /// of it; the room for them was checked when the flow was made.
    pub created: bool,
    /// Something of this copy alone changed (last seen, cached route).
    own_changed: bool,
    /// Something both directions share changed.
    shared_changed: bool,
}

impl Flow {
    /// A flow of `key` (table hash `hash`) not in the table, its entry zeroed.
    #[inline(always)]
    fn unlinked(key: CtKey, hash: u64) -> Flow {
        Flow {
            key,
            slot: Slot::NONE,
            hash,
            reply_own: ReplyOwn::default(),
            entry: bytemuck::Zeroable::zeroed(),
            dir: FlowDir::Org,
            created: false,
            own_changed: false,
            shared_changed: false,
        }
    }

    /// Changes what both directions share (flags, NAT, TCP state, verdicts); written to
    /// both copies when the walk ends.
    #[inline]
    pub fn update(&mut self, change: impl FnOnce(&mut FlowEntry)) {
        change(&mut self.entry);
        self.shared_changed = true;
    }

    /// Changes what belongs to this key's copy only (its cached routing result).
    #[inline]
    pub fn update_own(&mut self, change: impl FnOnce(&mut FlowEntry)) {
        change(&mut self.entry);
        self.own_changed = true;
    }

    #[inline]
    pub fn flags(&self) -> u8 {
        self.entry.flags
    }

    #[inline]
    pub fn is_org(&self) -> bool {
        self.dir == FlowDir::Org
    }

    /// The original-direction key.
    pub fn org_key(&self) -> CtKey {
        if self.is_org() {
            self.key
        } else {
            self.entry.other_key
        }
    }

    /// The reply-direction key.
    pub fn reply_key(&self) -> CtKey {
        if self.is_org() {
            self.entry.other_key
        } else {
            self.key
        }
    }
}

/// The flow of the packet being walked, if it has one. The storage stays from packet to
/// packet: a found entry is read straight over the previous packet's (no zeroed cursor
/// built per packet), and "no flow" is a mark, not an empty value.
#[derive(Debug, Clone)]
pub struct FlowCursor {
    flow: Flow,
    live: bool,
}

impl Default for FlowCursor {
    fn default() -> Self {
        FlowCursor {
            flow: Flow::unlinked(bytemuck::Zeroable::zeroed(), 0),
            live: false,
        }
    }
}

impl FlowCursor {
    /// The packet's flow.
    #[inline]
    pub fn as_ref(&self) -> Option<&Flow> {
        self.live.then_some(&self.flow)
    }

    /// The packet's flow, to change.
    #[inline]
    pub fn as_mut(&mut self) -> Option<&mut Flow> {
        self.live.then_some(&mut self.flow)
    }

    /// Whether the packet has a flow.
    #[inline]
    pub fn is_some(&self) -> bool {
        self.live
    }

    /// The packet has no flow (any more).
    #[inline]
    pub fn clear(&mut self) {
        self.live = false;
    }
}

/// The fields of a created flow's reply copy that are its own and not fixed (§7.3): taken
/// from the original copy when the reply key is made, as a stored copy would keep them.
#[derive(Debug, Clone, Copy, Default)]
struct ReplyOwn {
    last_seen_ns: u64,
    route_gen: u32,
    next_hop_mac: [u8; 6],
    route_underlay: [u8; 16],
    route_vni: u32,
}

impl ReplyOwn {
    fn of(e: &FlowEntry) -> ReplyOwn {
        ReplyOwn {
            last_seen_ns: e.last_seen_ns,
            route_gen: e.route_gen,
            next_hop_mac: e.next_hop_mac,
            route_underlay: e.route_underlay,
            route_vni: e.route_vni,
        }
    }
}

/// Copies what the two directions share from `src` into `dst`, keeping `dst`'s own fields.
fn copy_shared(dst: &mut FlowEntry, src: &FlowEntry) {
    let own = *dst;
    *dst = *src;
    dst.other_key = own.other_key;
    dst.direction = own.direction;
    dst.last_seen_ns = own.last_seen_ns;
    dst.flow_hash = own.flow_hash;
    dst.route_gen = own.route_gen;
    dst.route_info = own.route_info;
    dst.out_port = own.out_port;
    dst.next_hop_mac = own.next_hop_mac;
    dst.route_underlay = own.route_underlay;
    dst.route_vni = own.route_vni;
}

/// The conntrack table of one worker.
#[derive(Debug)]
pub struct FlowTable {
    table: TableWriter<CtKey, FlowEntry>,
    /// `--flow-timeout`: every flow but an established TCP one.
    timeout_s: u32,
    /// An instant and its `CLOCK_MONOTONIC` nanoseconds: last-seen times are stored as
    /// the latter, which the tools compare with their own clock.
    anchor: (Instant, u64),
    /// Where the aging sweep continues (`None`: no sweep running).
    sweep: Option<usize>,
}

impl FlowTable {
    pub fn new(table: TableWriter<CtKey, FlowEntry>, flow_timeout: Duration, now: Instant) -> Self {
        FlowTable {
            table,
            timeout_s: u32::try_from(flow_timeout.as_secs())
                .unwrap_or(u32::MAX)
                .max(1),
            anchor: (now, monotonic_ns()),
            sweep: None,
        }
    }

    /// Timeout of a flow that is not established TCP, in seconds.
    pub fn default_timeout_s(&self) -> u32 {
        self.timeout_s
    }

    /// `now` as `CLOCK_MONOTONIC` nanoseconds.
    #[inline]
    pub fn mono_ns(&self, now: Instant) -> u64 {
        let (at, ns) = self.anchor;
        match now.checked_duration_since(at) {
            Some(d) => ns.saturating_add(d.as_nanos() as u64),
            None => ns.saturating_sub(at.duration_since(now).as_nanos() as u64),
        }
    }

    /// The flow of `k`: found, or made with `k` as original key and its reverse as reply
    /// key (§7.3), created by `in_port`.
    pub fn open(&mut self, k: &FlowKey, in_port: PortId, now: Instant) -> Result<Flow, FlowError> {
        let mut out = FlowCursor::default();
        let now_ns = self.mono_ns(now);
        let key = key::pack(k);
        let hash = self.table_hash(&key);
        self.open_at(&key, hash, None, in_port, now_ns, &mut out)
            .copied()
    }

    /// Where `key` lives in the table: computed once per packet (before the walk, for
    /// [`FlowTable::prefetch`]) and handed to [`FlowTable::open_at`].
    #[inline]
    pub fn table_hash(&self, key: &CtKey) -> u64 {
        self.table.hash_of(key)
    }

    /// Prefetches the bucket a lookup of `hash` reads: a burst's lookups then wait for
    /// memory together instead of one after the other.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        self.table.prefetch_bucket(hash);
    }

    /// Prefetches the first entry of the chain a lookup of `hash` walks, once its bucket
    /// had time to arrive. A lookup that will miss (empty chain) makes a flow, which
    /// looks up its reply key: that key and its hash are answered, its bucket prefetched.
    #[inline(always)]
    pub fn prefetch_chain(&self, key: &[u64; FLOW_KEY_WORDS], hash: u64) -> Option<(CtKey, u64)> {
        if !self.table.prefetch_chain(hash) {
            return None;
        }
        self.prefetch_reply(&CtKey::from_words(key))
    }

    /// The reply key of `key` with its hash, its bucket prefetched (out of line: only
    /// the first packet of a flow needs it, and inlined it would weigh on every
    /// established packet's staging).
    #[cold]
    #[inline(never)]
    fn prefetch_reply(&self, key: &CtKey) -> Option<(CtKey, u64)> {
        let reply = key::pack(&key::reverse(&key::unpack(key)));
        let reply_hash = self.table.hash_of(&reply);
        self.table.prefetch_bucket(reply_hash);
        Some((reply, reply_hash))
    }

    /// [`FlowTable::open`] for the packet path: the flow of `key` (whose
    /// [`FlowTable::table_hash`] is `hash`) is built in `out` (no copies of the entry on
    /// the way), `now_ns` as [`FlowTable::mono_ns`] gives it; `reply`: the reply key with
    /// its hash if [`FlowTable::prefetch_chain`] made them.
    #[inline]
    pub fn open_at<'f>(
        &mut self,
        key: &CtKey,
        hash: u64,
        reply: Option<(CtKey, u64)>,
        in_port: PortId,
        now_ns: u64,
        out: &'f mut FlowCursor,
    ) -> Result<&'f mut Flow, FlowError> {
        let found = self.table.find_hashed(key, hash);
        self.open_found(key, hash, found, reply, in_port, now_ns, out)
    }

    /// [`FlowTable::table_hash`] of the key whose words (`FlowKey::words`) are `words`.
    #[inline(always)]
    pub fn hash_of_words(&self, words: &[u64; FLOW_KEY_WORDS]) -> u64 {
        self.table.hash_of_words(words)
    }

    /// Where the flow of the key whose words (`FlowKey::words`) are `words` (table hash
    /// `hash`) is stored, if it is: the fast lane reads it in place
    /// ([`FlowTable::stored`]) and, when it leaves the packet to the walk, hands the
    /// answer to [`FlowTable::open_found`] (no second search).
    #[inline(always)]
    pub fn find_words(&self, words: &[u64; FLOW_KEY_WORDS], hash: u64) -> Option<Slot> {
        self.table.find_words(words, hash)
    }

    /// The entry at `slot` (from [`FlowTable::find_words`]), read in place.
    #[inline(always)]
    pub fn stored(&self, slot: Slot) -> Option<&FlowEntry> {
        self.table.value_at(slot)
    }

    /// Whether a packet of the flow stored as `e` at `now_ns` refreshes the entry's
    /// last-seen time (written back when the walk ends).
    #[inline(always)]
    pub fn is_stale(e: &FlowEntry, now_ns: u64) -> bool {
        now_ns.saturating_sub(e.last_seen_ns) >= TOUCH_NS
    }

    /// What a walk over the stored flow at `slot` that changes nothing else writes back
    /// when [`FlowTable::is_stale`]: the entry with its last-seen time `now_ns`.
    #[cold]
    pub fn refresh(&mut self, slot: Slot, now_ns: u64) {
        let mut e: FlowEntry = bytemuck::Zeroable::zeroed();
        self.table.value_into_at(slot, &mut e);
        e.last_seen_ns = now_ns;
        self.table.write_at(slot, &e);
    }

    /// [`FlowTable::open_at`] with the table's answer for `key` known already
    /// (`found`, from [`FlowTable::find_words`] with nothing changed in the table since).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn open_found<'f>(
        &mut self,
        key: &CtKey,
        hash: u64,
        found: Option<Slot>,
        reply: Option<(CtKey, u64)>,
        in_port: PortId,
        now_ns: u64,
        out: &'f mut FlowCursor,
    ) -> Result<&'f mut Flow, FlowError> {
        let key = *key;
        out.live = false;
        let f = &mut out.flow;
        if let Some(slot) = found {
            self.table.value_into_at(slot, &mut f.entry);
            // every field a hit depends on is set here: the cursor holds the previous
            // packet's flow
            f.key = key;
            f.slot = slot;
            f.hash = hash;
            f.created = false;
            f.shared_changed = false;
            f.own_changed = false;
            if Self::is_stale(&f.entry, now_ns) {
                f.entry.last_seen_ns = now_ns;
                f.own_changed = true;
            }
            f.dir = if f.entry.direction != 0 {
                FlowDir::Reply
            } else {
                FlowDir::Org
            };
            out.live = true;
            return Ok(&mut out.flow);
        }
        *f = Flow::unlinked(key, hash);
        let (reply, reply_hash) = match reply {
            Some(r) => r,
            None => {
                let r = key::pack(&key::reverse(&key::unpack(&key)));
                (r, self.table.hash_of(&r))
            }
        };
        f.entry = FlowEntry {
            other_key: reply,
            port_id: in_port,
            timeout_s: self.timeout_s,
            last_seen_ns: now_ns,
            flow_hash: key::hash(&key),
            out_port: NO_PORT,
            ..bytemuck::Zeroable::zeroed()
        };
        // linked when the walk ends (`close`): here only what could refuse it
        if reply != key && self.table.contains_hashed(&reply, reply_hash) {
            return Err(FlowError::Taken);
        }
        self.table
            .room_for(if reply == key { 1 } else { 2 })
            .map_err(from_insert)?;
        f.reply_own = ReplyOwn::of(&f.entry);
        f.created = true;
        out.live = true;
        Ok(&mut out.flow)
    }

    /// Writes back what the walk changed: this copy, and the shared part to the other.
    /// Most packets of an established flow change nothing: checked inline.
    #[inline]
    pub fn close(&mut self, flow: &Flow) {
        if flow.created || flow.shared_changed || flow.own_changed {
            self.write_back(flow);
        }
    }

    #[inline(never)]
    fn write_back(&mut self, flow: &Flow) {
        if flow.created {
            self.link_created(flow);
        } else if flow.shared_changed {
            self.table.write_at(flow.slot, &flow.entry);
            if flow.entry.other_key != flow.key {
                self.table
                    .update(&flow.entry.other_key, |o| copy_shared(o, &flow.entry));
            }
        } else if flow.own_changed {
            self.table.write_at(flow.slot, &flow.entry);
        }
    }

    /// Links both keys of a flow made by this walk, each copy written once. Their room
    /// was checked and the keys found absent when the flow (or its reply key) was made;
    /// nothing else adds keys during a walk.
    #[cold]
    fn link_created(&mut self, flow: &Flow) {
        let mut org = flow.entry;
        let reply = org.other_key;
        let Ok(slot) = self.table.insert_absent(&flow.key, flow.hash, &org) else {
            return;
        };
        if reply == flow.key {
            return;
        }
        let own = flow.reply_own;
        let copy = FlowEntry {
            other_key: flow.key,
            direction: 1,
            flow_hash: key::hash(&reply),
            route_info: 0,
            out_port: NO_PORT,
            last_seen_ns: own.last_seen_ns,
            route_gen: own.route_gen,
            next_hop_mac: own.next_hop_mac,
            route_underlay: own.route_underlay,
            route_vni: own.route_vni,
            ..org
        };
        let hash = self.table.hash_of(&reply);
        if self.table.insert_absent(&reply, hash, &copy).is_err() {
            // cannot happen (room checked): the flow is left one-way, as it says
            org.other_key = flow.key;
            self.table.write_at(slot, &org);
        }
    }

    /// Makes `reply` the flow's reply key (NAT stages, §8): the old reply copy goes, a
    /// copy under the new key comes. Only for a packet in the original direction.
    pub fn replace_reply_key(&mut self, flow: &mut Flow, reply: CtKey) -> Result<(), FlowError> {
        debug_assert!(
            flow.is_org(),
            "reply keys are replaced from the original direction"
        );
        let old = flow.entry.other_key;
        if old == reply {
            return Ok(());
        }
        if self.table.contains(&reply) {
            return Err(FlowError::Taken);
        }
        if flow.created {
            // nothing linked yet: the reply copy is made when the walk ends
            if old == flow.key {
                if let Err(e) = self.table.room_for(2) {
                    return Err(from_insert(e));
                }
            }
            flow.entry.other_key = reply;
            flow.reply_own = ReplyOwn::of(&flow.entry);
            return Ok(());
        }
        if old != flow.key {
            self.table.remove(&old);
        }
        flow.entry.other_key = reply;
        let copy = FlowEntry {
            other_key: flow.key,
            direction: 1,
            flow_hash: key::hash(&reply),
            route_info: 0,
            out_port: NO_PORT,
            ..flow.entry
        };
        if let Err(e) = self.table.insert(reply, copy) {
            // the flow is left one-way; its original copy says so
            flow.entry.other_key = flow.key;
            self.table.write_at(flow.slot, &flow.entry);
            return Err(from_insert(e));
        }
        self.table.write_at(flow.slot, &flow.entry);
        Ok(())
    }

    /// Inserts a flow made outside the packet path (HA activation, §16.3): `shared`
    /// holds what both directions share; the per-copy fields (direction, other key,
    /// hash, last seen = `now`, no cached route) are filled in here. `Taken` if either key
    /// is stored already (nothing is changed then).
    pub fn insert_flow(
        &mut self,
        org: CtKey,
        reply: CtKey,
        shared: FlowEntry,
        now: Instant,
    ) -> Result<(), FlowError> {
        if self.table.contains(&org) || self.table.contains(&reply) {
            return Err(FlowError::Taken);
        }
        let entry = FlowEntry {
            other_key: reply,
            direction: 0,
            last_seen_ns: self.mono_ns(now),
            flow_hash: key::hash(&org),
            route_gen: 0,
            route_info: 0,
            out_port: NO_PORT,
            next_hop_mac: [0; 6],
            route_underlay: [0; 16],
            route_vni: 0,
            ..shared
        };
        self.table.insert(org, entry).map_err(from_insert)?;
        if reply != org {
            let copy = FlowEntry {
                other_key: org,
                direction: 1,
                flow_hash: key::hash(&reply),
                ..entry
            };
            if let Err(e) = self.table.insert(reply, copy) {
                self.table.remove(&org);
                return Err(from_insert(e));
            }
        }
        Ok(())
    }

    /// Removes the flow `any` belongs to (both keys); answers its original key and entry.
    pub fn remove(&mut self, any: &CtKey) -> Option<(CtKey, FlowEntry)> {
        let entry = self.table.remove(any)?;
        if entry.other_key != *any {
            self.table.remove(&entry.other_key);
        }
        Some(if entry.direction == 0 {
            (*any, entry)
        } else {
            let mut org = entry;
            org.other_key = *any;
            (entry.other_key, org)
        })
    }

    /// A copy of the entry stored under `key`.
    pub fn get(&self, key: &CtKey) -> Option<FlowEntry> {
        self.table.get(key)
    }

    /// Starts an aging sweep (the flow-aging tick, §17.1) unless one is running.
    pub fn start_aging(&mut self) {
        if self.sweep.is_none() {
            self.sweep = Some(0);
        }
    }

    /// Whether an aging sweep is under way.
    pub fn aging(&self) -> bool {
        self.sweep.is_some()
    }

    /// Continues the aging sweep over at most `budget` pool entries: a flow idle for
    /// longer than its timeout in both directions is removed (both keys), and
    /// `on_removed` hears of it with its original key (NAT port release, HA sync).
    /// Answers how many flows went.
    pub fn age_step(
        &mut self,
        now: Instant,
        budget: usize,
        mut on_removed: impl FnMut(&CtKey, &FlowEntry),
    ) -> usize {
        let Some(from) = self.sweep else {
            return 0;
        };
        let now_ns = self.mono_ns(now);
        let expired = |e: &FlowEntry| {
            now_ns.saturating_sub(e.last_seen_ns) > u64::from(e.timeout_s) * 1_000_000_000
        };
        let mut idle: Vec<CtKey> = Vec::new();
        let next = self.table.scan(from, budget, |_, k, e| {
            if expired(e) {
                idle.push(*k);
            }
        });
        self.sweep = (next != 0).then_some(next);
        let mut removed = 0;
        for k in idle {
            let Some(e) = self.table.get(&k) else {
                continue; // went with its other key already
            };
            if e.other_key != k {
                if let Some(other) = self.table.get(&e.other_key) {
                    if !expired(&other) {
                        continue;
                    }
                }
            }
            if let Some((org, entry)) = self.remove(&k) {
                on_removed(&org, &entry);
                removed += 1;
            }
        }
        removed
    }

    /// Removes every flow `doomed` answers true for (given its original key and entry),
    /// as configuration changes ask (§7.7); `on_removed` hears of each.
    pub fn purge(
        &mut self,
        mut doomed: impl FnMut(&CtKey, &FlowEntry) -> bool,
        mut on_removed: impl FnMut(&CtKey, &FlowEntry),
    ) -> usize {
        let mut keys = Vec::new();
        self.table.for_each(|k, e| {
            if e.direction == 0 && doomed(k, e) {
                keys.push(*k);
            }
        });
        let mut removed = 0;
        for k in keys {
            if let Some((org, entry)) = self.remove(&k) {
                on_removed(&org, &entry);
                removed += 1;
            }
        }
        removed
    }

    /// Keys stored (two per flow).
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Inserts refused because the table was full.
    pub fn insert_failures(&self) -> u64 {
        self.table.insert_failures()
    }

    /// Visits every stored key with its entry (tests, HA dumps).
    pub fn for_each(&self, visit: impl FnMut(&CtKey, &FlowEntry)) {
        self.table.for_each(visit);
    }
}

fn from_insert(e: InsertError) -> FlowError {
    match e {
        InsertError::Full => FlowError::Full,
        InsertError::Exists => FlowError::Taken,
    }
}

/// `CLOCK_MONOTONIC` now, in nanoseconds.
fn monotonic_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(t.tv_nsec).unwrap_or(0)
}
