//! Index of one interface's firewall rules for the verdict (dataplane.md §10): finds the
//! first rule in insertion order that matches a packet without walking every rule.
//!
//! Rules are grouped by direction, then:
//! - ICMP rules by their (type, code) pair, "any" included. Addresses do not count for
//!   them (upstream behaviour), so every rule of one pair matches the same packets and
//!   the oldest of the pair is the answer: at most four probes.
//! - Other rules by address family and protocol class (any, TCP, UDP), then by their
//!   *shape* (destination and source prefix length), then in a hash map by the masked
//!   (destination, source) pair. A packet probes one bucket per shape in use, with its
//!   own addresses masked to that shape; the bucket's rules all match its addresses.
//!   Within a bucket, rules with a one-port destination range are sorted by that port
//!   (a binary search finds them), the others are kept in insertion order.
//!
//! Every rule carries a sequence number that grows with insertion; the answer is the
//! candidate with the lowest one. A rule whose source and destination are of different
//! families never matches anything but ICMP (and is indexed only if ICMP).
//!
//! Creating and deleting a rule stays cheap at 65,536 rules (ARCHITECTURE.md: no job on
//! the worker longer than one burst): the bucket maps are split into shards, so growing
//! one rehashes a fraction of the buckets; a bucket's sorted lists move at most its own
//! entries (a memmove, 2 MiB when every rule shares one bucket).
//!
//! Worst cases: many shapes in use (up to 33 × 33 for IPv4, 129 × 129 for IPv6) means
//! many probes; many rules of one bucket with port ranges that do not match the packet
//! are walked. Neither is worse than the linear scan.

use std::net::IpAddr;

use dpservice::model::{FirewallRule, PortRange, ProtocolFilter, TrafficDirection};

use super::{FirewallPacket, PacketMap};

const ICMP: u8 = 1;
const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMPV6: u8 = 58;

/// Shards of each bucket map (a power of two).
const SHARD_BITS: u32 = 4;
const SHARDS: usize = 1 << SHARD_BITS;

/// A rule as a bucket holds it: what is left to compare once the bucket matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    /// Insertion order.
    seq: u64,
    /// The rule's slot in [`super::FirewallRules`].
    at: u32,
    src_ports: PortRange,
    dst_ports: PortRange,
}

impl Entry {
    #[inline]
    fn ports_match(&self, pkt: &FirewallPacket) -> bool {
        self.src_ports.matches(pkt.src_port_or_type) && self.dst_ports.matches(pkt.dst_port_or_code)
    }

    /// The destination port of a one-port range.
    fn exact_dst_port(&self) -> Option<u16> {
        match (self.dst_ports.lower, self.dst_ports.upper) {
            (Some(l), Some(u)) if l == u => Some(l),
            _ => None,
        }
    }
}

/// The best candidate found so far: the lowest sequence number.
#[derive(Debug, Clone, Copy, Default)]
struct Best(Option<(u64, u32)>);

impl Best {
    /// Whether `seq` could still win.
    #[inline]
    fn beaten_by(&self, seq: u64) -> bool {
        self.0.is_none_or(|(s, _)| seq < s)
    }

    #[inline]
    fn offer(&mut self, e: &Entry) {
        if self.beaten_by(e.seq) {
            self.0 = Some((e.seq, e.at));
        }
    }

    /// The first entry of `list` (sorted by sequence) that matches the ports.
    #[inline]
    fn scan<'a>(&mut self, list: impl Iterator<Item = &'a Entry>, pkt: &FirewallPacket) {
        for e in list {
            if !self.beaten_by(e.seq) {
                return;
            }
            if e.ports_match(pkt) {
                self.offer(e);
                return;
            }
        }
    }
}

/// Which shard a key lives in; the maps hash the key again with their own seed.
trait ShardKey {
    fn shard(&self) -> usize;
}

#[inline]
fn spread(x: u64) -> usize {
    // multiplicative hashing: the top bits depend on every bit of `x`
    (x.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - SHARD_BITS)) as usize
}

impl ShardKey for (u128, u128) {
    #[inline]
    fn shard(&self) -> usize {
        let fold = |v: u128| (v as u64) ^ ((v >> 64) as u64);
        spread(fold(self.0) ^ fold(self.1).rotate_left(23))
    }
}

impl ShardKey for (Option<u8>, Option<u8>) {
    #[inline]
    fn shard(&self) -> usize {
        let part = |v: Option<u8>| v.map_or(256, u64::from);
        spread((part(self.0) << 9) | part(self.1))
    }
}

/// A hash map split into shards (none until the first insert).
#[derive(Debug, Clone)]
struct Sharded<K, V> {
    shards: Vec<PacketMap<K, V>>,
}

impl<K, V> Default for Sharded<K, V> {
    fn default() -> Self {
        Sharded { shards: Vec::new() }
    }
}

impl<K: ShardKey + Eq + std::hash::Hash, V: Default> Sharded<K, V> {
    #[inline]
    fn get(&self, key: &K) -> Option<&V> {
        self.shards.get(key.shard())?.get(key)
    }

    fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.shards.get_mut(key.shard())?.get_mut(key)
    }

    fn entry(&mut self, key: K) -> &mut V {
        if self.shards.is_empty() {
            self.shards = (0..SHARDS).map(|_| PacketMap::default()).collect();
        }
        let shard = key.shard();
        // `shard` is below SHARDS, the length just ensured
        let map = &mut self.shards[shard];
        map.entry(key).or_default()
    }

    fn remove(&mut self, key: &K) {
        if let Some(map) = self.shards.get_mut(key.shard()) {
            map.remove(key);
        }
    }
}

/// Rules of one address bucket.
#[derive(Debug, Clone, Default)]
struct Bucket {
    /// Rules with a one-port destination range, by (port, sequence).
    by_dst_port: Vec<Entry>,
    /// The others, by sequence.
    rest: Vec<Entry>,
}

impl Bucket {
    fn insert(&mut self, e: Entry) {
        match e.exact_dst_port() {
            Some(port) => {
                let at = self
                    .by_dst_port
                    .partition_point(|x| (x.exact_dst_port(), x.seq) < (Some(port), e.seq));
                self.by_dst_port.insert(at, e);
            }
            // sequence numbers only grow: appending keeps the order
            None => self.rest.push(e),
        }
    }

    fn remove(&mut self, e: &Entry) {
        let list = match e.exact_dst_port() {
            Some(port) => {
                let at = self
                    .by_dst_port
                    .partition_point(|x| (x.exact_dst_port(), x.seq) < (Some(port), e.seq));
                (&mut self.by_dst_port, at)
            }
            None => {
                let at = self.rest.partition_point(|x| x.seq < e.seq);
                (&mut self.rest, at)
            }
        };
        if list.0.get(list.1).is_some_and(|x| x.seq == e.seq) {
            list.0.remove(list.1);
        }
    }

    fn is_empty(&self) -> bool {
        self.by_dst_port.is_empty() && self.rest.is_empty()
    }

    #[inline]
    fn lookup(&self, pkt: &FirewallPacket, best: &mut Best) {
        if !self.by_dst_port.is_empty() {
            let port = Some(pkt.dst_port_or_code);
            let from = self
                .by_dst_port
                .partition_point(|x| x.exact_dst_port() < port);
            let run = self.by_dst_port[from..]
                .iter()
                .take_while(|x| x.exact_dst_port() == port);
            best.scan(run, pkt);
        }
        best.scan(self.rest.iter(), pkt);
    }
}

/// Rules of one (destination length, source length).
#[derive(Debug, Clone)]
struct Shape {
    dst_len: u8,
    src_len: u8,
    rules: usize,
    buckets: Sharded<(u128, u128), Bucket>,
}

/// An address as bits of its family, and the family's width.
#[inline]
fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

/// `v` (of a `width`-bit family) with all but the first `len` bits cleared.
#[inline]
fn masked(v: u128, width: u8, len: u8) -> u128 {
    let host_bits = u32::from(width.saturating_sub(len));
    let keep = u128::MAX.checked_shl(host_bits).unwrap_or(0);
    v & keep
}

/// Address rules of one family and protocol class.
#[derive(Debug, Clone, Default)]
struct AddrGroup {
    shapes: Vec<Shape>,
}

impl AddrGroup {
    fn key(dst: u128, src: u128, width: u8, dst_len: u8, src_len: u8) -> (u128, u128) {
        (masked(dst, width, dst_len), masked(src, width, src_len))
    }

    fn insert(&mut self, rule: &FirewallRule, e: Entry) {
        let (dst, width) = bits(rule.destination.addr());
        let (src, _) = bits(rule.source.addr());
        let (dst_len, src_len) = (rule.destination.len(), rule.source.len());
        let shape = match self
            .shapes
            .iter()
            .position(|s| (s.dst_len, s.src_len) == (dst_len, src_len))
        {
            Some(i) => &mut self.shapes[i],
            None => {
                self.shapes.push(Shape {
                    dst_len,
                    src_len,
                    rules: 0,
                    buckets: Sharded::default(),
                });
                let last = self.shapes.len() - 1;
                &mut self.shapes[last]
            }
        };
        shape.rules += 1;
        shape
            .buckets
            .entry(Self::key(dst, src, width, dst_len, src_len))
            .insert(e);
    }

    fn remove(&mut self, rule: &FirewallRule, e: &Entry) {
        let (dst, width) = bits(rule.destination.addr());
        let (src, _) = bits(rule.source.addr());
        let (dst_len, src_len) = (rule.destination.len(), rule.source.len());
        let Some(i) = self
            .shapes
            .iter()
            .position(|s| (s.dst_len, s.src_len) == (dst_len, src_len))
        else {
            return;
        };
        let shape = &mut self.shapes[i];
        let key = Self::key(dst, src, width, dst_len, src_len);
        let Some(bucket) = shape.buckets.get_mut(&key) else {
            return;
        };
        bucket.remove(e);
        if bucket.is_empty() {
            shape.buckets.remove(&key);
        }
        shape.rules -= 1;
        if shape.rules == 0 {
            self.shapes.swap_remove(i);
        }
    }

    #[inline]
    fn lookup(&self, dst: u128, src: u128, width: u8, pkt: &FirewallPacket, best: &mut Best) {
        for s in &self.shapes {
            let key = Self::key(dst, src, width, s.dst_len, s.src_len);
            if let Some(bucket) = s.buckets.get(&key) {
                bucket.lookup(pkt, best);
            }
        }
    }
}

/// Protocol classes of address rules.
const CLASS_ANY: usize = 0;
const CLASS_TCP: usize = 1;
const CLASS_UDP: usize = 2;

/// The rules of one direction.
#[derive(Debug, Clone, Default)]
struct DirIndex {
    /// ICMP rules by (type, code), `None` = any; each list by sequence.
    icmp: Sharded<(Option<u8>, Option<u8>), Vec<Entry>>,
    /// Address rules by family (IPv4, IPv6) and class.
    addr: [[AddrGroup; 3]; 2],
}

/// Where a rule goes in its direction's index.
enum Place {
    Icmp(Option<u8>, Option<u8>),
    Addr {
        family: usize,
        class: usize,
    },
    /// Source and destination of different families: never matches.
    Nowhere,
}

fn place(rule: &FirewallRule) -> Place {
    let class = match rule.filter {
        ProtocolFilter::Icmp(f) => return Place::Icmp(f.icmp_type, f.icmp_code),
        ProtocolFilter::Any => CLASS_ANY,
        ProtocolFilter::Tcp(_) => CLASS_TCP,
        ProtocolFilter::Udp(_) => CLASS_UDP,
    };
    match (rule.source.addr(), rule.destination.addr()) {
        (IpAddr::V4(_), IpAddr::V4(_)) => Place::Addr { family: 0, class },
        (IpAddr::V6(_), IpAddr::V6(_)) => Place::Addr { family: 1, class },
        _ => Place::Nowhere,
    }
}

fn entry(rule: &FirewallRule, seq: u64, at: u32) -> Entry {
    let (src_ports, dst_ports) = match rule.filter {
        ProtocolFilter::Tcp(f) | ProtocolFilter::Udp(f) => (f.src, f.dst),
        ProtocolFilter::Any | ProtocolFilter::Icmp(_) => (PortRange::ANY, PortRange::ANY),
    };
    Entry {
        seq,
        at,
        src_ports,
        dst_ports,
    }
}

/// The verdict index of one interface's rules. See the module documentation.
#[derive(Debug, Clone, Default)]
pub(super) struct FirewallIndex {
    /// Ingress, egress.
    dirs: [DirIndex; 2],
}

fn dir_index(dir: TrafficDirection) -> usize {
    match dir {
        TrafficDirection::Ingress => 0,
        TrafficDirection::Egress => 1,
    }
}

impl FirewallIndex {
    /// Adds `rule`, stored in slot `at`; `seq` must exceed every earlier rule's.
    pub(super) fn insert(&mut self, rule: &FirewallRule, seq: u64, at: u32) {
        let e = entry(rule, seq, at);
        let d = &mut self.dirs[dir_index(rule.direction)];
        match place(rule) {
            Place::Icmp(t, c) => d.icmp.entry((t, c)).push(e),
            Place::Addr { family, class } => d.addr[family][class].insert(rule, e),
            Place::Nowhere => {}
        }
    }

    /// Removes `rule`, inserted with `seq`.
    pub(super) fn remove(&mut self, rule: &FirewallRule, seq: u64) {
        let e = entry(rule, seq, 0);
        let d = &mut self.dirs[dir_index(rule.direction)];
        match place(rule) {
            Place::Icmp(t, c) => {
                let key = (t, c);
                if let Some(list) = d.icmp.get_mut(&key) {
                    let at = list.partition_point(|x| x.seq < seq);
                    if list.get(at).is_some_and(|x| x.seq == seq) {
                        list.remove(at);
                    }
                    if list.is_empty() {
                        d.icmp.remove(&key);
                    }
                }
            }
            Place::Addr { family, class } => d.addr[family][class].remove(rule, &e),
            Place::Nowhere => {}
        }
    }

    /// The slot of the first rule (in insertion order) of direction `dir` that matches
    /// `pkt`.
    #[inline]
    pub(super) fn first_match(&self, dir: TrafficDirection, pkt: &FirewallPacket) -> Option<u32> {
        let d = &self.dirs[dir_index(dir)];
        let mut best = Best::default();
        let protocol = if pkt.protocol == ICMPV6 {
            ICMP
        } else {
            pkt.protocol
        };
        if protocol == ICMP {
            // a type or code beyond 8 bits matches only "any"
            let t = u8::try_from(pkt.src_port_or_type).ok();
            let c = u8::try_from(pkt.dst_port_or_code).ok();
            let types = [t.map(Some), Some(None)];
            let codes = [c.map(Some), Some(None)];
            for ty in types.into_iter().flatten() {
                for co in codes.into_iter().flatten() {
                    if let Some(first) = d.icmp.get(&(ty, co)).and_then(|l| l.first()) {
                        best.offer(first);
                    }
                }
            }
        }
        let (dst, width) = bits(pkt.dst);
        let (src, src_width) = bits(pkt.src);
        if width == src_width {
            let family = usize::from(width == 128);
            let groups = &d.addr[family];
            groups[CLASS_ANY].lookup(dst, src, width, pkt, &mut best);
            let class = match protocol {
                TCP => Some(CLASS_TCP),
                UDP => Some(CLASS_UDP),
                _ => None,
            };
            if let Some(class) = class {
                groups[class].lookup(dst, src, width, pkt, &mut best);
            }
        }
        best.0.map(|(_, at)| at)
    }
}
