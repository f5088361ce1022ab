//! `get` commands (spec §2.2).

use dpservice::proto;
use dpservice::version::{PROTOCOL_VERSION, VERSION};

use super::conn::{reply_status, rpc};
use super::convert::{self, ip};
use super::{list, Client, Ctx};
use crate::cli::{
    require, GetByInterface, GetFirewallRule, GetInterface, GetLoadBalancer, GetNoun, GetVni,
    NoFlags,
};
use crate::error::CliError;
use crate::objects::*;

/// Runs a `get` leaf.
pub async fn run(noun: GetNoun, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    match noun {
        GetNoun::Interface(a) => interface(a, ctx).await,
        GetNoun::Virtualip(a) => virtual_ip(a, ctx).await,
        GetNoun::Loadbalancer(a) => loadbalancer(a, ctx).await,
        GetNoun::Nat(a) => nat(a, ctx).await,
        GetNoun::Firewallrule(a) => firewall_rule(a, ctx).await,
        GetNoun::Vni(a) => vni(a, ctx).await,
        GetNoun::Version(a) => version(a, ctx).await,
        GetNoun::Init(a) => init(a, ctx).await,
        GetNoun::Lbprefix(a) => list::lb_prefixes(a, ctx).await,
        GetNoun::Lbtarget(a) => list::lb_targets(a, ctx).await,
        GetNoun::Prefix(a) => list::prefixes(a, ctx).await,
        GetNoun::Route(a) => list::routes(a, ctx).await,
    }
}

async fn interface(a: GetInterface, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    let mut c = ctx.connect("error creating dpdk client").await?;
    if a.id.is_empty() {
        return list::interfaces_with(&mut c, "", ctx).await;
    }
    let err = |e: CliError| e.context("error getting interface");
    let reply = rpc!(c.get_interface(proto::GetInterfaceRequest {
        interface_id: a.id.clone().into_bytes()
    }))
    .map_err(err)?;
    let mut iface = convert::interface(&reply.interface.unwrap_or_default()).map_err(err)?;
    if ctx.wide() {
        add_wide(&mut c, &mut iface).await;
    }
    ctx.print(&iface, "")
}

/// `-w`: the interface's NAT and VIP, where it has them (errors ignored).
async fn add_wide(c: &mut Client, iface: &mut Interface) {
    if let Ok(nat) = get_nat(c, &iface.metadata.id).await {
        iface.spec.nat = Some(Box::new(nat));
    }
    if let Ok(vip) = get_vip(c, &iface.metadata.id).await {
        iface.spec.vip = Some(Box::new(vip));
    }
}

/// `GetNat` as a printed `Nat` (VNI always 0).
pub async fn get_nat(c: &mut Client, id: &str) -> Result<Nat, CliError> {
    let r = rpc!(c.get_nat(proto::GetNatRequest {
        interface_id: id.as_bytes().to_vec()
    }))?;
    Ok(Nat {
        kind: "Nat",
        metadata: NatMeta {
            interface_id: id.to_owned(),
        },
        spec: NatSpec {
            nat_ip: ip(r.nat_ip.as_ref(), "nat ip")?,
            min_port: r.min_port,
            max_port: r.max_port,
            underlay_route: convert::addr(&r.underlay_route, "underlay ip")?,
            vni: 0,
            actual_nat_ip: None,
        },
        status: reply_status(r.status.as_ref()),
    })
}

/// `GetVip` as a printed `VirtualIP`.
pub async fn get_vip(c: &mut Client, id: &str) -> Result<VirtualIp, CliError> {
    let r = rpc!(c.get_vip(proto::GetVipRequest {
        interface_id: id.as_bytes().to_vec()
    }))?;
    Ok(VirtualIp {
        kind: "VirtualIP",
        metadata: VirtualIpMeta {
            interface_id: id.to_owned(),
        },
        spec: VirtualIpSpec {
            vip_ip: ip(r.vip_ip.as_ref(), "virtual ip address")?,
            underlay_route: convert::addr(&r.underlay_route, "underlay route")?,
        },
        status: reply_status(r.status.as_ref()),
    })
}

async fn virtual_ip(a: GetByInterface, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    let mut c = ctx.connect("error creating dpdk client").await?;
    let err = |e: CliError| e.context("error getting virtual ip");
    if !a.interface_id.is_empty() {
        let vip = get_vip(&mut c, &a.interface_id).await.map_err(err)?;
        return ctx.print(&vip, "");
    }
    let ids = list::interface_ids(&mut c).await?;
    if ids.is_empty() {
        return Err(err(CliError::service(205, "NO_VM")));
    }
    let mut vips = Vec::new();
    for id in ids {
        match get_vip(&mut c, &id).await {
            Ok(vip) => vips.push(vip),
            Err(e) if e.is_service(341) => {}
            Err(e) => return Err(err(e)),
        }
    }
    for vip in &vips {
        ctx.print(vip, "")?;
    }
    Ok(())
}

async fn loadbalancer(a: GetLoadBalancer, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    let mut c = ctx.connect("error creating dpdk client").await?;
    if a.id.is_empty() {
        return list::loadbalancers_with(&mut c, "", ctx).await;
    }
    let err = |e: CliError| e.context("error getting loadbalancer");
    let r = rpc!(c.get_load_balancer(proto::GetLoadBalancerRequest {
        loadbalancer_id: a.id.clone().into_bytes()
    }))
    .map_err(err)?;
    let lb = LoadBalancer {
        kind: "LoadBalancer",
        metadata: LoadBalancerMeta { id: a.id },
        spec: LoadBalancerSpec {
            vni: r.vni,
            vip: ip(r.loadbalanced_ip.as_ref(), "lb ip").map_err(err)?,
            ports: convert::lb_ports(&r.loadbalanced_ports),
            underlay_route: convert::addr(&r.underlay_route, "underlay ip").map_err(err)?,
        },
        status: reply_status(r.status.as_ref()),
    };
    ctx.print(&lb, "")
}

async fn nat(a: GetByInterface, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    let mut c = ctx.connect("error creating dpdk client").await?;
    let err = |e: CliError| e.context("error getting nat");
    if !a.interface_id.is_empty() {
        let nat = get_nat(&mut c, &a.interface_id).await.map_err(err)?;
        return ctx.print(&nat, "");
    }
    let mut items = Vec::new();
    for id in list::interface_ids(&mut c).await? {
        match get_nat(&mut c, &id).await {
            Ok(nat) => items.push(nat),
            // Interfaces without a NAT are skipped (upstream failed here; spec §10.7).
            Err(e) if e.is_service(341) => {}
            Err(e) => return Err(err(e)),
        }
    }
    let list = NatList {
        kind: "NatList",
        metadata: NatListMeta::default(),
        status: Status::empty(),
        items,
    };
    ctx.print(&list, "")
}

async fn firewall_rule(a: GetFirewallRule, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    if !a.rule_id.is_empty() {
        require(&[("interface-id", a.interface_id.is_some())])?;
    }
    let interface_id = a.interface_id.unwrap_or_default();
    let mut c = ctx.connect("error creating dpdk client").await?;
    if a.rule_id.is_empty() {
        return list::firewall_rules_with(&mut c, &interface_id, "", ctx).await;
    }
    let err = |e: CliError| e.context("error getting firewall rule");
    let r = rpc!(c.get_firewall_rule(proto::GetFirewallRuleRequest {
        interface_id: interface_id.clone().into_bytes(),
        rule_id: a.rule_id.into_bytes(),
    }))
    .map_err(err)?;
    let rule = convert::firewall_rule(&interface_id, &r.rule.unwrap_or_default()).map_err(err)?;
    ctx.print(&rule, "")
}

async fn vni(a: GetVni, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    require(&[("vni", a.vni.is_some()), ("vni-type", a.vni_type.is_some())])?;
    let (vni, vni_type) = (a.vni.unwrap_or_default(), a.vni_type.unwrap_or_default());
    let mut c = ctx.connect("error creating dpdk client").await?;
    let r = rpc!(c.check_vni_in_use(proto::CheckVniInUseRequest {
        vni,
        r#type: i32::from(vni_type)
    }))
    .map_err(|e| e.context("error getting vni"))?;
    let obj = Vni {
        kind: "Vni",
        metadata: VniMeta { vni, vni_type },
        spec: VniSpec { in_use: r.in_use },
        status: reply_status(r.status.as_ref()),
    };
    ctx.print(&obj, "")
}

async fn version(a: NoFlags, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    let mut c = ctx.connect("error creating dpdk client").await?;
    let meta = VersionMeta {
        client_protocol: PROTOCOL_VERSION.trim().to_owned(),
        client_name: "dpservice-cli".to_owned(),
        client_version: VERSION.to_owned(),
    };
    let r = rpc!(c.get_version(proto::GetVersionRequest {
        client_protocol: meta.client_protocol.clone(),
        client_name: meta.client_name.clone(),
        client_version: meta.client_version.clone(),
    }))
    .map_err(|e| e.context("error getting version"))?;
    let obj = Version {
        kind: "Version",
        metadata: meta,
        spec: VersionSpec {
            service_protocol: r.service_protocol,
            service_version: r.service_version,
        },
        status: reply_status(r.status.as_ref()),
    };
    ctx.print(&obj, "")
}

async fn init(a: NoFlags, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    a.extra.check()?;
    let mut c = ctx.connect("error creating dpdk client").await?;
    let r = rpc!(c.check_initialized(proto::CheckInitializedRequest {}))
        .map_err(|e| e.context("error checking initialization status"))?;
    let obj = Initialized {
        kind: "Initialized",
        metadata: NoMeta {},
        spec: InitializedSpec { uuid: r.uuid },
        status: reply_status(r.status.as_ref()),
    };
    ctx.print(&obj, "")
}
