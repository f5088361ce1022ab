//! Packet capture (grpc-api.md §8.12, §10.7).

use super::fields;
use super::response::succeeded;
use super::{try_from_request, FromRequest, RequestContext};
use crate::model::{
    CaptureConfig, CaptureStatus, CapturedInterface, InvalidArgument, ResponseError,
};
use crate::proto;
use crate::proto::captured_interface::Spec;

/// Upstream captures at most 16 ports at once.
const INTERFACES_MAX: usize = 16;

/// One port to capture. The server reads the oneof arm the type names, not the one that
/// is set: a VF entry carrying `pf_index` has an empty name, a PF entry carrying
/// `vf_name` has index 0.
fn captured_interface(c: &proto::CapturedInterface) -> Result<CapturedInterface, InvalidArgument> {
    match proto::CaptureInterfaceType::try_from(c.interface_type) {
        Ok(proto::CaptureInterfaceType::SingleVf) => {
            let name = match &c.spec {
                Some(Spec::VfName(name)) => &name[..],
                _ => &[],
            };
            // a device name, looked up as text
            let name = fields::lookup_id(name, "Invalid interface_id")?;
            Ok(CapturedInterface::Vf(
                String::from_utf8_lossy(name.as_bytes()).into_owned(),
            ))
        }
        Ok(proto::CaptureInterfaceType::SinglePf) => {
            let index = match c.spec {
                Some(Spec::PfIndex(index)) => index,
                _ => 0,
            };
            // Only 0 and 1 exist; others fail at execution (201).
            let index = u8::try_from(index).map_err(|_| InvalidArgument("Invalid pf_index"))?;
            Ok(CapturedInterface::Pf(index))
        }
        Err(_) => Err(InvalidArgument("Invalid interfaces.interface_type")),
    }
}

impl FromRequest<proto::CaptureStartRequest> for CaptureConfig {
    fn from_request(
        r: proto::CaptureStartRequest,
        _: &RequestContext,
    ) -> Result<Self, InvalidArgument> {
        let c = r.capture_config.unwrap_or_default();
        let udp_src_port = fields::port(c.udp_src_port, "Invalid udp_src_port")?;
        let udp_dst_port = fields::port(c.udp_dst_port, "Invalid udp_dst_port")?;
        // Only the text is read; `ipver` is ignored.
        let sink = c.sink_node_ip.map(|a| a.address).unwrap_or_default();
        let sink_node = fields::ipv6_text(&sink, "Invalid sink_node_ip")?;
        if c.interfaces.len() > INTERFACES_MAX {
            return Err(InvalidArgument("Too many interfaces to be captured"));
        }
        let interfaces = c
            .interfaces
            .iter()
            .map(captured_interface)
            .collect::<Result<_, _>>()?;
        Ok(CaptureConfig {
            sink_node,
            udp_src_port,
            udp_dst_port,
            interfaces,
        })
    }
}

try_from_request!(proto::CaptureStartRequest => CaptureConfig);

impl From<&CaptureConfig> for proto::CaptureConfig {
    fn from(m: &CaptureConfig) -> Self {
        let interfaces = m
            .interfaces
            .iter()
            .map(|i| {
                let (kind, spec) = match i {
                    CapturedInterface::Pf(index) => (
                        proto::CaptureInterfaceType::SinglePf,
                        Spec::PfIndex(u32::from(*index)),
                    ),
                    CapturedInterface::Vf(id) => (
                        proto::CaptureInterfaceType::SingleVf,
                        Spec::VfName(id.clone().into_bytes()),
                    ),
                };
                proto::CapturedInterface {
                    interface_type: kind as i32,
                    filter: Vec::new(),
                    spec: Some(spec),
                }
            })
            .collect();
        proto::CaptureConfig {
            sink_node_ip: Some(fields::ip_address(m.sink_node)),
            udp_src_port: u32::from(m.udp_src_port),
            udp_dst_port: u32::from(m.udp_dst_port),
            interfaces,
        }
    }
}

impl From<&CaptureConfig> for proto::CaptureStartRequest {
    fn from(m: &CaptureConfig) -> Self {
        proto::CaptureStartRequest {
            capture_config: Some(m.into()),
        }
    }
}

/// Not running: `is_active = false` and no config; running: the config in effect.
impl From<CaptureStatus> for proto::CaptureStatusResponse {
    fn from(status: CaptureStatus) -> Self {
        succeeded(|r: &mut Self| {
            r.is_active = status.is_some();
            r.capture_config = status.as_ref().map(Into::into);
        })
    }
}

/// CaptureStop answers with the number of ports it switched off.
impl From<u32> for proto::CaptureStopResponse {
    fn from(stopped: u32) -> Self {
        succeeded(|r: &mut Self| r.stopped_interface_cnt = stopped)
    }
}

impl TryFrom<proto::CaptureStopResponse> for u32 {
    type Error = ResponseError;

    fn try_from(r: proto::CaptureStopResponse) -> Result<Self, ResponseError> {
        Ok(r.stopped_interface_cnt)
    }
}

fn response_interface(c: proto::CapturedInterface) -> Result<CapturedInterface, ResponseError> {
    const FIELD: &str = "CaptureConfig.interfaces";
    match (
        proto::CaptureInterfaceType::try_from(c.interface_type),
        c.spec,
    ) {
        (Ok(proto::CaptureInterfaceType::SinglePf), None) => Ok(CapturedInterface::Pf(0)),
        (Ok(proto::CaptureInterfaceType::SinglePf), Some(Spec::PfIndex(i))) => {
            u8::try_from(i).map(CapturedInterface::Pf).map_err(|_| {
                ResponseError::new(
                    "CaptureConfig.interfaces.pf_index",
                    format!("{i} exceeds 255"),
                )
            })
        }
        (Ok(proto::CaptureInterfaceType::SingleVf), Some(Spec::VfName(name))) => {
            Ok(CapturedInterface::Vf(fields::resp_text(&name)))
        }
        (Ok(kind), _) => Err(ResponseError::new(
            FIELD,
            format!("{} entry without its field", kind.as_str_name()),
        )),
        (Err(_), _) => Err(ResponseError::new(
            "CaptureConfig.interfaces.interface_type",
            format!("unknown type {}", c.interface_type),
        )),
    }
}

impl TryFrom<proto::CaptureStatusResponse> for CaptureStatus {
    type Error = ResponseError;

    fn try_from(r: proto::CaptureStatusResponse) -> Result<Self, ResponseError> {
        if !r.is_active {
            return Ok(None);
        }
        let c = r
            .capture_config
            .ok_or_else(|| ResponseError::new("CaptureStatusResponse.capture_config", "missing"))?;
        let sink = c
            .sink_node_ip
            .ok_or_else(|| ResponseError::new("CaptureConfig.sink_node_ip", "missing"))?;
        Ok(Some(CaptureConfig {
            sink_node: fields::resp_ipv6(&sink.address, "CaptureConfig.sink_node_ip")?,
            udp_src_port: fields::resp_port(c.udp_src_port, "CaptureConfig.udp_src_port")?,
            udp_dst_port: fields::resp_port(c.udp_dst_port, "CaptureConfig.udp_dst_port")?,
            interfaces: c
                .interfaces
                .into_iter()
                .map(response_interface)
                .collect::<Result<_, _>>()?,
        }))
    }
}
