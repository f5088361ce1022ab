//! `rx_periodic`: the maintenance frames sent to every started VF (dataplane.md §5.5) and
//! the timer that paces them (§17.2).

use std::time::{Duration, Instant};

use super::{GATEWAY_V4, GATEWAY_V6};
use crate::graph::state::State;
use crate::graph::{GraphConfig, PortTable};
use crate::port::PortId;
use crate::wire::ethernet::{self, ethertype, MacAddr, HEADER_LEN as ETH};
use crate::wire::{arp, icmpv6, ip_proto, ipv6};

/// Longest periodic frame (RA: 14 + 40 + 24).
const MAX_LEN: usize = ETH + ipv6::HEADER_LEN + 24;

/// One generated frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    bytes: [u8; MAX_LEN],
    len: usize,
}

impl Frame {
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    pub fn ethertype(&self) -> u16 {
        u16::from_be_bytes([self.bytes[12], self.bytes[13]])
    }
}

/// ARP request from the gateway: for the VM's address while the ARP cycle is pending,
/// otherwise for the gateway itself (gratuitous).
pub(crate) fn arp_frame(vf_mac: MacAddr, target: std::net::Ipv4Addr) -> Frame {
    let mut f = Frame {
        bytes: [0; MAX_LEN],
        len: ETH + arp::PACKET_LEN,
    };
    ethernet::emit(&mut f.bytes, MacAddr::BROADCAST, vf_mac, ethertype::ARP);
    arp::emit(
        &mut f.bytes[ETH..],
        arp::OP_REQUEST,
        vf_mac,
        GATEWAY_V4,
        MacAddr::ZERO,
        target,
    );
    f
}

fn icmpv6_frame(vf_mac: MacAddr, build: impl FnOnce(&mut [u8]) -> usize) -> Frame {
    let mut f = Frame {
        bytes: [0; MAX_LEN],
        len: 0,
    };
    ethernet::emit(
        &mut f.bytes,
        MacAddr::IPV6_ALL_NODES,
        vf_mac,
        ethertype::IPV6,
    );
    let n = build(&mut f.bytes[ETH + ipv6::HEADER_LEN..]);
    ipv6::Repr {
        src: GATEWAY_V6,
        dst: ipv6::ALL_NODES,
        next_header: ip_proto::ICMPV6,
        payload_len: n as u16,
        hop_limit: 255,
        traffic_class: 0,
        flow_label: 0,
    }
    .emit(&mut f.bytes[ETH..]);
    let icmp = &mut f.bytes[ETH + ipv6::HEADER_LEN..ETH + ipv6::HEADER_LEN + n];
    icmpv6::Packet::new_unchecked(icmp).fill_checksum(&GATEWAY_V6, &ipv6::ALL_NODES);
    f.len = ETH + ipv6::HEADER_LEN + n;
    f
}

/// Unsolicited router advertisement to all nodes.
pub(crate) fn ra_frame(vf_mac: MacAddr) -> Frame {
    icmpv6_frame(vf_mac, |out| icmpv6::emit_router_advert(out, vf_mac))
}

/// Unsolicited neighbour advertisement of the gateway to all nodes.
pub(crate) fn na_frame(vf_mac: MacAddr) -> Frame {
    icmpv6_frame(vf_mac, |out| icmpv6::emit_unsolicited_na(out, &GATEWAY_V6))
}

/// The frames of one maintenance run, in upstream's order: RA and NA (IPv6 overlay only,
/// VFs with an IPv6 address), then ARP (VFs with an IPv4 address). Every started VF gets
/// them, also on a standby instance.
pub(crate) fn build(
    cfg: &GraphConfig,
    ports: &PortTable,
    state: &State,
    out: &mut Vec<(PortId, Frame)>,
) {
    let vfs = || {
        ports
            .iter()
            .filter(|p| !p.is_pf() && p.started)
            .filter_map(|p| state.vf(p.id).map(|vf| (p, vf)))
    };
    if cfg.ipv6_overlay {
        for (p, _) in vfs().filter(|(_, vf)| vf.ipv6.is_some()) {
            out.push((p.id, ra_frame(p.mac)));
        }
        for (p, _) in vfs().filter(|(_, vf)| vf.ipv6.is_some()) {
            out.push((p.id, na_frame(p.mac)));
        }
    }
    for (p, vf) in vfs() {
        let Some(vm_ip) = vf.ipv4 else { continue };
        let target = if p.arp_done { GATEWAY_V4 } else { vm_ip };
        out.push((p.id, arp_frame(p.mac, target)));
    }
}

/// Paces the maintenance frames: every 5 s; once `Initialize` has been called, five more
/// runs at 5 s, then every 30 s (upstream's start-up back-off).
#[derive(Debug, Clone)]
pub struct MaintenanceTimer {
    next: Instant,
    period: Duration,
    initialized: bool,
    runs_since_init: u32,
}

impl MaintenanceTimer {
    pub const STARTUP_INTERVAL: Duration = Duration::from_secs(5);
    pub const INTERVAL: Duration = Duration::from_secs(30);
    const STARTUP_CYCLES: u32 = 5;

    pub fn new(now: Instant) -> Self {
        MaintenanceTimer {
            next: now + Self::STARTUP_INTERVAL,
            period: Self::STARTUP_INTERVAL,
            initialized: false,
            runs_since_init: 0,
        }
    }

    /// `Initialize` succeeded: start backing off.
    pub fn on_initialize(&mut self) {
        self.initialized = true;
    }

    /// When the next run is due.
    pub fn deadline(&self) -> Instant {
        self.next
    }

    /// True (once) when a run is due at `now`; then the next deadline is set.
    pub fn poll(&mut self, now: Instant) -> bool {
        if now < self.next {
            return false;
        }
        if self.initialized && self.runs_since_init < Self::STARTUP_CYCLES {
            self.runs_since_init += 1;
            if self.runs_since_init == Self::STARTUP_CYCLES {
                self.period = Self::INTERVAL;
            }
        }
        self.next = now + self.period;
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const VF_MAC: MacAddr = MacAddr([0x66, 0x66, 0x66, 0x66, 0x66, 0x00]);

    #[test]
    fn arp_frame_golden() {
        let f = arp_frame(VF_MAC, std::net::Ipv4Addr::new(10, 0, 0, 1));
        let expect: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x66, 0x66, 0x66, 0x66, 0x66, 0x00, 0x08, 0x06,
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x66, 0x66, 0x66, 0x66, 0x66, 0x00,
            169, 254, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1,
        ];
        assert_eq!(f.as_slice(), &expect[..]);
        assert_eq!(f.ethertype(), ethertype::ARP);
    }

    const IPV6_HDR: [u8; 40] = [
        0x60, 0, 0, 0, 0, 24, 58, 255, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff,
        0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    ];

    #[test]
    fn ra_frame_golden() {
        let f = ra_frame(VF_MAC);
        let mut expect = vec![
            0x33, 0x33, 0, 0, 0, 1, 0x66, 0x66, 0x66, 0x66, 0x66, 0x00, 0x86, 0xdd,
        ];
        expect.extend_from_slice(&IPV6_HDR);
        // checksum 0x4898: see wire::icmpv6 (same message)
        expect.extend_from_slice(&[
            134, 0, 0x48, 0x98, 255, 0xc0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0,
        ]);
        expect.extend_from_slice(&[1, 1, 0x66, 0x66, 0x66, 0x66, 0x66, 0x00]);
        assert_eq!(f.as_slice(), &expect[..]);
        assert_eq!(f.as_slice().len(), 78);
    }

    #[test]
    fn na_frame_golden() {
        let f = na_frame(VF_MAC);
        let mut expect = vec![
            0x33, 0x33, 0, 0, 0, 1, 0x66, 0x66, 0x66, 0x66, 0x66, 0x00, 0x86, 0xdd,
        ];
        expect.extend_from_slice(&IPV6_HDR);
        expect.extend_from_slice(&[136, 0, 0xdb, 0xa4, 0xa0, 0, 0, 0]);
        expect.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(f.as_slice(), &expect[..]);
    }

    #[test]
    fn timer_backs_off_after_initialize() {
        let t0 = Instant::now();
        let mut t = MaintenanceTimer::new(t0);
        assert!(!t.poll(t0));
        let mut now = t0;
        // before Initialize: every 5 s, indefinitely
        for _ in 0..10 {
            now = t.deadline();
            assert!(t.poll(now));
            assert_eq!(t.deadline() - now, Duration::from_secs(5));
        }
        t.on_initialize();
        let mut gaps = Vec::new();
        for _ in 0..7 {
            now = t.deadline();
            assert!(t.poll(now));
            gaps.push((t.deadline() - now).as_secs());
        }
        assert_eq!(gaps, vec![5, 5, 5, 5, 30, 30, 30]);
        assert!(!t.poll(now), "fires once per deadline");
    }
}
