//! `delete` commands (spec §2.5): the printed object holds what the command knew.

use dpservice::proto;

use super::conn::{reply_status, rpc};
use super::convert::{to_ip, to_prefix};
use super::{Client, Ctx};
use crate::cli::{require, DeleteNoun};
use crate::error::CliError;
use crate::objects::*;
use crate::syntax::{Addr, Prefix as IpPrefix};

/// One thing to delete, with everything its delete call needs.
#[derive(Debug, Clone)]
pub enum Key {
    /// An interface.
    Interface(String),
    /// A prefix of an interface.
    Prefix(String, IpPrefix),
    /// A route of a VNI.
    Route(u32, IpPrefix),
    /// The VIP of an interface.
    VirtualIp(String),
    /// A load balancer.
    LoadBalancer(String),
    /// A load-balancer prefix of an interface.
    LbPrefix(String, IpPrefix),
    /// A target of a load balancer.
    LbTarget(String, Addr),
    /// The NAT of an interface.
    Nat(String),
    /// A neighbour NAT: address, VNI, port range.
    NeighborNat(Addr, u32, u32, u32),
    /// A firewall rule: interface, rule id.
    FirewallRule(String, String),
}

/// Runs a `delete` leaf.
pub async fn run(noun: DeleteNoun, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    let target = match noun {
        DeleteNoun::Interface(a) => {
            a.extra.check()?;
            require(&[("id", a.id.is_some())])?;
            Key::Interface(a.id.unwrap_or_default())
        }
        DeleteNoun::Prefix(a) => {
            a.extra.check()?;
            require(&[
                ("prefix", a.prefix.is_some()),
                ("interface-id", a.interface_id.is_some()),
            ])?;
            Key::Prefix(
                a.interface_id.unwrap_or_default(),
                a.prefix.unwrap_or_else(any_prefix),
            )
        }
        DeleteNoun::Lbprefix(a) => {
            a.extra.check()?;
            require(&[
                ("prefix", a.prefix.is_some()),
                ("interface-id", a.interface_id.is_some()),
            ])?;
            Key::LbPrefix(
                a.interface_id.unwrap_or_default(),
                a.prefix.unwrap_or_else(any_prefix),
            )
        }
        DeleteNoun::Route(a) => {
            a.extra.check()?;
            require(&[("prefix", a.prefix.is_some()), ("vni", a.vni.is_some())])?;
            Key::Route(
                a.vni.unwrap_or_default(),
                a.prefix.unwrap_or_else(any_prefix),
            )
        }
        DeleteNoun::Virtualip(a) => {
            a.extra.check()?;
            require(&[("interface-id", a.interface_id.is_some())])?;
            Key::VirtualIp(a.interface_id.unwrap_or_default())
        }
        DeleteNoun::Loadbalancer(a) => {
            a.extra.check()?;
            require(&[("id", a.id.is_some())])?;
            Key::LoadBalancer(a.id.unwrap_or_default())
        }
        DeleteNoun::Lbtarget(a) => {
            a.extra.check()?;
            require(&[
                ("target-ip", a.target_ip.is_some()),
                ("lb-id", a.lb_id.is_some()),
            ])?;
            Key::LbTarget(
                a.lb_id.unwrap_or_default(),
                a.target_ip.unwrap_or_else(Addr::unspecified_v6),
            )
        }
        DeleteNoun::Nat(a) => {
            a.extra.check()?;
            require(&[("interface-id", a.interface_id.is_some())])?;
            Key::Nat(a.interface_id.unwrap_or_default())
        }
        DeleteNoun::Neighbornat(a) => {
            a.extra.check()?;
            require(&[
                ("nat-ip", a.key.nat_ip.is_some()),
                ("vni", a.key.vni.is_some()),
                ("minport", a.key.minport.is_some()),
                ("maxport", a.key.maxport.is_some()),
            ])?;
            Key::NeighborNat(
                a.key.nat_ip.unwrap_or_else(Addr::unspecified_v6),
                a.key.vni.unwrap_or_default(),
                a.key.minport.unwrap_or_default(),
                a.key.maxport.unwrap_or_default(),
            )
        }
        DeleteNoun::Firewallrule(a) => {
            a.extra.check()?;
            require(&[
                ("rule-id", a.rule_id.is_some()),
                ("interface-id", a.interface_id.is_some()),
            ])?;
            Key::FirewallRule(
                a.interface_id.unwrap_or_default(),
                a.rule_id.unwrap_or_default(),
            )
        }
    };
    let mut c = ctx.connect("error creating dpdk client").await?;
    let status = delete(&mut c, &target)
        .await
        .map_err(|e| e.context(context(&target)))?;
    print_deleted(&target, status, ctx)
}

fn any_prefix() -> IpPrefix {
    IpPrefix {
        addr: Addr::unspecified_v6(),
        len: 0,
    }
}

/// The error prefix of each delete (upstream's, including its lbtarget slip).
pub fn context(t: &Key) -> &'static str {
    match t {
        Key::Interface(_) => "error deleting interface",
        Key::Prefix(..) => "error deleting prefix",
        Key::Route(..) => "error deleting route",
        Key::VirtualIp(_) => "error deleting virtual ip",
        Key::LoadBalancer(_) => "error deleting loadbalancer",
        Key::LbPrefix(..) => "error deleting loadbalancer prefix",
        Key::LbTarget(..) | Key::NeighborNat(..) => "error deleting neighbor nat",
        Key::Nat(_) => "error deleting nat",
        Key::FirewallRule(..) => "error deleting firewall rule",
    }
}

/// Sends the delete call; the reply's status on success.
pub async fn delete(c: &mut Client, t: &Key) -> Result<Status, CliError> {
    let id = |s: &String| s.clone().into_bytes();
    let status = match t {
        Key::Interface(i) => {
            rpc!(c.delete_interface(proto::DeleteInterfaceRequest {
                interface_id: id(i)
            }))?
            .status
        }
        Key::Prefix(i, p) => {
            rpc!(c.delete_prefix(proto::DeletePrefixRequest {
                interface_id: id(i),
                prefix: Some(to_prefix(p))
            }))?
            .status
        }
        Key::Route(vni, p) => {
            let route = proto::Route {
                prefix: Some(to_prefix(p)),
                weight: 100,
                ..Default::default()
            };
            rpc!(c.delete_route(proto::DeleteRouteRequest {
                vni: *vni,
                route: Some(route)
            }))?
            .status
        }
        Key::VirtualIp(i) => {
            rpc!(c.delete_vip(proto::DeleteVipRequest {
                interface_id: id(i)
            }))?
            .status
        }
        Key::LoadBalancer(l) => {
            rpc!(c.delete_load_balancer(proto::DeleteLoadBalancerRequest {
                loadbalancer_id: id(l)
            }))?
            .status
        }
        Key::LbPrefix(i, p) => {
            rpc!(
                c.delete_load_balancer_prefix(proto::DeleteLoadBalancerPrefixRequest {
                    interface_id: id(i),
                    prefix: Some(to_prefix(p)),
                })
            )?
            .status
        }
        Key::LbTarget(l, a) => {
            rpc!(
                c.delete_load_balancer_target(proto::DeleteLoadBalancerTargetRequest {
                    loadbalancer_id: id(l),
                    target_ip: Some(to_ip(a)),
                })
            )?
            .status
        }
        Key::Nat(i) => {
            rpc!(c.delete_nat(proto::DeleteNatRequest {
                interface_id: id(i)
            }))?
            .status
        }
        Key::NeighborNat(a, vni, min, max) => {
            rpc!(c.delete_neighbor_nat(proto::DeleteNeighborNatRequest {
                nat_ip: Some(to_ip(a)),
                vni: *vni,
                min_port: *min,
                max_port: *max,
            }))?
            .status
        }
        Key::FirewallRule(i, r) => {
            rpc!(c.delete_firewall_rule(proto::DeleteFirewallRuleRequest {
                interface_id: id(i),
                rule_id: id(r),
            }))?
            .status
        }
    };
    Ok(reply_status(status.as_ref()))
}

/// Prints what `delete <noun>` deleted (spec §2.5 shapes).
fn print_deleted(t: &Key, status: Status, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    const OP: &str = "deleted";
    match t.clone() {
        Key::Interface(id) => ctx.print(
            &Interface {
                kind: "Interface",
                metadata: InterfaceMeta { id },
                spec: InterfaceSpec::default(),
                status,
            },
            OP,
        ),
        Key::Prefix(interface_id, prefix) => ctx.print(
            &Prefix {
                kind: "Prefix",
                metadata: PrefixMeta {
                    interface_id,
                    vni: 0,
                },
                spec: PrefixSpec {
                    prefix,
                    underlay_route: None,
                },
                status,
            },
            OP,
        ),
        Key::Route(vni, prefix) => ctx.print(
            &Route {
                kind: "Route",
                metadata: RouteMeta { vni },
                spec: RouteSpec {
                    prefix: Some(prefix),
                    next_hop: Some(NextHop::default()),
                },
                status,
            },
            OP,
        ),
        Key::VirtualIp(interface_id) => ctx.print(
            &VirtualIp {
                kind: "VirtualIP",
                metadata: VirtualIpMeta { interface_id },
                spec: VirtualIpSpec::default(),
                status,
            },
            OP,
        ),
        Key::LoadBalancer(id) => ctx.print(
            &LoadBalancer {
                kind: "LoadBalancer",
                metadata: LoadBalancerMeta { id },
                spec: LoadBalancerSpec::default(),
                status,
            },
            OP,
        ),
        Key::LbPrefix(interface_id, prefix) => ctx.print(
            &LoadBalancerPrefix {
                kind: "LoadBalancerPrefix",
                metadata: LoadBalancerPrefixMeta { interface_id },
                spec: PrefixSpec {
                    prefix,
                    underlay_route: None,
                },
                status,
            },
            OP,
        ),
        Key::LbTarget(loadbalancer_id, _) => ctx.print(
            &LoadBalancerTarget {
                kind: "LoadBalancerTarget",
                metadata: LoadBalancerTargetMeta { loadbalancer_id },
                spec: LoadBalancerTargetSpec::default(),
                status,
            },
            OP,
        ),
        Key::Nat(interface_id) => ctx.print(
            &Nat {
                kind: "Nat",
                metadata: NatMeta { interface_id },
                spec: NatSpec::default(),
                status,
            },
            OP,
        ),
        Key::NeighborNat(nat_ip, ..) => ctx.print(
            &NeighborNat {
                kind: "NeighborNat",
                metadata: NeighborNatMeta {
                    nat_ip: Some(nat_ip),
                },
                spec: NeighborNatSpec::default(),
                status,
            },
            OP,
        ),
        Key::FirewallRule(interface_id, id) => ctx.print(
            &FirewallRule {
                kind: "FirewallRule",
                metadata: FirewallRuleMeta { interface_id },
                spec: FirewallRuleSpec {
                    id,
                    ..FirewallRuleSpec::default()
                },
                status,
            },
            OP,
        ),
    }
}
