//! Requests whose only field is the ID of an existing object: they convert to the ID.

use super::fields::lookup_id;
use super::{try_from_request, FromRequest, RequestContext};
use crate::model::{InvalidArgument, ObjectId};
use crate::proto;

macro_rules! id_requests {
    ($($request:ident . $field:ident => $err:literal;)+) => {$(
        impl FromRequest<proto::$request> for ObjectId {
            fn from_request(
                r: proto::$request,
                _: &RequestContext,
            ) -> Result<Self, InvalidArgument> {
                lookup_id(&r.$field, $err)
            }
        }

        try_from_request!(proto::$request => ObjectId);
    )+};
}

id_requests! {
    GetInterfaceRequest.interface_id => "Invalid interface_id";
    DeleteInterfaceRequest.interface_id => "Invalid interface_id";
    ListPrefixesRequest.interface_id => "Invalid interface_id";
    ListLoadBalancerPrefixesRequest.interface_id => "Invalid interface_id";
    GetVipRequest.interface_id => "Invalid interface_id";
    DeleteVipRequest.interface_id => "Invalid interface_id";
    GetNatRequest.interface_id => "Invalid interface_id";
    DeleteNatRequest.interface_id => "Invalid interface_id";
    ListFirewallRulesRequest.interface_id => "Invalid interface_id";
    GetLoadBalancerRequest.loadbalancer_id => "Invalid loadbalancer_id";
    DeleteLoadBalancerRequest.loadbalancer_id => "Invalid loadbalancer_id";
}

/// ListLoadBalancerTargets: an empty ID lists the targets of every LB (`None`).
impl FromRequest<proto::ListLoadBalancerTargetsRequest> for Option<ObjectId> {
    fn from_request(
        r: proto::ListLoadBalancerTargetsRequest,
        _: &RequestContext,
    ) -> Result<Self, InvalidArgument> {
        if r.loadbalancer_id.is_empty() {
            return Ok(None);
        }
        lookup_id(&r.loadbalancer_id, "Invalid loadbalancer_id").map(Some)
    }
}

try_from_request!(proto::ListLoadBalancerTargetsRequest => Option<ObjectId>);
