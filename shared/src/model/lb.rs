//! Maglev load balancers and their targets (§8.6, §8.7).

use super::ObjectId;
use std::net::{IpAddr, Ipv6Addr};

/// Layer-4 protocols a load balancer port can use (only TCP and UDP are accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum L4Protocol {
    /// TCP, IANA 6.
    Tcp,
    /// UDP, IANA 17.
    Udp,
}

impl L4Protocol {
    /// The IANA number, which is also the `Protocol` enum value on the wire.
    pub fn number(self) -> u8 {
        match self {
            L4Protocol::Tcp => 6,
            L4Protocol::Udp => 17,
        }
    }
}

/// A load-balanced port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LbPort {
    /// Protocol.
    pub protocol: L4Protocol,
    /// Port, 1..65535.
    pub port: u16,
}

/// `CreateLoadBalancer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateLoadBalancer {
    /// LB ID, 1..63 bytes.
    pub id: ObjectId,
    /// VNI, ≤ 0xFFFFFF.
    pub vni: u32,
    /// The load-balanced address (IPv4 or IPv6).
    pub ip: IpAddr,
    /// 0..15 ports, no duplicate (protocol, port).
    pub ports: Vec<LbPort>,
    /// Externally generated underlay (§10.10).
    pub preferred_underlay: Option<Ipv6Addr>,
}

/// A load balancer as Get/ListLoadBalancers report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancer {
    /// LB ID (`GetLoadBalancer` carries none: the caller knows it).
    pub id: ObjectId,
    /// VNI.
    pub vni: u32,
    /// The load-balanced address.
    pub ip: IpAddr,
    /// Ports in the order given.
    pub ports: Vec<LbPort>,
    /// Underlay.
    pub underlay_route: Ipv6Addr,
}

/// `Create/DeleteLoadBalancerTarget`: a backend host's underlay in an LB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancerTarget {
    /// LB ID.
    pub loadbalancer_id: ObjectId,
    /// Backend underlay; IPv4 passes conversion and is refused with 204.
    pub target: IpAddr,
}
