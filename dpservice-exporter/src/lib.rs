//! `dpservice-exporter`: Prometheus exporter over the daemon's telemetry socket.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use dpservice::version::VERSION;

/// Command line of `dpservice-exporter`.
#[derive(Debug, Parser)]
#[command(
    name = "dpservice-exporter",
    about = "Export dpservice-bin statistics to Prometheus",
    disable_version_flag = true
)]
pub struct Args {
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
        println!("dpservice-exporter version {VERSION}");
        return ExitCode::SUCCESS;
    }
    eprintln!("dpservice-exporter: the exporter is not part of this build yet");
    ExitCode::FAILURE
}
