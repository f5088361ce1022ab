//! One poll cycle over the telemetry socket (tools.md §4.3): the requests in upstream's
//! order, their answers decoded into a [`Snapshot`].
//!
//! A connection failure ends the cycle (the caller reconnects); an answer that does not
//! decode only loses its own values, as upstream logs and skips it.

use dpservice::telemetry::{ClientError, TelemetryClient};
use serde_json::Value;

/// Ethdev names containing this are NIC representors: no link status is read for them.
const REPRESENTOR: &str = "representor";

/// Everything one poll cycle read, in the order the daemon listed it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// `/eal/heap_info` of every heap: (heap id, numeric fields in answer order).
    pub heaps: Vec<(u64, Vec<(String, f64)>)>,
    /// Every ethdev port.
    pub ports: Vec<Port>,
    /// `/dp_service/nat/used_port_count` per interface id.
    pub nat_used_ports: Vec<(String, f64)>,
    /// `/dp_service/virtsvc/used_port_count` per `PROTO:IPv4:port` (empty when the
    /// daemon has no virtual services).
    pub virtsvc_used_ports: Vec<(String, f64)>,
    /// `/dp_service/firewall/rule_count` per interface id.
    pub firewall_rules: Vec<(String, f64)>,
    /// Per graph node, from every `Node_*` block.
    pub graph: Vec<GraphNode>,
    /// `/dp_service/table/saturation`: (table, capacity, entries).
    pub tables: Vec<(String, f64, f64)>,
    /// `/dp_service/graph/drop_count` per reason (native set only).
    pub drops: Vec<(String, f64)>,
    /// The greeting's `version`.
    pub daemon_version: String,
}

/// One ethdev port.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Port {
    /// The port id.
    pub id: u64,
    /// Its ethdev name from `/ethdev/info`.
    pub name: String,
    /// `Some(up)` for a port whose link status was read and is UP or DOWN.
    pub link_up: Option<bool>,
    /// `/ethdev/xstats` in answer order.
    pub xstats: Vec<(String, f64)>,
}

/// One graph node's counters (absent ones stay 0).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraphNode {
    /// Node name (`rx-0-0`, `cls`, ...).
    pub name: String,
    /// `call_count`.
    pub calls: f64,
    /// `obj_count` (native set only).
    pub objs: f64,
    /// `cycle_count` (native set only).
    pub cycles: f64,
}

/// Which requests a cycle makes beyond upstream's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requests {
    /// Also `obj_count`, `cycle_count` and `drop_count`.
    pub native: bool,
}

/// A poll cycle failed: the connection is unusable.
#[derive(Debug, thiserror::Error)]
#[error("lost the telemetry connection during '{command}': {source}")]
pub struct PollError {
    /// The request that failed.
    pub command: String,
    /// Why.
    pub source: ClientError,
}

/// Runs one poll cycle on `client`.
pub fn poll(client: &mut TelemetryClient, requests: Requests) -> Result<Snapshot, PollError> {
    let mut cycle = Cycle { client };
    let mut snap = Snapshot {
        daemon_version: client_version(cycle.client),
        ..Snapshot::default()
    };

    for id in cycle.ask("/eal/heap_list")?.iter().flat_map(ids) {
        let info = cycle.ask(&format!("/eal/heap_info,{id}"))?;
        if let Some(fields) = info.as_ref().and_then(Value::as_object) {
            let numbers = fields
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                .collect();
            snap.heaps.push((id, numbers));
        }
    }

    for id in cycle.ask("/ethdev/list")?.iter().flat_map(ids) {
        let info = cycle.ask(&format!("/ethdev/info,{id}"))?;
        let Some(name) = info
            .as_ref()
            .and_then(|i| i.get("name"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let mut port = Port {
            id,
            name: name.to_owned(),
            ..Port::default()
        };
        if !name.contains(REPRESENTOR) {
            let status = cycle.ask(&format!("/ethdev/link_status,{id}"))?;
            let status = status
                .as_ref()
                .and_then(|s| s.get("status"))
                .and_then(Value::as_str)
                .map(str::to_ascii_uppercase);
            port.link_up = match status.as_deref() {
                Some("UP") => Some(true),
                Some("DOWN") => Some(false),
                _ => None,
            };
            if port.link_up.is_none() {
                // upstream skips the xstats of a port with an unknown link state
                snap.ports.push(port);
                continue;
            }
        }
        port.xstats = numbers(cycle.ask(&format!("/ethdev/xstats,{id}"))?.as_ref());
        snap.ports.push(port);
    }

    snap.nat_used_ports = numbers(cycle.ask("/dp_service/nat/used_port_count")?.as_ref());
    snap.virtsvc_used_ports = numbers(cycle.ask("/dp_service/virtsvc/used_port_count")?.as_ref());
    snap.firewall_rules = numbers(cycle.ask("/dp_service/firewall/rule_count")?.as_ref());
    let calls = graph(cycle.ask("/dp_service/graph/call_count")?.as_ref());
    snap.graph = calls
        .into_iter()
        .map(|(name, calls)| GraphNode {
            name,
            calls,
            ..GraphNode::default()
        })
        .collect();
    if requests.native {
        let objs = graph(cycle.ask("/dp_service/graph/obj_count")?.as_ref());
        let cycles = graph(cycle.ask("/dp_service/graph/cycle_count")?.as_ref());
        for node in &mut snap.graph {
            node.objs = lookup(&objs, &node.name);
            node.cycles = lookup(&cycles, &node.name);
        }
    }
    if let Some(tables) = cycle
        .ask("/dp_service/table/saturation")?
        .as_ref()
        .and_then(Value::as_object)
    {
        snap.tables = tables
            .iter()
            .map(|(name, t)| {
                let field = |f: &str| t.get(f).and_then(Value::as_f64).unwrap_or(0.0);
                (name.clone(), field("capacity"), field("entries"))
            })
            .collect();
    }
    if requests.native {
        snap.drops = numbers(cycle.ask("/dp_service/graph/drop_count")?.as_ref());
    }
    Ok(snap)
}

struct Cycle<'a> {
    client: &'a mut TelemetryClient,
}

impl Cycle<'_> {
    /// The value of one request; `Ok(None)` when it did not decode (logged) or is null.
    fn ask(&mut self, message: &str) -> Result<Option<Value>, PollError> {
        match self.client.request(message) {
            Ok(Value::Null) => Ok(None),
            Ok(value) => Ok(Some(value)),
            Err(e @ (ClientError::NotJson { .. } | ClientError::MissingKey { .. })) => {
                tracing::warn!(command = message, error = %e, "skipping an undecodable telemetry answer");
                Ok(None)
            }
            Err(source) => Err(PollError {
                command: message.to_owned(),
                source,
            }),
        }
    }
}

fn client_version(client: &TelemetryClient) -> String {
    client
        .greeting()
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The non-negative integers of a JSON array (port and heap ids).
fn ids(list: &Value) -> Vec<u64> {
    list.as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

/// The numeric members of a flat object; others are left out.
fn numbers(value: Option<&Value>) -> Vec<(String, f64)> {
    value
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// The nodes of every `Node_<a>_to_<b>` block of a graph answer.
fn graph(value: Option<&Value>) -> Vec<(String, f64)> {
    value
        .and_then(Value::as_object)
        .map(|blocks| {
            blocks
                .iter()
                .filter(|(k, _)| k.starts_with("Node_"))
                .flat_map(|(_, block)| numbers(Some(block)))
                .collect()
        })
        .unwrap_or_default()
}

fn lookup(list: &[(String, f64)], name: &str) -> f64 {
    list.iter()
        .find(|(n, _)| n == name)
        .map_or(0.0, |(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decoders_skip_what_is_not_a_number() {
        let v = json!({"a": 1, "b": "x", "c": 2.5});
        assert_eq!(
            numbers(Some(&v)),
            [("a".to_owned(), 1.0), ("c".to_owned(), 2.5)]
        );
        assert!(numbers(None).is_empty());
        assert_eq!(ids(&json!([0, 1, "2", -3])), [0, 1]);
        let g = json!({"Node_0_to_255": {"cls": 3}, "Node_256_to_511": {"x": 1}, "junk": {"y": 1}});
        let names: Vec<_> = graph(Some(&g)).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["cls", "x"]);
    }
}
