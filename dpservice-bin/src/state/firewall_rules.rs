//! Storage of one interface's firewall rules: insertion order plus an index by ID, where
//! no single call touches more than a bounded number of entries, even at 65,536 rules
//! (ARCHITECTURE.md: no job on the worker longer than one burst).
//!
//! - Rules sit in fixed-size chunks of slots linked in insertion order; a deleted rule's
//!   slot is unlinked and reused. Growing adds a chunk: no rule is ever moved.
//! - The ID index is split into shards, each its own hash map, so that growing one
//!   rehashes about 1/64 of the IDs rather than all of them.
//! - The verdict index ([`FirewallIndex`]) finds the first matching rule without a scan;
//!   every rule carries a sequence number, growing with insertion, that orders them there.

use std::collections::HashMap;
use std::hash::BuildHasher;

use dpservice::model::{FirewallRule, ObjectId, TrafficDirection};

use super::firewall_index::FirewallIndex;
use super::FirewallPacket;

/// Slots per chunk.
const CHUNK: usize = 256;
/// Shards of the ID index.
const SHARDS: usize = 64;
/// No slot (end of the list).
const NONE: u32 = u32::MAX;

type IdMap = HashMap<ObjectId, u32, foldhash::fast::RandomState>;

/// The rules of one interface, in insertion order, indexed by ID: create (duplicate
/// check), get and delete are O(1) on average, listing and evaluation walk the
/// insertion order.
#[derive(Debug, Clone, Default)]
pub struct FirewallRules {
    chunks: Vec<Vec<Slot>>,
    /// Slots whose rule was deleted, for reuse.
    free: Vec<u32>,
    /// Oldest and newest rule (meaningless while empty).
    first: u32,
    last: u32,
    /// ID → slot, in shards (empty until the first rule).
    index: Vec<IdMap>,
    /// Picks the shard of an ID; seeded apart from the shards' own hashers.
    pick: foldhash::fast::RandomState,
    len: usize,
    /// Egress rules among them: without any, egress traffic is accepted.
    egress: usize,
    /// Sequence number of the next rule.
    next_seq: u64,
    /// Rules by what they match, for the verdict.
    verdicts: FirewallIndex,
}

#[derive(Debug, Clone)]
struct Slot {
    rule: Option<FirewallRule>,
    /// Insertion order (the verdict index's key).
    seq: u64,
    prev: u32,
    next: u32,
}

/// Rules in insertion order.
#[derive(Debug, Clone)]
pub struct Rules<'a> {
    table: &'a FirewallRules,
    at: u32,
    left: usize,
}

impl<'a> Iterator for Rules<'a> {
    type Item = &'a FirewallRule;

    fn next(&mut self) -> Option<&'a FirewallRule> {
        if self.left == 0 {
            return None;
        }
        let slot = self.table.slot(self.at)?;
        self.at = slot.next;
        self.left -= 1;
        slot.rule.as_ref()
    }
}

impl PartialEq for FirewallRules {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for FirewallRules {}

fn split(at: u32) -> (usize, usize) {
    let at = at as usize;
    (at / CHUNK, at % CHUNK)
}

impl FirewallRules {
    /// Rules in insertion order.
    pub fn iter(&self) -> Rules<'_> {
        Rules {
            table: self,
            at: self.first,
            left: self.len,
        }
    }

    /// Number of rules (telemetry reports it per interface).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no rule.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether an egress rule exists.
    pub fn has_egress_rules(&self) -> bool {
        self.egress > 0
    }

    /// The rule with this ID.
    pub fn get(&self, id: &[u8]) -> Option<&FirewallRule> {
        let at = *self.shard(id)?.get(id)?;
        self.slot(at)?.rule.as_ref()
    }

    fn shard_of(&self, id: &[u8]) -> usize {
        // the remainder is below SHARDS, so it fits usize
        (self.pick.hash_one(id) % SHARDS as u64) as usize
    }

    fn shard(&self, id: &[u8]) -> Option<&IdMap> {
        self.index.get(self.shard_of(id))
    }

    fn slot(&self, at: u32) -> Option<&Slot> {
        let (c, i) = split(at);
        self.chunks.get(c)?.get(i)
    }

    fn slot_mut(&mut self, at: u32) -> Option<&mut Slot> {
        let (c, i) = split(at);
        self.chunks.get_mut(c)?.get_mut(i)
    }

    /// Appends `rule`, whose ID must not be there yet (the caller checked).
    pub(super) fn push(&mut self, rule: FirewallRule) {
        if self.index.is_empty() {
            self.index = (0..SHARDS).map(|_| IdMap::default()).collect();
        }
        let shard = self.shard_of(rule.id.as_bytes());
        let id = rule.id.clone();
        if rule.direction == TrafficDirection::Egress {
            self.egress += 1;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = Slot {
            rule: Some(rule),
            seq,
            prev: if self.len == 0 { NONE } else { self.last },
            next: NONE,
        };
        let at = match self.free.pop() {
            Some(at) => {
                if let Some(s) = self.slot_mut(at) {
                    *s = slot;
                }
                at
            }
            None => {
                if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
                    self.chunks.push(Vec::with_capacity(CHUNK));
                }
                let full = (self.chunks.len() - 1) * CHUNK;
                let Some(chunk) = self.chunks.last_mut() else {
                    return;
                };
                // at most `firewall_rules_per_interface` slots, far below u32::MAX
                let at = u32::try_from(full + chunk.len()).unwrap_or(NONE);
                chunk.push(slot);
                at
            }
        };
        if self.len > 0 {
            let last = self.last;
            if let Some(s) = self.slot_mut(last) {
                s.next = at;
            }
        } else {
            self.first = at;
        }
        self.last = at;
        self.len += 1;
        if let Some(map) = self.index.get_mut(shard) {
            map.insert(id, at);
        }
        let (c, i) = split(at);
        if let Some(rule) = self.chunks.get(c).and_then(|c| c.get(i)?.rule.as_ref()) {
            self.verdicts.insert(rule, seq, at);
        }
    }

    /// The first rule of direction `dir`, in insertion order, that matches `pkt`
    /// (through the verdict index).
    pub(super) fn first_match(
        &self,
        dir: TrafficDirection,
        pkt: &FirewallPacket,
    ) -> Option<&FirewallRule> {
        let at = self.verdicts.first_match(dir, pkt)?;
        self.slot(at)?.rule.as_ref()
    }

    /// Removes the rule with this ID.
    pub(super) fn remove(&mut self, id: &[u8]) -> Option<FirewallRule> {
        let shard = self.shard_of(id);
        let at = self.index.get_mut(shard)?.remove(id)?;
        let slot = self.slot_mut(at)?;
        let (prev, next, seq) = (slot.prev, slot.next, slot.seq);
        let rule = slot.rule.take()?;
        self.verdicts.remove(&rule, seq);
        if at == self.first {
            self.first = next;
        } else if let Some(p) = self.slot_mut(prev) {
            p.next = next;
        }
        if at == self.last {
            self.last = prev;
        } else if let Some(n) = self.slot_mut(next) {
            n.prev = prev;
        }
        self.free.push(at);
        self.len -= 1;
        if rule.direction == TrafficDirection::Egress {
            self.egress -= 1;
        }
        Some(rule)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dpservice::model::{FirewallAction, ProtocolFilter};

    fn rule(id: &str, direction: TrafficDirection) -> FirewallRule {
        FirewallRule {
            id: id.into(),
            direction,
            action: FirewallAction::Accept,
            priority: 1000,
            source: "0.0.0.0/0".parse().unwrap(),
            destination: "0.0.0.0/0".parse().unwrap(),
            filter: ProtocolFilter::Any,
        }
    }

    fn ids(fw: &FirewallRules) -> Vec<String> {
        fw.iter().map(|r| r.id.to_string()).collect()
    }

    #[test]
    fn deletes_keep_insertion_order_and_reuse_slots() {
        let mut fw = FirewallRules::default();
        for id in ["a", "b", "c", "d"] {
            fw.push(rule(id, TrafficDirection::Ingress));
        }
        assert_eq!(fw.remove(b"b").unwrap().id, "b");
        assert!(fw.remove(b"b").is_none());
        assert_eq!(ids(&fw), ["a", "c", "d"]);
        // the first and the last
        fw.remove(b"a");
        fw.remove(b"d");
        assert_eq!(ids(&fw), ["c"]);
        fw.push(rule("e", TrafficDirection::Egress));
        fw.push(rule("f", TrafficDirection::Ingress));
        assert_eq!(ids(&fw), ["c", "e", "f"]);
        assert_eq!(fw.chunks[0].len(), 4, "freed slots are reused");
        assert_eq!(fw.get(b"e").unwrap().direction, TrafficDirection::Egress);
        assert!(fw.get(b"a").is_none());
        assert!(fw.has_egress_rules());
        // emptied and refilled
        for id in [&b"c"[..], b"e", b"f"] {
            fw.remove(id);
        }
        assert!(fw.is_empty() && fw.iter().next().is_none());
        assert!(!fw.has_egress_rules());
        fw.push(rule("g", TrafficDirection::Ingress));
        assert_eq!(ids(&fw), ["g"]);
    }

    /// Random creates and deletes across several chunks, against a plain list.
    #[test]
    fn matches_a_plain_list() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut fw = FirewallRules::default();
        let mut reference: Vec<String> = Vec::new();
        for _ in 0..20_000 {
            let id = format!("r{}", next() % 2000);
            if fw.get(id.as_bytes()).is_some() {
                fw.remove(id.as_bytes()).unwrap();
                reference.retain(|r| *r != id);
            } else {
                fw.push(rule(&id, TrafficDirection::Ingress));
                reference.push(id);
            }
            assert_eq!(fw.len(), reference.len());
        }
        assert_eq!(ids(&fw), reference);
        assert!(fw.chunks.len() > 1, "spans several chunks");
        assert!(
            fw.chunks.iter().all(|c| c.len() <= CHUNK),
            "chunks never outgrow their size"
        );
    }
}
