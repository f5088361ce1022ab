//! Load balancers and their targets (spec §4.1).

use serde::Serialize;

use super::{ser_addr, Named, Status};
use crate::syntax::Addr;

/// A load balancer.
#[derive(Debug, Clone, Serialize)]
pub struct LoadBalancer {
    /// `LoadBalancer`.
    pub kind: &'static str,
    /// `{id}`.
    pub metadata: LoadBalancerMeta,
    /// What it balances.
    pub spec: LoadBalancerSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `metadata` of a load balancer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadBalancerMeta {
    /// The id.
    pub id: String,
}

/// `spec` of a load balancer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadBalancerSpec {
    /// The VNI.
    pub vni: u32,
    /// The balanced (virtual) address.
    #[serde(
        rename = "loadbalanced_ip",
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_addr"
    )]
    pub vip: Option<Addr>,
    /// The balanced ports, in order.
    #[serde(rename = "loadbalanced_ports", skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<LbPort>,
    /// Its underlay address.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_addr")]
    pub underlay_route: Option<Addr>,
}

/// One balanced port: protocol enum number and port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LbPort {
    /// `Protocol` enum number (6 = TCP, 17 = UDP, ...).
    pub protocol: u32,
    /// The port.
    pub port: u32,
}

impl Named for LoadBalancer {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        self.metadata.id.clone()
    }
}

/// A load-balancer target.
#[derive(Debug, Clone, Serialize)]
pub struct LoadBalancerTarget {
    /// `LoadBalancerTarget`.
    pub kind: &'static str,
    /// `{loadbalancer_id}`.
    pub metadata: LoadBalancerTargetMeta,
    /// The target address.
    pub spec: LoadBalancerTargetSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `metadata` of a target.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadBalancerTargetMeta {
    /// The load balancer.
    pub loadbalancer_id: String,
}

/// `spec` of a target.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadBalancerTargetSpec {
    /// The target's underlay address.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_addr")]
    pub target_ip: Option<Addr>,
}

impl Named for LoadBalancerTarget {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        format!("on loadbalancer: {}", self.metadata.loadbalancer_id)
    }
}
