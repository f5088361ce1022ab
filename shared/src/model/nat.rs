//! NAT gateway: per-interface NAT port slices and neighbour ranges (§8.8).

use super::ObjectId;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `CreateNat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateNat {
    /// Interface.
    pub interface_id: ObjectId,
    /// Public NAT address; IPv6 passes conversion and is refused with 204.
    pub ip: IpAddr,
    /// First port of the slice.
    pub min_port: u16,
    /// End of the slice, exclusive; > `min_port`.
    pub max_port: u16,
    /// Externally generated underlay (§10.10).
    pub preferred_underlay: Option<Ipv6Addr>,
}

/// An interface's NAT as GetNat reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nat {
    /// Public NAT address.
    pub ip: IpAddr,
    /// First port of the slice.
    pub min_port: u16,
    /// End of the slice, exclusive.
    pub max_port: u16,
    /// Underlay.
    pub underlay_route: Ipv6Addr,
}

/// `CreateNeighborNat`: a port range of a NAT IP that lives on another host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighborNat {
    /// Public NAT address; IPv6 passes conversion and is refused with 204.
    pub ip: IpAddr,
    /// VNI.
    pub vni: u32,
    /// First port.
    pub min_port: u16,
    /// End, exclusive.
    pub max_port: u16,
    /// Underlay of the host owning the range.
    pub underlay_route: Ipv6Addr,
}

/// `DeleteNeighborNat`: the exact (IP, VNI, range) to forget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighborNatKey {
    /// Public NAT address.
    pub ip: IpAddr,
    /// VNI.
    pub vni: u32,
    /// First port.
    pub min_port: u16,
    /// End, exclusive.
    pub max_port: u16,
}

/// Which side of a NAT range an entry describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NatKind {
    /// A local interface's slice: `nat_ip` on the wire is the interface's own IPv4.
    Local {
        /// The interface's private IPv4 that is translated.
        interface_ip: Ipv4Addr,
    },
    /// A range owned by another host: `underlay_route` on the wire.
    Neighbor {
        /// Underlay of the owning host.
        underlay_route: Ipv6Addr,
    },
}

/// An entry of ListLocalNats / ListNeighborNats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatEntry {
    /// Local or neighbour.
    pub kind: NatKind,
    /// The public NAT IPv4 (`actual_nat_ip` on the wire).
    pub nat_ip: Ipv4Addr,
    /// First port.
    pub min_port: u16,
    /// End, exclusive.
    pub max_port: u16,
    /// VNI.
    pub vni: u32,
}
