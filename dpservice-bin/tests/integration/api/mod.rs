//! The `DPDKironcore` API against the real daemon, through the shared client: each RPC's
//! happy path, every status code the spec lists for it (that our tables can reach), and
//! after every failed call a check that the state, listed back, is unchanged.
//!
//! The client runs on a thread inside the daemon's network namespace with its own
//! runtime, so every socket it opens (also reconnects) lives there.

use std::fmt::Write as _;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use dpservice::client::{Client, ClientError};
use dpservice::model::{
    CreateFirewallRule, CreateInterface, CreateLoadBalancer, CreateNat, CreatePrefix, CreateVip,
    FirewallAction, FirewallRule, IpPrefix, L4Protocol, LbPort, LoadBalancerTarget, Metering,
    NeighborNat, NeighborNatKey, PrefixError, PrefixRef, ProtocolFilter, Route, RouteKey,
    TrafficDirection, VniQuery, VniType,
};

use crate::support::Daemon;

mod byte_ids;
mod capacities;
mod firewall_capture;
mod interfaces;
mod lb;
mod nat;
mod prefixes;
mod routes;
mod system;

/// A daemon with deterministic underlays (`fc00:1::d000:1:0:1`, …).
pub fn daemon() -> Daemon {
    Daemon::builder().arg("--static-underlay").spawn()
}

/// Runs `test` with a client connected to `daemon` (not initialized yet).
pub fn with_client<F, Fut>(daemon: &Daemon, test: F)
where
    F: FnOnce(Client) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    daemon.with_client(test);
}

/// Runs `test` with a client of an initialized daemon.
pub fn with_initialized<F, Fut>(daemon: &Daemon, test: F)
where
    F: FnOnce(Client) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    with_client(daemon, |c| async move {
        c.initialize().await.expect("Initialize");
        test(c).await;
    });
}

/// Everything the API can list, as text: what must not change when a call fails.
pub async fn snapshot(c: &Client) -> String {
    fn code<T: std::fmt::Debug>(r: Result<T, ClientError>) -> String {
        match r {
            Ok(v) => format!("{v:?}"),
            Err(e) => format!("error {e}"),
        }
    }
    let mut out = String::new();
    let ifaces = c.list_interfaces().await.expect("ListInterfaces");
    let _ = writeln!(out, "interfaces {ifaces:?}");
    for i in &ifaces {
        let id = &i.id;
        let _ = writeln!(out, "{id} prefixes {}", code(c.list_prefixes(id).await));
        let _ = writeln!(
            out,
            "{id} lb prefixes {}",
            code(c.list_load_balancer_prefixes(id).await)
        );
        let _ = writeln!(out, "{id} vip {}", code(c.get_vip(id).await));
        let _ = writeln!(out, "{id} nat {}", code(c.get_nat(id).await));
        let _ = writeln!(out, "{id} rules {}", code(c.list_firewall_rules(id).await));
    }
    let lbs = c.list_load_balancers().await.expect("ListLoadBalancers");
    let _ = writeln!(out, "lbs {lbs:?}");
    for lb in &lbs {
        let targets = c.list_load_balancer_targets(Some(&lb.id)).await;
        let _ = writeln!(out, "{} targets {}", lb.id, code(targets));
    }
    let _ = writeln!(out, "local nats {}", code(c.list_local_nats(None).await));
    let _ = writeln!(
        out,
        "neighbour nats {}",
        code(c.list_neighbor_nats(None).await)
    );
    let _ = writeln!(out, "routes {}", code(c.list_routes(None).await));
    let mut vnis: Vec<u32> = ifaces
        .iter()
        .map(|i| i.vni)
        .chain(lbs.iter().map(|l| l.vni))
        .collect();
    vnis.sort_unstable();
    vnis.dedup();
    for vni in vnis {
        let _ = writeln!(
            out,
            "vni {vni} routes {}",
            code(c.list_routes(Some(vni)).await)
        );
    }
    let _ = writeln!(out, "capture {}", code(c.capture_status().await));
    out
}

/// Asserts that `$call` fails as told and leaves the listed state unchanged:
/// `service NAME` (a `ServiceError` variant) or `invalid "message"`.
macro_rules! fails {
    ($c:expr, $call:expr, service $code:ident) => {{
        let before = $crate::api::snapshot(&$c).await;
        let err = $call.await.expect_err(stringify!($call));
        assert_eq!(
            err.service_error(),
            Some(dpservice::status::ServiceError::$code),
            "{}: {err}",
            stringify!($call)
        );
        assert_eq!(
            $crate::api::snapshot(&$c).await,
            before,
            "state changed by {}",
            stringify!($call)
        );
    }};
    ($c:expr, $call:expr, invalid $message:literal) => {{
        let before = $crate::api::snapshot(&$c).await;
        let err = $call.await.expect_err(stringify!($call));
        match &err {
            dpservice::client::ClientError::Grpc { code, message } => {
                assert_eq!(*code, tonic::Code::InvalidArgument, "{}", stringify!($call));
                assert_eq!(message, $message, "{}", stringify!($call));
            }
            other => panic!(
                "{}: expected INVALID_ARGUMENT, got {other}",
                stringify!($call)
            ),
        }
        assert_eq!(
            $crate::api::snapshot(&$c).await,
            before,
            "state changed by {}",
            stringify!($call)
        );
    }};
}
pub(crate) use fails;

/// The outcome of a call made with [`Client::raw`] (for messages the model cannot
/// express), as the client's own calls report it: a gRPC error, or the response.
pub fn raw_outcome<T>(r: Result<tonic::Response<T>, tonic::Status>) -> Result<T, ClientError> {
    r.map(tonic::Response::into_inner)
        .map_err(|s| ClientError::Grpc {
            code: s.code(),
            message: s.message().to_owned(),
        })
}

/// A `Prefix` message with any length (the model holds at most 255).
pub fn raw_prefix(addr: &str, length: u32) -> dpservice::proto::Prefix {
    dpservice::proto::Prefix {
        ip: Some(dpservice::proto::IpAddress {
            ipver: if addr.contains(':') { 1 } else { 0 },
            address: addr.as_bytes().to_vec(),
        }),
        length,
        underlay_route: Vec::new(),
    }
}

// ---- request builders ----

pub fn a4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

pub fn a6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn pfx(s: &str) -> IpPrefix {
    s.parse().unwrap()
}

/// The device names of the harness's two VFs (`--vdev` order after pf0, pf1).
pub const VF0: &str = "net_tap2";
pub const VF1: &str = "net_tap3";

pub fn iface(id: &str, device: &str, vni: u32, v4: &str, v6: &str) -> CreateInterface {
    CreateInterface {
        id: id.into(),
        vni,
        ipv4: Some(a4(v4)).filter(|a| !a.is_unspecified()),
        ipv6: Some(a6(v6)).filter(|a| !a.is_unspecified()),
        pxe: None,
        device: device.into(),
        metering: Metering::default(),
        preferred_underlay: None,
        hostname: None,
    }
}

/// vm1 on the first VF and vm2 on the second, both in VNI 100.
pub async fn two_vms(c: &Client) {
    c.create_interface(&iface("vm1", VF0, 100, "10.0.0.1", "2001::1"))
        .await
        .unwrap();
    c.create_interface(&iface("vm2", VF1, 100, "10.0.0.2", "2001::2"))
        .await
        .unwrap();
}

/// A route request; the prefix may have any 8-bit length.
pub fn route(vni: u32, prefix: &str, nexthop: &str) -> Route {
    Route {
        vni,
        prefix: prefix.parse().unwrap(),
        nexthop_vni: 0,
        nexthop: ip(nexthop),
    }
}

pub fn route_key(vni: u32, prefix: &str) -> RouteKey {
    RouteKey {
        vni,
        prefix: prefix.parse().unwrap(),
    }
}

/// An alias-prefix (`CreatePrefix`) or LB-prefix (`CreateLbPrefix`) request, whichever
/// the call takes.
pub fn prefix<P: FromStr<Err = PrefixError>>(id: &str, p: &str) -> CreatePrefix<P> {
    CreatePrefix {
        interface_id: id.into(),
        prefix: p.parse().unwrap(),
        preferred_underlay: None,
    }
}

/// `PrefixRef` / `LbPrefixRef`, whichever the call takes.
pub fn pref<P: FromStr<Err = PrefixError>>(id: &str, p: &str) -> PrefixRef<P> {
    PrefixRef {
        interface_id: id.into(),
        prefix: p.parse().unwrap(),
    }
}

pub fn vip(id: &str, addr: &str) -> CreateVip {
    CreateVip {
        interface_id: id.into(),
        ip: ip(addr),
        preferred_underlay: None,
    }
}

pub fn nat(id: &str, addr: &str, min: u16, max: u16) -> CreateNat {
    CreateNat {
        interface_id: id.into(),
        ip: ip(addr),
        min_port: min,
        max_port: max,
        preferred_underlay: None,
    }
}

pub fn neigh(addr: &str, vni: u32, min: u16, max: u16) -> NeighborNat {
    NeighborNat {
        ip: ip(addr),
        vni,
        min_port: min,
        max_port: max,
        underlay_route: a6("fc00:2::1"),
    }
}

pub fn neigh_key(addr: &str, vni: u32, min: u16, max: u16) -> NeighborNatKey {
    NeighborNatKey {
        ip: ip(addr),
        vni,
        min_port: min,
        max_port: max,
    }
}

pub fn lb(id: &str, vni: u32, addr: &str) -> CreateLoadBalancer {
    CreateLoadBalancer {
        id: id.into(),
        vni,
        ip: ip(addr),
        ports: vec![LbPort {
            protocol: L4Protocol::Tcp,
            port: 80,
        }],
        preferred_underlay: None,
    }
}

pub fn target(id: &str, addr: &str) -> LoadBalancerTarget {
    LoadBalancerTarget {
        loadbalancer_id: id.into(),
        target: ip(addr),
    }
}

pub fn rule(iface: &str, id: &str, action: FirewallAction) -> CreateFirewallRule {
    CreateFirewallRule {
        interface_id: iface.into(),
        rule: FirewallRule {
            id: id.into(),
            direction: TrafficDirection::Ingress,
            action,
            priority: 1000,
            source: pfx("1.2.3.4/16"),
            destination: pfx("0.0.0.0/0"),
            filter: ProtocolFilter::Any,
        },
    }
}

pub fn vni_q(vni: u32, vni_type: VniType) -> VniQuery {
    VniQuery { vni, vni_type }
}
