//! Initialization, version exchange and VNI queries (grpc-api.md §8.1, §8.10).

use super::fields::TEXT_MAX;
use super::response::succeeded;
use super::{try_from_request, FromRequest, RequestContext};
use crate::model::{
    ClientVersion, InvalidArgument, ResponseError, ServiceVersion, VniQuery, VniType,
};
use crate::proto;

/// GetVersion checks only the lengths (1..63 bytes); the values are merely logged.
fn version_text(s: String, err: &'static str) -> Result<String, InvalidArgument> {
    if s.is_empty() || s.len() > TEXT_MAX {
        return Err(InvalidArgument(err));
    }
    Ok(s)
}

impl FromRequest<proto::GetVersionRequest> for ClientVersion {
    fn from_request(
        r: proto::GetVersionRequest,
        _: &RequestContext,
    ) -> Result<Self, InvalidArgument> {
        Ok(ClientVersion {
            client_protocol: version_text(r.client_protocol, "Invalid client_protocol")?,
            client_name: version_text(r.client_name, "Invalid client_name")?,
            client_version: version_text(r.client_version, "Invalid client_version")?,
        })
    }
}

fn vni_type(number: i32) -> Result<VniType, InvalidArgument> {
    match proto::VniType::try_from(number) {
        Ok(proto::VniType::VniIpv4) => Ok(VniType::Ipv4),
        Ok(proto::VniType::VniIpv6) => Ok(VniType::Ipv6),
        Ok(proto::VniType::VniBoth) => Ok(VniType::Both),
        Err(_) => Err(InvalidArgument("Invalid type")),
    }
}

fn wire_vni_type(t: VniType) -> i32 {
    let t = match t {
        VniType::Ipv4 => proto::VniType::VniIpv4,
        VniType::Ipv6 => proto::VniType::VniIpv6,
        VniType::Both => proto::VniType::VniBoth,
    };
    t as i32
}

macro_rules! vni_requests {
    ($($request:ident),+) => {$(
        impl FromRequest<proto::$request> for VniQuery {
            fn from_request(r: proto::$request, _: &RequestContext) -> Result<Self, InvalidArgument> {
                Ok(VniQuery {
                    vni: r.vni,
                    vni_type: vni_type(r.r#type)?,
                })
            }
        }

        try_from_request!(proto::$request => VniQuery);

        impl From<&VniQuery> for proto::$request {
            fn from(m: &VniQuery) -> Self {
                proto::$request {
                    vni: m.vni,
                    r#type: wire_vni_type(m.vni_type),
                }
            }
        }
    )+};
}

vni_requests!(CheckVniInUseRequest, ResetVniRequest);

try_from_request!(proto::GetVersionRequest => ClientVersion);

impl From<&ClientVersion> for proto::GetVersionRequest {
    fn from(m: &ClientVersion) -> Self {
        proto::GetVersionRequest {
            client_protocol: m.client_protocol.clone(),
            client_name: m.client_name.clone(),
            client_version: m.client_version.clone(),
        }
    }
}

impl From<ServiceVersion> for proto::GetVersionResponse {
    fn from(m: ServiceVersion) -> Self {
        succeeded(|r: &mut Self| {
            r.service_protocol = m.service_protocol;
            r.service_version = m.service_version;
        })
    }
}

impl TryFrom<proto::GetVersionResponse> for ServiceVersion {
    type Error = ResponseError;

    fn try_from(r: proto::GetVersionResponse) -> Result<Self, ResponseError> {
        Ok(ServiceVersion {
            service_protocol: r.service_protocol,
            service_version: r.service_version,
        })
    }
}

impl From<bool> for proto::CheckVniInUseResponse {
    fn from(in_use: bool) -> Self {
        succeeded(|r: &mut Self| r.in_use = in_use)
    }
}

impl TryFrom<proto::CheckVniInUseResponse> for bool {
    type Error = ResponseError;

    fn try_from(r: proto::CheckVniInUseResponse) -> Result<Self, ResponseError> {
        Ok(r.in_use)
    }
}

macro_rules! uuid_responses {
    ($($response:ident),+) => {$(
        /// The daemon's per-process UUID.
        impl From<String> for proto::$response {
            fn from(uuid: String) -> Self {
                succeeded(|r: &mut Self| r.uuid = uuid)
            }
        }

        impl TryFrom<proto::$response> for String {
            type Error = ResponseError;

            fn try_from(r: proto::$response) -> Result<Self, ResponseError> {
                Ok(r.uuid)
            }
        }
    )+};
}

uuid_responses!(CheckInitializedResponse, InitializeResponse);
