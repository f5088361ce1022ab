//! The create calls: a printed object in, the same object with what the daemon returned
//! (underlay, VF, status) out. Shared by `create <noun>` and `create -f`.

use dpservice::proto;

use super::conn::{reply_status, rpc};
use super::convert::{self, to_ip, to_prefix};
use crate::error::CliError;
use crate::objects::*;
use crate::syntax::Addr;

fn bytes_of(a: Option<&Addr>) -> Vec<u8> {
    a.map(|a| a.to_string().into_bytes()).unwrap_or_default()
}

fn returned_underlay(b: &[u8]) -> Result<Option<Addr>, CliError> {
    match convert::addr(b, "underlay route")? {
        Some(a) => Ok(Some(a)),
        None => Err(CliError::client(
            "error parsing underlay route: ParseAddr(\"\"): unable to parse IP",
        )),
    }
}

/// `CreateInterface`; the object gets the underlay and VF the daemon returned.
pub async fn interface(c: &mut super::Client, mut obj: Interface) -> Result<Interface, CliError> {
    let s = &obj.spec;
    let pxe = s
        .pxe
        .as_ref()
        .filter(|p| !p.next_server.is_empty() && !p.boot_filename.is_empty());
    let metering = s.metering.clone().unwrap_or_default();
    let r = rpc!(c.create_interface(proto::CreateInterfaceRequest {
        interface_type: proto::InterfaceType::Virtual as i32,
        interface_id: obj.metadata.id.clone().into_bytes(),
        vni: s.vni,
        ipv4_config: s.ipv4.as_ref().map(|a| proto::IpConfig {
            primary_address: a.to_string().into_bytes()
        }),
        ipv6_config: s.ipv6.as_ref().map(|a| proto::IpConfig {
            primary_address: a.to_string().into_bytes()
        }),
        pxe_config: pxe.map(|p| proto::PxeConfig {
            next_server: p.next_server.clone(),
            boot_filename: p.boot_filename.clone()
        }),
        device_name: s.device.clone(),
        metering_parameters: Some(proto::MeteringParams {
            total_rate: metering.total_rate,
            public_rate: metering.public_rate
        }),
        preferred_underlay_route: bytes_of(s.underlay_route.as_ref()),
        hostname: s.hostname.clone(),
    }))?;
    obj.spec.underlay_route = returned_underlay(&r.underlay_route)?;
    obj.spec.virtual_function = Some(VirtualFunction {
        name: r.vf.map(|v| v.name).unwrap_or_default(),
    });
    obj.status = reply_status(r.status.as_ref());
    Ok(obj)
}

/// `CreatePrefix`.
pub async fn prefix(c: &mut super::Client, mut obj: Prefix) -> Result<Prefix, CliError> {
    let r = rpc!(c.create_prefix(proto::CreatePrefixRequest {
        interface_id: obj.metadata.interface_id.clone().into_bytes(),
        prefix: Some(to_prefix(&obj.spec.prefix)),
        preferred_underlay_route: bytes_of(obj.spec.underlay_route.as_ref()),
    }))?;
    obj.spec.underlay_route = returned_underlay(&r.underlay_route)?;
    obj.status = reply_status(r.status.as_ref());
    Ok(obj)
}

/// `CreateRoute` (weight 100).
pub async fn route(c: &mut super::Client, mut obj: Route) -> Result<Route, CliError> {
    let Some(p) = obj.spec.prefix.as_ref() else {
        return Err(CliError::client("prefix needs to be specified"));
    };
    let Some(hop) = obj.spec.next_hop.as_ref() else {
        return Err(CliError::client("nextHop needs to be specified"));
    };
    let r = rpc!(c.create_route(proto::CreateRouteRequest {
        vni: obj.metadata.vni,
        route: Some(proto::Route {
            prefix: Some(to_prefix(p)),
            nexthop_vni: hop.vni,
            nexthop_address: hop.address.as_ref().map(to_ip),
            weight: 100,
        }),
    }))?;
    obj.status = reply_status(r.status.as_ref());
    Ok(obj)
}

/// `CreateVip`.
pub async fn virtual_ip(c: &mut super::Client, mut obj: VirtualIp) -> Result<VirtualIp, CliError> {
    let r = rpc!(c.create_vip(proto::CreateVipRequest {
        interface_id: obj.metadata.interface_id.clone().into_bytes(),
        vip_ip: obj.spec.vip_ip.as_ref().map(to_ip),
        preferred_underlay_route: bytes_of(obj.spec.underlay_route.as_ref()),
    }))?;
    obj.spec.underlay_route = returned_underlay(&r.underlay_route)?;
    obj.status = reply_status(r.status.as_ref());
    Ok(obj)
}

/// `CreateLoadBalancer` (ports in the given order).
pub async fn loadbalancer(
    c: &mut super::Client,
    mut obj: LoadBalancer,
) -> Result<LoadBalancer, CliError> {
    let r = rpc!(c.create_load_balancer(proto::CreateLoadBalancerRequest {
        loadbalancer_id: obj.metadata.id.clone().into_bytes(),
        loadbalanced_ip: obj.spec.vip.as_ref().map(to_ip),
        vni: obj.spec.vni,
        loadbalanced_ports: obj
            .spec
            .ports
            .iter()
            .map(|p| proto::LbPort {
                port: p.port,
                protocol: p.protocol as i32
            })
            .collect(),
        preferred_underlay_route: bytes_of(obj.spec.underlay_route.as_ref()),
    }))?;
    obj.spec.underlay_route = returned_underlay(&r.underlay_route)?;
    obj.status = reply_status(r.status.as_ref());
    Ok(obj)
}

/// `CreateLoadBalancerPrefix`.
pub async fn lb_prefix(
    c: &mut super::Client,
    mut obj: LoadBalancerPrefix,
) -> Result<LoadBalancerPrefix, CliError> {
    let r = rpc!(
        c.create_load_balancer_prefix(proto::CreateLoadBalancerPrefixRequest {
            interface_id: obj.metadata.interface_id.clone().into_bytes(),
            prefix: Some(to_prefix(&obj.spec.prefix)),
            preferred_underlay_route: bytes_of(obj.spec.underlay_route.as_ref()),
        })
    )?;
    obj.spec.underlay_route = returned_underlay(&r.underlay_route)?;
    obj.status = reply_status(r.status.as_ref());
    Ok(obj)
}

/// `CreateLoadBalancerTarget`.
pub async fn lb_target(
    c: &mut super::Client,
    mut obj: LoadBalancerTarget,
) -> Result<LoadBalancerTarget, CliError> {
    let r = rpc!(
        c.create_load_balancer_target(proto::CreateLoadBalancerTargetRequest {
            loadbalancer_id: obj.metadata.loadbalancer_id.clone().into_bytes(),
            target_ip: obj.spec.target_ip.as_ref().map(to_ip),
        })
    )?;
    obj.status = reply_status(r.status.as_ref());
    Ok(obj)
}

/// `CreateNat`.
pub async fn nat(c: &mut super::Client, mut obj: Nat) -> Result<Nat, CliError> {
    let r = rpc!(c.create_nat(proto::CreateNatRequest {
        interface_id: obj.metadata.interface_id.clone().into_bytes(),
        nat_ip: obj.spec.nat_ip.as_ref().map(to_ip),
        min_port: obj.spec.min_port,
        max_port: obj.spec.max_port,
        preferred_underlay_route: bytes_of(obj.spec.underlay_route.as_ref()),
    }))?;
    obj.spec.underlay_route = returned_underlay(&r.underlay_route)?;
    obj.status = reply_status(r.status.as_ref());
    Ok(obj)
}

/// `CreateNeighborNat` (the underlay is required).
pub async fn neighbor_nat(
    c: &mut super::Client,
    mut obj: NeighborNat,
) -> Result<NeighborNat, CliError> {
    let Some(underlay) = obj.spec.underlay_route.as_ref() else {
        return Err(CliError::client("underlayRoute needs to be specified"));
    };
    let r = rpc!(c.create_neighbor_nat(proto::CreateNeighborNatRequest {
        nat_ip: obj.metadata.nat_ip.as_ref().map(to_ip),
        vni: obj.spec.vni,
        min_port: obj.spec.min_port,
        max_port: obj.spec.max_port,
        underlay_route: underlay.to_string().into_bytes(),
    }))?;
    obj.status = reply_status(r.status.as_ref());
    Ok(obj)
}

/// `CreateFirewallRule`, after normalising the action and direction words.
pub async fn firewall_rule(
    c: &mut super::Client,
    mut obj: FirewallRule,
) -> Result<FirewallRule, CliError> {
    let action = match obj.spec.action.to_lowercase().as_str() {
        "accept" | "allow" | "1" => ("Accept", proto::FirewallAction::Accept),
        "drop" | "deny" | "0" => ("Drop", proto::FirewallAction::Drop),
        _ => {
            return Err(CliError::client(
                "firewall action can be only: drop/deny/0|accept/allow/1",
            ))
        }
    };
    let direction = match obj.spec.direction.to_lowercase().as_str() {
        "ingress" | "0" => ("Ingress", proto::TrafficDirection::Ingress),
        "egress" | "1" => ("Egress", proto::TrafficDirection::Egress),
        _ => {
            return Err(CliError::client(
                "traffic direction can be only: Ingress = 0/Egress = 1",
            ))
        }
    };
    let Some(src) = obj.spec.source_prefix.as_ref() else {
        return Err(CliError::client("source prefix needs to be specified"));
    };
    let Some(dst) = obj.spec.destination_prefix.as_ref() else {
        return Err(CliError::client("destination prefix needs to be specified"));
    };
    let r = rpc!(c.create_firewall_rule(proto::CreateFirewallRuleRequest {
        interface_id: obj.metadata.interface_id.clone().into_bytes(),
        rule: Some(proto::FirewallRule {
            id: obj.spec.id.clone().into_bytes(),
            direction: direction.1 as i32,
            action: action.1 as i32,
            priority: obj.spec.priority,
            source_prefix: Some(to_prefix(src)),
            destination_prefix: Some(to_prefix(dst)),
            protocol_filter: obj
                .spec
                .protocol_filter
                .as_ref()
                .map(convert::to_protocol_filter),
        }),
    }))?;
    obj.spec.action = action.0.to_owned();
    obj.spec.direction = direction.0.to_owned();
    obj.status = reply_status(r.status.as_ref());
    Ok(obj)
}
