//! DHCPv4 / BOOTP messages (RFC 2131, RFC 2132 options, RFC 3442 classless routes).

use std::net::Ipv4Addr;

use super::{be16, be32, ipv4_at, put32, Malformed};

/// BOOTP fixed header up to and including the magic cookie; options follow.
pub const FIXED_LEN: usize = 240;
pub const MAGIC_COOKIE: u32 = 0x6382_5363;
pub const SERVER_PORT: u16 = 67;
pub const CLIENT_PORT: u16 = 68;
pub const OP_REQUEST: u8 = 1;
pub const OP_REPLY: u8 = 2;

/// Offsets into the fixed header.
pub mod field {
    pub const OP: usize = 0;
    pub const XID: usize = 4;
    pub const CIADDR: usize = 12;
    pub const YIADDR: usize = 16;
    pub const SIADDR: usize = 20;
    pub const GIADDR: usize = 24;
    pub const CHADDR: usize = 28;
    pub const SNAME: usize = 44;
    pub const FILE: usize = 108;
    pub const FILE_LEN: usize = 128;
    pub const MAGIC: usize = 236;
}

pub mod option {
    pub const PAD: u8 = 0;
    pub const SUBNET_MASK: u8 = 1;
    pub const ROUTER: u8 = 3;
    pub const DNS: u8 = 6;
    pub const HOSTNAME: u8 = 12;
    pub const INTERFACE_MTU: u8 = 26;
    pub const LEASE_TIME: u8 = 51;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const VENDOR_CLASS_ID: u8 = 60;
    pub const USER_CLASS: u8 = 77;
    pub const CLASSLESS_ROUTE: u8 = 121;
    pub const END: u8 = 255;
}

pub mod message_type {
    pub const DISCOVER: u8 = 1;
    pub const OFFER: u8 = 2;
    pub const REQUEST: u8 = 3;
    pub const DECLINE: u8 = 4;
    pub const ACK: u8 = 5;
    pub const RELEASE: u8 = 7;
    pub const INFORM: u8 = 8;
}

/// A view of a DHCP message (the UDP payload).
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Checks that the fixed header and magic cookie fit (the cookie's value is not checked).
    pub fn new_checked(buffer: T) -> Result<Self, Malformed> {
        if buffer.as_ref().len() < FIXED_LEN {
            return Err(Malformed::Truncated);
        }
        Ok(Packet { buffer })
    }

    pub fn op(&self) -> u8 {
        self.buffer.as_ref()[field::OP]
    }
    pub fn htype(&self) -> u8 {
        self.buffer.as_ref()[1]
    }
    pub fn hlen(&self) -> u8 {
        self.buffer.as_ref()[2]
    }
    pub fn xid(&self) -> u32 {
        be32(self.buffer.as_ref(), field::XID)
    }
    pub fn flags(&self) -> u16 {
        be16(self.buffer.as_ref(), 10)
    }
    pub fn ciaddr(&self) -> Ipv4Addr {
        ipv4_at(self.buffer.as_ref(), field::CIADDR)
    }
    pub fn yiaddr(&self) -> Ipv4Addr {
        ipv4_at(self.buffer.as_ref(), field::YIADDR)
    }
    pub fn siaddr(&self) -> Ipv4Addr {
        ipv4_at(self.buffer.as_ref(), field::SIADDR)
    }
    pub fn giaddr(&self) -> Ipv4Addr {
        ipv4_at(self.buffer.as_ref(), field::GIADDR)
    }
    pub fn chaddr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::CHADDR..field::CHADDR + 16]
    }
    pub fn file(&self) -> &[u8] {
        &self.buffer.as_ref()[field::FILE..field::FILE + field::FILE_LEN]
    }
    pub fn magic(&self) -> u32 {
        be32(self.buffer.as_ref(), field::MAGIC)
    }
    pub fn options(&self) -> Options<'_> {
        Options {
            data: &self.buffer.as_ref()[FIXED_LEN..],
            pos: 0,
            done: false,
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_op(&mut self, v: u8) {
        self.buffer.as_mut()[field::OP] = v;
    }
    pub fn set_yiaddr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::YIADDR..field::YIADDR + 4].copy_from_slice(&a.octets());
    }
    pub fn set_siaddr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SIADDR..field::SIADDR + 4].copy_from_slice(&a.octets());
    }
    pub fn set_giaddr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::GIADDR..field::GIADDR + 4].copy_from_slice(&a.octets());
    }
    /// Overwrites the first six bytes of `chaddr`.
    pub fn set_chaddr_mac(&mut self, mac: super::MacAddr) {
        self.buffer.as_mut()[field::CHADDR..field::CHADDR + 6].copy_from_slice(&mac.0);
    }
    pub fn set_magic(&mut self, v: u32) {
        put32(self.buffer.as_mut(), field::MAGIC, v);
    }
    /// Replaces `file` with `text` followed by NUL padding (truncated to leave a NUL).
    pub fn set_file(&mut self, text: &[u8]) {
        let f = &mut self.buffer.as_mut()[field::FILE..field::FILE + field::FILE_LEN];
        let n = text.len().min(field::FILE_LEN - 1);
        f[..n].copy_from_slice(&text[..n]);
        f[n..].fill(0);
    }
    /// The bytes from the options on, for writing a reply's options.
    pub fn options_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[FIXED_LEN..]
    }
}

/// Iterator over `(code, value)` of the options, stopping at END; PAD is skipped.
/// A missing length byte or a value running past the end yields `Err` once.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<(u8, &'a [u8]), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done && self.pos < self.data.len() {
            let code = self.data[self.pos];
            self.pos += 1;
            match code {
                option::PAD => continue,
                option::END => break,
                _ => {}
            }
            let Some(&len) = self.data.get(self.pos) else {
                self.done = true;
                return Some(Err(Malformed::Options));
            };
            let start = self.pos + 1;
            let end = start + usize::from(len);
            if end > self.data.len() {
                self.done = true;
                return Some(Err(Malformed::Options));
            }
            self.pos = end;
            return Some(Ok((code, &self.data[start..end])));
        }
        self.done = true;
        None
    }
}

/// Writes options into a buffer of limited size; every option must leave room for END.
#[derive(Debug)]
pub struct OptionWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> OptionWriter<'a> {
    /// `buf` is the space for options (its length is the limit).
    pub fn new(buf: &'a mut [u8]) -> Self {
        OptionWriter { buf, pos: 0 }
    }

    /// Appends one option; fails (writing nothing) if it would not leave room for END.
    pub fn push(&mut self, code: u8, value: &[u8]) -> Result<(), Malformed> {
        let Ok(len) = u8::try_from(value.len()) else {
            return Err(Malformed::Options);
        };
        if self.pos + 2 + value.len() >= self.buf.len() {
            return Err(Malformed::Options);
        }
        self.buf[self.pos] = code;
        self.buf[self.pos + 1] = len;
        self.buf[self.pos + 2..self.pos + 2 + value.len()].copy_from_slice(value);
        self.pos += 2 + value.len();
        Ok(())
    }

    /// Appends END and returns the total length of the options written.
    pub fn finish(self) -> Result<usize, Malformed> {
        if self.pos >= self.buf.len() {
            return Err(Malformed::Options);
        }
        self.buf[self.pos] = option::END;
        Ok(self.pos + 1)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn request(options: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; FIXED_LEN];
        b[0] = OP_REQUEST;
        b[1] = 1;
        b[2] = 6;
        b[4..8].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        b[28..34].copy_from_slice(&[0x66, 0x66, 0x66, 0x66, 0x66, 0x00]);
        b[236..240].copy_from_slice(&[0x63, 0x82, 0x53, 0x63]);
        b.extend_from_slice(options);
        b
    }

    #[test]
    fn parse_golden() {
        let b = request(&[53, 1, 1, 0, 0, 61, 2, 0xaa, 0xbb, 255, 9, 9]);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.op(), OP_REQUEST);
        assert_eq!(p.xid(), 0xdead_beef);
        assert_eq!(p.magic(), MAGIC_COOKIE);
        assert_eq!(&p.chaddr()[..6], &[0x66, 0x66, 0x66, 0x66, 0x66, 0x00]);
        let opts: Vec<_> = p.options().collect();
        assert_eq!(
            opts,
            vec![Ok((53, &[1u8][..])), Ok((61, &[0xaa, 0xbb][..]))]
        );
    }

    #[test]
    fn malformed_options() {
        let b = request(&[53, 1, 1, 12, 5, b'a']);
        let p = Packet::new_checked(&b[..]).unwrap();
        let opts: Vec<_> = p.options().collect();
        assert_eq!(opts, vec![Ok((53, &[1u8][..])), Err(Malformed::Options)]);
        let b = request(&[53]);
        let p = Packet::new_checked(&b[..]).unwrap();
        let opts: Vec<_> = p.options().collect();
        assert_eq!(opts, vec![Err(Malformed::Options)]);
        assert_eq!(
            Packet::new_checked(&b[..239]).unwrap_err(),
            Malformed::Truncated
        );
    }

    #[test]
    fn writer_golden_and_limit() {
        let mut buf = [0u8; 10];
        let mut w = OptionWriter::new(&mut buf);
        w.push(53, &[2]).unwrap();
        w.push(26, &[0x05, 0x39]).unwrap();
        // 7 bytes used, a 1-byte option needs 3 and would leave no room for END
        assert_eq!(w.push(1, &[0]), Err(Malformed::Options));
        assert_eq!(w.finish().unwrap(), 8);
        assert_eq!(&buf[..8], &[53, 1, 2, 26, 2, 0x05, 0x39, 255]);
    }

    #[test]
    fn set_file_pads_with_nul() {
        let mut b = request(&[]);
        b[field::FILE..field::FILE + 3].copy_from_slice(b"old");
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_file(b"ab");
        assert_eq!(&p.file()[..4], b"ab\0\0");
    }
}
