//! NAT gateway: local NAT slices and neighbour ranges (grpc-api.md §8.8, §10.3).

use std::net::{IpAddr, Ipv4Addr};

use super::fields;
use super::response::succeeded;
use super::{try_from_request, FromRequest, RequestContext};
use crate::model::{
    CreateNat, InvalidArgument, Nat, NatEntry, NatKind, NeighborNat, NeighborNatKey, ResponseError,
};
use crate::proto;

const BAD_NAT_IP: &str = "Invalid nat_ip";

/// A half-open port range `[min, max)`: both ≤ 65535, `min < max`.
fn port_range(min: u32, max: u32) -> Result<(u16, u16), InvalidArgument> {
    let min_port = fields::port(min, "Invalid min_port")?;
    let max_port = fields::port(max, "Invalid max_port")?;
    if min_port >= max_port {
        return Err(InvalidArgument("Invalid port range"));
    }
    Ok((min_port, max_port))
}

impl FromRequest<proto::CreateNatRequest> for CreateNat {
    fn from_request(
        r: proto::CreateNatRequest,
        ctx: &RequestContext,
    ) -> Result<Self, InvalidArgument> {
        let interface_id = fields::lookup_id(&r.interface_id, "Invalid interface_id")?;
        // An IPv6 NAT IP passes here and is refused by the daemon (204).
        let ip = fields::ip(r.nat_ip.as_ref(), BAD_NAT_IP)?;
        let (min_port, max_port) = port_range(r.min_port, r.max_port)?;
        Ok(CreateNat {
            interface_id,
            ip,
            min_port,
            max_port,
            preferred_underlay: ctx.preferred_underlay(&r.preferred_underlay_route)?,
        })
    }
}

impl FromRequest<proto::CreateNeighborNatRequest> for NeighborNat {
    fn from_request(
        r: proto::CreateNeighborNatRequest,
        _: &RequestContext,
    ) -> Result<Self, InvalidArgument> {
        let ip = fields::ip(r.nat_ip.as_ref(), BAD_NAT_IP)?;
        let (min_port, max_port) = port_range(r.min_port, r.max_port)?;
        Ok(NeighborNat {
            ip,
            vni: r.vni,
            min_port,
            max_port,
            // Another host's underlay: any IPv6, no prefix or flag check (§10.10).
            underlay_route: fields::ipv6_text(&r.underlay_route, "Invalid underlay_route")?,
        })
    }
}

impl FromRequest<proto::DeleteNeighborNatRequest> for NeighborNatKey {
    fn from_request(
        r: proto::DeleteNeighborNatRequest,
        _: &RequestContext,
    ) -> Result<Self, InvalidArgument> {
        let ip = fields::ip(r.nat_ip.as_ref(), BAD_NAT_IP)?;
        let (min_port, max_port) = port_range(r.min_port, r.max_port)?;
        Ok(NeighborNatKey {
            ip,
            vni: r.vni,
            min_port,
            max_port,
        })
    }
}

macro_rules! nat_lists {
    ($($request:ident => $response:ident),+) => {$(
        /// The listing's filter: `0.0.0.0` lists every entry (`None`); an IPv6 address
        /// passes here and is refused by the daemon (204).
        impl FromRequest<proto::$request> for Option<IpAddr> {
            fn from_request(r: proto::$request, _: &RequestContext) -> Result<Self, InvalidArgument> {
                let ip = fields::ip(r.nat_ip.as_ref(), BAD_NAT_IP)?;
                Ok((ip != IpAddr::V4(Ipv4Addr::UNSPECIFIED)).then_some(ip))
            }
        }

        try_from_request!(proto::$request => Option<IpAddr>);

        impl From<Option<IpAddr>> for proto::$request {
            fn from(filter: Option<IpAddr>) -> Self {
                proto::$request {
                    nat_ip: Some(fields::ip_address(
                        filter.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                    )),
                }
            }
        }

        impl From<Vec<NatEntry>> for proto::$response {
            fn from(list: Vec<NatEntry>) -> Self {
                succeeded(|r: &mut Self| r.nat_entries = list.into_iter().map(Into::into).collect())
            }
        }

        impl TryFrom<proto::$response> for Vec<NatEntry> {
            type Error = ResponseError;

            fn try_from(r: proto::$response) -> Result<Self, ResponseError> {
                r.nat_entries.into_iter().map(NatEntry::try_from).collect()
            }
        }
    )+};
}

nat_lists!(
    ListLocalNatsRequest => ListLocalNatsResponse,
    ListNeighborNatsRequest => ListNeighborNatsResponse
);

try_from_request!(
    proto::CreateNatRequest => CreateNat,
    proto::CreateNeighborNatRequest => NeighborNat,
    proto::DeleteNeighborNatRequest => NeighborNatKey,
);

impl From<&CreateNat> for proto::CreateNatRequest {
    fn from(m: &CreateNat) -> Self {
        proto::CreateNatRequest {
            interface_id: m.interface_id.clone().into_bytes(),
            nat_ip: Some(fields::ip_address(m.ip)),
            min_port: u32::from(m.min_port),
            max_port: u32::from(m.max_port),
            preferred_underlay_route: m
                .preferred_underlay
                .map(fields::ip_text)
                .unwrap_or_default(),
        }
    }
}

impl From<&NeighborNat> for proto::CreateNeighborNatRequest {
    fn from(m: &NeighborNat) -> Self {
        proto::CreateNeighborNatRequest {
            nat_ip: Some(fields::ip_address(m.ip)),
            vni: m.vni,
            min_port: u32::from(m.min_port),
            max_port: u32::from(m.max_port),
            underlay_route: fields::ip_text(m.underlay_route),
        }
    }
}

impl From<&NeighborNatKey> for proto::DeleteNeighborNatRequest {
    fn from(m: &NeighborNatKey) -> Self {
        proto::DeleteNeighborNatRequest {
            nat_ip: Some(fields::ip_address(m.ip)),
            vni: m.vni,
            min_port: u32::from(m.min_port),
            max_port: u32::from(m.max_port),
        }
    }
}

impl From<Nat> for proto::GetNatResponse {
    fn from(m: Nat) -> Self {
        succeeded(|r: &mut Self| {
            r.nat_ip = Some(fields::ip_address(m.ip));
            r.min_port = u32::from(m.min_port);
            r.max_port = u32::from(m.max_port);
            r.underlay_route = fields::ip_text(m.underlay_route);
        })
    }
}

/// Local entries carry `nat_ip` and no underlay, neighbour entries the reverse: the Go
/// client tells them apart by the underlay (§4.6).
impl From<NatEntry> for proto::NatEntry {
    fn from(m: NatEntry) -> Self {
        let (nat_ip, underlay_route) = match m.kind {
            NatKind::Local { interface_ip } => (Some(fields::ip_address(interface_ip)), Vec::new()),
            NatKind::Neighbor { underlay_route } => (None, fields::ip_text(underlay_route)),
        };
        proto::NatEntry {
            nat_ip,
            min_port: u32::from(m.min_port),
            max_port: u32::from(m.max_port),
            underlay_route,
            vni: m.vni,
            actual_nat_ip: Some(fields::ip_address(m.nat_ip)),
        }
    }
}

impl TryFrom<proto::GetNatResponse> for Nat {
    type Error = ResponseError;

    fn try_from(r: proto::GetNatResponse) -> Result<Self, ResponseError> {
        Ok(Nat {
            ip: fields::resp_ip(r.nat_ip.as_ref(), "GetNatResponse.nat_ip")?,
            min_port: fields::resp_port(r.min_port, "GetNatResponse.min_port")?,
            max_port: fields::resp_port(r.max_port, "GetNatResponse.max_port")?,
            underlay_route: fields::resp_ipv6(&r.underlay_route, "GetNatResponse.underlay_route")?,
        })
    }
}

impl TryFrom<proto::NatEntry> for NatEntry {
    type Error = ResponseError;

    fn try_from(e: proto::NatEntry) -> Result<Self, ResponseError> {
        let kind = if e.underlay_route.is_empty() {
            NatKind::Local {
                interface_ip: fields::resp_ip_v4(e.nat_ip.as_ref(), "NatEntry.nat_ip")?,
            }
        } else {
            NatKind::Neighbor {
                underlay_route: fields::resp_ipv6(&e.underlay_route, "NatEntry.underlay_route")?,
            }
        };
        Ok(NatEntry {
            kind,
            nat_ip: fields::resp_ip_v4(e.actual_nat_ip.as_ref(), "NatEntry.actual_nat_ip")?,
            min_port: fields::resp_port(e.min_port, "NatEntry.min_port")?,
            max_port: fields::resp_port(e.max_port, "NatEntry.max_port")?,
            vni: e.vni,
        })
    }
}
