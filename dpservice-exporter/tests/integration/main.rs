//! Integration tests of dpservice-exporter against the real daemon, each in the daemon's
//! private network namespace (started by dpservice-bin's test support, shared by path).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../dpservice-bin/tests/support/mod.rs"]
mod support;

mod dashboard;
mod exporter;
mod lifecycle;
mod native;
mod prometheus_server;
mod upstream;
