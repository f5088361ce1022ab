//! Between the logical flow key ([`crate::hash::FlowKey`], addresses as `IpAddr`) and the
//! packed 44-byte key the table stores (§19.2), and the reverse key of §7.2.

use std::net::IpAddr;

use dpservice::shm::catalogue::{addr_from_bytes, addr_to_bytes};

use super::CtKey;
use crate::hash::{self, FlowKey};
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
