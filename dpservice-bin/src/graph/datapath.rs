//! Everything the worker thread needs for packets, behind the three hooks of its loop:
//! [`Datapath::run_bursts`] while busy, [`Datapath::sleep_fds`] and
//! [`Datapath::next_deadline`] to sleep when idle. It owns the graph, the ports and the
//! packet-path timers (maintenance frames §17.2, uplink link state §2.5, underlay router
//! MAC §17.4, statistics screen §17.3); the current time always comes from the caller.

use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use super::driver::PortSet;
use super::state::State;
use super::stats_screen::{self, Printer, StatsScreen};
use super::{Graph, GraphConfig, GraphPort, MaintenanceTimer, PortRole};
use crate::port::netlink;
use crate::port::tap::{TapConfig, TapError, TapPort};
use crate::port::{Port, PortId};

/// How often uplink link state is read from the devices (TAP has no events).
const LINK_CHECK: Duration = Duration::from_secs(1);
/// How soon to look again while a port without descriptor is receiving.
const NO_FD_POLL: Duration = Duration::from_millis(1);

/// Router-MAC acquisition of one uplink: retry after 1 s, doubling up to 60 s, while the
/// link is up; learned once per link-up.
#[derive(Debug, Clone)]
struct RouterMacSearch {
    port: PortId,
    next_try: Option<Instant>,
    backoff: Duration,
}

impl RouterMacSearch {
    const FIRST: Duration = Duration::from_secs(1);
    const MAX: Duration = Duration::from_secs(60);

    fn restart(&mut self, now: Instant) {
        self.next_try = Some(now);
        self.backoff = Self::FIRST;
    }

    fn failed(&mut self, now: Instant) {
        self.next_try = Some(now + self.backoff);
        self.backoff = (self.backoff * 2).min(Self::MAX);
    }
}

/// The packet path of one worker: graph, ports and their timers.
#[derive(Debug)]
pub struct Datapath {
    pub graph: Graph,
    pub ports: PortSet,
    maintenance: MaintenanceTimer,
    next_link_check: Instant,
    router_macs: Vec<RouterMacSearch>,
    /// NICs list their own MAC as a router neighbour; TAP setups do not (§17.4).
    skip_own_mac: bool,
    /// `Initialize` has been seen.
    initialized: bool,
    /// The statistics screen (not with `--no-stats`) and when it is due.
    stats_screen: Option<(StatsScreen, Printer, Instant)>,
}

impl Datapath {
    /// Wraps a graph and its ports; uplinks are started and their link state read.
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
        let router_macs = pfs
            .iter()
            .map(|&port| {
                let up = graph.port(port).is_some_and(|p| p.link_up);
                RouterMacSearch {
                    port,
                    next_try: up.then_some(now),
                    backoff: RouterMacSearch::FIRST,
                }
            })
            .collect();
        Datapath {
            graph,
            ports,
            maintenance: MaintenanceTimer::new(now),
            next_link_check: now + LINK_CHECK,
            router_macs,
            skip_own_mac: false,
            initialized: false,
            stats_screen: None,
        }
    }

    /// Opens TAP devices (with their port ids, as numbered by `--vdev` order) and builds
    /// the graph over those with a role; role-less ones are kept open and idle. The HA
    /// sync TAP is not among them.
    pub fn open_taps(
        cfg: GraphConfig,
        taps: &[(PortId, TapConfig, Option<PortRole>)],
        now: Instant,
    ) -> Result<Datapath, TapError> {
        let mut ports = PortSet::new();
        let mut gports = Vec::with_capacity(taps.len());
        for (id, tap, role) in taps {
            let port = TapPort::open(tap)?;
            if let Some(role) = role {
                gports.push(GraphPort {
                    id: *id,
                    role: *role,
                    mac: port.mac(),
                });
            }
            ports.insert(*id, Box::new(port));
        }
        Ok(Datapath::new(Graph::new(cfg, &gports), ports, now))
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
            let wanted = state.vf(port).is_some();
            let result = match (wanted, started) {
                (true, false) => self.interface_created(port),
                (false, true) => self.interface_deleted(port),
                _ => Ok(()),
            };
            if let Err(e) = result {
                tracing::warn!(port, error = %e, "Cannot change the state of a VM port");
            }
        }
        if state.is_initialized() && !self.initialized {
            self.initialized = true;
            self.maintenance.on_initialize();
        }
    }

    /// With NICs (not `--nic-type=tap`), a router entry with the port's own MAC is ignored.
    pub fn set_skip_own_mac(&mut self, skip: bool) {
        self.skip_own_mac = skip;
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
        self.ports.poll(&mut self.graph, state, now) > 0
    }

    /// Worker hook: descriptors to sleep on besides the wake fd.
    pub fn sleep_fds(&self) -> Vec<BorrowedFd<'_>> {
        let mut fds = Vec::new();
        self.ports.poll_fds(&self.graph, &mut fds);
        fds
    }

    /// Worker hook: when to wake at the latest.
    pub fn next_deadline(&self, now: Instant) -> Instant {
        let mut at = self.maintenance.deadline().min(self.next_link_check);
        if let Some((_, _, due)) = &self.stats_screen {
            at = at.min(*due);
        }
        for r in &self.router_macs {
            if let Some(t) = r.next_try {
                at = at.min(t);
            }
        }
        let mut fds = Vec::new();
        if !self.ports.poll_fds(&self.graph, &mut fds) {
            at = at.min(now + NO_FD_POLL);
        }
        at
    }

    /// CreateInterface succeeded for the VF on `port`: start receiving on it.
    pub fn interface_created(&mut self, port: PortId) -> std::io::Result<()> {
        self.ports.start(&mut self.graph, port)
    }

    /// DeleteInterface succeeded for the VF on `port`: stop receiving on it.
    pub fn interface_deleted(&mut self, port: PortId) -> std::io::Result<()> {
        self.ports.stop(&mut self.graph, port)
    }

    /// gRPC `Initialize` succeeded: the maintenance frames back off (§17.2).
    pub fn initialized(&mut self) {
        self.initialized = true;
        self.maintenance.on_initialize();
    }

    fn run_timers(&mut self, state: &State, now: Instant) {
        if self.maintenance.poll(now) && self.graph.inject_periodic(state) > 0 {
            self.ports.flush(&mut self.graph);
        }
        if now >= self.next_link_check {
            self.next_link_check = now + LINK_CHECK;
            self.check_links(now);
        }
        for i in 0..self.router_macs.len() {
            if self.router_macs[i].next_try.is_some_and(|t| now >= t) {
                self.look_for_router(i, now);
            }
        }
        if let Some((screen, printer, due)) = &mut self.stats_screen {
            if now >= *due {
                *due = now + stats_screen::INTERVAL;
                printer.print(screen.render(&self.graph, now));
            }
        }
    }

    fn check_links(&mut self, now: Instant) {
        for r in &mut self.router_macs {
            let Some(dev) = self.ports.get(r.port) else {
                continue;
            };
            let up = dev.link_up();
            let was = self.graph.port(r.port).is_some_and(|p| p.link_up);
            if up != was {
                tracing::info!(port = r.port, up, "Uplink link state changed");
                self.graph.set_link(r.port, up);
                if up {
                    r.restart(now);
                } else {
                    r.next_try = None;
                }
            }
        }
    }

    fn look_for_router(&mut self, i: usize, now: Instant) {
        let r = &mut self.router_macs[i];
        let (Some(dev), Some(state)) = (self.ports.get(r.port), self.graph.port(r.port)) else {
            r.next_try = None;
            return;
        };
        let skip = self.skip_own_mac.then_some(state.mac);
        match netlink::router_mac(dev.name(), skip) {
            Ok(Some(mac)) => {
                tracing::info!(port = r.port, %mac, "Underlay router MAC learned");
                r.next_try = None;
                let port = r.port;
                self.graph.set_neigh_mac(port, mac);
            }
            Ok(None) => r.failed(now),
            Err(e) => {
                tracing::debug!(port = r.port, error = %e, "Cannot read the neighbour table");
                r.failed(now);
            }
        }
    }
}
