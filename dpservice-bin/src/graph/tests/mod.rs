//! Graph tests: a harness that drives the real graph with frames and collects what it
//! transmits, and golden-byte tests per node and packet walk.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conntrack_key;
mod fast_lane;
mod foreign_buffers;
mod framework;
mod ha_sync;
mod harness;
mod lb;
mod local;
mod metering;
mod nat;
mod overlay;
mod staging;
mod tap_scenarios;
mod virtsvc;
