//! Integration tests of the shared crate: the model conversions (server requests with
//! upstream's checks and order, responses, round trips through bytes, golden encodings)
//! and the client against an in-process server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod client;
mod fake_daemon;
mod golden;
mod requests;
mod requests_lb_nat;
mod requests_routes;
mod requests_rules;
mod responses_client;
mod responses_server;
mod round_trip;
mod table;
