//! `dpservice-cli`: the gRPC command-line client.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use dpservice::version::VERSION;

/// Command line of `dpservice-cli`.
#[derive(Debug, Parser)]
#[command(
    name = "dpservice-cli",
    about = "Command-line client for the dpservice gRPC API",
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
        println!("dpservice-cli version {VERSION}");
        return ExitCode::SUCCESS;
    }
    ExitCode::SUCCESS
}
