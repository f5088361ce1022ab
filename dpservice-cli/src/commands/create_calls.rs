//! The create calls: a printed object in, the same object with what the daemon returned
//! (underlay, VF, status) out. Shared by `create <noun>` and `create -f`.

use dpservice::proto;

use super::conn::{reply_status, rpc};
use super::convert::{self, to_ip, to_prefix};
use super::Client;
use crate::error::CliError;
use crate::objects::*;
use crate::render::Render;
use crate::syntax::Addr;

/// An object the daemon creates with one call.
pub trait Create: Render + Sized {
    /// The context `create <noun>` puts before a failed call (`error creating nat: ...`).
    const FAILED: &'static str;

    /// Sends the create call; the object with what the daemon returned.
    async fn create(self, c: &mut Client) -> Result<Self, CliError>;
}

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
impl Create for Interface {
    const FAILED: &'static str = "error creating interface";

    async fn create(mut self, c: &mut Client) -> Result<Self, CliError> {
        let s = &self.spec;
        let pxe = s
            .pxe
            .as_ref()
            .filter(|p| !p.next_server.is_empty() && !p.boot_filename.is_empty());
        let metering = s.metering.clone().unwrap_or_default();
        let r = rpc!(c.create_interface(proto::CreateInterfaceRequest {
            interface_type: proto::InterfaceType::Virtual as i32,
            interface_id: self.metadata.id.clone().into_bytes(),
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
        self.spec.underlay_route = returned_underlay(&r.underlay_route)?;
        self.spec.virtual_function = Some(VirtualFunction {
            name: r.vf.map(|v| v.name).unwrap_or_default(),
        });
        self.status = reply_status(r.status.as_ref());
        Ok(self)
    }
}

/// `CreatePrefix`.
impl Create for Prefix {
    const FAILED: &'static str = "error creating prefix";

    async fn create(mut self, c: &mut Client) -> Result<Self, CliError> {
        let r = rpc!(c.create_prefix(proto::CreatePrefixRequest {
            interface_id: self.metadata.interface_id.clone().into_bytes(),
            prefix: Some(to_prefix(&self.spec.prefix)),
            preferred_underlay_route: bytes_of(self.spec.underlay_route.as_ref()),
        }))?;
        self.spec.underlay_route = returned_underlay(&r.underlay_route)?;
        self.status = reply_status(r.status.as_ref());
        Ok(self)
    }
}

/// `CreateRoute` (weight 100).
impl Create for Route {
    const FAILED: &'static str = "error creating route";

    async fn create(mut self, c: &mut Client) -> Result<Self, CliError> {
        let Some(p) = self.spec.prefix.as_ref() else {
            return Err(CliError::client("prefix needs to be specified"));
        };
        let Some(hop) = self.spec.next_hop.as_ref() else {
            return Err(CliError::client("nextHop needs to be specified"));
        };
        let r = rpc!(c.create_route(proto::CreateRouteRequest {
            vni: self.metadata.vni,
            route: Some(proto::Route {
                prefix: Some(to_prefix(p)),
                nexthop_vni: hop.vni,
                nexthop_address: hop.address.as_ref().map(to_ip),
                weight: 100,
            }),
        }))?;
        self.status = reply_status(r.status.as_ref());
        Ok(self)
    }
}

/// `CreateVip`.
impl Create for VirtualIp {
    const FAILED: &'static str = "error creating virtual ip";

    async fn create(mut self, c: &mut Client) -> Result<Self, CliError> {
        let r = rpc!(c.create_vip(proto::CreateVipRequest {
            interface_id: self.metadata.interface_id.clone().into_bytes(),
            vip_ip: self.spec.vip_ip.as_ref().map(to_ip),
            preferred_underlay_route: bytes_of(self.spec.underlay_route.as_ref()),
        }))?;
        self.spec.underlay_route = returned_underlay(&r.underlay_route)?;
        self.status = reply_status(r.status.as_ref());
        Ok(self)
    }
}

/// `CreateLoadBalancer` (ports in the given order).
impl Create for LoadBalancer {
    const FAILED: &'static str = "error creating loadbalancer";

    async fn create(mut self, c: &mut Client) -> Result<Self, CliError> {
        let r = rpc!(c.create_load_balancer(proto::CreateLoadBalancerRequest {
            loadbalancer_id: self.metadata.id.clone().into_bytes(),
            loadbalanced_ip: self.spec.vip.as_ref().map(to_ip),
            vni: self.spec.vni,
            loadbalanced_ports: self
                .spec
                .ports
                .iter()
                .map(|p| proto::LbPort {
                    port: p.port,
                    protocol: p.protocol as i32
                })
                .collect(),
            preferred_underlay_route: bytes_of(self.spec.underlay_route.as_ref()),
        }))?;
        self.spec.underlay_route = returned_underlay(&r.underlay_route)?;
        self.status = reply_status(r.status.as_ref());
        Ok(self)
    }
}

/// `CreateLoadBalancerPrefix`.
impl Create for LoadBalancerPrefix {
    const FAILED: &'static str = "error creating loadbalancer prefix";

    async fn create(mut self, c: &mut Client) -> Result<Self, CliError> {
        let r = rpc!(
            c.create_load_balancer_prefix(proto::CreateLoadBalancerPrefixRequest {
                interface_id: self.metadata.interface_id.clone().into_bytes(),
                prefix: Some(to_prefix(&self.spec.prefix)),
                preferred_underlay_route: bytes_of(self.spec.underlay_route.as_ref()),
            })
        )?;
        self.spec.underlay_route = returned_underlay(&r.underlay_route)?;
        self.status = reply_status(r.status.as_ref());
        Ok(self)
    }
}

/// `CreateLoadBalancerTarget`.
impl Create for LoadBalancerTarget {
    const FAILED: &'static str = "error creating loadbalancer target";

    async fn create(mut self, c: &mut Client) -> Result<Self, CliError> {
        let r = rpc!(
            c.create_load_balancer_target(proto::CreateLoadBalancerTargetRequest {
                loadbalancer_id: self.metadata.loadbalancer_id.clone().into_bytes(),
                target_ip: self.spec.target_ip.as_ref().map(to_ip),
            })
        )?;
        self.status = reply_status(r.status.as_ref());
        Ok(self)
    }
}

/// `CreateNat`.
impl Create for Nat {
    const FAILED: &'static str = "error creating nat";

    async fn create(mut self, c: &mut Client) -> Result<Self, CliError> {
        let r = rpc!(c.create_nat(proto::CreateNatRequest {
            interface_id: self.metadata.interface_id.clone().into_bytes(),
            nat_ip: self.spec.nat_ip.as_ref().map(to_ip),
            min_port: self.spec.min_port,
            max_port: self.spec.max_port,
            preferred_underlay_route: bytes_of(self.spec.underlay_route.as_ref()),
        }))?;
        self.spec.underlay_route = returned_underlay(&r.underlay_route)?;
        self.status = reply_status(r.status.as_ref());
        Ok(self)
    }
}

/// `CreateNeighborNat` (the underlay is required).
impl Create for NeighborNat {
    const FAILED: &'static str = "error creating neighbor nat";

    async fn create(mut self, c: &mut Client) -> Result<Self, CliError> {
        let Some(underlay) = self.spec.underlay_route.as_ref() else {
            return Err(CliError::client("underlayRoute needs to be specified"));
        };
        let r = rpc!(c.create_neighbor_nat(proto::CreateNeighborNatRequest {
            nat_ip: self.metadata.nat_ip.as_ref().map(to_ip),
            vni: self.spec.vni,
            min_port: self.spec.min_port,
            max_port: self.spec.max_port,
            underlay_route: underlay.to_string().into_bytes(),
        }))?;
        self.status = reply_status(r.status.as_ref());
        Ok(self)
    }
}

/// `CreateFirewallRule`, after normalising the action and direction words.
impl Create for FirewallRule {
    const FAILED: &'static str = "error creating firewall rule";

    async fn create(mut self, c: &mut Client) -> Result<Self, CliError> {
        let action = match self.spec.action.to_lowercase().as_str() {
            "accept" | "allow" | "1" => ("Accept", proto::FirewallAction::Accept),
            "drop" | "deny" | "0" => ("Drop", proto::FirewallAction::Drop),
            _ => {
                return Err(CliError::client(
                    "firewall action can be only: drop/deny/0|accept/allow/1",
                ))
            }
        };
        let direction = match self.spec.direction.to_lowercase().as_str() {
            "ingress" | "0" => ("Ingress", proto::TrafficDirection::Ingress),
            "egress" | "1" => ("Egress", proto::TrafficDirection::Egress),
            _ => {
                return Err(CliError::client(
                    "traffic direction can be only: Ingress = 0/Egress = 1",
                ))
            }
        };
        let Some(src) = self.spec.source_prefix.as_ref() else {
            return Err(CliError::client("source prefix needs to be specified"));
        };
        let Some(dst) = self.spec.destination_prefix.as_ref() else {
            return Err(CliError::client("destination prefix needs to be specified"));
        };
        let r = rpc!(c.create_firewall_rule(proto::CreateFirewallRuleRequest {
            interface_id: self.metadata.interface_id.clone().into_bytes(),
            rule: Some(proto::FirewallRule {
                id: self.spec.id.clone().into_bytes(),
                direction: direction.1 as i32,
                action: action.1 as i32,
                priority: self.spec.priority,
                source_prefix: Some(to_prefix(src)),
                destination_prefix: Some(to_prefix(dst)),
                protocol_filter: self
                    .spec
                    .protocol_filter
                    .as_ref()
                    .map(convert::to_protocol_filter),
            }),
        }))?;
        self.spec.action = action.0.to_owned();
        self.spec.direction = direction.0.to_owned();
        self.status = reply_status(r.status.as_ref());
        Ok(self)
    }
}
