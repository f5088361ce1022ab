//! IPv4 headers (RFC 791).
//!
//! The packet path forwards IPv4 without validating it (upstream behaviour), so
//! [`Packet::new_checked`] only guarantees that the header is readable; [`Packet::payload`]
//! clamps a nonsensical total length to the bytes present instead of failing.

use std::net::Ipv4Addr;

use super::{be16, checksum, ipv4_at, put16, Malformed};

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;
/// The "don't fragment" flag in the flags/fragment-offset word.
pub const FLAG_DF: u16 = 0x4000;

/// A view of an IPv4 packet.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Checks version 4, a header length of at least 20 and that the header is present.
    pub fn new_checked(buffer: T) -> Result<Self, Malformed> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Malformed::Truncated);
        }
        if b[0] >> 4 != 4 {
            return Err(Malformed::Version);
        }
        let hl = usize::from(b[0] & 0x0f) * 4;
        if hl < HEADER_LEN {
            return Err(Malformed::HeaderLength);
        }
        if b.len() < hl {
            return Err(Malformed::Truncated);
        }
        Ok(Packet { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[0] & 0x0f) * 4
    }
    #[inline]
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[1]
    }
    #[inline]
    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    #[inline]
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    #[inline]
    pub fn flags_frag(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }
    #[inline]
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[8]
    }
    #[inline]
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[9]
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 10)
    }
    #[inline]
    pub fn src_addr(&self) -> Ipv4Addr {
        ipv4_at(self.buffer.as_ref(), 12)
    }
    #[inline]
    pub fn dst_addr(&self) -> Ipv4Addr {
        ipv4_at(self.buffer.as_ref(), 16)
    }

    /// True if the header checksum is correct.
    pub fn verify_checksum(&self) -> bool {
        checksum::fold(checksum::sum(&self.buffer.as_ref()[..self.header_len()])) == 0xffff
    }

    /// The bytes after the header, up to the total length (clamped to what is present).
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let hl = self.header_len();
        let end = usize::from(self.total_len()).clamp(hl, b.len());
        &b[hl..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    #[inline]
    pub fn set_tos(&mut self, v: u8) {
        self.buffer.as_mut()[1] = v;
    }
    #[inline]
    pub fn set_total_len(&mut self, v: u16) {
        put16(self.buffer.as_mut(), 2, v);
    }
    #[inline]
    pub fn set_ident(&mut self, v: u16) {
        put16(self.buffer.as_mut(), 4, v);
    }
    #[inline]
    pub fn set_ttl(&mut self, v: u8) {
        self.buffer.as_mut()[8] = v;
    }
    #[inline]
    pub fn set_protocol(&mut self, v: u8) {
        self.buffer.as_mut()[9] = v;
    }
    #[inline]
    pub fn set_checksum(&mut self, v: u16) {
        put16(self.buffer.as_mut(), 10, v);
    }
    #[inline]
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[12..16].copy_from_slice(&a.octets());
    }
    #[inline]
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[16..20].copy_from_slice(&a.octets());
    }

    /// Recomputes the header checksum in full.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let hl = self.header_len();
        let c = checksum::finish(checksum::sum(&self.buffer.as_ref()[..hl]));
        self.set_checksum(c);
    }

    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        let end = usize::from(self.total_len()).clamp(hl, self.buffer.as_ref().len());
        &mut self.buffer.as_mut()[hl..end]
    }
}

/// The fields of a 20-byte header to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    /// Bytes after the header.
    pub payload_len: u16,
    pub ttl: u8,
    pub tos: u8,
    pub ident: u16,
    pub flags_frag: u16,
}

impl Repr {
    /// Writes the header (with checksum) into the first 20 bytes of `out`.
    pub fn emit(&self, out: &mut [u8]) {
        out[0] = 0x45;
        out[1] = self.tos;
        put16(out, 2, self.payload_len.saturating_add(HEADER_LEN as u16));
        put16(out, 4, self.ident);
        put16(out, 6, self.flags_frag);
        out[8] = self.ttl;
        out[9] = self.protocol;
        put16(out, 10, 0);
        out[12..16].copy_from_slice(&self.src.octets());
        out[16..20].copy_from_slice(&self.dst.octets());
        let c = checksum::finish(checksum::sum(&out[..HEADER_LEN]));
        put16(out, 10, c);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    // 192.168.0.1 -> 192.168.0.199, UDP, total 0x73, DF, TTL 64: the classic example
    const HDR: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    #[test]
    fn parse_golden() {
        let p = Packet::new_checked(&HDR[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 0x73);
        assert_eq!(p.flags_frag(), FLAG_DF);
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), 17);
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(192, 168, 0, 199));
        assert!(p.verify_checksum());
        // total length beyond the buffer is clamped, not a panic
        assert!(p.payload().is_empty());
    }

    #[test]
    fn emit_golden() {
        let mut out = [0u8; 20];
        Repr {
            src: Ipv4Addr::new(192, 168, 0, 1),
            dst: Ipv4Addr::new(192, 168, 0, 199),
            protocol: 17,
            payload_len: 0x73 - 20,
            ttl: 64,
            tos: 0,
            ident: 0,
            flags_frag: FLAG_DF,
        }
        .emit(&mut out);
        assert_eq!(out, HDR);
    }

    #[test]
    fn checks() {
        assert_eq!(
            Packet::new_checked(&HDR[..19]).unwrap_err(),
            Malformed::Truncated
        );
        let mut b = HDR;
        b[0] = 0x65;
        assert_eq!(Packet::new_checked(&b[..]).unwrap_err(), Malformed::Version);
        b[0] = 0x44;
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap_err(),
            Malformed::HeaderLength
        );
        b[0] = 0x46;
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap_err(),
            Malformed::Truncated
        );
    }

    #[test]
    fn setters_and_fill_checksum() {
        let mut b = HDR;
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_dst_addr(Ipv4Addr::new(10, 0, 0, 1));
        p.set_ttl(3);
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
        // by hand: 4500+0073+0000+4000+0311+c0a8+0001+0a00+0001 = 0x1532e -> 0x532f, ~ = 0xacd0
        assert_eq!(p.checksum(), 0xacd0);
    }

    #[test]
    fn payload_respects_total_length() {
        let mut b = [0u8; 30];
        b[..20].copy_from_slice(&HDR);
        put16(&mut b, 2, 24);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload().len(), 4);
    }
}
