//! ARP for IPv4 over Ethernet (RFC 826).

use std::net::Ipv4Addr;

use super::{be16, ethernet::MacAddr, ipv4_at, put16, Malformed};

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = 28;
pub const HTYPE_ETHERNET: u16 = 1;
pub const OP_REQUEST: u16 = 1;
pub const OP_REPLY: u16 = 2;

/// A view of an ARP packet (the Ethernet payload).
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Checks the length only; use [`Packet::is_ethernet_ipv4`] for the address formats.
    pub fn new_checked(buffer: T) -> Result<Self, Malformed> {
        if buffer.as_ref().len() < PACKET_LEN {
            return Err(Malformed::Truncated);
        }
        Ok(Packet { buffer })
    }

    pub fn hardware_type(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }
    pub fn protocol_type(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[4]
    }
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[5]
    }
    pub fn operation(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }
    pub fn sender_hw_addr(&self) -> MacAddr {
        MacAddr::from_slice(&self.buffer.as_ref()[8..14])
    }
    pub fn sender_proto_addr(&self) -> Ipv4Addr {
        ipv4_at(self.buffer.as_ref(), 14)
    }
    pub fn target_hw_addr(&self) -> MacAddr {
        MacAddr::from_slice(&self.buffer.as_ref()[18..24])
    }
    pub fn target_proto_addr(&self) -> Ipv4Addr {
        ipv4_at(self.buffer.as_ref(), 24)
    }

    /// Hardware Ethernet (1), protocol IPv4, address lengths 6 and 4.
    pub fn is_ethernet_ipv4(&self) -> bool {
        self.hardware_type() == HTYPE_ETHERNET
            && self.protocol_type() == super::ethernet::ethertype::IPV4
            && self.hardware_len() == 6
            && self.protocol_len() == 4
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_operation(&mut self, op: u16) {
        put16(self.buffer.as_mut(), 6, op);
    }
    pub fn set_sender_hw_addr(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[8..14].copy_from_slice(&mac.0);
    }
    pub fn set_sender_proto_addr(&mut self, ip: Ipv4Addr) {
        self.buffer.as_mut()[14..18].copy_from_slice(&ip.octets());
    }
    pub fn set_target_hw_addr(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[18..24].copy_from_slice(&mac.0);
    }
    pub fn set_target_proto_addr(&mut self, ip: Ipv4Addr) {
        self.buffer.as_mut()[24..28].copy_from_slice(&ip.octets());
    }
}

/// Writes a complete Ethernet/IPv4 ARP packet into the first 28 bytes of `out`.
pub fn emit(
    out: &mut [u8],
    op: u16,
    sender_mac: MacAddr,
    sender_ip: Ipv4Addr,
    target_mac: MacAddr,
    target_ip: Ipv4Addr,
) {
    put16(out, 0, HTYPE_ETHERNET);
    put16(out, 2, super::ethernet::ethertype::IPV4);
    out[4] = 6;
    out[5] = 4;
    let mut p = Packet::new_unchecked(&mut out[..PACKET_LEN]);
    p.set_operation(op);
    p.set_sender_hw_addr(sender_mac);
    p.set_sender_proto_addr(sender_ip);
    p.set_target_hw_addr(target_mac);
    p.set_target_proto_addr(target_ip);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    // who-has 169.254.0.1 tell 0.0.0.0, from 66:66:66:66:66:00
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x66, 0x66, 0x66, 0x66, 0x66, 0x00, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 169, 254, 0, 1,
    ];

    #[test]
    fn parse_golden() {
        let p = Packet::new_checked(&REQUEST[..]).unwrap();
        assert!(p.is_ethernet_ipv4());
        assert_eq!(p.operation(), OP_REQUEST);
        assert_eq!(
            p.sender_hw_addr(),
            MacAddr([0x66, 0x66, 0x66, 0x66, 0x66, 0])
        );
        assert_eq!(p.sender_proto_addr(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(p.target_hw_addr(), MacAddr::ZERO);
        assert_eq!(p.target_proto_addr(), Ipv4Addr::new(169, 254, 0, 1));
        assert_eq!(
            Packet::new_checked(&REQUEST[..27]).unwrap_err(),
            Malformed::Truncated
        );
    }

    #[test]
    fn emit_golden() {
        let mut out = [0u8; 28];
        emit(
            &mut out,
            OP_REQUEST,
            MacAddr([0x66, 0x66, 0x66, 0x66, 0x66, 0]),
            Ipv4Addr::UNSPECIFIED,
            MacAddr::ZERO,
            Ipv4Addr::new(169, 254, 0, 1),
        );
        assert_eq!(out, REQUEST);
    }

    #[test]
    fn not_ethernet_ipv4() {
        let mut b = REQUEST;
        b[5] = 16;
        assert!(!Packet::new_checked(&b[..]).unwrap().is_ethernet_ipv4());
    }
}
