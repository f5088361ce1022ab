//! The DPDK v2 telemetry socket of the daemon (tools.md §3).
//!
//! - [`snapshot`]: what the worker publishes for telemetry (node, port, interface and
//!   table counters), built in O(ports + interfaces + nodes);
//! - [`share`]: the hand-over between the worker and the server: the server asks (flag +
//!   wake-up), the worker publishes at its next loop turn without ever blocking;
//! - [`commands`]: the command table and the answers (`/dp_service/...`, built-ins);
//! - [`ethdev`]: DPDK's standard `/eal/...` and `/ethdev/...` answers for our ports;
//! - [`server`]: the `SOCK_SEQPACKET` server thread;
//! - [`clock`]: the cycle clock the graph samples per-node cycle counts with.

pub mod clock;
pub mod commands;
pub mod ethdev;
pub mod server;
pub mod share;
pub mod snapshot;

pub use commands::Commands;
pub use server::{TelemetryError, TelemetryServer};
pub use share::SnapshotShare;
pub use snapshot::TelemetrySnapshot;

use dpservice::shm::region::Region;

use crate::config::virtsvc::VirtsvcProto;
use crate::config::Config;

/// The fixed part of the answers: ethdev names by port, virtual-service keys.
pub fn statics(cfg: &Config, tables: Option<Region>) -> commands::Statics {
    commands::Statics {
        port_names: cfg
            .taps
            .iter()
            .map(|t| (t.port_id, t.device.clone()))
            .collect(),
        virtual_services: cfg
            .virtual_services
            .iter()
            .map(|v| {
                let proto = match v.proto {
                    VirtsvcProto::Udp => "UDP",
                    VirtsvcProto::Tcp => "TCP",
                };
                format!("{proto}:{}:{}", v.spec.virtual_addr, v.spec.virtual_port)
            })
            .collect(),
        tables,
    }
}
