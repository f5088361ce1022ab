//! The `dpservice_*` families (`--metrics=native|both`): Prometheus' naming rules
//! (monotonic values as counters ending in `_total`, units in the name, one meaning per
//! family), per-heap labels, all graph counters and drops per reason. The `node` label is
//! left to the scrape target (`instance`), except on `dpservice_build_info`, which joins
//! a target to its host name.

use super::families::{set, set_counter, Families};
use super::upstream::{per_port, XstatKind};
use super::Labels;
use crate::poll::Snapshot;

/// `/eal/heap_info` field → (family, help).
const HEAP_FIELDS: &[(&str, &str, &str)] = &[
    (
        "Heap_size",
        "dpservice_heap_size_bytes",
        "Size of the memory heap",
    ),
    (
        "Free_size",
        "dpservice_heap_free_bytes",
        "Free memory in the heap",
    ),
    (
        "Alloc_size",
        "dpservice_heap_allocated_bytes",
        "Allocated memory in the heap",
    ),
    (
        "Greatest_free_size",
        "dpservice_heap_greatest_free_bytes",
        "Largest free block of the heap",
    ),
    (
        "Alloc_count",
        "dpservice_heap_allocations",
        "Allocated blocks in the heap",
    ),
    (
        "Free_count",
        "dpservice_heap_free_blocks",
        "Free blocks in the heap",
    ),
];

/// (family, help, label name, values per label value).
type PerKeyGauge<'a> = (&'a str, &'a str, &'a str, &'a [(String, f64)]);

/// Adds the native families for `snap`.
pub fn add(f: &mut Families, snap: &Snapshot, labels: &Labels<'_>) -> prometheus::Result<()> {
    let info = f.gauge(
        "dpservice_build_info",
        "Versions of the exporter and the daemon it reads; always 1",
        &["version", "daemon_version", "node"],
    )?;
    set(
        &info,
        &[
            dpservice::version::VERSION,
            &snap.daemon_version,
            labels.hostname,
        ],
        1.0,
    );

    for (field, name, help) in HEAP_FIELDS {
        let family = f.gauge(name, help, &["heap"])?;
        for (id, fields) in &snap.heaps {
            if let Some((_, v)) = fields.iter().find(|(k, _)| k == field) {
                set(&family, &[&id.to_string()], *v);
            }
        }
    }

    let ethdev = |kind, help| f.counter(kind, help, &["name", "stat"]);
    let bytes = ethdev(
        "dpservice_ethdev_bytes_total",
        "Bytes counted by a port, per statistic",
    )?;
    let packets = ethdev(
        "dpservice_ethdev_packets_total",
        "Packets counted by a port, per statistic",
    )?;
    let errors = ethdev(
        "dpservice_ethdev_errors_total",
        "Errors counted by a port, per statistic",
    )?;
    let other = ethdev(
        "dpservice_ethdev_other_total",
        "Other extended statistics of a port",
    )?;
    let link = f.gauge(
        "dpservice_ethdev_link_up",
        "1 when the port's link is up",
        &["name"],
    )?;
    per_port(
        snap,
        &link,
        |kind| match kind {
            XstatKind::Bytes => &bytes,
            XstatKind::Packets => &packets,
            XstatKind::Errors => &errors,
            XstatKind::Misc => &other,
        },
        set_counter,
    );

    let gauges: [PerKeyGauge<'_>; 3] = [
        (
            "dpservice_nat_used_ports",
            "NAT ports in use by an interface",
            "interface_id",
            &snap.nat_used_ports,
        ),
        (
            "dpservice_firewall_rules",
            "Firewall rules of an interface",
            "interface_id",
            &snap.firewall_rules,
        ),
        (
            "dpservice_virtsvc_used_ports",
            "Ports in use by a virtual service",
            "address",
            &snap.virtsvc_used_ports,
        ),
    ];
    for (name, help, label, values) in gauges {
        let family = f.gauge(name, help, &[label])?;
        for (key, value) in values {
            set(&family, &[key], *value);
        }
    }

    let calls = f.counter(
        "dpservice_graph_node_calls_total",
        "Runs of a graph node's process function",
        &["graph_node"],
    )?;
    let objs = f.counter(
        "dpservice_graph_node_packets_total",
        "Packets processed by a graph node",
        &["graph_node"],
    )?;
    let cycles = f.counter(
        "dpservice_graph_node_cycles_total",
        "CPU cycles spent in a graph node (sampled)",
        &["graph_node"],
    )?;
    for node in &snap.graph {
        set_counter(&calls, &[&node.name], node.calls);
        set_counter(&objs, &[&node.name], node.objs);
        set_counter(&cycles, &[&node.name], node.cycles);
    }

    let capacity = f.gauge(
        "dpservice_table_capacity",
        "Most entries a state table can hold",
        &["table"],
    )?;
    let entries = f.gauge(
        "dpservice_table_entries",
        "Entries in a state table",
        &["table"],
    )?;
    for (table, cap, n) in &snap.tables {
        set(&capacity, &[table], *cap);
        set(&entries, &[table], *n);
    }

    let drops = f.counter(
        "dpservice_drops_total",
        "Packets dropped, per reason",
        &["reason"],
    )?;
    for (reason, n) in &snap.drops {
        set_counter(&drops, &[reason], *n);
    }
    Ok(())
}
