//! IP prefixes and the address-text rules of the wire (grpc-api.md §4.1, §4.7, §10.1–10.2).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IP prefix: an address and a length within its family's bound.
///
/// The address is kept *as given* (alias and LB prefixes are listed as created, §10.2);
/// [`IpPrefix::network`] gives the masked form that routes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpPrefix {
    addr: IpAddr,
    len: u8,
}

/// Why a prefix was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// The length exceeds 32 (IPv4) or 128 (IPv6).
    #[error("prefix length {len} is too long for {family} (at most {max})")]
    LengthOutOfRange {
        /// The length given.
        len: u32,
        /// `IPv4` or `IPv6`.
        family: &'static str,
        /// The family's bound.
        max: u8,
    },
    /// The length does not fit 8 bits (what every request prefix must, §10.2).
    #[error("prefix length {0} is too long (at most 255)")]
    LengthOver255(u32),
    /// The text is not `ADDRESS/LENGTH`.
    #[error("'{0}' is not a prefix of the form ADDRESS/LENGTH")]
    Syntax(String),
}

impl IpPrefix {
    /// A prefix, if `len` fits the family of `addr`.
    pub fn new(addr: IpAddr, len: u32) -> Result<IpPrefix, PrefixError> {
        let (family, max) = match addr {
            IpAddr::V4(_) => ("IPv4", 32),
            IpAddr::V6(_) => ("IPv6", 128),
        };
        match u8::try_from(len) {
            Ok(l) if l <= max => Ok(IpPrefix { addr, len: l }),
            _ => Err(PrefixError::LengthOutOfRange { len, family, max }),
        }
    }

    /// The address as given.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn len(&self) -> u8 {
        self.len
    }

    /// Whether this is a zero-length ("any") prefix.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The same prefix with the host bits cleared.
    pub fn network(&self) -> IpPrefix {
        let addr = match self.addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        };
        IpPrefix {
            addr,
            len: self.len,
        }
    }

    /// Whether `ip` lies inside this prefix (same family, masked comparison).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                IpPrefix {
                    addr: ip,
                    len: self.len,
                }
                .network()
                .addr
                    == self.network().addr
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", format_ip(self.addr), self.len)
    }
}

impl FromStr for IpPrefix {
    type Err = PrefixError;

    fn from_str(s: &str) -> Result<IpPrefix, PrefixError> {
        let (addr, len) = split_prefix(s)?;
        IpPrefix::new(addr, len)
    }
}

/// `ADDRESS/LENGTH` with a decimal length.
fn split_prefix(s: &str) -> Result<(IpAddr, u32), PrefixError> {
    let syntax = || PrefixError::Syntax(s.to_owned());
    let (addr, len) = s.split_once('/').ok_or_else(syntax)?;
    let addr = IpAddr::from_str(addr).map_err(|_| syntax())?;
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax());
    }
    let len = len.parse::<u32>().map_err(|_| syntax())?;
    Ok((addr, len))
}

/// A prefix as a route or alias-prefix request names it: an address and any length
/// that fits 8 bits.
///
/// Upstream's gRPC layer only checks that these lengths fit 8 bits; one beyond the
/// family's bound (33..=255 for IPv4, 129..=255 for IPv6) reaches its routing table,
/// which refuses it with a status (`ROUTE_INSERT` on create, `ROUTE_NOT_FOUND` on
/// delete, grpc-api.md §10.2). So the daemon, not the conversion, decides; what it
/// stores is the [`IpPrefix`] that [`RequestPrefix::checked`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestPrefix {
    addr: IpAddr,
    len: u8,
}

impl RequestPrefix {
    /// A prefix with any 8-bit length.
    pub fn new(addr: IpAddr, len: u8) -> RequestPrefix {
        RequestPrefix { addr, len }
    }

    /// The address as given.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length, possibly beyond the family's bound.
    pub fn len(&self) -> u8 {
        self.len
    }

    /// Whether this is a zero-length ("any") prefix.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The prefix, if its length fits the family.
    pub fn checked(&self) -> Result<IpPrefix, PrefixError> {
        IpPrefix::new(self.addr, u32::from(self.len))
    }
}

impl From<IpPrefix> for RequestPrefix {
    fn from(p: IpPrefix) -> RequestPrefix {
        RequestPrefix {
            addr: p.addr,
            len: p.len,
        }
    }
}

impl TryFrom<RequestPrefix> for IpPrefix {
    type Error = PrefixError;

    fn try_from(p: RequestPrefix) -> Result<IpPrefix, PrefixError> {
        p.checked()
    }
}

impl fmt::Display for RequestPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", format_ip(self.addr), self.len)
    }
}

/// `ADDRESS/LENGTH` with a length up to 255, whatever the family.
impl FromStr for RequestPrefix {
    type Err = PrefixError;

    fn from_str(s: &str) -> Result<RequestPrefix, PrefixError> {
        let (addr, len) = split_prefix(s)?;
        let len = u8::try_from(len).map_err(|_| PrefixError::LengthOver255(len))?;
        Ok(RequestPrefix { addr, len })
    }
}

/// Parses address text from a `bytes` field the way upstream's `inet_pton` does: ASCII
/// text, no NUL, no whitespace, IPv4 without leading zeros. `None` when it is not valid.
pub fn parse_ip_text(bytes: &[u8], v6: bool) -> Option<IpAddr> {
    let text = std::str::from_utf8(bytes).ok()?;
    if v6 {
        Ipv6Addr::from_str(text).ok().map(IpAddr::V6)
    } else {
        Ipv4Addr::from_str(text).ok().map(IpAddr::V4)
    }
}

/// Address text as upstream's `inet_ntop` writes it (§4.7).
///
/// Identical to Rust's `Display` except for IPv4-compatible IPv6 addresses (first 96 bits
/// zero, last 32 bits neither 0 nor 1), which glibc prints as `::a.b.c.d`.
pub fn format_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(a) => {
            let s = a.segments();
            let v4 = (u32::from(s[6]) << 16) | u32::from(s[7]);
            if s[..6].iter().all(|&g| g == 0) && s[6] != 0 {
                format!("::{}", Ipv4Addr::from(v4))
            } else {
                a.to_string()
            }
        }
        IpAddr::V4(a) => a.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn prefix_bounds_per_family() {
        assert!(IpPrefix::new("10.0.0.0".parse().unwrap(), 32).is_ok());
        assert!(IpPrefix::new("10.0.0.0".parse().unwrap(), 33).is_err());
        assert!(IpPrefix::new("::".parse().unwrap(), 128).is_ok());
        assert!(IpPrefix::new("::".parse().unwrap(), 129).is_err());
        assert!(IpPrefix::new("::".parse().unwrap(), 1 << 20).is_err());
    }

    #[test]
    fn network_masks_host_bits() {
        let p: IpPrefix = "1.2.3.255/24".parse().unwrap();
        assert_eq!(p.to_string(), "1.2.3.255/24");
        assert_eq!(p.network().to_string(), "1.2.3.0/24");
        let p: IpPrefix = "fc00:1::ffff/64".parse().unwrap();
        assert_eq!(p.network().to_string(), "fc00:1::/64");
        let p: IpPrefix = "9.9.9.9/0".parse().unwrap();
        assert_eq!(p.network().to_string(), "0.0.0.0/0");
        assert!(p.contains("1.1.1.1".parse().unwrap()));
        assert!(!p.contains("::1".parse().unwrap()));
        let p: IpPrefix = "10.0.0.0/8".parse().unwrap();
        assert!(p.contains("10.200.0.1".parse().unwrap()));
        assert!(!p.contains("11.0.0.1".parse().unwrap()));
    }

    #[test]
    fn request_prefixes_take_any_8_bit_length() {
        let p: RequestPrefix = "10.0.0.0/33".parse().unwrap();
        assert_eq!((p.addr(), p.len()), ("10.0.0.0".parse().unwrap(), 33));
        assert_eq!(p.to_string(), "10.0.0.0/33");
        assert!(matches!(
            p.checked(),
            Err(PrefixError::LengthOutOfRange {
                len: 33,
                max: 32,
                ..
            })
        ));
        let p: RequestPrefix = "fc00::1/255".parse().unwrap();
        assert!(IpPrefix::try_from(p).is_err());
        assert_eq!(
            "::/256".parse::<RequestPrefix>(),
            Err(PrefixError::LengthOver255(256))
        );
        assert!("::/x".parse::<RequestPrefix>().is_err());
        // the checked form keeps the address as given
        let p: RequestPrefix = "fc00::1/128".parse().unwrap();
        let checked = p.checked().unwrap();
        assert_eq!(checked.to_string(), "fc00::1/128");
        assert_eq!(RequestPrefix::from(checked), p);
        assert_eq!(
            RequestPrefix::new("1.2.3.4".parse().unwrap(), 0).to_string(),
            "1.2.3.4/0"
        );
    }

    #[test]
    fn prefix_text_is_strict() {
        for bad in [
            "10.0.0.0",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/ 8",
            "x/8",
            "01.0.0.0/8",
        ] {
            assert!(bad.parse::<IpPrefix>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn address_text_follows_inet_pton() {
        assert_eq!(
            parse_ip_text(b"10.0.0.1", false),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(parse_ip_text(b"01.2.3.4", false), None);
        assert_eq!(parse_ip_text(b"1234::1", false), None);
        assert_eq!(parse_ip_text(b"10.0.0.1\0", false), None);
        assert_eq!(parse_ip_text(b" 10.0.0.1", false), None);
        assert_eq!(parse_ip_text(&[10, 0, 0, 1], false), None);
        assert_eq!(
            parse_ip_text(b"FC00::1", true),
            Some("fc00::1".parse().unwrap())
        );
        assert_eq!(parse_ip_text(b"fe80::1%eth0", true), None);
        assert_eq!(
            parse_ip_text(b"::ffff:1.2.3.4", true),
            Some("::ffff:1.2.3.4".parse().unwrap())
        );
    }

    #[test]
    fn address_output_follows_inet_ntop() {
        let f = |s: &str| format_ip(s.parse().unwrap());
        assert_eq!(f("fc00:1::d000:2a:0:57"), "fc00:1::d000:2a:0:57");
        assert_eq!(f("::"), "::");
        assert_eq!(f("::1"), "::1");
        assert_eq!(f("::102:304"), "::1.2.3.4");
        assert_eq!(f("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(f("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
        assert_eq!(f("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4");
    }
}
