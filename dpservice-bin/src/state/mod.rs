//! The control-plane state of the daemon: interfaces, routes, underlays, NAT, load
//! balancers, firewall rules and capture configuration.
//!
//! Sans-I/O: no threads, no clocks, no devices. The worker thread is the only writer of
//! the one [`State`] (ARCHITECTURE.md principles 2 and 3): the gRPC handlers send
//! closures that call one mutating method per RPC, and the packet path reads the tables
//! between those calls through the accessors below. Get/List methods (`&self`) run on
//! gRPC threads; `crate::shared_state` shares the state so that neither side waits for
//! the other. What a change removes that is big to free goes to [`State::take_retired`].
//!
//! Every mutating method first checks everything that can fail, in the order upstream
//! reports failures (grpc-api.md §8), and only then changes anything. A failed call
//! therefore leaves no trace, without undo code.

mod capture;
mod firewall;
mod firewall_index;
mod firewall_rules;
mod interfaces;
mod lb;
pub mod maglev;
mod nat;
mod prefixes;
mod route_table;
mod routes;
mod underlay;

/// Seeded random traffic of the graph's tests.
#[cfg(test)]
pub(crate) use underlay::SplitMix64;
mod vni;

#[cfg(test)]
pub(crate) mod tests;

/// A map the packet path reads per packet. foldhash rather than std's SipHash: several
/// times faster on these small fixed-size keys (SipHash was half the cost of a routed
/// packet), and still seeded per process, so senders cannot aim keys at one bucket.
pub(crate) type PacketMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dpservice::model::ObjectId;
use dpservice::status::ServiceError;

pub use capture::{ActiveCapture, Capture};
pub use firewall::{FirewallPacket, Verdict};
pub use firewall_rules::{FirewallRules, Rules};
pub use interfaces::VfConfig;
pub use lb::{Lb, LoadBalancers};
pub use maglev::MaglevTable;
pub use nat::{DnatTarget, NatConfig, NatTables, NeighborNatEntry, VipConfig};
pub use prefixes::PrefixRecord;
pub use route_table::{RouteEntry, RouteOrigin, RouteTable, RouteTarget};
pub use underlay::{
    is_valid_preferred_underlay, UnderlayGenerator, Underlays, Vnf, VnfKind, VnfTable,
};
pub use vni::{VniTables, Vnis};

/// DPDK-style port number, in `--vdev` order.
pub type PortId = u16;

/// What a port is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortKind {
    /// The first uplink.
    Pf0,
    /// The second uplink.
    Pf1,
    /// A VM port; gets an interface through `CreateInterface`.
    Vf,
}

/// A port the daemon drives, as the control plane sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    /// Port number.
    pub id: PortId,
    /// Device name that `CreateInterface.device_name` names, e.g. `net_tap2`.
    pub device: String,
    /// Linux netdev name, e.g. `dtapvf_0`; returned by `CreateInterface` for VFs.
    pub kernel_name: String,
    /// Uplink or VM port.
    pub kind: PortKind,
}

/// `--nic-type`: metering takes effect on Mellanox only (grpc-api.md §10.6).
pub use crate::config::NicType;

/// Table capacities. The defaults are upstream's fixed sizes (grpc-api.md §10.9); a test
/// may lower them to reach the limits cheaply, production must never go below them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Underlay registrations of every kind together (401 beyond).
    pub underlays: usize,
    /// VNIs with route tables (361 beyond).
    pub vnis: usize,
    /// Routes per VNI and family (303 beyond).
    pub routes_per_table: usize,
    /// Load balancers (208 beyond).
    pub load_balancers: usize,
    /// Targets per load balancer (423 beyond).
    pub targets_per_lb: usize,
    /// DNAT entries: VIP and NAT addresses per VNI (322 beyond).
    pub dnat_entries: usize,
    /// Neighbour-NAT ranges (208 beyond). Upstream: memory only.
    pub neighbor_nats: usize,
    /// Firewall rules per interface (208 beyond). Upstream: memory only.
    pub firewall_rules_per_interface: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            underlays: 1000,
            vnis: 512,
            routes_per_table: 1024,
            load_balancers: 256,
            targets_per_lb: 64,
            dnat_entries: 4032,
            neighbor_nats: 65_536,
            firewall_rules_per_interface: 65_536,
        }
    }
}

/// How the state is set up at start.
#[derive(Debug, Clone)]
pub struct StateConfig {
    /// `--ipv6`: the host's underlay address; its /64 holds every generated underlay.
    pub host_underlay: Ipv6Addr,
    /// Every port, uplinks and VFs.
    pub ports: Vec<PortInfo>,
    /// Generate underlays as upstream's test build does (`…:d000:1:0:1`, `…:2`, …).
    pub deterministic_underlays: bool,
    /// NIC type (metering).
    pub nic_type: NicType,
    /// Seed of the underlay generator's random parts (ignored when deterministic).
    pub underlay_seed: u64,
    /// Whether the ports can mirror packets; `CaptureStart` answers 211 otherwise, as
    /// upstream does without hardware offload.
    pub capture_supported: bool,
    /// Table capacities.
    pub limits: Limits,
}

impl StateConfig {
    /// A configuration with upstream's defaults: random underlays, TAP NIC, no capture.
    pub fn new(host_underlay: Ipv6Addr, ports: Vec<PortInfo>) -> StateConfig {
        StateConfig {
            host_underlay,
            ports,
            deterministic_underlays: false,
            nic_type: NicType::Tap,
            underlay_seed: random_seed(),
            capture_supported: false,
            limits: Limits::default(),
        }
    }
}

/// A per-process random number, for [`StateConfig::underlay_seed`].
pub fn random_seed() -> u64 {
    // std seeds every RandomState from the OS; hashing nothing yields that seed's value.
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

/// Connection-tracking flows that a configuration change made stale (dataplane.md §7.7).
///
/// The state does not own the flow table; it queues these and the worker applies them
/// to conntrack after each control-plane call ([`State::take_flow_purges`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowPurge {
    /// An interface went: flows created on its port, and flows in its VNI whose
    /// original destination is its IPv4.
    Interface {
        /// The port.
        port: PortId,
        /// Its VNI.
        vni: u32,
        /// Its IPv4, if it had one.
        ipv4: Option<Ipv4Addr>,
    },
    /// A VIP went: flows created on the port with NAT type VIP.
    Vip {
        /// The VM's port.
        port: PortId,
    },
    /// A NAT went: flows created on the port with NAT type network-local.
    Nat {
        /// The VM's port.
        port: PortId,
    },
    /// A neighbour range went: flows in the VNI towards the NAT IP with a destination
    /// port in `[min_port, max_port)`.
    NeighborNat {
        /// VNI.
        vni: u32,
        /// Public NAT address.
        ip: Ipv4Addr,
        /// First port.
        min_port: u16,
        /// End, exclusive.
        max_port: u16,
    },
    /// A load-balancer target went: flows whose stored underlay destination is it.
    LbTarget {
        /// The target's underlay.
        target: Ipv6Addr,
    },
}

/// Something a change removed from the tables, to be dropped off the worker thread
/// (freeing 262,144 routes or 65,536 firewall rules takes milliseconds).
pub struct Retired(#[allow(dead_code)] Box<dyn Send + Sync>);

impl std::fmt::Debug for Retired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Retired")
    }
}

/// The whole control-plane state. See the module documentation.
#[derive(Debug)]
pub struct State {
    ports: Vec<PortInfo>,
    nic_type: NicType,
    limits: Limits,
    initialized: bool,
    /// Interface configuration per port number (`None`: no interface on that port).
    vfs: Vec<Option<VfConfig>>,
    /// Interface ID → port.
    iface_ids: HashMap<ObjectId, PortId>,
    underlays: Underlays,
    vnis: Vnis,
    nat: NatTables,
    lbs: LoadBalancers,
    capture: Capture,
    /// Orders objects by creation (NAT listing, load balancers).
    next_seq: u64,
    /// Bumped by every successful change, so a mirror knows when to republish.
    version: u64,
    /// Flows to remove, for the worker.
    flow_purges: Vec<FlowPurge>,
    /// Removed structures, for the worker to hand to a thread that drops them.
    retired: Vec<Retired>,
}

impl State {
    /// A fresh, uninitialized state with no objects.
    pub fn new(cfg: StateConfig) -> State {
        let slots = cfg
            .ports
            .iter()
            .map(|p| usize::from(p.id) + 1)
            .max()
            .unwrap_or(0);
        State {
            vfs: vec![None; slots],
            iface_ids: HashMap::new(),
            underlays: Underlays::new(
                UnderlayGenerator::new(
                    cfg.host_underlay,
                    cfg.deterministic_underlays,
                    cfg.underlay_seed,
                ),
                cfg.limits.underlays,
            ),
            vnis: Vnis::new(cfg.limits.vnis, cfg.limits.routes_per_table),
            nat: NatTables::default(),
            lbs: LoadBalancers::default(),
            capture: Capture::new(cfg.capture_supported),
            ports: cfg.ports,
            nic_type: cfg.nic_type,
            limits: cfg.limits,
            initialized: false,
            next_seq: 0,
            version: 0,
            flow_purges: Vec::new(),
            retired: Vec::new(),
        }
    }

    // ---- read accessors for the packet path (no allocation) ----

    /// Every port, in port order.
    pub fn ports(&self) -> &[PortInfo] {
        &self.ports
    }

    /// The interface configured on `port`, if any.
    pub fn vf(&self, port: PortId) -> Option<&VfConfig> {
        self.vfs.get(usize::from(port)).and_then(Option::as_ref)
    }

    /// Longest-prefix match of `dst` in the VNI's table of its family.
    pub fn route_lookup(&self, vni: u32, dst: IpAddr) -> Option<&RouteTarget> {
        self.vnis.lookup(vni, dst).map(|e| &e.target)
    }

    /// Like [`State::route_lookup`], with the matched prefix (a length-0 match is a
    /// default route, which makes a flow south-north).
    pub fn route_lookup_entry(&self, vni: u32, dst: IpAddr) -> Option<&RouteEntry> {
        self.vnis.lookup(vni, dst)
    }

    /// The object an underlay address belongs to.
    pub fn vnf_lookup(&self, underlay: &Ipv6Addr) -> Option<&Vnf> {
        self.underlays.lookup(underlay)
    }

    /// The port an interface ID is bound to.
    pub fn port_of(&self, interface_id: &(impl AsRef<[u8]> + ?Sized)) -> Option<PortId> {
        self.iface_ids.get(interface_id.as_ref()).copied()
    }

    /// Whether `Initialize` has succeeded since the start.
    pub fn is_initialized(&self) -> bool {
        self.initialized
    }

    /// Counts successful changes; equal values mean equal state.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Configured interfaces in port order.
    pub fn interfaces(&self) -> impl Iterator<Item = (PortId, &VfConfig)> + '_ {
        self.vfs
            .iter()
            .enumerate()
            .filter_map(|(i, vf)| Some((PortId::try_from(i).ok()?, vf.as_ref()?)))
    }

    /// The underlay registry (for mirroring).
    pub fn vnf_table(&self) -> &VnfTable {
        self.underlays.table()
    }

    /// The VNI tables (for mirroring).
    pub fn vni_tables(&self) -> &Vnis {
        &self.vnis
    }

    /// DNAT and neighbour-NAT tables (packet path and mirroring).
    pub fn nat_tables(&self) -> &NatTables {
        &self.nat
    }

    /// Load balancers (packet path and mirroring).
    pub fn load_balancers(&self) -> &LoadBalancers {
        &self.lbs
    }

    /// Capture configuration.
    pub fn capture(&self) -> &Capture {
        &self.capture
    }

    /// The flows made stale by the calls since the last take, oldest first.
    pub fn take_flow_purges(&mut self) -> Vec<FlowPurge> {
        std::mem::take(&mut self.flow_purges)
    }

    /// What the calls since the last take removed; dropping it is the caller's job
    /// (off the worker). Without a take it is dropped with the state.
    pub fn take_retired(&mut self) -> Vec<Retired> {
        let mut out = std::mem::take(&mut self.retired);
        out.extend(self.vnis.take_retired().into_iter().map(retired));
        out
    }

    // ---- Initialize ----

    /// `Initialize`: empties every VNI's route tables and re-adds each interface's own
    /// /32 and /128, forgets every neighbour NAT and the DNAT entries of VNI 0 (upstream
    /// clears "all VNIs" with VNI 0 as the wildcard, which only the DNAT table takes
    /// literally, dataplane.md §8.3.4), and marks the daemon initialized. Also when
    /// already initialized (grpc-api.md §8.1, §13 #6).
    pub fn initialize(&mut self) -> Result<(), ServiceError> {
        self.vnis.clear_routes(None);
        self.reinstall_interface_routes(None);
        self.remove_neighbor_nats(|_| true, 0);
        self.initialized = true;
        self.touch();
        Ok(())
    }

    // ---- helpers shared by the table modules ----

    fn touch(&mut self) {
        self.version = self.version.wrapping_add(1);
    }

    /// Moves the version on after a control-plane call: whatever was derived from the
    /// state before (routing results cached in flows, the region's tables) is looked at
    /// again, also after a call that forgot to say it changed something.
    pub fn after_write(&mut self) {
        self.touch();
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// The port and interface of `interface_id`, or 205 (`NO_VM`), as every sub-object
    /// call reports an unknown interface.
    fn sub_object_owner(
        &self,
        interface_id: &(impl AsRef<[u8]> + ?Sized),
    ) -> Result<(PortId, &VfConfig), ServiceError> {
        let port = self.port_of(interface_id).ok_or(ServiceError::NoVm)?;
        let vf = self.vf(port).ok_or(ServiceError::NoVm)?;
        Ok((port, vf))
    }

    fn vf_mut(&mut self, port: PortId) -> Option<&mut VfConfig> {
        self.vfs.get_mut(usize::from(port)).and_then(Option::as_mut)
    }

    fn port_info(&self, port: PortId) -> Option<&PortInfo> {
        self.ports.iter().find(|p| p.id == port)
    }

    /// Called when the last user of a VNI went: its neighbour NATs and DNAT entries go
    /// with its route tables (grpc-api.md §10.8).
    fn purge_vni(&mut self, vni: u32) {
        self.remove_neighbor_nats(|n| n.vni == vni, vni);
    }

    fn purge_flows(&mut self, purge: FlowPurge) {
        self.flow_purges.push(purge);
    }

    /// Drops `garbage` later, off the worker thread.
    fn retire<T: Send + Sync + 'static>(&mut self, garbage: T) {
        self.retired.push(retired(garbage));
    }
}

fn retired<T: Send + Sync + 'static>(garbage: T) -> Retired {
    Retired(Box::new(garbage))
}
