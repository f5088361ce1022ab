//! Maglev consistent hashing for load-balancer targets (dataplane.md §9.5, §19.4).
//!
//! Wire-visible: the target a flow lands on must be the one upstream picks, so that
//! mixed HA pairs and upstream's tests agree. The table is rebuilt by the control plane
//! whenever the target set changes; the packet path only indexes it.

use std::net::Ipv6Addr;

/// Number of slots (a prime).
pub const TABLE_SIZE: usize = 503;

/// MurmurHash2 (32-bit, seed 0) over the 16 address bytes: a target's offset.
pub fn murmur2(addr: &Ipv6Addr) -> u32 {
    const M: u32 = 0x5bd1_e995;
    let bytes = addr.octets();
    let mut h: u32 = 16;
    for block in bytes.chunks_exact(4) {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

/// DJB hash (`h*33 + byte`, bit 31 cleared) over the 16 address bytes: a target's skip.
pub fn djb(addr: &Ipv6Addr) -> u32 {
    let h = addr.octets().iter().fold(5381u32, |h, &b| {
        h.wrapping_mul(33).wrapping_add(u32::from(b))
    });
    h & !(1 << 31)
}

/// Slot → index into the (sorted) target list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaglevTable {
    slots: Vec<u8>,
}

impl MaglevTable {
    /// The table for `targets`, which must be sorted ascending and at most 256 long
    /// (load balancers hold at most 64). Empty for no targets.
    pub fn build(targets: &[Ipv6Addr]) -> MaglevTable {
        let n = targets.len().min(usize::from(u8::MAX) + 1);
        if n == 0 {
            return MaglevTable { slots: Vec::new() };
        }
        // permutation of target i: (offset_i + j * skip_i) mod size, j = 0..size
        let params: Vec<(usize, usize)> = targets[..n]
            .iter()
            .map(|t| {
                let offset = murmur2(t) as usize % TABLE_SIZE;
                let skip = djb(t) as usize % (TABLE_SIZE - 1) + 1;
                (offset, skip)
            })
            .collect();
        let mut slots: Vec<Option<u8>> = vec![None; TABLE_SIZE];
        let mut next = vec![0usize; n];
        let mut filled = 0;
        // Rounds over the targets in order; each claims the next free slot of its
        // permutation. A permutation visits every slot (size is prime), so this ends.
        'fill: while filled < TABLE_SIZE {
            for (i, &(offset, skip)) in params.iter().enumerate() {
                while next[i] < TABLE_SIZE {
                    let pos = (offset + next[i] * skip) % TABLE_SIZE;
                    next[i] += 1;
                    if slots[pos].is_none() {
                        slots[pos] = u8::try_from(i).ok();
                        filled += 1;
                        if filled == TABLE_SIZE {
                            break 'fill;
                        }
                        break;
                    }
                }
            }
        }
        MaglevTable {
            slots: slots
                .iter()
                .enumerate()
                .map(|(pos, s)| s.unwrap_or((pos % n) as u8))
                .collect(),
        }
    }

    /// Index of the target for a flow with this hash (the jhash of its original key),
    /// `None` when the table is empty.
    pub fn pick(&self, flow_hash: u32) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        Some(usize::from(self.slots[flow_hash as usize % TABLE_SIZE]))
    }

    /// Slot contents (for mirroring and inspection).
    pub fn slots(&self) -> &[u8] {
        &self.slots
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn targets() -> Vec<Ipv6Addr> {
        [
            "fc00:1::8000:1234:1",
            "fc00:1::8000:1234:2",
            "fc00:1::8000:1234:3",
        ]
        .iter()
        .map(|s| a(s))
        .collect()
    }

    #[test]
    fn permutation_hashes_match_the_worked_example() {
        let t = a("fc00:1::8000:1234:1");
        assert_eq!(murmur2(&t), 0x4ca8_e4fb);
        assert_eq!(murmur2(&t) as usize % TABLE_SIZE, 287);
        assert_eq!(djb(&t), 0x3c1a_de89);
        assert_eq!(djb(&t) as usize % (TABLE_SIZE - 1) + 1, 362);
    }

    #[test]
    fn picks_what_upstream_ha_test_expects() {
        let t = targets();
        let table = MaglevTable::build(&t);
        // flow hashes of the two flows in xtratest_ha.test_ha_maglev (dataplane §19.5)
        assert_eq!(t[table.pick(0xea89_f889).unwrap()], t[1]);
        assert_eq!(t[table.pick(0xf35d_4eec).unwrap()], t[2]);
    }

    #[test]
    fn table_is_filled_and_balanced() {
        let t = targets();
        let table = MaglevTable::build(&t);
        assert_eq!(table.slots().len(), TABLE_SIZE);
        let mut counts = [0usize; 3];
        for &s in table.slots() {
            counts[usize::from(s)] += 1;
        }
        // Maglev gives each target ⌊M/N⌋ or ⌈M/N⌉ slots
        assert!(counts.iter().all(|&c| c == 167 || c == 168), "{counts:?}");
    }

    #[test]
    fn single_and_no_target() {
        assert_eq!(MaglevTable::build(&[]).pick(5), None);
        let one = MaglevTable::build(&targets()[..1]);
        assert!((0..2000).all(|h| one.pick(h) == Some(0)));
    }

    #[test]
    fn removal_disturbs_few_flows() {
        let t = targets();
        let full = MaglevTable::build(&t);
        let rest = vec![t[0], t[2]];
        let reduced = MaglevTable::build(&rest);
        let mut moved = 0;
        for h in 0..TABLE_SIZE as u32 {
            let before = t[full.pick(h).unwrap()];
            let after = rest[reduced.pick(h).unwrap()];
            assert_ne!(after, t[1], "a removed target is never picked");
            if before != t[1] && before != after {
                moved += 1;
            }
        }
        // flows on surviving targets mostly stay (the test's HA flow stays on …:3)
        assert!(moved < TABLE_SIZE / 10, "{moved} flows moved");
        assert_eq!(rest[reduced.pick(0xf35d_4eec).unwrap()], t[2]);
    }
}
