//! Alias prefixes and load-balancer target prefixes of an interface (§8.3, §8.4).
//!
//! The two share their message shapes but not their length rule (§10.2): an alias
//! prefix becomes a route, so its request carries any 8-bit length for the daemon's
//! routing table to refuse ([`RequestPrefix`]); an LB prefix's length is checked against
//! its family by the conversion ([`IpPrefix`], our hardening of §13 #7).

use super::ObjectId;
use std::net::Ipv6Addr;

use super::{IpPrefix, RequestPrefix};

/// `CreatePrefix` (`P` = [`RequestPrefix`]) / `CreateLoadBalancerPrefix`
/// ([`CreateLbPrefix`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePrefix<P = RequestPrefix> {
    /// Target interface.
    pub interface_id: ObjectId,
    /// The prefix, address as given.
    pub prefix: P,
    /// Externally generated underlay (§10.10).
    pub preferred_underlay: Option<Ipv6Addr>,
}

/// `DeletePrefix` (`P` = [`RequestPrefix`]) / `DeleteLoadBalancerPrefix`
/// ([`LbPrefixRef`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixRef<P = RequestPrefix> {
    /// Owning interface.
    pub interface_id: ObjectId,
    /// The prefix, address as created.
    pub prefix: P,
}

/// `CreateLoadBalancerPrefix`.
pub type CreateLbPrefix = CreatePrefix<IpPrefix>;

/// `DeleteLoadBalancerPrefix`.
pub type LbPrefixRef = PrefixRef<IpPrefix>;

/// A prefix as the two prefix listings report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixEntry {
    /// The prefix, address as created.
    pub prefix: IpPrefix,
    /// Its underlay IPv6.
    pub underlay_route: Ipv6Addr,
}
