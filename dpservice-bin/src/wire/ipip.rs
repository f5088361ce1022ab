//! IPv4-in-IPv6 and IPv6-in-IPv6 tunnels (RFC 2473) as the overlay uses them: an outer
//! Ethernet + 40-byte IPv6 header, no extension headers, traffic class and flow label 0,
//! hop limit 64.

use std::net::Ipv6Addr;

use super::ethernet::{self, ethertype, MacAddr};
use super::{be16, ip_proto, ipv6, Malformed};

/// Outer Ethernet + IPv6 header length.
pub const OUTER_LEN: usize = ethernet::HEADER_LEN + ipv6::HEADER_LEN;
/// Hop limit of every tunnel header.
pub const HOP_LIMIT: u8 = 64;

/// A frame in a buffer with headroom (a packet buffer, or a `Vec` in tests).
pub trait FrameBuf {
    /// The frame bytes.
    fn data(&self) -> &[u8];
    fn data_mut(&mut self) -> &mut [u8];
    /// Removes `n` bytes from the front; false (and unchanged) if fewer are present.
    fn trim_front(&mut self, n: usize) -> bool;
    /// Grows the frame by `n` bytes at the front; false (and unchanged) without headroom.
    fn prepend(&mut self, n: usize) -> bool;
}

/// What to put in the outer headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tunnel {
    pub dst_mac: MacAddr,
    pub src_mac: MacAddr,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
}

/// The inner L3 protocol of a tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inner {
    V4,
    V6,
}

impl Inner {
    pub fn next_header(self) -> u8 {
        match self {
            Inner::V4 => ip_proto::IPIP,
            Inner::V6 => ip_proto::IPV6,
        }
    }
    pub fn ethertype(self) -> u16 {
        match self {
            Inner::V4 => ethertype::IPV4,
            Inner::V6 => ethertype::IPV6,
        }
    }
    /// The inner protocol of an outer next-header value.
    pub fn from_next_header(nh: u8) -> Option<Inner> {
        match nh {
            ip_proto::IPIP => Some(Inner::V4),
            ip_proto::IPV6 => Some(Inner::V6),
            _ => None,
        }
    }
}

/// Replaces the Ethernet header of an inner frame by Ethernet + IPv6 tunnel headers.
///
/// The outer payload length comes from the inner header as upstream computes it (IPv4:
/// total length; IPv6: payload length + 40), not from the frame length, so Ethernet
/// padding stays behind the inner packet.
#[inline]
pub fn encapsulate<B: FrameBuf + ?Sized>(
    buf: &mut B,
    inner: Inner,
    t: &Tunnel,
) -> Result<(), Malformed> {
    let (payload_len, out) = make_outer_room(buf, inner)?;
    emit_outer(out, t, inner.next_header(), payload_len);
    Ok(())
}

/// [`encapsulate`] with the outer headers of `template`, the first [`OUTER_LEN`] bytes of
/// a frame `encapsulate` made with the same tunnel and inner protocol, and this frame's
/// own payload length: the headers `encapsulate` would write, from one copy.
#[inline]
pub fn encapsulate_like<B: FrameBuf + ?Sized>(
    buf: &mut B,
    inner: Inner,
    template: &[u8; OUTER_LEN],
) -> Result<(), Malformed> {
    let (payload_len, out) = make_outer_room(buf, inner)?;
    *out = *template;
    out[ethernet::HEADER_LEN + 4..ethernet::HEADER_LEN + 6]
        .copy_from_slice(&payload_len.to_be_bytes());
    Ok(())
}

/// The outer payload length of the frame and room for the outer headers in front of its
/// inner packet (the frame grown by the IPv6 header, its Ethernet header to be
/// overwritten); unchanged on error.
#[inline(always)]
fn make_outer_room<B: FrameBuf + ?Sized>(
    buf: &mut B,
    inner: Inner,
) -> Result<(u16, &mut [u8; OUTER_LEN]), Malformed> {
    let d = buf.data();
    let payload_len = match inner {
        Inner::V4 if d.len() >= ethernet::HEADER_LEN + 4 => be16(d, ethernet::HEADER_LEN + 2),
        Inner::V6 if d.len() >= ethernet::HEADER_LEN + ipv6::HEADER_LEN => {
            be16(d, ethernet::HEADER_LEN + 4).wrapping_add(ipv6::HEADER_LEN as u16)
        }
        _ => return Err(Malformed::Truncated),
    };
    if !buf.prepend(ipv6::HEADER_LEN) {
        return Err(Malformed::Truncated);
    }
    // the inner checks above leave at least the outer headers' length after the prepend
    let out = buf
        .data_mut()
        .first_chunk_mut::<OUTER_LEN>()
        .ok_or(Malformed::Truncated)?;
    Ok((payload_len, out))
}

/// Writes the outer Ethernet + IPv6 headers in one pass over a fixed-size array (every
/// offset a constant: no bounds checks, no per-field slicing; this runs for every
/// packet towards an uplink).
#[inline(always)]
fn emit_outer(out: &mut [u8; OUTER_LEN], t: &Tunnel, next_header: u8, payload_len: u16) {
    const IP: usize = ethernet::HEADER_LEN;
    out[0..6].copy_from_slice(&t.dst_mac.0);
    out[6..12].copy_from_slice(&t.src_mac.0);
    out[12..14].copy_from_slice(&ethertype::IPV6.to_be_bytes());
    // version 6, traffic class 0, flow label 0
    out[IP..IP + 4].copy_from_slice(&[0x60, 0, 0, 0]);
    out[IP + 4..IP + 6].copy_from_slice(&payload_len.to_be_bytes());
    out[IP + 6] = next_header;
    out[IP + 7] = HOP_LIMIT;
    out[IP + 8..IP + 24].copy_from_slice(&t.src.octets());
    out[IP + 24..IP + 40].copy_from_slice(&t.dst.octets());
}

/// Replaces Ethernet + IPv6 tunnel headers by a fresh Ethernet header for the inner packet.
pub fn decapsulate<B: FrameBuf + ?Sized>(
    buf: &mut B,
    inner: Inner,
    dst_mac: MacAddr,
    src_mac: MacAddr,
) -> Result<(), Malformed> {
    if buf.data().len() < OUTER_LEN || !buf.trim_front(ipv6::HEADER_LEN) {
        return Err(Malformed::Truncated);
    }
    ethernet::emit(buf.data_mut(), dst_mac, src_mac, inner.ethertype());
    Ok(())
}

/// A `Vec` with a fixed headroom, for tests of anything that takes a [`FrameBuf`].
#[cfg(test)]
#[derive(Debug, Clone)]
pub(crate) struct VecBuf {
    pub bytes: Vec<u8>,
    pub start: usize,
}

#[cfg(test)]
impl VecBuf {
    pub fn new(headroom: usize, frame: &[u8]) -> Self {
        let mut bytes = vec![0u8; headroom];
        bytes.extend_from_slice(frame);
        VecBuf {
            bytes,
            start: headroom,
        }
    }
}

#[cfg(test)]
impl FrameBuf for VecBuf {
    fn data(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
    fn data_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[self.start..]
    }
    fn trim_front(&mut self, n: usize) -> bool {
        if self.bytes.len() - self.start < n {
            return false;
        }
        self.start += n;
        true
    }
    fn prepend(&mut self, n: usize) -> bool {
        if self.start < n {
            return false;
        }
        self.start -= n;
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const VM_MAC: [u8; 6] = [0x52, 0x54, 0, 0, 0, 1];
    const VF_MAC: [u8; 6] = [0x66, 0x66, 0x66, 0x66, 0x66, 0];

    // An inner frame: Ethernet (VF <- VM) + IPv4 header (total length 20) + 2 padding bytes.
    fn inner_v4() -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&VF_MAC);
        f.extend_from_slice(&VM_MAC);
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&[
            0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ]);
        f.extend_from_slice(&[0xee, 0xee]);
        f
    }

    fn tunnel() -> Tunnel {
        Tunnel {
            dst_mac: MacAddr([0xaa; 6]),
            src_mac: MacAddr([0x22, 0x22, 0x22, 0x22, 0x22, 0x00]),
            src: "fc00:1::d000:0:1".parse().unwrap(),
            dst: "fc00:2::1".parse().unwrap(),
        }
    }

    #[test]
    fn encap_v4_golden() {
        let mut b = VecBuf::new(64, &inner_v4());
        encapsulate(&mut b, Inner::V4, &tunnel()).unwrap();
        let mut expect = vec![0xaa; 6];
        expect.extend_from_slice(&[0x22, 0x22, 0x22, 0x22, 0x22, 0x00, 0x86, 0xdd]);
        // version 6, tc 0, flow 0, payload 20 (inner total length), nh 4, hop limit 64
        expect.extend_from_slice(&[0x60, 0, 0, 0, 0, 20, 4, 64]);
        expect.extend_from_slice(&[0xfc, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xd0, 0, 0, 0, 0, 1]);
        expect.extend_from_slice(&[0xfc, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        expect.extend_from_slice(&inner_v4()[14..]);
        assert_eq!(b.data(), &expect[..]);
    }

    #[test]
    fn encap_v6_payload_length() {
        let mut f = Vec::new();
        f.extend_from_slice(&[0u8; 12]);
        f.extend_from_slice(&[0x86, 0xdd]);
        let mut ip6 = [0u8; 48];
        ip6[0] = 0x60;
        ip6[5] = 8; // payload length 8
        f.extend_from_slice(&ip6);
        let mut b = VecBuf::new(64, &f);
        encapsulate(&mut b, Inner::V6, &tunnel()).unwrap();
        let d = b.data();
        assert_eq!(&d[18..21], &[0, 48, 41]);
        assert_eq!(d.len(), f.len() + 40);
    }

    #[test]
    fn decap_round_trip_golden() {
        let mut b = VecBuf::new(64, &inner_v4());
        encapsulate(&mut b, Inner::V4, &tunnel()).unwrap();
        decapsulate(&mut b, Inner::V4, MacAddr(VM_MAC), MacAddr(VF_MAC)).unwrap();
        let mut expect = inner_v4();
        expect[..6].copy_from_slice(&VM_MAC);
        expect[6..12].copy_from_slice(&VF_MAC);
        assert_eq!(b.data(), &expect[..]);
    }

    #[test]
    fn errors() {
        let mut b = VecBuf::new(0, &inner_v4());
        assert_eq!(
            encapsulate(&mut b, Inner::V4, &tunnel()),
            Err(Malformed::Truncated)
        );
        assert_eq!(b.data(), &inner_v4()[..], "unchanged on failure");
        let mut short = VecBuf::new(64, &[0u8; 30]);
        assert_eq!(
            decapsulate(&mut short, Inner::V6, MacAddr::ZERO, MacAddr::ZERO),
            Err(Malformed::Truncated)
        );
        assert_eq!(Inner::from_next_header(4), Some(Inner::V4));
        assert_eq!(Inner::from_next_header(41), Some(Inner::V6));
        assert_eq!(Inner::from_next_header(17), None);
    }
}
