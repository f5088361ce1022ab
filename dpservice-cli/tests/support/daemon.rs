//! The real `dpservice-bin` for the CLI's end-to-end tests, started by the daemon's own
//! test support (one implementation for the daemon's, the exporter's and these tests) in
//! a namespace of its own, with the CLI run inside that namespace against it.

use std::path::Path;
use std::process::Command;

use super::{words, Run, CLI};

#[path = "../../../dpservice-bin/tests/support/mod.rs"]
mod daemon_support;

/// The gRPC port inside the daemon's private namespace: the CLI's default, so shell
/// completion finds the daemon as it would on a host, without options.
pub const PORT: u16 = 1337;

/// The daemon binary of the same build profile.
pub fn daemon_bin() -> &'static Path {
    daemon_support::bin()
}

/// A running daemon (2 PFs, 2 VFs `net_tap2`/`net_tap3`, deterministic underlays);
/// killed and its namespace removed on drop.
#[derive(Debug)]
pub struct Daemon {
    inner: daemon_support::Daemon,
    /// The tag in its TAP device names (`<id>vf0`, ...), masked in golden output.
    pub id: String,
}

impl Daemon {
    /// Starts a daemon and waits until gRPC answers.
    pub fn start() -> Daemon {
        let inner = daemon_support::Daemon::builder()
            .grpc_port(PORT)
            .arg("--static-underlay")
            .spawn();
        let id = inner
            .taps()
            .vf_pattern
            .strip_suffix("vf")
            .expect("the VF pattern ends in vf")
            .to_owned();
        Daemon { inner, id }
    }

    /// The daemon's output so far.
    pub fn log(&self) -> String {
        self.inner.logs()
    }

    /// Runs the CLI in the daemon's namespace, as upstream's harness does
    /// (`--address=localhost:PORT` first, then the line).
    pub fn cli(&self, line: &str) -> Run {
        self.cli_args(&words(line))
    }

    /// `ip netns exec <the daemon's namespace>`: append the program and its arguments.
    pub fn in_netns_prefix(&self) -> Command {
        let ns = self
            .inner
            .netns()
            .expect("the daemon runs in its own namespace");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns]);
        cmd
    }

    /// Like [`Daemon::cli`], with the arguments given one by one.
    pub fn cli_args(&self, args: &[String]) -> Run {
        self.inner
            .command(CLI)
            .arg(format!("--address=localhost:{PORT}"))
            .args(args)
            .env_remove("DP_GRPC_PORT")
            .output()
            .expect("run dpservice-cli")
            .into()
    }
}
