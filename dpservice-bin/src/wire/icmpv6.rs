//! ICMPv6 (RFC 4443) and the neighbour-discovery messages the gateway answers
//! (RFC 4861: router solicitation/advertisement, neighbour solicitation/advertisement).

use std::net::Ipv6Addr;

use super::{be16, checksum, ethernet::MacAddr, ip_proto, ipv6_at, put16, Malformed};

/// Type, code, checksum and the 4-byte rest-of-header.
pub const HEADER_LEN: usize = 8;
/// NS/NA: header + target address.
pub const NEIGHBOR_MSG_LEN: usize = 24;
/// RA: header + reachable time + retransmit timer.
pub const ROUTER_ADVERT_LEN: usize = 16;
/// A link-layer address option for Ethernet (type, length 1 = 8 bytes, MAC).
pub const LL_ADDR_OPT_LEN: usize = 8;

pub mod msg_type {
    pub const ECHO_REQUEST: u8 = 128;
    pub const ECHO_REPLY: u8 = 129;
    pub const ROUTER_SOLICIT: u8 = 133;
    pub const ROUTER_ADVERT: u8 = 134;
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    pub const NEIGHBOR_ADVERT: u8 = 136;
}

pub mod nd_option {
    pub const SOURCE_LL_ADDR: u8 = 1;
    pub const TARGET_LL_ADDR: u8 = 2;
}

/// Flag bits of the first byte after the checksum of a neighbour advertisement.
pub mod na_flags {
    pub const ROUTER: u8 = 0x80;
    pub const SOLICITED: u8 = 0x40;
    pub const OVERRIDE: u8 = 0x20;
}

/// Flag bits of a router advertisement (byte 5).
pub mod ra_flags {
    pub const MANAGED: u8 = 0x80;
    pub const OTHER: u8 = 0x40;
}

/// A view of an ICMPv6 message (the buffer is exactly the message).
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

    pub fn len(&self) -> usize {
        self.buffer.as_ref().len()
    }
    pub fn is_empty(&self) -> bool {
        self.buffer.as_ref().is_empty()
    }
    #[inline]
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    #[inline]
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[1]
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }
    /// Echo identifier (bytes 4–5); the flow key uses it for every ICMPv6 type.
    #[inline]
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    /// NA flag byte / RA current hop limit (byte 4).
    #[inline]
    pub fn byte4(&self) -> u8 {
        self.buffer.as_ref()[4]
    }
    /// Target address of an NS/NA; `None` if the message is too short to hold one.
    pub fn nd_target(&self) -> Option<Ipv6Addr> {
        let b = self.buffer.as_ref();
        (b.len() >= NEIGHBOR_MSG_LEN).then(|| ipv6_at(b, 8))
    }
    /// The options of an NS/NA (after the target).
    pub fn nd_options(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[NEIGHBOR_MSG_LEN.min(b.len())..]
    }

    /// True if the checksum is correct for this IPv6 source and destination.
    pub fn verify_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        let b = self.buffer.as_ref();
        let acc = checksum::pseudo_header_v6(src, dst, ip_proto::ICMPV6, b.len() as u32)
            + checksum::sum(b);
        checksum::fold(acc) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    #[inline]
    pub fn set_msg_type(&mut self, v: u8) {
        self.buffer.as_mut()[0] = v;
    }
    #[inline]
    pub fn set_code(&mut self, v: u8) {
        self.buffer.as_mut()[1] = v;
    }
    #[inline]
    pub fn set_checksum(&mut self, v: u16) {
        put16(self.buffer.as_mut(), 2, v);
    }
    #[inline]
    pub fn set_byte4(&mut self, v: u8) {
        self.buffer.as_mut()[4] = v;
    }
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Recomputes the checksum over the whole message with the IPv6 pseudo header.
    pub fn fill_checksum(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        self.set_checksum(0);
        let b = self.buffer.as_ref();
        let acc = checksum::pseudo_header_v6(src, dst, ip_proto::ICMPV6, b.len() as u32)
            + checksum::sum(b);
        let c = checksum::finish(acc);
        self.set_checksum(c);
    }
}

/// Writes an Ethernet link-layer address option (`kind` = source or target) into `out`,
/// truncated to the space available (upstream writes it whether or not the message had
/// room; bytes past the message are not sent).
pub fn emit_ll_addr_option(out: &mut [u8], kind: u8, mac: MacAddr) {
    let mut opt = [0u8; LL_ADDR_OPT_LEN];
    opt[0] = kind;
    opt[1] = 1;
    opt[2..8].copy_from_slice(&mac.0);
    let n = out.len().min(LL_ADDR_OPT_LEN);
    out[..n].copy_from_slice(&opt[..n]);
}

/// Writes the gateway's router advertisement (without checksum) into the first
/// 24 bytes of `out`: hop limit 255, Managed and Other set, lifetime 65535, reachable and
/// retransmit times 0, one source link-layer option with `mac`. Returns the length (24).
pub fn emit_router_advert(out: &mut [u8], mac: MacAddr) -> usize {
    out[..ROUTER_ADVERT_LEN].fill(0);
    out[0] = msg_type::ROUTER_ADVERT;
    out[4] = 255;
    out[5] = ra_flags::MANAGED | ra_flags::OTHER;
    put16(out, 6, 0xffff);
    emit_ll_addr_option(
        &mut out[ROUTER_ADVERT_LEN..ROUTER_ADVERT_LEN + LL_ADDR_OPT_LEN],
        nd_option::SOURCE_LL_ADDR,
        mac,
    );
    ROUTER_ADVERT_LEN + LL_ADDR_OPT_LEN
}

/// Writes an unsolicited neighbour advertisement for `target` (Router and Override set,
/// no options, without checksum) into the first 24 bytes of `out`. Returns 24.
pub fn emit_unsolicited_na(out: &mut [u8], target: &Ipv6Addr) -> usize {
    out[..NEIGHBOR_MSG_LEN].fill(0);
    out[0] = msg_type::NEIGHBOR_ADVERT;
    out[4] = na_flags::ROUTER | na_flags::OVERRIDE;
    out[8..24].copy_from_slice(&target.octets());
    NEIGHBOR_MSG_LEN
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::wire::ipv6::{ALL_NODES, GATEWAY};

    const MAC: MacAddr = MacAddr([0x66, 0x66, 0x66, 0x66, 0x66, 0x00]);

    // RA fe80::1 -> ff02::1 with SLLA 66:66:66:66:66:00 (checksums in these tests were
    // computed with an independent RFC 1071 script over pseudo header + message).
    const RA: [u8; 24] = [
        134, 0, 0x48, 0x98, 255, 0xc0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x66, 0x66, 0x66,
        0x66, 0x66, 0x00,
    ];

    #[test]
    fn router_advert_golden() {
        let mut out = [0u8; 24];
        assert_eq!(emit_router_advert(&mut out, MAC), 24);
        let mut p = Packet::new_unchecked(&mut out[..]);
        p.fill_checksum(&GATEWAY, &ALL_NODES);
        assert_eq!(out, RA);
        assert!(Packet::new_checked(&out[..])
            .unwrap()
            .verify_checksum(&GATEWAY, &ALL_NODES));
    }

    // Unsolicited NA for fe80::1, flags Router|Override.
    const NA: [u8; 24] = [
        136, 0, 0xdb, 0xa4, 0xa0, 0, 0, 0, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    ];

    #[test]
    fn unsolicited_na_golden() {
        let mut out = [0u8; 24];
        assert_eq!(emit_unsolicited_na(&mut out, &GATEWAY), 24);
        Packet::new_unchecked(&mut out[..]).fill_checksum(&GATEWAY, &ALL_NODES);
        assert_eq!(out, NA);
        let p = Packet::new_checked(&out[..]).unwrap();
        assert_eq!(p.nd_target(), Some(GATEWAY));
        assert!(p.nd_options().is_empty());
    }

    #[test]
    fn ll_option_truncates() {
        let mut out = [0xeeu8; 4];
        emit_ll_addr_option(&mut out, nd_option::TARGET_LL_ADDR, MAC);
        assert_eq!(out, [2, 1, 0x66, 0x66]);
    }

    #[test]
    fn short_messages() {
        assert_eq!(
            Packet::new_checked(&[0u8; 7][..]).unwrap_err(),
            Malformed::Truncated
        );
        assert_eq!(
            Packet::new_checked(&[135u8; 8][..]).unwrap().nd_target(),
            None
        );
    }
}
