//! The public-cap meter (dataplane.md §13), not a node but the check `snat` makes first:
//! per VF, a single-rate three-colour marker
//! (RFC 2697, colour blind) over the VF's default-route traffic, checked in `snat`;
//! red packets are dropped.
//!
//! Only with `--nic-type=mellanox`: on other NICs the state keeps both caps at 0 and
//! nothing is metered. The meter lives in the VF's [`PortState`](crate::graph::PortState), so the
//! packet path updates it without locks; it follows the interface's public cap (set up
//! anew whenever the cap it was built for differs, e.g. after the interface was
//! recreated with another cap).
//!
//! The total cap (the VF's transmit rate, programmed into the NIC over netlink) is not
//! done: it needs a Mellanox NIC.

use std::time::Instant;

use crate::config::NicType;
use crate::graph::Ctx;
use crate::port::meta::FlowType;
use crate::port::Buf;

/// Committed burst size, bytes.
const CBS: u64 = 4096;
/// Excess burst size for caps of 100 Mbit/s and more, bytes.
const EBS_MAX: u64 = 13_107_200;
const NANOS_PER_SEC: u128 = 1_000_000_000;

/// What the marker says about a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    /// Within the committed rate and burst.
    Green,
    /// Within the excess burst.
    Yellow,
    /// Beyond both: drop.
    Red,
}

/// A single-rate three-colour marker (RFC 2697), colour blind: two token buckets,
/// committed (`tc` ≤ CBS) and excess (`te` ≤ EBS), both full at the start; tokens arrive
/// at CIR bytes per second into the committed bucket and overflow into the excess one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SrTcm {
    /// Committed information rate, bytes per second.
    cir: u64,
    cbs: u64,
    ebs: u64,
    tc: u64,
    te: u64,
    /// Tokens were last added at this time...
    last: Instant,
    /// ...and this many billionths of a token were left over (no drift from rounding).
    fraction: u128,
}

impl SrTcm {
    /// A marker with both buckets full at `now`.
    pub fn new(cir: u64, cbs: u64, ebs: u64, now: Instant) -> SrTcm {
        SrTcm {
            cir,
            cbs,
            ebs,
            tc: cbs,
            te: ebs,
            last: now,
            fraction: 0,
        }
    }

    /// The marker of a public cap of `cap_mbps` Mbit/s (§13): CIR = 1,048,576 × ⌊cap/8⌋
    /// bytes/s, CBS = 4096 bytes, EBS = cap × 131,072 bytes below 100 Mbit/s, else
    /// 13,107,200 bytes.
    pub fn for_public_cap(cap_mbps: u64, now: Instant) -> SrTcm {
        let cir = 1_048_576u64.saturating_mul(cap_mbps / 8);
        let ebs = if cap_mbps < 100 {
            cap_mbps * 131_072
        } else {
            EBS_MAX
        };
        SrTcm::new(cir, CBS, ebs, now)
    }

    /// Adds the tokens that arrived since the last call.
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_nanos();
        self.last = self.last.max(now);
        let credit = elapsed * u128::from(self.cir) + self.fraction;
        self.fraction = credit % NANOS_PER_SEC;
        let tokens = u64::try_from(credit / NANOS_PER_SEC).unwrap_or(u64::MAX);
        let to_tc = tokens.min(self.cbs - self.tc);
        self.tc += to_tc;
        self.te = (self.te + (tokens - to_tc).min(self.ebs - self.te)).min(self.ebs);
    }

    /// Colours a packet of `bytes` at `now` and takes its tokens.
    pub fn mark(&mut self, bytes: u32, now: Instant) -> Colour {
        self.refill(now);
        let bytes = u64::from(bytes);
        if self.tc >= bytes {
            self.tc -= bytes;
            Colour::Green
        } else if self.te >= bytes {
            self.te -= bytes;
            Colour::Yellow
        } else {
            Colour::Red
        }
    }
}

/// A VF's public meter and the cap it was built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicMeter {
    cap_mbps: u64,
    marker: SrTcm,
}

/// Whether `pkt` may go on (`snat` drops it as `meter_red` otherwise): packets of a
/// default route (`SOUTH_NORTH`) from a VF with a public cap, on a Mellanox NIC, are
/// measured by their `l3_payload_length` (0 for IPv6, as upstream).
#[inline]
pub(crate) fn public_meter_allows(cx: &mut Ctx<'_>, pkt: &Buf) -> bool {
    if cx.cfg.nic_type != NicType::Mellanox || pkt.meta.flow_type != FlowType::SouthNorth {
        return true;
    }
    mark_public(cx, pkt)
}

/// The marking itself (only a Mellanox NIC's south-north packets get here).
#[cold]
fn mark_public(cx: &mut Ctx<'_>, pkt: &Buf) -> bool {
    let port = pkt.meta.in_port;
    let cap = cx.state.vf(port).map_or(0, |vf| vf.metering.public_rate);
    // 0 = no cap
    if cap == 0 {
        return true;
    }
    let Some(p) = cx.ports.get_mut(port) else {
        return true;
    };
    if p.is_pf() {
        return true;
    }
    let meter = match &mut p.public_meter {
        Some(m) if m.cap_mbps == cap => m,
        slot => slot.insert(PublicMeter {
            cap_mbps: cap,
            marker: SrTcm::for_public_cap(cap, cx.now),
        }),
    };
    meter.marker.mark(pkt.meta.l3_payload_length, cx.now) != Colour::Red
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn public_cap_parameters() {
        let t = Instant::now();
        let m = SrTcm::for_public_cap(100, t);
        assert_eq!((m.cir, m.cbs, m.ebs), (12 * 1_048_576, 4096, 13_107_200));
        let m = SrTcm::for_public_cap(99, t);
        assert_eq!((m.cir, m.ebs), (12 * 1_048_576, 99 * 131_072));
        // the rate is rounded down to whole MiB/s: below 8 Mbit/s nothing refills
        let m = SrTcm::for_public_cap(7, t);
        assert_eq!((m.cir, m.ebs), (0, 7 * 131_072));
        let m = SrTcm::for_public_cap(1000, t);
        assert_eq!((m.cir, m.ebs), (125 * 1_048_576, 13_107_200));
    }

    #[test]
    fn full_buckets_give_green_then_yellow_then_red() {
        let t = Instant::now();
        let mut m = SrTcm::new(1000, 3000, 2000, t);
        assert_eq!(m.mark(1000, t), Colour::Green);
        assert_eq!(m.mark(2000, t), Colour::Green);
        // the committed bucket is empty: the excess bucket pays
        assert_eq!(m.mark(1, t), Colour::Yellow);
        assert_eq!(m.mark(1999, t), Colour::Yellow);
        assert_eq!(m.mark(1, t), Colour::Red);
        // a packet bigger than either bucket is red even when they are full
        let mut fresh = SrTcm::new(1000, 3000, 2000, t);
        assert_eq!(fresh.mark(3001, t), Colour::Red);
        assert_eq!(
            fresh.mark(3000, t),
            Colour::Green,
            "a red packet takes nothing"
        );
        assert_eq!(fresh.mark(0, t), Colour::Green, "zero bytes always pass");
    }

    #[test]
    fn tokens_arrive_at_cir_committed_first() {
        let t = Instant::now();
        // 1000 bytes/s
        let mut m = SrTcm::new(1000, 3000, 2000, t);
        assert_eq!(m.mark(3000, t), Colour::Green);
        assert_eq!(m.mark(2000, t), Colour::Yellow);
        // 0.5 s: 500 tokens, all into the committed bucket
        assert_eq!(m.mark(501, t + ms(500)), Colour::Red);
        assert_eq!(m.mark(500, t + ms(500)), Colour::Green);
        // 4 s: 4000 tokens, 3000 fill the committed bucket, 1000 overflow to excess
        let later = t + ms(4500);
        assert_eq!(m.mark(3000, later), Colour::Green);
        assert_eq!(m.mark(1000, later), Colour::Yellow);
        assert_eq!(m.mark(1, later), Colour::Red);
        // a long idle time fills both buckets to their sizes, never beyond
        let idle = later + Duration::from_secs(3600);
        assert_eq!(m.mark(3000, idle), Colour::Green);
        assert_eq!(m.mark(2000, idle), Colour::Yellow);
        assert_eq!(m.mark(1, idle), Colour::Red);
    }

    #[test]
    fn fractions_of_tokens_are_kept() {
        let t = Instant::now();
        // 3 bytes/s: one token every 333.3 ms; a thousand 1 ms steps give 3 tokens
        let mut m = SrTcm::new(3, 10, 0, t);
        assert_eq!(m.mark(10, t), Colour::Green);
        let mut now = t;
        for _ in 0..1000 {
            now += ms(1);
            m.refill(now);
        }
        assert_eq!(m.tc, 3);
    }

    #[test]
    fn colour_blind_long_run_rate() {
        // over 10 s at 1 MiB/s, a sender of 2 MiB/s gets CIR × 10 plus both bursts through
        let t = Instant::now();
        let mut m = SrTcm::for_public_cap(8, t);
        let mut passed = 0u64;
        for i in 1..=20_000u64 {
            // 1048 bytes every 0.5 ms
            if m.mark(1048, t + Duration::from_micros(500 * i)) != Colour::Red {
                passed += 1048;
            }
        }
        let expected = 10 * 1_048_576 + 4096 + 8 * 131_072;
        assert!(
            passed <= expected && expected - passed < 3 * 1048,
            "{passed} vs {expected}"
        );
    }
}
