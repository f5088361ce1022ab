//! Upstream's families against a daemon with known state: upstream's exporter test
//! (tools.md §4.6 test 6) line by line, a golden exposition, and values that follow the
//! daemon (a firewall rule appears, a deleted interface's series disappear).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use dpservice::model::{CreateFirewallRule, FirewallRule, ProtocolFilter, TrafficDirection};
use dpservice::model::{FirewallAction, FirewallRuleRef};

use crate::exporter::{series, upstream_setup, upstream_setup_with, Exporter};

/// The quoted values of a line, in order.
fn quoted(line: &str) -> Vec<&str> {
    line.split('"').skip(1).step_by(2).collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// What upstream's `test_exporter` does with the text: every line is one of the known
/// families or a comment; the collected label values are returned for comparison.
fn upstream_walk(text: &str) -> [BTreeSet<String>; 4] {
    let (mut nodes, mut heap, mut ethdev, mut tables) = Default::default();
    for line in text.lines() {
        let q = quoted(line);
        let value = line.rsplit_once(' ').map(|(_, v)| v);
        if line.starts_with("dps_graph_call_count") {
            BTreeSet::insert(&mut nodes, q[0].to_owned());
        } else if line.starts_with("dpdk_heap_info") {
            BTreeSet::insert(&mut heap, q[0].to_owned());
        } else if [
            "dpdk_ethdev_errors_total",
            "dpdk_ethdev_bytes_total",
            "dpdk_ethdev_packets_total",
        ]
        .iter()
        .any(|f| line.starts_with(f))
        {
            BTreeSet::insert(&mut ethdev, q[1].to_owned());
        } else if line.starts_with("dps_hash_table_saturation") {
            BTreeSet::insert(&mut tables, q[1].to_owned());
        } else if line.starts_with("dpdk_ethdev_link_status") {
            assert!(matches!(value, Some("0" | "1")), "{line}");
        } else if [
            "dpdk_ethdev_misc",
            "dps_firewall_rules_count",
            "dps_virtsvc_used_ports_count",
            "dps_nat_used_ports_count",
        ]
        .iter()
        .any(|f| line.starts_with(f))
        {
            assert!(value.is_some_and(|v| v.parse::<f64>().is_ok()), "{line}");
        } else {
            assert!(
                line.starts_with('#'),
                "line upstream's test rejects: {line:?}"
            );
        }
    }
    [nodes, heap, ethdev, tables]
}

#[test]
fn upstreams_exporter_test_passes() {
    let d = upstream_setup(None);
    let e = Exporter::start(&d, 9064, &[]);
    let [nodes, heap, ethdev, tables] = upstream_walk(&e.metrics());

    let mut expected: BTreeSet<String> = (0..6)
        .flat_map(|p| [format!("rx-{p}-0"), format!("tx-{p}")])
        .collect();
    expected.extend(set(&[
        "rx_periodic",
        "arp",
        "cls",
        "conntrack",
        "dhcp",
        "dhcpv6",
        "dnat",
        "drop",
        "firewall",
        "lb",
        "packet_relay",
        "snat",
        "ipip_decap",
        "ipip_encap",
        "ipv4_lookup",
        "ipv6_lookup",
        "ipv6_nd",
    ]));
    assert_eq!(nodes, expected);
    assert_eq!(
        heap,
        set(&[
            "Heap_id",
            "Heap_size",
            "Alloc_count",
            "Free_count",
            "Alloc_size",
            "Free_size",
            "Greatest_free_size"
        ])
    );
    assert_eq!(
        ethdev,
        set(&[
            "rx_good_packets",
            "tx_good_packets",
            "rx_good_bytes",
            "tx_good_bytes",
            "rx_missed_errors",
            "rx_errors",
            "tx_errors",
            "rx_mbuf_allocation_errors",
            "rx_q0_packets",
            "rx_q0_bytes",
            "rx_q0_errors",
            "tx_q0_packets",
            "tx_q0_bytes",
        ])
    );
    assert_eq!(
        tables,
        set(&[
            "interface_table",
            "conntrack_table",
            "dnat_table",
            "snat_table",
            "nat_portmap_table",
            "nat_portoverload_table",
            "loadbalancer_table",
            "loadbalancer_id_table",
            "vni_table",
            "vnf_table",
            "reverse_vnf_table",
        ])
    );
}

/// Values that change by themselves (counters, heap) are masked; the rest is exact.
fn mask(text: &str) -> String {
    const VOLATILE: [&str; 5] = [
        "dpdk_ethdev_bytes_total{",
        "dpdk_ethdev_packets_total{",
        "dpdk_ethdev_misc{",
        "dpdk_heap_info{",
        "dps_graph_call_count{",
    ];
    text.lines()
        .map(|l| match l.rsplit_once(' ') {
            Some((series, _)) if VOLATILE.iter().any(|v| l.starts_with(v)) => {
                format!("{series} <n>\n")
            }
            _ => format!("{l}\n"),
        })
        .collect()
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert!(
        expected == actual,
        "{} differs (UPDATE_GOLDEN=1 rewrites it; review the diff):\n{actual}",
        path.display()
    );
}

fn rule(iface: &str, id: &str) -> CreateFirewallRule {
    CreateFirewallRule {
        interface_id: iface.into(),
        rule: FirewallRule {
            id: id.into(),
            direction: TrafficDirection::Ingress,
            action: FirewallAction::Accept,
            priority: 1000,
            source: "1.2.3.0/24".parse().unwrap(),
            destination: "0.0.0.0/0".parse().unwrap(),
            filter: ProtocolFilter::Any,
        },
    }
}

#[test]
fn golden_exposition_and_values_follow_the_daemon() {
    let d = upstream_setup(None);
    // the Go flag spellings, as deployments write them
    let e = Exporter::start(&d, 9064, &["-hostname", "hv1", "-poll-interval=1"]);
    golden("upstream.txt", &mask(&e.metrics()));

    // a firewall rule on vm1 shows up at the next poll
    d.with_client(|c| async move { c.create_firewall_rule(&rule("vm1", "r1")).await.unwrap() });
    e.wait_metrics(Duration::from_secs(10), |t| {
        series(t, "dps_firewall_rules_count")
            .contains(&r#"dps_firewall_rules_count{interface_id="vm1"} 1"#)
    });
    d.with_client(|c| async move {
        c.delete_firewall_rule(&FirewallRuleRef {
            interface_id: "vm1".into(),
            rule_id: "r1".into(),
        })
        .await
        .unwrap();
        c.delete_interface("vm3").await.unwrap();
    });
    // ... and a deleted interface's series go away (upstream's keep their last value)
    let text = e.wait_metrics(Duration::from_secs(10), |t| {
        !t.contains(r#"interface_id="vm3""#)
    });
    assert_eq!(
        series(&text, "dps_firewall_rules_count"),
        [
            r#"dps_firewall_rules_count{interface_id="vm1"} 0"#,
            r#"dps_firewall_rules_count{interface_id="vm2"} 0"#,
        ]
    );
    assert_eq!(e.get("/").0, 404);
}

#[test]
fn virtual_services_add_their_series() {
    let d = upstream_setup_with(
        None,
        &[
            "--udp-virtsvc=1.2.3.4,5353,2a10:afc0:e01f:f408::1,53",
            "--tcp-virtsvc=5.6.7.8,4443,2a10:afc0:e01f:f408::1,443",
        ],
    );
    let e = Exporter::start(&d, 9064, &[]);
    let text = e.metrics();
    let [nodes, _, _, tables] = upstream_walk(&text);
    assert!(nodes.contains("virtsvc"), "{nodes:?}");
    assert!(tables.contains("virtsvc_table_0") && tables.contains("virtsvc_table_1"));
    assert_eq!(tables.len(), 13, "{tables:?}");
    assert_eq!(
        series(&text, "dps_virtsvc_used_ports_count"),
        [
            r#"dps_virtsvc_used_ports_count{address="TCP:5.6.7.8:4443"} 0"#,
            r#"dps_virtsvc_used_ports_count{address="UDP:1.2.3.4:5353"} 0"#,
        ]
    );
}
