//! The gRPC front end: the `DPDKironcore` service handlers.

pub mod service;

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
