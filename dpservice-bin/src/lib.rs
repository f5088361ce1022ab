//! `dpservice-bin`: the dataplane daemon.
//!
//! - [`config`]: command line, configuration file, resolved [`config::Config`];
//! - [`logging`]: upstream's text and JSON log lines on stdout;
//! - [`log_writer`]: the thread that writes them, so a stalled stdout stalls no one;
//! - [`daemon`]: start-up, signals, shutdown;
//! - [`backend`]: the port backend of the run (TAP, or DPDK with its EAL);
//! - [`panic_log`]: panics as one error log line (a worker panic ends the daemon);
//! - [`runtime_dir`]: the directory `/var/run/dpdk/<prefix>/`;
//! - [`ha`]: active/standby by lock file;
//! - [`worker`]: the single thread that owns and mutates the dataplane;
//! - [`shared_state`]: the state shared by the worker (writer) and gRPC readers;
//! - [`grpc`]: the gRPC server (health, reflection, the dpservice API);
//! - [`state`]: the control-plane state;
//! - [`wire`]: zero-copy views of the protocols on the packet path;
//! - [`port`]: packet devices (TAP, in-memory) behind one trait;
//! - [`port_control`]: the `portctl` thread: link up/down, link state, router MAC (netlink);
//! - [`graph`]: the packet graph, its nodes and the worker's packet-path hooks;
//! - [`telemetry`]: the DPDK v2 telemetry socket server and its snapshots;
//! - [`flow`]: connection tracking: the conntrack table, TCP states, flow keys;
//! - [`hash`]: upstream's wire-visible hash functions;
//! - [`wcmp`]: the uplink choice of IPv4 tunnels;
//! - `dpdk` (cargo feature `dpdk`): the safe wrapper over DPDK (EAL, mempools, mbufs,
//!   ethdev).

pub mod backend;
pub mod config;
pub mod daemon;
pub mod datapath;
#[cfg(feature = "dpdk")]
pub mod dpdk;
pub mod flow;
pub mod graph;
pub mod grpc;
pub mod ha;
pub mod hash;
pub mod log_writer;
pub mod logging;
pub mod panic_log;
pub mod port;
pub mod port_control;
pub mod runtime_dir;
pub mod sd_notify;
pub mod shared_state;
pub mod state;
pub mod sync;
pub mod tables;
pub mod telemetry;
pub mod wcmp;
pub mod wire;
pub mod worker;

use std::io::Write as _;
use std::process::ExitCode;

use dpservice::version::VERSION;

/// The clap definition of the dpservice options, for completions and man pages.
pub fn command() -> clap::Command {
    config::options::command()
}

/// How the binary answers shell completion: EAL options before `--`, ours after it.
pub fn completion_hook() -> dpservice::completion::Hook {
    dpservice::completion::Hook::new(command)
        .options_after_separator(config::eal::completion_command)
}

/// Entry point of the binary: exit 0 after `--help`/`--version` or a clean shutdown,
/// 1 on a bad command line or a start-up failure.
pub fn run() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let dp_conf = std::env::var_os(config::file::ENV_VAR);
    let cfg = match config::load(&args, dp_conf.as_deref()) {
        Ok(config::Invocation::Print(text)) => {
            // a closed pipe (`| head`) is not an error
            let _ = std::io::stdout().write_all(text.as_bytes());
            return ExitCode::SUCCESS;
        }
        Ok(config::Invocation::Run(cfg)) => cfg,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    // dropped last: the final lines are written before the process ends
    let _log_flush = match logging::init(&cfg) {
        Ok(flush) => flush,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    panic_log::install();
    tracing::info!("Starting DP Service version {VERSION}");
    match daemon::run(*cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("dpservice-bin: {e}");
            ExitCode::FAILURE
        }
    }
}
