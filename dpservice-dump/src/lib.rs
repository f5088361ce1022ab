//! `dpservice-dump`: live packet capture from the daemon's graph through the mirror rings
//! of its shared-memory region (tools.md §1), as text lines, pcap or pcapng.

pub mod capture;
pub mod filter;
pub mod nodes;
pub mod output;
pub mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use dpservice::version::VERSION;

/// Command line of `dpservice-dump`.
#[derive(Debug, Parser)]
#[command(
    name = "dpservice-dump",
    about = "Capture packets live from a running dpservice-bin graph, as text, pcap or pcapng",
    disable_version_flag = true,
    infer_long_args = true
)]
pub struct Args {
    /// The daemon instance.
    #[command(flatten)]
    pub instance: dpservice::instance::InstanceArgs,
    /// Print the version and exit
    #[arg(short = 'v', long)]
    pub version: bool,
    /// Also report packets that are dropped
    #[arg(long)]
    pub drops: bool,
    /// Also report every hand-over between graph nodes, limited to nodes matching REGEX
    /// (POSIX basic syntax, as upstream: `rx\|tx`); no value or an empty one means all
    #[arg(long, value_name = "REGEX", num_args = 0..=1, default_missing_value = "")]
    pub nodes: Option<String>,
    /// Only report packets matching a pcap-filter expression (host, net, port,
    /// portrange, ip, ip6, tcp, udp, icmp, icmp6, arp, proto, PROTO[OFF:SIZE], and/or/not)
    #[arg(long, value_name = "FILTER")]
    pub filter: Option<String>,
    /// Write a classic pcap file (`-`: stdout) instead of printing text
    #[arg(long, value_name = "FILE", conflicts_with = "pcapng")]
    pub pcap: Option<PathBuf>,
    /// Write a pcapng file (`-`: stdout) with the graph node and drop reason of every
    /// packet as comments
    #[arg(long, value_name = "FILE")]
    pub pcapng: Option<PathBuf>,
    /// Exit after COUNT reported entries (0: no limit)
    #[arg(short = 'c', long, value_name = "COUNT", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=2147483647))]
    pub maxcount: u32,
    /// Do nothing but make sure tracing is switched off in the daemon, then exit
    #[arg(long)]
    pub stop: bool,
    /// Print the names of the graph's nodes (what --nodes matches) and exit
    #[arg(long)]
    pub list_nodes: bool,
}

/// The clap definition, for completions and man pages.
pub fn command() -> clap::Command {
    Args::command()
}

/// Entry point of the binary.
pub fn run() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if args.version {
        println!("DP Service version {VERSION}");
        return ExitCode::SUCCESS;
    }
    match capture::run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dpservice-dump: {e}");
            ExitCode::FAILURE
        }
    }
}
