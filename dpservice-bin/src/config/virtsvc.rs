//! Virtual services (`--udp-virtsvc` / `--tcp-virtsvc IPv4,port,IPv6,port`).

use std::net::{Ipv4Addr, Ipv6Addr};

/// Most virtual services upstream accepts (both protocols together).
pub const MAX_VIRTUAL_SERVICES: usize = 256;

/// One `IPv4,port,IPv6,port` quadruple as written on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VirtsvcSpec {
    /// Address the VMs talk to.
    pub virtual_addr: Ipv4Addr,
    /// Port the VMs talk to (never 0).
    pub virtual_port: u16,
    /// The outside IPv6 service.
    pub service_addr: Ipv6Addr,
    /// The outside service's port (never 0).
    pub service_port: u16,
}

impl VirtsvcSpec {
    /// Parses one quadruple, failing with upstream's messages.
    pub fn parse(arg: &str) -> Result<VirtsvcSpec, String> {
        let mut fields = arg.split(',');
        let mut next = |what: &str| {
            fields
                .next()
                .filter(|f| !f.is_empty())
                .ok_or_else(|| format!("Missing virtual service {what}"))
        };
        let v4 = next("IPv4")?;
        let virtual_addr = v4
            .parse()
            .map_err(|_| format!("Invalid virtual service IPv4 address '{v4}'"))?;
        let virtual_port = port(next("IPv4 port")?, "IPv4")?;
        let v6 = next("IPv6")?;
        let service_addr = v6
            .parse()
            .map_err(|_| format!("Invalid virtual service IPv6 address '{v6}'"))?;
        let service_port = port(next("IPv6 port")?, "IPv6")?;
        if fields.next().is_some() {
            return Err(format!(
                "Too many fields in virtual service '{arg}' (expected IPv4,port,IPv6,port)"
            ));
        }
        Ok(VirtsvcSpec {
            virtual_addr,
            virtual_port,
            service_addr,
            service_port,
        })
    }
}

fn port(text: &str, family: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(p) if p != 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(format!("Invalid virtual service {family} port '{text}'")),
    }
}

/// Transport protocol of a virtual service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VirtsvcProto {
    /// `--udp-virtsvc`
    Udp,
    /// `--tcp-virtsvc`
    Tcp,
}

/// A validated virtual service, in command-line order across both protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VirtualService {
    /// Which option declared it.
    pub proto: VirtsvcProto,
    /// Endpoints.
    pub spec: VirtsvcSpec,
}

/// Why the set of virtual services was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VirtsvcError {
    /// More than upstream's table holds.
    #[error("Number of virtual services is limited to {MAX_VIRTUAL_SERVICES}")]
    TooMany,
    /// The same IPv4 endpoint twice for one protocol.
    #[error("IPv4 specification already used for '{0}'")]
    DuplicateIpv4(String),
    /// The same IPv6 service twice for one protocol.
    #[error("IPv6 specification already used for '{0}'")]
    DuplicateIpv6(String),
}

/// Checks the whole list (limit, no duplicate endpoint per protocol).
pub fn validate(services: &[VirtualService]) -> Result<(), VirtsvcError> {
    if services.len() > MAX_VIRTUAL_SERVICES {
        return Err(VirtsvcError::TooMany);
    }
    for (i, svc) in services.iter().enumerate() {
        let text = || {
            let s = &svc.spec;
            format!(
                "{},{},{},{}",
                s.virtual_addr, s.virtual_port, s.service_addr, s.service_port
            )
        };
        for earlier in services[..i].iter().filter(|e| e.proto == svc.proto) {
            if (earlier.spec.virtual_addr, earlier.spec.virtual_port)
                == (svc.spec.virtual_addr, svc.spec.virtual_port)
            {
                return Err(VirtsvcError::DuplicateIpv4(text()));
            }
            if (earlier.spec.service_addr, earlier.spec.service_port)
                == (svc.spec.service_addr, svc.spec.service_port)
            {
                return Err(VirtsvcError::DuplicateIpv6(text()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_quadruple() {
        let s = VirtsvcSpec::parse("1.2.3.4,5353,2a00:da8:fff6::1,53").unwrap();
        assert_eq!(s.virtual_addr, Ipv4Addr::new(1, 2, 3, 4));
        assert_eq!(s.virtual_port, 5353);
        assert_eq!(
            s.service_addr,
            "2a00:da8:fff6::1".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(s.service_port, 53);
    }

    #[test]
    fn reports_the_broken_field() {
        for (arg, msg) in [
            ("", "Missing virtual service IPv4"),
            ("1.2.3.4", "Missing virtual service IPv4 port"),
            ("1.2.3.4,53", "Missing virtual service IPv6"),
            ("1.2.3.4,53,::1", "Missing virtual service IPv6 port"),
            (
                "1.2.3,53,::1,53",
                "Invalid virtual service IPv4 address '1.2.3'",
            ),
            ("1.2.3.4,0,::1,53", "Invalid virtual service IPv4 port '0'"),
            (
                "1.2.3.4,65536,::1,53",
                "Invalid virtual service IPv4 port '65536'",
            ),
            (
                "1.2.3.4,+5,::1,53",
                "Invalid virtual service IPv4 port '+5'",
            ),
            (
                "1.2.3.4,53,x::y,53",
                "Invalid virtual service IPv6 address 'x::y'",
            ),
            (
                "1.2.3.4,53,::1,http",
                "Invalid virtual service IPv6 port 'http'",
            ),
            ("1.2.3.4,53,::1,53,9", "Too many fields"),
        ] {
            let err = VirtsvcSpec::parse(arg).unwrap_err();
            assert!(err.contains(msg), "{arg}: {err}");
        }
    }

    fn svc(proto: VirtsvcProto, arg: &str) -> VirtualService {
        VirtualService {
            proto,
            spec: VirtsvcSpec::parse(arg).unwrap(),
        }
    }

    #[test]
    fn duplicates_per_protocol_are_refused() {
        use VirtsvcProto::{Tcp, Udp};
        let ok = [
            svc(Udp, "1.2.3.4,53,::1,53"),
            svc(Tcp, "1.2.3.4,53,::1,53"),
            svc(Udp, "1.2.3.4,54,::1,54"),
        ];
        assert_eq!(validate(&ok), Ok(()));
        let v4 = [svc(Udp, "1.2.3.4,53,::1,53"), svc(Udp, "1.2.3.4,53,::2,53")];
        assert!(matches!(validate(&v4), Err(VirtsvcError::DuplicateIpv4(_))));
        let v6 = [svc(Tcp, "1.2.3.4,53,::1,53"), svc(Tcp, "1.2.3.5,53,::1,53")];
        assert!(matches!(validate(&v6), Err(VirtsvcError::DuplicateIpv6(_))));
    }

    #[test]
    fn at_most_256() {
        let many: Vec<VirtualService> = (0..=MAX_VIRTUAL_SERVICES as u32)
            .map(|i| VirtualService {
                proto: VirtsvcProto::Udp,
                spec: VirtsvcSpec {
                    virtual_addr: Ipv4Addr::from(0x0a00_0000 + i),
                    virtual_port: 53,
                    service_addr: Ipv6Addr::from(1 + u128::from(i)),
                    service_port: 53,
                },
            })
            .collect();
        assert_eq!(validate(&many[..MAX_VIRTUAL_SERVICES]), Ok(()));
        assert_eq!(validate(&many), Err(VirtsvcError::TooMany));
    }
}
