//! `dpservice-dump`: live packet capture from the daemon's graph (mirror rings).

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use dpservice::version::VERSION;

/// Command line of `dpservice-dump`.
#[derive(Debug, Parser)]
#[command(
    name = "dpservice-dump",
    about = "Capture packets live from a running dpservice-bin graph, as text or pcap",
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
}

/// The clap definition, for completions and man pages.
pub fn command() -> clap::Command {
    Args::command()
}

/// Entry point of the binary.
pub fn run() -> ExitCode {
    let args = Args::parse();
    if args.version {
        println!("DP Service version {VERSION}");
        return ExitCode::SUCCESS;
    }
    eprintln!("dpservice-dump: packet capture is not part of this build yet");
    ExitCode::FAILURE
}
