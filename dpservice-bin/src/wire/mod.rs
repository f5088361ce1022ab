//! Zero-copy views of the protocols on the packet path, in the style of smoltcp's `wire`.
//!
//! Each protocol is a `Packet<T: AsRef<[u8]>>`-like view: `new_checked` validates untrusted
//! bytes once (length and version), after which the accessors cannot fail; `new_unchecked`
//! skips the check and its accessors panic on a short buffer (for bytes the caller has
//! already validated or built). Setters exist where `T: AsMut<[u8]>`. `emit` functions write
//! complete headers. Nothing here allocates; failures are the small [`Malformed`] enum.

pub mod arp;
pub mod checksum;
pub mod dhcpv4;
pub mod dhcpv6;
pub mod ethernet;
pub mod icmpv4;
pub mod icmpv6;
pub mod ipip;
pub mod ipv4;
pub mod ipv6;
pub mod tcp;
pub mod udp;

pub use ethernet::MacAddr;

/// Why bytes could not be read as a protocol header. Small and `Copy`: the packet path maps
/// it to a drop reason and counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Fewer bytes than the header (or a length field) requires.
    Truncated,
    /// The version field does not match the protocol.
    Version,
    /// A header length field smaller than the fixed header.
    HeaderLength,
    /// An option or extension runs past the end of its container.
    Options,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Malformed::Truncated => "truncated header",
            Malformed::Version => "wrong version",
            Malformed::HeaderLength => "bad header length",
            Malformed::Options => "option runs past the end",
        })
    }
}

/// IP protocol numbers used on the packet path.
pub mod ip_proto {
    pub const ICMP: u8 = 1;
    /// IPv4 in IPv6 (RFC 2473), "IPIP".
    pub const IPIP: u8 = 4;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    /// IPv6 in IPv6.
    pub const IPV6: u8 = 41;
    pub const ICMPV6: u8 = 58;
}

#[inline]
pub(crate) fn be16(b: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([b[off], b[off + 1]])
}

#[inline]
pub(crate) fn be32(b: &[u8], off: usize) -> u32 {
    u32::from_be_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

#[inline]
pub(crate) fn put16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_be_bytes());
}

#[inline]
pub(crate) fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_be_bytes());
}

#[inline]
pub(crate) fn ipv4_at(b: &[u8], off: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::new(b[off], b[off + 1], b[off + 2], b[off + 3])
}

#[inline]
pub(crate) fn ipv6_at(b: &[u8], off: usize) -> std::net::Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[off..off + 16]);
    std::net::Ipv6Addr::from(o)
}
