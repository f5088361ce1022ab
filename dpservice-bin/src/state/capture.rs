//! Packet capture to a remote collector (grpc-api.md §8.12, dataplane.md §14).
//!
//! Our ports cannot mirror packets yet, so `CaptureStart` answers 211 as upstream does
//! without hardware offload. The bookkeeping is complete all the same: a port backend
//! that can mirror sets [`StateConfig::capture_supported`](super::StateConfig) and the
//! packet path reads [`Capture::active`].

use std::net::Ipv6Addr;

use dpservice::model::{CaptureConfig, CaptureStatus, CapturedInterface};
use dpservice::status::ServiceError;

use super::{PortId, PortKind, State};

/// A running capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveCapture {
    /// The collector.
    pub sink: Ipv6Addr,
    /// UDP source port of mirrored packets.
    pub udp_src_port: u16,
    /// UDP destination port.
    pub udp_dst_port: u16,
    /// Captured ports, ascending.
    pub ports: Vec<PortId>,
}

/// Capture state.
#[derive(Debug, Clone)]
pub struct Capture {
    supported: bool,
    active: Option<ActiveCapture>,
}

impl Capture {
    pub(super) fn new(supported: bool) -> Capture {
        Capture {
            supported,
            active: None,
        }
    }

    /// The running capture, if any.
    pub fn active(&self) -> Option<&ActiveCapture> {
        self.active.as_ref()
    }

    /// Whether packets of `port` are mirrored.
    pub fn is_captured(&self, port: PortId) -> bool {
        self.active
            .as_ref()
            .is_some_and(|c| c.ports.binary_search(&port).is_ok())
    }

    /// A port whose interface went away is no longer captured.
    pub(super) fn forget_port(&mut self, port: PortId) {
        if let Some(c) = &mut self.active {
            c.ports.retain(|&p| p != port);
        }
    }
}

impl State {
    /// `CaptureStart`: **211** the ports cannot capture, **210** a capture runs; then per
    /// port in order **201** unknown interface ID or PF index, **210** listed twice.
    /// Nothing is captured after a failure.
    pub fn capture_start(&mut self, cfg: &CaptureConfig) -> Result<(), ServiceError> {
        if !self.capture.supported {
            return Err(ServiceError::NotActive);
        }
        if self.capture.active.is_some() {
            return Err(ServiceError::AlreadyActive);
        }
        let mut ports: Vec<PortId> = Vec::with_capacity(cfg.interfaces.len());
        for iface in &cfg.interfaces {
            let port = match iface {
                CapturedInterface::Vf(id) => self.port_of(id),
                CapturedInterface::Pf(index) => {
                    let kind = match index {
                        0 => Some(PortKind::Pf0),
                        1 => Some(PortKind::Pf1),
                        _ => None,
                    };
                    self.ports
                        .iter()
                        .find(|p| Some(p.kind) == kind)
                        .map(|p| p.id)
                }
            }
            .ok_or(ServiceError::NotFound)?;
            if ports.contains(&port) {
                return Err(ServiceError::AlreadyActive);
            }
            ports.push(port);
        }
        ports.sort_unstable();
        self.capture.active = Some(ActiveCapture {
            sink: cfg.sink_node,
            udp_src_port: cfg.udp_src_port,
            udp_dst_port: cfg.udp_dst_port,
            ports,
        });
        self.touch();
        Ok(())
    }

    /// `CaptureStop`: **211** no capture; otherwise the number of ports released (our
    /// fix of §13 #4).
    pub fn capture_stop(&mut self) -> Result<u32, ServiceError> {
        let active = self.capture.active.take().ok_or(ServiceError::NotActive)?;
        self.touch();
        Ok(u32::try_from(active.ports.len()).unwrap_or(u32::MAX))
    }

    /// `CaptureStatus`: the running configuration with its ports in port order.
    pub fn capture_status(&self) -> CaptureStatus {
        let active = self.capture.active.as_ref()?;
        let interfaces = active
            .ports
            .iter()
            .filter_map(|&port| match self.port_info(port)?.kind {
                PortKind::Pf0 => Some(CapturedInterface::Pf(0)),
                PortKind::Pf1 => Some(CapturedInterface::Pf(1)),
                PortKind::Vf => Some(CapturedInterface::Vf(
                    self.vf(port)?.interface_id.to_string(),
                )),
            })
            .collect();
        Some(CaptureConfig {
            sink_node: active.sink,
            udp_src_port: active.udp_src_port,
            udp_dst_port: active.udp_dst_port,
            interfaces,
        })
    }
}
