//! The packet graph.

pub mod meta;
