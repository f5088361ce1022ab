//! Header rewrites of the NAT stages on an Ethernet frame holding an IPv4 or IPv6
//! packet (dataplane.md §8.2): addresses and ports with full IPv4 and TCP/UDP checksum
//! recomputation, ICMP identifiers with incremental updates, echo answers in place, and
//! the embedded header of ICMP errors.
//!
//! Like `conntrack`, the L4 header is taken to start 20 bytes after the IPv4 header
//! (options are not handled, quirk 20). Every function checks the lengths it touches
//! and answers `false` for frames too short, which the nodes drop as malformed.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::wire::ethernet::HEADER_LEN as ETH;
use crate::wire::icmpv4::{self, msg_type};
use crate::wire::{be16, checksum, icmpv6, ip_proto, ipv4, ipv6, put16};

/// Start of the IPv4/IPv6 header.
pub const L3: usize = ETH;
/// Start of the L4 header behind a 20-byte IPv4 header.
pub const L4_V4: usize = ETH + ipv4::HEADER_LEN;
/// Start of the L4 header behind the IPv6 fixed header.
pub const L4_V6: usize = ETH + ipv6::HEADER_LEN;

/// Which port of a TCP/UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortSide {
    Src,
    Dst,
}

/// The end of the IPv4 packet: its total length, clamped to the frame.
fn v4_end(f: &[u8]) -> usize {
    (L3 + usize::from(be16(f, L3 + 2))).clamp(L4_V4, f.len())
}

/// The end of the IPv6 packet: its payload length, clamped to the frame.
fn v6_end(f: &[u8]) -> usize {
    (L4_V6 + usize::from(be16(f, L3 + 4))).clamp(L4_V6, f.len())
}

pub fn v4_src(f: &[u8]) -> Ipv4Addr {
    crate::wire::ipv4_at(f, L3 + 12)
}

pub fn v4_dst(f: &[u8]) -> Ipv4Addr {
    crate::wire::ipv4_at(f, L3 + 16)
}

pub fn set_v4_src(f: &mut [u8], a: Ipv4Addr) {
    f[L3 + 12..L3 + 16].copy_from_slice(&a.octets());
}

pub fn set_v4_dst(f: &mut [u8], a: Ipv4Addr) {
    f[L3 + 16..L3 + 20].copy_from_slice(&a.octets());
}

/// The IPv4 header checksum as found in the header (network order bytes as a number).
pub fn v4_header_checksum(f: &[u8]) -> u16 {
    be16(f, L3 + 10)
}

/// Sets a TCP/UDP port (checksums are recomputed by [`v4_fix_checksums`]).
pub fn set_l4_port(f: &mut [u8], l4: usize, side: PortSide, port: u16) {
    let off = match side {
        PortSide::Src => l4,
        PortSide::Dst => l4 + 2,
    };
    put16(f, off, port);
}

/// Recomputes the IPv4 header checksum, and the TCP/UDP checksum in full (a UDP
/// datagram always gets one, as upstream computes it unconditionally). Other L4
/// protocols keep theirs. `false` if the L4 header is cut.
pub fn v4_fix_checksums(f: &mut [u8]) -> bool {
    let Some(head) = f.first_chunk_mut::<L4_V4>() else {
        return false;
    };
    // the header as five big-endian words from a fixed-size array (no bounds checks),
    // its checksum field counted as zero; the addresses serve the pseudo header too
    let word = |h: &[u8; L4_V4], at: usize| {
        u64::from(u32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]))
    };
    let addrs = word(head, L3 + 12) + word(head, L3 + 16);
    let header = word(head, L3) + word(head, L3 + 4) + (word(head, L3 + 8) & 0xffff_0000) + addrs;
    head[L3 + 10..L3 + 12].copy_from_slice(&checksum::finish(header).to_be_bytes());
    let proto = head[L3 + 9];
    let end = v4_end(f);
    let at = match proto {
        ip_proto::TCP => 16,
        ip_proto::UDP => 6,
        _ => return true,
    };
    if end < L4_V4 + at + 2 {
        return false;
    }
    put16(f, L4_V4 + at, 0);
    let len = (end - L4_V4) as u64;
    let acc = addrs + u64::from(proto) + len + checksum::sum(&f[L4_V4..end]);
    let mut c = checksum::finish(acc);
    if proto == ip_proto::UDP {
        c = checksum::udp_nonzero(c);
    }
    put16(f, L4_V4 + at, c);
    true
}

/// Recomputes the TCP/UDP/ICMPv6 checksum of an IPv6 packet in full.
pub fn v6_fix_l4_checksum(f: &mut [u8]) -> bool {
    if f.len() < L4_V6 {
        return false;
    }
    let nh = f[L3 + 6];
    let end = v6_end(f);
    let at = match nh {
        ip_proto::TCP => 16,
        ip_proto::UDP => 6,
        ip_proto::ICMPV6 => 2,
        _ => return true,
    };
    if end < L4_V6 + at + 2 {
        return false;
    }
    put16(f, L4_V6 + at, 0);
    let src = crate::wire::ipv6_at(f, L3 + 8);
    let dst = crate::wire::ipv6_at(f, L3 + 24);
    let acc = checksum::pseudo_header_v6(&src, &dst, nh, (end - L4_V6) as u32)
        + checksum::sum(&f[L4_V6..end]);
    let mut c = checksum::finish(acc);
    if nh == ip_proto::UDP {
        c = checksum::udp_nonzero(c);
    }
    put16(f, L4_V6 + at, c);
    true
}

/// Rewrites the ICMP echo identifier at `l4`, updating the checksum incrementally.
pub fn set_icmp_ident(f: &mut [u8], l4: usize, ident: u16) -> bool {
    if f.len() < l4 + icmpv4::HEADER_LEN {
        return false;
    }
    let old = be16(f, l4 + 4);
    let c = checksum::update_word(be16(f, l4 + 2), old, ident);
    put16(f, l4 + 4, ident);
    put16(f, l4 + 2, c);
    true
}

/// Turns an IPv4 ICMP echo request into its reply in place (§8.4): type 0, code kept,
/// ICMP checksum updated incrementally, addresses swapped, IP checksum recomputed, TTL
/// unchanged. `false` (nothing changed) for anything but an echo request.
pub fn answer_echo_v4(f: &mut [u8]) -> bool {
    if f.len() < L4_V4 + icmpv4::HEADER_LEN
        || f[L3 + 9] != ip_proto::ICMP
        || f[L4_V4] != msg_type::ECHO_REQUEST
    {
        return false;
    }
    let old = u16::from_be_bytes([f[L4_V4], f[L4_V4 + 1]]);
    f[L4_V4] = msg_type::ECHO_REPLY;
    let new = u16::from_be_bytes([f[L4_V4], f[L4_V4 + 1]]);
    let c = checksum::update_word(be16(f, L4_V4 + 2), old, new);
    put16(f, L4_V4 + 2, c);
    let (src, dst) = (v4_src(f), v4_dst(f));
    set_v4_src(f, dst);
    set_v4_dst(f, src);
    v4_fix_checksums(f)
}

/// Turns an ICMPv6 echo request into its reply in place (§9.4): type 129, addresses
/// swapped, checksum recomputed. `false` (nothing changed) for anything else.
pub fn answer_echo_v6(f: &mut [u8]) -> bool {
    if f.len() < L4_V6 + icmpv6::HEADER_LEN
        || f[L3 + 6] != ip_proto::ICMPV6
        || f[L4_V6] != icmpv6::msg_type::ECHO_REQUEST
    {
        return false;
    }
    f[L4_V6] = icmpv6::msg_type::ECHO_REPLY;
    let mut src = [0u8; 16];
    src.copy_from_slice(&f[L3 + 8..L3 + 24]);
    f.copy_within(L3 + 24..L3 + 40, L3 + 8);
    f[L3 + 24..L3 + 40].copy_from_slice(&src);
    v6_fix_l4_checksum(f)
}

/// Restores the embedded packet of an ICMP destination-unreachable about a NATed flow
/// (§8.3.5): embedded source := `vm_ip`, embedded header checksum := `ip_cksum` (the
/// original packet's), embedded TCP/UDP source port := `vm_port`; the ICMP checksum is
/// recomputed over the message (quirk 10, fixed). `false` if the embedded packet is cut
/// or not TCP/UDP.
pub fn restore_icmp_error(f: &mut [u8], vm_ip: Ipv4Addr, ip_cksum: u16, vm_port: u16) -> bool {
    let emb = L4_V4 + icmpv4::HEADER_LEN;
    if f.len() < emb + ipv4::HEADER_LEN {
        return false;
    }
    let proto = f[emb + 9];
    if proto != ip_proto::TCP && proto != ip_proto::UDP {
        return false;
    }
    let hl = (usize::from(f[emb] & 0x0f) * 4).max(ipv4::HEADER_LEN);
    if f.len() < emb + hl + 2 {
        return false;
    }
    f[emb + 12..emb + 16].copy_from_slice(&vm_ip.octets());
    put16(f, emb + 10, ip_cksum);
    put16(f, emb + hl, vm_port);
    let end = v4_end(f);
    put16(f, L4_V4 + 2, 0);
    let c = checksum::finish(checksum::sum(&f[L4_V4..end]));
    put16(f, L4_V4 + 2, c);
    true
}

/// The IPv4 address embedded in the last 32 bits of a NAT64 address.
pub fn nat64_embedded(a: &Ipv6Addr) -> Ipv4Addr {
    let o = a.octets();
    Ipv4Addr::new(o[12], o[13], o[14], o[15])
}

/// `64:ff9b::<a>`.
pub fn nat64_address(a: Ipv4Addr) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o[1] = 0x64;
    o[2] = 0xff;
    o[3] = 0x9b;
    o[12..].copy_from_slice(&a.octets());
    Ipv6Addr::from(o)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::wire::ethernet::{self, ethertype, MacAddr};

    /// An Ethernet/IPv4 frame with `l4` behind the header, every checksum wrong.
    fn frame(proto: u8, l4: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; L4_V4];
        ethernet::emit(&mut f, MacAddr([2; 6]), MacAddr([4; 6]), ethertype::IPV4);
        let total = (ipv4::HEADER_LEN + l4.len()) as u16;
        f[L3..L4_V4].copy_from_slice(&[
            0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, proto, 0xde, 0xad, 10, 100, 1, 1, 45, 86, 6, 2,
        ]);
        put16(&mut f, L3 + 2, total);
        f.extend_from_slice(l4);
        // Ethernet padding behind the packet is not summed
        f.extend_from_slice(&[0xee; 5]);
        f
    }

    /// The one's complement sum of RFC 1071, 16 bits at a time.
    fn rfc1071(parts: &[&[u8]]) -> u16 {
        let mut acc: u64 = 0;
        for p in parts {
            for w in p.chunks(2) {
                acc += u64::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]));
            }
        }
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    fn assert_valid(f: &[u8], proto: u8) {
        let end = L3 + usize::from(be16(f, L3 + 2));
        assert_eq!(rfc1071(&[&f[L3..L4_V4]]), 0xffff, "IPv4 header checksum");
        let len = ((end - L4_V4) as u16).to_be_bytes();
        let pseudo = [&f[L3 + 12..L3 + 20], &[0, proto], &len[..]].concat();
        assert_eq!(rfc1071(&[&pseudo, &f[L4_V4..end]]), 0xffff, "L4 checksum");
    }

    #[test]
    fn wrong_checksums_come_out_right() {
        // UDP with an odd payload length, TCP with a 20-byte header and payload
        let mut udp = vec![0x0f, 0xa0, 0, 80, 0, 0, 0x55, 0x55];
        udp.extend((0..23u8).map(|i| i.wrapping_mul(97)));
        let udp_len = udp.len() as u16;
        udp[4..6].copy_from_slice(&udp_len.to_be_bytes());
        let mut f = frame(ip_proto::UDP, &udp);
        assert!(v4_fix_checksums(&mut f));
        assert_valid(&f, ip_proto::UDP);

        let mut tcp = vec![0u8; 20];
        tcp[12] = 0x50;
        tcp[16..18].copy_from_slice(&[0xbe, 0xef]);
        tcp.extend((0..40u8).map(|i| i.wrapping_mul(31) ^ 0xa5));
        let mut f = frame(ip_proto::TCP, &tcp);
        assert!(v4_fix_checksums(&mut f));
        assert_valid(&f, ip_proto::TCP);
        // already right: unchanged
        let again = f.clone();
        assert!(v4_fix_checksums(&mut f));
        assert_eq!(f, again);
    }

    #[test]
    fn udp_checksum_zero_is_sent_as_all_ones() {
        // find a payload word that makes the computed checksum zero
        let mut udp = vec![0x0f, 0xa0, 0, 80, 0, 10, 0, 0, 0, 0];
        for w in 0..=u16::MAX {
            udp[8..10].copy_from_slice(&w.to_be_bytes());
            let mut f = frame(ip_proto::UDP, &udp);
            assert!(v4_fix_checksums(&mut f));
            if be16(&f, L4_V4 + 6) == 0xffff {
                assert_valid(&f, ip_proto::UDP);
                return;
            }
            assert_ne!(be16(&f, L4_V4 + 6), 0, "a UDP checksum of zero was written");
        }
        panic!("no payload word gave a zero checksum");
    }

    #[test]
    fn cut_frames_are_refused() {
        let mut short = vec![0u8; L4_V4 - 1];
        assert!(!v4_fix_checksums(&mut short));
        // a UDP header cut before its checksum field
        let mut f = frame(ip_proto::UDP, &[0x0f, 0xa0, 0, 80, 0, 8]);
        assert!(!v4_fix_checksums(&mut f));
    }
}
