//! `--metrics=native|both`: Prometheus naming, values read on every scrape.

use std::time::{Duration, Instant};

use crate::exporter::{families, series, upstream_setup, Exporter};

#[test]
fn native_families_are_read_on_every_scrape() {
    let d = upstream_setup(None);
    // a poll interval far beyond the test: every value seen must come from the scrape
    let e = Exporter::start(
        &d,
        9065,
        &["--metrics=native", "-poll-interval=600", "-hostname=hv1"],
    );
    let text = e.metrics();
    let fams = families(&text);
    let names: Vec<&str> = fams.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.iter().all(|n| n.starts_with("dpservice_")),
        "{names:?}"
    );
    for (name, kind) in &fams {
        let expected = if name.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        assert_eq!(kind, expected, "{name}");
    }
    for needed in [
        "dpservice_build_info",
        "dpservice_table_capacity",
        "dpservice_table_entries",
        "dpservice_graph_node_calls_total",
        "dpservice_graph_node_packets_total",
        "dpservice_ethdev_packets_total",
        "dpservice_ethdev_link_up",
        "dpservice_firewall_rules",
        "dpservice_heap_size_bytes",
        "dpservice_drops_total",
    ] {
        assert!(names.contains(&needed), "{needed} missing: {names:?}");
    }
    let info = series(&text, "dpservice_build_info");
    assert_eq!(info.len(), 1);
    assert!(
        info[0].contains(&format!(r#"version="{}""#, dpservice::version::VERSION)),
        "{info:?}"
    );
    assert!(
        info[0].ends_with(" 1") && info[0].contains(r#"node="hv1""#),
        "{info:?}"
    );
    assert!(series(&text, "dpservice_table_entries")
        .contains(&r#"dpservice_table_entries{table="interface_table"} 3"#));
    assert!(series(&text, "dpservice_table_capacity")
        .contains(&r#"dpservice_table_capacity{table="conntrack_table"} 850000"#));

    // a deleted interface is gone from the very next scrapes (the daemon publishes its
    // tables within milliseconds; no poll timer is involved)
    d.with_client(|c| async move { c.delete_interface("vm2").await.unwrap() });
    let start = Instant::now();
    let text = e.wait_metrics(Duration::from_secs(5), |t| {
        !t.contains(r#"interface_id="vm2""#)
    });
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(series(&text, "dpservice_table_entries")
        .contains(&r#"dpservice_table_entries{table="interface_table"} 2"#));
}

#[test]
fn both_sets_together() {
    let d = upstream_setup(None);
    let e = Exporter::start(&d, 9066, &["--metrics=both"]);
    let text = e.metrics();
    let names: Vec<String> = families(&text).into_iter().map(|(n, _)| n).collect();
    assert!(
        names.iter().any(|n| n == "dps_graph_call_count"),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n == "dpservice_graph_node_calls_total"),
        "{names:?}"
    );
    assert!(!text.contains("\n\n"));
}
