//! The uplink of an IPv4 tunnel: weighted multipath over pf0 and pf1 by flow hash, with
//! failover when one link is down (dataplane.md §6.6).

/// The uplink chosen by weighted multipath (§6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uplink {
    Pf0,
    Pf1,
}

/// The WCMP table: the share of IPv4 tunnel egress sent on pf0, in tenths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wcmp {
    /// `None` for `--wcmp=100` (no multipath: pf0 unless down).
    pf0_slots: Option<u8>,
}

impl Wcmp {
    pub const TABLE_SIZE: u32 = 10;

    /// From `--wcmp` (0..=100; larger values behave like 100).
    pub fn new(percent: u8) -> Self {
        if percent >= 100 {
            return Wcmp { pf0_slots: None };
        }
        // round half away from zero of percent / 10
        Wcmp {
            pf0_slots: Some((percent + 5) / 10),
        }
    }

    /// Picks the uplink for `hash`, given the link states of pf0 and pf1.
    #[inline]
    pub fn choose(&self, hash: u32, pf0_up: bool, pf1_up: bool) -> Uplink {
        let Some(slots) = self.pf0_slots else {
            return if pf0_up { Uplink::Pf0 } else { Uplink::Pf1 };
        };
        let wants_pf0 = (hash % Self::TABLE_SIZE) < u32::from(slots);
        if (!wants_pf0 && pf1_up) || (wants_pf0 && !pf0_up) {
            Uplink::Pf1
        } else {
            Uplink::Pf0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wcmp_rounding_and_failover() {
        // 100: pf0 unless down
        let w = Wcmp::new(100);
        assert_eq!(w.choose(7, true, true), Uplink::Pf0);
        assert_eq!(w.choose(7, false, true), Uplink::Pf1);
        // 25% rounds to 3 slots (half away from zero), 24% to 2
        let w25 = Wcmp::new(25);
        assert_eq!(w25.choose(2, true, true), Uplink::Pf0);
        assert_eq!(w25.choose(3, true, true), Uplink::Pf1);
        assert_eq!(Wcmp::new(24).choose(2, true, true), Uplink::Pf1);
        // wants pf1 but pf1 down -> pf0; wants pf0 but pf0 down -> pf1
        assert_eq!(w25.choose(9, true, false), Uplink::Pf0);
        assert_eq!(w25.choose(0, false, true), Uplink::Pf1);
        // 0%: everything to pf1 while up
        assert_eq!(Wcmp::new(0).choose(0, true, true), Uplink::Pf1);
    }
}
