//! Which flows a configuration change removes (§7.7), as a test on a flow's original key
//! and entry.

use super::{key, nat_kind, CtKey, FlowEntry};
use crate::state::FlowPurge;

/// Whether `purge` removes the flow with original key `org` and entry `e`.
pub fn matches(purge: &FlowPurge, org: &CtKey, e: &FlowEntry) -> bool {
    match *purge {
        FlowPurge::Interface { port, vni, ipv4 } => {
            e.port_id == port || (org.vni == vni && ipv4.is_some() && key::dst_v4(org) == ipv4)
        }
        FlowPurge::Vip { port } => e.port_id == port && e.nat_type == nat_kind::VIP,
        FlowPurge::Nat { port } => e.port_id == port && e.nat_type == nat_kind::NETWORK_LOCAL,
        FlowPurge::NeighborNat {
            vni,
            ip,
            min_port,
            max_port,
        } => {
            org.vni == vni
                && key::dst_v4(org) == Some(ip)
                && (min_port..max_port).contains(&org.port_dst)
        }
        FlowPurge::LbTarget { target } => e.underlay_dst == target.octets(),
    }
}
