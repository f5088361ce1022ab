//! The objects the CLI prints: `kind` / `metadata` / `spec` / `status`, with the JSON
//! field names, order and omission rules of upstream's Go types (spec cli.md §4).
//!
//! These are presentation types: they hold what a command knew and what the daemon
//! answered, shaped for output. Field order here *is* the JSON key order.

mod firewall;
mod interface;
mod lb;
mod nat;
mod network;
mod service;
pub mod sort;

use serde::{Serialize, Serializer};

pub use firewall::{
    FirewallRule, FirewallRuleMeta, FirewallRuleSpec, IcmpFilter, PortFilter, ProtocolFilter,
};
pub use interface::{Interface, InterfaceMeta, InterfaceSpec, Metering, Pxe, VirtualFunction};
pub use lb::{
    LbPort, LoadBalancer, LoadBalancerMeta, LoadBalancerSpec, LoadBalancerTarget,
    LoadBalancerTargetMeta, LoadBalancerTargetSpec,
};
pub use nat::{Nat, NatListMeta, NatMeta, NatSpec, NeighborNat, NeighborNatMeta, NeighborNatSpec};
pub use network::{
    LoadBalancerPrefix, LoadBalancerPrefixMeta, NextHop, Prefix, PrefixMeta, PrefixSpec, Route,
    RouteMeta, RouteSpec, VirtualIp, VirtualIpMeta, VirtualIpSpec,
};
pub use service::{
    CaptureConfig, CaptureInterface, CaptureStart, CaptureStartMeta, CaptureStartSpec,
    CaptureStatus, CaptureStatusSpec, CaptureStop, CaptureStopSpec, Initialized, InitializedSpec,
    Version, VersionMeta, VersionSpec, Vni, VniMeta, VniSpec,
};

use crate::syntax;

/// The `status` of every object and list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Service error code; always 0 in printed objects.
    pub code: u32,
    /// `Success`, or empty where upstream leaves it empty (spec §4.2).
    pub message: String,
}

impl Status {
    /// `{0, "Success"}`: what the daemon's reply carried.
    pub fn success() -> Status {
        Status {
            code: 0,
            message: dpservice::status::SUCCESS_MESSAGE.to_owned(),
        }
    }

    /// `{0, ""}`: objects assembled by the client (list items, aggregate lists).
    pub fn empty() -> Status {
        Status::default()
    }
}

/// An empty `metadata` (`{}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NoMeta {}

/// Something printed as one `name` line: `<kind>/<name>`, or `<name>` for empty kinds.
pub trait Named {
    /// The object's kind (may be empty).
    fn kind(&self) -> &str;
    /// The object's name (spec §5.4).
    fn name(&self) -> String;

    /// The `name` line without the operation text.
    fn name_line(&self) -> String {
        match self.kind() {
            "" => self.name(),
            kind => format!("{}/{}", kind.to_lowercase(), self.name()),
        }
    }
}

/// A list of objects: `kind`, `metadata`, `status`, `items`.
#[derive(Debug, Clone, Serialize)]
pub struct List<M, T> {
    /// `InterfaceList`, `PrefixList`, ...
    pub kind: &'static str,
    /// The list's own metadata.
    pub metadata: M,
    /// `{0,"Success"}` for one-RPC lists, `{0,""}` for client-assembled ones.
    pub status: Status,
    /// The items, sorted as the command sorts them; `[]` when empty.
    pub items: Vec<T>,
}

/// `metadata` of lists scoped to one interface (`interface_id`, `""` for all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InterfaceListMeta {
    /// The requested interface, or empty.
    pub interface_id: String,
}

/// `metadata` of `RouteList`: the requested VNI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VniListMeta {
    /// The requested VNI (0 = all).
    pub vni: u32,
}

/// `metadata` of `LoadBalancerTargetList`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LbListMeta {
    /// The requested load balancer (may be empty).
    pub loadbalancer_id: String,
}

/// `InterfaceList`.
pub type InterfaceList = List<NoMeta, Interface>;
/// `RouteList`.
pub type RouteList = List<VniListMeta, Route>;
/// `PrefixList` / `LoadBalancerPrefixList` (items keep the `Prefix` shape).
pub type PrefixList = List<InterfaceListMeta, Prefix>;
/// `LoadBalancerList`.
pub type LoadBalancerList = List<NoMeta, LoadBalancer>;
/// `LoadBalancerTargetList`.
pub type LoadBalancerTargetList = List<LbListMeta, LoadBalancerTarget>;
/// `NatList`.
pub type NatList = List<NatListMeta, Nat>;
/// `FirewallRuleList`.
pub type FirewallRuleList = List<InterfaceListMeta, FirewallRule>;

/// Serializes an address as its text (`serialize_with` helper).
pub(crate) fn ser_addr<S: Serializer>(a: &Option<syntax::Addr>, s: S) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => s.collect_str(a),
        None => s.serialize_none(),
    }
}

/// Serializes a prefix as its text (`serialize_with` helper).
pub(crate) fn ser_prefix<S: Serializer>(
    p: &Option<syntax::Prefix>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.collect_str(p),
        None => s.serialize_none(),
    }
}

/// Serializes a required prefix as its text.
pub(crate) fn ser_prefix_req<S: Serializer>(p: &syntax::Prefix, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(p)
}

pub(crate) fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

pub(crate) fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

pub(crate) fn is_zero_i32(v: &i32) -> bool {
    *v == 0
}
