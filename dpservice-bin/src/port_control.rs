//! The `portctl` thread: the port work that blocks, kept off the worker (ARCHITECTURE.md
//! "The worker thread"). It
//! - brings VF links up and down as interfaces come and go (asked by the worker through
//!   [`LinkRequests`], which never blocks);
//! - reads the uplinks' link state once a second (§2.5, §17.5; TAP has no events);
//! - looks for the underlay router's MAC in the kernel's neighbour table over netlink
//!   while an uplink is up, retrying after 1 s, doubling up to 60 s (§17.4).
//!
//! Results go back to the worker as O(1) jobs ([`Datapath::set_link`],
//! [`Datapath::set_router_mac`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::datapath::{Datapath, PortLink};
use crate::port::link::{PendingLinks, Woken};
use crate::port::{netlink, LinkRequests};
use crate::worker::{Dataplane, WorkerGone, WorkerHandle};

/// How often uplink link state is read from the devices.
pub const LINK_CHECK: Duration = Duration::from_secs(1);

/// Router-MAC acquisition of one uplink: retry after 1 s, doubling up to 60 s, while the
/// link is up; learned once per link-up.
#[derive(Debug, Clone)]
struct RouterMacSearch {
    next_try: Option<Instant>,
    backoff: Duration,
}

impl RouterMacSearch {
    const FIRST: Duration = Duration::from_secs(1);
    const MAX: Duration = Duration::from_secs(60);

    fn new(up: bool, now: Instant) -> RouterMacSearch {
        RouterMacSearch {
            next_try: up.then_some(now),
            backoff: Self::FIRST,
        }
    }

    fn restart(&mut self, now: Instant) {
        self.next_try = Some(now);
        self.backoff = Self::FIRST;
    }

    fn failed(&mut self, now: Instant) {
        self.next_try = Some(now + self.backoff);
        self.backoff = (self.backoff * 2).min(Self::MAX);
    }
}

/// One uplink as `portctl` follows it.
#[derive(Debug)]
struct Uplink {
    link: PortLink,
    router: RouterMacSearch,
}

/// What the thread owns.
#[derive(Debug)]
struct Control {
    /// Every port's link, by id (VFs are only brought up and down).
    links: Vec<PortLink>,
    uplinks: Vec<Uplink>,
    pending: PendingLinks,
    worker: WorkerHandle,
    /// NICs list their own MAC as a router neighbour; TAP setups do not (§17.4).
    skip_own_mac: bool,
    stop: Arc<AtomicBool>,
    next_link_check: Instant,
}

/// The running `portctl` thread.
#[derive(Debug)]
pub struct PortControl {
    thread: JoinHandle<()>,
    stop: Arc<AtomicBool>,
    wake: LinkRequests,
}

impl PortControl {
    /// Starts `portctl` over the links [`Datapath::hand_over_links`] gave, taking the
    /// worker's requests from `pending` (whose other side is `requests`).
    pub fn spawn(
        links: Vec<PortLink>,
        requests: LinkRequests,
        pending: PendingLinks,
        worker: WorkerHandle,
        skip_own_mac: bool,
    ) -> std::io::Result<PortControl> {
        let now = Instant::now();
        let (uplinks, links): (Vec<_>, Vec<_>) = links.into_iter().partition(|l| l.role.is_pf());
        let uplinks = uplinks
            .into_iter()
            .map(|link| Uplink {
                router: RouterMacSearch::new(link.link_up, now),
                link,
            })
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let control = Control {
            links,
            uplinks,
            pending,
            worker,
            skip_own_mac,
            stop: Arc::clone(&stop),
            next_link_check: now + LINK_CHECK,
        };
        let thread = std::thread::Builder::new()
            .name("portctl".into())
            .spawn(move || control.run())?;
        Ok(PortControl {
            thread,
            stop,
            wake: requests,
        })
    }

    /// Stops the thread after what it is doing.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        self.wake.wake();
        let _ = self.thread.join();
    }
}

impl Control {
    fn run(mut self) {
        loop {
            let now = Instant::now();
            let timeout = self.next_due().saturating_duration_since(now);
            if self.pending.wait(timeout) == Woken::Closed || self.stop.load(Ordering::Acquire) {
                return;
            }
            self.apply_requests();
            if self.run_timers(Instant::now()).is_err() {
                return; // the worker is gone: so is the daemon
            }
        }
    }

    fn next_due(&self) -> Instant {
        self.uplinks
            .iter()
            .filter_map(|u| u.router.next_try)
            .fold(self.next_link_check, Instant::min)
    }

    fn apply_requests(&mut self) {
        let (taken, covered) = self.pending.take();
        for (port, up) in taken {
            let Some(link) = self
                .links
                .iter()
                .chain(self.uplinks.iter().map(|u| &u.link))
                .find(|l| l.id == port)
            else {
                continue;
            };
            if let Err(e) = link.device.set_up(up) {
                tracing::warn!(port, up, error = %e, "Cannot change the link of a VM port");
            }
        }
        self.pending.applied(covered);
    }

    fn run_timers(&mut self, now: Instant) -> Result<(), WorkerGone> {
        if now >= self.next_link_check {
            self.next_link_check = now + LINK_CHECK;
            self.check_links(now)?;
        }
        for i in 0..self.uplinks.len() {
            if self.uplinks[i].router.next_try.is_some_and(|t| now >= t) {
                self.look_for_router(i, now)?;
            }
        }
        Ok(())
    }

    fn check_links(&mut self, now: Instant) -> Result<(), WorkerGone> {
        for u in &mut self.uplinks {
            let up = u.link.device.link_up();
            if up == u.link.link_up {
                continue;
            }
            u.link.link_up = up;
            let port = u.link.id;
            tracing::info!(port, up, "Uplink link state changed");
            if up {
                u.router.restart(now);
            } else {
                u.router.next_try = None;
            }
            on_datapath(&self.worker, move |p| p.set_link(port, up))?;
        }
        Ok(())
    }

    fn look_for_router(&mut self, i: usize, now: Instant) -> Result<(), WorkerGone> {
        let skip = self.skip_own_mac.then_some(self.uplinks[i].link.mac);
        let u = &mut self.uplinks[i];
        let port = u.link.id;
        match netlink::router_mac(u.link.device.name(), skip) {
            Ok(Some(mac)) => {
                tracing::info!(port, %mac, "Underlay router MAC learned");
                u.router.next_try = None;
                return on_datapath(&self.worker, move |p| p.set_router_mac(port, mac));
            }
            Ok(None) => u.router.failed(now),
            Err(e) => {
                tracing::debug!(port, error = %e, "Cannot read the neighbour table");
                u.router.failed(now);
            }
        }
        Ok(())
    }
}

/// Runs `f` on the worker's packet path (if it has one); waits for it to be done.
fn on_datapath(
    worker: &WorkerHandle,
    f: impl FnOnce(&mut Datapath) + Send + 'static,
) -> Result<(), WorkerGone> {
    worker.exec_blocking(move |dp: &mut Dataplane| {
        if let Some(p) = dp.packets.as_mut() {
            f(p);
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::datapath::port_set::PortSet;
    use crate::graph::{Graph, GraphConfig, GraphPort, PortRole};
    use crate::port::link::link_requests;
    use crate::port::memory::{MemoryHandle, MemoryPort};
    use crate::port::{LinkDevice, PortId};
    use crate::state::{State, StateConfig};
    use crate::wire::MacAddr;
    use crate::worker::Worker;

    const PF0: PortId = 0;
    const VF0: PortId = 2;

    fn wait_until(limit: Duration, what: impl Fn() -> bool) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if what() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        what()
    }

    fn graph_ports(roles: &[(PortId, PortRole)]) -> Vec<GraphPort> {
        roles
            .iter()
            .map(|&(id, role)| GraphPort {
                id,
                role,
                mac: MacAddr([2, 0, 0, 0, 0, id as u8]),
            })
            .collect()
    }

    /// A worker over `datapath`, with `portctl` following its links.
    fn run(mut datapath: Datapath) -> (Worker, WorkerHandle, PortControl) {
        let (requests, pending) = link_requests(datapath.graph.ports().slots());
        let links = datapath.hand_over_links(requests.clone());
        let state = State::new(StateConfig::new("fc00:1::1".parse().unwrap(), Vec::new()));
        let (worker, handle) = Worker::spawn(Dataplane::with_packets(state, datapath)).unwrap();
        let control = PortControl::spawn(links, requests, pending, handle.clone(), false).unwrap();
        (worker, handle, control)
    }

    /// pf0 and one VF on memory ports.
    fn memory_datapath() -> (Datapath, Vec<MemoryHandle>) {
        let roles = [(PF0, PortRole::Pf0), (VF0, PortRole::Vf)];
        let mut ports = PortSet::new();
        let mut handles = Vec::new();
        for g in graph_ports(&roles) {
            let (port, handle) = MemoryPort::new(&format!("mem{}", g.id), g.mac);
            ports.insert(g.id, Box::new(port));
            handles.push(handle);
        }
        let graph = Graph::new(GraphConfig::default(), &graph_ports(&roles))
            .expect("a graph with private flow tables");
        (Datapath::new(graph, ports, Instant::now()), handles)
    }

    fn graph_link_up(h: &WorkerHandle, port: PortId) -> bool {
        h.exec_blocking(move |dp| {
            dp.packets
                .as_ref()
                .unwrap()
                .graph
                .port(port)
                .unwrap()
                .link_up
        })
        .unwrap()
    }

    #[test]
    fn vf_links_follow_interfaces() {
        let (mut dp, handles) = memory_datapath();
        let (requests, pending) = link_requests(dp.graph.ports().slots());
        let links = dp.hand_over_links(requests.clone());
        // the datapath stays here; the worker only takes portctl's reports
        let state = State::new(StateConfig::new("fc00:1::1".parse().unwrap(), Vec::new()));
        let (worker, h) = Worker::spawn(Dataplane::new(state)).unwrap();
        let control = PortControl::spawn(links, requests, pending, h, false).unwrap();
        let vf = handles[1].clone();
        assert_eq!(vf.admin_up(), None);
        dp.interface_created(VF0);
        assert!(dp.graph.port(VF0).unwrap().started, "receives at once");
        assert!(wait_until(Duration::from_secs(2), || vf.admin_up() == Some(true)));
        dp.interface_deleted(VF0);
        assert!(!dp.graph.port(VF0).unwrap().started);
        assert!(wait_until(Duration::from_secs(2), || vf.admin_up() == Some(false)));
        control.stop();
        worker.stop().unwrap();
    }

    #[test]
    fn uplink_link_state_reaches_the_graph() {
        let (dp, handles) = memory_datapath();
        let (worker, h, control) = run(dp);
        assert!(graph_link_up(&h, PF0));
        handles[0].set_link(false);
        assert!(
            wait_until(LINK_CHECK * 3, || !graph_link_up(&h, PF0)),
            "uplink down not seen within {:?}",
            LINK_CHECK * 3
        );
        handles[0].set_link(true);
        assert!(wait_until(LINK_CHECK * 3, || graph_link_up(&h, PF0)));
        control.stop();
        worker.stop().unwrap();
    }

    /// A link whose state read takes long (a slow driver, a busy netlink socket).
    #[derive(Debug)]
    struct SlowLink(Duration);

    impl LinkDevice for SlowLink {
        fn name(&self) -> &str {
            "slow"
        }

        fn link_up(&self) -> bool {
            std::thread::sleep(self.0);
            true
        }

        fn set_up(&self, _up: bool) -> std::io::Result<()> {
            std::thread::sleep(self.0);
            Ok(())
        }
    }

    #[test]
    fn slow_link_calls_never_stall_the_worker() {
        let (mut dp, _handles) = memory_datapath();
        let (requests, pending) = link_requests(dp.graph.ports().slots());
        let mut links = dp.hand_over_links(requests.clone());
        for l in &mut links {
            l.device = Box::new(SlowLink(Duration::from_millis(700)));
        }
        let state = State::new(StateConfig::new("fc00:1::1".parse().unwrap(), Vec::new()));
        let (worker, h) = Worker::spawn(Dataplane::with_packets(state, dp)).unwrap();
        let control = PortControl::spawn(links, requests, pending, h.clone(), false).unwrap();
        // the link checks and the up/down below keep `portctl` busy for seconds ...
        h.exec_blocking(|dp| dp.packets.as_mut().unwrap().interface_created(VF0))
            .unwrap();
        let mut worst = Duration::ZERO;
        let end = Instant::now() + Duration::from_millis(2500);
        while Instant::now() < end {
            let t = Instant::now();
            h.exec_blocking(|dp| dp.packets.as_mut().unwrap().interface_deleted(VF0))
                .unwrap();
            h.exec_blocking(|dp| dp.packets.as_mut().unwrap().interface_created(VF0))
                .unwrap();
            worst = worst.max(t.elapsed());
            std::thread::sleep(Duration::from_millis(20));
        }
        // ... while the worker answers at once
        assert!(
            worst < Duration::from_millis(200),
            "worker stalled {worst:?}"
        );
        control.stop();
        worker.stop().unwrap();
    }

    #[test]
    fn router_mac_is_learned_from_the_kernel() {
        use crate::datapath::Datapath;
        use crate::port::tap::tests::in_new_netns;
        use crate::port::tap::TapConfig;

        in_new_netns(|| {
            let tap = |id: u16, iface: &str| TapConfig {
                device: format!("net_tap{id}"),
                iface: iface.into(),
                mac: Some(MacAddr([2, 0, 0, 0, 0, id as u8])),
                persist: false,
            };
            let taps = [
                (0, tap(0, "dtap0"), Some(PortRole::Pf0)),
                (1, tap(1, "dtap1"), Some(PortRole::Pf1)),
                (2, tap(2, "dtapvf_0"), Some(PortRole::Vf)),
                (3, tap(3, "dtapunused"), None),
            ];
            let dp =
                Datapath::open_taps(GraphConfig::default(), &taps, Instant::now(), None).unwrap();
            let (worker, h, control) = run(dp);
            let router = move |port: PortId| {
                h.exec_blocking(move |dp| {
                    dp.packets
                        .as_ref()
                        .unwrap()
                        .graph
                        .port(port)
                        .unwrap()
                        .neigh_mac
                })
                .unwrap()
            };
            assert!(router(0).is_zero(), "no router yet");
            let st = std::process::Command::new("ip")
                .args([
                    "-6",
                    "neigh",
                    "add",
                    "fe80::99",
                    "lladdr",
                    "02:aa:00:00:00:01",
                ])
                .args(["dev", "dtap0", "router", "nud", "permanent"])
                .status()
                .unwrap();
            assert!(st.success());
            // retried after the first back-off (1 s)
            assert!(
                wait_until(Duration::from_secs(4), || router(0)
                    == MacAddr([0x02, 0xaa, 0, 0, 0, 1])),
                "router MAC not learned"
            );
            assert!(router(1).is_zero());
            control.stop();
            worker.stop().unwrap();
        });
    }
}
