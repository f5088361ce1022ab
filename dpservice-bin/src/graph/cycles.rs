//! Per-node cycle counts without a clock read per node visit.
//!
//! The first packet of every [`SAMPLE_EVERY`]th burst is timed node by node; each fixed
//! node keeps a moving average of what one packet costs it, and every burst adds
//! `packets × cost` to the node's cycle count. The `rx-*` and `tx-*` nodes run once per
//! port and burst: every [`SAMPLE_EVERY`]th call of each is timed whole and gives its
//! cost per packet, which counts for the calls until the next. That is two clock reads
//! per node the sampled packet visits plus two per sampled rx/tx call, whatever the burst
//! size (`rx_periodic`, a few times a minute, is timed at every call).
//! The clock is injected (the graph stays sans-I/O); without one nothing is read and
//! cycle counts stay 0.
//!
//! Why not every burst: the timed packet walks node by node (the fast lane would leave
//! the nodes untimed), and on one busy flow that walk and its clock reads were a tenth
//! of all the work; a cost that moves by an eighth per sample needs no fresher sample.

use super::node::Node;

/// A monotonic cycle counter (cycles since an arbitrary start).
pub type CycleClock = fn() -> u64;

/// Weight of the old average against a new sample: new = (7 × old + sample) / 8.
const KEEP: u64 = 7;

/// Bursts per sampled burst.
pub const SAMPLE_EVERY: u32 = 16;

/// The sampled per-packet cost of every fixed node.
#[derive(Debug, Default)]
pub struct NodeCosts {
    clock: Option<CycleClock>,
    cost: [u64; Node::COUNT],
    /// Bursts run with a clock since the last sampled one.
    unsampled: u32,
    /// Per rx/tx node (by node index): its cost per packet when last timed, and its calls
    /// since.
    io: Vec<IoCost>,
}

/// What an rx or tx node's packets cost when one of its calls was last timed.
#[derive(Debug, Default, Clone, Copy)]
struct IoCost {
    per_packet: u64,
    unsampled: u32,
}

/// A call of an rx or tx node under way ([`NodeCosts::io_start`]).
#[derive(Debug, Clone, Copy)]
pub struct IoCall {
    node: usize,
    /// The clock at the start, for a timed call.
    started: Option<u64>,
}

impl NodeCosts {
    pub fn set_clock(&mut self, clock: Option<CycleClock>) {
        self.clock = clock;
    }

    #[inline]
    pub fn enabled(&self) -> bool {
        self.clock.is_some()
    }

    /// Whether the burst about to run has its first packet timed (one in
    /// [`SAMPLE_EVERY`], the first with a clock included; never without a clock).
    #[inline]
    pub fn sample_due(&mut self) -> bool {
        if self.clock.is_none() {
            return false;
        }
        let due = self.unsampled == 0;
        self.unsampled = (self.unsampled + 1) % SAMPLE_EVERY;
        due
    }

    /// The clock now (0 without a clock).
    #[inline]
    pub fn start(&self) -> u64 {
        self.clock.map_or(0, |c| c())
    }

    /// Cycles since `start` (0 without a clock).
    #[inline]
    pub fn since(&self, start: u64) -> u64 {
        self.clock.map_or(0, |c| c().saturating_sub(start))
    }

    /// One packet took `node` from `start` until now.
    #[inline]
    pub fn sample(&mut self, node: Node, start: u64) {
        let took = self.since(start);
        let cost = &mut self.cost[node as usize];
        *cost = if *cost == 0 {
            took
        } else {
            (*cost * KEEP + took) / (KEEP + 1)
        };
    }

    /// Starts a call of the rx or tx node with index `node` (one in [`SAMPLE_EVERY`] of
    /// its calls is timed; none without a clock).
    #[inline]
    pub fn io_start(&mut self, node: usize) -> IoCall {
        if self.clock.is_none() {
            return IoCall {
                node,
                started: None,
            };
        }
        if self.io.len() <= node {
            self.io.resize(node + 1, IoCost::default());
        }
        let due = self.io.get_mut(node).is_some_and(|c| {
            let due = c.unsampled == 0;
            c.unsampled = (c.unsampled + 1) % SAMPLE_EVERY;
            due
        });
        IoCall {
            node,
            started: if due { Some(self.start()) } else { None },
        }
    }

    /// The cycles `call`, which moved `packets`, counts: the time it took if timed (its
    /// cost per packet kept for the untimed calls), else `packets ×` the last cost per
    /// packet of its node.
    #[inline]
    pub fn io_cycles(&mut self, call: IoCall, packets: u64) -> u64 {
        let took = call.started.map(|t| self.since(t));
        let Some(c) = self.io.get_mut(call.node) else {
            return 0;
        };
        match took {
            Some(took) => {
                c.per_packet = took / packets.max(1);
                took
            }
            None => packets * c.per_packet,
        }
    }

    /// Per-packet cost of every fixed node, in [`Node::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.cost.iter().copied()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::cell::Cell;
    use std::time::Instant;

    use super::*;
    use crate::graph::{Graph, GraphConfig, GraphPort, PortRole};
    use crate::port::Pool;
    use crate::wire::MacAddr;

    thread_local! {
        static NOW: Cell<u64> = const { Cell::new(0) };
    }

    /// A clock that advances 100 cycles per read.
    fn ticking() -> u64 {
        NOW.with(|n| {
            n.set(n.get() + 100);
            n.get()
        })
    }

    /// A clock that advances 900 cycles per read.
    fn slow() -> u64 {
        NOW.with(|n| {
            n.set(n.get() + 900);
            n.get()
        })
    }

    fn cost_of(costs: &NodeCosts, node: Node) -> u64 {
        costs.iter().nth(node as usize).unwrap()
    }

    #[test]
    fn samples_are_averaged() {
        let mut c = NodeCosts::default();
        assert_eq!((c.start(), c.since(5)), (0, 0));
        c.set_clock(Some(ticking));
        let t = c.start();
        c.sample(Node::Cls, t);
        assert_eq!(cost_of(&c, Node::Cls), 100);
        // a sample of 900 moves the average by an eighth of the difference
        let t = c.start();
        NOW.with(|n| n.set(n.get() + 800));
        c.sample(Node::Cls, t);
        assert_eq!(cost_of(&c, Node::Cls), 200);
        assert_eq!(cost_of(&c, Node::Arp), 0);
    }

    #[test]
    fn a_burst_counts_packets_times_the_sampled_cost() {
        let ports = [GraphPort {
            id: 1,
            role: PortRole::Vf,
            mac: MacAddr([0x66; 6]),
        }];
        let mut g =
            Graph::new(GraphConfig::default(), &ports).expect("a graph with private flow tables");
        g.set_active(true);
        let state = crate::state::State::new(crate::state::StateConfig::new(
            std::net::Ipv6Addr::LOCALHOST,
            Vec::new(),
        ));
        let mut pool = Pool::new(256);
        // four frames of 60 zero bytes received and run
        let mut burst_of_four = |g: &mut Graph| {
            let mut burst: Vec<_> = (0..4)
                .map(|_| pool.alloc_frame(&[0u8; 60]).unwrap())
                .collect();
            g.rx(1, &mut burst);
            g.run(&state, Instant::now());
        };
        // without a clock: no cycles
        burst_of_four(&mut g);
        assert_eq!(g.node_stat("cls").unwrap().cycles, 0);

        g.set_cycle_clock(Some(ticking));
        burst_of_four(&mut g);
        // 4 packets of 60 zero bytes reach cls only (dropped there): one timed visit of
        // 100 cycles, counted for all four
        let cls = g.node_stat("cls").unwrap();
        assert_eq!((cls.objs, cls.calls, cls.cycles), (8, 2, 400));
        // the rx node's call is timed whole: two reads around it
        assert_eq!(g.node_stat("rx-1-0").unwrap().cycles, 100);

        // the next bursts up to the next sample count with the sampled cost, however
        // slow the clock says they are
        g.set_cycle_clock(Some(slow));
        for _ in 1..SAMPLE_EVERY {
            burst_of_four(&mut g);
        }
        let cls = g.node_stat("cls").unwrap();
        let bursts = u64::from(SAMPLE_EVERY);
        assert_eq!((cls.calls, cls.cycles), (bursts + 1, bursts * 400));
        // so do the rx calls: 100 cycles for four packets when timed, 25 a packet since
        let rx = g.node_stat("rx-1-0").unwrap();
        assert_eq!(rx.cycles, bursts * 100);
        // the next one is sampled again, its rx call too
        burst_of_four(&mut g);
        assert_eq!(cost_of(&g.fabric.costs, Node::Cls), (7 * 100 + 900) / 8);
        let rx = g.node_stat("rx-1-0").unwrap();
        assert_eq!(rx.cycles, bursts * 100 + 900);
    }
}
