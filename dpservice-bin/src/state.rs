//! PLACEHOLDER for the control-plane state, owned by the `state` engineer (branch
//! `state`). It holds only the types and the constructor of CONTRACT.md that the
//! process wiring needs; when the real `crate::state` is merged this file is deleted
//! and the real module takes its place unchanged for its users.

use std::net::Ipv6Addr;

/// DPDK-style port number (`--vdev` order).
pub type PortId = u16;

/// A probed port with a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    /// Port number.
    pub id: PortId,
    /// Device name (`net_tap2`), what `CreateInterface.device` names.
    pub device: String,
    /// Kernel interface name (`dtapvf_0`).
    pub kernel_name: String,
    /// Role.
    pub kind: PortKind,
}

/// Role of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortKind {
    /// First uplink.
    Pf0,
    /// Second uplink.
    Pf1,
    /// VM port.
    Vf,
}

/// `--nic-type` as the state sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NicType {
    /// Mellanox.
    Mellanox,
    /// TAP devices.
    #[default]
    Tap,
    /// BlueField-2.
    Bluefield2,
}

/// What the state needs from the configuration.
#[derive(Debug, Clone)]
pub struct StateConfig {
    /// `--ipv6`.
    pub host_underlay: Ipv6Addr,
    /// pf0, pf1, VFs.
    pub ports: Vec<PortInfo>,
    /// `--static-underlay`.
    pub deterministic_underlays: bool,
    /// `--nic-type`.
    pub nic_type: NicType,
}

impl StateConfig {
    /// Upstream's defaults for the rest.
    pub fn new(host_underlay: Ipv6Addr, ports: Vec<PortInfo>) -> StateConfig {
        StateConfig {
            host_underlay,
            ports,
            deterministic_underlays: false,
            nic_type: NicType::default(),
        }
    }
}

/// The control-plane state (placeholder: holds the configuration only).
#[derive(Debug)]
pub struct State {
    cfg: StateConfig,
}

impl State {
    /// Builds the empty state.
    pub fn new(cfg: StateConfig) -> State {
        State { cfg }
    }

    /// The ports with a role.
    pub fn ports(&self) -> &[PortInfo] {
        &self.cfg.ports
    }
}
