//! The logical flow key ([`FlowKey`], addresses as `IpAddr`), and between it and the
//! packed 44-byte key the table stores (§19.2), and the reverse key of §7.2.

use std::net::IpAddr;

use dpservice::shm::catalogue::{addr_from_bytes, addr_to_bytes};

use super::CtKey;
use crate::hash;
use crate::wire::{icmpv4, icmpv6, ip_proto};

/// The packed key (byte for byte the §19.2 layout).
#[inline]
pub fn pack(k: &FlowKey) -> CtKey {
    let (l3_dst, dst_is_v6) = addr_to_bytes(k.l3_dst);
    let (l3_src, src_is_v6) = addr_to_bytes(k.l3_src);
    CtKey {
        l3_dst,
        dst_is_v6,
        proto: k.proto,
        port_dst: k.port_dst,
        l3_src,
        src_is_v6,
        vnf_type: k.vnf_type,
        src: k.src,
        vni: k.vni,
    }
}

/// The logical key of a packed one.
#[inline]
pub fn unpack(k: &CtKey) -> FlowKey {
    FlowKey {
        l3_dst: addr_from_bytes(k.l3_dst, k.dst_is_v6),
        l3_src: addr_from_bytes(k.l3_src, k.src_is_v6),
        proto: k.proto,
        port_dst: k.port_dst,
        src: k.src,
        vni: k.vni,
        vnf_type: k.vnf_type,
    }
}

/// `jhash` of the packed key (§19.2): the flow hash.
#[inline]
pub fn hash(k: &CtKey) -> u32 {
    // the key's fields are 4-byte aligned: read it as its 11 words (little-endian hosts,
    // as the §19.2 layout is)
    let words: [u32; 11] = bytemuck::cast(*k);
    hash::jhash_words(&words, 44, hash::SEED)
}

/// The key of the other direction (§7.2): addresses swapped; TCP/UDP ports swapped; ICMP
/// keeps the identifier and maps echo request ↔ reply (any other type becomes 0).
pub fn reverse(k: &FlowKey) -> FlowKey {
    let (port_dst, src) = match k.proto {
        ip_proto::TCP | ip_proto::UDP => (k.src, k.port_dst),
        ip_proto::ICMPV6 => (
            k.port_dst,
            match u8::try_from(k.src) {
                Ok(icmpv6::msg_type::ECHO_REQUEST) => u16::from(icmpv6::msg_type::ECHO_REPLY),
                Ok(icmpv6::msg_type::ECHO_REPLY) => u16::from(icmpv6::msg_type::ECHO_REQUEST),
                _ => 0,
            },
        ),
        _ => (
            k.port_dst,
            match u8::try_from(k.src) {
                Ok(icmpv4::msg_type::ECHO_REQUEST) => u16::from(icmpv4::msg_type::ECHO_REPLY),
                Ok(icmpv4::msg_type::ECHO_REPLY) => u16::from(icmpv4::msg_type::ECHO_REQUEST),
                _ => 0,
            },
        ),
    };
    FlowKey {
        l3_dst: k.l3_src,
        l3_src: k.l3_dst,
        proto: k.proto,
        port_dst,
        src,
        vni: k.vni,
        vnf_type: k.vnf_type,
    }
}

/// The IPv4 destination of a packed key, if it is IPv4.
pub fn dst_v4(k: &CtKey) -> Option<std::net::Ipv4Addr> {
    match addr_from_bytes(k.l3_dst, k.dst_is_v6) {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => None,
    }
}

/// A conntrack flow key (§7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub l3_dst: IpAddr,
    pub l3_src: IpAddr,
    pub proto: u8,
    /// TCP/UDP destination port; ICMP: identifier.
    pub port_dst: u16,
    /// TCP/UDP source port; ICMP: message type.
    pub src: u16,
    pub vni: u32,
    pub vnf_type: u8,
}

/// The 16-byte address form of hash keys: IPv4 as its host integer in little endian
/// followed by zeros (upstream stores the integer), IPv6 in network order.
#[inline]
fn addr_bytes(a: &IpAddr) -> ([u8; 16], u8) {
    let mut out = [0u8; 16];
    match a {
        IpAddr::V4(v4) => {
            out[..4].copy_from_slice(&v4.to_bits().to_le_bytes());
            (out, 0)
        }
        IpAddr::V6(v6) => (v6.octets(), 1),
    }
}

/// Writes the four little-endian words of an address in key form; returns `is_v6`.
#[inline(always)]
fn addr_words(a: &IpAddr, out: &mut [u32]) -> u32 {
    match a {
        IpAddr::V4(v4) => {
            out[0] = v4.to_bits();
            out[1..4].fill(0);
            0
        }
        IpAddr::V6(v6) => {
            let o = v6.octets();
            for (i, w) in out.iter_mut().enumerate().take(4) {
                *w = u32::from_le_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]]);
            }
            1
        }
    }
}

impl FlowKey {
    /// The packed 44-byte key of §19.2.
    pub fn to_bytes(&self) -> [u8; 44] {
        let mut b = [0u8; 44];
        let (dst, dst_v6) = addr_bytes(&self.l3_dst);
        let (src, src_v6) = addr_bytes(&self.l3_src);
        b[0..16].copy_from_slice(&dst);
        b[16] = dst_v6;
        b[17] = self.proto;
        b[18..20].copy_from_slice(&self.port_dst.to_le_bytes());
        b[20..36].copy_from_slice(&src);
        b[36] = src_v6;
        b[37] = self.vnf_type;
        b[38..40].copy_from_slice(&self.src.to_le_bytes());
        b[40..44].copy_from_slice(&self.vni.to_le_bytes());
        b
    }

    /// The flow hash (uplink choice, Maglev): `jhash(key, 44)`, computed from the words of
    /// the packed key without building it.
    #[inline]
    pub fn hash(&self) -> u32 {
        let mut w = [0u32; 11];
        let (dst_v6, src_v6) = (
            addr_words(&self.l3_dst, &mut w[0..4]),
            addr_words(&self.l3_src, &mut w[5..9]),
        );
        w[4] = dst_v6 | u32::from(self.proto) << 8 | u32::from(self.port_dst) << 16;
        w[9] = src_v6 | u32::from(self.vnf_type) << 8 | u32::from(self.src) << 16;
        w[10] = self.vni;
        hash::jhash_words(&w, 44, hash::SEED)
    }
}
