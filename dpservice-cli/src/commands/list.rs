//! `list` commands (spec §2.3); also what `get` does without an id.

use dpservice::proto;

use super::conn::{reply_status, rpc};
use super::convert::{self, to_ip};
use super::get::{get_nat, get_vip};
use super::{Client, Ctx};
use crate::cli::{ListLbTargets, ListNats, ListNoun, ListPrefixes, ListRoutes, SortOnly};
use crate::error::CliError;
use crate::objects::{sort, *};

/// Runs a `list` leaf.
pub async fn run(noun: ListNoun, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    match noun {
        ListNoun::Firewallrules(a) => {
            a.extra.check()?;
            let mut c = ctx.connect("error creating dpdk client").await?;
            firewall_rules_with(&mut c, &a.interface_id, &a.sort_by, ctx).await
        }
        ListNoun::Interfaces(a) => {
            a.extra.check()?;
            let mut c = ctx.connect("error getting dpdk client").await?;
            interfaces_with(&mut c, &a.sort_by, ctx).await
        }
        ListNoun::Prefixes(a) => prefixes(a, ctx).await,
        ListNoun::Lbprefixes(a) => lb_prefixes(a, ctx).await,
        ListNoun::Routes(a) => routes(a, ctx).await,
        ListNoun::Lbtargets(a) => lb_targets(a, ctx).await,
        ListNoun::Nats(a) => nats(a, ctx).await,
        ListNoun::Loadbalancers(a) => loadbalancers(a, ctx).await,
    }
}

/// `ListInterfaces`, converted (items unsorted, in the daemon's order).
async fn list_interfaces(c: &mut Client) -> Result<(Vec<Interface>, Status), CliError> {
    let err = |e: CliError| e.context("error listing interfaces");
    let r = rpc!(c.list_interfaces(proto::ListInterfacesRequest {})).map_err(err)?;
    let items = r
        .interfaces
        .iter()
        .map(convert::interface)
        .collect::<Result<_, _>>()
        .map_err(err)?;
    Ok((items, reply_status(r.status.as_ref())))
}

/// Ids and VNIs of all interfaces in the daemon's order (for client-side aggregation).
async fn interfaces_vni(c: &mut Client) -> Result<Vec<(String, u32)>, CliError> {
    let (items, _) = list_interfaces(c).await?;
    Ok(items
        .into_iter()
        .map(|i| (i.metadata.id, i.spec.vni))
        .collect())
}

/// Ids of all interfaces in the daemon's order.
pub async fn interface_ids(c: &mut Client) -> Result<Vec<String>, CliError> {
    Ok(interfaces_vni(c)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect())
}

/// `list interfaces` over an open connection.
pub async fn interfaces_with(
    c: &mut Client,
    sort_by: &str,
    ctx: &mut Ctx<'_>,
) -> Result<(), CliError> {
    let (mut items, status) = list_interfaces(c).await?;
    if ctx.wide() {
        // Upstream asks for every NAT first, then for every VIP; errors mean "none".
        for iface in &mut items {
            if let Ok(nat) = get_nat(c, &iface.metadata.id).await {
                iface.spec.nat = Some(Box::new(nat));
            }
        }
        for iface in &mut items {
            if let Ok(vip) = get_vip(c, &iface.metadata.id).await {
                iface.spec.vip = Some(Box::new(vip));
            }
        }
    }
    sort::interfaces(&mut items, sort_by);
    ctx.print(
        &InterfaceList {
            kind: "InterfaceList",
            metadata: NoMeta {},
            status,
            items,
        },
        "",
    )
}

/// `list prefixes`.
pub async fn prefixes(a: ListPrefixes, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    let mut c = ctx.connect("error creating client").await?;
    prefix_list(&mut c, &a, false, ctx).await
}

/// `list lbprefixes`.
pub async fn lb_prefixes(a: ListPrefixes, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    let mut c = ctx.connect("error creating dpdk client").await?;
    prefix_list(&mut c, &a, true, ctx).await
}

async fn list_prefixes_of(
    c: &mut Client,
    id: &str,
    lb: bool,
) -> Result<(Vec<Prefix>, Status), CliError> {
    let interface_id = id.as_bytes().to_vec();
    let (prefixes, status) = if lb {
        let r = rpc!(
            c.list_load_balancer_prefixes(proto::ListLoadBalancerPrefixesRequest { interface_id })
        )?;
        (r.prefixes, r.status)
    } else {
        let r = rpc!(c.list_prefixes(proto::ListPrefixesRequest { interface_id }))?;
        (r.prefixes, r.status)
    };
    let kind = if lb { "LoadBalancerPrefix" } else { "Prefix" };
    let items = prefixes
        .iter()
        .map(|p| convert::prefix_item(kind, id, p))
        .collect::<Result<_, _>>()?;
    Ok((items, reply_status(status.as_ref())))
}

async fn prefix_list(
    c: &mut Client,
    a: &ListPrefixes,
    lb: bool,
    ctx: &mut Ctx<'_>,
) -> Result<(), CliError> {
    let what = if lb {
        "loadbalancer prefixes"
    } else {
        "prefixes"
    };
    let (kind, status, mut items) = if a.interface_id.is_empty() {
        let mut all = Vec::new();
        for (id, vni) in interfaces_vni(c).await? {
            let (mut items, _) = list_prefixes_of(c, &id, lb)
                .await
                .map_err(|e| e.context(format!("error getting {what}")))?;
            items.iter_mut().for_each(|p| p.metadata.vni = vni);
            all.extend(items);
        }
        ("PrefixList", Status::empty(), all)
    } else {
        let (mut items, status) = list_prefixes_of(c, &a.interface_id, lb)
            .await
            .map_err(|e| e.context(format!("error listing {what}")))?;
        let r = rpc!(c.get_interface(proto::GetInterfaceRequest {
            interface_id: a.interface_id.clone().into_bytes()
        }))
        .map_err(|e| e.context("error getting interface"))?;
        let vni = r.interface.map_or(0, |i| i.vni);
        items.iter_mut().for_each(|p| p.metadata.vni = vni);
        (
            if lb {
                "LoadBalancerPrefixList"
            } else {
                "PrefixList"
            },
            status,
            items,
        )
    };
    sort::prefixes(&mut items, &a.sort_by);
    let metadata = InterfaceListMeta {
        interface_id: a.interface_id.clone(),
    };
    ctx.print(
        &PrefixList {
            kind,
            metadata,
            status,
            items,
        },
        "",
    )
}

/// `list routes`.
pub async fn routes(a: ListRoutes, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    let mut c = ctx.connect("error creating dpdk client").await?;
    let err = |e: CliError| e.context("error listing routes");
    let r = rpc!(c.list_routes(proto::ListRoutesRequest { vni: a.vni })).map_err(err)?;
    let mut items: Vec<Route> = r
        .routes
        .iter()
        .map(|rt| convert::route(a.vni, rt))
        .collect::<Result<_, _>>()
        .map_err(err)?;
    sort::routes(&mut items, &a.sort_by);
    let list = RouteList {
        kind: "RouteList",
        metadata: VniListMeta { vni: a.vni },
        status: reply_status(r.status.as_ref()),
        items,
    };
    ctx.print(&list, "")
}

/// `list lbtargets`.
pub async fn lb_targets(a: ListLbTargets, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    let mut c = ctx.connect("error creating dpdk client").await?;
    let err = |e: CliError| e.context("error listing loadbalancer targets");
    let r = rpc!(
        c.list_load_balancer_targets(proto::ListLoadBalancerTargetsRequest {
            loadbalancer_id: a.lb_id.clone().into_bytes()
        })
    )
    .map_err(err)?;
    let mut items = Vec::new();
    for t in &r.target_ips {
        let target_ip = convert::ip(Some(t), "IP address").map_err(err)?;
        items.push(LoadBalancerTarget {
            kind: "LoadBalancerTarget",
            metadata: LoadBalancerTargetMeta {
                loadbalancer_id: a.lb_id.clone(),
            },
            spec: LoadBalancerTargetSpec { target_ip },
            status: Status::empty(),
        });
    }
    sort::lb_targets(&mut items, &a.sort_by);
    let metadata = LbListMeta {
        loadbalancer_id: a.lb_id,
    };
    let list = LoadBalancerTargetList {
        kind: "LoadBalancerTargetList",
        metadata,
        status: reply_status(r.status.as_ref()),
        items,
    };
    ctx.print(&list, "")
}

async fn loadbalancers(a: SortOnly, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    let mut c = ctx.connect("error getting dpdk client").await?;
    loadbalancers_with(&mut c, &a.sort_by, ctx).await
}

/// `list loadbalancers` over an open connection.
pub async fn loadbalancers_with(
    c: &mut Client,
    sort_by: &str,
    ctx: &mut Ctx<'_>,
) -> Result<(), CliError> {
    let err = |e: CliError| e.context("error listing loadbalancers");
    let r = rpc!(c.list_load_balancers(proto::ListLoadBalancersRequest {})).map_err(err)?;
    let mut items: Vec<LoadBalancer> = r
        .loadbalancers
        .iter()
        .map(convert::loadbalancer)
        .collect::<Result<_, _>>()
        .map_err(err)?;
    sort::loadbalancers(&mut items, sort_by);
    let list = LoadBalancerList {
        kind: "LoadBalancerList",
        metadata: NoMeta {},
        status: reply_status(r.status.as_ref()),
        items,
    };
    ctx.print(&list, "")
}

/// `list firewallrules` over an open connection.
pub async fn firewall_rules_with(
    c: &mut Client,
    interface_id: &str,
    sort_by: &str,
    ctx: &mut Ctx<'_>,
) -> Result<(), CliError> {
    async fn of(c: &mut Client, id: &str) -> Result<(Vec<FirewallRule>, Status), CliError> {
        let r = rpc!(c.list_firewall_rules(proto::ListFirewallRulesRequest {
            interface_id: id.as_bytes().to_vec()
        }))?;
        let items = r
            .rules
            .iter()
            .map(|rule| convert::firewall_rule(id, rule))
            .collect::<Result<_, _>>()?;
        Ok((items, reply_status(r.status.as_ref())))
    }
    let (status, mut items) = if interface_id.is_empty() {
        let mut all = Vec::new();
        for id in interface_ids(c).await? {
            let (items, _) = of(c, &id)
                .await
                .map_err(|e| e.context("error getting firewall rules"))?;
            all.extend(items);
        }
        (Status::empty(), all)
    } else {
        let (items, status) = of(c, interface_id)
            .await
            .map_err(|e| e.context("error listing firewall rules"))?;
        (status, items)
    };
    sort::firewall_rules(&mut items, sort_by);
    let metadata = InterfaceListMeta {
        interface_id: interface_id.to_owned(),
    };
    ctx.print(
        &FirewallRuleList {
            kind: "FirewallRuleList",
            metadata,
            status,
            items,
        },
        "",
    )
}

async fn nats(a: ListNats, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    let mut c = ctx.connect("error creating dpdk client").await?;
    let err = |e: CliError| e.context("error listing nats");
    let nat_type = match a.nat_type.to_lowercase().as_str() {
        "local" | "1" => 1,
        "neigh" | "neighbor" | "2" => 2,
        "any" | "0" | "" => 0,
        _ => {
            return Err(err(CliError::client(
                "nat type can be only: Any = 0/Local = 1/Neigh(bor) = 2",
            )))
        }
    };
    let nat_ip = Some(to_ip(&a.nat_ip));
    let (entries, status) = match nat_type {
        1 => {
            let r = rpc!(c.list_local_nats(proto::ListLocalNatsRequest { nat_ip })).map_err(err)?;
            (r.nat_entries, reply_status(r.status.as_ref()))
        }
        2 => {
            let r = rpc!(c.list_neighbor_nats(proto::ListNeighborNatsRequest { nat_ip }))
                .map_err(err)?;
            (r.nat_entries, reply_status(r.status.as_ref()))
        }
        _ => {
            // Both kinds; their service statuses are ignored, as upstream does.
            let grpc = |s: tonic::Status| err(CliError::grpc(&s));
            let local = c
                .list_local_nats(proto::ListLocalNatsRequest {
                    nat_ip: nat_ip.clone(),
                })
                .await
                .map_err(grpc)?;
            let neigh = c
                .list_neighbor_nats(proto::ListNeighborNatsRequest { nat_ip })
                .await
                .map_err(grpc)?;
            let mut entries = local.into_inner().nat_entries;
            entries.extend(neigh.into_inner().nat_entries);
            (entries, Status::empty())
        }
    };
    let mut items: Vec<Nat> = entries
        .iter()
        .map(convert::nat_entry)
        .collect::<Result<_, _>>()
        .map_err(err)?;
    sort::nats(&mut items, &a.sort_by);
    let metadata = NatListMeta {
        nat_ip: Some(a.nat_ip),
        nat_type: a.nat_type,
    };
    ctx.print(
        &NatList {
            kind: "NatList",
            metadata,
            status,
            items,
        },
        "",
    )
}
