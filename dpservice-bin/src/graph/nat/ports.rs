//! The NAT port allocator (dataplane.md §8.3.3) over the region's `nat_portmap_table`
//! and `nat_portoverload_table`, and the release of a flow's port (§7.6).
//!
//! The port-map entry of a VM source (VNI, address, port) names its NAT port and how many
//! flows use it; an overload entry (NAT IP, NAT port, destination, destination port,
//! protocol) says that this NAT port talks to that destination. A source keeps its NAT
//! port for every destination as long as the overload entry is free; a new source tries
//! the ports of its range starting at the hash of its port-map key.

use std::net::{IpAddr, Ipv4Addr};

use dpservice::shm::catalogue::{
    addr_to_bytes, PortmapKey, PortmapValue, PortoverloadKey, PortoverloadValue,
};
use dpservice::shm::table::TableWriter;

use super::rewrite;
use crate::flow::{CtKey, FlowEntry};
use crate::hash;
use crate::wire::ip_proto;

/// The NAT address and port range of an interface (`[min, max)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub nat_ip: Ipv4Addr,
    pub min: u16,
    pub max: u16,
}

/// Who asks for a port: the VM source and the destination it talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub vni: u32,
    /// VM source address (IPv6 for NAT64).
    pub src: IpAddr,
    /// Source port; ICMP: identifier.
    pub src_port: u16,
    /// Destination IPv4 (NAT64: the embedded one).
    pub dst: Ipv4Addr,
    /// Destination port; ICMP: identifier.
    pub dst_port: u16,
    /// L4 protocol as seen at allocation (58 for NAT64 ICMPv6).
    pub proto: u8,
}

/// Why no port was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AllocError {
    /// Every port of the range talks to this destination already, or the source's
    /// port does (quirk 15).
    #[error("the NAT port range is exhausted for this destination")]
    Exhausted,
    /// A table refused the entry.
    #[error("the NAT port tables are full")]
    TablesFull,
}

/// The keys of one allocation, as HA sync messages carry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub port: u16,
    pub portmap: PortmapKey,
    pub overload: PortoverloadKey,
}

pub fn portmap_key(vni: u32, src: IpAddr, src_port: u16) -> PortmapKey {
    let (addr, is_v6) = addr_to_bytes(src);
    PortmapKey {
        vni,
        addr,
        is_v6,
        pad0: 0,
        port: src_port,
    }
}

/// A NAT port for `req` from `range`; `meta` is kept with the overload entry (HA).
pub fn allocate(
    portmap: &mut TableWriter<PortmapKey, PortmapValue>,
    overload: &mut TableWriter<PortoverloadKey, PortoverloadValue>,
    range: Range,
    req: &Request,
    meta: PortoverloadValue,
) -> Result<Allocation, AllocError> {
    let pm_key = portmap_key(req.vni, req.src, req.src_port);
    let mut ol_key = PortoverloadKey {
        nat_ip: range.nat_ip.to_bits(),
        dst_ip: req.dst.to_bits(),
        nat_port: 0,
        dst_port: req.dst_port,
        proto: req.proto,
        pad0: [0; 3],
    };
    if let Some(existing) = portmap.get(&pm_key) {
        // the source's port, or nothing (replicate: other free ports are not tried)
        ol_key.nat_port = existing.nat_port;
        if overload.contains(&ol_key) {
            return Err(AllocError::Exhausted);
        }
        overload
            .insert(ol_key, meta)
            .map_err(|_| AllocError::TablesFull)?;
        portmap.update(&pm_key, |v| v.flow_count += 1);
        return Ok(Allocation {
            port: existing.nat_port,
            portmap: pm_key,
            overload: ol_key,
        });
    }
    let span = u32::from(range.max.saturating_sub(range.min));
    let h = hash::portmap_hash(req.vni, &req.src, req.src_port);
    let port = (0..span)
        .map(|i| range.min + (h.wrapping_add(i) % span) as u16)
        .find(|&p| {
            ol_key.nat_port = p;
            !overload.contains(&ol_key)
        })
        .ok_or(AllocError::Exhausted)?;
    ol_key.nat_port = port;
    overload
        .insert(ol_key, meta)
        .map_err(|_| AllocError::TablesFull)?;
    let value = PortmapValue {
        nat_ip: range.nat_ip.to_bits(),
        nat_port: port,
        pad0: 0,
        flow_count: 1,
    };
    if portmap.insert(pm_key, value).is_err() {
        overload.remove(&ol_key);
        return Err(AllocError::TablesFull);
    }
    Ok(Allocation {
        port,
        portmap: pm_key,
        overload: ol_key,
    })
}

/// The port-map and overload keys of a network-NAT flow, from its original key and
/// entry (whose `other_key` is the reply key: destination NAT IP, `port_dst` NAT port).
/// `None` if the reply key is not an IPv4 one.
pub fn flow_keys(org: &CtKey, e: &FlowEntry) -> Option<(PortmapKey, PortoverloadKey)> {
    let reply = &e.other_key;
    if reply.dst_is_v6 != 0 {
        return None;
    }
    let nat_ip = u32::from_le_bytes([
        reply.l3_dst[0],
        reply.l3_dst[1],
        reply.l3_dst[2],
        reply.l3_dst[3],
    ]);
    let dst_ip = if org.dst_is_v6 != 0 {
        rewrite::nat64_embedded(&org.l3_dst.into()).to_bits()
    } else {
        u32::from_le_bytes([org.l3_dst[0], org.l3_dst[1], org.l3_dst[2], org.l3_dst[3]])
    };
    let icmp = org.proto == ip_proto::ICMP || org.proto == ip_proto::ICMPV6;
    let portmap = PortmapKey {
        vni: e.nat_vni,
        addr: org.l3_src,
        is_v6: org.src_is_v6,
        pad0: 0,
        // ICMP: the original key's port_dst is the identifier
        port: if icmp { org.port_dst } else { org.src },
    };
    let overload = PortoverloadKey {
        nat_ip,
        dst_ip,
        nat_port: reply.port_dst,
        dst_port: org.port_dst,
        proto: org.proto,
        pad0: [0; 3],
    };
    Some((portmap, overload))
}

/// Releases a flow's NAT port: its overload entry goes, the port-map count drops and the
/// entry goes at zero. Answers the keys (for the HA delete message) if anything was held.
pub fn release(
    portmap: &mut TableWriter<PortmapKey, PortmapValue>,
    overload: &mut TableWriter<PortoverloadKey, PortoverloadValue>,
    org: &CtKey,
    e: &FlowEntry,
) -> Option<(PortmapKey, PortoverloadKey)> {
    let (pm_key, ol_key) = flow_keys(org, e)?;
    release_keys(portmap, overload, &pm_key, &ol_key).then_some((pm_key, ol_key))
}

/// Releases what one allocation holds (also the undo of an allocation whose flow could
/// not be completed). `false` if the overload entry was not there.
pub fn release_keys(
    portmap: &mut TableWriter<PortmapKey, PortmapValue>,
    overload: &mut TableWriter<PortoverloadKey, PortoverloadValue>,
    pm_key: &PortmapKey,
    ol_key: &PortoverloadKey,
) -> bool {
    if overload.remove(ol_key).is_none() {
        return false;
    }
    let mut last = false;
    portmap.update(pm_key, |v| {
        v.flow_count = v.flow_count.saturating_sub(1);
        last = v.flow_count == 0;
    });
    if last {
        portmap.remove(pm_key);
    }
    true
}
