//! The state tables of dataplane.md §18 in the instance's shared-memory region
//! (ARCHITECTURE.md "State"): created at start-up, written only by the worker, read by
//! the tools, the telemetry server and tests without asking anyone.
//!
//! Two kinds of table live here:
//! - the flow tables (`conntrack_table`, `nat_portmap_table`, `nat_portoverload_table`,
//!   `virtsvc_table_<i>`): the packet path owns their writers and looks flows up in the
//!   very memory the tools read; there is no second copy;
//! - the configuration tables (interfaces, SNAT, DNAT, load balancers, VNIs, VNFs): small
//!   (at most a few thousand entries) and changed only by control-plane calls. The worker
//!   publishes them from its [`State`] between bursts, one table per loop turn, so no turn
//!   holds packets for longer than the cost of one table.
//!
//! Publishing compares the desired content ([`projection`]) with what the region holds and
//! writes only the difference, so a reader sees each entry change once, whole (the
//! engine's per-entry seqlock), and unchanged entries are never rewritten. It runs only
//! when the state's version moved since the last complete pass: an idle daemon pays one
//! comparison per loop turn.

pub mod projection;

use std::collections::HashSet;

use dpservice::instance::Instance;
use dpservice::shm::catalogue::{
    self, Catalogue, CatalogueTable, DnatValue, FlowEntry, FlowKey, IdKey, InterfaceValue,
    Ipv4VniKey, LbKey, LbValue, PortmapKey, PortmapValue, PortoverloadKey, PortoverloadValue,
    SnatValue, VirtsvcKey, VirtsvcValue, VnfKey, VnfValue, VniKey, VniValue,
};
use dpservice::shm::mirror;
use dpservice::shm::region::{
    LayoutError, Region, RegionBuilder, RegionCreateError, WritableRegion,
};
use dpservice::shm::table::{TableError, TableWriter};

use crate::state::State;
use projection::MacOf;

/// Why the region could not be set up (start-up fails: the tools could see nothing).
#[derive(Debug, thiserror::Error)]
pub enum TablesError {
    /// The catalogue does not fit the layout limits (a bug, not an operator error).
    #[error("cannot lay out the shared-memory tables: {0}")]
    Layout(#[from] LayoutError),
    /// The region file could not be created.
    #[error("cannot create the shared-memory region: {0}")]
    Create(#[from] RegionCreateError),
    /// A table of the catalogue is missing from the region just created (a bug).
    #[error("cannot attach to a shared-memory table: {0}")]
    Attach(#[from] TableError),
}

/// The writers of the flow tables, for the packet path.
#[derive(Debug)]
pub struct FlowTables {
    /// `conntrack_table`: both keys of every connection.
    pub conntrack: TableWriter<FlowKey, FlowEntry>,
    /// `nat_portmap_table`.
    pub portmap: TableWriter<PortmapKey, PortmapValue>,
    /// `nat_portoverload_table`.
    pub portoverload: TableWriter<PortoverloadKey, PortoverloadValue>,
    /// `virtsvc_table_<i>`, one per `--udp-virtsvc`/`--tcp-virtsvc`, in order.
    pub virtsvc: Vec<TableWriter<VirtsvcKey, VirtsvcValue>>,
}

impl FlowTables {
    /// Flow tables in a region of their own that no tool can open: for a graph without a
    /// daemon (tests, benchmarks), with room for `conntrack_capacity` keys.
    pub fn private(
        virtual_services: usize,
        conntrack_capacity: u64,
    ) -> Result<FlowTables, TablesError> {
        FlowTables::private_with(virtual_services, conntrack_capacity, false)
    }

    /// Like [`FlowTables::private`], with all of the memory faulted in at once, as the
    /// daemon's region is (benchmarks: new flows then pay no page faults).
    pub fn private_prefaulted(
        virtual_services: usize,
        conntrack_capacity: u64,
    ) -> Result<FlowTables, TablesError> {
        FlowTables::private_with(virtual_services, conntrack_capacity, true)
    }

    fn private_with(
        virtual_services: usize,
        conntrack_capacity: u64,
        prefault: bool,
    ) -> Result<FlowTables, TablesError> {
        let mut builder = RegionBuilder::new()
            .numa_socket(projection::SOCKET_ANY)
            .prefault(prefault);
        for i in 0..virtual_services {
            builder.table::<VirtsvcKey, VirtsvcValue>(
                &catalogue::virtsvc_name(i),
                catalogue::VIRTSVC_CAPACITY,
            )?;
        }
        builder.table::<FlowKey, FlowEntry>(catalogue::Conntrack::NAME, conntrack_capacity)?;
        // one overload entry per NATed flow: room for as many flows as conntrack holds
        let nat_capacity = catalogue::NatPortoverload::CAPACITY.max(conntrack_capacity / 2);
        builder.table::<PortmapKey, PortmapValue>(catalogue::NatPortmap::NAME, nat_capacity)?;
        builder.table::<PortoverloadKey, PortoverloadValue>(
            catalogue::NatPortoverload::NAME,
            nat_capacity,
        )?;
        let region = builder.create_private()?;
        Ok(FlowTables {
            conntrack: Catalogue::writer::<catalogue::Conntrack>(&region)?,
            portmap: Catalogue::writer::<catalogue::NatPortmap>(&region)?,
            portoverload: Catalogue::writer::<catalogue::NatPortoverload>(&region)?,
            virtsvc: (0..virtual_services)
                .map(|i| Catalogue::virtsvc_writer(&region, i))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// The writers of the configuration tables.
#[derive(Debug)]
struct ConfigTables {
    interfaces: TableWriter<IdKey, InterfaceValue>,
    snat: TableWriter<Ipv4VniKey, SnatValue>,
    dnat: TableWriter<Ipv4VniKey, DnatValue>,
    lbs: TableWriter<LbKey, LbValue>,
    lb_ids: TableWriter<IdKey, LbKey>,
    vnis: TableWriter<VniKey, VniValue>,
    vnfs: TableWriter<VnfKey, VnfValue>,
    reverse_vnfs: TableWriter<VnfValue, VnfKey>,
}

/// How many configuration tables one publishing pass visits, one per turn.
const CONFIG_TABLES: usize = 8;

/// Where a publishing pass stands.
#[derive(Debug, Clone, Copy)]
struct Pass {
    /// The state version the pass started from.
    version: u64,
    /// The next table to publish (index into the order of [`ConfigTables::publish`]).
    next: usize,
}

/// The region and every writer in it. Dropping it removes the region file (clean exit).
#[derive(Debug)]
pub struct SharedTables {
    // field order: the writers go before the region they point into
    config: ConfigTables,
    /// The flow tables' writers, until the packet graph takes them.
    flows: Option<FlowTables>,
    /// Insert failures of configuration tables (a full table), for the log.
    publish_failures: u64,
    /// The state version the region reflects completely.
    published: Option<u64>,
    pass: Option<Pass>,
    region: WritableRegion,
}

impl SharedTables {
    /// Creates the region of `instance` (replacing a crashed predecessor's file) with every
    /// table of the catalogue: `virtual_services` connection tables first, then the fixed
    /// ones, as telemetry registers them.
    pub fn create(
        instance: &Instance,
        virtual_services: usize,
        hash_seed: u64,
    ) -> Result<SharedTables, TablesError> {
        let mut builder = RegionBuilder::new()
            .numa_socket(projection::SOCKET_ANY)
            .hash_seed(hash_seed);
        Catalogue::standard(&mut builder, virtual_services)?;
        builder.mirror_rings(mirror::RINGS_NAME, mirror::RingGeometry::DAEMON)?;
        let region = builder.create(&instance.shm_path())?;
        let config = ConfigTables {
            interfaces: Catalogue::writer::<catalogue::Interfaces>(&region)?,
            snat: Catalogue::writer::<catalogue::Snat>(&region)?,
            dnat: Catalogue::writer::<catalogue::Dnat>(&region)?,
            lbs: Catalogue::writer::<catalogue::LoadBalancers>(&region)?,
            lb_ids: Catalogue::writer::<catalogue::LoadBalancerIds>(&region)?,
            vnis: Catalogue::writer::<catalogue::Vnis>(&region)?,
            vnfs: Catalogue::writer::<catalogue::Vnfs>(&region)?,
            reverse_vnfs: Catalogue::writer::<catalogue::ReverseVnfs>(&region)?,
        };
        let flows = FlowTables {
            conntrack: Catalogue::writer::<catalogue::Conntrack>(&region)?,
            portmap: Catalogue::writer::<catalogue::NatPortmap>(&region)?,
            portoverload: Catalogue::writer::<catalogue::NatPortoverload>(&region)?,
            virtsvc: (0..virtual_services)
                .map(|i| Catalogue::virtsvc_writer(&region, i))
                .collect::<Result<_, _>>()?,
        };
        Ok(SharedTables {
            config,
            flows: Some(flows),
            publish_failures: 0,
            published: None,
            pass: None,
            region,
        })
    }

    /// The flow tables' writers, for the packet graph (once).
    pub fn take_flows(&mut self) -> Option<FlowTables> {
        self.flows.take()
    }

    /// The worker's handle on the mirror rings (graph tracing for `dpservice-dump`).
    pub fn mirror_producer(&self) -> Result<mirror::Producer, mirror::MirrorError> {
        mirror::producer(&self.region)
    }

    /// Faults the region's memory in when run (on a thread of the caller's): the first
    /// packets of new flows then do not pay the kernel's allocate-and-zero of the table
    /// pages (dataplane memory is all there from the start, as upstream's hugepage pools
    /// are).
    pub fn prefaulter(&self) -> dpservice::shm::Prefaulter {
        self.region.prefaulter()
    }

    /// A reader's view of the region (telemetry, in-process checks).
    pub fn region(&self) -> Region {
        self.region.region()
    }

    /// Whether the configuration tables lag behind `state`: the worker must not sleep.
    pub fn behind(&self, state: &State) -> bool {
        self.pass.is_some() || self.published != Some(state.version())
    }

    /// One turn of publishing: at most one configuration table is brought up to date with
    /// `state`. A pass over all of them that saw no change of the state in between makes
    /// the region current; a change during a pass starts another pass after it.
    pub fn publish_step(&mut self, state: &State, mac_of: MacOf<'_>) {
        let pass = match self.pass {
            Some(pass) => pass,
            None if self.published == Some(state.version()) => return,
            None => Pass {
                version: state.version(),
                next: 0,
            },
        };
        let failures = self.config.publish(pass.next, state, mac_of);
        if failures > 0 {
            self.publish_failures += failures;
            tracing::error!(
                failures = self.publish_failures,
                "A shared-memory table is full: the tools do not see every object"
            );
        }
        let next = pass.next + 1;
        if next < CONFIG_TABLES {
            self.pass = Some(Pass { next, ..pass });
        } else {
            self.pass = None;
            self.published = Some(pass.version);
        }
    }

    /// Publishes everything at once (start-up, tests).
    pub fn publish_all(&mut self, state: &State, mac_of: MacOf<'_>) {
        self.pass = None;
        self.published = None;
        while self.behind(state) {
            self.publish_step(state, mac_of);
        }
    }
}

impl ConfigTables {
    /// Publishes table number `which`; answers how many inserts failed.
    fn publish(&mut self, which: usize, state: &State, mac_of: MacOf<'_>) -> u64 {
        match which {
            0 => sync(&mut self.interfaces, &projection::interfaces(state, mac_of)),
            1 => sync(&mut self.snat, &projection::snat(state)),
            2 => sync(&mut self.dnat, &projection::dnat(state)),
            3 => sync(&mut self.lbs, &projection::load_balancers(state)),
            4 => sync(&mut self.lb_ids, &projection::load_balancer_ids(state)),
            5 => sync(&mut self.vnis, &projection::vnis(state)),
            6 => sync(&mut self.vnfs, &projection::vnfs(state)),
            _ => sync(&mut self.reverse_vnfs, &projection::reverse_vnfs(state)),
        }
    }
}

/// Makes `table` hold exactly `desired`: changed and new entries are written, entries no
/// longer desired removed. Answers how many inserts failed for want of room.
fn sync<K, V>(table: &mut TableWriter<K, V>, desired: &[(K, V)]) -> u64
where
    K: bytemuck::Pod + Eq,
    V: bytemuck::Pod + PartialEq,
{
    let keep: HashSet<&[u8]> = desired.iter().map(|(k, _)| bytemuck::bytes_of(k)).collect();
    // removals first, so a full table has room for what replaces them
    table.retain(|k, _| keep.contains(bytemuck::bytes_of(k)));
    let mut failures = 0;
    for (key, value) in desired {
        if table.get(key).as_ref() != Some(value) && table.upsert(*key, *value).is_err() {
            failures += 1;
        }
    }
    failures
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
