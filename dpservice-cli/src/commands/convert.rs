//! Wire messages to printed objects and back (addresses as text, prefixes unmasked).

use dpservice::proto;

use crate::error::CliError;
use crate::objects::*;
use crate::syntax::{parse_addr, Addr, Prefix as IpPrefix};

/// Text of a bytes field (ids, names).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An address carried as text; empty means absent.
pub fn addr(b: &[u8], what: &str) -> Result<Option<Addr>, CliError> {
    if b.is_empty() {
        return Ok(None);
    }
    parse_addr(&text(b))
        .map(Some)
        .map_err(|e| CliError::client(format!("error parsing {what}: {e}")))
}

/// An `IpAddress` message; absent or empty means absent.
pub fn ip(a: Option<&proto::IpAddress>, what: &str) -> Result<Option<Addr>, CliError> {
    addr(a.map_or(&[][..], |a| &a.address), what)
}

/// The `IpAddress` a request carries: family from the address, text as Go prints it.
pub fn to_ip(a: &Addr) -> proto::IpAddress {
    let ipver = if a.is_v4() {
        proto::IpVersion::Ipv4
    } else {
        proto::IpVersion::Ipv6
    };
    proto::IpAddress {
        ipver: ipver as i32,
        address: a.to_string().into_bytes(),
    }
}

/// A request prefix: address and length, host bits kept.
pub fn to_prefix(p: &IpPrefix) -> proto::Prefix {
    proto::Prefix {
        ip: Some(to_ip(&p.addr)),
        length: u32::from(p.len),
        underlay_route: Vec::new(),
    }
}

/// A reply prefix (address and length), as written by the daemon.
pub fn prefix(p: Option<&proto::Prefix>) -> Result<IpPrefix, CliError> {
    let a = ip(p.and_then(|p| p.ip.as_ref()), "prefix address")?.ok_or_else(|| {
        CliError::client("error parsing prefix address: ParseAddr(\"\"): unable to parse IP")
    })?;
    let len = p.map_or(0, |p| p.length);
    Ok(IpPrefix {
        addr: a,
        len: len.min(128) as u8,
    })
}

/// An interface as get/list print it.
pub fn interface(i: &proto::Interface) -> Result<Interface, CliError> {
    let m = i.metering_params.unwrap_or_default();
    Ok(Interface {
        kind: "Interface",
        metadata: InterfaceMeta { id: text(&i.id) },
        spec: InterfaceSpec {
            vni: i.vni,
            device: i.pci_name.clone(),
            ipv4: addr(&i.primary_ipv4, "primary ipv4")?,
            ipv6: addr(&i.primary_ipv6, "primary ipv6")?,
            underlay_route: addr(&i.underlay_route, "underlay ip")?,
            metering: Some(Metering {
                total_rate: m.total_rate,
                public_rate: m.public_rate,
            }),
            hostname: i.hostname.clone(),
            ..InterfaceSpec::default()
        },
        status: Status::empty(),
    })
}

/// A prefix of `interface_id` as lists print it.
pub fn prefix_item(
    kind: &'static str,
    interface_id: &str,
    p: &proto::Prefix,
) -> Result<Prefix, CliError> {
    Ok(Prefix {
        kind,
        metadata: PrefixMeta {
            interface_id: interface_id.to_owned(),
            vni: 0,
        },
        spec: PrefixSpec {
            prefix: prefix(Some(p))?,
            underlay_route: addr(&p.underlay_route, "underlay route")?,
        },
        status: Status::empty(),
    })
}

/// A route of `vni` (the requested one) as lists print it.
pub fn route(vni: u32, r: &proto::Route) -> Result<Route, CliError> {
    Ok(Route {
        kind: "Route",
        metadata: RouteMeta { vni },
        spec: RouteSpec {
            prefix: Some(prefix(r.prefix.as_ref())?),
            next_hop: Some(NextHop {
                vni: r.nexthop_vni,
                address: ip(r.nexthop_address.as_ref(), "next hop address")?,
            }),
        },
        status: Status::empty(),
    })
}

/// Load-balancer ports as printed (protocol enum number, port).
pub fn lb_ports(ports: &[proto::LbPort]) -> Vec<LbPort> {
    ports
        .iter()
        .map(|p| LbPort {
            protocol: p.protocol as u32,
            port: p.port,
        })
        .collect()
}

/// A load balancer of `list loadbalancers`.
pub fn loadbalancer(lb: &proto::Loadbalancer) -> Result<LoadBalancer, CliError> {
    Ok(LoadBalancer {
        kind: "LoadBalancer",
        metadata: LoadBalancerMeta { id: text(&lb.id) },
        spec: LoadBalancerSpec {
            vni: lb.vni,
            vip: ip(lb.ip.as_ref(), "lb ip")?,
            ports: lb_ports(&lb.ports),
            underlay_route: addr(&lb.underlay_route, "underlay ip")?,
        },
        status: Status::empty(),
    })
}

/// A firewall rule of `interface_id`.
pub fn firewall_rule(
    interface_id: &str,
    r: &proto::FirewallRule,
) -> Result<FirewallRule, CliError> {
    let prefix =
        |p: Option<&proto::Prefix>| prefix(p).map_err(|e| e.context("error converting prefix"));
    Ok(FirewallRule {
        kind: "FirewallRule",
        metadata: FirewallRuleMeta {
            interface_id: interface_id.to_owned(),
        },
        spec: FirewallRuleSpec {
            id: text(&r.id),
            direction: if r.direction == 0 {
                "Ingress"
            } else {
                "Egress"
            }
            .to_owned(),
            action: if r.action == 0 { "Drop" } else { "Accept" }.to_owned(),
            priority: r.priority,
            source_prefix: Some(prefix(r.source_prefix.as_ref())?),
            destination_prefix: Some(prefix(r.destination_prefix.as_ref())?),
            protocol_filter: r.protocol_filter.as_ref().map(protocol_filter),
        },
        status: Status::empty(),
    })
}

/// The printed form of a wire protocol filter.
pub fn protocol_filter(f: &proto::ProtocolFilter) -> ProtocolFilter {
    use proto::protocol_filter::Filter;
    match &f.filter {
        None => ProtocolFilter::Any,
        Some(Filter::Icmp(i)) => ProtocolFilter::Icmp(IcmpFilter {
            icmp_type: i.icmp_type,
            icmp_code: i.icmp_code,
        }),
        Some(Filter::Tcp(t)) => ProtocolFilter::Tcp(PortFilter {
            src_port_lower: t.src_port_lower,
            src_port_upper: t.src_port_upper,
            dst_port_lower: t.dst_port_lower,
            dst_port_upper: t.dst_port_upper,
        }),
        Some(Filter::Udp(u)) => ProtocolFilter::Udp(PortFilter {
            src_port_lower: u.src_port_lower,
            src_port_upper: u.src_port_upper,
            dst_port_lower: u.dst_port_lower,
            dst_port_upper: u.dst_port_upper,
        }),
    }
}

/// The wire form of a protocol filter.
pub fn to_protocol_filter(f: &ProtocolFilter) -> proto::ProtocolFilter {
    use proto::protocol_filter::Filter;
    let filter = match f {
        ProtocolFilter::Any => None,
        ProtocolFilter::Icmp(i) => Some(Filter::Icmp(proto::IcmpFilter {
            icmp_type: i.icmp_type,
            icmp_code: i.icmp_code,
        })),
        ProtocolFilter::Tcp(p) => Some(Filter::Tcp(proto::TcpFilter {
            src_port_lower: p.src_port_lower,
            src_port_upper: p.src_port_upper,
            dst_port_lower: p.dst_port_lower,
            dst_port_upper: p.dst_port_upper,
        })),
        ProtocolFilter::Udp(p) => Some(Filter::Udp(proto::UdpFilter {
            src_port_lower: p.src_port_lower,
            src_port_upper: p.src_port_upper,
            dst_port_lower: p.dst_port_lower,
            dst_port_upper: p.dst_port_upper,
        })),
    };
    proto::ProtocolFilter { filter }
}

/// An entry of `list nats`: local entries are `Nat` with the VM's address, neighbour
/// entries `NeighborNat` with their underlay.
pub fn nat_entry(e: &proto::NatEntry) -> Result<Nat, CliError> {
    let underlay = addr(&e.underlay_route, "underlay route")?;
    let (kind, nat_ip) = match underlay {
        Some(_) => ("NeighborNat", None),
        None => ("Nat", ip(e.nat_ip.as_ref(), "natted ip")?),
    };
    Ok(Nat {
        kind,
        metadata: NatMeta::default(),
        spec: NatSpec {
            nat_ip,
            min_port: e.min_port,
            max_port: e.max_port,
            underlay_route: underlay,
            vni: e.vni,
            actual_nat_ip: ip(e.actual_nat_ip.as_ref(), "nat ip")?,
        },
        status: Status::empty(),
    })
}
