//! Generated protobuf messages and gRPC stubs.
//!
//! Everything here mirrors the wire exactly; the typed model over it lives elsewhere.

#[allow(missing_docs, clippy::all, clippy::pedantic, unused_qualifications)]
#[allow(missing_debug_implementations)]
pub mod dpdkironcore {
    pub mod v1 {
        tonic::include_proto!("dpdkironcore.v1");
    }
}

#[allow(missing_docs, clippy::all, clippy::pedantic, unused_qualifications)]
#[allow(missing_debug_implementations)]
pub mod health {
    pub mod v1 {
        tonic::include_proto!("grpc.health.v1");
    }
}

pub use dpdkironcore::v1::*;

/// Full gRPC name of the dpservice service.
pub const SERVICE_NAME: &str = "dpdkironcore.v1.DPDKironcore";

/// Serialized `FileDescriptorSet` of both protos, for the reflection service.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/dpservice_descriptor.bin"));
