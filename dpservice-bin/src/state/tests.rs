//! RPC semantics across tables: status codes in upstream's order, rollback, VNI
//! lifetime, Initialize, list orders.
//!
//! [`fails`] checks that a failing call leaves the whole state (its `Debug` image,
//! generator included) exactly as it was.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dpservice::model::{
    CaptureConfig, CapturedInterface, CreateInterface, CreateLoadBalancer, CreateNat, CreatePrefix,
    CreateVip, FirewallAction, FirewallRule, IpPrefix, L4Protocol, LbPort, LoadBalancerTarget,
    Metering, NatKind, NeighborNat, NeighborNatKey, PrefixRef, ProtocolFilter, Route, RouteKey,
    TrafficDirection, VniQuery, VniType,
};
use dpservice::status::ServiceError as E;

use super::*;

const HOST: &str = "fc00:1::1";

fn ports() -> Vec<PortInfo> {
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

fn config() -> StateConfig {
    let mut cfg = StateConfig::new(HOST.parse().unwrap(), ports());
    cfg.deterministic_underlays = true;
    cfg
}

fn state() -> State {
    State::new(config())
}

fn a4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn a6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn pfx(s: &str) -> IpPrefix {
    s.parse().unwrap()
}

fn iface(id: &str, device: &str, vni: u32, v4: &str, v6: &str) -> CreateInterface {
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
fn two_vms() -> State {
    let mut s = state();
    s.create_interface(iface("vm1", "net_tap2", 100, "10.0.0.1", "2001::1"))
        .unwrap();
    s.create_interface(iface("vm2", "net_tap3", 100, "10.0.0.2", "2001::2"))
        .unwrap();
    s
}

fn route(vni: u32, prefix: &str, nexthop: &str) -> Route {
    Route {
        vni,
        prefix: pfx(prefix),
        nexthop_vni: 0,
        nexthop: ip(nexthop),
    }
}

fn prefix(id: &str, p: &str) -> CreatePrefix {
    CreatePrefix {
        interface_id: id.into(),
        prefix: pfx(p),
        preferred_underlay: None,
    }
}

fn pref(id: &str, p: &str) -> PrefixRef {
    PrefixRef {
        interface_id: id.into(),
        prefix: pfx(p),
    }
}

fn vip(id: &str, addr: &str) -> CreateVip {
    CreateVip {
        interface_id: id.into(),
        ip: ip(addr),
        preferred_underlay: None,
    }
}

fn nat(id: &str, addr: &str, min: u16, max: u16) -> CreateNat {
    CreateNat {
        interface_id: id.into(),
        ip: ip(addr),
        min_port: min,
        max_port: max,
        preferred_underlay: None,
    }
}

fn neigh(addr: &str, vni: u32, min: u16, max: u16) -> NeighborNat {
    NeighborNat {
        ip: ip(addr),
        vni,
        min_port: min,
        max_port: max,
        underlay_route: a6("fc00:2::1"),
    }
}

fn neigh_key(addr: &str, vni: u32, min: u16, max: u16) -> NeighborNatKey {
    NeighborNatKey {
        ip: ip(addr),
        vni,
        min_port: min,
        max_port: max,
    }
}

fn lb(id: &str, vni: u32, addr: &str) -> CreateLoadBalancer {
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

fn target(id: &str, addr: &str) -> LoadBalancerTarget {
    LoadBalancerTarget {
        loadbalancer_id: id.into(),
        target: ip(addr),
    }
}

fn rule(id: &str, action: FirewallAction) -> FirewallRule {
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

fn q(vni: u32, vni_type: VniType) -> VniQuery {
    VniQuery { vni, vni_type }
}

/// Runs a call that must fail with `want` and change nothing.
fn fails<T: std::fmt::Debug>(
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

fn local_port(s: &State, vni: u32, dst: &str) -> Option<PortId> {
    match s.route_lookup(vni, ip(dst))? {
        RouteTarget::Local { port } => Some(*port),
        RouteTarget::Uplink { .. } => None,
    }
}

// ---- interfaces ----

#[test]
fn create_interface_happy_path() {
    let mut s = state();
    let created = s
        .create_interface(iface("vm1", "net_tap3", 100, "10.0.0.1", "2001::1"))
        .unwrap();
    assert_eq!(created.underlay_route.to_string(), "fc00:1::d000:1:0:1");
    assert_eq!(created.vf_name, "dtapvf_1");
    let got = s.get_interface("vm1").unwrap();
    assert_eq!(got.device, "net_tap3");
    assert_eq!(got.vni, 100);
    assert_eq!(got.ipv4, Some(a4("10.0.0.1")));
    assert_eq!(got.metering, Metering::default());
    assert_eq!(local_port(&s, 100, "10.0.0.1"), Some(3));
    assert_eq!(local_port(&s, 100, "2001::1"), Some(3));
    let vnf = s.vnf_lookup(&created.underlay_route).unwrap();
    assert_eq!(
        (vnf.kind, vnf.port, vnf.vni),
        (VnfKind::Interface, Some(3), 100)
    );
    assert_eq!(s.vf(3).unwrap().interface_id, "vm1");
    assert!(s.vf(2).is_none());
    assert!(s.check_vni_in_use(q(100, VniType::Ipv4)).unwrap());
    // the next object gets the next counter value
    let second = s
        .create_interface(iface("vm2", "net_tap2", 100, "10.0.0.2", "::"))
        .unwrap();
    assert_eq!(second.underlay_route.to_string(), "fc00:1::d000:1:0:2");
    // device (port) order, not creation order
    let ids: Vec<_> = s.list_interfaces().into_iter().map(|i| i.id).collect();
    assert_eq!(ids, ["vm2", "vm1"]);
    // an IPv6-only interface gets no IPv4 route
    assert_eq!(s.get_interface("vm2").unwrap().ipv6, None);
}

#[test]
fn create_interface_errors_in_order() {
    let mut s = two_vms();
    let mut req = iface("vm4", "invalid", 100, "10.0.0.4", "2001::4");
    fails(&mut s, E::NotFound, |s| s.create_interface(req.clone()));
    // same device: 202 even with a new ID (what a repeated create returns)
    req.device = "net_tap2".into();
    fails(&mut s, E::AlreadyExists, |s| {
        s.create_interface(req.clone())
    });
    // uplinks are in use
    req.device = "net_tap0".into();
    fails(&mut s, E::AlreadyExists, |s| {
        s.create_interface(req.clone())
    });
    req.device = "net_tap4".into();
    // preferred underlay held by vm1 → 401 before the ID check
    req.preferred_underlay = Some(s.get_interface("vm1").unwrap().underlay_route);
    req.id = "vm1".into();
    fails(&mut s, E::VnfInsert, |s| s.create_interface(req.clone()));
    req.preferred_underlay = None;
    fails(&mut s, E::VmHandle, |s| s.create_interface(req.clone()));
    req.id = "vm4".into();
    // addresses of vm1 in the same VNI
    req.ipv4 = Some(a4("10.0.0.1"));
    fails(&mut s, E::RouteExists, |s| s.create_interface(req.clone()));
    req.ipv4 = Some(a4("10.0.0.4"));
    req.ipv6 = Some(a6("2001::1"));
    fails(&mut s, E::RouteExists, |s| s.create_interface(req.clone()));
    // after all these failures the generator was not advanced
    req.ipv6 = Some(a6("2001::4"));
    let ul = s.create_interface(req).unwrap().underlay_route;
    assert_eq!(ul.to_string(), "fc00:1::d000:1:0:3");
    // the same addresses in another VNI are fine
    s.create_interface(iface("vm5", "net_tap5", 101, "10.0.0.1", "2001::1"))
        .unwrap();
}

#[test]
fn create_interface_limits() {
    let mut cfg = config();
    cfg.limits.vnis = 1;
    cfg.limits.routes_per_table = 1;
    cfg.limits.underlays = 2;
    let mut s = State::new(cfg);
    s.create_interface(iface("vm1", "net_tap2", 1, "10.0.0.1", "::"))
        .unwrap();
    fails(&mut s, E::VniInit4, |s| {
        s.create_interface(iface("vm2", "net_tap3", 2, "10.0.0.2", "::"))
    });
    fails(&mut s, E::RouteInsert, |s| {
        s.create_interface(iface("vm2", "net_tap3", 1, "10.0.0.2", "::"))
    });
    s.create_interface(iface("vm2", "net_tap3", 1, "0.0.0.0", "2001::2"))
        .unwrap();
    fails(&mut s, E::VnfInsert, |s| {
        s.create_interface(iface("vm3", "net_tap4", 1, "0.0.0.0", "2001::3"))
    });
}

#[test]
fn metering_depends_on_nic_type() {
    let mut req = iface("vm1", "net_tap2", 1, "10.0.0.1", "::");
    req.metering = Metering {
        total_rate: 100,
        public_rate: 50,
    };
    // TAP: ignored, reported as zeros, never refused
    let mut s = state();
    let mut bad = req.clone();
    bad.metering.public_rate = 500;
    s.create_interface(bad).unwrap();
    assert_eq!(
        s.get_interface("vm1").unwrap().metering,
        Metering::default()
    );

    let mut cfg = config();
    cfg.nic_type = NicType::Mellanox;
    let mut s = State::new(cfg);
    let mut bad = req.clone();
    bad.metering.public_rate = 101;
    fails(&mut s, E::PortMeter, |s| s.create_interface(bad.clone()));
    bad.metering = Metering {
        total_rate: u64::from(u32::MAX) + 1,
        public_rate: 0,
    };
    fails(&mut s, E::PortMeter, |s| s.create_interface(bad.clone()));
    s.create_interface(req.clone()).unwrap();
    assert_eq!(s.get_interface("vm1").unwrap().metering, req.metering);
}

#[test]
fn delete_interface_cascades_and_frees_everything() {
    let mut s = two_vms();
    let before_vm1 = format!("{:?}", s.vnf_table().len());
    s.create_vip(&vip("vm1", "172.20.0.1")).unwrap();
    s.create_nat(&nat("vm1", "172.20.0.2", 100, 200)).unwrap();
    s.create_prefix(&prefix("vm1", "1.2.3.0/24")).unwrap();
    s.create_lb_prefix(&prefix("vm1", "1.2.4.0/24")).unwrap();
    s.create_firewall_rule("vm1", rule("r1", FirewallAction::Accept))
        .unwrap();
    assert_eq!(s.vnf_table().len(), 6);
    assert_eq!(before_vm1, "2");

    fails(&mut s, E::NotFound, |s| s.delete_interface("nope"));
    s.delete_interface("vm1").unwrap();
    assert_eq!(s.get_interface("vm1").unwrap_err(), E::NotFound);
    assert_eq!(s.list_prefixes("vm1").unwrap_err(), E::NoVm);
    // only vm2's underlay is left, and neither vm1's routes nor its DNAT entries
    assert_eq!(s.vnf_table().len(), 1);
    assert_eq!(s.route_lookup(100, ip("10.0.0.1")), None);
    assert_eq!(s.route_lookup(100, ip("1.2.3.1")), None);
    assert_eq!(s.nat_tables().dnat_entries().count(), 0);
    assert!(s.check_vni_in_use(q(100, VniType::Ipv4)).unwrap());
    // the VIP address can be used again
    s.create_vip(&vip("vm2", "172.20.0.1")).unwrap();
    // and the interface can be created again
    s.create_interface(iface("vm1", "net_tap2", 100, "10.0.0.1", "2001::1"))
        .unwrap();
    fails(&mut s, E::NotFound, |s| s.delete_interface(""));
}

// ---- VNI lifetime ----

#[test]
fn last_user_frees_vni_with_neighbor_nats_and_dnat() {
    let mut s = state();
    s.create_interface(iface("vm1", "net_tap2", 100, "10.0.0.1", "::"))
        .unwrap();
    s.create_load_balancer(lb("lb1", 100, "10.9.9.9")).unwrap();
    s.create_neighbor_nat(&neigh("172.20.0.2", 100, 1000, 2000))
        .unwrap();
    s.create_route(&route(100, "0.0.0.0/0", "fc00:2::1"))
        .unwrap();
    // the LB keeps the VNI (and the neighbour range) alive
    s.delete_interface("vm1").unwrap();
    assert!(s.check_vni_in_use(q(100, VniType::Ipv6)).unwrap());
    assert_eq!(s.list_neighbor_nats(ip("0.0.0.0")).unwrap().len(), 1);
    assert_eq!(s.list_routes(100).unwrap().len(), 1);
    s.delete_load_balancer("lb1").unwrap();
    assert!(!s.check_vni_in_use(q(100, VniType::Ipv4)).unwrap());
    assert_eq!(s.list_routes(100).unwrap_err(), E::NoVni);
    fails(&mut s, E::NotFound, |s| {
        s.delete_neighbor_nat(&neigh_key("172.20.0.2", 100, 1000, 2000))
    });
    // a new user of the VNI starts with empty tables, and the former NAT IP is free
    s.create_interface(iface("vm1", "net_tap2", 100, "10.0.0.1", "::"))
        .unwrap();
    assert!(s.list_routes(100).unwrap().is_empty());
    s.create_vip(&vip("vm1", "172.20.0.2")).unwrap();
}

#[test]
fn neighbor_nats_of_other_vnis_survive_a_vni_purge() {
    let mut s = state();
    s.create_interface(iface("vm1", "net_tap2", 100, "10.0.0.1", "::"))
        .unwrap();
    s.create_neighbor_nat(&neigh("172.20.0.2", 100, 1000, 2000))
        .unwrap();
    s.create_neighbor_nat(&neigh("172.20.0.2", 200, 2000, 3000))
        .unwrap();
    s.delete_interface("vm1").unwrap();
    let left = s.list_neighbor_nats(ip("0.0.0.0")).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].vni, 200);
    assert!(s.nat_tables().dnat_lookup(200, a4("172.20.0.2")).is_some());
    assert!(s.nat_tables().dnat_lookup(100, a4("172.20.0.2")).is_none());
}

// ---- Initialize / ResetVni / CheckVniInUse ----

#[test]
fn initialize_wipes_routes_and_neighbor_nats() {
    let mut s = two_vms();
    assert!(!s.is_initialized());
    s.create_route(&route(100, "0.0.0.0/0", "fc00:2::1"))
        .unwrap();
    s.create_route(&route(100, "::/0", "fc00:2::1")).unwrap();
    s.create_prefix(&prefix("vm1", "1.2.3.0/24")).unwrap();
    s.create_neighbor_nat(&neigh("172.20.0.9", 100, 1, 2))
        .unwrap();
    s.initialize().unwrap();
    assert!(s.is_initialized());
    assert!(s.list_routes(100).unwrap().is_empty());
    assert_eq!(s.route_lookup(100, ip("2002::1")), None);
    assert_eq!(s.route_lookup(100, ip("1.2.3.1")), None);
    // interface routes are back
    assert_eq!(local_port(&s, 100, "10.0.0.1"), Some(2));
    assert_eq!(local_port(&s, 100, "2001::2"), Some(3));
    assert!(s.list_neighbor_nats(ip("0.0.0.0")).unwrap().is_empty());
    assert!(s.nat_tables().dnat_lookup(100, a4("172.20.0.9")).is_none());
    // the alias record and its underlay stay (as upstream)
    assert_eq!(s.list_prefixes("vm1").unwrap().len(), 1);
    // a second Initialize is not refused
    s.initialize().unwrap();
    assert_eq!(local_port(&s, 100, "10.0.0.2"), Some(3));
}

#[test]
fn reset_vni_and_check_vni() {
    let mut s = two_vms();
    s.create_interface(iface("vm3", "net_tap4", 200, "10.0.0.1", "::"))
        .unwrap();
    s.create_route(&route(100, "0.0.0.0/0", "fc00:2::1"))
        .unwrap();
    s.create_route(&route(200, "0.0.0.0/0", "fc00:2::1"))
        .unwrap();
    fails(&mut s, E::WrongType, |s| s.reset_vni(q(100, VniType::Ipv4)));
    fails(&mut s, E::WrongType, |s| s.reset_vni(q(100, VniType::Ipv6)));
    fails(&mut s, E::WrongType, |s| {
        s.check_vni_in_use(q(100, VniType::Both))
    });
    // unknown VNI: nothing to do
    s.reset_vni(q(999, VniType::Both)).unwrap();
    s.reset_vni(q(100, VniType::Both)).unwrap();
    assert!(s.list_routes(100).unwrap().is_empty());
    assert_eq!(s.list_routes(200).unwrap().len(), 1);
    assert_eq!(local_port(&s, 100, "10.0.0.1"), Some(2));
    assert_eq!(local_port(&s, 200, "10.0.0.1"), Some(4));
    assert!(s.check_vni_in_use(q(200, VniType::Ipv6)).unwrap());
    assert!(!s.check_vni_in_use(q(999, VniType::Ipv4)).unwrap());
}

// ---- routes ----

#[test]
fn routes_create_delete_and_errors() {
    let mut s = two_vms();
    s.create_route(&route(100, "1.2.3.4/24", "fc00:2::1"))
        .unwrap();
    fails(&mut s, E::RouteExists, |s| {
        s.create_route(&route(100, "1.2.3.255/24", "fc00:2::1"))
    });
    fails(&mut s, E::BadIpVer, |s| {
        s.create_route(&route(100, "4.5.6.7/32", "1.2.3.4"))
    });
    fails(&mut s, E::NoVni, |s| {
        s.create_route(&route(999, "0.0.0.0/0", "fc00:2::1"))
    });
    // an interface's own /32 counts as existing
    fails(&mut s, E::RouteExists, |s| {
        s.create_route(&route(100, "10.0.0.1/32", "fc00:2::1"))
    });
    assert_eq!(
        s.route_lookup(100, ip("1.2.3.200")),
        Some(&RouteTarget::Uplink {
            nexthop: a6("fc00:2::1"),
            nexthop_vni: 0
        })
    );
    let key = |p: &str| RouteKey {
        vni: 100,
        prefix: pfx(p),
    };
    fails(&mut s, E::RouteBadPort, |s| {
        s.delete_route(&key("10.0.0.1/32"))
    });
    fails(&mut s, E::NoVni, |s| {
        s.delete_route(&RouteKey {
            vni: 999,
            prefix: pfx("0.0.0.0/0"),
        })
    });
    s.delete_route(&key("1.2.3.0/24")).unwrap();
    fails(&mut s, E::RouteNotFound, |s| {
        s.delete_route(&key("1.2.3.4/24"))
    });
    assert_eq!(s.list_routes(999).unwrap_err(), E::NoVni);
}

#[test]
fn route_listing_order_and_ipv6_invisibility() {
    let mut s = two_vms();
    s.create_interface(iface("vm3", "net_tap4", 7, "10.0.0.1", "::"))
        .unwrap();
    for p in [
        "192.168.2.0/24",
        "0.0.0.0/0",
        "192.168.0.0/16",
        "10.1.0.0/16",
    ] {
        s.create_route(&route(100, p, "fc00:2::1")).unwrap();
    }
    s.create_route(&route(7, "8.8.8.0/24", "fc00:3::1"))
        .unwrap();
    s.create_route(&route(100, "2002::/64", "fc00:2::1"))
        .unwrap();
    let listed: Vec<String> = s
        .list_routes(100)
        .unwrap()
        .iter()
        .map(|r| r.prefix.to_string())
        .collect();
    assert_eq!(
        listed,
        [
            "0.0.0.0/0",
            "10.1.0.0/16",
            "192.168.0.0/16",
            "192.168.2.0/24"
        ]
    );
    // IPv6 routes work but are not listed
    assert!(s.route_lookup(100, ip("2002::5")).is_some());
    let all: Vec<(u32, String)> = s
        .list_routes(0)
        .unwrap()
        .iter()
        .map(|r| (r.vni, r.prefix.to_string()))
        .collect();
    assert_eq!(all.len(), 5);
    assert_eq!(all[0], (7, "8.8.8.0/24".to_string()));
    // deleting the first and re-adding it restores the list (upstream's list test)
    let before = s.list_routes(100).unwrap();
    s.delete_route(&RouteKey {
        vni: 100,
        prefix: pfx("0.0.0.0/0"),
    })
    .unwrap();
    assert_eq!(s.list_routes(100).unwrap()[..], before[1..]);
    s.create_route(&before[0]).unwrap();
    assert_eq!(s.list_routes(100).unwrap(), before);
}

#[test]
fn route_table_capacity() {
    let mut cfg = config();
    cfg.limits.routes_per_table = 3;
    let mut s = State::new(cfg);
    s.create_interface(iface("vm1", "net_tap2", 1, "10.0.0.1", "::"))
        .unwrap();
    s.create_route(&route(1, "1.0.0.0/8", "fc00:2::1")).unwrap();
    s.create_route(&route(1, "2.0.0.0/8", "fc00:2::1")).unwrap();
    fails(&mut s, E::RouteInsert, |s| {
        s.create_route(&route(1, "3.0.0.0/8", "fc00:2::1"))
    });
}

// ---- alias prefixes ----

#[test]
fn alias_prefixes() {
    let mut s = two_vms();
    fails(&mut s, E::NoVm, |s| {
        s.create_prefix(&prefix("nope", "1.2.3.0/24"))
    });
    fails(&mut s, E::NoVm, |s| {
        s.delete_prefix(&pref("nope", "1.2.3.0/24"))
    });
    assert_eq!(s.list_prefixes("nope").unwrap_err(), E::NoVm);
    let ul1 = s.create_prefix(&prefix("vm1", "1.2.3.0/24")).unwrap();
    let ul2 = s.create_prefix(&prefix("vm1", "1234:1::/64")).unwrap();
    assert_eq!(local_port(&s, 100, "1.2.3.77"), Some(2));
    assert_eq!(local_port(&s, 100, "1234:1::5"), Some(2));
    let vnf = s.vnf_lookup(&ul1).unwrap();
    assert_eq!(vnf.kind, VnfKind::AliasPrefix);
    assert_eq!(vnf.prefix, Some(pfx("1.2.3.0/24")));
    let listed = s.list_prefixes("vm1").unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|p| (p.prefix, p.underlay_route))
            .collect::<Vec<_>>(),
        [(pfx("1.2.3.0/24"), ul1), (pfx("1234:1::/64"), ul2)]
    );
    fails(&mut s, E::RouteExists, |s| {
        s.create_prefix(&prefix("vm1", "1.2.3.0/24"))
    });
    fails(&mut s, E::RouteExists, |s| {
        s.create_prefix(&prefix("vm2", "1.2.3.9/24"))
    });
    // an interface address is a route too
    fails(&mut s, E::RouteExists, |s| {
        s.create_prefix(&prefix("vm1", "10.0.0.2/32"))
    });
    // the preferred underlay of another object → 401, the route is not added
    let mut p = prefix("vm2", "5.5.5.0/24");
    p.preferred_underlay = Some(ul1);
    fails(&mut s, E::VnfInsert, |s| s.create_prefix(&p));
    // another interface's prefix or address
    fails(&mut s, E::RouteBadPort, |s| {
        s.delete_prefix(&pref("vm2", "1.2.3.0/24"))
    });
    fails(&mut s, E::RouteBadPort, |s| {
        s.delete_prefix(&pref("vm1", "10.0.0.2/32"))
    });
    // own address is not an alias prefix either
    fails(&mut s, E::RouteBadPort, |s| {
        s.delete_prefix(&pref("vm1", "10.0.0.1/32"))
    });
    // other host bits: route found, record not → 201, nothing changes
    fails(&mut s, E::NotFound, |s| {
        s.delete_prefix(&pref("vm1", "1.2.3.4/24"))
    });
    s.delete_prefix(&pref("vm1", "1.2.3.0/24")).unwrap();
    assert!(s.vnf_lookup(&ul1).is_none());
    assert_eq!(s.route_lookup(100, ip("1.2.3.77")), None);
    fails(&mut s, E::RouteNotFound, |s| {
        s.delete_prefix(&pref("vm1", "1.2.3.0/24"))
    });
    assert_eq!(s.list_prefixes("vm1").unwrap().len(), 1);
}

#[test]
fn alias_prefix_records_after_reset() {
    let mut s = two_vms();
    let ul = s.create_prefix(&prefix("vm1", "1.2.3.0/24")).unwrap();
    s.reset_vni(q(100, VniType::Both)).unwrap();
    // re-creating replaces the routeless record
    let ul2 = s.create_prefix(&prefix("vm1", "1.2.3.0/24")).unwrap();
    assert_ne!(ul, ul2);
    assert!(s.vnf_lookup(&ul).is_none());
    assert_eq!(s.list_prefixes("vm1").unwrap().len(), 1);
    // delete of a routeless record: the route error is reported, the record removed
    s.reset_vni(q(100, VniType::Both)).unwrap();
    assert_eq!(
        s.delete_prefix(&pref("vm1", "1.2.3.0/24")).unwrap_err(),
        E::RouteNotFound
    );
    assert!(s.list_prefixes("vm1").unwrap().is_empty());
    assert!(s.vnf_lookup(&ul2).is_none());
}

// ---- LB prefixes ----

#[test]
fn lb_prefixes() {
    let mut s = two_vms();
    fails(&mut s, E::NoVm, |s| {
        s.create_lb_prefix(&prefix("x", "1.2.3.0/24"))
    });
    fails(&mut s, E::NoVm, |s| {
        s.delete_lb_prefix(&pref("x", "1.2.3.0/24"))
    });
    assert_eq!(s.list_lb_prefixes("x").unwrap_err(), E::NoVm);
    let ul1 = s.create_lb_prefix(&prefix("vm1", "1.2.3.4/24")).unwrap();
    let ul2 = s.create_lb_prefix(&prefix("vm1", "1.2.4.0/24")).unwrap();
    // no route, only the underlay
    assert_eq!(s.route_lookup(100, ip("1.2.3.4")), None);
    assert_eq!(s.vnf_lookup(&ul1).unwrap().kind, VnfKind::LbPrefix);
    fails(&mut s, E::AlreadyExists, |s| {
        s.create_lb_prefix(&prefix("vm1", "1.2.3.4/24"))
    });
    // other interface: fine
    s.create_lb_prefix(&prefix("vm2", "1.2.3.4/24")).unwrap();
    let mut p = prefix("vm1", "9.9.9.0/24");
    p.preferred_underlay = Some(ul2);
    fails(&mut s, E::VnfInsert, |s| s.create_lb_prefix(&p));
    // listed and deleted as given
    assert_eq!(
        s.list_lb_prefixes("vm1").unwrap()[0].prefix.to_string(),
        "1.2.3.4/24"
    );
    fails(&mut s, E::NotFound, |s| {
        s.delete_lb_prefix(&pref("vm1", "1.2.3.0/24"))
    });
    s.delete_lb_prefix(&pref("vm1", "1.2.3.4/24")).unwrap();
    assert!(s.vnf_lookup(&ul1).is_none());
    let left = s.list_lb_prefixes("vm1").unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].underlay_route, ul2);
}

// ---- VIP ----

#[test]
fn vip_lifecycle_and_errors() {
    let mut s = two_vms();
    fails(&mut s, E::NoVm, |s| s.create_vip(&vip("x", "172.20.0.1")));
    fails(&mut s, E::BadIpVer, |s| {
        s.create_vip(&vip("vm1", "1234::1"))
    });
    assert_eq!(s.get_vip("x").unwrap_err(), E::NoVm);
    fails(&mut s, E::NoVm, |s| s.delete_vip("x"));
    assert_eq!(s.get_vip("vm1").unwrap_err(), E::SnatNoData);
    fails(&mut s, E::SnatNoData, |s| s.delete_vip("vm1"));

    let ul = s.create_vip(&vip("vm1", "172.20.0.1")).unwrap();
    assert_eq!(s.get_vip("vm1").unwrap().underlay_route, ul);
    assert_eq!(s.vnf_lookup(&ul).unwrap().kind, VnfKind::Vip);
    assert_eq!(s.vf(2).unwrap().vip.unwrap().ip, a4("172.20.0.1"));
    assert_eq!(
        s.nat_tables().dnat_lookup(100, a4("172.20.0.1")),
        Some(&DnatTarget::Vip {
            port: 2,
            vm_ip: Some(a4("10.0.0.1"))
        })
    );
    fails(&mut s, E::SnatExists, |s| {
        s.create_vip(&vip("vm1", "172.20.0.9"))
    });
    // the address is taken in the VNI
    fails(&mut s, E::DnatExists, |s| {
        s.create_vip(&vip("vm2", "172.20.0.1"))
    });
    // a preferred underlay held by the interface → 401 (checked before 343)
    let mut v = vip("vm1", "172.20.0.9");
    v.preferred_underlay = Some(s.get_interface("vm1").unwrap().underlay_route);
    fails(&mut s, E::VnfInsert, |s| s.create_vip(&v));
    s.delete_vip("vm1").unwrap();
    assert!(s.vnf_lookup(&ul).is_none());
    assert!(s.nat_tables().dnat_lookup(100, a4("172.20.0.1")).is_none());
    s.create_vip(&vip("vm2", "172.20.0.1")).unwrap();
}

#[test]
fn vip_refused_on_nat_and_neighbor_addresses() {
    let mut s = two_vms();
    s.create_nat(&nat("vm1", "172.20.0.2", 100, 200)).unwrap();
    s.create_neighbor_nat(&neigh("172.20.0.3", 100, 1, 2))
        .unwrap();
    fails(&mut s, E::DnatExists, |s| {
        s.create_vip(&vip("vm2", "172.20.0.2"))
    });
    fails(&mut s, E::DnatExists, |s| {
        s.create_vip(&vip("vm2", "172.20.0.3"))
    });
    // same address in another VNI's neighbour table does not matter
    s.create_neighbor_nat(&neigh("172.20.0.4", 5, 1, 2))
        .unwrap();
    s.create_vip(&vip("vm2", "172.20.0.4")).unwrap();
    // NAT then VIP on the same interface and address, after the NAT is gone (upstream
    // test_grpc_nat_vip_same_ip)
    s.delete_nat("vm1").unwrap();
    s.create_vip(&vip("vm1", "172.20.0.2")).unwrap();
    s.delete_vip("vm1").unwrap();
    assert_eq!(s.get_vip("vm1").unwrap_err(), E::SnatNoData);
    assert_eq!(s.get_nat("vm1").unwrap_err(), E::SnatNoData);
}

// ---- NAT ----

#[test]
fn nat_lifecycle_and_errors() {
    let mut s = two_vms();
    fails(&mut s, E::NoVm, |s| {
        s.create_nat(&nat("x", "172.20.0.2", 100, 200))
    });
    fails(&mut s, E::BadIpVer, |s| {
        s.create_nat(&nat("vm1", "1234::1", 100, 200))
    });
    assert_eq!(s.get_nat("x").unwrap_err(), E::NoVm);
    fails(&mut s, E::NoVm, |s| s.delete_nat("x"));
    fails(&mut s, E::SnatNoData, |s| s.delete_nat("vm1"));
    let ul = s.create_nat(&nat("vm1", "172.20.0.2", 100, 200)).unwrap();
    let got = s.get_nat("vm1").unwrap();
    assert_eq!(
        (got.ip, got.min_port, got.max_port, got.underlay_route),
        (ip("172.20.0.2"), 100, 200, ul)
    );
    assert_eq!(s.vnf_lookup(&ul).unwrap().kind, VnfKind::Nat);
    fails(&mut s, E::SnatExists, |s| {
        s.create_nat(&nat("vm1", "172.20.0.2", 200, 300))
    });
    // shared address on another interface
    s.create_nat(&nat("vm2", "172.20.0.2", 200, 300)).unwrap();
    assert_eq!(
        s.nat_tables().dnat_lookup(100, a4("172.20.0.2")),
        Some(&DnatTarget::Network)
    );
    // the DNAT entry stays while another interface still uses the address
    s.delete_nat("vm1").unwrap();
    assert!(s.vnf_lookup(&ul).is_none());
    assert!(s.nat_tables().dnat_lookup(100, a4("172.20.0.2")).is_some());
    s.delete_nat("vm2").unwrap();
    assert!(s.nat_tables().dnat_lookup(100, a4("172.20.0.2")).is_none());
}

#[test]
fn local_nat_listing() {
    let mut s = two_vms();
    s.create_interface(iface("vm3", "net_tap4", 50, "10.0.0.3", "::"))
        .unwrap();
    s.create_interface(iface("vm4", "net_tap5", 100, "0.0.0.0", "2001::4"))
        .unwrap();
    s.create_vip(&vip("vm4", "172.30.0.1")).unwrap();
    s.create_nat(&nat("vm1", "172.20.0.2", 100, 200)).unwrap();
    s.create_nat(&nat("vm2", "172.20.0.2", 200, 300)).unwrap();
    s.create_nat(&nat("vm3", "172.20.0.3", 1, 2)).unwrap();
    let show = |s: &State, f: &str| -> Vec<(u32, Ipv4Addr, Ipv4Addr)> {
        s.list_local_nats(ip(f))
            .unwrap()
            .into_iter()
            .map(|e| match e.kind {
                NatKind::Local { interface_ip } => (e.vni, interface_ip, e.nat_ip),
                NatKind::Neighbor { .. } => panic!("neighbour entry in the local list"),
            })
            .collect()
    };
    // newest first within a VNI (upstream's test expects vm2 before vm1)
    assert_eq!(
        show(&s, "172.20.0.2"),
        [
            (100, a4("10.0.0.2"), a4("172.20.0.2")),
            (100, a4("10.0.0.1"), a4("172.20.0.2"))
        ]
    );
    let all = show(&s, "0.0.0.0");
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].0, 50);
    assert!(show(&s, "9.9.9.9").is_empty());
    assert_eq!(s.list_local_nats(ip("1234::1")).unwrap_err(), E::BadIpVer);
}

// ---- neighbour NAT ----

#[test]
fn neighbor_nats() {
    let mut s = state();
    fails(&mut s, E::BadIpVer, |s| {
        s.create_neighbor_nat(&neigh("1234::1", 1, 1, 2))
    });
    fails(&mut s, E::BadIpVer, |s| {
        s.delete_neighbor_nat(&neigh_key("1234::1", 1, 1, 2))
    });
    assert_eq!(
        s.list_neighbor_nats(ip("1234::1")).unwrap_err(),
        E::BadIpVer
    );
    s.create_neighbor_nat(&neigh("172.20.0.2", 1, 100, 200))
        .unwrap();
    fails(&mut s, E::AlreadyExists, |s| {
        s.create_neighbor_nat(&neigh("172.20.0.2", 1, 100, 200))
    });
    // overlap in any VNI
    fails(&mut s, E::AlreadyExists, |s| {
        s.create_neighbor_nat(&neigh("172.20.0.2", 2, 199, 300))
    });
    fails(&mut s, E::AlreadyExists, |s| {
        s.create_neighbor_nat(&neigh("172.20.0.2", 2, 1, 101))
    });
    // touching ranges do not overlap; other addresses are independent
    s.create_neighbor_nat(&neigh("172.20.0.2", 1, 200, 201))
        .unwrap();
    s.create_neighbor_nat(&neigh("172.20.0.3", 1, 100, 200))
        .unwrap();
    let listed: Vec<_> = s
        .list_neighbor_nats(ip("172.20.0.2"))
        .unwrap()
        .iter()
        .map(|e| (e.min_port, e.max_port))
        .collect();
    assert_eq!(listed, [(100, 200), (200, 201)]);
    assert_eq!(s.list_neighbor_nats(ip("0.0.0.0")).unwrap().len(), 3);
    let entry = s
        .nat_tables()
        .neighbor_lookup(1, a4("172.20.0.2"), 150)
        .unwrap();
    assert_eq!(entry.underlay, a6("fc00:2::1"));
    assert!(s
        .nat_tables()
        .neighbor_lookup(1, a4("172.20.0.2"), 201)
        .is_none());
    assert!(s
        .nat_tables()
        .neighbor_lookup(2, a4("172.20.0.2"), 150)
        .is_none());
    // delete needs the exact entry
    fails(&mut s, E::NotFound, |s| {
        s.delete_neighbor_nat(&neigh_key("172.20.0.2", 1, 100, 199))
    });
    fails(&mut s, E::NotFound, |s| {
        s.delete_neighbor_nat(&neigh_key("172.20.0.2", 2, 100, 200))
    });
    s.delete_neighbor_nat(&neigh_key("172.20.0.2", 1, 100, 200))
        .unwrap();
    // the other range keeps the DNAT entry
    assert!(s.nat_tables().dnat_lookup(1, a4("172.20.0.2")).is_some());
    s.delete_neighbor_nat(&neigh_key("172.20.0.2", 1, 200, 201))
        .unwrap();
    assert!(s.nat_tables().dnat_lookup(1, a4("172.20.0.2")).is_none());
}

// ---- load balancers ----

#[test]
fn load_balancer_lifecycle_and_errors() {
    let mut s = state();
    let ul = s.create_load_balancer(lb("lb1", 100, "10.9.9.9")).unwrap();
    assert_eq!(s.vnf_lookup(&ul).unwrap().kind, VnfKind::Lb);
    assert!(s.check_vni_in_use(q(100, VniType::Ipv4)).unwrap());
    // an LB-only VNI takes routes
    s.create_route(&route(100, "0.0.0.0/0", "fc00:2::1"))
        .unwrap();
    let got = s.get_load_balancer("lb1").unwrap();
    assert_eq!(
        (got.vni, got.ip, got.underlay_route),
        (100, ip("10.9.9.9"), ul)
    );
    fails(&mut s, E::AlreadyExists, |s| {
        s.create_load_balancer(lb("lb2", 100, "10.9.9.9"))
    });
    // same ID, other address: refused too (§13 #5)
    fails(&mut s, E::AlreadyExists, |s| {
        s.create_load_balancer(lb("lb1", 101, "10.9.9.9"))
    });
    let mut req = lb("lb2", 100, "10.9.9.9");
    req.preferred_underlay = Some(ul);
    fails(&mut s, E::VnfInsert, |s| {
        s.create_load_balancer(req.clone())
    });
    s.create_load_balancer(lb("lb2", 101, "1234::1")).unwrap();
    let ids: Vec<_> = s.list_load_balancers().into_iter().map(|l| l.id).collect();
    assert_eq!(ids, ["lb1", "lb2"]);
    assert!(s.load_balancers().lookup(101, ip("1234::1")).is_some());
    fails(&mut s, E::NotFound, |s| s.delete_load_balancer("nope"));
    assert_eq!(s.get_load_balancer("nope").unwrap_err(), E::NotFound);
    s.delete_load_balancer("lb1").unwrap();
    assert!(s.vnf_lookup(&ul).is_none());
    assert!(!s.check_vni_in_use(q(100, VniType::Ipv4)).unwrap());
    let ids: Vec<_> = s.list_load_balancers().into_iter().map(|l| l.id).collect();
    assert_eq!(ids, ["lb2"]);
}

#[test]
fn load_balancer_limits() {
    let mut cfg = config();
    cfg.limits.load_balancers = 1;
    cfg.limits.vnis = 1;
    let mut s = State::new(cfg);
    s.create_load_balancer(lb("lb1", 1, "10.0.0.1")).unwrap();
    fails(&mut s, E::OutOfMemory, |s| {
        s.create_load_balancer(lb("lb2", 1, "10.0.0.2"))
    });
    s.delete_load_balancer("lb1").unwrap();
    s.create_interface(iface("vm1", "net_tap2", 1, "10.0.0.1", "::"))
        .unwrap();
    fails(&mut s, E::VniInit4, |s| {
        s.create_load_balancer(lb("lb2", 2, "10.0.0.2"))
    });
}

#[test]
fn load_balancer_targets() {
    let mut cfg = config();
    cfg.limits.targets_per_lb = 3;
    let mut s = State::new(cfg);
    fails(&mut s, E::NoLb, |s| {
        s.create_lb_target(&target("nope", "::"))
    });
    fails(&mut s, E::NoLb, |s| {
        s.delete_lb_target(&target("nope", "::"))
    });
    assert_eq!(s.list_lb_targets("nope").unwrap_err(), E::NoLb);
    // the family is checked before the LB
    fails(&mut s, E::BadIpVer, |s| {
        s.create_lb_target(&target("nope", "1.2.3.4"))
    });
    s.create_load_balancer(lb("lb1", 1, "10.0.0.1")).unwrap();
    s.create_load_balancer(lb("lb2", 1, "10.0.0.2")).unwrap();
    fails(&mut s, E::BadIpVer, |s| {
        s.create_lb_target(&target("lb1", "1.2.3.4"))
    });
    fails(&mut s, E::BadIpVer, |s| {
        s.delete_lb_target(&target("lb1", "1.2.3.4"))
    });
    for t in ["1234::3", "1234::1", "1234::2"] {
        s.create_lb_target(&target("lb1", t)).unwrap();
    }
    fails(&mut s, E::AlreadyExists, |s| {
        s.create_lb_target(&target("lb1", "1234::1"))
    });
    fails(&mut s, E::BackIpAdd, |s| {
        s.create_lb_target(&target("lb1", "1234::4"))
    });
    s.create_lb_target(&target("lb2", "1235::1")).unwrap();
    let listed = s.list_lb_targets("lb1").unwrap();
    assert_eq!(listed, [a6("1234::1"), a6("1234::2"), a6("1234::3")]);
    assert_eq!(s.list_lb_targets("").unwrap().len(), 4);
    let lb1 = s.load_balancers().get("lb1").unwrap();
    assert!(lb1.serves(6, 80));
    assert!(!lb1.serves(17, 80));
    let picked = *lb1.target_for(12345).unwrap();
    assert!(listed.contains(&picked));

    fails(&mut s, E::NotFound, |s| {
        s.delete_lb_target(&target("lb1", "1234::9"))
    });
    s.delete_lb_target(&target("lb1", "1234::2")).unwrap();
    assert_eq!(
        s.list_lb_targets("lb1").unwrap(),
        [a6("1234::1"), a6("1234::3")]
    );
    let lb1 = s.load_balancers().get("lb1").unwrap();
    assert!((0..1000).all(|h| lb1.target_for(h) != Some(&a6("1234::2"))));
    s.delete_lb_target(&target("lb1", "1234::1")).unwrap();
    s.delete_lb_target(&target("lb1", "1234::3")).unwrap();
    assert_eq!(s.load_balancers().get("lb1").unwrap().target_for(5), None);
}

// ---- firewall ----

#[test]
fn firewall_rules() {
    let mut s = two_vms();
    fails(&mut s, E::NoVm, |s| {
        s.create_firewall_rule("x", rule("r", FirewallAction::Accept))
    });
    fails(&mut s, E::NoVm, |s| s.delete_firewall_rule("x", "r"));
    assert_eq!(s.get_firewall_rule("x", "r").unwrap_err(), E::NoVm);
    assert_eq!(s.list_firewall_rules("x").unwrap_err(), E::NoVm);
    // DROP is refused after the interface check
    fails(&mut s, E::NoDropSupport, |s| {
        s.create_firewall_rule("vm1", rule("r1", FirewallAction::Drop))
    });
    let id = s
        .create_firewall_rule("vm1", rule("r1", FirewallAction::Accept))
        .unwrap();
    assert_eq!(id, "r1");
    // a duplicate ID is reported before DROP
    fails(&mut s, E::AlreadyExists, |s| {
        s.create_firewall_rule("vm1", rule("r1", FirewallAction::Drop))
    });
    let mut r2 = rule("r2", FirewallAction::Accept);
    r2.direction = TrafficDirection::Egress;
    r2.priority = 5;
    s.create_firewall_rule("vm1", r2.clone()).unwrap();
    s.create_firewall_rule("vm2", rule("r1", FirewallAction::Accept))
        .unwrap();
    let ids: Vec<_> = s
        .list_firewall_rules("vm1")
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["r1", "r2"]);
    assert_eq!(s.get_firewall_rule("vm1", "r2").unwrap(), r2);
    assert_eq!(s.get_firewall_rule("vm1", "r3").unwrap_err(), E::NotFound);
    fails(&mut s, E::NotFound, |s| s.delete_firewall_rule("vm1", "r3"));
    s.delete_firewall_rule("vm1", "r1").unwrap();
    assert_eq!(s.vf(2).unwrap().firewall.len(), 1);
    assert_eq!(s.vf(3).unwrap().firewall.len(), 1);
}

#[test]
fn firewall_rule_limit() {
    let mut cfg = config();
    cfg.limits.firewall_rules_per_interface = 1;
    let mut s = State::new(cfg);
    s.create_interface(iface("vm1", "net_tap2", 1, "10.0.0.1", "::"))
        .unwrap();
    s.create_firewall_rule("vm1", rule("r1", FirewallAction::Accept))
        .unwrap();
    fails(&mut s, E::OutOfMemory, |s| {
        s.create_firewall_rule("vm1", rule("r2", FirewallAction::Accept))
    });
}

// ---- capture ----

fn capture_cfg(interfaces: Vec<CapturedInterface>) -> CaptureConfig {
    CaptureConfig {
        sink_node: a6("fc00:9::1"),
        udp_src_port: 3000,
        udp_dst_port: 3001,
        interfaces,
    }
}

#[test]
fn capture_answers_not_active_without_support() {
    let mut s = two_vms();
    let cfg = capture_cfg(vec![CapturedInterface::Pf(0)]);
    fails(&mut s, E::NotActive, |s| s.capture_start(&cfg));
    fails(&mut s, E::NotActive, |s| s.capture_stop());
    assert_eq!(s.capture_status(), None);
}

#[test]
fn capture_bookkeeping_when_supported() {
    let mut cfg = config();
    cfg.capture_supported = true;
    let mut s = State::new(cfg);
    s.create_interface(iface("vm1", "net_tap3", 1, "10.0.0.1", "::"))
        .unwrap();
    s.create_interface(iface("vm2", "net_tap2", 1, "10.0.0.2", "::"))
        .unwrap();
    use CapturedInterface::{Pf, Vf};
    fails(&mut s, E::NotFound, |s| {
        s.capture_start(&capture_cfg(vec![Pf(0), Vf("nope".into())]))
    });
    fails(&mut s, E::NotFound, |s| {
        s.capture_start(&capture_cfg(vec![Pf(2)]))
    });
    fails(&mut s, E::AlreadyActive, |s| {
        s.capture_start(&capture_cfg(vec![Vf("vm1".into()), Vf("vm1".into())]))
    });
    fails(&mut s, E::NotActive, |s| s.capture_stop());
    let start = capture_cfg(vec![Vf("vm1".into()), Pf(1), Vf("vm2".into())]);
    s.capture_start(&start).unwrap();
    assert!(s.capture().is_captured(3));
    assert!(!s.capture().is_captured(0));
    fails(&mut s, E::AlreadyActive, |s| {
        s.capture_start(&capture_cfg(vec![]))
    });
    // status lists ports in port order
    let status = s.capture_status().unwrap();
    assert_eq!(
        status.interfaces,
        [Pf(1), Vf("vm2".into()), Vf("vm1".into())]
    );
    assert_eq!(status.sink_node, start.sink_node);
    s.delete_interface("vm2").unwrap();
    assert_eq!(s.capture_stop().unwrap(), 2);
    assert_eq!(s.capture_status(), None);
    // an empty list starts a capture with no ports
    s.capture_start(&capture_cfg(vec![])).unwrap();
    assert_eq!(s.capture_stop().unwrap(), 0);
}

// ---- preferred underlays ----

#[test]
fn preferred_underlays_are_used_verbatim() {
    let mut s = state();
    let iface_ul = a6("fc00:1::8000:0:1");
    let other_ul = a6("fc00:1::c000:0:2");
    let mut req = iface("vm4", "net_tap2", 100, "10.0.0.4", "::");
    req.preferred_underlay = Some(iface_ul);
    assert_eq!(s.create_interface(req).unwrap().underlay_route, iface_ul);
    let mut l = lb("lb", 100, "10.9.9.9");
    l.preferred_underlay = Some(other_ul);
    assert_eq!(s.create_load_balancer(l).unwrap(), other_ul);
    s.delete_load_balancer("lb").unwrap();
    let mut p = prefix("vm4", "1.2.3.0/24");
    p.preferred_underlay = Some(other_ul);
    assert_eq!(s.create_prefix(&p).unwrap(), other_ul);
    s.delete_prefix(&pref("vm4", "1.2.3.0/24")).unwrap();
    let mut v = vip("vm4", "172.20.0.1");
    v.preferred_underlay = Some(other_ul);
    assert_eq!(s.create_vip(&v).unwrap(), other_ul);
    s.delete_vip("vm4").unwrap();
    let mut n = nat("vm4", "172.20.0.2", 1, 2);
    n.preferred_underlay = Some(other_ul);
    assert_eq!(s.create_nat(&n).unwrap(), other_ul);
    s.delete_nat("vm4").unwrap();
    v.preferred_underlay = Some(iface_ul);
    fails(&mut s, E::VnfInsert, |s| s.create_vip(&v));
    // generated addresses never collide with preferred ones
    let next = s.create_vip(&vip("vm4", "172.20.0.1")).unwrap();
    assert_eq!(next.to_string(), "fc00:1::d000:1:0:1");
}

#[test]
fn version_counts_successful_changes_only() {
    let mut s = state();
    let v0 = s.version();
    let _ = s.delete_interface("nope");
    assert_eq!(s.version(), v0);
    s.create_interface(iface("vm1", "net_tap2", 1, "10.0.0.1", "::"))
        .unwrap();
    assert!(s.version() > v0);
}
