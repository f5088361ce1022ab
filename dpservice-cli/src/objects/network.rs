//! Routes, prefixes, load-balancer prefixes and virtual IPs (spec §4.1).

use serde::Serialize;

use super::{ser_addr, ser_prefix, ser_prefix_req, Named, Status};
use crate::syntax::{Addr, Prefix as IpPrefix};

/// A route of a VNI.
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    /// `Route`.
    pub kind: &'static str,
    /// `{vni}`.
    pub metadata: RouteMeta,
    /// Prefix and next hop.
    pub spec: RouteSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `metadata` of a route: the (requested) VNI.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RouteMeta {
    /// The VNI.
    pub vni: u32,
}

/// `spec` of a route.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RouteSpec {
    /// The destination prefix.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_prefix")]
    pub prefix: Option<IpPrefix>,
    /// Where it goes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_hop: Option<NextHop>,
}

/// `next_hop` of a route.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NextHop {
    /// Target VNI.
    pub vni: u32,
    /// Target underlay address.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_addr")]
    pub address: Option<Addr>,
}

impl Named for Route {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        let prefix = self
            .spec
            .prefix
            .as_ref()
            .map_or_else(|| "invalid Prefix".to_owned(), ToString::to_string);
        let vni = self.spec.next_hop.as_ref().map_or(0, |n| n.vni);
        format!("{prefix}-{vni}")
    }
}

/// An alias prefix of an interface (also the item shape of `list lbprefixes`).
#[derive(Debug, Clone, Serialize)]
pub struct Prefix {
    /// `Prefix`, or `LoadBalancerPrefix` in lbprefix lists.
    pub kind: &'static str,
    /// `{interface_id, vni}`.
    pub metadata: PrefixMeta,
    /// Prefix and underlay.
    pub spec: PrefixSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `metadata` of a prefix.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PrefixMeta {
    /// The interface.
    pub interface_id: String,
    /// The interface's VNI (lists only; 0 otherwise).
    pub vni: u32,
}

/// `spec` of a prefix.
#[derive(Debug, Clone, Serialize)]
pub struct PrefixSpec {
    /// The prefix, host bits as the daemon has them.
    #[serde(serialize_with = "ser_prefix_req")]
    pub prefix: IpPrefix,
    /// Its underlay address.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_addr")]
    pub underlay_route: Option<Addr>,
}

impl Named for Prefix {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        self.spec.prefix.to_string()
    }
}

/// A load-balancer prefix as create/delete print it (no `vni` in metadata).
#[derive(Debug, Clone, Serialize)]
pub struct LoadBalancerPrefix {
    /// `LoadBalancerPrefix`.
    pub kind: &'static str,
    /// `{interface_id}`.
    pub metadata: LoadBalancerPrefixMeta,
    /// Prefix and underlay.
    pub spec: PrefixSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `metadata` of a load-balancer prefix.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadBalancerPrefixMeta {
    /// The interface.
    pub interface_id: String,
}

impl Named for LoadBalancerPrefix {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        self.spec.prefix.to_string()
    }
}

/// A virtual IP of an interface.
#[derive(Debug, Clone, Serialize)]
pub struct VirtualIp {
    /// `VirtualIP`.
    pub kind: &'static str,
    /// `{interface_id}`.
    pub metadata: VirtualIpMeta,
    /// Address and underlay.
    pub spec: VirtualIpSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `metadata` of a virtual IP.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VirtualIpMeta {
    /// The interface.
    pub interface_id: String,
}

/// `spec` of a virtual IP; `vip_ip` is `null` when unknown (delete).
#[derive(Debug, Clone, Default, Serialize)]
pub struct VirtualIpSpec {
    /// The virtual address.
    #[serde(serialize_with = "ser_addr")]
    pub vip_ip: Option<Addr>,
    /// Its underlay address.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_addr")]
    pub underlay_route: Option<Addr>,
}

impl Named for VirtualIp {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        format!("on interface: {}", self.metadata.interface_id)
    }
}
