//! The DPDK "telemetry v2" protocol (tools.md §3), shared by the daemon's server, the
//! exporter and the tests.
//!
//! - [`request`]: what a client sends (`<command>[,<parameters>]`) and how it is split;
//! - [`json`]: the compact JSON answers, in insertion order, cut to the 16 KiB cap by
//!   leaving entries out (never by cutting text);
//! - [`greeting`]: the object sent on connect and by `/info`;
//! - [`client`]: a small blocking client over `SOCK_SEQPACKET`.

pub mod client;
pub mod greeting;
pub mod json;
pub mod request;

pub use client::{ClientError, TelemetryClient};
pub use greeting::Greeting;
pub use json::{render_response, Json};
pub use request::{Request, RequestError};

/// Name of the socket inside the instance's runtime directory.
pub const SOCKET_NAME: &str = "dpdk_telemetry.v2";

/// Longest answer (bytes) a server sends; announced as `max_output_len`.
pub const MAX_OUTPUT_LEN: usize = 16384;

/// Longest request (bytes) a server reads; longer messages are cut to this.
pub const MAX_REQUEST_LEN: usize = 1023;

/// Longest command name (bytes, the part before the first comma).
pub const MAX_COMMAND_LEN: usize = 55;

/// Most clients a server serves at the same time; more are accepted and closed at once.
pub const MAX_CLIENTS: usize = 10;
