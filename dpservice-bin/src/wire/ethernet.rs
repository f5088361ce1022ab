//! Ethernet II frames and MAC addresses.

use std::fmt;
use std::str::FromStr;

use super::{be16, Malformed};

/// Length of the Ethernet header (no VLAN tag).
pub const HEADER_LEN: usize = 14;

/// Ethertypes the packet path knows.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const IPV6: u16 = 0x86dd;
    pub const VLAN: u16 = 0x8100;
    pub const QINQ: u16 = 0x88a8;
    /// The HA sync channel (local experimental ethertype 1).
    pub const SYNC: u16 = 0x88b5;
}

/// A 48-bit MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const ZERO: MacAddr = MacAddr([0; 6]);
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// All-nodes multicast (`ff02::1`) as an Ethernet destination.
    pub const IPV6_ALL_NODES: MacAddr = MacAddr([0x33, 0x33, 0, 0, 0, 1]);

    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }

    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 != 0
    }

    /// Reads a MAC from the first six bytes of `b` (callers guarantee the length).
    #[inline]
    pub fn from_slice(b: &[u8]) -> MacAddr {
        let mut m = [0u8; 6];
        m.copy_from_slice(&b[..6]);
        MacAddr(m)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A MAC address text that is not six colon- or dash-separated hex bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address {0:?}: expected six hex bytes like 22:22:22:22:22:00")]
pub struct ParseMacError(pub String);

impl FromStr for MacAddr {
    type Err = ParseMacError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseMacError(s.to_owned());
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in &mut out {
            let part = parts.next().ok_or_else(err)?;
            if part.is_empty() || part.len() > 2 {
                return Err(err());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(out))
    }
}

/// A view of an Ethernet II frame.
#[derive(Debug, Clone, Copy)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps without checking; accessors panic if the buffer is shorter than the header.
    pub const fn new_unchecked(buffer: T) -> Self {
        Frame { buffer }
    }

    /// Wraps after checking that the header is present.
    pub fn new_checked(buffer: T) -> Result<Self, Malformed> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Malformed::Truncated);
        }
        Ok(Frame { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    #[inline]
    pub fn dst_addr(&self) -> MacAddr {
        MacAddr::from_slice(&self.buffer.as_ref()[0..6])
    }

    #[inline]
    pub fn src_addr(&self) -> MacAddr {
        MacAddr::from_slice(&self.buffer.as_ref()[6..12])
    }

    #[inline]
    pub fn ethertype(&self) -> u16 {
        be16(self.buffer.as_ref(), 12)
    }

    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    #[inline]
    pub fn set_dst_addr(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[0..6].copy_from_slice(&mac.0);
    }

    #[inline]
    pub fn set_src_addr(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[6..12].copy_from_slice(&mac.0);
    }

    #[inline]
    pub fn set_ethertype(&mut self, ethertype: u16) {
        self.buffer.as_mut()[12..14].copy_from_slice(&ethertype.to_be_bytes());
    }

    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// Writes an Ethernet header into the first 14 bytes of `out`.
#[inline]
pub fn emit(out: &mut [u8], dst: MacAddr, src: MacAddr, ethertype: u16) {
    out[0..6].copy_from_slice(&dst.0);
    out[6..12].copy_from_slice(&src.0);
    out[12..14].copy_from_slice(&ethertype.to_be_bytes());
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const FRAME: [u8; 16] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x66, 0x66, 0x66, 0x66, 0x66, 0x00, 0x08, 0x06, 0xaa,
        0xbb,
    ];

    #[test]
    fn parse_golden() {
        let f = Frame::new_checked(&FRAME[..]).unwrap();
        assert_eq!(f.dst_addr(), MacAddr::BROADCAST);
        assert_eq!(f.src_addr(), MacAddr([0x66, 0x66, 0x66, 0x66, 0x66, 0x00]));
        assert_eq!(f.ethertype(), ethertype::ARP);
        assert_eq!(f.payload(), &[0xaa, 0xbb]);
    }

    #[test]
    fn truncated_is_rejected() {
        assert_eq!(
            Frame::new_checked(&FRAME[..13]).unwrap_err(),
            Malformed::Truncated
        );
    }

    #[test]
    fn emit_and_setters_golden() {
        let mut buf = [0u8; 16];
        emit(
            &mut buf,
            MacAddr::BROADCAST,
            MacAddr([0x66, 0x66, 0x66, 0x66, 0x66, 0x00]),
            0x0806,
        );
        buf[14] = 0xaa;
        buf[15] = 0xbb;
        assert_eq!(buf, FRAME);
        let mut f = Frame::new_unchecked(&mut buf[..]);
        f.set_dst_addr(MacAddr([1, 2, 3, 4, 5, 6]));
        f.set_src_addr(MacAddr::ZERO);
        f.set_ethertype(ethertype::IPV6);
        assert_eq!(
            &buf[..14],
            &[1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0x86, 0xdd]
        );
    }

    #[test]
    fn mac_text_round_trip() {
        let m: MacAddr = "22:22:22:22:22:0a".parse().unwrap();
        assert_eq!(m, MacAddr([0x22, 0x22, 0x22, 0x22, 0x22, 0x0a]));
        assert_eq!(m.to_string(), "22:22:22:22:22:0a");
        assert_eq!("aa-bb-cc-dd-ee-ff".parse::<MacAddr>().unwrap().0[5], 0xff);
        for bad in [
            "",
            "22:22:22:22:22",
            "22:22:22:22:22:22:22",
            "zz:22:22:22:22:22",
            "222:2:2:2:2:2",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
    }
}
