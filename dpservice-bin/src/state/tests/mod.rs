//! RPC semantics across tables: status codes in upstream's order, rollback, VNI
//! lifetime, Initialize, list orders.
//!
//! [`fails`] checks that a failing call leaves the whole state (its `Debug` image,
//! generator included) exactly as it was.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod capture;
mod firewall;
mod flows;
mod interfaces;
mod lb;
mod nat;
mod prefixes;
mod routes;

pub(super) use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
pub(super) use std::str::FromStr;

pub(super) use dpservice::model::{
    CaptureConfig, CapturedInterface, CreateFirewallRule, CreateInterface, CreateLoadBalancer,
    CreateNat, CreatePrefix, CreateVip, FirewallAction, FirewallRule, FirewallRuleRef, IpPrefix,
    L4Protocol, LbPort, LoadBalancerTarget, Metering, NatKind, NeighborNat, NeighborNatKey,
    PrefixError, PrefixRef, ProtocolFilter, RequestPrefix, Route, RouteKey, TrafficDirection,
    VniQuery, VniType,
};
pub(super) use dpservice::status::ServiceError as E;

pub(super) use super::*;

pub(super) const HOST: &str = "fc00:1::1";

pub(crate) fn ports() -> Vec<PortInfo> {
    let mut ports = vec![
        PortInfo {
            id: 0,
            device: "net_tap0".into(),
            kernel_name: "dtap0".into(),
            kind: PortKind::Pf0,
        },
        PortInfo {
            id: 1,
            device: "net_tap1".into(),
            kernel_name: "dtap1".into(),
            kind: PortKind::Pf1,
        },
    ];
    for i in 0..4u16 {
        ports.push(PortInfo {
            id: i + 2,
            device: format!("net_tap{}", i + 2),
            kernel_name: format!("dtapvf_{i}"),
            kind: PortKind::Vf,
        });
    }
    ports
}

pub(crate) fn config() -> StateConfig {
    let mut cfg = StateConfig::new(HOST.parse().unwrap(), ports());
    cfg.deterministic_underlays = true;
    cfg
}

pub(super) fn state() -> State {
    State::new(config())
}

pub(super) fn a4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

pub(super) fn a6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

pub(super) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub(super) fn pfx(s: &str) -> IpPrefix {
    s.parse().unwrap()
}

pub(super) fn iface(id: &str, device: &str, vni: u32, v4: &str, v6: &str) -> CreateInterface {
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

/// vm1 on net_tap2 and vm2 on net_tap3, both in VNI 100.
pub(super) fn two_vms() -> State {
    let mut s = state();
    s.create_interface(iface("vm1", "net_tap2", 100, "10.0.0.1", "2001::1"))
        .unwrap();
    s.create_interface(iface("vm2", "net_tap3", 100, "10.0.0.2", "2001::2"))
        .unwrap();
    s
}

/// A prefix as a route or alias-prefix request names it (any 8-bit length).
pub(super) fn rpfx(s: &str) -> RequestPrefix {
    s.parse().unwrap()
}

pub(super) fn route(vni: u32, prefix: &str, nexthop: &str) -> Route {
    Route {
        vni,
        prefix: rpfx(prefix),
        nexthop_vni: 0,
        nexthop: ip(nexthop),
    }
}

/// An alias-prefix (`CreatePrefix`) or LB-prefix (`CreateLbPrefix`) request, whichever
/// the call takes.
pub(super) fn prefix<P: FromStr<Err = PrefixError>>(id: &str, p: &str) -> CreatePrefix<P> {
    CreatePrefix {
        interface_id: id.into(),
        prefix: p.parse().unwrap(),
        preferred_underlay: None,
    }
}

/// `PrefixRef` / `LbPrefixRef`, whichever the call takes.
pub(super) fn pref<P: FromStr<Err = PrefixError>>(id: &str, p: &str) -> PrefixRef<P> {
    PrefixRef {
        interface_id: id.into(),
        prefix: p.parse().unwrap(),
    }
}

pub(super) fn vip(id: &str, addr: &str) -> CreateVip {
    CreateVip {
        interface_id: id.into(),
        ip: ip(addr),
        preferred_underlay: None,
    }
}

pub(super) fn nat(id: &str, addr: &str, min: u16, max: u16) -> CreateNat {
    CreateNat {
        interface_id: id.into(),
        ip: ip(addr),
        min_port: min,
        max_port: max,
        preferred_underlay: None,
    }
}

pub(super) fn neigh(addr: &str, vni: u32, min: u16, max: u16) -> NeighborNat {
    NeighborNat {
        ip: ip(addr),
        vni,
        min_port: min,
        max_port: max,
        underlay_route: a6("fc00:2::1"),
    }
}

pub(super) fn neigh_key(addr: &str, vni: u32, min: u16, max: u16) -> NeighborNatKey {
    NeighborNatKey {
        ip: ip(addr),
        vni,
        min_port: min,
        max_port: max,
    }
}

pub(super) fn lb(id: &str, vni: u32, addr: &str) -> CreateLoadBalancer {
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

pub(super) fn target(id: &str, addr: &str) -> LoadBalancerTarget {
    LoadBalancerTarget {
        loadbalancer_id: id.into(),
        target: ip(addr),
    }
}

pub(super) fn rule(id: &str, action: FirewallAction) -> FirewallRule {
    FirewallRule {
        id: id.into(),
        direction: TrafficDirection::Ingress,
        action,
        priority: 1000,
        source: pfx("1.2.3.4/16"),
        destination: pfx("0.0.0.0/0"),
        filter: ProtocolFilter::Any,
    }
}

pub(super) fn fw_create(id: &str, rule: FirewallRule) -> CreateFirewallRule {
    CreateFirewallRule {
        interface_id: id.into(),
        rule,
    }
}

pub(super) fn fw_ref(id: &str, rule_id: &str) -> FirewallRuleRef {
    FirewallRuleRef {
        interface_id: id.into(),
        rule_id: rule_id.into(),
    }
}

pub(super) fn q(vni: u32, vni_type: VniType) -> VniQuery {
    VniQuery { vni, vni_type }
}

/// Runs a call that must fail with `want` and change nothing.
pub(super) fn fails<T: std::fmt::Debug>(
    s: &mut State,
    want: E,
    call: impl FnOnce(&mut State) -> Result<T, E>,
) {
    let before = format!("{s:?}");
    let got = call(s);
    assert_eq!(got.unwrap_err(), want);
    assert_eq!(
        format!("{s:?}"),
        before,
        "state changed by a call failing {want}"
    );
}

pub(super) fn local_port(s: &State, vni: u32, dst: &str) -> Option<PortId> {
    match s.route_lookup(vni, ip(dst))? {
        RouteTarget::Local { port } => Some(*port),
        RouteTarget::Uplink { .. } => None,
    }
}
