//! `dpservice-inspect`: browse the daemon's state tables.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use dpservice::version::VERSION;

/// Command line of `dpservice-inspect`.
#[derive(Debug, Parser)]
#[command(
    name = "dpservice-inspect",
    about = "Browse the state tables of a running dpservice-bin (TUI, or table dumps)",
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
    eprintln!("dpservice-inspect: table inspection is not part of this build yet");
    ExitCode::FAILURE
}
