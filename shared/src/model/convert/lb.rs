//! Load balancers and their targets (grpc-api.md §8.6, §8.7, §10.4).

use std::net::Ipv6Addr;

use super::fields;
use super::response::succeeded;
use super::{try_from_request, FromRequest, RequestContext};
use crate::model::{
    CreateLoadBalancer, InvalidArgument, L4Protocol, LbPort, LoadBalancer, LoadBalancerTarget,
    ObjectId, ResponseError,
};
use crate::proto;

/// VNIs travel in 24 bits; only CreateLoadBalancer enforces it (§10.8).
const VNI_MAX: u32 = 0xFF_FFFF;
/// Upstream's LB holds 16 port slots and refuses 16 or more ports.
const PORTS_MAX: usize = 15;

fn protocol(number: i32) -> Option<L4Protocol> {
    match proto::Protocol::try_from(number) {
        Ok(proto::Protocol::Tcp) => Some(L4Protocol::Tcp),
        Ok(proto::Protocol::Udp) => Some(L4Protocol::Udp),
        _ => None,
    }
}

fn request_port(p: proto::LbPort) -> Result<LbPort, InvalidArgument> {
    const BAD_PORT: InvalidArgument = InvalidArgument("Invalid loadbalanced_ports.port");
    // Port 0 would be an invisible empty slot upstream; refused here (§10.4).
    let port = fields::port(p.port, BAD_PORT.0)?;
    if port == 0 {
        return Err(BAD_PORT);
    }
    let protocol =
        protocol(p.protocol).ok_or(InvalidArgument("Invalid loadbalanced_ports.protocol"))?;
    Ok(LbPort { protocol, port })
}

impl FromRequest<proto::CreateLoadBalancerRequest> for CreateLoadBalancer {
    fn from_request(
        r: proto::CreateLoadBalancerRequest,
        ctx: &RequestContext,
    ) -> Result<Self, InvalidArgument> {
        let id = fields::new_id(r.loadbalancer_id, "Invalid loadbalancer_id")?;
        if r.vni > VNI_MAX {
            return Err(InvalidArgument("VNI exceeds 24-bit range"));
        }
        let ip = fields::ip(r.loadbalanced_ip.as_ref(), "Invalid loadbalanced_ip")?;
        if r.loadbalanced_ports.len() > PORTS_MAX {
            return Err(InvalidArgument("Too many loadbalanced_ports"));
        }
        let preferred_underlay = ctx.preferred_underlay(&r.preferred_underlay_route)?;
        let mut ports: Vec<LbPort> = Vec::with_capacity(r.loadbalanced_ports.len());
        for p in r.loadbalanced_ports {
            let port = request_port(p)?;
            if ports.contains(&port) {
                return Err(InvalidArgument("Duplicate loadbalanced_ports entry"));
            }
            ports.push(port);
        }
        Ok(CreateLoadBalancer {
            id,
            vni: r.vni,
            ip,
            ports,
            preferred_underlay,
        })
    }
}

macro_rules! target_requests {
    ($($request:ident),+) => {$(
        impl FromRequest<proto::$request> for LoadBalancerTarget {
            fn from_request(r: proto::$request, _: &RequestContext) -> Result<Self, InvalidArgument> {
                Ok(LoadBalancerTarget {
                    loadbalancer_id: fields::lookup_id(
                        &r.loadbalancer_id,
                        "Invalid loadbalancer_id",
                    )?,
                    // An IPv4 target passes here and is refused by the daemon (204).
                    target: fields::ip(r.target_ip.as_ref(), "Invalid target_ip")?,
                })
            }
        }

        try_from_request!(proto::$request => LoadBalancerTarget);

        impl From<&LoadBalancerTarget> for proto::$request {
            fn from(m: &LoadBalancerTarget) -> Self {
                proto::$request {
                    loadbalancer_id: m.loadbalancer_id.clone().into_bytes(),
                    target_ip: Some(fields::ip_address(m.target)),
                }
            }
        }
    )+};
}

target_requests!(
    CreateLoadBalancerTargetRequest,
    DeleteLoadBalancerTargetRequest
);

try_from_request!(proto::CreateLoadBalancerRequest => CreateLoadBalancer);

fn port_message(p: LbPort) -> proto::LbPort {
    proto::LbPort {
        port: u32::from(p.port),
        protocol: i32::from(p.protocol.number()),
    }
}

impl From<&CreateLoadBalancer> for proto::CreateLoadBalancerRequest {
    fn from(m: &CreateLoadBalancer) -> Self {
        proto::CreateLoadBalancerRequest {
            loadbalancer_id: m.id.clone().into_bytes(),
            loadbalanced_ip: Some(fields::ip_address(m.ip)),
            vni: m.vni,
            loadbalanced_ports: m.ports.iter().copied().map(port_message).collect(),
            preferred_underlay_route: m
                .preferred_underlay
                .map(fields::ip_text)
                .unwrap_or_default(),
        }
    }
}

/// GetLoadBalancer answers with flat fields and no ID (§8.6).
impl From<LoadBalancer> for proto::GetLoadBalancerResponse {
    fn from(m: LoadBalancer) -> Self {
        succeeded(|r: &mut Self| {
            r.loadbalanced_ip = Some(fields::ip_address(m.ip));
            r.vni = m.vni;
            r.loadbalanced_ports = m.ports.into_iter().map(port_message).collect();
            r.underlay_route = fields::ip_text(m.underlay_route);
        })
    }
}

impl From<LoadBalancer> for proto::Loadbalancer {
    fn from(m: LoadBalancer) -> Self {
        proto::Loadbalancer {
            id: m.id.into_bytes(),
            vni: m.vni,
            ip: Some(fields::ip_address(m.ip)),
            ports: m.ports.into_iter().map(port_message).collect(),
            underlay_route: fields::ip_text(m.underlay_route),
        }
    }
}

impl From<Vec<LoadBalancer>> for proto::ListLoadBalancersResponse {
    fn from(list: Vec<LoadBalancer>) -> Self {
        succeeded(|r: &mut Self| r.loadbalancers = list.into_iter().map(Into::into).collect())
    }
}

impl From<Vec<Ipv6Addr>> for proto::ListLoadBalancerTargetsResponse {
    fn from(list: Vec<Ipv6Addr>) -> Self {
        succeeded(|r: &mut Self| r.target_ips = list.into_iter().map(fields::ip_address).collect())
    }
}

fn response_ports(
    ports: Vec<proto::LbPort>,
    port_field: &'static str,
    protocol_field: &'static str,
) -> Result<Vec<LbPort>, ResponseError> {
    ports
        .into_iter()
        .map(|p| {
            let port = fields::resp_port(p.port, port_field)?;
            if port == 0 {
                return Err(ResponseError::new(port_field, "port 0"));
            }
            let protocol = protocol(p.protocol).ok_or_else(|| {
                ResponseError::new(
                    protocol_field,
                    format!("protocol {} is not TCP or UDP", p.protocol),
                )
            })?;
            Ok(LbPort { protocol, port })
        })
        .collect()
}

/// The LB of a GetLoadBalancer answer; `id` is empty (the caller knows it).
impl TryFrom<proto::GetLoadBalancerResponse> for LoadBalancer {
    type Error = ResponseError;

    fn try_from(r: proto::GetLoadBalancerResponse) -> Result<Self, ResponseError> {
        Ok(LoadBalancer {
            id: ObjectId::default(),
            vni: r.vni,
            ip: fields::resp_ip(
                r.loadbalanced_ip.as_ref(),
                "GetLoadBalancerResponse.loadbalanced_ip",
            )?,
            ports: response_ports(
                r.loadbalanced_ports,
                "GetLoadBalancerResponse.loadbalanced_ports.port",
                "GetLoadBalancerResponse.loadbalanced_ports.protocol",
            )?,
            underlay_route: fields::resp_ipv6(
                &r.underlay_route,
                "GetLoadBalancerResponse.underlay_route",
            )?,
        })
    }
}

impl TryFrom<proto::Loadbalancer> for LoadBalancer {
    type Error = ResponseError;

    fn try_from(r: proto::Loadbalancer) -> Result<Self, ResponseError> {
        Ok(LoadBalancer {
            id: ObjectId::from(&r.id[..]),
            vni: r.vni,
            ip: fields::resp_ip(r.ip.as_ref(), "Loadbalancer.ip")?,
            ports: response_ports(
                r.ports,
                "Loadbalancer.ports.port",
                "Loadbalancer.ports.protocol",
            )?,
            underlay_route: fields::resp_ipv6(&r.underlay_route, "Loadbalancer.underlay_route")?,
        })
    }
}

impl TryFrom<proto::ListLoadBalancersResponse> for Vec<LoadBalancer> {
    type Error = ResponseError;

    fn try_from(r: proto::ListLoadBalancersResponse) -> Result<Self, ResponseError> {
        r.loadbalancers
            .into_iter()
            .map(LoadBalancer::try_from)
            .collect()
    }
}

impl TryFrom<proto::ListLoadBalancerTargetsResponse> for Vec<Ipv6Addr> {
    type Error = ResponseError;

    fn try_from(r: proto::ListLoadBalancerTargetsResponse) -> Result<Self, ResponseError> {
        r.target_ips
            .iter()
            .map(|a| fields::resp_ip_v6(Some(a), "ListLoadBalancerTargetsResponse.target_ips"))
            .collect()
    }
}
