//! The live dataplane screen's data (the way `vppctl show runtime` / `show errors` are
//! used): per graph node packets/s and calls/s, per port rx/tx/drops, and drops per
//! reason, as rates between two telemetry samples.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dpservice::telemetry::client::TelemetryClient;
use serde_json::Value;

/// Counters at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// Packets per graph node.
    pub node_packets: BTreeMap<String, u64>,
    /// Calls per graph node.
    pub node_calls: BTreeMap<String, u64>,
    /// Per port: name, rx packets, tx packets, rx drops (missed + errors + no buffer),
    /// tx errors.
    pub ports: Vec<(String, [u64; 4])>,
    /// Drops per reason.
    pub drops: BTreeMap<String, u64>,
}

/// One line of the screen: a name, its counter and its rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    /// Node, port or reason.
    pub name: String,
    /// Counter values since start.
    pub totals: Vec<u64>,
    /// Per second over the last interval.
    pub per_second: Vec<f64>,
}

/// What the screen shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataplaneView {
    /// Graph nodes: packets, calls.
    pub nodes: Vec<Rate>,
    /// Ports: rx, tx, rx drops, tx errors.
    pub ports: Vec<Rate>,
    /// Drop reasons.
    pub drops: Vec<Rate>,
    /// Why there is no data, if there is none.
    pub problem: Option<String>,
}

impl DataplaneView {
    /// The rates between `old` and `new`, `elapsed` apart.
    pub fn between(old: &Sample, new: &Sample, elapsed: Duration) -> DataplaneView {
        let secs = elapsed.as_secs_f64().max(1e-3);
        let rate =
            |now: u64, before: Option<u64>| now.saturating_sub(before.unwrap_or(now)) as f64 / secs;
        let nodes = new
            .node_packets
            .iter()
            .map(|(name, &packets)| {
                let calls = new.node_calls.get(name).copied().unwrap_or(0);
                Rate {
                    name: name.clone(),
                    totals: vec![packets, calls],
                    per_second: vec![
                        rate(packets, old.node_packets.get(name).copied()),
                        rate(calls, old.node_calls.get(name).copied()),
                    ],
                }
            })
            .collect();
        let ports = new
            .ports
            .iter()
            .map(|(name, counters)| {
                let before = old.ports.iter().find(|(n, _)| n == name).map(|(_, c)| c);
                Rate {
                    name: name.clone(),
                    totals: counters.to_vec(),
                    per_second: (0..4)
                        .map(|i| rate(counters[i], before.map(|b| b[i])))
                        .collect(),
                }
            })
            .collect();
        let drops = new
            .drops
            .iter()
            .map(|(name, &n)| Rate {
                name: name.clone(),
                totals: vec![n],
                per_second: vec![rate(n, old.drops.get(name).copied())],
            })
            .collect();
        DataplaneView {
            nodes,
            ports,
            drops,
            problem: None,
        }
    }
}

/// Polls the daemon's telemetry socket, reconnecting when needed.
#[derive(Debug)]
pub struct TelemetrySource {
    path: PathBuf,
    client: Option<TelemetryClient>,
    last: Option<(Sample, Instant)>,
}

impl TelemetrySource {
    /// The source for the socket at `path` (connected on first use).
    pub fn new(path: PathBuf) -> TelemetrySource {
        TelemetrySource {
            path,
            client: None,
            last: None,
        }
    }

    /// A new sample and the rates since the previous one.
    pub fn poll(&mut self) -> DataplaneView {
        match self.sample() {
            Ok(sample) => {
                let now = Instant::now();
                let view = match &self.last {
                    Some((old, at)) => DataplaneView::between(old, &sample, now - *at),
                    None => DataplaneView::between(&sample, &sample, Duration::from_secs(1)),
                };
                self.last = Some((sample, now));
                view
            }
            Err(problem) => {
                self.client = None;
                self.last = None;
                DataplaneView {
                    problem: Some(problem),
                    ..DataplaneView::default()
                }
            }
        }
    }

    fn sample(&mut self) -> Result<Sample, String> {
        if self.client.is_none() {
            let client =
                TelemetryClient::connect_with_timeout(&self.path, Duration::from_millis(500))
                    .map_err(|e| format!("no telemetry from the daemon ({e})"))?;
            self.client = Some(client);
        }
        let Some(client) = self.client.as_mut() else {
            return Err("no telemetry connection".to_owned());
        };
        let mut ask = |cmd: &str| {
            client
                .request(cmd)
                .map_err(|e| format!("telemetry request {cmd} failed: {e}"))
        };
        let node_packets = graph_counts(&ask("/dp_service/graph/obj_count")?);
        let node_calls = graph_counts(&ask("/dp_service/graph/call_count")?);
        let drops = counters(&ask("/dp_service/graph/drop_count")?);
        let mut ports = Vec::new();
        let ids = ask("/ethdev/list")?;
        for id in ids
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_u64)
        {
            let info = ask(&format!("/ethdev/info,{id}"))?;
            let stats = ask(&format!("/ethdev/stats,{id}"))?;
            let n = |k: &str| stats.get(k).and_then(Value::as_u64).unwrap_or(0);
            let name = info
                .get("name")
                .and_then(Value::as_str)
                .map_or_else(|| id.to_string(), |s| format!("{id} {s}"));
            ports.push((
                name,
                [
                    n("ipackets"),
                    n("opackets"),
                    n("imissed") + n("ierrors") + n("rx_nombuf"),
                    n("oerrors"),
                ],
            ));
        }
        Ok(Sample {
            node_packets,
            node_calls,
            ports,
            drops,
        })
    }
}

/// `{"Node_0_to_255": {"<node>": n}, ...}` flattened.
fn graph_counts(value: &Value) -> BTreeMap<String, u64> {
    value
        .as_object()
        .into_iter()
        .flat_map(|blocks| blocks.values())
        .flat_map(counters)
        .collect()
}

/// `{"<name>": n, ...}`.
fn counters(value: &Value) -> BTreeMap<String, u64> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_differences_per_second() {
        let json: Value = serde_json::json!({"Node_0_to_255": {"cls": 100, "drop": 4}});
        let mut old = Sample {
            node_packets: graph_counts(&json),
            ..Sample::default()
        };
        old.ports.push(("0 pf0".into(), [10, 20, 0, 0]));
        let mut new = old.clone();
        new.node_packets.insert("cls".into(), 300);
        new.ports[0].1 = [30, 20, 1, 0];
        let view = DataplaneView::between(&old, &new, Duration::from_millis(500));
        assert_eq!(view.nodes[0].name, "cls");
        assert_eq!(view.nodes[0].per_second[0], 400.0);
        assert_eq!(view.ports[0].per_second, vec![40.0, 0.0, 2.0, 0.0]);
    }
}
