//! Daemon-level objects: init, VNI use, version, packet capture (spec §4.1).

use serde::Serialize;

use super::{is_zero_u32, ser_addr, Named, NoMeta, Status};
use crate::syntax::Addr;

/// `Initialized`: the daemon's instance UUID.
#[derive(Debug, Clone, Serialize)]
pub struct Initialized {
    /// `Initialized`.
    pub kind: &'static str,
    /// `{}`.
    pub metadata: NoMeta,
    /// `{uuid}`.
    pub spec: InitializedSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `spec` of `Initialized`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InitializedSpec {
    /// The instance UUID.
    pub uuid: String,
}

impl Named for Initialized {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        "initialized".to_owned()
    }
}

/// `Vni`: whether a VNI is in use.
#[derive(Debug, Clone, Serialize)]
pub struct Vni {
    /// `Vni`.
    pub kind: &'static str,
    /// `{vni, vni_type}`.
    pub metadata: VniMeta,
    /// `{in_use}`.
    pub spec: VniSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `metadata` of `Vni`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VniMeta {
    /// The VNI.
    pub vni: u32,
    /// 0 = IPv4, 1 = IPv6, 2 = both.
    pub vni_type: u8,
}

/// `spec` of `Vni`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VniSpec {
    /// Whether anything uses the VNI.
    pub in_use: bool,
}

impl Named for Vni {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        self.metadata.vni.to_string()
    }
}

/// `Version`: what the client sent and the daemon answered.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    /// `Version`.
    pub kind: &'static str,
    /// The client's side.
    pub metadata: VersionMeta,
    /// The daemon's side.
    pub spec: VersionSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `metadata` of `Version`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VersionMeta {
    /// Protocol version the client was built from.
    pub client_protocol: String,
    /// `dpservice-cli`.
    pub client_name: String,
    /// The client's build version.
    pub client_version: String,
}

/// `spec` of `Version`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VersionSpec {
    /// The daemon's protocol version.
    pub service_protocol: String,
    /// The daemon's build version.
    pub service_version: String,
}

impl Named for Version {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        format!(
            "{}-{}",
            self.metadata.client_name, self.metadata.client_protocol
        )
    }
}

/// Where captured packets go.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaptureConfig {
    /// Sink address.
    #[serde(
        rename = "sink_node_ipv6",
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_addr"
    )]
    pub sink: Option<Addr>,
    /// UDP source port.
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub udp_src_port: u32,
    /// UDP destination port.
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub udp_dst_port: u32,
}

/// One captured interface: `pf` + index, or `vf` + interface id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CaptureInterface {
    /// `pf` or `vf`.
    pub interface_type: String,
    /// PF index in decimal, or the VF's interface id.
    pub interface_info: String,
}

/// `CaptureStart`: the request, echoed.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureStart {
    /// `CaptureStart`.
    pub kind: &'static str,
    /// `{capture_config}`.
    pub metadata: CaptureStartMeta,
    /// `{interfaces?}`.
    pub spec: CaptureStartSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `metadata` of `CaptureStart`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaptureStartMeta {
    /// The sink and ports.
    pub capture_config: CaptureConfig,
}

/// `spec` of `CaptureStart`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaptureStartSpec {
    /// The captured interfaces.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<CaptureInterface>,
}

impl Named for CaptureStart {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        self.metadata
            .capture_config
            .sink
            .as_ref()
            .map_or_else(|| "invalid IP".to_owned(), ToString::to_string)
    }
}

/// The answer of `capture stop` (kind is empty upstream).
#[derive(Debug, Clone, Serialize)]
pub struct CaptureStop {
    /// Empty.
    pub kind: &'static str,
    /// `{}`.
    pub metadata: NoMeta,
    /// `{iface_cnt}`.
    pub spec: CaptureStopSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `spec` of the stop answer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaptureStopSpec {
    /// How many interfaces stopped capturing.
    pub iface_cnt: u32,
}

impl Named for CaptureStop {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        "capture stopped".to_owned()
    }
}

/// The answer of `capture status` (kind is empty upstream).
#[derive(Debug, Clone, Serialize)]
pub struct CaptureStatus {
    /// Empty.
    pub kind: &'static str,
    /// `{}`.
    pub metadata: NoMeta,
    /// Whether and how capture runs.
    pub spec: CaptureStatusSpec,
    /// Per spec §4.2.
    pub status: Status,
}

/// `spec` of the status answer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaptureStatusSpec {
    /// Whether capture is active.
    pub operation_status: bool,
    /// The active configuration (`{}` when inactive).
    pub capture_config: CaptureConfig,
    /// The captured interfaces.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<CaptureInterface>,
}

impl Named for CaptureStatus {
    fn kind(&self) -> &str {
        self.kind
    }
    fn name(&self) -> String {
        "get capture status".to_owned()
    }
}
