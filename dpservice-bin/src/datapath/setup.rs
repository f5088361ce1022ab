//! Building the packet path from the resolved command line.

use std::time::Instant;

use super::{Datapath, DatapathError};
use crate::config::Config;
use crate::graph::trace_log::LogSink;
use crate::graph::{GraphConfig, PortRole};
use crate::port::tap::{TapConfig, TapPort};
use crate::state::PortKind;
use crate::sync::HaSync;

/// [`datapath`] over DPDK's ports (`--port-backend=dpdk`): every probed port with a role
/// (and the sync port) configured as upstream does and started, the graph over them, and
/// the graph's pool taking mbufs, so every packet it handles is an mbuf. Ports without a
/// role are left alone, as upstream leaves them.
#[cfg(feature = "dpdk")]
pub fn datapath_dpdk(
    cfg: &Config,
    eal: &crate::dpdk::Eal,
    now: Instant,
    flows: Option<crate::tables::FlowTables>,
) -> Result<Datapath, DatapathError> {
    use crate::dpdk::packet::{MbufSource, PRIV_SIZE};
    use crate::port::dpdk::{create_pool, DpdkPort};
    use crate::port::Port;

    let with_role: Vec<_> = cfg
        .taps
        .iter()
        .filter_map(|t| role_of(cfg, t.port_id).map(|role| (t, role)))
        .collect();
    let sync = cfg.taps.iter().find(|t| Some(t.port_id) == cfg.sync_port);
    let pool = create_pool(
        eal,
        with_role.len() + usize::from(sync.is_some()),
        PRIV_SIZE,
    )?;
    let mut opened: Vec<(u16, Box<dyn Port>, Option<PortRole>)> = Vec::new();
    for (t, role) in with_role {
        let is_pf = matches!(role, PortRole::Pf0 | PortRole::Pf1);
        let port = DpdkPort::open(eal, t.port_id, &t.iface, is_pf, pool)?;
        opened.push((t.port_id, Box::new(port), Some(role)));
    }
    let mut dp = Datapath::with_ports(graph_config(cfg), opened, now, flows)?;
    dp.graph
        .pool_mut()
        .set_source(Box::new(MbufSource::new(pool.mbufs())));
    if let Some(t) = sync {
        let port = DpdkPort::open_sync(eal, t.port_id, &t.iface, pool)?;
        dp.attach_sync(HaSync::new(Box::new(port)));
    }
    let mut dp = finish(dp, cfg, now);
    // per-node cycles from the TSC, as upstream (a clock_gettime per read cost ~10 %)
    dp.graph.set_cycle_clock(Some(crate::dpdk::tsc::cycles_now));
    Ok(dp)
}

/// The packet-path options of the command line.
pub fn graph_config(cfg: &Config) -> GraphConfig {
    GraphConfig {
        host_underlay: cfg.underlay,
        dhcp_mtu: cfg.dhcp_mtu,
        dhcp_dns: cfg.dhcp_dns.clone(),
        dhcpv6_dns: cfg.dhcpv6_dns.clone(),
        wcmp_percent: cfg.wcmp_percent,
        ipv6_overlay: cfg.ipv6_overlay,
        flow_timeout: cfg.flow_timeout,
        virtual_services_count: cfg.virtual_services.len(),
        nic_type: cfg.nic_type,
        virtual_service_list: cfg.virtual_services.clone(),
        ..GraphConfig::default()
    }
}

/// Opens every `--vdev` TAP (port ids in `--vdev` order), builds the graph over the
/// uplinks and VFs and, with `--sync-tap`, the HA sync node over the sync port. The
/// instance starts standby.
pub fn datapath(
    cfg: &Config,
    now: Instant,
    flows: Option<crate::tables::FlowTables>,
) -> Result<Datapath, DatapathError> {
    let taps: Vec<_> = cfg
        .taps
        .iter()
        .filter(|t| Some(t.port_id) != cfg.sync_port)
        .map(|t| {
            let role = role_of(cfg, t.port_id);
            let tap = TapConfig {
                device: t.device.clone(),
                iface: t.iface.clone(),
                mac: t.mac,
                persist: t.persist,
            };
            (t.port_id, tap, role)
        })
        .collect();
    let mut dp = Datapath::open_taps(graph_config(cfg), &taps, now, flows)?;
    if let Some(t) = cfg.taps.iter().find(|t| Some(t.port_id) == cfg.sync_port) {
        let port = TapPort::open(&TapConfig {
            device: t.device.clone(),
            iface: t.iface.clone(),
            mac: t.mac,
            persist: t.persist,
        })?;
        dp.attach_sync(HaSync::new(Box::new(port)));
    }
    Ok(finish(dp, cfg, now))
}

/// The graph role of port `id` (`None`: no role, the port stays idle).
fn role_of(cfg: &Config, id: u16) -> Option<PortRole> {
    cfg.ports.iter().find(|p| p.id == id).map(|p| match p.kind {
        PortKind::Pf0 => PortRole::Pf0,
        PortKind::Pf1 => PortRole::Pf1,
        PortKind::Vf => PortRole::Vf,
    })
}

/// What every backend's packet path gets after its ports: the cycle clock, the
/// statistics screen, graph tracing.
fn finish(mut dp: Datapath, cfg: &Config, now: Instant) -> Datapath {
    // per-node cycle counts (telemetry, statistics screen), sampled per burst
    crate::telemetry::clock::calibrate();
    dp.graph
        .set_cycle_clock(Some(crate::telemetry::clock::cycles_now));
    if cfg.stats {
        dp.show_stats_screen(now);
    }
    if let Some(sink) = LogSink::new(cfg.graphtrace_level) {
        // Tracing costs every packet a formatted line: only when the lines are kept.
        if tracing::enabled!(target: "graph", tracing::Level::DEBUG) {
            dp.graph.set_trace_sink(Some(Box::new(sink)));
            dp.graph.trace_switch().set(true);
        } else {
            tracing::warn!(
                "--graphtrace-loglevel has no effect unless the graph logger logs debug \
                 lines (--log-level=user2:8)"
            );
        }
    }
    dp
}
