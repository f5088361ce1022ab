//! Routes of a VNI (grpc-api.md §8.9).

use super::fields::{self, PrefixPath};
use super::response::succeeded;
use super::{try_from_request, FromRequest, RequestContext};
use crate::model::{InvalidArgument, RequestPrefix, ResponseError, Route, RouteKey};
use crate::proto;

/// Routes check the length before the address (unlike every other prefix). A length
/// beyond the family passes: the daemon's routing table refuses it (§10.2).
fn route_prefix(route: Option<&proto::Route>) -> Result<RequestPrefix, InvalidArgument> {
    let prefix = route.and_then(|r| r.prefix.as_ref());
    let len = fields::prefix_length(
        prefix.map_or(0, |p| p.length),
        "Invalid route.prefix.length",
    )?;
    let addr = fields::ip(
        prefix.and_then(|p| p.ip.as_ref()),
        "Invalid route.prefix.ip",
    )?;
    Ok(RequestPrefix::new(addr, len))
}

impl FromRequest<proto::CreateRouteRequest> for Route {
    fn from_request(
        r: proto::CreateRouteRequest,
        _: &RequestContext,
    ) -> Result<Self, InvalidArgument> {
        let prefix = route_prefix(r.route.as_ref())?;
        let route = r.route.unwrap_or_default();
        // The family of the next hop is the daemon's business (IPv4 → 204).
        let nexthop = fields::ip(
            route.nexthop_address.as_ref(),
            "Invalid route.nexthop_address",
        )?;
        Ok(Route {
            vni: r.vni,
            prefix,
            nexthop_vni: route.nexthop_vni,
            nexthop,
        })
    }
}

impl FromRequest<proto::DeleteRouteRequest> for RouteKey {
    fn from_request(
        r: proto::DeleteRouteRequest,
        _: &RequestContext,
    ) -> Result<Self, InvalidArgument> {
        Ok(RouteKey {
            vni: r.vni,
            prefix: route_prefix(r.route.as_ref())?,
        })
    }
}

/// ListRoutes: VNI 0 lists every VNI (`None`).
impl FromRequest<proto::ListRoutesRequest> for Option<u32> {
    fn from_request(
        r: proto::ListRoutesRequest,
        _: &RequestContext,
    ) -> Result<Self, InvalidArgument> {
        Ok((r.vni != 0).then_some(r.vni))
    }
}

try_from_request!(
    proto::CreateRouteRequest => Route,
    proto::DeleteRouteRequest => RouteKey,
    proto::ListRoutesRequest => Option<u32>,
);

impl From<&Route> for proto::CreateRouteRequest {
    fn from(m: &Route) -> Self {
        proto::CreateRouteRequest {
            vni: m.vni,
            route: Some(m.clone().into()),
        }
    }
}

impl From<&RouteKey> for proto::DeleteRouteRequest {
    fn from(m: &RouteKey) -> Self {
        proto::DeleteRouteRequest {
            vni: m.vni,
            route: Some(proto::Route {
                prefix: Some(fields::prefix_message(m.prefix)),
                ..Default::default()
            }),
        }
    }
}

impl From<Option<u32>> for proto::ListRoutesRequest {
    fn from(vni: Option<u32>) -> Self {
        proto::ListRoutesRequest {
            vni: vni.unwrap_or(0),
        }
    }
}

/// A route on the wire; the VNI is not part of the message (the request carries it).
impl From<Route> for proto::Route {
    fn from(m: Route) -> Self {
        proto::Route {
            prefix: Some(fields::prefix_message(m.prefix)),
            nexthop_vni: m.nexthop_vni,
            nexthop_address: Some(fields::ip_address(m.nexthop)),
            weight: 0,
        }
    }
}

impl From<Vec<Route>> for proto::ListRoutesResponse {
    fn from(list: Vec<Route>) -> Self {
        succeeded(|r: &mut Self| r.routes = list.into_iter().map(Into::into).collect())
    }
}

/// A listed route. The message does not say which VNI it belongs to, so `vni` is 0; the
/// client fills in the VNI it asked for.
impl TryFrom<proto::Route> for Route {
    type Error = ResponseError;

    fn try_from(r: proto::Route) -> Result<Self, ResponseError> {
        let path = PrefixPath {
            prefix: "Route.prefix",
            ip: "Route.prefix.ip",
            length: "Route.prefix.length",
        };
        Ok(Route {
            vni: 0,
            prefix: fields::resp_prefix(r.prefix.as_ref(), path)?.into(),
            nexthop_vni: r.nexthop_vni,
            nexthop: fields::resp_ip(r.nexthop_address.as_ref(), "Route.nexthop_address")?,
        })
    }
}

impl TryFrom<proto::ListRoutesResponse> for Vec<Route> {
    type Error = ResponseError;

    fn try_from(r: proto::ListRoutesResponse) -> Result<Self, ResponseError> {
        r.routes.into_iter().map(Route::try_from).collect()
    }
}
