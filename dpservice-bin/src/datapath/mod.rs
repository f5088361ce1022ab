//! Everything the worker thread needs for packets, behind the three hooks of its loop:
//! [`Datapath::run_bursts`] while busy, [`Datapath::sleep_fds`] and
//! [`Datapath::next_deadline`] to sleep when idle. It owns the graph, the ports and the
//! packet-path timers (maintenance frames §17.2, statistics screen §17.3); the current time
//! always comes from the caller.
//!
//! Nothing here blocks: bringing VF links up and down is asked of the `portctl` thread
//! through [`LinkRequests`], and that thread reports uplink link state (§2.5) and the
//! underlay router MAC (§17.4) back as jobs ([`Datapath::set_link`],
//! [`Datapath::set_router_mac`]); see `crate::port_control`.

pub mod port_set;
pub mod setup;
pub mod stats_screen;

use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use crate::graph::{Graph, GraphConfig, GraphPort, MaintenanceTimer, PortRole};
use crate::port::tap::{TapConfig, TapError, TapPort};
use crate::port::{LinkDevice, LinkRequests, Port, PortId};
use crate::state::State;
use crate::sync::HaSync;
use crate::wire::MacAddr;
use port_set::PortSet;
use stats_screen::{Printer, StatsScreen};

/// How soon to look again while a port without descriptor is receiving (a DPDK port:
/// it cannot wake the worker), right after packets moved...
const NO_FD_POLL: Duration = Duration::from_millis(1);
/// ...and after [`NO_FD_IDLE_TURNS`] turns in a row that moved none: each wake-up costs
/// ~40 µs of CPU on a VM (most of it the kernel's switch), so 1 ms polls kept an idle
/// daemon at 4-8 % of a CPU; at 4 ms it is ~1 %, and the first packet after a pause
/// waits at most that long (upstream's lcores never sleep at all).
const NO_FD_IDLE_POLL: Duration = Duration::from_millis(4);
/// Turns without packets (~0.2 s at [`NO_FD_POLL`]) before the slower polls.
const NO_FD_IDLE_TURNS: u32 = 200;

/// How often dumps' heartbeats are checked while one is attached, and otherwise.
const MIRROR_WATCH_ATTACHED: Duration = Duration::from_millis(250);
const MIRROR_WATCH_IDLE: Duration = Duration::from_millis(500);

/// A port's link, handed to the `portctl` thread.
#[derive(Debug)]
pub struct PortLink {
    pub id: PortId,
    pub role: PortRole,
    /// The port's own MAC.
    pub mac: MacAddr,
    /// Link state when handed over (as the graph has it).
    pub link_up: bool,
    pub device: Box<dyn LinkDevice>,
}

/// The packet path of one worker: graph, ports and their timers.
#[derive(Debug)]
pub struct Datapath {
    pub graph: Graph,
    pub ports: PortSet,
    maintenance: MaintenanceTimer,
    /// Where VF link changes are asked for (`None`: nobody applies them, as in tests of
    /// the packet path alone; the graph still starts and stops the port).
    links: Option<LinkRequests>,
    /// `Initialize` has been seen.
    initialized: bool,
    /// The statistics screen (not with `--no-stats`) and when it is due.
    stats_screen: Option<(StatsScreen, Printer, Instant)>,
    /// When the mirror rings' consumers are checked next (a killed dump must switch
    /// tracing off within 2 s, also when no packets flow).
    mirror_watch: Instant,
    /// When the next flow-aging sweep starts (§17.1).
    aging_due: Instant,
    /// Turns in a row that moved no packet (saturating), for the polls' pace.
    idle_turns: u32,
    /// The HA sync node (`--sync-tap`, §16.2).
    pub sync: Option<HaSync>,
}

/// The flow-aging period: 5 s, or the flow timeout when shorter (upstream's test builds
/// do the latter; a shorter period only ages more promptly).
fn aging_period(cfg: &GraphConfig) -> Duration {
    cfg.flow_timeout
        .min(Duration::from_secs(5))
        .max(Duration::from_millis(100))
}

/// Why the packet path could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DatapathError {
    #[error(transparent)]
    Tap(#[from] TapError),
    #[error(transparent)]
    Tables(#[from] crate::tables::TablesError),
    /// A DPDK port or the mbuf pool.
    #[cfg(feature = "dpdk")]
    #[error(transparent)]
    Dpdk(#[from] crate::dpdk::DpdkError),
}

impl Datapath {
    /// Wraps a graph and its ports; uplinks are started and their link state read (at
    /// start-up, before the worker runs).
    pub fn new(mut graph: Graph, mut ports: PortSet, now: Instant) -> Datapath {
        let pfs: Vec<PortId> = graph
            .ports()
            .iter()
            .filter(|p| p.is_pf())
            .map(|p| p.id)
            .collect();
        for &pf in &pfs {
            if let Some(p) = ports.get_mut(pf) {
                if let Err(e) = p.start() {
                    tracing::warn!(port = pf, error = %e, "Cannot bring uplink up");
                }
            }
        }
        ports.refresh_links(&mut graph);
        let graph_cfg = &graph.config().clone();
        Datapath {
            graph,
            ports,
            maintenance: MaintenanceTimer::new(now),
            links: None,
            initialized: false,
            stats_screen: None,
            mirror_watch: now,
            aging_due: now + aging_period(graph_cfg),
            idle_turns: 0,
            sync: None,
        }
    }

    /// Opens TAP devices (with their port ids, as numbered by `--vdev` order) and builds
    /// the graph over those with a role; role-less ones are kept open and idle. The HA
    /// sync TAP is not among them. The flow tables are `flows` (the daemon's, in its
    /// region), or private ones when `None`.
    pub fn open_taps(
        cfg: GraphConfig,
        taps: &[(PortId, TapConfig, Option<PortRole>)],
        now: Instant,
        flows: Option<crate::tables::FlowTables>,
    ) -> Result<Datapath, DatapathError> {
        let mut ports: Vec<(PortId, Box<dyn Port>, Option<PortRole>)> =
            Vec::with_capacity(taps.len());
        for (id, tap, role) in taps {
            ports.push((*id, Box::new(TapPort::open(tap)?), *role));
        }
        Datapath::with_ports(cfg, ports, now, flows)
    }

    /// [`Datapath::open_taps`] over ports already open (any backend): the graph over
    /// those with a role, the others kept idle.
    pub fn with_ports(
        cfg: GraphConfig,
        opened: Vec<(PortId, Box<dyn Port>, Option<PortRole>)>,
        now: Instant,
        flows: Option<crate::tables::FlowTables>,
    ) -> Result<Datapath, DatapathError> {
        let mut ports = PortSet::new();
        let mut gports = Vec::with_capacity(opened.len());
        for (id, port, role) in opened {
            if let Some(role) = role {
                gports.push(GraphPort {
                    id,
                    role,
                    mac: port.mac(),
                });
            }
            ports.insert(id, port);
        }
        let graph = match flows {
            Some(flows) => Graph::with_tables(cfg, &gports, flows),
            None => Graph::new(cfg, &gports)?,
        };
        Ok(Datapath::new(graph, ports, now))
    }

    /// Adds the HA sync node (`--sync-tap`) and turns sync on in the graph.
    pub fn attach_sync(&mut self, sync: HaSync) {
        self.graph.enable_sync();
        self.sync = Some(sync);
    }

    /// The HA lock is ours (§16.1): the sync node switches to the active role and
    /// rebuilds the synced NAT flows, then the ports are read.
    pub fn become_active(&mut self, now: Instant) {
        if let Some(sync) = self.sync.as_mut() {
            sync.activate(&mut self.graph, now);
        }
        self.graph.set_active(true);
    }

    /// Follows the control plane after each request: VF ports run while an interface
    /// exists on them (CreateInterface starts the port, DeleteInterface stops it), and
    /// `Initialize` slows the maintenance frames down.
    pub fn sync_with_state(&mut self, state: &State) {
        let vfs: Vec<(PortId, bool)> = self
            .graph
            .ports()
            .iter()
            .filter(|p| !p.is_pf())
            .map(|p| (p.id, p.started))
            .collect();
        for (port, started) in vfs {
            match (state.vf(port).is_some(), started) {
                (true, false) => self.interface_created(port),
                (false, true) => self.interface_deleted(port),
                _ => {}
            }
        }
        if state.is_initialized() && !self.initialized {
            self.initialized = true;
            self.maintenance.on_initialize();
        }
    }

    /// The links of the graph's ports, for the `portctl` thread; from now on VF link
    /// changes are asked of `requests`.
    pub fn hand_over_links(&mut self, requests: LinkRequests) -> Vec<PortLink> {
        self.links = Some(requests);
        let mut out = Vec::new();
        for p in self.graph.ports().iter() {
            let Some(dev) = self.ports.get(p.id) else {
                continue;
            };
            match dev.link_device() {
                Ok(device) => out.push(PortLink {
                    id: p.id,
                    role: p.role,
                    mac: p.mac,
                    link_up: p.link_up,
                    device,
                }),
                Err(e) => {
                    tracing::warn!(port = p.id, error = %e, "Cannot control the port's link")
                }
            }
        }
        out
    }

    /// Job from `portctl`: an uplink's link state changed (§2.5).
    pub fn set_link(&mut self, port: PortId, up: bool) {
        self.graph.set_link(port, up);
    }

    /// Job from `portctl`: the underlay router's MAC behind an uplink (§17.4).
    pub fn set_router_mac(&mut self, port: PortId, mac: MacAddr) {
        self.graph.set_neigh_mac(port, mac);
    }

    /// Prints the statistics screen to stdout once a second from now on (§17.3).
    pub fn show_stats_screen(&mut self, now: Instant) {
        self.stats_screen = Some((
            StatsScreen::new(now),
            Printer::spawn(),
            now + stats_screen::INTERVAL,
        ));
    }

    /// Worker hook, called in a loop: timers that are due, then one round of bursts.
    /// Returns whether packets moved (keep polling) or not (sleep).
    pub fn run_bursts(&mut self, state: &State, now: Instant) -> bool {
        self.run_timers(state, now);
        self.graph.age_flows(now);
        let mut moved = self.ports.poll(&mut self.graph, state, now) > 0;
        if let Some(sync) = self.sync.as_mut() {
            moved |= sync.run(&mut self.graph, now);
        }
        self.graph.flush_mirror();
        self.idle_turns = if moved {
            0
        } else {
            self.idle_turns.saturating_add(1)
        };
        moved
    }

    /// Worker hook: descriptors to sleep on besides the wake fd.
    pub fn sleep_fds(&self) -> Vec<BorrowedFd<'_>> {
        let mut fds = Vec::new();
        self.ports.poll_fds(&self.graph, &mut fds);
        if let Some(fd) = self.sync.as_ref().and_then(HaSync::poll_fd) {
            fds.push(fd);
        }
        fds
    }

    /// Worker hook: when to wake at the latest.
    pub fn next_deadline(&self, now: Instant) -> Instant {
        if self.graph.flows().aging() || self.sync.as_ref().is_some_and(HaSync::sending) {
            return now;
        }
        let mut at = self.maintenance.deadline().min(self.aging_due);
        if let Some((_, _, due)) = &self.stats_screen {
            at = at.min(*due);
        }
        if self.graph.has_mirror() {
            at = at.min(self.mirror_watch);
        }
        let mut fds = Vec::new();
        let sync_without_fd = self
            .sync
            .as_ref()
            .is_some_and(|s| s.poll_fd().is_none() || s.awaiting_link());
        if !self.ports.poll_fds(&self.graph, &mut fds) || sync_without_fd {
            let pace = if self.idle_turns < NO_FD_IDLE_TURNS {
                NO_FD_POLL
            } else {
                NO_FD_IDLE_POLL
            };
            at = at.min(now + pace);
        }
        at
    }

    /// CreateInterface succeeded for the VF on `port`: start receiving on it (its link is
    /// brought up by `portctl`).
    pub fn interface_created(&mut self, port: PortId) {
        self.graph.start_port(port);
        if let Some(links) = &self.links {
            links.set_up(port, true);
        }
    }

    /// DeleteInterface succeeded for the VF on `port`: stop receiving on it (its link is
    /// brought down by `portctl`).
    pub fn interface_deleted(&mut self, port: PortId) {
        self.graph.stop_port(port);
        if let Some(links) = &self.links {
            links.set_up(port, false);
        }
    }

    /// gRPC `Initialize` succeeded: the maintenance frames back off (§17.2).
    pub fn initialized(&mut self) {
        self.initialized = true;
        self.maintenance.on_initialize();
    }

    fn run_timers(&mut self, state: &State, now: Instant) {
        if now >= self.aging_due {
            self.graph.start_aging();
            self.aging_due = now + aging_period(self.graph.config());
        }
        if self.graph.has_mirror() && now >= self.mirror_watch {
            let attached = self
                .graph
                .watch_mirror(dpservice::shm::mirror::monotonic_ms());
            self.mirror_watch = now
                + if attached {
                    MIRROR_WATCH_ATTACHED
                } else {
                    MIRROR_WATCH_IDLE
                };
        }
        if self.maintenance.poll(now) && self.graph.inject_periodic(state) > 0 {
            self.ports.flush(&mut self.graph);
        }
        if let Some((screen, printer, due)) = &mut self.stats_screen {
            if now >= *due {
                *due = now + stats_screen::INTERVAL;
                printer.print(screen.render(&self.graph, now));
            }
        }
    }
}
