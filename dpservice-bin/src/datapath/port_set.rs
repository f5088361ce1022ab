//! The only place where the graph meets devices: a set of ports polled in rounds of
//! "receive a burst per port → run the graph → transmit", for the worker loop (busy: call
//! [`PortSet::poll`] again; idle: sleep on [`PortSet::poll_fds`]).

use std::os::fd::BorrowedFd;
use std::time::Instant;

use crate::graph::Graph;
use crate::port::{PacketBuf, Port, PortId, PortStats};
use crate::state::State;

/// The daemon's ports by id.
#[derive(Default)]
pub struct PortSet {
    ports: Vec<Option<Box<dyn Port>>>,
    rx: Vec<PacketBuf>,
}

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self
            .iter()
            .map(|(id, p)| (id, p.name().to_owned()))
            .collect();
        f.debug_struct("PortSet").field("ports", &names).finish()
    }
}

impl PortSet {
    pub fn new() -> Self {
        PortSet::default()
    }

    /// Adds (or replaces) the port with this id.
    pub fn insert(&mut self, id: PortId, port: Box<dyn Port>) {
        let idx = usize::from(id);
        if self.ports.len() <= idx {
            self.ports.resize_with(idx + 1, || None);
        }
        self.ports[idx] = Some(port);
    }

    pub fn get(&self, id: PortId) -> Option<&dyn Port> {
        self.ports.get(usize::from(id)).and_then(|p| p.as_deref())
    }

    pub fn get_mut(&mut self, id: PortId) -> Option<&mut (dyn Port + 'static)> {
        self.ports
            .get_mut(usize::from(id))
            .and_then(|p| p.as_deref_mut())
    }

    pub fn iter(&self) -> impl Iterator<Item = (PortId, &dyn Port)> + '_ {
        self.ports
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((PortId::try_from(i).ok()?, p.as_deref()?)))
    }

    /// Starts a port on the device and in the graph (CreateInterface for a VF).
    pub fn start(&mut self, graph: &mut Graph, id: PortId) -> std::io::Result<()> {
        if let Some(p) = self.get_mut(id) {
            p.start()?;
        }
        graph.start_port(id);
        Ok(())
    }

    /// Stops a port on the device and in the graph (DeleteInterface).
    pub fn stop(&mut self, graph: &mut Graph, id: PortId) -> std::io::Result<()> {
        graph.stop_port(id);
        if let Some(p) = self.get_mut(id) {
            p.stop()?;
        }
        Ok(())
    }

    /// Copies the devices' link state of the uplinks into the graph.
    pub fn refresh_links(&self, graph: &mut Graph) {
        for (id, port) in self.iter() {
            if graph.port(id).is_some_and(|p| p.is_pf()) {
                graph.set_link(id, port.link_up());
            }
        }
    }

    fn receiving(graph: &Graph, id: PortId) -> bool {
        graph.is_active() && graph.port(id).is_some_and(|p| p.started)
    }

    /// One round: a burst from every receiving port through the graph, then every
    /// transmit queue out. Returns packets received plus sent; 0 means idle.
    pub fn poll(&mut self, graph: &mut Graph, state: &State, now: Instant) -> usize {
        let burst = graph.config().burst_size;
        let mut work = 0;
        for idx in 0..self.ports.len() {
            let id = idx as PortId;
            if !Self::receiving(graph, id) {
                continue;
            }
            let Some(port) = self.ports[idx].as_deref_mut() else {
                continue;
            };
            let first_id = graph.next_rx_pkt_id();
            let (n, stamped) =
                port.rx_burst_stamped(id, first_id, graph.pool_mut(), &mut self.rx, burst);
            if n > 0 {
                if stamped {
                    graph.rx_stamped(id, &mut self.rx);
                } else {
                    graph.rx(id, &mut self.rx);
                }
                work += n;
            }
        }
        graph.run(state, now);
        work + self.flush(graph)
    }

    /// Transmits whatever the graph queued (e.g. after [`Graph::inject_periodic`]).
    pub fn flush(&mut self, graph: &mut Graph) -> usize {
        let mut sent = 0;
        for (idx, slot) in self.ports.iter_mut().enumerate() {
            let Some(port) = slot.as_deref_mut() else {
                continue;
            };
            sent += graph.flush_tx(idx as PortId, |q, pool| port.tx_burst(q, pool));
        }
        sent
    }

    /// Descriptors to sleep on while idle: those of receiving ports. Ports without a
    /// descriptor that are receiving make `all_pollable` false (the worker must not sleep
    /// long then).
    pub fn poll_fds<'a>(&'a self, graph: &Graph, out: &mut Vec<BorrowedFd<'a>>) -> bool {
        out.clear();
        let mut all_pollable = true;
        for (id, port) in self.iter() {
            if !Self::receiving(graph, id) {
                continue;
            }
            match port.poll_fd() {
                Some(fd) => out.push(fd),
                None => all_pollable = false,
            }
        }
        all_pollable
    }

    /// Device counters per port.
    pub fn stats(&self) -> impl Iterator<Item = (PortId, PortStats)> + '_ {
        self.iter().map(|(id, p)| (id, p.stats()))
    }
}
