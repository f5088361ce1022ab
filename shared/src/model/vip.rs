//! Virtual IPs: 1:1 public IPv4 of an interface (§8.5).

use super::ObjectId;
use std::net::{IpAddr, Ipv6Addr};

/// `CreateVip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateVip {
    /// Interface.
    pub interface_id: ObjectId,
    /// The public address; IPv6 passes conversion and is refused with 204.
    pub ip: IpAddr,
    /// Externally generated underlay (§10.10).
    pub preferred_underlay: Option<Ipv6Addr>,
}

/// A VIP as GetVip reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vip {
    /// The public address.
    pub ip: IpAddr,
    /// Its underlay.
    pub underlay_route: Ipv6Addr,
}
