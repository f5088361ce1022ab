//! One capture from start to clean detach (tools.md §1.2): check the arguments, attach
//! to a free ring, read batches until a signal, `-c`, a closed pipe or the daemon's end,
//! then detach and say so.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpservice::shm::mirror::{CaptureSettings, Detached, MirrorError, Rings};

use crate::filter::{self, Filter, FilterError};
use crate::nodes::{self, NodesError};
use crate::output::{Format, Names, Output, OutputError};
use crate::Args;

/// Entries taken from the ring per batch (upstream's burst).
const BATCH: usize = 65536;
/// Sleep when the ring was empty: short, so a pipe shows a packet at once.
const IDLE: Duration = Duration::from_millis(2);
/// How often the daemon's liveness is checked.
const LIVENESS: Duration = Duration::from_millis(500);

/// Why a capture failed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// Bad `--filter`.
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// Bad `--nodes`.
    #[error(transparent)]
    Nodes(#[from] NodesError),
    /// Bad `--file-prefix`.
    #[error("{0}")]
    Instance(String),
    /// No daemon or no rings.
    #[error("cannot connect to service: {0}")]
    Connect(MirrorError),
    /// Output failure.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The daemon detached us or went away.
    #[error("{0}")]
    Lost(String),
    /// --filter too long.
    #[error("--filter: the expression is longer than 1023 bytes")]
    FilterTooLong,
    /// Signal handler.
    #[error("cannot handle signals: {0}")]
    Signals(std::io::Error),
}

fn format_of(args: &Args) -> (Format, Option<&Path>) {
    if let Some(p) = &args.pcap {
        if p.extension().is_some_and(|e| e == "pcapng") {
            return (Format::PcapNg, Some(p));
        }
        return (Format::Pcap, Some(p));
    }
    if let Some(p) = &args.pcapng {
        return (Format::PcapNg, Some(p));
    }
    (Format::Text, None)
}

/// Runs the command line (after `--version`).
pub fn run(args: &Args) -> Result<(), CaptureError> {
    let instance = args
        .instance
        .instance()
        .map_err(|e| CaptureError::Instance(e.to_string()))?;
    // everything the tool can check itself comes before touching the daemon
    let filter: Option<Filter> = match &args.filter {
        Some(f) if f.len() > 1023 => return Err(CaptureError::FilterTooLong),
        Some(f) => Some(filter::compile(f)?),
        None => None,
    };
    let node_re = args.nodes.as_deref().map(nodes::compile).transpose()?;
    let (format, path) = format_of(args);
    let mut out = if args.stop || args.list_nodes {
        None
    } else {
        Some(Output::open(format, path)?)
    };
    let rings = Rings::open(&instance).map_err(CaptureError::Connect)?;
    if args.stop {
        rings.stop_all();
        return Ok(());
    }
    let names = Names {
        nodes: rings.node_names(),
        reasons: rings.reason_names(),
    };
    if args.list_nodes {
        for n in names.nodes.iter().filter(|n| !n.is_empty()) {
            println!("{n}");
        }
        return Ok(());
    }
    let Some(out) = out.as_mut() else {
        return Ok(());
    };
    let settings = CaptureSettings {
        drops: args.drops,
        nodes: args.nodes.is_some(),
        node_ids: node_re
            .as_ref()
            .filter(|re| !re.as_str().is_empty())
            .map(|re| nodes::matching_ids(re, &names.nodes)),
    };
    let term = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&term)).map_err(CaptureError::Signals)?;
    }
    let mut consumer = rings.attach(&settings).map_err(|e| match e {
        MirrorError::Busy(_) => CaptureError::Lost(e.to_string()),
        other => CaptureError::Connect(other),
    })?;
    let daemon = rings.creator_pid();
    let max = u64::from(args.maxcount);
    let mut reported = 0u64;
    let mut checked = Instant::now();
    let mut end: Result<(), CaptureError> = Ok(());
    'capture: while !term.load(Ordering::Relaxed) {
        let mut failed = None;
        let n = consumer.read(BATCH, |h, data| {
            if failed.is_some() || (max > 0 && reported >= max) {
                return;
            }
            if filter.as_ref().is_some_and(|f| !f.matches(data)) {
                return;
            }
            match out.write(&names, h, data) {
                Ok(()) => reported += 1,
                Err(e) => failed = Some(e),
            }
        });
        if failed.is_none() && n > 0 {
            if let Err(e) = out.flush() {
                failed = Some(e);
            }
        }
        match failed {
            Some(OutputError::Closed) => break 'capture,
            Some(e) => {
                end = Err(e.into());
                break 'capture;
            }
            None => {}
        }
        if max > 0 && reported >= max {
            break;
        }
        if n == 0 {
            if let Some(why) = consumer.detached() {
                end = Err(CaptureError::Lost(match why {
                    Detached::Heartbeat => "the daemon switched tracing off: this dump missed its heartbeat (was it stopped?)".into(),
                    Detached::Stopped => "tracing was switched off by 'dpservice-dump --stop'".into(),
                    Detached::Other => "the ring was taken over by another dump".into(),
                }));
                break;
            }
            if checked.elapsed() >= LIVENESS {
                checked = Instant::now();
                if !Path::new(&format!("/proc/{daemon}")).exists() {
                    end = Err(CaptureError::Lost(
                        "dpservice-bin is no longer running".into(),
                    ));
                    break;
                }
            }
            std::thread::sleep(IDLE);
        }
    }
    let lost = consumer.lost();
    let detached = consumer.detach();
    let _ = out.flush();
    eprintln!(
        "{reported} {} captured, {lost} {} lost (ring full)",
        if reported == 1 { "entry" } else { "entries" },
        if lost == 1 { "entry" } else { "entries" }
    );
    if detached {
        eprintln!("\nGraphtrace successfully disabled in dp-service");
    }
    end
}
