//! Value syntax shared by flags, files and output: Go's parsing rules and error texts,
//! reproduced because scripts and upstream's tests compare the messages.

pub mod addr;
pub mod csv;
pub mod duration;
pub mod number;
pub mod quote;

pub use addr::{parse_addr, parse_prefix, Addr, Prefix};
pub use quote::go_quote;
