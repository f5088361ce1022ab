//! The typed domain model over the raw protobuf messages.
//!
//! Addresses are `std::net` types and prefixes are [`IpPrefix`] (or, where a request may
//! name a length beyond the family that the daemon then refuses, [`RequestPrefix`]),
//! never text. Conversions (in `convert/`, one module per area) go both ways:
//! - requests: model → proto for clients, proto → model for the server, where the
//!   server-side conversion *is* upstream's validation: it checks fields in upstream's
//!   order and fails with [`InvalidArgument`], whose text is upstream's exact
//!   `INVALID_ARGUMENT` message (grpc-api.md §9);
//! - responses: model → proto for the server (filling every field the Go client needs,
//!   §4.6), proto → model for clients, failing with [`ResponseError`] naming the field.
//!
//! Absent sub-messages read as their default instance (§4.3). A server handler converts
//! with [`RequestContext::parse`] (the context knows the host's underlay /64, §10.10),
//! answers with the model → response `From`, and reports failures with
//! [`ServiceResponse::failure`].

mod addr;
mod capture;
mod convert;
mod error;
mod firewall;
mod id;
mod interface;
mod lb;
mod nat;
mod prefix;
mod route;
mod system;
mod vip;

pub use addr::{format_ip, parse_ip_text, IpPrefix, PrefixError, RequestPrefix};
pub use capture::{CaptureConfig, CaptureStatus, CapturedInterface};
pub use convert::{FromRequest, RequestContext, ServiceResponse};
pub use error::{InvalidArgument, ResponseError};
pub use firewall::{
    CreateFirewallRule, FirewallAction, FirewallRule, FirewallRuleRef, IcmpFilter, PortFilter,
    PortRange, ProtocolFilter, TrafficDirection,
};
pub use id::ObjectId;
pub use interface::{CreateInterface, CreatedInterface, Interface, Metering, Pxe};
pub use lb::{CreateLoadBalancer, L4Protocol, LbPort, LoadBalancer, LoadBalancerTarget};
pub use nat::{CreateNat, Nat, NatEntry, NatKind, NeighborNat, NeighborNatKey};
pub use prefix::{CreateLbPrefix, CreatePrefix, LbPrefixRef, PrefixEntry, PrefixRef};
pub use route::{Route, RouteKey};
pub use system::{ClientVersion, ServiceVersion, VniQuery, VniType};
pub use vip::{CreateVip, Vip};
