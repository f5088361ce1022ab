//! The suite's version: every binary prints the same string, and the daemon returns it
//! from `GetVersion`. Upstream's test runner compares them across tools.

/// Build version, `DPSERVICE_VERSION` at build time if set, else `v<crate version>`.
pub const VERSION: &str = match option_env!("DPSERVICE_VERSION") {
    Some(v) => v,
    None => concat!("v", env!("CARGO_PKG_VERSION")),
};

/// Version of the gRPC contract this build speaks, sent as `client_protocol`.
///
/// The contract is upstream's `dpdk.proto` as of v0.3.16, unchanged since.
pub const PROTOCOL_VERSION: &str = "v0.3.16";
