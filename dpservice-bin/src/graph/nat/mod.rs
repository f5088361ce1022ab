//! NAT machinery shared by `snat`, `dnat` and `packet_relay` (dataplane.md §8): the port
//! allocator over the region's NAT tables, header rewrites, NAT64 conversion, and the
//! little per-port bookkeeping the packet path keeps (used-port counts for telemetry,
//! rate-limited "range full" warnings).

pub mod nat64;
pub mod ports;
pub mod rewrite;

use std::time::{Duration, Instant};

use crate::port::PortId;

/// At most one "NAT port range full" warning per interface in this time.
const FULL_LOG_DELAY: Duration = Duration::from_secs(5);

/// Per-port NAT bookkeeping of one graph.
#[derive(Debug, Default)]
pub struct NatPorts {
    /// NAT ports in use by flows created on each port (`/dp_service/nat/used_port_count`).
    used: Vec<u64>,
    /// When each port last warned that its range is full.
    full_logged: Vec<Option<Instant>>,
}

impl NatPorts {
    fn slot<T: Default + Clone>(v: &mut Vec<T>, port: PortId) -> &mut T {
        let i = usize::from(port);
        if v.len() <= i {
            v.resize(i + 1, T::default());
        }
        &mut v[i]
    }

    /// A port was allocated for a flow created on `port`.
    pub fn allocated(&mut self, port: PortId) {
        *Self::slot(&mut self.used, port) += 1;
    }

    /// A flow created on `port` released its NAT port.
    pub fn released(&mut self, port: PortId) {
        let n = Self::slot(&mut self.used, port);
        *n = n.saturating_sub(1);
    }

    /// NAT ports in use by flows created on `port`.
    pub fn used(&self, port: PortId) -> u64 {
        self.used.get(usize::from(port)).copied().unwrap_or(0)
    }

    /// Whether a "range full" warning for `port` may be logged now (then it is counted
    /// as logged).
    pub fn may_warn_full(&mut self, port: PortId, now: Instant) -> bool {
        let last = Self::slot(&mut self.full_logged, port);
        match *last {
            Some(t) if now.saturating_duration_since(t) < FULL_LOG_DELAY => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

/// The IPv4 address of a packed flow-key address field, if it holds one.
#[inline]
pub fn key_v4(addr: &[u8; 16], is_v6: u8) -> Option<std::net::Ipv4Addr> {
    (is_v6 == 0).then(|| {
        std::net::Ipv4Addr::from_bits(u32::from_le_bytes([addr[0], addr[1], addr[2], addr[3]]))
    })
}

/// A packed flow-key address field holding `a` (and its "is IPv6" flag).
#[inline]
pub fn key_addr(a: std::net::Ipv4Addr) -> ([u8; 16], u8) {
    dpservice::shm::catalogue::addr_to_bytes(std::net::IpAddr::V4(a))
}
