//! NATs and neighbour NATs (spec §4.1).

use serde::Serialize;

use super::{ser_addr, Named, Status};
use crate::syntax::Addr;

/// A NAT of an interface, or an entry of `list nats` (kind `Nat` / `NeighborNat`).
#[derive(Debug, Clone, Serialize)]
pub struct Nat {
    /// `Nat` or, for neighbour entries of `list nats`, `NeighborNat`.
    pub kind: &'static str,
    /// `{interface_id?}`.
    pub metadata: NatMeta,
    /// Address, ports, underlay.
    pub spec: NatSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `metadata` of a NAT.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NatMeta {
    /// The interface (empty in `list nats` items).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub interface_id: String,
}

/// `spec` of a NAT.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NatSpec {
    /// NAT address (get/create) or the VM's own address (`list nats` local entries).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_addr")]
    pub nat_ip: Option<Addr>,
    /// First port.
    pub min_port: u32,
    /// Last port + 1.
    pub max_port: u32,
    /// Underlay address.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_addr")]
    pub underlay_route: Option<Addr>,
    /// VNI (0 for get/create).
    pub vni: u32,
    /// The NAT address (`list nats` only).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_addr")]
    pub actual_nat_ip: Option<Addr>,
}

impl Nat {
    /// The `-w` table cell: `<nat ip> <<min>, <max>>`.
    pub fn summary(&self) -> String {
        let ip = self
            .spec
            .nat_ip
            .as_ref()
            .map_or_else(|| "<nil>".to_owned(), ToString::to_string);
        format!("{ip} <{}, {}>", self.spec.min_port, self.spec.max_port)
    }
}

impl Named for Nat {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        self.metadata.interface_id.clone()
    }
}

/// `metadata` of `NatList`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NatListMeta {
    /// The requested NAT address.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_addr")]
    pub nat_ip: Option<Addr>,
    /// The `--nat-type` word as typed.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nat_type: String,
}

/// A neighbour NAT as create/delete print it.
#[derive(Debug, Clone, Serialize)]
pub struct NeighborNat {
    /// `NeighborNat`.
    pub kind: &'static str,
    /// `{nat_ip}`.
    pub metadata: NeighborNatMeta,
    /// VNI, ports, underlay.
    pub spec: NeighborNatSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `metadata` of a neighbour NAT (`nat_ip` always present).
#[derive(Debug, Clone, Default, Serialize)]
pub struct NeighborNatMeta {
    /// The NAT address.
    #[serde(serialize_with = "ser_addr")]
    pub nat_ip: Option<Addr>,
}

/// `spec` of a neighbour NAT.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NeighborNatSpec {
    /// VNI.
    pub vni: u32,
    /// First port.
    pub min_port: u32,
    /// Last port + 1.
    pub max_port: u32,
    /// Where the neighbour lives.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_addr")]
    pub underlay_route: Option<Addr>,
}

impl Named for NeighborNat {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        self.metadata
            .nat_ip
            .as_ref()
            .map_or_else(|| "invalid IP".to_owned(), ToString::to_string)
    }
}
