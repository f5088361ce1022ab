//! Upstream's families (tools.md §4.4): names, HELP texts, label names as upstream's
//! exporter declares them. All are gauges, even the `_total` ones (the dashboard applies
//! `rate()` to them).

use prometheus::GaugeVec;

use super::families::{set, Families};
use super::Labels;
use crate::poll::Snapshot;

/// Which family an xstat belongs to: by the first of `bytes`, `packets`, `errors` its
/// name contains, else `misc`.
pub fn xstat_kind(stat: &str) -> XstatKind {
    if stat.contains("bytes") {
        XstatKind::Bytes
    } else if stat.contains("packets") {
        XstatKind::Packets
    } else if stat.contains("errors") {
        XstatKind::Errors
    } else {
        XstatKind::Misc
    }
}

/// The four ethdev families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XstatKind {
    /// `dpdk_ethdev_bytes_total`.
    Bytes,
    /// `dpdk_ethdev_packets_total`.
    Packets,
    /// `dpdk_ethdev_errors_total`.
    Errors,
    /// `dpdk_ethdev_misc`.
    Misc,
}

/// The per-port part both metric sets share: each port's link state into `link`, and
/// each of its extended statistics into the family `family_of` its kind, with `put`
/// (a gauge's set upstream, a counter's increment in the native set).
pub fn per_port<'f, F: 'f>(
    snap: &Snapshot,
    link: &GaugeVec,
    family_of: impl Fn(XstatKind) -> &'f F,
    put: impl Fn(&F, &[&str], f64),
) {
    for port in &snap.ports {
        if let Some(up) = port.link_up {
            set(link, &[&port.name], if up { 1.0 } else { 0.0 });
        }
        for (stat, value) in &port.xstats {
            put(family_of(xstat_kind(stat)), &[&port.name, stat], *value);
        }
    }
}

/// Adds upstream's families for `snap`.
pub fn add(f: &mut Families, snap: &Snapshot, labels: &Labels<'_>) -> prometheus::Result<()> {
    let ethdev = |name, help| f.gauge(name, help, &["name", "stat"]);
    let bytes = ethdev("dpdk_ethdev_bytes_total", "DPDK total ethdev bytes")?;
    let packets = ethdev("dpdk_ethdev_packets_total", "DPDK total ethdev packets")?;
    let errors = ethdev("dpdk_ethdev_errors_total", "DPDK total ethdev errors")?;
    let misc = ethdev("dpdk_ethdev_misc", "Other DPDK ethdev statistics")?;
    let link = f.gauge(
        "dpdk_ethdev_link_status",
        "Link status of DPDK ethdev",
        &["name"],
    )?;
    per_port(
        snap,
        &link,
        |kind| match kind {
            XstatKind::Bytes => &bytes,
            XstatKind::Packets => &packets,
            XstatKind::Errors => &errors,
            XstatKind::Misc => &misc,
        },
        set,
    );

    // no heap label: several heaps overwrite each other, as upstream's do
    let heap = f.gauge("dpdk_heap_info", "Dpservice heap info", &["node", "info"])?;
    for (_, fields) in &snap.heaps {
        for (info, value) in fields {
            set(&heap, &[labels.hostname, info], *value);
        }
    }

    let per_interface = |name, help, values: &[(String, f64)]| -> prometheus::Result<()> {
        let family = f.gauge(name, help, &["interface_id"])?;
        for (id, value) in values {
            set(&family, &[id], *value);
        }
        Ok(())
    };
    per_interface(
        "dps_nat_used_ports_count",
        "Count of used NAT ports on interface",
        &snap.nat_used_ports,
    )?;
    per_interface(
        "dps_firewall_rules_count",
        "Count of firewall rules on interface",
        &snap.firewall_rules,
    )?;

    let virtsvc = f.gauge(
        "dps_virtsvc_used_ports_count",
        "Count of used virtual service ports",
        &["address"],
    )?;
    for (address, value) in &snap.virtsvc_used_ports {
        set(&virtsvc, &[address], *value);
    }

    let graph = f.gauge(
        "dps_graph_call_count",
        "Dpservice graph statistics",
        &["node", "graph_node"],
    )?;
    for node in &snap.graph {
        set(&graph, &[labels.hostname, &node.name], node.calls);
    }

    let tables = f.gauge(
        "dps_hash_table_saturation",
        "Dpservice hash table saturation",
        &["table", "stat"],
    )?;
    for (table, capacity, entries) in &snap.tables {
        set(&tables, &[table, "capacity"], *capacity);
        set(&tables, &[table, "entries"], *entries);
    }
    Ok(())
}
