//! ICMP for IPv4 (RFC 792): echo and destination unreachable are what the packet path
//! handles.

use super::{be16, checksum, put16, Malformed};

/// Type, code, checksum and the 4-byte rest-of-header.
pub const HEADER_LEN: usize = 8;

pub mod msg_type {
    pub const ECHO_REPLY: u8 = 0;
    pub const DEST_UNREACHABLE: u8 = 3;
    pub const ECHO_REQUEST: u8 = 8;
}

/// Destination-unreachable codes that refer to a connection (and are tracked).
pub mod unreach_code {
    pub const PROTOCOL: u8 = 2;
    pub const PORT: u8 = 3;
    pub const FRAG_NEEDED: u8 = 4;
}

/// A view of an ICMP message (the buffer is exactly the message).
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
    /// Echo identifier (bytes 4–5).
    #[inline]
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }
    /// Echo sequence number (bytes 6–7).
    #[inline]
    pub fn seq(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }
    /// For errors: the embedded original datagram; for echo: the data.
    #[inline]
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    pub fn verify_checksum(&self) -> bool {
        checksum::fold(checksum::sum(self.buffer.as_ref())) == 0xffff
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
    pub fn set_ident(&mut self, v: u16) {
        put16(self.buffer.as_mut(), 4, v);
    }
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }

    /// Recomputes the checksum over the whole message.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::finish(checksum::sum(self.buffer.as_ref()));
        self.set_checksum(c);
    }

    /// Turns an echo request into an echo reply (code kept), updating the checksum
    /// incrementally (RFC 1624) as upstream does.
    pub fn echo_request_to_reply(&mut self) {
        let old = u16::from_be_bytes([self.msg_type(), self.code()]);
        self.set_msg_type(msg_type::ECHO_REPLY);
        let new = u16::from_be_bytes([self.msg_type(), self.code()]);
        let c = checksum::update_word(self.checksum(), old, new);
        self.set_checksum(c);
    }

    /// Rewrites the echo identifier, updating the checksum incrementally.
    pub fn set_ident_incremental(&mut self, ident: u16) {
        let c = checksum::update_word(self.checksum(), self.ident(), ident);
        self.set_ident(ident);
        self.set_checksum(c);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    // echo request id 0x1234 seq 1 data "ab": 0800+0000+1234+0001+6162 = 0x7b97 -> ~ = 0x8468
    const ECHO: [u8; 10] = [8, 0, 0x84, 0x68, 0x12, 0x34, 0x00, 0x01, b'a', b'b'];
    // the reply: 0000+1234+0001+6162 = 0x7397 -> ~ = 0x8c68
    const REPLY: [u8; 10] = [0, 0, 0x8c, 0x68, 0x12, 0x34, 0x00, 0x01, b'a', b'b'];

    #[test]
    fn parse_golden() {
        let p = Packet::new_checked(&ECHO[..]).unwrap();
        assert_eq!(p.msg_type(), msg_type::ECHO_REQUEST);
        assert_eq!(p.code(), 0);
        assert_eq!(p.ident(), 0x1234);
        assert_eq!(p.seq(), 1);
        assert_eq!(p.data(), b"ab");
        assert!(p.verify_checksum());
    }

    #[test]
    fn echo_reply_incremental_golden() {
        let mut b = ECHO;
        Packet::new_unchecked(&mut b[..]).echo_request_to_reply();
        assert_eq!(b, REPLY);
    }

    #[test]
    fn ident_rewrite_matches_full_checksum() {
        let mut b = ECHO;
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_ident_incremental(1025);
        let incremental = p.checksum();
        p.fill_checksum();
        assert_eq!(p.checksum(), incremental);
        assert!(p.verify_checksum());
    }

    #[test]
    fn truncated() {
        assert_eq!(
            Packet::new_checked(&ECHO[..7]).unwrap_err(),
            Malformed::Truncated
        );
    }
}
