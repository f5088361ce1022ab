//! `dpservice-exporter`: Prometheus exporter over the daemon's telemetry socket
//! (tools.md §4).
//!
//! - [`args`]: the command line (Go-style flags) and the settings resolved from it;
//! - [`poll`]: one poll cycle of telemetry requests into a [`poll::Snapshot`];
//! - [`metrics`]: snapshot → text exposition (upstream's families, native ones);
//! - [`link`]: the telemetry connection, reconnecting after a daemon restart;
//! - [`source`]: what `/metrics` answers (timer poll or poll on scrape);
//! - [`server`]: the HTTP server.
//!
//! Lifecycle: wait for the daemon's gRPC port, read it once, only then bind the HTTP
//! port (so the first scrape has values), then poll on a timer (or on every scrape) until
//! the daemon has been gone for `--daemon-timeout`, which ends the process with status 1.

pub mod args;
pub mod link;
pub mod metrics;
pub mod poll;
pub mod server;
pub mod source;

use std::net::{Ipv4Addr, TcpListener};
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use clap::{CommandFactory, Parser};
use dpservice::version::VERSION;

use args::{Args, Settings};
use link::Link;
use poll::Requests;
use source::{Collector, MetricsSource};

/// Pace of reconnection attempts while the daemon is gone.
const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// The clap definition, for completions and man pages.
pub fn command() -> clap::Command {
    Args::command()
}

/// Why the exporter stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExporterError {
    /// The daemon could not be read for longer than `--daemon-timeout`.
    #[error("dpservice-bin has not answered on {socket} for {seconds} s (--daemon-timeout): giving up so that the exporter is restarted")]
    DaemonLost {
        /// The telemetry socket.
        socket: String,
        /// How long.
        seconds: u64,
    },
    /// The HTTP port cannot be bound.
    #[error("cannot listen on 0.0.0.0:{port}: {source} (is another exporter running? choose another -port)")]
    Bind {
        /// The port.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP server stopped.
    #[error("the HTTP server stopped: {0}")]
    Serve(std::io::Error),
}

/// Entry point of the binary.
pub fn run() -> ExitCode {
    let args = match Args::try_parse_from(args::go_style(std::env::args_os())) {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    if args.version {
        println!("dpservice-exporter version {VERSION}");
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let settings = match args.settings() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match serve(&settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the exporter with `settings` until it has to stop.
pub fn serve(settings: &Settings) -> Result<(), ExporterError> {
    tracing::info!(
        hostname = settings.hostname,
        socket = %settings.socket.display(),
        port = settings.port,
        grpc_port = settings.grpc_port,
        metrics = ?settings.metrics,
        "starting dpservice-exporter {VERSION}"
    );
    link::wait_for_grpc(settings.grpc_port);

    let collector = Collector {
        link: Link::new(
            settings.socket.clone(),
            Requests {
                native: settings.metrics.native(),
            },
        ),
        set: settings.metrics,
        hostname: settings.hostname.clone(),
    };
    let source = Arc::new(if settings.metrics.collect_on_scrape() {
        MetricsSource::OnScrape(Mutex::new(collector))
    } else {
        MetricsSource::Polled {
            latest: RwLock::new(Err("not polled yet".into())),
            collector: Mutex::new(collector),
        }
    });
    // values first, port second: the first scrape already sees the daemon's state
    while !source.refresh() {
        give_up_check(&source, settings)?;
        std::thread::sleep(RETRY_INTERVAL);
    }
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, settings.port)).map_err(|source| {
        ExporterError::Bind {
            port: settings.port,
            source,
        }
    })?;
    tracing::info!(port = settings.port, "serving /metrics");

    let (stopped_tx, stopped) = mpsc::channel();
    let served = Arc::clone(&source);
    std::thread::spawn(move || {
        let result = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .and_then(|rt| rt.block_on(server::serve(listener, served)));
        let _ = stopped_tx.send(
            result
                .err()
                .unwrap_or_else(|| std::io::Error::other("ended")),
        );
    });

    let mut healthy = true;
    loop {
        let pause = if healthy {
            settings.poll_interval
        } else {
            RETRY_INTERVAL
        };
        match stopped.recv_timeout(pause) {
            Ok(e) => return Err(ExporterError::Serve(e)),
            Err(RecvTimeoutError::Disconnected) => {
                return Err(ExporterError::Serve(std::io::Error::other(
                    "server thread ended",
                )))
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        healthy = source.refresh();
        if !healthy {
            give_up_check(&source, settings)?;
        }
    }
}

fn give_up_check(source: &MetricsSource, settings: &Settings) -> Result<(), ExporterError> {
    let down = source
        .collector()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .link
        .down_for();
    match down {
        Some(d) if d >= settings.daemon_timeout => Err(ExporterError::DaemonLost {
            socket: settings.socket.display().to_string(),
            seconds: d.as_secs(),
        }),
        _ => Ok(()),
    }
}
