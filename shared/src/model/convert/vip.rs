//! Virtual IPs (grpc-api.md §8.5).

use super::fields;
use super::response::succeeded;
use super::{try_from_request, FromRequest, RequestContext};
use crate::model::{CreateVip, InvalidArgument, ResponseError, Vip};
use crate::proto;

impl FromRequest<proto::CreateVipRequest> for CreateVip {
    fn from_request(
        r: proto::CreateVipRequest,
        ctx: &RequestContext,
    ) -> Result<Self, InvalidArgument> {
        Ok(CreateVip {
            interface_id: fields::lookup_id(&r.interface_id, "Invalid interface_id")?,
            // An IPv6 VIP passes here and is refused by the daemon (204).
            ip: fields::ip(r.vip_ip.as_ref(), "Invalid vip_ip")?,
            preferred_underlay: ctx.preferred_underlay(&r.preferred_underlay_route)?,
        })
    }
}

try_from_request!(proto::CreateVipRequest => CreateVip);

impl From<&CreateVip> for proto::CreateVipRequest {
    fn from(m: &CreateVip) -> Self {
        proto::CreateVipRequest {
            interface_id: m.interface_id.clone().into_bytes(),
            vip_ip: Some(fields::ip_address(m.ip)),
            preferred_underlay_route: m
                .preferred_underlay
                .map(fields::ip_text)
                .unwrap_or_default(),
        }
    }
}

impl From<Vip> for proto::GetVipResponse {
    fn from(m: Vip) -> Self {
        succeeded(|r: &mut Self| {
            r.vip_ip = Some(fields::ip_address(m.ip));
            r.underlay_route = fields::ip_text(m.underlay_route);
        })
    }
}

impl TryFrom<proto::GetVipResponse> for Vip {
    type Error = ResponseError;

    fn try_from(r: proto::GetVipResponse) -> Result<Self, ResponseError> {
        Ok(Vip {
            ip: fields::resp_ip(r.vip_ip.as_ref(), "GetVipResponse.vip_ip")?,
            underlay_route: fields::resp_ipv6(&r.underlay_route, "GetVipResponse.underlay_route")?,
        })
    }
}
