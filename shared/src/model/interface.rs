//! Interfaces: a VM port bound to a VNI with its addresses (grpc-api.md §8.2).

use super::ObjectId;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Traffic caps of an interface in Mbit/s; 0 means no cap (§10.6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Metering {
    /// Cap for all traffic leaving the VM.
    pub total_rate: u64,
    /// Cap for traffic towards public networks.
    pub public_rate: u64,
}

/// Network-boot parameters handed out by DHCP/DHCPv6.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pxe {
    /// Boot server: IPv4 when the interface has no IPv6, otherwise IPv6 (§8.2).
    pub next_server: IpAddr,
    /// Boot file path, 1..31 bytes.
    pub boot_filename: String,
}

/// `CreateInterface`: bind a device to a new interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateInterface {
    /// New interface ID, `[A-Za-z0-9_-]{1,63}`.
    pub id: ObjectId,
    /// VNI (any value).
    pub vni: u32,
    /// Primary IPv4; `None` disables IPv4 (`0.0.0.0` on the wire).
    pub ipv4: Option<Ipv4Addr>,
    /// Primary IPv6; `None` disables IPv6 (`::` on the wire).
    pub ipv6: Option<Ipv6Addr>,
    /// Network boot, when `next_server` was given.
    pub pxe: Option<Pxe>,
    /// Device to bind, e.g. `net_tap2` or a VF representor name.
    pub device: String,
    /// Requested caps.
    pub metering: Metering,
    /// Externally generated underlay to use instead of a generated one (§10.10).
    pub preferred_underlay: Option<Ipv6Addr>,
    /// Hostname handed out via DHCP.
    pub hostname: Option<String>,
}

/// What `CreateInterface` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedInterface {
    /// Underlay in effect (preferred or generated).
    pub underlay_route: Ipv6Addr,
    /// Linux netdev name of the bound VF (empty for non-VF ports).
    pub vf_name: String,
}

/// An interface as Get/ListInterfaces report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Interface ID.
    pub id: ObjectId,
    /// VNI.
    pub vni: u32,
    /// Primary IPv4, `None` when disabled (`0.0.0.0` on the wire).
    pub ipv4: Option<Ipv4Addr>,
    /// Primary IPv6, `None` when disabled (`::` on the wire).
    pub ipv6: Option<Ipv6Addr>,
    /// Underlay IPv6.
    pub underlay_route: Ipv6Addr,
    /// Device the interface is bound to (`pci_name` on the wire).
    pub device: String,
    /// Caps in effect.
    pub metering: Metering,
    /// Hostname, `None` when none was given.
    pub hostname: Option<String>,
}
