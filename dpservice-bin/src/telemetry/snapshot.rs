//! What the worker publishes for telemetry. Built on the worker between bursts, so it
//! costs O(ports + interfaces + nodes): counters are copied, nothing is walked that grows
//! with routes or flows.

use crate::graph::datapath::Datapath;
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

/// Fill level of one state table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSaturation {
    /// The daemon's table name without NUMA suffix.
    pub name: String,
    /// Configured maximum.
    pub capacity: u64,
    /// Keys now.
    pub entries: u64,
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
    /// Table fill levels in registration order.
    pub tables: Vec<TableSaturation>,
    /// The buffer pool.
    pub heap: HeapSnapshot,
}

impl TelemetrySnapshot {
    /// Takes the snapshot on the worker. `virtsvc_tables`: how many virtual services
    /// are configured (each has a `virtsvc_table_<i>`).
    pub fn take(dp: &Dataplane, virtsvc_tables: usize) -> TelemetrySnapshot {
        let mut snap = TelemetrySnapshot {
            interfaces: interfaces(&dp.state),
            tables: table_saturation(&dp.state, virtsvc_tables),
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
        let pool = p.graph.pool();
        self.heap = HeapSnapshot {
            buffer_size: size_of::<crate::port::Buf>() as u64,
            created: pool.created() as u64,
            in_use: pool.in_use() as u64,
        };
    }
}

fn interfaces(state: &State) -> Vec<InterfaceSnapshot> {
    state
        .interfaces()
        .map(|(_, vf)| InterfaceSnapshot {
            id: vf.interface_id.clone(),
            firewall_rules: vf.firewall.len() as u64,
            // no NAT flows yet: no port is ever in use
            nat_used_ports: 0,
        })
        .collect()
}

/// Capacity of every virtual service's connection table.
pub const VIRTSVC_TABLE_CAPACITY: u64 = 64_512;

/// The tables of `/dp_service/table/saturation`, in upstream's registration order with
/// the nominal capacities of tools.md §2.3. Entries come from the state's own counts;
/// the flow tables (conntrack, NAT port map and overload) do not exist yet and count 0.
pub fn table_saturation(state: &State, virtsvc_tables: usize) -> Vec<TableSaturation> {
    let interfaces = state.interfaces().count() as u64;
    let snat = state
        .interfaces()
        .filter(|(_, vf)| vf.vip.is_some() || vf.nat.is_some())
        .count() as u64;
    let dnat = state.nat_tables().dnat_entries().count() as u64;
    let lbs = state.load_balancers().len() as u64;
    let vnis = state.vni_tables().iter().count() as u64;
    let vnfs = state.vnf_table().len() as u64;
    let fixed: [(&str, u64, u64); 11] = [
        ("conntrack_table", 850_000, 0),
        ("interface_table", 128, interfaces),
        ("snat_table", 4032, snat),
        ("dnat_table", 4032, dnat),
        ("nat_portmap_table", 850_000, 0),
        ("nat_portoverload_table", 850_000, 0),
        ("loadbalancer_table", 256, lbs),
        ("loadbalancer_id_table", 256, lbs),
        ("vni_table", 512, vnis),
        ("vnf_table", 1000, vnfs),
        ("reverse_vnf_table", 1000, vnfs),
    ];
    (0..virtsvc_tables)
        .map(|i| TableSaturation {
            name: format!("virtsvc_table_{i}"),
            capacity: VIRTSVC_TABLE_CAPACITY,
            entries: 0,
        })
        .chain(
            fixed
                .iter()
                .map(|&(name, capacity, entries)| TableSaturation {
                    name: name.to_owned(),
                    capacity,
                    entries,
                }),
        )
        .collect()
}
