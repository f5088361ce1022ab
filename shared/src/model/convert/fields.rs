//! Field rules every conversion shares: IDs and text limits (grpc-api.md §4.5), address
//! text (§4.1, §4.2, §10.1) and ports (§10.3) — for requests read by the server, and the
//! same values read back from responses by a client.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::model::{
    format_ip, parse_ip_text, InvalidArgument, IpPrefix, ObjectId, RequestPrefix, ResponseError,
};
use crate::proto;

/// Longest ID, device name or hostname: upstream copies them into 64-byte C buffers.
pub(crate) const TEXT_MAX: usize = 63;

/// An ID that is only looked up (`interface_id` of sub-object calls, `loadbalancer_id`
/// outside CreateLoadBalancer, `rule_id`): 1..63 bytes without NUL, content unchecked
/// and kept byte for byte (IDs compare byte-exact, §4.5).
pub(crate) fn lookup_id(bytes: &[u8], err: &'static str) -> Result<ObjectId, InvalidArgument> {
    if bytes.is_empty() || bytes.len() > TEXT_MAX || bytes.contains(&0) {
        return Err(InvalidArgument(err));
    }
    Ok(ObjectId::from(bytes))
}

/// An ID that names a new object (`loadbalancer_id` of CreateLoadBalancer, a firewall
/// rule's `id`): like [`lookup_id`]; bytes that are not UTF-8 are kept and read back
/// exactly, as upstream does.
pub(crate) fn new_id(bytes: Vec<u8>, err: &'static str) -> Result<ObjectId, InvalidArgument> {
    if bytes.is_empty() || bytes.len() > TEXT_MAX || bytes.contains(&0) {
        return Err(InvalidArgument(err));
    }
    Ok(ObjectId::from(bytes))
}

/// Text copied into a fixed buffer upstream: 1..=`max` bytes, no NUL.
pub(crate) fn text(s: String, max: usize, err: &'static str) -> Result<String, InvalidArgument> {
    if s.is_empty() || s.len() > max || s.contains('\0') {
        return Err(InvalidArgument(err));
    }
    Ok(s)
}

/// An `IpAddress`: `ipver` picks the family, the text must be of that family (§4.2). An
/// absent message reads as `{IPV4, ""}` and fails (§4.3).
pub(crate) fn ip(
    addr: Option<&proto::IpAddress>,
    err: &'static str,
) -> Result<IpAddr, InvalidArgument> {
    let (ipver, text) = addr.map_or((0, &[][..]), |a| (a.ipver, &a.address[..]));
    let v6 = match proto::IpVersion::try_from(ipver) {
        Ok(proto::IpVersion::Ipv4) => false,
        Ok(proto::IpVersion::Ipv6) => true,
        Err(_) => return Err(InvalidArgument(err)),
    };
    parse_ip_text(text, v6).ok_or(InvalidArgument(err))
}

/// IPv4 text in a field that is IPv4 by definition.
pub(crate) fn ipv4_text(text: &[u8], err: &'static str) -> Result<Ipv4Addr, InvalidArgument> {
    match parse_ip_text(text, false) {
        Some(IpAddr::V4(a)) => Ok(a),
        _ => Err(InvalidArgument(err)),
    }
}

/// IPv6 text in a field that is IPv6 by definition.
pub(crate) fn ipv6_text(text: &[u8], err: &'static str) -> Result<Ipv6Addr, InvalidArgument> {
    match parse_ip_text(text, true) {
        Some(IpAddr::V6(a)) => Ok(a),
        _ => Err(InvalidArgument(err)),
    }
}

/// A port carried as `uint32`: at most 65535.
pub(crate) fn port(value: u32, err: &'static str) -> Result<u16, InvalidArgument> {
    u16::try_from(value).map_err(|_| InvalidArgument(err))
}

/// A prefix length as the gRPC layer sees it: it must fit 8 bits (§10.2).
pub(crate) fn prefix_length(len: u32, err: &'static str) -> Result<u8, InvalidArgument> {
    u8::try_from(len).map_err(|_| InvalidArgument(err))
}

/// A prefix whose length must also fit its family (32 or 128): firewall prefixes.
pub(crate) fn prefix(
    addr: IpAddr,
    len: u32,
    err: &'static str,
) -> Result<IpPrefix, InvalidArgument> {
    IpPrefix::new(addr, len).map_err(|_| InvalidArgument(err))
}

/// A `Prefix` message on input: address first, then a length that fits 8 bits (the
/// order of alias and LB prefixes). An absent message has an invalid address (§4.3).
pub(crate) fn request_prefix(
    p: Option<&proto::Prefix>,
    ip_err: &'static str,
    len_err: &'static str,
) -> Result<RequestPrefix, InvalidArgument> {
    let addr = ip(p.and_then(|p| p.ip.as_ref()), ip_err)?;
    let len = prefix_length(p.map_or(0, |p| p.length), len_err)?;
    Ok(RequestPrefix::new(addr, len))
}

/// Like [`request_prefix`], the length also within the family: LB prefixes, where
/// upstream checks nothing and stores any length (our hardening, §13 #7).
pub(crate) fn family_prefix(
    p: Option<&proto::Prefix>,
    ip_err: &'static str,
    len_err: &'static str,
) -> Result<IpPrefix, InvalidArgument> {
    request_prefix(p, ip_err, len_err)?
        .checked()
        .map_err(|_| InvalidArgument(len_err))
}

/// A prefix as a `Prefix` message (no underlay).
pub(crate) fn prefix_message(p: impl Into<RequestPrefix>) -> proto::Prefix {
    let p = p.into();
    proto::Prefix {
        ip: Some(ip_address(p.addr())),
        length: u32::from(p.len()),
        underlay_route: Vec::new(),
    }
}

/// Field paths of a `Prefix` inside a response, for errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PrefixPath {
    /// The `Prefix` message itself.
    pub(crate) prefix: &'static str,
    /// Its `ip`.
    pub(crate) ip: &'static str,
    /// Its `length`.
    pub(crate) length: &'static str,
}

/// A response's `Prefix`: present, valid address, length within the family.
pub(crate) fn resp_prefix(
    p: Option<&proto::Prefix>,
    path: PrefixPath,
) -> Result<IpPrefix, ResponseError> {
    let p = p.ok_or_else(|| ResponseError::new(path.prefix, "missing"))?;
    let addr = resp_ip(p.ip.as_ref(), path.ip)?;
    IpPrefix::new(addr, p.length).map_err(|e| ResponseError::new(path.length, e.to_string()))
}

/// `0.0.0.0` / `::` mean "none" in several fields (disabled family, "all", generate).
pub(crate) fn non_zero<A: Into<IpAddr> + Copy>(addr: A) -> Option<A> {
    (!addr.into().is_unspecified()).then_some(addr)
}

/// An address as an `IpAddress` message, `ipver` matching the family (§4.2, §4.7).
pub(crate) fn ip_address(addr: impl Into<IpAddr>) -> proto::IpAddress {
    let addr = addr.into();
    let ipver = match addr {
        IpAddr::V4(_) => proto::IpVersion::Ipv4,
        IpAddr::V6(_) => proto::IpVersion::Ipv6,
    };
    proto::IpAddress {
        ipver: ipver as i32,
        address: ip_text(addr),
    }
}

/// Address text for a `bytes` field, as upstream's `inet_ntop` writes it (§4.7).
pub(crate) fn ip_text(addr: impl Into<IpAddr>) -> Vec<u8> {
    format_ip(addr.into()).into_bytes()
}

/// A response's `IpAddress`: present, `ipver` 0 or 1, text of that family.
pub(crate) fn resp_ip(
    addr: Option<&proto::IpAddress>,
    field: &'static str,
) -> Result<IpAddr, ResponseError> {
    let addr = addr.ok_or_else(|| ResponseError::new(field, "missing"))?;
    let v6 = match proto::IpVersion::try_from(addr.ipver) {
        Ok(v) => v == proto::IpVersion::Ipv6,
        Err(_) => {
            return Err(ResponseError::new(
                field,
                format!("unknown ipver {}", addr.ipver),
            ))
        }
    };
    parse_ip_text(&addr.address, v6).ok_or_else(|| bad_text(field, &addr.address, v6))
}

/// A response's IPv4 text.
pub(crate) fn resp_ipv4(text: &[u8], field: &'static str) -> Result<Ipv4Addr, ResponseError> {
    match parse_ip_text(text, false) {
        Some(IpAddr::V4(a)) => Ok(a),
        _ => Err(bad_text(field, text, false)),
    }
}

/// A response's IPv6 text.
pub(crate) fn resp_ipv6(text: &[u8], field: &'static str) -> Result<Ipv6Addr, ResponseError> {
    match parse_ip_text(text, true) {
        Some(IpAddr::V6(a)) => Ok(a),
        _ => Err(bad_text(field, text, true)),
    }
}

/// A response's `IpAddress` that must be IPv4.
pub(crate) fn resp_ip_v4(
    addr: Option<&proto::IpAddress>,
    field: &'static str,
) -> Result<Ipv4Addr, ResponseError> {
    match resp_ip(addr, field)? {
        IpAddr::V4(a) => Ok(a),
        IpAddr::V6(a) => Err(ResponseError::new(field, format!("{a} is not IPv4"))),
    }
}

/// A response's `IpAddress` that must be IPv6.
pub(crate) fn resp_ip_v6(
    addr: Option<&proto::IpAddress>,
    field: &'static str,
) -> Result<Ipv6Addr, ResponseError> {
    match resp_ip(addr, field)? {
        IpAddr::V6(a) => Ok(a),
        IpAddr::V4(a) => Err(ResponseError::new(field, format!("{a} is not IPv6"))),
    }
}

/// A response's port: at most 65535.
pub(crate) fn resp_port(value: u32, field: &'static str) -> Result<u16, ResponseError> {
    u16::try_from(value).map_err(|_| ResponseError::new(field, format!("{value} exceeds 65535")))
}

/// A response's ID or name: shown as text whatever bytes it holds.
pub(crate) fn resp_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn bad_text(field: &'static str, text: &[u8], v6: bool) -> ResponseError {
    let family = if v6 { "IPv6" } else { "IPv4" };
    ResponseError::new(
        field,
        format!("{:?} is not {family} text", String::from_utf8_lossy(text)),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn addr(ipver: i32, text: &str) -> proto::IpAddress {
        proto::IpAddress {
            ipver,
            address: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn ids_are_one_to_63_bytes_without_nul() {
        let e = InvalidArgument("Invalid interface_id");
        assert_eq!(lookup_id(b"", e.0), Err(e));
        assert_eq!(lookup_id(&[b'a'; 64], e.0), Err(e));
        assert_eq!(lookup_id(b"vm\x001", e.0), Err(e));
        assert_eq!(lookup_id(&[b'a'; 63], e.0).unwrap().len(), 63);
        // bytes are kept as they came, UTF-8 or not
        assert_eq!(lookup_id(b"a b\xff", e.0).unwrap().as_bytes(), b"a b\xff");
        assert_eq!(
            new_id(b"a b\xff".to_vec(), e.0).unwrap().as_bytes(),
            b"a b\xff"
        );
        assert_eq!(new_id(b"lb\x00".to_vec(), e.0), Err(e));
        assert_eq!(new_id(b"lb-1".to_vec(), e.0).unwrap(), "lb-1");
        assert_eq!(new_id(Vec::new(), e.0), Err(e));
    }

    #[test]
    fn text_limits() {
        let e = "Invalid device_name";
        assert!(text(String::new(), 63, e).is_err());
        assert!(text("x".repeat(31), 31, e).is_ok());
        assert!(text("x".repeat(32), 31, e).is_err());
        assert!(text("net\0tap".into(), 63, e).is_err());
    }

    #[test]
    fn ip_address_follows_ipver() {
        let e = "Invalid vip_ip";
        assert_eq!(
            ip(Some(&addr(0, "10.0.0.1")), e).unwrap().to_string(),
            "10.0.0.1"
        );
        assert_eq!(
            ip(Some(&addr(1, "fc00::1")), e).unwrap().to_string(),
            "fc00::1"
        );
        assert!(ip(Some(&addr(0, "fc00::1")), e).is_err());
        assert!(ip(Some(&addr(1, "10.0.0.1")), e).is_err());
        assert!(ip(Some(&addr(2, "10.0.0.1")), e).is_err());
        assert!(ip(Some(&addr(-1, "10.0.0.1")), e).is_err());
        assert!(ip(None, e).is_err());
        assert!(ip(Some(&addr(0, "10.0.0.1\0")), e).is_err());
    }

    #[test]
    fn output_address_sets_matching_ipver() {
        let a = ip_address("1.2.3.4".parse::<IpAddr>().unwrap());
        assert_eq!((a.ipver, &a.address[..]), (0, &b"1.2.3.4"[..]));
        let a = ip_address("::102:304".parse::<Ipv6Addr>().unwrap());
        assert_eq!((a.ipver, &a.address[..]), (1, &b"::1.2.3.4"[..]));
    }

    #[test]
    fn response_addresses_name_the_field() {
        let err = resp_ip(None, "GetVipResponse.vip_ip").unwrap_err();
        assert_eq!(err.field, "GetVipResponse.vip_ip");
        let err = resp_ip(Some(&addr(7, "1.2.3.4")), "X.ip").unwrap_err();
        assert!(err.problem.contains("ipver 7"), "{err}");
        assert!(resp_ip_v4(Some(&addr(1, "::1")), "X.ip").is_err());
        assert!(resp_ip_v6(Some(&addr(0, "1.1.1.1")), "X.ip").is_err());
        assert!(resp_ipv6(b"", "X.underlay_route").is_err());
        assert_eq!(resp_port(65536, "X.port").unwrap_err().field, "X.port");
        assert_eq!(non_zero(Ipv4Addr::UNSPECIFIED), None);
        assert_eq!(non_zero(Ipv6Addr::LOCALHOST), Some(Ipv6Addr::LOCALHOST));
    }
}
