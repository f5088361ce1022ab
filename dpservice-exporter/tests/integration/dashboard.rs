//! The Grafana dashboard and the scrape configuration example: they import and load
//! without edits, and every family the dashboard queries is one the exporter serves.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use dpservice_exporter::args::MetricSet;
use dpservice_exporter::metrics::{render, Labels};
use dpservice_exporter::poll::{GraphNode, Port, Snapshot};
use serde_json::Value;

fn dashboard_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dashboard")
}

/// The dashboard's panels (rows left out).
pub fn panels() -> Vec<Value> {
    let text = std::fs::read_to_string(dashboard_dir().join("grafana.json")).unwrap();
    let dash: Value = serde_json::from_str(&text).unwrap();
    dash["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] != "row")
        .cloned()
        .collect()
}

/// A panel query with the template variables replaced by "All", as Grafana sends it.
pub fn all_selected(expr: &str) -> String {
    [
        "$cluster",
        "$pod",
        "$instance",
        "$ethdev",
        "$interface",
        "$hash_table",
    ]
    .iter()
    .fold(expr.to_owned(), |e, v| e.replace(v, ".*"))
}

/// Every family name the exporter can serve (one of each kind of value rendered).
fn served_families() -> BTreeSet<String> {
    let one = |k: &str| vec![(k.to_owned(), 1.0)];
    let snap = Snapshot {
        heaps: vec![(
            0,
            [
                "Heap_size",
                "Free_size",
                "Alloc_size",
                "Greatest_free_size",
                "Alloc_count",
                "Free_count",
            ]
            .iter()
            .map(|f| ((*f).to_owned(), 1.0))
            .collect(),
        )],
        ports: vec![Port {
            id: 0,
            name: "net_tap0".into(),
            link_up: Some(true),
            xstats: ["rx_good_bytes", "rx_good_packets", "rx_errors", "rx_other"]
                .iter()
                .map(|s| ((*s).to_owned(), 1.0))
                .collect(),
        }],
        nat_used_ports: one("vm1"),
        virtsvc_used_ports: one("UDP:1.2.3.4:53"),
        firewall_rules: one("vm1"),
        graph: vec![GraphNode {
            name: "cls".into(),
            calls: 1.0,
            objs: 1.0,
            cycles: 1.0,
        }],
        tables: vec![("vni_table".into(), 2.0, 1.0)],
        drops: one("no_route"),
        daemon_version: "x".into(),
    };
    let text = render(&snap, MetricSet::Both, &Labels { hostname: "h" }).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn dashboard_imports_without_edits_and_queries_served_families() {
    let text = std::fs::read_to_string(dashboard_dir().join("grafana.json")).unwrap();
    let dash: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(dash["title"], "DP-Service");
    assert_eq!(dash["refresh"], "30s");
    assert_eq!(dash["time"]["from"], "now-1h");
    assert!(
        !text.contains("<replace>"),
        "placeholders need manual edits"
    );
    let vars = dash["templating"]["list"].as_array().unwrap();
    assert!(vars
        .iter()
        .any(|v| v["type"] == "datasource" && v["name"] == "datasource"));

    let served = served_families();
    let mut titles = BTreeSet::new();
    for p in panels() {
        titles.insert(p["title"].as_str().unwrap().to_owned());
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{}", p["title"]);
        for t in p["targets"].as_array().unwrap() {
            assert_eq!(t["datasource"]["uid"], "${datasource}");
            let expr = t["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if ["dps_", "dpdk_", "dpservice_"]
                    .iter()
                    .any(|p| word.starts_with(p))
                {
                    assert!(served.contains(word), "{word} in {expr} is not served");
                }
            }
        }
    }
    // upstream's panels are all there (existing setups keep working)
    for t in [
        "DP-Service Heap Size",
        "DP-Service Free Size",
        "DP-Service Alloc Size",
        "DP-Service Greatest Free Size",
        "DP-Service Alloc Count",
        "DP-Service Free Count",
        "DPDK Ethdev PF Link Status",
        "DPDK Ethdev Errors per Second",
        "DPDK Ethdev Bytes per Second",
        "DPDK Ethdev Packets per Second",
        "DP-Service NAT Used Ports per Interface",
        "DP-Service Firewall Rules Used per Interface",
        "DP-Service VirtualService Used NAT Ports",
        "DP-Service Hash Table Saturation",
        "DP-Service Graph Node Calls per Second",
        "DP-Service Drops per Second by Reason",
    ] {
        assert!(titles.contains(t), "panel {t} missing");
    }
}

#[test]
fn scrape_config_example_is_valid() {
    let out = Command::new("promtool")
        .arg("check")
        .arg("config")
        .arg(dashboard_dir().join("prometheus.yml"))
        .output()
        .expect("the test needs promtool (apt-get install prometheus)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
