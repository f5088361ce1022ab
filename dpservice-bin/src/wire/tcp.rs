//! TCP headers (RFC 9293). The packet path reads ports and flags and rewrites ports and
//! the checksum; the segment is whatever the IP payload holds.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{be16, be32, checksum, ip_proto, put16, Malformed};

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;

/// Flag bits of byte 13.
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

/// A view of a TCP segment (the buffer is exactly the segment).
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Checks that the fixed header is present.
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
    pub fn seq_number(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
    #[inline]
    pub fn ack_number(&self) -> u32 {
        be32(self.buffer.as_ref(), 8)
    }
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[12] >> 4) * 4
    }
    /// The flag byte (CWR..FIN), compared exactly by the conntrack state machine.
    #[inline]
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[13]
    }
    #[inline]
    pub fn window(&self) -> u16 {
        be16(self.buffer.as_ref(), 14)
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 16)
    }

    pub fn verify_checksum_v4(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        let b = self.buffer.as_ref();
        let acc =
            checksum::pseudo_header_v4(src, dst, ip_proto::TCP, b.len() as u16) + checksum::sum(b);
        checksum::fold(acc) == 0xffff
    }

    pub fn verify_checksum_v6(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        let b = self.buffer.as_ref();
        let acc =
            checksum::pseudo_header_v6(src, dst, ip_proto::TCP, b.len() as u32) + checksum::sum(b);
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
    pub fn set_checksum(&mut self, v: u16) {
        put16(self.buffer.as_mut(), 16, v);
    }

    pub fn fill_checksum_v4(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let b = self.buffer.as_ref();
        let acc =
            checksum::pseudo_header_v4(src, dst, ip_proto::TCP, b.len() as u16) + checksum::sum(b);
        let c = checksum::finish(acc);
        self.set_checksum(c);
    }

    pub fn fill_checksum_v6(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        self.set_checksum(0);
        let b = self.buffer.as_ref();
        let acc =
            checksum::pseudo_header_v6(src, dst, ip_proto::TCP, b.len() as u32) + checksum::sum(b);
        let c = checksum::finish(acc);
        self.set_checksum(c);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    // SYN 10.0.0.1:40000 -> 10.0.0.2:80, seq 1, window 0xffff, no options.
    // Checksum by hand: pseudo 0a00+0001+0a00+0002+0006+0014 = 0x141d;
    // header 9c40+0050+0000+0001+0000+0000+5002+ffff = 0x1ec92;
    // 0x141d + 0x1ec92 = 0x200af -> 0x00b1; complement 0xff4e.
    const SYN: [u8; 20] = [
        0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0xff, 0x4e, 0, 0,
    ];

    #[test]
    fn parse_golden() {
        let p = Packet::new_checked(&SYN[..]).unwrap();
        assert_eq!(p.src_port(), 40000);
        assert_eq!(p.dst_port(), 80);
        assert_eq!(p.seq_number(), 1);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.flags(), flags::SYN);
        assert!(p.verify_checksum_v4(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)));
    }

    #[test]
    fn fill_golden() {
        let mut b = SYN;
        b[16] = 0;
        b[17] = 0;
        Packet::new_unchecked(&mut b[..])
            .fill_checksum_v4(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(b, SYN);
    }

    #[test]
    fn port_rewrite_then_v6() {
        let mut b = SYN;
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_src_port(1025);
        let (s, d) = (
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        );
        p.fill_checksum_v6(&s, &d);
        assert!(p.verify_checksum_v6(&s, &d));
        assert_eq!(&b[0..2], &[0x04, 0x01]);
    }

    #[test]
    fn truncated() {
        assert_eq!(
            Packet::new_checked(&SYN[..19]).unwrap_err(),
            Malformed::Truncated
        );
    }
}
