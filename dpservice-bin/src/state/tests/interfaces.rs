//! Interfaces: creation order of checks, limits, metering, cascade on delete.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

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
    s.create_firewall_rule(fw_create("vm1", rule("r1", FirewallAction::Accept)))
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
