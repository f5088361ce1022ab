//! The gRPC side of the daemon. It never changes tables itself: every change is a
//! closure sent to the worker (`crate::worker::WorkerHandle::write`); Get/List calls
//! read the shared state off the worker (`crate::worker::WorkerHandle::read`).
//!
//! - [`server`]: listener, keepalive, reflection, service registration;
//! - [`health`]: `grpc.health.v1.Health` with upstream's exact behaviour;
//! - [`service`]: the 42 `DPDKironcore` handlers.

pub mod health;
pub mod server;
pub mod service;

#[cfg(test)]
mod tests;
