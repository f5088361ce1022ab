//! `--graphtrace-loglevel`: the trace events as debug log lines (tools.md §1.11), for
//! following a packet through the graph while developing or testing. Level 1 logs
//! receptions, hand-overs, transmissions and drops; level 2 also each node a packet enters.
//! The dump tool's ring is the tool for production; this sink logs every event.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::trace::{TraceEvent, TraceKind, TraceSink};
use crate::wire::ethernet::{ethertype, HEADER_LEN as ETH};
use crate::wire::{be16, ipv4_at, ipv6_at};

/// Logs trace events at debug level under the `graph` target.
#[derive(Debug)]
pub struct LogSink {
    level: u8,
    line: String,
    /// Tx lines of the burst at the port, by packet index, until it answers.
    staged: Vec<(usize, String)>,
}

impl LogSink {
    /// A sink for `--graphtrace-loglevel=level`; `None` for 0 (nothing to log).
    pub fn new(level: u8) -> Option<LogSink> {
        (level > 0).then(|| LogSink {
            level,
            line: String::with_capacity(160),
            staged: Vec::new(),
        })
    }

    fn format(&mut self, ev: &TraceEvent<'_>) {
        self.line.clear();
        let l = &mut self.line;
        let id = ev.pkt_id;
        // writing into a String cannot fail
        let _ = match ev.kind {
            TraceKind::Rx => write!(l, "PORT {:<9}: {id:>5} >> {:<14}: ", ev.port, ev.node),
            TraceKind::Edge => write!(
                l,
                "{:<14}: {id:>5} -> {:<14}: ",
                ev.node,
                ev.next.unwrap_or("?")
            ),
            TraceKind::Tx => write!(l, "{:<14}: {id:>5} >> PORT {:<9}: ", ev.node, ev.port),
            TraceKind::Drop => write!(
                l,
                "{:<14}: {id:>5} >> DROP {:<9}: ",
                ev.node,
                ev.drop_reason.map_or("", |r| r.name())
            ),
        };
        summarize(ev.frame, l);
    }
}

impl TraceSink for LogSink {
    fn tx_staged(&mut self, index: usize, ev: &TraceEvent<'_>) {
        self.format(ev);
        self.staged.push((index, self.line.clone()));
    }

    fn tx_committed(&mut self, sent: usize) {
        for (index, line) in self.staged.drain(..) {
            if index < sent {
                tracing::debug!(target: "graph", "{}", line);
            }
        }
    }

    fn event(&mut self, ev: &TraceEvent<'_>) {
        self.format(ev);
        tracing::debug!(target: "graph", "{}", self.line);
        if self.level >= 2 && ev.kind == TraceKind::Edge {
            if let Some(next) = ev.next {
                self.line.clear();
                let _ = write!(self.line, "{next:<14}: {:>5}    (entered)", ev.pkt_id);
                tracing::debug!(target: "graph", "{}", self.line);
            }
        }
    }
}

/// One line about the frame: length, then the L3 addresses and protocol when present.
fn summarize(frame: &[u8], out: &mut String) {
    let _ = write!(out, "len {}", frame.len());
    if frame.len() < ETH {
        return;
    }
    let ip = match be16(frame, 12) {
        ethertype::IPV4 => (frame.len() >= ETH + 20).then(|| {
            (
                IpAddr::V4(ipv4_at(frame, ETH + 12)),
                IpAddr::V4(ipv4_at(frame, ETH + 16)),
                frame[ETH + 9],
            )
        }),
        ethertype::IPV6 => (frame.len() >= ETH + 40).then(|| {
            (
                IpAddr::V6(ipv6_at(frame, ETH + 8)),
                IpAddr::V6(ipv6_at(frame, ETH + 24)),
                frame[ETH + 6],
            )
        }),
        other => {
            let _ = write!(out, " ethertype {other:#06x}");
            None
        }
    };
    if let Some((src, dst, proto)) = ip {
        let _ = write!(out, " {src} -> {dst} proto {proto}");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::graph::DropReason;

    fn udp_frame() -> Vec<u8> {
        let mut f = vec![0u8; 60];
        f[12..14].copy_from_slice(&ethertype::IPV4.to_be_bytes());
        f[ETH] = 0x45;
        f[ETH + 9] = 17;
        f[ETH + 12..ETH + 16].copy_from_slice(&[10, 0, 0, 1]);
        f[ETH + 16..ETH + 20].copy_from_slice(&[10, 0, 0, 2]);
        f
    }

    fn line(kind: TraceKind, next: Option<&str>, reason: Option<DropReason>) -> String {
        let frame = udp_frame();
        let mut s = LogSink::new(1).unwrap();
        s.format(&TraceEvent {
            kind,
            node: "cls",
            next,
            port: 3,
            pkt_id: 42,
            drop_reason: reason,
            frame: &frame,
            node_id: 0,
            next_id: None,
        });
        s.line
    }

    #[test]
    fn level_zero_logs_nothing() {
        assert!(LogSink::new(0).is_none());
    }

    #[test]
    fn lines_name_nodes_packet_and_addresses() {
        assert_eq!(
            line(TraceKind::Edge, Some("conntrack"), None),
            "cls           :    42 -> conntrack     : len 60 10.0.0.1 -> 10.0.0.2 proto 17"
        );
        assert!(line(TraceKind::Rx, None, None).starts_with("PORT 3        :    42 >> cls"));
        assert!(line(TraceKind::Tx, None, None).contains(">> PORT 3 "));
        let drop = line(TraceKind::Drop, None, Some(DropReason::NoRoute));
        assert!(drop.contains(">> DROP "), "{drop}");
        assert!(drop.contains(DropReason::NoRoute.name()), "{drop}");
    }

    #[test]
    fn short_and_non_ip_frames_are_described_safely() {
        let mut out = String::new();
        summarize(&[1, 2, 3], &mut out);
        assert_eq!(out, "len 3");
        let mut arp = vec![0u8; 42];
        arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
        out.clear();
        summarize(&arp, &mut out);
        assert_eq!(out, "len 42 ethertype 0x0806");
        // an IPv4 ethertype with a cut header gives no addresses and no panic
        out.clear();
        summarize(&udp_frame()[..20], &mut out);
        assert_eq!(out, "len 20");
    }
}
