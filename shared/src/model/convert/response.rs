//! The `Status` every response carries in field 1 (grpc-api.md §2, §4.6).

use std::net::Ipv6Addr;

use super::fields::{ip_text, resp_ipv6};
use crate::model::ResponseError;
use crate::proto;
use crate::status::{success, ServiceError};

/// A response message of the service: field 1 is always `Status status`.
///
/// The server builds failures with [`ServiceResponse::failure`] (every other field at its
/// default, §2) and status-only successes with [`ServiceResponse::ok`]; the model →
/// response conversions set the success status themselves.
pub trait ServiceResponse: Default {
    /// The status, `None` when the sender left it out.
    fn status(&self) -> Option<&proto::Status>;

    /// Replaces the status.
    fn set_status(&mut self, status: proto::Status);

    /// A response that reports `err` and nothing else.
    fn failure(err: ServiceError) -> Self {
        let mut response = Self::default();
        response.set_status(err.into());
        response
    }

    /// A successful response with no other content (code 0, `Success`).
    fn ok() -> Self {
        let mut response = Self::default();
        response.set_status(success());
        response
    }

    /// A successful response, or the failure; for status-only responses.
    fn from_result(result: Result<(), ServiceError>) -> Self {
        match result {
            Ok(()) => Self::ok(),
            Err(err) => Self::failure(err),
        }
    }
}

macro_rules! service_responses {
    ($($response:ident),+ $(,)?) => {$(
        impl ServiceResponse for proto::$response {
            fn status(&self) -> Option<&proto::Status> {
                self.status.as_ref()
            }

            fn set_status(&mut self, status: proto::Status) {
                self.status = Some(status);
            }
        }
    )+};
}

service_responses!(
    CheckInitializedResponse,
    InitializeResponse,
    GetVersionResponse,
    ListInterfacesResponse,
    GetInterfaceResponse,
    CreateInterfaceResponse,
    DeleteInterfaceResponse,
    ListPrefixesResponse,
    CreatePrefixResponse,
    DeletePrefixResponse,
    ListLoadBalancerPrefixesResponse,
    CreateLoadBalancerPrefixResponse,
    DeleteLoadBalancerPrefixResponse,
    CreateVipResponse,
    GetVipResponse,
    DeleteVipResponse,
    CreateLoadBalancerResponse,
    GetLoadBalancerResponse,
    DeleteLoadBalancerResponse,
    ListLoadBalancersResponse,
    CreateLoadBalancerTargetResponse,
    ListLoadBalancerTargetsResponse,
    DeleteLoadBalancerTargetResponse,
    CreateNatResponse,
    GetNatResponse,
    DeleteNatResponse,
    ListLocalNatsResponse,
    CreateNeighborNatResponse,
    DeleteNeighborNatResponse,
    ListNeighborNatsResponse,
    ListRoutesResponse,
    CreateRouteResponse,
    DeleteRouteResponse,
    CheckVniInUseResponse,
    ResetVniResponse,
    ListFirewallRulesResponse,
    CreateFirewallRuleResponse,
    GetFirewallRuleResponse,
    DeleteFirewallRuleResponse,
    CaptureStartResponse,
    CaptureStopResponse,
    CaptureStatusResponse,
);

/// Creates that answer with the new object's underlay address (§10.10).
macro_rules! underlay_responses {
    ($($response:ident),+ $(,)?) => {$(
        impl From<Ipv6Addr> for proto::$response {
            fn from(underlay: Ipv6Addr) -> Self {
                succeeded(|r: &mut Self| r.underlay_route = ip_text(underlay))
            }
        }

        impl TryFrom<proto::$response> for Ipv6Addr {
            type Error = ResponseError;

            fn try_from(r: proto::$response) -> Result<Self, ResponseError> {
                resp_ipv6(&r.underlay_route, concat!(stringify!($response), ".underlay_route"))
            }
        }
    )+};
}

underlay_responses!(
    CreatePrefixResponse,
    CreateLoadBalancerPrefixResponse,
    CreateVipResponse,
    CreateLoadBalancerResponse,
    CreateNatResponse,
);

/// A success response built by a model → response conversion.
pub(crate) fn succeeded<R: ServiceResponse>(fill: impl FnOnce(&mut R)) -> R {
    let mut response = R::ok();
    fill(&mut response);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_carries_only_the_status() {
        let r = proto::GetVipResponse::failure(ServiceError::SnatNoData);
        assert_eq!(
            r,
            proto::GetVipResponse {
                status: Some(proto::Status {
                    code: 341,
                    message: "SNAT_NO_DATA".into()
                }),
                ..Default::default()
            }
        );
        let r = proto::DeleteVipResponse::from_result(Ok(()));
        assert_eq!(r.status(), Some(&success()));
        let r = proto::DeleteVipResponse::from_result(Err(ServiceError::NoVm));
        assert_eq!(r.status().map(|s| s.code), Some(205));
    }
}
