//! Integration tests of dpservice-bin: the real binary, started by the harness in
//! `tests/support`. One test binary for the crate; add a module per subject.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../support/mod.rs"]
mod support;
// frames use the daemon crate, so they stay out of `support` (which the exporter's tests share)
#[path = "../support/frames.rs"]
mod frames;

mod api;
mod cmdline;
mod dpservice_api;
mod grpc_server;
mod ha;
mod inspect;
mod lifecycle;
mod packets;
mod shared_tables;
mod telemetry;
mod two_hosts;
