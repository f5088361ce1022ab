//! `dpservice-bin`: the dataplane daemon.

pub mod config;
pub mod state;

use std::process::ExitCode;

/// The clap definition of the dpservice options, for completions and man pages.
pub fn command() -> clap::Command {
    config::options::command()
}

/// Entry point of the binary.
pub fn run() -> ExitCode {
    ExitCode::SUCCESS
}
