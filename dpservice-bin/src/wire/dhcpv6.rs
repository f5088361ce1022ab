//! DHCPv6 messages (RFC 8415) between client and server (no relay messages).

use std::net::Ipv6Addr;

use super::{be16, put16, put32, Malformed};

/// Message type and 3-byte transaction id; options follow.
pub const FIXED_LEN: usize = 4;
/// Option code and length.
pub const OPTION_HEADER_LEN: usize = 4;
pub const CLIENT_PORT: u16 = 546;
pub const SERVER_PORT: u16 = 547;
/// "Infinity" for lifetimes and T1/T2.
pub const INFINITY: u32 = 0xffff_ffff;

pub mod message_type {
    pub const SOLICIT: u8 = 1;
    pub const ADVERTISE: u8 = 2;
    pub const REQUEST: u8 = 3;
    pub const CONFIRM: u8 = 4;
    pub const RENEW: u8 = 5;
    pub const REBIND: u8 = 6;
    pub const REPLY: u8 = 7;
    pub const RELEASE: u8 = 8;
    pub const DECLINE: u8 = 9;
    pub const INFORMATION_REQUEST: u8 = 11;
}

pub mod option {
    pub const CLIENT_ID: u16 = 1;
    pub const SERVER_ID: u16 = 2;
    pub const IA_NA: u16 = 3;
    pub const IA_ADDR: u16 = 5;
    pub const STATUS_CODE: u16 = 13;
    pub const RAPID_COMMIT: u16 = 14;
    pub const USER_CLASS: u16 = 15;
    pub const VENDOR_CLASS: u16 = 16;
    pub const DNS_SERVERS: u16 = 23;
    pub const BOOT_FILE_URL: u16 = 59;
}

pub mod status {
    pub const SUCCESS: u16 = 0;
    pub const NO_ADDRS_AVAIL: u16 = 2;
}

/// DUID type "link-layer address".
pub const DUID_LL: u16 = 3;

/// A view of a DHCPv6 message (the UDP payload).
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self, Malformed> {
        if buffer.as_ref().len() < FIXED_LEN {
            return Err(Malformed::Truncated);
        }
        Ok(Packet { buffer })
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    pub fn transaction_id(&self) -> [u8; 3] {
        let b = self.buffer.as_ref();
        [b[1], b[2], b[3]]
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
    pub fn set_msg_type(&mut self, v: u8) {
        self.buffer.as_mut()[0] = v;
    }
}

/// The options in `data` (the bytes after the fixed header).
pub fn options(data: &[u8]) -> Options<'_> {
    Options {
        data,
        pos: 0,
        done: false,
    }
}

/// Iterator over `(code, value)` of top-level options. An option whose value runs past the
/// end yields `Err` once and ends the iteration.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<(u16, &'a [u8]), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos + OPTION_HEADER_LEN > self.data.len() {
            self.done = true;
            return None;
        }
        let code = be16(self.data, self.pos);
        let len = usize::from(be16(self.data, self.pos + 2));
        let start = self.pos + OPTION_HEADER_LEN;
        if start + len > self.data.len() {
            self.done = true;
            return Some(Err(Malformed::Options));
        }
        self.pos = start + len;
        Some(Ok((code, &self.data[start..start + len])))
    }
}

/// Appends options into a buffer of limited size.
#[derive(Debug)]
pub struct OptionWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> OptionWriter<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        OptionWriter { buf, pos: 0 }
    }

    /// Appends an option whose value is the concatenation of `parts`.
    pub fn push(&mut self, code: u16, parts: &[&[u8]]) -> Result<(), Malformed> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let Ok(len16) = u16::try_from(len) else {
            return Err(Malformed::Options);
        };
        if self.pos + OPTION_HEADER_LEN + len > self.buf.len() {
            return Err(Malformed::Options);
        }
        put16(self.buf, self.pos, code);
        put16(self.buf, self.pos + 2, len16);
        let mut at = self.pos + OPTION_HEADER_LEN;
        for p in parts {
            self.buf[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
        self.pos = at;
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }
}

/// The value of an IA_NA option (46 bytes) holding one address with infinite lifetimes and
/// a Success status: IAID, T1, T2, then IA Address (5) with a Status Code (13) inside.
pub fn ia_na_single_address(iaid: [u8; 4], addr: &Ipv6Addr) -> [u8; 46] {
    let mut v = [0u8; 46];
    v[0..4].copy_from_slice(&iaid);
    put32(&mut v, 4, INFINITY);
    put32(&mut v, 8, INFINITY);
    put16(&mut v, 12, option::IA_ADDR);
    put16(&mut v, 14, 30);
    v[16..32].copy_from_slice(&addr.octets());
    put32(&mut v, 32, INFINITY);
    put32(&mut v, 36, INFINITY);
    put16(&mut v, 40, option::STATUS_CODE);
    put16(&mut v, 42, 2);
    put16(&mut v, 44, status::SUCCESS);
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn parse_golden() {
        // SOLICIT xid 0x0a0b0c, client id (4 bytes), rapid commit, IA_NA iaid 1 t1 t2 0
        let msg: &[u8] = &[
            1, 0x0a, 0x0b, 0x0c, 0, 1, 0, 4, 0, 3, 0, 1, 0, 14, 0, 0, 0, 3, 0, 12, 0, 0, 0, 1, 0,
            0, 0, 0, 0, 0, 0, 0,
        ];
        let p = Packet::new_checked(msg).unwrap();
        assert_eq!(p.msg_type(), message_type::SOLICIT);
        assert_eq!(p.transaction_id(), [0x0a, 0x0b, 0x0c]);
        let opts: Vec<_> = p.options().map(|o| o.unwrap()).collect();
        assert_eq!(opts.len(), 3);
        assert_eq!(opts[0], (option::CLIENT_ID, &[0u8, 3, 0, 1][..]));
        assert_eq!(opts[1], (option::RAPID_COMMIT, &[][..]));
        assert_eq!(opts[2].0, option::IA_NA);
        assert_eq!(opts[2].1.len(), 12);
    }

    #[test]
    fn zero_length_last_option_is_seen() {
        let msg: &[u8] = &[1, 0, 0, 0, 0, 14, 0, 0];
        let p = Packet::new_checked(msg).unwrap();
        let opts: Vec<_> = p.options().collect();
        assert_eq!(opts, vec![Ok((option::RAPID_COMMIT, &[][..]))]);
    }

    #[test]
    fn overrun_is_malformed() {
        let msg: &[u8] = &[1, 0, 0, 0, 0, 1, 0, 5, 1, 2];
        let p = Packet::new_checked(msg).unwrap();
        let opts: Vec<_> = p.options().collect();
        assert_eq!(opts, vec![Err(Malformed::Options)]);
        assert_eq!(
            Packet::new_checked(&msg[..3]).unwrap_err(),
            Malformed::Truncated
        );
    }

    #[test]
    fn ia_na_golden() {
        let addr: Ipv6Addr = "2001:db8::5".parse().unwrap();
        let v = ia_na_single_address([0, 0, 0, 7], &addr);
        let expect: [u8; 46] = [
            0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 5, 0, 30, 0x20, 0x01,
            0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0, 13, 0, 2, 0, 0,
        ];
        assert_eq!(v, expect);
    }

    #[test]
    fn writer_golden_and_limit() {
        let mut buf = [0u8; 10];
        let mut w = OptionWriter::new(&mut buf);
        w.push(option::STATUS_CODE, &[&[0, 2]]).unwrap();
        assert_eq!(
            w.push(option::DNS_SERVERS, &[&[1, 2, 3]]),
            Err(Malformed::Options)
        );
        w.push(option::RAPID_COMMIT, &[]).unwrap();
        assert_eq!(w.len(), 10);
        assert_eq!(buf, [0, 13, 0, 2, 0, 2, 0, 14, 0, 0]);
    }
}
