//! `dpservice-cli`: the gRPC command-line client, a drop-in for upstream's Go CLI.

pub mod argv;
pub mod cli;
pub mod error;
pub mod objects;
pub mod parse_error;
pub mod render;
pub mod syntax;

use std::process::ExitCode;

/// The clap definition, for completions and man pages.
pub fn command() -> clap::Command {
    cli::command()
}

/// Entry point of the binary.
pub fn run() -> ExitCode {
    ExitCode::SUCCESS
}
