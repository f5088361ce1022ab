//! Routes, VNI lifetime, Initialize, ResetVni, CheckVniInUse.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

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
    assert_eq!(s.list_neighbor_nats(Some(ip("0.0.0.0"))).unwrap().len(), 1);
    assert_eq!(s.list_routes(Some(100)).unwrap().len(), 1);
    s.delete_load_balancer("lb1").unwrap();
    assert!(!s.check_vni_in_use(q(100, VniType::Ipv4)).unwrap());
    assert_eq!(s.list_routes(Some(100)).unwrap_err(), E::NoVni);
    fails(&mut s, E::NotFound, |s| {
        s.delete_neighbor_nat(&neigh_key("172.20.0.2", 100, 1000, 2000))
    });
    // a new user of the VNI starts with empty tables, and the former NAT IP is free
    s.create_interface(iface("vm1", "net_tap2", 100, "10.0.0.1", "::"))
        .unwrap();
    assert!(s.list_routes(Some(100)).unwrap().is_empty());
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
    let left = s.list_neighbor_nats(Some(ip("0.0.0.0"))).unwrap();
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
    s.create_neighbor_nat(&neigh("172.20.0.8", 0, 1, 2))
        .unwrap();
    s.initialize().unwrap();
    assert!(s.is_initialized());
    assert!(s.list_routes(Some(100)).unwrap().is_empty());
    assert_eq!(s.route_lookup(100, ip("2002::1")), None);
    assert_eq!(s.route_lookup(100, ip("1.2.3.1")), None);
    // interface routes are back
    assert_eq!(local_port(&s, 100, "10.0.0.1"), Some(2));
    assert_eq!(local_port(&s, 100, "2001::2"), Some(3));
    assert!(s
        .list_neighbor_nats(Some(ip("0.0.0.0")))
        .unwrap()
        .is_empty());
    // DNAT entries go only for VNI 0, upstream's "all VNIs" wildcard (dataplane.md
    // §8.3.4): the address stays taken for VIPs in VNI 100
    assert!(s.nat_tables().dnat_lookup(0, a4("172.20.0.8")).is_none());
    assert!(s.nat_tables().dnat_lookup(100, a4("172.20.0.9")).is_some());
    fails(&mut s, E::DnatExists, |s| {
        s.create_vip(&vip("vm1", "172.20.0.9"))
    });
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
    assert!(s.list_routes(Some(100)).unwrap().is_empty());
    assert_eq!(s.list_routes(Some(200)).unwrap().len(), 1);
    assert_eq!(local_port(&s, 100, "10.0.0.1"), Some(2));
    assert_eq!(local_port(&s, 200, "10.0.0.1"), Some(4));
    assert!(s.check_vni_in_use(q(200, VniType::Ipv6)).unwrap());
    assert!(!s.check_vni_in_use(q(999, VniType::Ipv4)).unwrap());
}

// ---- routes ----

/// Lengths beyond the family fit 8 bits, so they reach the routing table, which refuses
/// them as upstream's does: after the next hop's family and the VNI (grpc-api.md §8.9,
/// §10.2).
#[test]
fn route_lengths_beyond_the_family() {
    let mut s = two_vms();
    s.create_route(&route(100, "1.2.3.0/24", "fc00:2::1"))
        .unwrap();
    for p in ["1.2.3.0/33", "0.0.0.0/255", "2002::/129", "::/255"] {
        fails(&mut s, E::BadIpVer, |s| {
            s.create_route(&route(999, p, "1.2.3.4"))
        });
        fails(&mut s, E::NoVni, |s| {
            s.create_route(&route(999, p, "fc00:2::1"))
        });
        fails(&mut s, E::RouteInsert, |s| {
            s.create_route(&route(100, p, "fc00:2::1"))
        });
        let key = |vni| RouteKey {
            vni,
            prefix: rpfx(p),
        };
        fails(&mut s, E::NoVni, |s| s.delete_route(&key(999)));
        fails(&mut s, E::RouteNotFound, |s| s.delete_route(&key(100)));
    }
}

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
        prefix: rpfx(p),
    };
    fails(&mut s, E::RouteBadPort, |s| {
        s.delete_route(&key("10.0.0.1/32"))
    });
    fails(&mut s, E::NoVni, |s| {
        s.delete_route(&RouteKey {
            vni: 999,
            prefix: rpfx("0.0.0.0/0"),
        })
    });
    s.delete_route(&key("1.2.3.0/24")).unwrap();
    fails(&mut s, E::RouteNotFound, |s| {
        s.delete_route(&key("1.2.3.4/24"))
    });
    assert_eq!(s.list_routes(Some(999)).unwrap_err(), E::NoVni);
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
        .list_routes(Some(100))
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
        .list_routes(None)
        .unwrap()
        .iter()
        .map(|r| (r.vni, r.prefix.to_string()))
        .collect();
    assert_eq!(all.len(), 5);
    assert_eq!(all[0], (7, "8.8.8.0/24".to_string()));
    // deleting the first and re-adding it restores the list (upstream's list test)
    let before = s.list_routes(Some(100)).unwrap();
    s.delete_route(&RouteKey {
        vni: 100,
        prefix: rpfx("0.0.0.0/0"),
    })
    .unwrap();
    assert_eq!(s.list_routes(Some(100)).unwrap()[..], before[1..]);
    s.create_route(&before[0]).unwrap();
    assert_eq!(s.list_routes(Some(100)).unwrap(), before);
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
