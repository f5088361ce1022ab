//! The command line (tools.md §4.1): upstream's Go `flag` names and defaults, plus our
//! additions (`--socket`, `--metrics`, `--daemon-timeout`).
//!
//! Go's `flag` package accepts `-name value`, `-name=value`, `--name value` and
//! `--name=value` alike. clap only knows `--name`, so [`go_style`] rewrites a single-dash
//! long flag to the double-dash form before clap sees it; `--help`, completions and man
//! pages still come from the clap definition.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, Parser, ValueEnum};
use dpservice::instance::{FilePrefixError, InstanceArgs};

/// Lowest HTTP port upstream accepts.
pub const MIN_PORT: u32 = 1024;

/// Command line of `dpservice-exporter`.
#[derive(Debug, Parser)]
#[command(
    name = "dpservice-exporter",
    about = "Export dpservice-bin statistics to Prometheus",
    long_about = "Export dpservice-bin statistics to Prometheus.\n\nReads the daemon's \
                  telemetry socket and serves the values on http://0.0.0.0:<port>/metrics. \
                  Flags may be written Go-style with one dash (-port 9064, -port=9064).",
    disable_version_flag = true
)]
pub struct Args {
    /// HTTP port serving /metrics (1024-65535)
    #[arg(long, default_value_t = 9064, value_name = "PORT")]
    pub port: u32,

    /// Seconds between telemetry polls (--metrics=upstream) or between checks that the
    /// daemon still answers (otherwise)
    #[arg(long, default_value_t = 20, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub poll_interval: u64,

    #[command(flatten)]
    pub instance: InstanceArgs,

    /// The daemon's gRPC port on 127.0.0.1, probed before the first connection
    #[arg(
        long,
        env = "DP_GRPC_PORT",
        default_value_t = 1337,
        value_name = "PORT"
    )]
    pub grpc_port: u16,

    /// Value of the `node` label (default: $NODE_NAME, else the host name)
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub hostname: Option<String>,

    /// Telemetry socket to read (default: derived from --file-prefix)
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Which metric families to serve: upstream's (polled on a timer), native ones that
    /// follow Prometheus naming rules (read on every scrape), or both (read on every scrape)
    #[arg(long, value_enum, default_value_t = MetricSet::Upstream, value_name = "SET")]
    pub metrics: MetricSet,

    /// Seconds without the daemon after which the exporter gives up and exits 1
    /// (it reconnects when the daemon comes back earlier)
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub daemon_timeout: u64,

    /// Print the version and exit
    #[arg(short = 'v', long)]
    pub version: bool,
}

/// The metric families served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricSet {
    /// Exactly upstream's eleven families (dashboards and upstream's tests rely on them).
    Upstream,
    /// `dpservice_*` families: counters with `_total`, per-heap labels, drops per reason.
    Native,
    /// Both sets.
    Both,
}

impl MetricSet {
    /// Whether upstream's families are served.
    pub fn upstream(self) -> bool {
        matches!(self, MetricSet::Upstream | MetricSet::Both)
    }

    /// Whether the native families are served.
    pub fn native(self) -> bool {
        matches!(self, MetricSet::Native | MetricSet::Both)
    }

    /// Native families are read on every scrape; upstream's alone follow upstream's timer.
    pub fn collect_on_scrape(self) -> bool {
        self.native()
    }
}

/// What is wrong with a parsed command line.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    /// Outside upstream's range.
    #[error("invalid port {0}: use a port between {MIN_PORT} and 65535")]
    Port(u32),
    /// Bad `--file-prefix` / `DP_FILE_PREFIX`.
    #[error(transparent)]
    FilePrefix(#[from] FilePrefixError),
}

/// The settings the exporter runs with, resolved from [`Args`] and the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// HTTP port.
    pub port: u16,
    /// Timer of the upstream poll loop and of reconnection attempts.
    pub poll_interval: Duration,
    /// gRPC readiness probe port.
    pub grpc_port: u16,
    /// `node` label.
    pub hostname: String,
    /// Telemetry socket.
    pub socket: PathBuf,
    /// Families served.
    pub metrics: MetricSet,
    /// How long the daemon may be gone before the exporter exits 1.
    pub daemon_timeout: Duration,
}

impl Args {
    /// Resolves defaults that depend on the environment.
    pub fn settings(&self) -> Result<Settings, ArgsError> {
        let port = u16::try_from(self.port)
            .ok()
            .filter(|p| u32::from(*p) >= MIN_PORT)
            .ok_or(ArgsError::Port(self.port))?;
        let socket = match &self.socket {
            Some(path) => path.clone(),
            None => self.instance.instance()?.telemetry_socket(),
        };
        let hostname = self
            .hostname
            .clone()
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("NODE_NAME").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(os_hostname);
        Ok(Settings {
            port,
            poll_interval: Duration::from_secs(self.poll_interval),
            grpc_port: self.grpc_port,
            hostname,
            socket,
            metrics: self.metrics,
            daemon_timeout: Duration::from_secs(self.daemon_timeout),
        })
    }
}

fn os_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Rewrites Go-style single-dash long flags (`-port`, `-port=9064`, `-help`) to clap's
/// double-dash form. Only names the command defines are touched, so a negative number
/// or an unknown flag still reaches clap unchanged (and gets its error message).
pub fn go_style(argv: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let command = Args::command();
    // (name, takes a value): the argument after a valued flag is its value, never a flag
    let longs: Vec<(&str, bool)> = command
        .get_arguments()
        .filter_map(|a| Some((a.get_long()?, a.get_action().takes_values())))
        .chain([("help", false)])
        .collect();
    let mut out = Vec::new();
    let mut next_is_value = false;
    let mut rest_is_positional = false;
    for (i, arg) in argv.into_iter().enumerate() {
        if i == 0 || rest_is_positional || std::mem::take(&mut next_is_value) {
            out.push(arg);
            continue;
        }
        if arg == "--" {
            rest_is_positional = true;
            out.push(arg);
            continue;
        }
        let Some(s) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        let body = s.strip_prefix("--").or_else(|| s.strip_prefix('-'));
        let (name, inline_value) = match body.map(|b| b.split_once('=')) {
            Some(Some((n, _))) => (n, true),
            Some(None) => (body.unwrap_or_default(), false),
            None => ("", false),
        };
        match longs.iter().find(|(n, _)| !name.is_empty() && *n == name) {
            Some(&(_, takes_value)) => {
                next_is_value = takes_value && !inline_value;
                out.push(if s.starts_with("--") {
                    arg
                } else {
                    OsString::from(format!("-{s}"))
                });
            }
            None => out.push(arg),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        let argv = std::iter::once("dpservice-exporter")
            .chain(args.iter().copied())
            .map(OsString::from);
        Args::try_parse_from(go_style(argv))
    }

    #[test]
    fn go_and_gnu_spellings_are_equal() {
        for form in [
            &["-port", "9100"][..],
            &["-port=9100"],
            &["--port", "9100"],
            &["--port=9100"],
        ] {
            assert_eq!(parse(form).unwrap().port, 9100, "{form:?}");
        }
        let a = parse(&[
            "-poll-interval=3",
            "-file-prefix",
            "hatest",
            "-grpc-port=1338",
        ])
        .unwrap();
        assert_eq!(a.poll_interval, 3);
        assert_eq!(a.instance.file_prefix.as_deref(), Some("hatest"));
        assert_eq!(a.grpc_port, 1338);
        assert!(parse(&["-v"]).unwrap().version);
        assert!(parse(&["-version"]).unwrap().version);
    }

    #[test]
    fn defaults_are_upstreams() {
        let a = parse(&[]).unwrap();
        assert_eq!((a.port, a.poll_interval), (9064, 20));
        assert_eq!(a.metrics, MetricSet::Upstream);
        assert!(a.hostname.is_none());
    }

    #[test]
    fn unknown_flags_and_help_keep_clap_behaviour() {
        let e = parse(&["-nope"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::UnknownArgument);
        assert_eq!(e.exit_code(), 2);
        let e = parse(&["-help"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::DisplayHelp);
        assert_eq!(e.exit_code(), 0);
        // a value that looks like a flag is left alone
        let a = parse(&["--hostname", "-port"]).unwrap();
        assert_eq!(a.hostname.as_deref(), Some("-port"));
    }

    #[test]
    fn port_range_is_upstreams() {
        for bad in ["80", "0", "65536", "1023"] {
            let a = parse(&["-port", bad]).unwrap();
            assert!(matches!(a.settings(), Err(ArgsError::Port(_))), "{bad}");
        }
        let a = parse(&["-port=1024", "-hostname=hv1", "--socket=/tmp/x"]).unwrap();
        let s = a.settings().unwrap();
        assert_eq!((s.port, s.hostname.as_str()), (1024, "hv1"));
        assert_eq!(s.socket, PathBuf::from("/tmp/x"));
    }
}
