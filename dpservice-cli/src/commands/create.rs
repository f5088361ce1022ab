//! `create` commands (spec §2.4).

use super::create_calls::Create;
use super::Ctx;
use crate::cli::parsers::flatten;
use crate::cli::{require, CreateFirewallRule, CreateNoun, Extra};
use crate::error::CliError;
use crate::objects::*;
use crate::syntax::{number::atoi, Addr};

/// Runs a `create` leaf.
pub async fn run(noun: CreateNoun, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    match noun {
        CreateNoun::Interface(a) => {
            let required = [
                ("id", a.id.is_some()),
                ("vni", a.vni.is_some()),
                ("ipv4", a.ipv4.is_some()),
                ("device", a.device.is_some()),
            ];
            let build = || {
                Ok(Interface {
                    kind: "",
                    metadata: InterfaceMeta {
                        id: a.id.unwrap_or_default(),
                    },
                    spec: InterfaceSpec {
                        vni: a.vni.unwrap_or_default(),
                        device: a.device.unwrap_or_default(),
                        ipv4: a.ipv4,
                        ipv6: Some(a.ipv6),
                        underlay_route: Some(a.underlay),
                        pxe: Some(Pxe {
                            next_server: a.pxe_server,
                            boot_filename: a.pxe_file_name,
                        }),
                        metering: Some(Metering {
                            total_rate: a.total_meter_rate,
                            public_rate: a.public_meter_rate,
                        }),
                        hostname: a.hostname,
                        ..InterfaceSpec::default()
                    },
                    status: Status::empty(),
                })
            };
            let done = |o: &Interface| created_on(o.spec.underlay_route.as_ref());
            create(ctx, &a.extra, &required, build, done).await
        }
        CreateNoun::Prefix(a) => {
            let required = [
                ("prefix", a.prefix.is_some()),
                ("interface-id", a.interface_id.is_some()),
            ];
            let build = || {
                Ok(Prefix {
                    kind: "Prefix",
                    metadata: PrefixMeta {
                        interface_id: a.interface_id.unwrap_or_default(),
                        vni: 0,
                    },
                    spec: PrefixSpec {
                        prefix: a.prefix.unwrap_or_else(default_prefix),
                        underlay_route: Some(a.underlay),
                    },
                    status: Status::empty(),
                })
            };
            let done = |o: &Prefix| created_on(o.spec.underlay_route.as_ref());
            create(ctx, &a.extra, &required, build, done).await
        }
        CreateNoun::Route(a) => {
            let required = [
                ("prefix", a.prefix.is_some()),
                ("next-hop-vni", a.next_hop_vni.is_some()),
                ("next-hop-ip", a.next_hop_ip.is_some()),
                ("vni", a.vni.is_some()),
            ];
            let hop_ip = a.next_hop_ip.unwrap_or_else(Addr::unspecified_v6);
            let build = || {
                Ok(Route {
                    kind: "Route",
                    metadata: RouteMeta {
                        vni: a.vni.unwrap_or_default(),
                    },
                    spec: RouteSpec {
                        prefix: a.prefix,
                        next_hop: Some(NextHop {
                            vni: a.next_hop_vni.unwrap_or_default(),
                            address: Some(hop_ip.clone()),
                        }),
                    },
                    status: Status::empty(),
                })
            };
            let done = |_: &Route| format!("created, Next Hop IP: {hop_ip}");
            create(ctx, &a.extra, &required, build, done).await
        }
        CreateNoun::Virtualip(a) => {
            let required = [
                ("vip", a.vip.is_some()),
                ("interface-id", a.interface_id.is_some()),
            ];
            let build = || {
                Ok(VirtualIp {
                    kind: "VirtualIP",
                    metadata: VirtualIpMeta {
                        interface_id: a.interface_id.unwrap_or_default(),
                    },
                    spec: VirtualIpSpec {
                        vip_ip: a.vip,
                        underlay_route: Some(a.underlay),
                    },
                    status: Status::empty(),
                })
            };
            let done = |o: &VirtualIp| created_on(o.spec.underlay_route.as_ref());
            create(ctx, &a.extra, &required, build, done).await
        }
        CreateNoun::Loadbalancer(a) => {
            let required = [
                ("id", a.id.is_some()),
                ("vni", a.vni.is_some()),
                ("vip", a.vip.is_some()),
                ("lbports", !a.lbports.is_empty()),
            ];
            let build = || {
                let ports = flatten(&a.lbports)
                    .iter()
                    .map(|p| lb_port(p))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| CliError::client(format!("error converting port: {e}")))?;
                Ok(LoadBalancer {
                    kind: "LoadBalancer",
                    metadata: LoadBalancerMeta {
                        id: a.id.unwrap_or_default(),
                    },
                    spec: LoadBalancerSpec {
                        vni: a.vni.unwrap_or_default(),
                        vip: a.vip,
                        ports,
                        underlay_route: Some(a.underlay),
                    },
                    status: Status::empty(),
                })
            };
            let done = |o: &LoadBalancer| created_on(o.spec.underlay_route.as_ref());
            create(ctx, &a.extra, &required, build, done).await
        }
        CreateNoun::Lbprefix(a) => {
            let required = [
                ("prefix", a.prefix.is_some()),
                ("interface-id", a.interface_id.is_some()),
            ];
            let build = || {
                Ok(LoadBalancerPrefix {
                    kind: "LoadBalancerPrefix",
                    metadata: LoadBalancerPrefixMeta {
                        interface_id: a.interface_id.unwrap_or_default(),
                    },
                    spec: PrefixSpec {
                        prefix: a.prefix.unwrap_or_else(default_prefix),
                        underlay_route: Some(a.underlay),
                    },
                    status: Status::empty(),
                })
            };
            let done = |o: &LoadBalancerPrefix| created_on(o.spec.underlay_route.as_ref());
            create(ctx, &a.extra, &required, build, done).await
        }
        CreateNoun::Lbtarget(a) => {
            let required = [
                ("target-ip", a.target_ip.is_some()),
                ("lb-id", a.lb_id.is_some()),
            ];
            let build = || {
                Ok(LoadBalancerTarget {
                    kind: "LoadBalancerTarget",
                    metadata: LoadBalancerTargetMeta {
                        loadbalancer_id: a.lb_id.unwrap_or_default(),
                    },
                    spec: LoadBalancerTargetSpec {
                        target_ip: a.target_ip,
                    },
                    status: Status::empty(),
                })
            };
            let done = |_: &LoadBalancerTarget| "created".to_owned();
            create(ctx, &a.extra, &required, build, done).await
        }
        CreateNoun::Nat(a) => {
            let required = [
                ("interface-id", a.interface_id.is_some()),
                ("minport", a.minport.is_some()),
                ("maxport", a.maxport.is_some()),
                ("nat-ip", a.nat_ip.is_some()),
            ];
            let build = || {
                Ok(Nat {
                    kind: "Nat",
                    metadata: NatMeta {
                        interface_id: a.interface_id.unwrap_or_default(),
                    },
                    spec: NatSpec {
                        nat_ip: a.nat_ip,
                        min_port: a.minport.unwrap_or_default(),
                        max_port: a.maxport.unwrap_or_default(),
                        underlay_route: Some(a.underlay),
                        vni: 0,
                        actual_nat_ip: None,
                    },
                    status: Status::empty(),
                })
            };
            let done = |o: &Nat| created_on(o.spec.underlay_route.as_ref());
            create(ctx, &a.extra, &required, build, done).await
        }
        CreateNoun::Neighbornat(a) => {
            let required = [
                ("nat-ip", a.key.nat_ip.is_some()),
                ("vni", a.key.vni.is_some()),
                ("minport", a.key.minport.is_some()),
                ("maxport", a.key.maxport.is_some()),
                ("underlayroute", a.underlayroute.is_some()),
            ];
            let build = || {
                Ok(NeighborNat {
                    kind: "NeighborNat",
                    metadata: NeighborNatMeta {
                        nat_ip: a.key.nat_ip,
                    },
                    spec: NeighborNatSpec {
                        vni: a.key.vni.unwrap_or_default(),
                        min_port: a.key.minport.unwrap_or_default(),
                        max_port: a.key.maxport.unwrap_or_default(),
                        underlay_route: a.underlayroute,
                    },
                    status: Status::empty(),
                })
            };
            let done = |o: &NeighborNat| created_on(o.spec.underlay_route.as_ref());
            create(ctx, &a.extra, &required, build, done).await
        }
        CreateNoun::Firewallrule(a) => firewall_rule(a, ctx).await,
    }
}

/// The steps every `create <noun>` shares: flag checks, connect, build the object, the
/// call, print. Building comes after connecting so that, as upstream, an unreachable
/// daemon is reported before a bad value; build errors carry no `error creating` context.
async fn create<T: Create>(
    ctx: &mut Ctx<'_>,
    extra: &Extra,
    required: &[(&str, bool)],
    build: impl FnOnce() -> Result<T, CliError>,
    done: impl FnOnce(&T) -> String,
) -> Result<(), CliError> {
    extra.check()?;
    require(required)?;
    let mut c = ctx.connect("error creating dpdk client").await?;
    let obj = build()?
        .create(&mut c)
        .await
        .map_err(|e| e.context(T::FAILED))?;
    ctx.print(&obj, &done(&obj))
}

fn default_prefix() -> crate::syntax::Prefix {
    crate::syntax::Prefix {
        addr: Addr::unspecified_v6(),
        len: 0,
    }
}

/// `created, underlay route: <addr>`.
pub fn created_on(underlay: Option<&Addr>) -> String {
    let ul = underlay.map_or_else(|| "invalid IP".to_owned(), ToString::to_string);
    format!("created, underlay route: {ul}")
}

/// `create firewallrule`: conditional flags, value checks, then the client-library
/// checks of action and direction (spec §2.4.1, in that order).
async fn firewall_rule(a: CreateFirewallRule, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    let mut required = vec![
        ("interface-id", a.interface_id.is_some()),
        ("rule-id", a.rule_id.is_some()),
        ("direction", a.direction.is_some()),
        ("action", a.action.is_some()),
        ("src", a.src.is_some()),
        ("dst", a.dst.is_some()),
    ];
    match a.protocol.as_str() {
        "icmp" | "1" => required.extend([
            ("icmp-type", a.icmp_type.is_some()),
            ("icmp-code", a.icmp_code.is_some()),
        ]),
        "tcp" | "6" | "udp" | "17" => {
            required.push(("src-port-min", a.src_port_min.is_some()));
            if a.src_port_min.is_some_and(|p| p != -1) {
                required.push(("src-port-max", a.src_port_max.is_some()));
            }
            required.push(("dst-port-min", a.dst_port_min.is_some()));
            if a.dst_port_min.is_some_and(|p| p != -1) {
                required.push(("dst-port-max", a.dst_port_max.is_some()));
            }
        }
        _ => {}
    }
    let build = || {
        let any = -1;
        let ports = PortFilter {
            src_port_lower: a.src_port_min.unwrap_or(any),
            src_port_upper: a.src_port_max.unwrap_or(any),
            dst_port_lower: a.dst_port_min.unwrap_or(any),
            dst_port_upper: a.dst_port_max.unwrap_or(any),
        };
        let filter = match a.protocol.as_str() {
            "icmp" | "1" => ProtocolFilter::Icmp(IcmpFilter {
                icmp_type: a.icmp_type.unwrap_or(any),
                icmp_code: a.icmp_code.unwrap_or(any),
            }),
            "tcp" | "6" => ProtocolFilter::Tcp(check_ports(ports)?),
            "udp" | "17" => ProtocolFilter::Udp(check_ports(ports)?),
            "" => ProtocolFilter::Any,
            _ => {
                return Err(CliError::client(
                    "protocol can be only: icmp = 1/tcp = 6/udp = 17",
                ))
            }
        };
        if a.priority > 65536 {
            return Err(CliError::client("priority can be only: <0,65536"));
        }
        Ok(FirewallRule {
            kind: "FirewallRule",
            metadata: FirewallRuleMeta {
                interface_id: a.interface_id.unwrap_or_default(),
            },
            spec: FirewallRuleSpec {
                id: a.rule_id.unwrap_or_default(),
                direction: a.direction.unwrap_or_default(),
                action: a.action.unwrap_or_default(),
                priority: a.priority,
                source_prefix: a.src,
                destination_prefix: a.dst,
                protocol_filter: Some(filter),
            },
            status: Status::empty(),
        })
    };
    let done = |_: &FirewallRule| "created".to_owned();
    create(ctx, &a.extra, &required, build, done).await
}

fn check_ports(p: PortFilter) -> Result<PortFilter, CliError> {
    let ok = |v: i32| v == -1 || (1..=65535).contains(&v);
    if ![
        p.src_port_lower,
        p.src_port_upper,
        p.dst_port_lower,
        p.dst_port_upper,
    ]
    .into_iter()
    .all(ok)
    {
        return Err(CliError::client("ports can only be -1 or <1,65535>"));
    }
    if p.src_port_lower > p.src_port_upper || p.dst_port_lower > p.dst_port_upper {
        return Err(CliError::client(
            "min port must be lower or equal to max port",
        ));
    }
    Ok(p)
}

/// `<proto>/<port>` of `--lbports` (spec §3.3).
pub fn lb_port(spec: &str) -> Result<LbPort, String> {
    let mut parts = spec.split('/');
    let protocol = match parts.next().unwrap_or_default().to_lowercase().as_str() {
        "icmp" => 1,
        "tcp" => 6,
        "udp" => 17,
        "icmpv6" => 58,
        "sctp" => 132,
        _ => return Err("unsupported protocol".to_owned()),
    };
    let port = parts
        .next()
        .ok_or_else(|| "missing port number".to_owned())?;
    let port = atoi(port).map_err(|e| format!("error parsing port number: {e}"))?;
    Ok(LbPort {
        protocol,
        port: port as u32,
    })
}
