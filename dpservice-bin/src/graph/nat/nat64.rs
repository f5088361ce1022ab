//! NAT64 header conversion (dataplane.md §8.5): a VM's IPv6 packet to `64:ff9b::/96`
//! becomes an IPv4 packet from the NAT address, and the IPv4 replies become IPv6 again.
//! The frame shrinks or grows by 20 bytes at the front; the Ethernet addresses stay
//! (routing or encapsulation rewrites them).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::rewrite::{self, L3, L4_V4, L4_V6};
use crate::wire::ethernet::{self, ethertype};
use crate::wire::ipip::FrameBuf;
use crate::wire::{be16, icmpv4, icmpv6, ip_proto, ipv4, ipv6, put16, MacAddr};

/// Why a packet could not be converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Nat64Error {
    /// A header is cut, or there is no headroom to grow the frame.
    #[error("headers cut or no room to convert")]
    Malformed,
    /// ICMP other than echo, or an L4 protocol other than TCP/UDP/ICMP.
    #[error("not translatable")]
    Untranslatable,
}

fn macs(f: &[u8]) -> (MacAddr, MacAddr) {
    (
        MacAddr::from_slice(&f[0..6]),
        MacAddr::from_slice(&f[6..12]),
    )
}

/// IPv6 → IPv4 (§8.5): source := `nat_ip`, destination := the embedded IPv4, TCP/UDP
/// source port or ICMP identifier := `nat_port`, echo 128/129 → 8/0. Answers the
/// destination IPv4.
pub fn to_v4<B: FrameBuf + ?Sized>(
    buf: &mut B,
    nat_ip: Ipv4Addr,
    nat_port: u16,
) -> Result<Ipv4Addr, Nat64Error> {
    let f = buf.data();
    if f.len() < L4_V6 + 4 {
        return Err(Nat64Error::Malformed);
    }
    let tc = ((be16(f, L3) >> 4) & 0xff) as u8;
    let payload_len = be16(f, L3 + 4);
    let nh = f[L3 + 6];
    let hop = f[L3 + 7];
    let dst = rewrite::nat64_embedded(&crate::wire::ipv6_at(f, L3 + 24));
    let (dmac, smac) = macs(f);
    let (proto, icmp_type) = match nh {
        ip_proto::TCP | ip_proto::UDP => (nh, 0),
        ip_proto::ICMPV6 => {
            if f.len() < L4_V6 + icmpv6::HEADER_LEN {
                return Err(Nat64Error::Malformed);
            }
            let t = match f[L4_V6] {
                icmpv6::msg_type::ECHO_REQUEST => icmpv4::msg_type::ECHO_REQUEST,
                icmpv6::msg_type::ECHO_REPLY => icmpv4::msg_type::ECHO_REPLY,
                _ => return Err(Nat64Error::Untranslatable),
            };
            (ip_proto::ICMP, t)
        }
        _ => return Err(Nat64Error::Untranslatable),
    };
    if !buf.trim_front(ipv6::HEADER_LEN - ipv4::HEADER_LEN) {
        return Err(Nat64Error::Malformed);
    }
    let f = buf.data_mut();
    ethernet::emit(f, dmac, smac, ethertype::IPV4);
    ipv4::Repr {
        src: nat_ip,
        dst,
        protocol: proto,
        payload_len,
        ttl: hop,
        tos: tc,
        ident: 0,
        flags_frag: 0,
    }
    .emit(&mut f[L3..]);
    if proto == ip_proto::ICMP {
        f[L4_V4] = icmp_type;
        f[L4_V4 + 1] = 0;
        put16(f, L4_V4 + 4, nat_port);
        let end = (L4_V4 + usize::from(payload_len)).min(f.len());
        put16(f, L4_V4 + 2, 0);
        let c = crate::wire::checksum::finish(crate::wire::checksum::sum(&f[L4_V4..end]));
        put16(f, L4_V4 + 2, c);
        return Ok(dst);
    }
    rewrite::set_l4_port(f, L4_V4, rewrite::PortSide::Src, nat_port);
    if !rewrite::v4_fix_checksums(f) {
        return Err(Nat64Error::Malformed);
    }
    Ok(dst)
}

/// IPv4 → IPv6 for a reply (§8.5): source := `64:ff9b::<IPv4 source>`, destination :=
/// `vm`, echo 0/8 → 129/128 (other ICMP refused), checksums recomputed. The caller has
/// restored the destination port or identifier. Answers the new source.
pub fn to_v6<B: FrameBuf + ?Sized>(buf: &mut B, vm: &Ipv6Addr) -> Result<Ipv6Addr, Nat64Error> {
    let f = buf.data();
    if f.len() < L4_V4 + 4 {
        return Err(Nat64Error::Malformed);
    }
    let tos = f[L3 + 1];
    let payload_len = be16(f, L3 + 2).saturating_sub(ipv4::HEADER_LEN as u16);
    let ttl = f[L3 + 8];
    let proto = f[L3 + 9];
    let src = rewrite::nat64_address(rewrite::v4_src(f));
    let (dmac, smac) = macs(f);
    let (nh, icmp_type) = match proto {
        ip_proto::TCP | ip_proto::UDP => (proto, 0),
        ip_proto::ICMP => {
            if f.len() < L4_V4 + icmpv4::HEADER_LEN {
                return Err(Nat64Error::Malformed);
            }
            let t = match f[L4_V4] {
                icmpv4::msg_type::ECHO_REPLY => icmpv6::msg_type::ECHO_REPLY,
                icmpv4::msg_type::ECHO_REQUEST => icmpv6::msg_type::ECHO_REQUEST,
                _ => return Err(Nat64Error::Untranslatable),
            };
            (ip_proto::ICMPV6, t)
        }
        _ => return Err(Nat64Error::Untranslatable),
    };
    if !buf.prepend(ipv6::HEADER_LEN - ipv4::HEADER_LEN) {
        return Err(Nat64Error::Malformed);
    }
    let f = buf.data_mut();
    ethernet::emit(f, dmac, smac, ethertype::IPV6);
    ipv6::Repr {
        src,
        dst: *vm,
        next_header: nh,
        payload_len,
        hop_limit: ttl,
        traffic_class: tos,
        flow_label: 0,
    }
    .emit(&mut f[L3..]);
    if nh == ip_proto::ICMPV6 {
        f[L4_V6] = icmp_type;
    }
    if !rewrite::v6_fix_l4_checksum(f) {
        return Err(Nat64Error::Malformed);
    }
    Ok(src)
}
