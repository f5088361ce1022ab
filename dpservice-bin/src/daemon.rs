//! The process: start-up in upstream's order, waiting for a signal, and a shutdown that
//! ends within a few seconds with the gRPC port, the HA lock and the runtime directory
//! given back (dataplane.md §1.5).

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::backend::{Backend, BackendError};
use crate::config::{self, Config};
use crate::grpc::health::HealthReporter;
use crate::grpc::server::{self, GrpcServer, ServerError};
use crate::ha::Standby;
use crate::port::link::link_requests;
use crate::port_control::PortControl;
use crate::runtime_dir::{RuntimeDir, RuntimeDirError};
use crate::state::{NicType, State};
use crate::tables::{SharedTables, TablesError};
use crate::telemetry::{self, Commands, SnapshotShare, TelemetryServer};
use crate::worker::{Dataplane, TestPanic, Worker};

/// How long running gRPC calls may take to finish at shutdown.
pub const GRPC_GRACE: Duration = Duration::from_secs(2);

/// Why the daemon failed (exit status 1).
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The async runtime or a thread could not start.
    #[error("cannot start {what}: {source}")]
    Start {
        /// Which part.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// Runtime directory.
    #[error(transparent)]
    RuntimeDir(#[from] RuntimeDirError),
    /// gRPC server.
    #[error(transparent)]
    Grpc(#[from] ServerError),
    /// Telemetry socket.
    #[error(transparent)]
    Telemetry(#[from] telemetry::TelemetryError),
    /// A `--vdev` TAP device.
    #[error(transparent)]
    Ports(#[from] crate::port::tap::TapError),
    /// The packet path (ports and its flow tables).
    #[error(transparent)]
    Datapath(#[from] crate::datapath::DatapathError),
    /// `--debug-coredumps`.
    #[error("Cannot write coredump flags to /proc/self/coredump_filter: {0}")]
    Coredumps(std::io::Error),
    /// The shared-memory region.
    #[error(transparent)]
    Tables(#[from] TablesError),
    /// A part of the running daemon failed (HA lock, gRPC server).
    #[error("{0}")]
    Fatal(String),
    /// The port backend (DPDK's EAL, its ports).
    #[error(transparent)]
    Backend(#[from] BackendError),
}

fn start_err(what: &'static str) -> impl FnOnce(std::io::Error) -> DaemonError {
    move |source| DaemonError::Start { what, source }
}

/// Runs the daemon until SIGINT/SIGTERM (Ok) or a fatal error.
pub fn run(mut cfg: Config) -> Result<(), DaemonError> {
    if cfg.debug_coredumps {
        std::fs::write("/proc/self/coredump_filter", "0x7f\n").map_err(DaemonError::Coredumps)?;
    }
    // the prefix is ours (and a killed predecessor's leftovers gone) before DPDK puts its
    // files into the same directory
    let runtime_dir = RuntimeDir::create(&cfg.instance.runtime_dir(), cfg.instance.prefix())?;
    // DPDK's EAL on this thread, the main lcore, before any other thread exists
    let backend = Backend::start(&mut cfg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("grpc")
        .enable_all()
        .build()
        .map_err(start_err("the gRPC runtime"))?;
    let result = runtime.block_on(serve(cfg, runtime_dir, backend));
    runtime.shutdown_timeout(Duration::from_millis(500));
    result
}

/// Faults the region's memory in on a thread of its own, so start-up does not wait for
/// it (hundreds of MiB take ~0.5 s on 4 KiB pages), and logs which pages back it.
fn prefault_in_background(prefaulter: dpservice::shm::Prefaulter, path: std::path::PathBuf) {
    let spawned = std::thread::Builder::new()
        .name("prefault".into())
        .spawn(move || {
            let memory = prefaulter.run();
            tracing::info!(path = %path.display(), "shared-memory region: {}", memory.describe());
            if memory.huge_bytes == Some(0) {
                tracing::info!(
                    "large flow tables are faster in 2 MiB pages: mount /dev/shm with \
                     huge=advise (README, \"Performance tuning\")"
                );
            }
        });
    if let Err(e) = spawned {
        // not fatal: the pages are then faulted in as the tables fill
        tracing::warn!(error = %e, "cannot start the thread that pre-faults the shared-memory region");
    }
}

/// Why the daemon stops.
enum Stop {
    Signal(i32),
    Fatal(String),
}

async fn serve(cfg: Config, runtime_dir: RuntimeDir, backend: Backend) -> Result<(), DaemonError> {
    let mut sigint = signal(SignalKind::interrupt()).map_err(start_err("signal handling"))?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(start_err("signal handling"))?;
    log_configuration(&cfg);
    let listener = server::bind(cfg.grpc_port)?;

    // the tables the tools read: created once the runtime directory's lock is ours, so a
    // leftover region is a dead predecessor's and may be replaced
    let mut tables = SharedTables::create(
        &cfg.instance,
        cfg.virtual_services.len(),
        crate::state::random_seed(),
    )?;
    prefault_in_background(tables.prefaulter(), cfg.instance.shm_path());
    // ports (all --vdev TAPs but the sync port) and the packet graph, whose flow tables
    // are the region's: the tools read what packets use
    let now = std::time::Instant::now();
    let mut packets = match &backend {
        Backend::Tap => crate::datapath::setup::datapath(&cfg, now, tables.take_flows())?,
        #[cfg(feature = "dpdk")]
        Backend::Dpdk { eal } => {
            crate::datapath::setup::datapath_dpdk(&cfg, eal, now, tables.take_flows())?
        }
    };
    // link ioctls and netlink run on `portctl`, never on the worker
    let (link_requests, pending_links) = link_requests(packets.graph.ports().slots());
    let links = packets.hand_over_links(link_requests.clone());
    let mut dataplane = Dataplane::with_packets(State::new(cfg.state_config()), packets);
    dataplane.test_panic = TestPanic::from_env();
    let tables_for_telemetry = tables.region();
    // graph tracing for dpservice-dump, through the mirror rings of the same region
    match (tables.mirror_producer(), dataplane.packets.as_mut()) {
        (Ok(producer), Some(packets)) => packets.graph.set_mirror(producer),
        (Err(e), _) => tracing::warn!(error = %e, "dpservice-dump will not be able to attach"),
        (Ok(_), None) => {}
    }
    dataplane.tables = Some(tables);
    let snapshots = Arc::new(SnapshotShare::new());
    dataplane.telemetry = Some(Arc::clone(&snapshots));

    let (fatal_tx, mut fatal_rx) = mpsc::unbounded_channel::<String>();
    // a daemon without its worker must not live on (ARCHITECTURE.md "The worker thread")
    let (worker, handle) = Worker::spawn_watched_on(dataplane, backend.worker_place(), {
        let tx = fatal_tx.clone();
        move |msg| {
            let _ = tx.send(format!("the dataplane worker thread panicked: {msg}"));
        }
    })
    .map_err(start_err("the worker thread"))?;
    let links_applied = pending_links.waiter();
    let port_control = PortControl::spawn(
        links,
        link_requests,
        pending_links,
        handle.clone(),
        cfg.nic_type != NicType::Tap,
    )
    .map_err(start_err("the port control thread"))?;
    let telemetry = TelemetryServer::start(
        &runtime_dir.path().join(dpservice::telemetry::SOCKET_NAME),
        Commands::new(telemetry::statics(&cfg, Some(tables_for_telemetry))),
        snapshots,
        Box::new({
            let handle = handle.clone();
            move || handle.wake()
        }),
    )?;

    let health = HealthReporter::new();
    // CreateInterface answers once the VF's link is up (applied by portctl)
    let grpc_handle = handle.clone().waiting_for_links(links_applied);
    let grpc = GrpcServer::start(listener, grpc_handle, cfg.underlay, &health, {
        let tx = fatal_tx.clone();
        move |msg| {
            let _ = tx.send(msg);
        }
    })?;
    let standby = Standby::spawn(cfg.active_lockfile.clone(), handle, move |e| {
        let _ = fatal_tx.send(e.to_string());
    })
    .map_err(start_err("the standby thread"))?;
    // systemd (Type=notify) starts dependent units only now that the gRPC port accepts
    if let Err(e) = crate::sd_notify::ready() {
        tracing::warn!("{e}");
    }

    let stop = tokio::select! {
        _ = sigint.recv() => Stop::Signal(libc_signal::SIGINT),
        _ = sigterm.recv() => Stop::Signal(libc_signal::SIGTERM),
        Some(msg) = fatal_rx.recv() => Stop::Fatal(msg),
    };
    if let Stop::Signal(n) = stop {
        // plain stdout, as upstream: whoever sent the signal may be waiting for it
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "\n\nSignal {n} received, preparing to exit...\n");
        let _ = out.flush();
    }
    // the handler is one-shot: a second signal ends the process at once
    tokio::spawn(async move {
        let n = tokio::select! {
            _ = sigint.recv() => libc_signal::SIGINT,
            _ = sigterm.recv() => libc_signal::SIGTERM,
        };
        std::process::exit(128 + n);
    });

    tracing::info!("Stopping service...");
    if let Err(e) = crate::sd_notify::stopping() {
        tracing::warn!("{e}");
    }
    health.set_serving(false);
    standby.release();
    grpc.shutdown(GRPC_GRACE).await;
    if worker.stop().is_err() {
        tracing::error!("The worker thread had panicked");
    }
    port_control.stop();
    telemetry.stop();
    drop(runtime_dir);
    tracing::info!("Service stopped");
    match stop {
        Stop::Signal(_) => Ok(()),
        Stop::Fatal(msg) => Err(DaemonError::Fatal(msg)),
    }
}

/// Signal numbers (Linux), without a libc dependency for two constants.
mod libc_signal {
    pub const SIGINT: i32 = 2;
    pub const SIGTERM: i32 = 15;
}

fn log_configuration(cfg: &Config) {
    tracing::debug!(config = ?cfg, "Resolved configuration");
    tracing::info!(
        file_prefix = cfg.instance.prefix(),
        source = config::describe_source(cfg),
        nic_type = config::choice_name(&cfg.nic_type),
        grpc_port = cfg.grpc_port,
        underlay = %cfg.underlay,
        "Configuration"
    );
    for port in &cfg.ports {
        tracing::info!(
            port_id = port.id,
            device = port.device.as_str(),
            ifname = port.kernel_name.as_str(),
            role = format!("{:?}", port.kind),
            "Port"
        );
    }
    if let Some(id) = cfg.sync_port {
        tracing::info!(port_id = id, "HA sync port");
    }
    for id in &cfg.unused_ports {
        tracing::warn!(
            port_id = *id,
            "Port matches neither --pf0, --pf1, --vf-pattern nor --sync-tap; it stays unused"
        );
    }
    if cfg.port_backend != config::PortBackend::Tap {
        return;
    }
    for option in &cfg.eal.ignored {
        tracing::info!(
            option = option.as_str(),
            "EAL option has no effect in the software backend"
        );
    }
    for device in &cfg.eal.allow {
        tracing::warn!(
            device = device.as_str(),
            "PCI device ignored: PCI ports need the DPDK backend"
        );
    }
}
