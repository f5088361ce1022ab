//! The crate every dpservice binary shares.
//!
//! - [`client`]: the async gRPC client that speaks the model;
//! - [`completion`]: shell completion for every binary (scripts and the request hook);
//! - [`instance`]: the file prefix that names a daemon instance, and the paths it implies;
//! - [`model`]: the typed domain model over the raw messages, with conversions;
//! - [`shm`]: the shared-memory region of an instance and its state tables (one writer,
//!   lock-free readers in any process); its `raw` module is the crate's only `unsafe` code;
//! - [`proto`]: the wire contract (`dpdkironcore.v1` and `grpc.health.v1`), generated code;
//! - [`telemetry`]: the DPDK v2 telemetry socket protocol and a blocking client;
//! - [`status`]: the table of service error codes carried in `Status.code`;
//! - [`version`]: the one version string of the suite.

pub mod client;
pub mod completion;
pub mod instance;
pub mod model;
pub mod proto;
pub mod shm;
pub mod status;
pub mod telemetry;
pub mod version;
