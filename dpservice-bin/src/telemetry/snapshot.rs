//! What the worker publishes for telemetry. Built on the worker between bursts, so it
//! costs O(ports + interfaces + nodes): counters are copied, nothing is walked that grows
//! with routes or flows.

use crate::datapath::Datapath;
use crate::graph::NodeStats;
use crate::port::{PortId, PortStats};
use crate::state::State;
use crate::wire::MacAddr;
use crate::worker::Dataplane;

/// MTU of the software ports (the daemon never changes it).
pub const TAP_MTU: u16 = 1500;

/// Counters of one graph node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCounters {
    /// Its name (`rx-0-0`, `cls`, ...).
    pub name: String,
    /// Calls, objects, cycles.
    pub stats: NodeStats,
}

/// One port as `/ethdev/...` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSnapshot {
    /// Port number.
    pub id: PortId,
    /// Link up (uplinks: the device's state; VM ports: started by an interface).
    pub link_up: bool,
    /// Started (receiving).
    pub started: bool,
    /// Device counters.
    pub stats: PortStats,
    /// Its own MAC address.
    pub mac: MacAddr,
    /// Its MTU.
    pub mtu: u16,
}

/// One VM interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceSnapshot {
    /// Interface id (any characters).
    pub id: String,
    /// Firewall rules installed.
    pub firewall_rules: u64,
    /// NAT ports in use by its flows.
    pub nat_used_ports: u64,
}

/// The packet buffer pool, as `/eal/heap_info` shows the daemon's memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapSnapshot {
    /// Bytes of one buffer.
    pub buffer_size: u64,
    /// Buffers created so far.
    pub created: u64,
    /// Buffers handed out now.
    pub in_use: u64,
}

/// Everything telemetry answers from, as of one moment of the worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TelemetrySnapshot {
    /// Every graph node, fixed nodes first.
    pub nodes: Vec<NodeCounters>,
    /// Drops per reason, in `DropReason` declaration order.
    pub drops: Vec<(&'static str, u64)>,
    /// Every open port, in port order.
    pub ports: Vec<PortSnapshot>,
    /// Interfaces in port order.
    pub interfaces: Vec<InterfaceSnapshot>,
    /// The buffer pool.
    pub heap: HeapSnapshot,
    /// Ports in use per virtual service, in command-line order.
    pub virtsvc_used_ports: Vec<u64>,
}

impl TelemetrySnapshot {
    /// Takes the snapshot on the worker.
    pub fn take(dp: &Dataplane) -> TelemetrySnapshot {
        let mut snap = TelemetrySnapshot {
            interfaces: interfaces(
                &dp.state.for_packets(),
                dp.packets.as_ref().map(|p| &p.graph),
            ),
            ..TelemetrySnapshot::default()
        };
        if let Some(p) = &dp.packets {
            snap.add_packet_path(p);
        }
        snap
    }

    fn add_packet_path(&mut self, p: &Datapath) {
        self.nodes = p
            .graph
            .node_stats()
            .map(|(name, stats)| NodeCounters {
                name: name.to_owned(),
                stats,
            })
            .collect();
        self.drops = p.graph.drop_stats().map(|(r, n)| (r.name(), n)).collect();
        self.ports = p
            .ports
            .iter()
            .map(|(id, dev)| {
                let graph = p.graph.port(id);
                PortSnapshot {
                    id,
                    link_up: graph.is_some_and(|g| if g.is_pf() { g.link_up } else { g.started }),
                    started: graph.is_some_and(|g| g.started),
                    stats: dev.stats(),
                    mac: dev.mac(),
                    mtu: TAP_MTU,
                }
            })
            .collect();
        self.virtsvc_used_ports = p.graph.virtsvc_used_ports(std::time::Instant::now());
        let pool = p.graph.pool();
        self.heap = HeapSnapshot {
            buffer_size: (crate::port::buf::BUF_HEADER_SIZE + crate::port::buf::BUF_SIZE) as u64,
            created: pool.created() as u64,
            in_use: pool.in_use() as u64,
        };
    }
}

fn interfaces(state: &State, graph: Option<&crate::graph::Graph>) -> Vec<InterfaceSnapshot> {
    state
        .interfaces()
        .map(|(port, vf)| InterfaceSnapshot {
            id: vf.interface_id.to_string(),
            firewall_rules: vf.firewall.len() as u64,
            // NAT ports held by flows the interface created
            nat_used_ports: graph.map_or(0, |g| g.nat_used_ports(port)),
        })
        .collect()
}
