//! Connection tracking (dataplane.md §7): the conntrack flow table in the shared-memory
//! region, the TCP state machine and the key conversions.
//!
//! Each flow is stored under both of its keys (§7.3). The two copies share everything but
//! what belongs to one direction: `direction`, `other_key`, `last_seen_ns`, the hash of
//! the copy's own key and its cached routing result. A packet therefore touches only the
//! copy its key found; what both directions must agree on (flags, NAT, TCP state,
//! timeout, firewall verdicts) is written to both, which happens a handful of times per
//! connection, not per packet.

pub mod key;
pub mod purge;
pub mod table;
pub mod tcp;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;

pub use dpservice::shm::catalogue::{FlowEntry, FlowKey as CtKey};
pub use table::{Flow, FlowCursor, FlowError, FlowTable};

/// Flow flags (§7.3), as `FlowEntry::flags` holds them.
pub mod flags {
    pub const SRC_NAT: u8 = 0x01;
    pub const DST_NAT: u8 = 0x02;
    pub const DST_LB: u8 = 0x04;
    pub const FIREWALL: u8 = 0x08;
    pub const SRC_NAT64: u8 = 0x10;
    pub const DEFAULT: u8 = 0x20;
    pub const DST_NAT_FWD: u8 = 0x40;
    /// Flags that keep a transmitted flow from becoming "default" (§7.5).
    pub const TRANSLATED: u8 = SRC_NAT | DST_NAT | DST_LB | SRC_NAT64 | DST_NAT_FWD;
}

/// The flow's NAT kind (`FlowEntry::nat_type`, upstream's order).
pub mod nat_kind {
    pub const NONE: u8 = 0;
    pub const VIP: u8 = 1;
    pub const NETWORK_LOCAL: u8 = 2;
    pub const NETWORK_NEIGH: u8 = 3;
    pub const NAT_AS_TARGET: u8 = 4;
    pub const LB_LOCAL_NEIGH: u8 = 5;
    pub const LB_RECIRC: u8 = 6;
    pub const LB_FORWARD: u8 = 7;
}

/// Firewall verdicts cached in the flow (`fw_verdict_org`, `fw_verdict_reply`).
pub mod verdict {
    /// Not evaluated yet.
    pub const NONE: u8 = 0;
    pub const ACCEPT: u8 = 1;
    pub const DROP: u8 = 2;
}

/// No routing result cached (`FlowEntry::out_port`).
pub const NO_PORT: u16 = u16::MAX;

/// Bits of `FlowEntry::route_info`.
pub mod route_info {
    /// The routing result of this copy is cached.
    pub const VALID: u8 = 0x01;
    /// The route was a default route (south-north).
    pub const SOUTH_NORTH: u8 = 0x02;
}

/// Timeout of an established TCP flow: one day (§7.4).
pub const ESTABLISHED_TIMEOUT_S: u32 = 86_400;
