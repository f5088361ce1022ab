//! `--filter`: the pcap-filter language (tools.md §1.7), the part operators use, compiled
//! here and evaluated on the captured bytes of each entry, as libpcap would on an
//! Ethernet capture: primitives look at the outermost headers (overlay traffic on the
//! uplink is IP-in-IPv6, so `icmp` does not match it there; `ip6 proto 4` and byte
//! expressions like `ip6[52:4] = 0x0a640101` reach inside).
//!
//! Supported: `host`, `net` (CIDR or address), `port`, `portrange`, each with `src`/`dst`
//! and an optional protocol qualifier (`ip`, `ip6`, `tcp`, `udp`); the protocols `ip`,
//! `ip6`, `tcp`, `udp`, `icmp`, `icmp6`, `arp`; `ip proto N`, `ip6 proto N` (or a name);
//! `ether host MAC`; byte comparisons `PROTO[OFF(:1|2|4)] (& MASK)? OP VALUE`;
//! `and`/`&&`, `or`/`||`, `not`/`!`, parentheses.

use std::net::IpAddr;

/// Why a filter does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter: {0}")]
pub struct FilterError(String);

fn err<T>(what: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError(what.into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// Which side of a packet.
pub enum Dir {
    Any,
    Src,
    Dst,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// A protocol name.
pub enum Proto {
    Ip,
    Ip6,
    Tcp,
    Udp,
    Icmp,
    Icmp6,
    Arp,
    Ether,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// A comparison.
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A compiled filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Both.
    And(Box<Filter>, Box<Filter>),
    /// Either.
    Or(Box<Filter>, Box<Filter>),
    /// Not.
    Not(Box<Filter>),
    /// An L3 address, or a prefix, on the given side.
    #[doc(hidden)]
    Net(Option<Proto>, Dir, IpAddr, u8),
    /// A TCP/UDP port range.
    #[doc(hidden)]
    Port(Option<Proto>, Dir, u16, u16),
    /// A protocol.
    #[doc(hidden)]
    Is(Proto),
    /// IPv4 protocol or IPv6 next header.
    #[doc(hidden)]
    IpProto(Option<Proto>, u8),
    /// An Ethernet address.
    #[doc(hidden)]
    Ether(Dir, [u8; 6]),
    /// `proto[off:size] & mask OP value`.
    #[doc(hidden)]
    Bytes(Proto, usize, usize, u32, Cmp, u32),
}

/// Compiles a filter expression.
pub fn compile(text: &str) -> Result<Filter, FilterError> {
    let tokens = tokenize(text)?;
    let mut p = Parser { t: &tokens, i: 0 };
    let f = p.or()?;
    match p.peek() {
        None => Ok(f),
        Some(t) => err(format!("unexpected '{t}'")),
    }
}

fn tokenize(text: &str) -> Result<Vec<String>, FilterError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if "()[]:".contains(c) {
            out.push(c.to_string());
            chars.next();
        } else if "!=<>&|".contains(c) {
            let mut op = String::from(c);
            chars.next();
            if let Some(&n) = chars.peek() {
                if (c == '&' && n == '&')
                    || (c == '|' && n == '|')
                    || (n == '=' && c != '&' && c != '|')
                {
                    op.push(n);
                    chars.next();
                }
            }
            out.push(op);
        } else {
            let mut w = String::new();
            while let Some(&n) = chars.peek() {
                if n.is_whitespace() || "()[]!=<>&|".contains(n) {
                    break;
                }
                // ':' separates the byte size but is part of IPv6 addresses and MACs
                if n == ':' && out.last().is_some_and(|t| t == "[") {
                    break;
                }
                w.push(n);
                chars.next();
            }
            if w.is_empty() {
                return err(format!("unexpected '{c}'"));
            }
            out.push(w);
        }
    }
    Ok(out)
}

struct Parser<'a> {
    t: &'a [String],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.t.get(self.i).map(String::as_str)
    }

    fn next(&mut self) -> Option<&str> {
        let t = self.t.get(self.i).map(String::as_str);
        self.i += 1;
        t
    }

    fn expect(&mut self, what: &str) -> Result<(), FilterError> {
        match self.next() {
            Some(t) if t == what => Ok(()),
            Some(t) => err(format!("expected '{what}', found '{t}'")),
            None => err(format!("expected '{what}' at the end")),
        }
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        let mut f = self.and()?;
        while matches!(self.peek(), Some("or" | "||")) {
            self.i += 1;
            f = Filter::Or(Box::new(f), Box::new(self.and()?));
        }
        Ok(f)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut f = self.unary()?;
        while matches!(self.peek(), Some("and" | "&&")) {
            self.i += 1;
            f = Filter::And(Box::new(f), Box::new(self.unary()?));
        }
        Ok(f)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        match self.peek() {
            Some("not" | "!") => {
                self.i += 1;
                Ok(Filter::Not(Box::new(self.unary()?)))
            }
            Some("(") => {
                self.i += 1;
                let f = self.or()?;
                self.expect(")")?;
                Ok(f)
            }
            Some(_) => self.primitive(),
            None => err("expression ends early"),
        }
    }

    fn primitive(&mut self) -> Result<Filter, FilterError> {
        let proto = match self.peek() {
            Some("ip") => Some(Proto::Ip),
            Some("ip6") => Some(Proto::Ip6),
            Some("tcp") => Some(Proto::Tcp),
            Some("udp") => Some(Proto::Udp),
            Some("icmp") => Some(Proto::Icmp),
            Some("icmp6") => Some(Proto::Icmp6),
            Some("arp") => Some(Proto::Arp),
            Some("ether") => Some(Proto::Ether),
            _ => None,
        };
        if proto.is_some() {
            self.i += 1;
        }
        if let (Some(p), Some("[")) = (proto, self.peek()) {
            return self.bytes(p);
        }
        if matches!(proto, Some(Proto::Ip | Proto::Ip6)) && self.peek() == Some("proto") {
            self.i += 1;
            let n = match self.next() {
                Some("tcp") => 6,
                Some("udp") => 17,
                Some("icmp") => 1,
                Some("icmp6") => 58,
                Some(t) => parse_num(t)?,
                None => return err("'proto' needs a number"),
            };
            let n = u8::try_from(n).map_err(|_| FilterError(format!("protocol {n} > 255")))?;
            return Ok(Filter::IpProto(proto, n));
        }
        let dir = match self.peek() {
            Some("src") => Dir::Src,
            Some("dst") => Dir::Dst,
            _ => Dir::Any,
        };
        if dir != Dir::Any {
            self.i += 1;
        }
        let kind = self.peek().map(str::to_owned);
        match kind.as_deref() {
            Some(k) if proto == Some(Proto::Ether) && (k == "host" || dir != Dir::Any) => {
                if k == "host" {
                    self.i += 1;
                }
                let v = self.next().unwrap_or("");
                let bytes: Vec<u8> = v
                    .split([':', '-'])
                    .map(|b| u8::from_str_radix(b, 16))
                    .collect::<Result<_, _>>()
                    .map_err(|_| FilterError(format!("'{v}' is not a MAC address")))?;
                let mac: [u8; 6] = bytes
                    .try_into()
                    .map_err(|_| FilterError(format!("'{v}' is not a MAC address")))?;
                Ok(Filter::Ether(dir, mac))
            }
            Some("host") | Some("net") => {
                self.i += 1;
                let (addr, len) = self.address(kind.as_deref() == Some("net"))?;
                if proto == Some(Proto::Ether) {
                    return err("use 'ether host' with a MAC address");
                }
                Ok(Filter::Net(proto, dir, addr, len))
            }
            Some("port") | Some("portrange") => {
                self.i += 1;
                let v = self
                    .next()
                    .ok_or_else(|| FilterError("a port is missing".into()))?;
                let (lo, hi) = match v.split_once('-') {
                    Some((a, b)) if kind.as_deref() == Some("portrange") => (port(a)?, port(b)?),
                    _ if kind.as_deref() == Some("portrange") => {
                        return err(format!("'{v}' is not a port range like 1000-2000"))
                    }
                    _ => (port(v)?, port(v)?),
                };
                Ok(Filter::Port(proto, dir, lo.min(hi), lo.max(hi)))
            }
            _ if proto == Some(Proto::Ether) => {
                // `ether [src|dst] host MAC` handled here: `ether host`
                err("after 'ether' expected 'host', 'src host' or 'dst host'")
            }
            _ if dir != Dir::Any => {
                err("after 'src'/'dst' expected 'host', 'net', 'port' or 'portrange'")
            }
            _ => match proto {
                Some(p) => Ok(Filter::Is(p)),
                None => match self.peek() {
                    Some(t) => err(format!("unknown primitive '{t}'")),
                    None => err("expression ends early"),
                },
            },
        }
    }

    fn address(&mut self, net: bool) -> Result<(IpAddr, u8), FilterError> {
        let v = self
            .next()
            .ok_or_else(|| FilterError("an address is missing".into()))?
            .to_owned();
        let (a, len) = match v.split_once('/') {
            Some((a, l)) if net => (
                a.to_owned(),
                Some(
                    l.parse::<u8>()
                        .map_err(|_| FilterError(format!("bad prefix length in '{v}'")))?,
                ),
            ),
            _ => (v.clone(), None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| FilterError(format!("'{v}' is not an IPv4 or IPv6 address")))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = len.unwrap_or(max);
        if len > max {
            return err(format!("prefix length of '{v}' exceeds {max}"));
        }
        Ok((addr, len))
    }

    fn bytes(&mut self, p: Proto) -> Result<Filter, FilterError> {
        self.expect("[")?;
        let off = parse_num(self.next().unwrap_or(""))? as usize;
        let mut size = 1;
        if self.peek() == Some(":") {
            self.i += 1;
            size = parse_num(self.next().unwrap_or(""))? as usize;
            if ![1, 2, 4].contains(&size) {
                return err("byte size must be 1, 2 or 4");
            }
        }
        self.expect("]")?;
        let mut mask = u32::MAX;
        if self.peek() == Some("&") {
            self.i += 1;
            mask = parse_num(self.next().unwrap_or(""))?;
        }
        let cmp = match self.next() {
            Some("=" | "==") => Cmp::Eq,
            Some("!=") => Cmp::Ne,
            Some("<") => Cmp::Lt,
            Some("<=") => Cmp::Le,
            Some(">") => Cmp::Gt,
            Some(">=") => Cmp::Ge,
            _ => return err("expected a comparison after the byte index"),
        };
        let value = parse_num(self.next().unwrap_or(""))?;
        Ok(Filter::Bytes(p, off, size, mask, cmp, value))
    }
}

fn parse_num(t: &str) -> Result<u32, FilterError> {
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16),
        None => t.parse(),
    };
    r.map_err(|_| FilterError(format!("'{t}' is not a number")))
}

fn port(t: &str) -> Result<u16, FilterError> {
    match t {
        "http" => Ok(80),
        "https" => Ok(443),
        "ssh" => Ok(22),
        "domain" => Ok(53),
        _ => t
            .parse()
            .map_err(|_| FilterError(format!("'{t}' is not a port"))),
    }
}

// ---- evaluation ----

/// The outermost headers of a frame.
struct View<'a> {
    f: &'a [u8],
    ethertype: u16,
    /// Offset of the L3 header.
    l3: usize,
    /// IP protocol / next header and offset of the L4 header.
    l4: Option<(u8, usize)>,
}

impl<'a> View<'a> {
    fn new(f: &'a [u8]) -> View<'a> {
        let ethertype = if f.len() >= 14 {
            u16::from_be_bytes([f[12], f[13]])
        } else {
            0
        };
        let l4 = match ethertype {
            0x0800 if f.len() >= 34 => {
                let ihl = usize::from(f[14] & 0x0F) * 4;
                let frag = u16::from_be_bytes([f[20], f[21]]) & 0x1FFF;
                (ihl >= 20 && frag == 0).then_some((f[23], 14 + ihl))
            }
            0x86DD => crate::summary::ipv6_payload(&f[14..]).map(|(n, at)| (n, 14 + at)),
            _ => None,
        };
        View {
            f,
            ethertype,
            l3: 14,
            l4,
        }
    }

    fn addrs(&self) -> Option<(IpAddr, IpAddr)> {
        let f = self.f;
        match self.ethertype {
            0x0800 if f.len() >= 34 => {
                let a: [u8; 4] = f[26..30].try_into().ok()?;
                let b: [u8; 4] = f[30..34].try_into().ok()?;
                Some((a.into(), b.into()))
            }
            0x86DD if f.len() >= 54 => {
                let a: [u8; 16] = f[22..38].try_into().ok()?;
                let b: [u8; 16] = f[38..54].try_into().ok()?;
                Some((a.into(), b.into()))
            }
            0x0806 if f.len() >= 42 => {
                let a: [u8; 4] = f[28..32].try_into().ok()?;
                let b: [u8; 4] = f[38..42].try_into().ok()?;
                Some((a.into(), b.into()))
            }
            _ => None,
        }
    }

    fn is(&self, p: Proto) -> bool {
        match p {
            Proto::Ip => self.ethertype == 0x0800,
            Proto::Ip6 => self.ethertype == 0x86DD,
            Proto::Arp => self.ethertype == 0x0806,
            Proto::Ether => self.f.len() >= 14,
            Proto::Tcp => self.l4.is_some_and(|(n, _)| n == 6),
            Proto::Udp => self.l4.is_some_and(|(n, _)| n == 17),
            Proto::Icmp => self.ethertype == 0x0800 && self.l4.is_some_and(|(n, _)| n == 1),
            Proto::Icmp6 => self.ethertype == 0x86DD && self.l4.is_some_and(|(n, _)| n == 58),
        }
    }

    fn offset_of(&self, p: Proto) -> Option<usize> {
        match p {
            Proto::Ether => Some(0),
            Proto::Ip | Proto::Ip6 | Proto::Arp => self.is(p).then_some(self.l3),
            _ => self.is(p).then(|| self.l4.map(|(_, at)| at)).flatten(),
        }
    }
}

fn in_prefix(a: IpAddr, net: IpAddr, len: u8) -> bool {
    match (a, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let m = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & m == u32::from(n) & m
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let m = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & m == u128::from(n) & m
        }
        _ => false,
    }
}

fn side(dir: Dir, pair: (bool, bool)) -> bool {
    match dir {
        Dir::Any => pair.0 || pair.1,
        Dir::Src => pair.0,
        Dir::Dst => pair.1,
    }
}

impl Filter {
    /// Whether the frame matches.
    pub fn matches(&self, frame: &[u8]) -> bool {
        self.eval(&View::new(frame))
    }

    fn eval(&self, v: &View<'_>) -> bool {
        match self {
            Filter::And(a, b) => a.eval(v) && b.eval(v),
            Filter::Or(a, b) => a.eval(v) || b.eval(v),
            Filter::Not(a) => !a.eval(v),
            Filter::Is(p) => v.is(*p),
            Filter::IpProto(p, n) => {
                let fam = p.is_none_or(|p| v.is(p));
                fam && (v.is(Proto::Ip) || v.is(Proto::Ip6)) && v.l4.is_some_and(|(x, _)| x == *n)
            }
            Filter::Net(p, dir, net, len) => {
                if p.is_some_and(|p| !v.is(p)) {
                    return false;
                }
                v.addrs().is_some_and(|(s, d)| {
                    side(*dir, (in_prefix(s, *net, *len), in_prefix(d, *net, *len)))
                })
            }
            Filter::Port(p, dir, lo, hi) => {
                if p.is_some_and(|p| !v.is(p)) {
                    return false;
                }
                let Some((n, at)) = v.l4.filter(|(n, _)| *n == 6 || *n == 17) else {
                    return false;
                };
                let _ = n;
                let get = |o: usize| {
                    v.f.get(at + o..at + o + 2)
                        .map(|b| u16::from_be_bytes([b[0], b[1]]))
                };
                let inr = |x: Option<u16>| x.is_some_and(|x| (*lo..=*hi).contains(&x));
                side(*dir, (inr(get(0)), inr(get(2))))
            }
            Filter::Ether(dir, mac) => {
                v.f.len() >= 14 && side(*dir, (v.f[6..12] == mac[..], v.f[0..6] == mac[..]))
            }
            Filter::Bytes(p, off, size, mask, cmp, value) => {
                let Some(base) = v.offset_of(*p) else {
                    return false;
                };
                let Some(b) = v.f.get(base + off..base + off + size) else {
                    return false;
                };
                let x = b.iter().fold(0u32, |acc, &y| acc << 8 | u32::from(y)) & mask;
                match cmp {
                    Cmp::Eq => x == *value,
                    Cmp::Ne => x != *value,
                    Cmp::Lt => x < *value,
                    Cmp::Le => x <= *value,
                    Cmp::Gt => x > *value,
                    Cmp::Ge => x >= *value,
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    fn v4(proto: u8, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend([0x08, 0x00, 0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0]);
        f.extend(src);
        f.extend(dst);
        f.extend(l4);
        f
    }

    fn tunnel(inner: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend([0x86, 0xDD, 0x60, 0, 0, 0, 0, 0, 4, 64]);
        f.extend([0xfc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        f.extend([0xfc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        f.extend(&inner[14..]);
        f
    }

    fn m(filter: &str, frame: &[u8]) -> bool {
        match compile(filter) {
            Ok(f) => f.matches(frame),
            Err(e) => panic!("{filter}: {e}"),
        }
    }

    #[test]
    fn primitives_on_outer_headers() {
        let tcp = v4(
            6,
            [10, 100, 1, 1],
            [10, 100, 1, 2],
            &[0x1f, 0x90, 0, 80, 0, 0, 0, 0],
        );
        assert!(m("tcp", &tcp));
        assert!(m("ip and tcp port 80", &tcp));
        assert!(m("src host 10.100.1.1", &tcp));
        assert!(!m("dst host 10.100.1.1", &tcp));
        assert!(m("net 10.100.0.0/16 && dst port 80", &tcp));
        assert!(m("portrange 8000-8100", &tcp));
        assert!(!m("udp or icmp", &tcp));
        assert!(m("not (udp or icmp)", &tcp));
        assert!(m("! arp", &tcp));
        let icmp = v4(
            1,
            [10, 100, 1, 1],
            [45, 86, 6, 6],
            &[8, 0, 0, 0, 0, 1, 0, 1],
        );
        let wrapped = tunnel(&icmp);
        assert!(m("icmp", &icmp));
        assert!(
            !m("icmp", &wrapped),
            "icmp does not match tunnelled traffic"
        );
        assert!(m("ip6 proto 4", &wrapped));
        assert!(m("ip6 proto 4 and ip6[52:4] = 0x0a640101", &wrapped));
        assert!(!m("ip6[52:4] = 0x0a640102", &wrapped));
        assert!(m("host fc00::1", &wrapped));
        assert!(m("ip[9] = 1", &icmp));
        assert!(m("icmp[0] == 8", &icmp));
        assert!(!m("ether host 00:00:00:00:00:01", &icmp));
        assert!(m("ether src 00:00:00:00:00:00", &icmp));
    }

    #[test]
    fn bad_filters_say_why() {
        for bad in [
            "",
            "tcp and",
            "host",
            "host 1.2.3",
            "port x",
            "(tcp",
            "foo",
            "net 10.0.0.0/40",
            "ip[1:3] = 1",
        ] {
            assert!(compile(bad).is_err(), "{bad:?} compiled");
        }
    }
}
