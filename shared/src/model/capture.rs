//! Packet capture to a remote collector (§8.12, §10.7).

use std::net::Ipv6Addr;

/// A port to capture.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CapturedInterface {
    /// An uplink by index (0 or 1 exist).
    Pf(u8),
    /// A VM interface by interface ID.
    Vf(String),
}

/// `CaptureStart`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureConfig {
    /// The collector.
    pub sink_node: Ipv6Addr,
    /// UDP source port of mirrored packets.
    pub udp_src_port: u16,
    /// UDP destination port.
    pub udp_dst_port: u16,
    /// Ports to capture, at most 16.
    pub interfaces: Vec<CapturedInterface>,
}

/// `CaptureStatus`: `None` when no capture runs.
pub type CaptureStatus = Option<CaptureConfig>;
