//! Routes of a VNI towards the uplink (§8.9).

use std::net::IpAddr;

use super::RequestPrefix;

/// A route: a prefix in a VNI sent to a remote host's underlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// VNI the route lives in (on CreateRoute; the listing's VNI on output).
    pub vni: u32,
    /// Destination prefix (stored masked by the daemon). A request may name a length
    /// beyond the family, which the daemon refuses with `ROUTE_INSERT` (303); a listed
    /// route's always fits.
    pub prefix: RequestPrefix,
    /// VNI written into the tunnel towards the next hop.
    pub nexthop_vni: u32,
    /// The next hop's underlay; an IPv4 value passes conversion and is refused by the
    /// daemon with `BAD_IPVER` (204), as upstream does.
    pub nexthop: IpAddr,
}

/// `DeleteRoute`: only the prefix is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteKey {
    /// VNI.
    pub vni: u32,
    /// Destination prefix; a length beyond the family finds nothing
    /// (`ROUTE_NOT_FOUND`, 302).
    pub prefix: RequestPrefix,
}
