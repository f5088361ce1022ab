//! VIPs, NATs and neighbour NATs, with their DNAT entries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

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
    // the DNAT entry goes with the first NAT deleted, although vm2 still uses the
    // address (upstream: only neighbour ranges keep it)
    s.delete_nat("vm1").unwrap();
    assert!(s.vnf_lookup(&ul).is_none());
    assert!(s.nat_tables().dnat_lookup(100, a4("172.20.0.2")).is_none());
    assert_eq!(s.get_nat("vm2").unwrap().ip, ip("172.20.0.2"));
    s.delete_nat("vm2").unwrap();
    assert!(s.nat_tables().dnat_lookup(100, a4("172.20.0.2")).is_none());
}

/// Upstream's DNAT bookkeeping, entry by entry (dataplane.md §8.3.4).
#[test]
fn dnat_entries_follow_upstream() {
    let mut s = two_vms();
    let entry = |s: &State, vni, addr| s.nat_tables().dnat_lookup(vni, a4(addr)).copied();
    // a shared NAT address: deleting one NAT frees the address for a VIP while the
    // other NAT stays
    s.create_nat(&nat("vm1", "172.20.0.2", 100, 200)).unwrap();
    s.create_nat(&nat("vm2", "172.20.0.2", 200, 300)).unwrap();
    s.delete_nat("vm2").unwrap();
    assert_eq!(entry(&s, 100, "172.20.0.2"), None);
    s.create_vip(&vip("vm2", "172.20.0.2")).unwrap();
    // the remaining NAT's deletion takes the VIP's entry along
    s.delete_nat("vm1").unwrap();
    assert_eq!(entry(&s, 100, "172.20.0.2"), None);
    s.delete_vip("vm2").unwrap();

    // a NAT on an address that already has an entry (a VIP's) leaves it as it is...
    s.create_vip(&vip("vm2", "172.20.0.3")).unwrap();
    s.create_nat(&nat("vm1", "172.20.0.3", 100, 200)).unwrap();
    assert!(matches!(
        entry(&s, 100, "172.20.0.3"),
        Some(DnatTarget::Vip { port: 3, .. })
    ));
    // ...and DeleteVip removes it although the NAT still uses the address
    s.delete_vip("vm2").unwrap();
    assert_eq!(entry(&s, 100, "172.20.0.3"), None);
    s.delete_nat("vm1").unwrap();

    // a neighbour range of the address in the VNI keeps the entry (one in another VNI
    // does not count)...
    s.create_nat(&nat("vm1", "172.20.0.4", 100, 200)).unwrap();
    s.create_nat(&nat("vm2", "172.20.0.4", 200, 300)).unwrap();
    s.create_neighbor_nat(&neigh("172.20.0.4", 100, 1000, 2000))
        .unwrap();
    s.create_neighbor_nat(&neigh("172.20.0.4", 7, 2000, 3000))
        .unwrap();
    s.delete_nat("vm1").unwrap();
    assert_eq!(entry(&s, 100, "172.20.0.4"), Some(DnatTarget::Network));
    // ...and deleting the last one removes it, local NATs not considered
    s.delete_neighbor_nat(&neigh_key("172.20.0.4", 100, 1000, 2000))
        .unwrap();
    assert_eq!(entry(&s, 100, "172.20.0.4"), None);
    assert_eq!(s.list_local_nats(Some(ip("172.20.0.4"))).unwrap().len(), 1);
    assert_eq!(entry(&s, 7, "172.20.0.4"), Some(DnatTarget::Network));
    // the next user of the address creates it again
    s.create_nat(&nat("vm1", "172.20.0.4", 100, 200)).unwrap();
    assert_eq!(entry(&s, 100, "172.20.0.4"), Some(DnatTarget::Network));
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
        s.list_local_nats(Some(ip(f)))
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
    assert_eq!(s.list_local_nats(None).unwrap().len(), 3);
    assert_eq!(all[0].0, 50);
    assert!(show(&s, "9.9.9.9").is_empty());
    assert_eq!(
        s.list_local_nats(Some(ip("1234::1"))).unwrap_err(),
        E::BadIpVer
    );
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
        s.list_neighbor_nats(Some(ip("1234::1"))).unwrap_err(),
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
        .list_neighbor_nats(Some(ip("172.20.0.2")))
        .unwrap()
        .iter()
        .map(|e| (e.min_port, e.max_port))
        .collect();
    assert_eq!(listed, [(100, 200), (200, 201)]);
    assert_eq!(s.list_neighbor_nats(Some(ip("0.0.0.0"))).unwrap().len(), 3);
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

#[test]
fn dnat_and_neighbor_limits() {
    let mut cfg = config();
    cfg.limits.dnat_entries = 2;
    cfg.limits.neighbor_nats = 3;
    let mut s = State::new(cfg);
    s.create_interface(iface("vm1", "net_tap2", 1, "10.0.0.1", "::"))
        .unwrap();
    s.create_interface(iface("vm2", "net_tap3", 1, "10.0.0.2", "::"))
        .unwrap();
    s.create_vip(&vip("vm1", "172.20.0.1")).unwrap();
    s.create_neighbor_nat(&neigh("172.20.0.2", 1, 1, 2))
        .unwrap();
    // a new address needs a new DNAT entry: no room
    fails(&mut s, E::DnatCreate, |s| {
        s.create_vip(&vip("vm2", "172.20.0.3"))
    });
    fails(&mut s, E::DnatCreate, |s| {
        s.create_nat(&nat("vm2", "172.20.0.3", 1, 2))
    });
    fails(&mut s, E::DnatCreate, |s| {
        s.create_neighbor_nat(&neigh("172.20.0.3", 1, 1, 2))
    });
    // an address that is already translated shares its entry
    s.create_nat(&nat("vm2", "172.20.0.2", 2, 3)).unwrap();
    s.create_neighbor_nat(&neigh("172.20.0.2", 1, 3, 4))
        .unwrap();
    s.create_neighbor_nat(&neigh("172.20.0.2", 1, 4, 5))
        .unwrap();
    fails(&mut s, E::OutOfMemory, |s| {
        s.create_neighbor_nat(&neigh("172.20.0.2", 1, 5, 6))
    });
}
