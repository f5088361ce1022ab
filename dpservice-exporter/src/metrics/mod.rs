//! From a [`Snapshot`](crate::poll::Snapshot) to Prometheus' text exposition format.
//!
//! Every rendering builds a fresh registry from the latest snapshot, so a series whose
//! source vanished (a deleted interface, a removed port) disappears with the next poll
//! instead of keeping its last value forever as upstream's does.
//!
//! - [`upstream`]: upstream's eleven gauge families, names and labels exactly;
//! - [`native`]: `dpservice_*` families that follow Prometheus' naming rules;
//! - [`families`]: the small registry wrapper both use.

pub mod families;
pub mod native;
pub mod upstream;

use crate::args::MetricSet;
use crate::poll::Snapshot;

/// The registry refused a family or the encoder failed: a bug, not a data problem.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the metrics: {0}")]
pub struct RenderError(#[from] prometheus::Error);

/// Where the values came from besides the snapshot.
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    /// Value of upstream's `node` label.
    pub hostname: &'a str,
}

/// The `/metrics` text for `snapshot`.
pub fn render(
    snapshot: &Snapshot,
    set: MetricSet,
    labels: &Labels<'_>,
) -> Result<String, RenderError> {
    let mut families = families::Families::new();
    if set.upstream() {
        upstream::add(&mut families, snapshot, labels)?;
    }
    if set.native() {
        native::add(&mut families, snapshot, labels)?;
    }
    Ok(families.encode()?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::poll::{GraphNode, Port};

    fn snapshot() -> Snapshot {
        Snapshot {
            heaps: vec![(
                0,
                vec![("Heap_id".into(), 0.0), ("Heap_size".into(), 1.5e9)],
            )],
            ports: vec![
                Port {
                    id: 0,
                    name: "net_tap0".into(),
                    link_up: Some(false),
                    xstats: vec![
                        ("rx_good_packets".into(), 3.0),
                        ("rx_good_bytes".into(), 180.0),
                        ("rx_missed_errors".into(), 0.0),
                        ("weird".into(), 7.0),
                    ],
                },
                Port {
                    id: 1,
                    name: "0000:3b:00.0_representor_c0pf0vf0".into(),
                    link_up: None,
                    xstats: vec![],
                },
            ],
            firewall_rules: vec![("vm\"1".into(), 2.0)],
            graph: vec![GraphNode {
                name: "cls".into(),
                calls: 4211.0,
                objs: 9.0,
                cycles: 0.0,
            }],
            tables: vec![("conntrack_table".into(), 850000.0, 4.0)],
            ..Snapshot::default()
        }
    }

    #[test]
    fn upstream_text_is_exact() {
        let text = render(
            &snapshot(),
            MetricSet::Upstream,
            &Labels { hostname: "hv1" },
        )
        .unwrap();
        let expected = r#"# HELP dpdk_ethdev_bytes_total DPDK total ethdev bytes
# TYPE dpdk_ethdev_bytes_total gauge
dpdk_ethdev_bytes_total{name="net_tap0",stat="rx_good_bytes"} 180
# HELP dpdk_ethdev_errors_total DPDK total ethdev errors
# TYPE dpdk_ethdev_errors_total gauge
dpdk_ethdev_errors_total{name="net_tap0",stat="rx_missed_errors"} 0
# HELP dpdk_ethdev_link_status Link status of DPDK ethdev
# TYPE dpdk_ethdev_link_status gauge
dpdk_ethdev_link_status{name="net_tap0"} 0
# HELP dpdk_ethdev_misc Other DPDK ethdev statistics
# TYPE dpdk_ethdev_misc gauge
dpdk_ethdev_misc{name="net_tap0",stat="weird"} 7
# HELP dpdk_ethdev_packets_total DPDK total ethdev packets
# TYPE dpdk_ethdev_packets_total gauge
dpdk_ethdev_packets_total{name="net_tap0",stat="rx_good_packets"} 3
# HELP dpdk_heap_info Dpservice heap info
# TYPE dpdk_heap_info gauge
dpdk_heap_info{info="Heap_id",node="hv1"} 0
dpdk_heap_info{info="Heap_size",node="hv1"} 1500000000
# HELP dps_firewall_rules_count Count of firewall rules on interface
# TYPE dps_firewall_rules_count gauge
dps_firewall_rules_count{interface_id="vm\"1"} 2
# HELP dps_graph_call_count Dpservice graph statistics
# TYPE dps_graph_call_count gauge
dps_graph_call_count{graph_node="cls",node="hv1"} 4211
# HELP dps_hash_table_saturation Dpservice hash table saturation
# TYPE dps_hash_table_saturation gauge
dps_hash_table_saturation{stat="capacity",table="conntrack_table"} 850000
dps_hash_table_saturation{stat="entries",table="conntrack_table"} 4
"#;
        assert_eq!(text, expected);
    }

    #[test]
    fn native_counters_and_vanished_series() {
        let mut snap = snapshot();
        let text = render(&snap, MetricSet::Native, &Labels { hostname: "hv1" }).unwrap();
        assert!(text.contains("# TYPE dpservice_graph_node_calls_total counter\n"));
        assert!(text.contains("dpservice_graph_node_calls_total{graph_node=\"cls\"} 4211\n"));
        assert!(text.contains("dpservice_heap_size_bytes{heap=\"0\"} 1500000000\n"));
        assert!(text.contains("dpservice_firewall_rules{interface_id=\"vm\\\"1\"} 2\n"));
        assert!(!text.contains("dps_"), "{text}");
        // the next poll no longer lists the interface: its series are gone
        snap.firewall_rules.clear();
        let text = render(&snap, MetricSet::Native, &Labels { hostname: "hv1" }).unwrap();
        assert!(!text.contains("dpservice_firewall_rules"), "{text}");
    }
}
