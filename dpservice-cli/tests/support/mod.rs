//! Test support: run the real `dpservice-cli` binary against a scripted gRPC server.
//!
//! The scripted server answers each RPC with the replies a test queued for it and
//! records every request, so a test can pin down both the bytes the CLI prints and the
//! fields it sends. (End-to-end tests against the real daemon live in `daemon.rs`.)

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_arguments
)]

pub mod daemon;
pub mod fake;
mod rpcs;

use std::process::Command;

/// The binary under test.
pub const CLI: &str = env!("CARGO_BIN_EXE_dpservice-cli");

/// What one CLI run printed and returned.
#[derive(Debug, Clone)]
pub struct Run {
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
    /// The exit status.
    pub code: i32,
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        }
    }
}

/// Runs the CLI with `args` (split on whitespace) and `extra` appended verbatim.
pub fn run_cli(args: &[String]) -> Run {
    Command::new(CLI)
        .args(args)
        .env_remove("DP_GRPC_PORT")
        .output()
        .expect("run dpservice-cli")
        .into()
}

/// Splits a command line on spaces (test lines have no quoted spaces).
pub fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

/// A port on loopback where nothing listens.
pub fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
