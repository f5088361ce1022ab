//! The statistics screen (dataplane.md §17.3): unless `--no-stats`, once a second the
//! terminal is cleared and the per-node counters are printed as the table of DPDK's
//! default graph cluster statistics printer, which operators of upstream know.
//!
//! The layout (column widths, header, borders, only nodes that saw packets) is DPDK's.
//! The rates are exact: DPDK divides whole numbers (objects per call rounded down, the
//! interval truncated to whole seconds, so a tick that comes a little early shows 0/s).
//! `realloc_count` is 0: our nodes never grow their packet arrays. `cycles/call` is over
//! the last interval, from the sampled cycle counts of `graph/cycles.rs` (0 without a
//! cycle clock).

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::time::{Duration, Instant};

use crate::graph::{Graph, NodeStats};

/// Time between two screens.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Clear the screen, then move the cursor to the top left corner.
const CLEAR: &str = "\x1b[2J\x1b[1;1H";
const BORDER: &str = "+-------------------------------+---------------+---------------+\
                      ---------------+---------------+---------------+-----------+\n";

/// The counters of the previous screen, for the rates.
#[derive(Debug)]
pub struct StatsScreen {
    prev: Vec<NodeStats>,
    prev_at: Instant,
}

impl StatsScreen {
    pub fn new(now: Instant) -> StatsScreen {
        StatsScreen {
            prev: Vec::new(),
            prev_at: now,
        }
    }

    /// The next screen, escape sequences included; remembers the counters for the rates.
    pub fn render(&mut self, graph: &Graph, now: Instant) -> String {
        let nodes: Vec<(&str, NodeStats)> = graph.node_stats().collect();
        let seconds = now.saturating_duration_since(self.prev_at).as_secs_f64();
        let mut out = String::with_capacity(BORDER.len() * (nodes.len() + 4));
        out.push_str(CLEAR);
        out.push_str(BORDER);
        // writing into a String cannot fail
        let _ = writeln!(
            out,
            "{:<32}{:<16}{:<16}{:<16}{:<16}{:<16}{:<16}",
            "|Node",
            "|calls",
            "|objs",
            "|realloc_count",
            "|objs/call",
            "|objs/sec(10E6)",
            "|cycles/call|"
        );
        out.push_str(BORDER);
        for (i, (name, now_stats)) in nodes.iter().enumerate() {
            if now_stats.objs == 0 {
                continue;
            }
            let before = self.prev.get(i).copied().unwrap_or_default();
            let calls = now_stats.calls.saturating_sub(before.calls);
            let objs = now_stats.objs.saturating_sub(before.objs);
            let per_call = if calls > 0 {
                objs as f64 / calls as f64
            } else {
                0.0
            };
            let per_sec = if seconds > 0.0 {
                objs as f64 / seconds / 1e6
            } else {
                0.0
            };
            let cycles = now_stats.cycles.saturating_sub(before.cycles);
            let cycles_per_call = if calls > 0 {
                cycles as f64 / calls as f64
            } else {
                0.0
            };
            let _ = writeln!(
                out,
                "|{name:<31}|{:<15}|{:<15}|{:<15}|{per_call:<15.3}|{per_sec:<15.6}|{:<11.4}|",
                now_stats.calls, now_stats.objs, 0, cycles_per_call
            );
        }
        out.push_str(BORDER);
        self.prev = nodes.iter().map(|(_, s)| *s).collect();
        self.prev_at = now;
        out
    }
}

/// Writes screens to stdout on a thread of its own: a terminal that is slow, or a pipe
/// nobody reads, must never stall the packet worker. A screen that finds the printer
/// still busy with the previous one is skipped.
#[derive(Debug)]
pub struct Printer(Option<SyncSender<String>>);

impl Printer {
    pub fn spawn() -> Printer {
        let (tx, rx) = sync_channel::<String>(1);
        let thread = std::thread::Builder::new()
            .name("stats".into())
            .spawn(move || {
                for screen in rx {
                    let mut out = std::io::stdout().lock();
                    let _ = out.write_all(screen.as_bytes()).and_then(|()| out.flush());
                }
            });
        match thread {
            Ok(_) => Printer(Some(tx)),
            Err(e) => {
                tracing::warn!(error = %e, "Cannot start the statistics screen thread");
                Printer(None)
            }
        }
    }

    /// Hands a screen over without waiting.
    pub fn print(&self, screen: String) {
        if let Some(tx) = &self.0 {
            let _ = tx.try_send(screen);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::graph::{GraphConfig, GraphPort, PortRole};
    use crate::port::Pool;
    use crate::wire::MacAddr;

    fn graph() -> Graph {
        let ports = [
            GraphPort {
                id: 0,
                role: PortRole::Pf0,
                mac: MacAddr([0x22; 6]),
            },
            GraphPort {
                id: 1,
                role: PortRole::Vf,
                mac: MacAddr([0x66; 6]),
            },
        ];
        let mut g =
            Graph::new(GraphConfig::default(), &ports).expect("a graph with private flow tables");
        g.set_active(true);
        g
    }

    /// Feeds `n` frames nobody handles into port 1, as one burst.
    fn feed(g: &mut Graph, n: usize) {
        let mut pool = Pool::new(64);
        let mut burst: Vec<_> = (0..n)
            .map(|_| pool.alloc_frame(&[0u8; 60]).unwrap())
            .collect();
        g.rx(1, &mut burst);
        let state = crate::state::State::new(crate::state::StateConfig::new(
            std::net::Ipv6Addr::LOCALHOST,
            Vec::new(),
        ));
        g.run(&state, Instant::now());
    }

    #[test]
    fn screen_has_dpdks_layout_and_only_busy_nodes() {
        let t0 = Instant::now();
        let mut g = graph();
        let mut s = StatsScreen::new(t0);
        feed(&mut g, 4);
        let screen = s.render(&g, t0 + Duration::from_secs(2));
        assert!(screen.starts_with("\x1b[2J\x1b[1;1H+---"), "{screen:?}");
        let lines: Vec<&str> = screen.trim_start_matches(CLEAR).lines().collect();
        // DPDK pads the header's last column too, past the border
        assert_eq!(
            lines[1],
            "|Node                           |calls          |objs           |realloc_count  \
             |objs/call      |objs/sec(10E6) |cycles/call|   "
        );
        assert_eq!(lines[0], lines[2]);
        assert_eq!(lines[0], *lines.last().unwrap());
        // every other line of the table is as wide as the border
        assert_eq!(lines[0].len(), 125);
        assert!(
            lines.iter().skip(2).all(|l| l.len() == lines[0].len()),
            "{screen}"
        );
        // the rx node saw one call with 4 packets in 2 s
        let rx = lines.iter().find(|l| l.starts_with("|rx-1-0 ")).unwrap();
        assert_eq!(
            *rx,
            "|rx-1-0                         |1              |4              |0              \
             |4.000          |0.000002       |0.0000     |"
        );
        // nodes without packets are left out
        assert!(!screen.contains("|rx-0-0 "), "{screen}");
        assert!(!screen.contains("|dhcp "), "{screen}");

        // rates are per interval, totals are cumulative
        feed(&mut g, 2);
        feed(&mut g, 2);
        let screen = s.render(&g, t0 + Duration::from_secs(3));
        let rx = screen.lines().find(|l| l.starts_with("|rx-1-0 ")).unwrap();
        assert!(
            rx.starts_with(
                "|rx-1-0                         |3              |8              |0              \
                 |2.000          |0.000004       |"
            ),
            "{rx}"
        );
    }
}
