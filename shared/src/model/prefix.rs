//! Alias prefixes and load-balancer target prefixes of an interface (§8.3, §8.4).

use std::net::Ipv6Addr;

use super::IpPrefix;

/// `CreatePrefix` / `CreateLoadBalancerPrefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePrefix {
    /// Target interface.
    pub interface_id: String,
    /// The prefix, address as given.
    pub prefix: IpPrefix,
    /// Externally generated underlay (§10.10).
    pub preferred_underlay: Option<Ipv6Addr>,
}

/// `DeletePrefix` / `DeleteLoadBalancerPrefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixRef {
    /// Owning interface.
    pub interface_id: String,
    /// The prefix, address as created.
    pub prefix: IpPrefix,
}

/// A prefix as the two prefix listings report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixEntry {
    /// The prefix, address as created.
    pub prefix: IpPrefix,
    /// Its underlay IPv6.
    pub underlay_route: Ipv6Addr,
}
