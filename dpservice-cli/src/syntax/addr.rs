//! IP addresses and prefixes parsed the way Go's `net/netip` parses them, with its
//! exact error texts (upstream's tests compare them), and printed the way it prints.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::number::atoi;
use super::quote::go_quote;

/// An IP address as the CLI holds it: an address plus the IPv6 zone Go's parser keeps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Addr {
    /// The address proper.
    pub ip: IpAddr,
    /// The `%zone` suffix of an IPv6 address, if one was written.
    pub zone: Option<String>,
}

impl Addr {
    /// An address without zone.
    pub fn new(ip: IpAddr) -> Addr {
        Addr { ip, zone: None }
    }

    /// `::`, the default of every `--underlay` flag.
    pub fn unspecified_v6() -> Addr {
        Addr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED))
    }

    /// Whether this is an IPv4 address (IPv4-mapped IPv6 counts as IPv6, as in Go).
    pub fn is_v4(&self) -> bool {
        self.ip.is_ipv4()
    }
}

impl From<IpAddr> for Addr {
    fn from(ip: IpAddr) -> Addr {
        Addr::new(ip)
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rust's IPv6 text is RFC 5952 with `::ffff:a.b.c.d` for mapped addresses, the
        // same as Go's `netip.Addr.String`.
        write!(f, "{}", self.ip)?;
        if let Some(zone) = &self.zone {
            write!(f, "%{zone}")?;
        }
        Ok(())
    }
}

/// A prefix whose host bits are kept as written (`1.2.3.4/16` stays so).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Prefix {
    /// The address part (never zoned).
    pub addr: Addr,
    /// The prefix length.
    pub len: u8,
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// A `netip.ParseAddr` failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrError {
    input: String,
    msg: &'static str,
    at: Option<String>,
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ParseAddr({}): {}", go_quote(&self.input), self.msg)?;
        if let Some(at) = &self.at {
            write!(f, " (at {})", go_quote(at))?;
        }
        Ok(())
    }
}

impl std::error::Error for AddrError {}

/// A `netip.ParsePrefix` failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixError {
    input: String,
    msg: String,
}

impl fmt::Display for PrefixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "netip.ParsePrefix({}): {}",
            go_quote(&self.input),
            self.msg
        )
    }
}

impl std::error::Error for PrefixError {}

fn err(input: &str, msg: &'static str, at: Option<&str>) -> AddrError {
    AddrError {
        input: input.to_owned(),
        msg,
        at: at.map(str::to_owned),
    }
}

/// `netip.ParseAddr`: dotted IPv4 without leading zeros, or IPv6 with optional zone.
pub fn parse_addr(s: &str) -> Result<Addr, AddrError> {
    for b in s.bytes() {
        match b {
            b'.' => return parse_v4(s).map(|ip| Addr::new(IpAddr::V4(ip))),
            b':' => return parse_v6(s),
            b'%' => return Err(err(s, "missing IPv6 address", None)),
            _ => {}
        }
    }
    Err(err(s, "unable to parse IP", None))
}

fn parse_v4(s: &str) -> Result<Ipv4Addr, AddrError> {
    let mut octets = [0u8; 4];
    parse_v4_fields(s, s, &mut octets)?;
    Ok(Ipv4Addr::from(octets))
}

/// Parses the dotted quad in `part` (a tail of `input`, which errors quote).
fn parse_v4_fields(input: &str, part: &str, out: &mut [u8; 4]) -> Result<(), AddrError> {
    let b = part.as_bytes();
    let (mut val, mut pos, mut digits) = (0u32, 0usize, 0usize);
    for (i, &c) in b.iter().enumerate() {
        if c.is_ascii_digit() {
            if digits == 1 && val == 0 {
                return Err(err(input, "IPv4 field has octet with leading zero", None));
            }
            val = val * 10 + u32::from(c - b'0');
            digits += 1;
            if val > 255 {
                return Err(err(input, "IPv4 field has value >255", None));
            }
        } else if c == b'.' {
            if i == 0 || i == b.len() - 1 || b[i - 1] == b'.' {
                let msg = "IPv4 field must have at least one digit";
                return Err(err(input, msg, Some(&part[i..])));
            }
            if pos == 3 {
                return Err(err(input, "IPv4 address too long", None));
            }
            out[pos] = val as u8;
            pos += 1;
            val = 0;
            digits = 0;
        } else {
            return Err(err(input, "unexpected character", Some(&part[i..])));
        }
    }
    if pos < 3 {
        return Err(err(input, "IPv4 address too short", None));
    }
    out[3] = val as u8;
    Ok(())
}

fn parse_v6(input: &str) -> Result<Addr, AddrError> {
    let (mut s, zone) = match input.find('%') {
        Some(i) => {
            let zone = &input[i + 1..];
            if zone.is_empty() {
                return Err(err(input, "zone must be a non-empty string", None));
            }
            (&input[..i], Some(zone.to_owned()))
        }
        None => (input, None),
    };
    let zoned = |ip: [u8; 16]| Addr {
        ip: IpAddr::V6(Ipv6Addr::from(ip)),
        zone: zone.clone(),
    };
    let mut ip = [0u8; 16];
    let mut ellipsis: Option<usize> = None;
    if s.starts_with("::") {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return Ok(zoned(ip));
        }
    }
    let mut i = 0usize;
    while i < 16 {
        let b = s.as_bytes();
        let mut off = 0;
        let mut acc: u32 = 0;
        while off < b.len() {
            let Some(d) = (b[off] as char).to_digit(16) else {
                break;
            };
            acc = (acc << 4) + d;
            if acc > 0xffff {
                return Err(err(input, "IPv6 field has value >=2^16", Some(s)));
            }
            off += 1;
        }
        if off == 0 {
            let msg = "each colon-separated field must have at least one digit";
            return Err(err(input, msg, Some(s)));
        }
        if b.get(off) == Some(&b'.') {
            if ellipsis.is_none() && i != 12 {
                let msg = "embedded IPv4 address must replace the final 2 fields of the address";
                return Err(err(input, msg, Some(s)));
            }
            if i + 4 > 16 {
                let msg = "too many hex fields to fit an embedded IPv4 at the end of the address";
                return Err(err(input, msg, Some(s)));
            }
            let mut quad = [0u8; 4];
            parse_v4_fields(input, s, &mut quad)?;
            ip[i..i + 4].copy_from_slice(&quad);
            s = "";
            i += 4;
            break;
        }
        ip[i] = (acc >> 8) as u8;
        ip[i + 1] = acc as u8;
        i += 2;
        s = &s[off..];
        if s.is_empty() {
            break;
        }
        if !s.starts_with(':') {
            return Err(err(input, "unexpected character, want colon", Some(s)));
        } else if s.len() == 1 {
            return Err(err(
                input,
                "colon must be followed by more characters",
                Some(s),
            ));
        }
        s = &s[1..];
        if s.starts_with(':') {
            if ellipsis.is_some() {
                return Err(err(input, "multiple :: in address", Some(s)));
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return Err(err(input, "trailing garbage after address", Some(s)));
    }
    if i < 16 {
        let Some(at) = ellipsis else {
            return Err(err(input, "address string too short", None));
        };
        let n = 16 - i;
        ip.copy_within(at..i, at + n);
        ip[at..at + n].fill(0);
    } else if ellipsis.is_some() {
        return Err(err(
            input,
            "the :: must expand to at least one field of zeros",
            Some(s),
        ));
    }
    Ok(zoned(ip))
}

/// `netip.ParsePrefix`, keeping host bits.
pub fn parse_prefix(s: &str) -> Result<Prefix, PrefixError> {
    let fail = |msg: String| PrefixError {
        input: s.to_owned(),
        msg,
    };
    let Some(slash) = s.rfind('/') else {
        return Err(fail("no '/'".to_owned()));
    };
    let addr = parse_addr(&s[..slash]).map_err(|e| fail(e.to_string()))?;
    if addr.zone.is_some() {
        return Err(fail("IPv6 zones cannot be present in a prefix".to_owned()));
    }
    let bits = &s[slash + 1..];
    let bad_bits = || fail(format!("bad bits after slash: {}", go_quote(bits)));
    if bits.len() > 1 && !matches!(bits.as_bytes()[0], b'1'..=b'9') {
        return Err(bad_bits());
    }
    let len = atoi(bits).map_err(|_| bad_bits())?;
    let max = if addr.is_v4() { 32 } else { 128 };
    if !(0..=max).contains(&len) {
        return Err(fail("prefix length out of range".to_owned()));
    }
    Ok(Prefix {
        addr,
        len: len as u8,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn addr_err(s: &str) -> String {
        parse_addr(s).unwrap_err().to_string()
    }

    #[test]
    fn parses_and_prints_canonically() {
        assert_eq!(parse_addr("10.0.0.1").unwrap().to_string(), "10.0.0.1");
        assert_eq!(parse_addr("FC00:0:0::0001").unwrap().to_string(), "fc00::1");
        assert_eq!(parse_addr("::").unwrap().to_string(), "::");
        assert_eq!(
            parse_addr("::ffff:1.2.3.4").unwrap().to_string(),
            "::ffff:1.2.3.4"
        );
        assert_eq!(parse_addr("::1.2.3.4").unwrap().to_string(), "::102:304");
        assert_eq!(
            parse_addr("fe80::1%eth0").unwrap().to_string(),
            "fe80::1%eth0"
        );
        assert_eq!(
            parse_addr("1:2:3:4:5:6:7:8").unwrap().to_string(),
            "1:2:3:4:5:6:7:8"
        );
        assert_eq!(
            parse_addr("1:0:0:4:0:0:0:8").unwrap().to_string(),
            "1:0:0:4::8"
        );
    }

    #[test]
    fn ipv4_errors() {
        assert_eq!(addr_err("xxx"), r#"ParseAddr("xxx"): unable to parse IP"#);
        assert_eq!(addr_err(""), r#"ParseAddr(""): unable to parse IP"#);
        assert_eq!(
            addr_err("1.2.3"),
            r#"ParseAddr("1.2.3"): IPv4 address too short"#
        );
        assert_eq!(
            addr_err("1.2.3.4.5"),
            r#"ParseAddr("1.2.3.4.5"): IPv4 address too long"#
        );
        assert_eq!(
            addr_err("1.2.3.256"),
            r#"ParseAddr("1.2.3.256"): IPv4 field has value >255"#
        );
        assert_eq!(
            addr_err("1.2.3.04"),
            r#"ParseAddr("1.2.3.04"): IPv4 field has octet with leading zero"#
        );
        assert_eq!(
            addr_err("1..2.3"),
            r#"ParseAddr("1..2.3"): IPv4 field must have at least one digit (at ".2.3")"#
        );
        assert_eq!(
            addr_err("1.2.3.x"),
            r#"ParseAddr("1.2.3.x"): unexpected character (at "x")"#
        );
        assert_eq!(addr_err("%x"), r#"ParseAddr("%x"): missing IPv6 address"#);
    }

    #[test]
    fn ipv6_errors() {
        assert_eq!(
            addr_err("1::2::3"),
            r#"ParseAddr("1::2::3"): multiple :: in address (at ":3")"#
        );
        assert_eq!(
            addr_err("1:2"),
            r#"ParseAddr("1:2"): address string too short"#
        );
        assert_eq!(
            addr_err("12345::"),
            r#"ParseAddr("12345::"): IPv6 field has value >=2^16 (at "12345::")"#
        );
        assert_eq!(
            addr_err("fe80::1%"),
            r#"ParseAddr("fe80::1%"): zone must be a non-empty string"#
        );
        assert_eq!(
            addr_err("1:2:3:4:5:6:7:8::"),
            r#"ParseAddr("1:2:3:4:5:6:7:8::"): the :: must expand to at least one field of zeros (at "")"#
        );
        assert_eq!(
            addr_err("::g"),
            r#"ParseAddr("::g"): each colon-separated field must have at least one digit (at "g")"#
        );
        assert_eq!(
            addr_err("1:2:"),
            r#"ParseAddr("1:2:"): colon must be followed by more characters (at ":")"#
        );
    }

    #[test]
    fn prefixes_keep_host_bits() {
        assert_eq!(
            parse_prefix("1.2.3.4/16").unwrap().to_string(),
            "1.2.3.4/16"
        );
        assert_eq!(
            parse_prefix("fc00::1/64").unwrap().to_string(),
            "fc00::1/64"
        );
        let e = |s: &str| parse_prefix(s).unwrap_err().to_string();
        assert_eq!(e("1.2.3.4"), r#"netip.ParsePrefix("1.2.3.4"): no '/'"#);
        assert_eq!(
            e("1.2.3.4/33"),
            r#"netip.ParsePrefix("1.2.3.4/33"): prefix length out of range"#
        );
        assert_eq!(
            e("1.2.3.4/08"),
            r#"netip.ParsePrefix("1.2.3.4/08"): bad bits after slash: "08""#
        );
        assert_eq!(
            e("1.2.3.4/x"),
            r#"netip.ParsePrefix("1.2.3.4/x"): bad bits after slash: "x""#
        );
        assert_eq!(
            e("x/8"),
            r#"netip.ParsePrefix("x/8"): ParseAddr("x"): unable to parse IP"#
        );
        assert_eq!(
            e("fe80::1%e/64"),
            r#"netip.ParsePrefix("fe80::1%e/64"): IPv6 zones cannot be present in a prefix"#
        );
    }
}
