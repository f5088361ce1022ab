//! `Interface`: a VM port (spec §4.1).

use serde::Serialize;

use super::{is_zero_u64, ser_addr, Named, Nat, Status, VirtualIp};
use crate::syntax::Addr;

/// An interface object.
#[derive(Debug, Clone, Serialize)]
pub struct Interface {
    /// `Interface`, or empty for `create interface` (upstream quirk).
    pub kind: &'static str,
    /// `{id}`.
    pub metadata: InterfaceMeta,
    /// What the interface is.
    pub spec: InterfaceSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `metadata` of an interface.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InterfaceMeta {
    /// The interface id.
    pub id: String,
}

/// `spec` of an interface; `?` fields are omitted when absent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InterfaceSpec {
    /// The VNI.
    pub vni: u32,
    /// The device name (`net_tap2`, a PCI address).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub device: String,
    /// Primary IPv4 address.
    #[serde(
        rename = "primary_ipv4",
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_addr"
    )]
    pub ipv4: Option<Addr>,
    /// Primary IPv6 address.
    #[serde(
        rename = "primary_ipv6",
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_addr"
    )]
    pub ipv6: Option<Addr>,
    /// The underlay address of the interface.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_addr")]
    pub underlay_route: Option<Addr>,
    /// The port the daemon picked (create only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_function: Option<VirtualFunction>,
    /// PXE settings (create only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pxe: Option<Pxe>,
    /// The interface's NAT (`-w` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat: Option<Box<Nat>>,
    /// The interface's virtual IP (`-w` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip: Option<Box<VirtualIp>>,
    /// Meter rates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metering: Option<Metering>,
    /// The VM's host name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub hostname: String,
}

/// `virtual_function`: the VF the daemon assigned.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VirtualFunction {
    /// Its kernel name (`dtapvf_0`).
    pub name: String,
}

/// `pxe`: only the non-empty settings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pxe {
    /// PXE next server.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub next_server: String,
    /// PXE boot file.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub boot_filename: String,
}

/// `metering`: rates in Mbit/s, each omitted when 0.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Metering {
    /// Total rate.
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub total_rate: u64,
    /// Public rate.
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub public_rate: u64,
}

impl Named for Interface {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        self.metadata.id.clone()
    }
}
