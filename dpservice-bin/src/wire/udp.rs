//! UDP headers (RFC 768).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::ethernet::{self, ethertype, MacAddr};
use super::{be16, checksum, ip_proto, ipv4, put16, Malformed};

pub const HEADER_LEN: usize = 8;

/// A view of a UDP datagram.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self, Malformed> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Malformed::Truncated);
        }
        Ok(Packet { buffer })
    }

    #[inline]
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    #[inline]
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    #[inline]
    pub fn len(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() as usize <= HEADER_LEN
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }

    /// The datagram as covered by the length field (clamped to the bytes present).
    fn datagram(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[..usize::from(self.len()).clamp(HEADER_LEN, b.len())]
    }

    pub fn payload(&self) -> &[u8] {
        &self.datagram()[HEADER_LEN..]
    }

    /// True if the checksum is correct for the IPv4 pseudo header (zero means "none").
    pub fn verify_checksum_v4(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        if self.checksum() == 0 {
            return true;
        }
        let d = self.datagram();
        let acc =
            checksum::pseudo_header_v4(src, dst, ip_proto::UDP, d.len() as u16) + checksum::sum(d);
        checksum::fold(acc) == 0xffff
    }

    /// True if the checksum is correct for the IPv6 pseudo header.
    pub fn verify_checksum_v6(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        let d = self.datagram();
        let acc =
            checksum::pseudo_header_v6(src, dst, ip_proto::UDP, d.len() as u32) + checksum::sum(d);
        checksum::fold(acc) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    #[inline]
    pub fn set_src_port(&mut self, v: u16) {
        put16(self.buffer.as_mut(), 0, v);
    }
    #[inline]
    pub fn set_dst_port(&mut self, v: u16) {
        put16(self.buffer.as_mut(), 2, v);
    }
    #[inline]
    pub fn set_len(&mut self, v: u16) {
        put16(self.buffer.as_mut(), 4, v);
    }
    #[inline]
    pub fn set_checksum(&mut self, v: u16) {
        put16(self.buffer.as_mut(), 6, v);
    }

    /// Recomputes the checksum over the datagram (length field) with the IPv4 pseudo header.
    pub fn fill_checksum_v4(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let d = self.datagram();
        let acc =
            checksum::pseudo_header_v4(src, dst, ip_proto::UDP, d.len() as u16) + checksum::sum(d);
        let c = checksum::udp_nonzero(checksum::finish(acc));
        self.set_checksum(c);
    }

    /// Recomputes the checksum over the datagram (length field) with the IPv6 pseudo header.
    pub fn fill_checksum_v6(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        self.set_checksum(0);
        let d = self.datagram();
        let acc =
            checksum::pseudo_header_v6(src, dst, ip_proto::UDP, d.len() as u32) + checksum::sum(d);
        let c = checksum::udp_nonzero(checksum::finish(acc));
        self.set_checksum(c);
    }
}

/// Ports and addresses of a test or benchmark datagram.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Flow {
    pub dst_mac: MacAddr,
    pub src_mac: MacAddr,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
}

/// An Ethernet/IPv4/UDP frame of `frame_len` bytes (at least 42) whose payload is zero,
/// TTL 64, UDP checksum 0 ("none", allowed over IPv4): the frame benchmarks and
/// generators send.
pub fn ipv4_frame(flow: &Ipv4Flow, frame_len: usize) -> Vec<u8> {
    let frame_len = frame_len.max(ethernet::HEADER_LEN + ipv4::HEADER_LEN + HEADER_LEN);
    let mut f = vec![0u8; frame_len];
    ethernet::emit(&mut f, flow.dst_mac, flow.src_mac, ethertype::IPV4);
    let l4_len = (frame_len - ethernet::HEADER_LEN - ipv4::HEADER_LEN) as u16;
    ipv4::Repr {
        src: flow.src,
        dst: flow.dst,
        protocol: ip_proto::UDP,
        payload_len: l4_len,
        ttl: 64,
        tos: 0,
        ident: 0,
        flags_frag: 0,
    }
    .emit(&mut f[ethernet::HEADER_LEN..]);
    let u = &mut f[ethernet::HEADER_LEN + ipv4::HEADER_LEN..];
    put16(u, 0, flow.src_port);
    put16(u, 2, flow.dst_port);
    put16(u, 4, l4_len);
    f
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn benchmark_frame_parses_back() {
        let flow = Ipv4Flow {
            dst_mac: MacAddr([0x66, 0x66, 0x66, 0x66, 0x66, 0]),
            src_mac: MacAddr([0x52, 0x54, 0, 0, 0, 1]),
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            src_port: 4000,
            dst_port: 80,
        };
        let f = ipv4_frame(&flow, 64);
        assert_eq!(f.len(), 64);
        assert_eq!(
            &f[..14],
            &[0x66, 0x66, 0x66, 0x66, 0x66, 0, 0x52, 0x54, 0, 0, 0, 1, 8, 0]
        );
        // version/IHL, total length 50, TTL 64, protocol 17, addresses
        assert_eq!(f[14], 0x45);
        assert_eq!(&f[16..18], &[0, 50]);
        assert_eq!((f[22], f[23]), (64, 17));
        assert_eq!(&f[26..34], &[10, 0, 0, 1, 10, 0, 0, 2]);
        let udp = Packet::new_checked(&f[34..]).unwrap();
        assert_eq!((udp.src_port(), udp.dst_port(), udp.len()), (4000, 80, 30));
        assert_eq!(udp.checksum(), 0);
        // too short a request still gives a whole header
        assert_eq!(ipv4_frame(&flow, 10).len(), 42);
    }

    // 10.0.0.1:1234 -> 10.0.0.2:53, payload "hi". Checksum by hand: pseudo header
    // 0a00+0001+0a00+0002+0011+000a = 0x141e; header 04d2+0035+000a = 0x0511; payload 0x6869;
    // total 0x8198, complement 0x7e67.
    const DGRAM: [u8; 10] = [0x04, 0xd2, 0x00, 0x35, 0x00, 0x0a, 0x7e, 0x67, b'h', b'i'];

    #[test]
    fn parse_and_verify_golden() {
        let p = Packet::new_checked(&DGRAM[..]).unwrap();
        assert_eq!(p.src_port(), 1234);
        assert_eq!(p.dst_port(), 53);
        assert_eq!(p.len(), 10);
        assert_eq!(p.payload(), b"hi");
        assert!(p.verify_checksum_v4(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)));
        assert!(!p.verify_checksum_v4(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 3)));
    }

    #[test]
    fn fill_checksum_golden() {
        let mut b = DGRAM;
        b[6] = 0;
        b[7] = 0;
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.fill_checksum_v4(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(b, DGRAM);
    }

    #[test]
    fn v6_round_trip() {
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let dst: Ipv6Addr = "fe80::2".parse().unwrap();
        let mut b = DGRAM;
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.fill_checksum_v6(&src, &dst);
        // fe80+0001+fe80+0002+000a+0011 = 0x1fd1e -> 0xfd1f; + 0x0511 + 0x6869 = 0x16a99
        // -> 0x6a9a; complement 0x9565
        assert_eq!(p.checksum(), 0x9565);
        assert!(p.verify_checksum_v6(&src, &dst));
    }

    #[test]
    fn truncated() {
        assert_eq!(
            Packet::new_checked(&DGRAM[..7]).unwrap_err(),
            Malformed::Truncated
        );
    }
}
