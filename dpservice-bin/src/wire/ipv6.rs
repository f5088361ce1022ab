//! IPv6 fixed headers (RFC 8200). Extension headers are not parsed: the packet path treats
//! any next header it does not handle as "other" (upstream behaviour).

use std::net::Ipv6Addr;

use super::{be16, be32, ipv6_at, put16, put32, Malformed};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 40;

/// `fe80::1`, the overlay gateway every VM talks to.
pub const GATEWAY: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
/// `ff02::1`, all nodes.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// A view of an IPv6 packet.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Checks version 6 and that the fixed header is present.
    pub fn new_checked(buffer: T) -> Result<Self, Malformed> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Malformed::Truncated);
        }
        if b[0] >> 4 != 6 {
            return Err(Malformed::Version);
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
    /// Version, traffic class and flow label as one word.
    #[inline]
    pub fn vtc_flow(&self) -> u32 {
        be32(self.buffer.as_ref(), 0)
    }
    #[inline]
    pub fn traffic_class(&self) -> u8 {
        (self.vtc_flow() >> 20) as u8
    }
    #[inline]
    pub fn flow_label(&self) -> u32 {
        self.vtc_flow() & 0x000f_ffff
    }
    #[inline]
    pub fn payload_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    #[inline]
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[6]
    }
    #[inline]
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[7]
    }
    #[inline]
    pub fn src_addr(&self) -> Ipv6Addr {
        ipv6_at(self.buffer.as_ref(), 8)
    }
    #[inline]
    pub fn dst_addr(&self) -> Ipv6Addr {
        ipv6_at(self.buffer.as_ref(), 24)
    }

    /// The bytes after the fixed header, up to the payload length (clamped to what is present).
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = (HEADER_LEN + usize::from(self.payload_len())).min(b.len());
        &b[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    #[inline]
    pub fn set_vtc_flow(&mut self, v: u32) {
        put32(self.buffer.as_mut(), 0, v);
    }
    #[inline]
    pub fn set_payload_len(&mut self, v: u16) {
        put16(self.buffer.as_mut(), 4, v);
    }
    #[inline]
    pub fn set_next_header(&mut self, v: u8) {
        self.buffer.as_mut()[6] = v;
    }
    #[inline]
    pub fn set_hop_limit(&mut self, v: u8) {
        self.buffer.as_mut()[7] = v;
    }
    #[inline]
    pub fn set_src_addr(&mut self, a: &Ipv6Addr) {
        self.buffer.as_mut()[8..24].copy_from_slice(&a.octets());
    }
    #[inline]
    pub fn set_dst_addr(&mut self, a: &Ipv6Addr) {
        self.buffer.as_mut()[24..40].copy_from_slice(&a.octets());
    }
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = (HEADER_LEN + usize::from(self.payload_len())).min(self.buffer.as_ref().len());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// The fields of a fixed header to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub next_header: u8,
    pub payload_len: u16,
    pub hop_limit: u8,
    pub traffic_class: u8,
    pub flow_label: u32,
}

impl Repr {
    /// Writes the fixed header into the first 40 bytes of `out`.
    #[inline]
    pub fn emit(&self, out: &mut [u8]) {
        let vtc =
            (6u32 << 28) | (u32::from(self.traffic_class) << 20) | (self.flow_label & 0xfffff);
        put32(out, 0, vtc);
        put16(out, 4, self.payload_len);
        out[6] = self.next_header;
        out[7] = self.hop_limit;
        out[8..24].copy_from_slice(&self.src.octets());
        out[24..40].copy_from_slice(&self.dst.octets());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    // fe80::1 -> ff02::1, tc 0xb8, flow 0x12345, payload 24, ICMPv6, hop limit 255
    const HDR: [u8; 40] = [
        0x6b, 0x81, 0x23, 0x45, 0x00, 0x18, 0x3a, 0xff, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0x01, 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
    ];

    #[test]
    fn parse_golden() {
        let p = Packet::new_checked(&HDR[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0xb8);
        assert_eq!(p.flow_label(), 0x12345);
        assert_eq!(p.payload_len(), 24);
        assert_eq!(p.next_header(), 58);
        assert_eq!(p.hop_limit(), 255);
        assert_eq!(p.src_addr(), GATEWAY);
        assert_eq!(p.dst_addr(), ALL_NODES);
        assert!(p.payload().is_empty());
    }

    #[test]
    fn emit_golden() {
        let mut out = [0u8; 40];
        Repr {
            src: GATEWAY,
            dst: ALL_NODES,
            next_header: 58,
            payload_len: 24,
            hop_limit: 255,
            traffic_class: 0xb8,
            flow_label: 0x12345,
        }
        .emit(&mut out);
        assert_eq!(out, HDR);
    }

    #[test]
    fn checks() {
        assert_eq!(
            Packet::new_checked(&HDR[..39]).unwrap_err(),
            Malformed::Truncated
        );
        let mut b = HDR;
        b[0] = 0x4b;
        assert_eq!(Packet::new_checked(&b[..]).unwrap_err(), Malformed::Version);
    }
}
