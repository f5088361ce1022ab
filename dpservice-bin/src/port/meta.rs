//! Per-packet metadata (dataplane.md §3.3), carried in the packet buffer beside the bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::port::PortId;

/// Whether the matched route was a default route (prefix length 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlowType {
    #[default]
    WestEast,
    SouthNorth,
}

/// Direction of a packet relative to its conntrack entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlowDir {
    #[default]
    Org,
    Reply,
}

/// What rewrite happened or must happen (upstream's `dp_nat_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NatType {
    #[default]
    None,
    ChangeSrcIp,
    ChangeDstIp,
    ChangeUnderlayDst,
    LbRecirculate,
    Nat64ChangeSrcIp,
    Nat64ChangeDstIp,
}

/// Ports or ICMP fields of the inner L4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct L4Info {
    pub src_port: u16,
    pub dst_port: u16,
    pub icmp_type: u8,
    pub icmp_code: u8,
    pub icmp_ident: u16,
}

/// Outer (underlay) header facts and the VNI the packet belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelInfo {
    pub ul_src: Ipv6Addr,
    pub ul_dst: Ipv6Addr,
    /// Outer ethertype.
    pub l3_type: u16,
    /// Outer next header (4 or 41).
    pub proto_id: u8,
    /// VNI of the VNF on ingress; route target VNI after lookup for VF ingress.
    pub dst_vni: u32,
}

impl Default for TunnelInfo {
    fn default() -> Self {
        TunnelInfo {
            ul_src: Ipv6Addr::UNSPECIFIED,
            ul_dst: Ipv6Addr::UNSPECIFIED,
            l3_type: 0,
            proto_id: 0,
            dst_vni: 0,
        }
    }
}

/// Index of a conntrack entry (the conntrack table defines its meaning).
pub type FlowRef = u32;

/// The metadata of one packet. `in_port`, `pkt_id` and `is_recirc` are the packet's
/// mark; everything else is reset whenever the packet enters `cls` (also on recirculation).
/// The rest is the graph's working state: once a packet is queued for transmission only
/// its mark is read (ports, the tracer's transmit and drop events), and a packet the fast
/// lane replays leaves with the rest as it was received.
///
/// In declared order (`repr(C)`), the mark first: in a buffer header it shares the first
/// cache line after the descriptor with the owner, so a port that writes a received
/// packet's mark alone touches one line of the header (`PacketBuf::from_foreign_bound`);
/// the rest goes by alignment, so there is no padding but at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Meta {
    /// Assigned at rx / periodic injection (tracing only).
    pub pkt_id: u32,
    /// Port the packet was received on (unchanged by recirculation).
    pub in_port: PortId,
    /// Set by `ipip_encap` when it sends a packet back to `cls`.
    pub is_recirc: bool,
    /// The fields after the mark are an earlier packet's: a port that stamps received
    /// packets wrote the mark alone (`PacketBuf::from_foreign_bound`); `cls` resets
    /// them.
    pub stale: bool,
    /// Frame length − 14, set only for IPv4 packets from VFs (metering).
    pub l3_payload_length: u32,
    /// Hash of the packet's own flow key (§19.2), for the uplink choice.
    pub flow_hash: u32,
    pub conntrack: Option<FlowRef>,
    pub tun: TunnelInfo,
    /// Ethertype of the (inner) L3 packet, 0x0800 or 0x86DD.
    pub l3_type: u16,
    pub nat_port: u16,
    /// Output port.
    pub nxt_hop: PortId,
    /// Index of the matched virtual service.
    pub virtsvc: Option<u16>,
    pub l4: L4Info,
    pub l4_type: u8,
    /// VNF type the tunnel was addressed to (`hash::vnf_type`), PF ingress only.
    pub vnf_type: u8,
    pub flow_type: FlowType,
    pub flow_dir: FlowDir,
    pub nat_type: NatType,
    pub nat_addr: Ipv4Addr,
    pub src: IpAddr,
    pub dst: IpAddr,
}

impl Default for Meta {
    fn default() -> Self {
        Meta {
            in_port: 0,
            pkt_id: 0,
            is_recirc: false,
            stale: false,
            l3_type: 0,
            l3_payload_length: 0,
            src: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            l4_type: 0,
            l4: L4Info::default(),
            vnf_type: 0,
            tun: TunnelInfo::default(),
            flow_type: FlowType::WestEast,
            flow_dir: FlowDir::Org,
            nat_type: NatType::None,
            nat_addr: Ipv4Addr::UNSPECIFIED,
            nat_port: 0,
            flow_hash: 0,
            nxt_hop: 0,
            conntrack: None,
            virtsvc: None,
        }
    }
}

impl Meta {
    /// Fresh metadata for a packet received on `port` with id `pkt_id`.
    pub fn received(port: PortId, pkt_id: u32) -> Self {
        Meta {
            in_port: port,
            pkt_id,
            ..Meta::default()
        }
    }

    /// Zeroes everything but the packet's mark (what `cls` does on entry).
    #[inline]
    pub fn reset_flow(&mut self) {
        *self = Meta {
            in_port: self.in_port,
            pkt_id: self.pkt_id,
            is_recirc: self.is_recirc,
            ..Meta::default()
        };
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn reset_keeps_the_mark_only() {
        let mut m = Meta::received(3, 77);
        m.is_recirc = true;
        m.stale = true;
        m.l3_type = 0x0800;
        m.flow_hash = 5;
        m.nxt_hop = 1;
        m.tun.dst_vni = 100;
        m.reset_flow();
        assert_eq!(m.in_port, 3);
        assert_eq!(m.pkt_id, 77);
        assert!(m.is_recirc);
        assert!(!m.stale);
        assert_eq!(m.l3_type, 0);
        assert_eq!(m.flow_hash, 0);
        assert_eq!(m.nxt_hop, 0);
        assert_eq!(m.tun.dst_vni, 0);
    }
}
