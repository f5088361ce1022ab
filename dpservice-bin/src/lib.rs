//! `dpservice-bin`: the dataplane daemon.

pub mod graph;
pub mod hash;
pub mod port;
pub mod wire;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use dpservice::version::VERSION;

/// The dpservice options (the part after `--`).
#[derive(Debug, Parser)]
#[command(
    name = "dpservice-bin",
    about = "The dpservice dataplane daemon",
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
        println!("DP Service version {VERSION}");
        return ExitCode::SUCCESS;
    }
    ExitCode::SUCCESS
}
