//! DPDK's standard commands for our ports (tools.md §3.4): `/eal/heap_list`,
//! `/eal/heap_info`, `/ethdev/list`, `/ethdev/info`, `/ethdev/link_status`,
//! `/ethdev/xstats`, `/ethdev/stats`, with DPDK's key names.

use dpservice::telemetry::Json;

use super::snapshot::{HeapSnapshot, PortSnapshot, TelemetrySnapshot};
use crate::port::PortId;

/// Link speed DPDK's TAP driver reports (Mbps).
pub const TAP_SPEED_MBPS: u64 = 10_000;

/// Per-queue counters DPDK's `/ethdev/stats` lists (`RTE_ETHDEV_QUEUE_STAT_CNTRS`).
const QUEUE_STAT_COUNTERS: usize = 16;

/// The one heap: the packet buffer pool.
pub fn heap_list() -> Json {
    Json::u64_array([0])
}

/// `/eal/heap_info,<id>`: the pool as DPDK's heap statistics; `None` for another id.
pub fn heap_info(heap: &HeapSnapshot, params: Option<&str>) -> Option<Json> {
    if leading_number(params?)? != 0 {
        return None;
    }
    let size = heap.buffer_size;
    let free = heap.created.saturating_sub(heap.in_use);
    Some(Json::object([
        ("Heap_id", Json::U64(0)),
        ("Name", Json::from("socket_0")),
        ("Heap_size", Json::U64(heap.created * size)),
        ("Free_size", Json::U64(free * size)),
        ("Alloc_size", Json::U64(heap.in_use * size)),
        (
            "Greatest_free_size",
            Json::U64(if free > 0 { size } else { 0 }),
        ),
        ("Alloc_count", Json::U64(heap.in_use)),
        ("Free_count", Json::U64(free)),
    ]))
}

/// `/ethdev/list`.
pub fn list(snap: &TelemetrySnapshot) -> Json {
    Json::u64_array(snap.ports.iter().map(|p| u64::from(p.id)))
}

/// The port a parameter names: it must start with a digit; what follows the number is
/// returned (and ignored by most commands).
pub fn port_param<'s, 'p>(
    snap: &'s TelemetrySnapshot,
    params: Option<&'p str>,
) -> Option<(&'s PortSnapshot, &'p str)> {
    let params = params?;
    let id = PortId::try_from(leading_number(params)?).ok()?;
    let rest = params.trim_start_matches(|c: char| c.is_ascii_digit());
    Some((snap.ports.iter().find(|p| p.id == id)?, rest))
}

/// The decimal number a parameter starts with.
fn leading_number(params: &str) -> Option<u64> {
    let end = params
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(params.len());
    params[..end].parse().ok()
}

/// `/ethdev/info,<port>`.
pub fn info(port: &PortSnapshot, name: &str) -> Json {
    let started = u64::from(port.started);
    Json::object([
        ("name", Json::from(name)),
        ("state", Json::U64(1)),
        ("nb_rx_queues", Json::U64(1)),
        ("nb_tx_queues", Json::U64(1)),
        ("port_id", Json::U64(port.id.into())),
        ("mtu", Json::U64(port.mtu.into())),
        ("rx_mbuf_size", Json::U64(2048)),
        ("rx_mbuf_alloc_fail", Json::U64(port.stats.rx_nombuf)),
        ("mac_addr", Json::from(mac_text(port))),
        ("promiscuous", Json::U64(0)),
        ("scattered_rx", Json::U64(0)),
        ("all_multicast", Json::U64(0)),
        ("dev_started", Json::U64(started)),
        ("rx_offloads", Json::U64(0)),
        ("tx_offloads", Json::U64(0)),
        ("dev_flags", Json::U64(0)),
        ("rx_queue_state", Json::u64_array([started])),
        ("tx_queue_state", Json::u64_array([started])),
        ("numa_node", Json::I64(-1)),
    ])
}

/// DPDK prints MACs upper-case with colons.
fn mac_text(port: &PortSnapshot) -> String {
    let m = port.mac.0;
    format!(
        "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// `/ethdev/link_status,<port>`.
pub fn link_status(port: &PortSnapshot) -> Json {
    if port.link_up {
        Json::object([
            ("status", Json::from("UP")),
            ("speed", Json::U64(TAP_SPEED_MBPS)),
            ("duplex", Json::from("full-duplex")),
        ])
    } else {
        Json::object([("status", Json::from("DOWN"))])
    }
}

/// `/ethdev/xstats,<port>[,hide_zero=true]`: exactly DPDK's generic counters for one
/// queue pair (what upstream's exporter test expects of software ports).
pub fn xstats(port: &PortSnapshot, rest: &str) -> Json {
    let hide_zero = rest
        .split(',')
        .any(|opt| opt.trim_end() == "hide_zero=true");
    let s = &port.stats;
    let all = [
        ("rx_good_packets", s.rx_packets),
        ("tx_good_packets", s.tx_packets),
        ("rx_good_bytes", s.rx_bytes),
        ("tx_good_bytes", s.tx_bytes),
        ("rx_missed_errors", 0),
        ("rx_errors", s.rx_errors),
        ("tx_errors", s.tx_errors),
        ("rx_mbuf_allocation_errors", s.rx_nombuf),
        ("rx_q0_packets", s.rx_packets),
        ("rx_q0_bytes", s.rx_bytes),
        ("rx_q0_errors", s.rx_errors),
        ("tx_q0_packets", s.tx_packets),
        ("tx_q0_bytes", s.tx_bytes),
    ];
    Json::object(
        all.into_iter()
            .filter(|(_, v)| !hide_zero || *v != 0)
            .map(|(k, v)| (k, Json::U64(v))),
    )
}

/// `/ethdev/stats,<port>`: totals and the per-queue arrays (queue 0 only).
pub fn stats(port: &PortSnapshot) -> Json {
    let s = &port.stats;
    let queues = |q0: u64| {
        Json::u64_array(std::iter::once(q0).chain(std::iter::repeat_n(0, QUEUE_STAT_COUNTERS - 1)))
    };
    Json::object([
        ("ipackets", Json::U64(s.rx_packets)),
        ("opackets", Json::U64(s.tx_packets)),
        ("ibytes", Json::U64(s.rx_bytes)),
        ("obytes", Json::U64(s.tx_bytes)),
        ("imissed", Json::U64(0)),
        ("ierrors", Json::U64(s.rx_errors)),
        ("oerrors", Json::U64(s.tx_errors)),
        ("rx_nombuf", Json::U64(s.rx_nombuf)),
        ("q_ipackets", queues(s.rx_packets)),
        ("q_opackets", queues(s.tx_packets)),
        ("q_ibytes", queues(s.rx_bytes)),
        ("q_obytes", queues(s.tx_bytes)),
        ("q_errors", queues(s.rx_errors)),
    ])
}
