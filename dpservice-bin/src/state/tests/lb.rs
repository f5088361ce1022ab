//! Load balancers and targets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

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
    assert_eq!(s.list_lb_targets(Some(b"nope")).unwrap_err(), E::NoLb);
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
    let listed = s.list_lb_targets(Some(b"lb1")).unwrap();
    assert_eq!(listed, [a6("1234::1"), a6("1234::2"), a6("1234::3")]);
    assert_eq!(s.list_lb_targets(Some(b"")).unwrap().len(), 4);
    let lb1 = s.load_balancers().get(b"lb1").unwrap();
    assert!(lb1.serves(6, 80));
    assert!(!lb1.serves(17, 80));
    let picked = *lb1.target_for(12345).unwrap();
    assert!(listed.contains(&picked));

    fails(&mut s, E::NotFound, |s| {
        s.delete_lb_target(&target("lb1", "1234::9"))
    });
    s.delete_lb_target(&target("lb1", "1234::2")).unwrap();
    assert_eq!(
        s.list_lb_targets(Some(b"lb1")).unwrap(),
        [a6("1234::1"), a6("1234::3")]
    );
    let lb1 = s.load_balancers().get(b"lb1").unwrap();
    assert!((0..1000).all(|h| lb1.target_for(h) != Some(&a6("1234::2"))));
    s.delete_lb_target(&target("lb1", "1234::1")).unwrap();
    s.delete_lb_target(&target("lb1", "1234::3")).unwrap();
    assert_eq!(s.load_balancers().get(b"lb1").unwrap().target_for(5), None);
}

#[test]
fn unspecified_target_is_never_stored() {
    let mut cfg = config();
    cfg.limits.targets_per_lb = 2;
    let mut s = State::new(cfg);
    s.create_load_balancer(lb("lb1", 1, "10.0.0.1")).unwrap();
    // upstream's free slots hold `::`, so `::` is "already there" while one is free
    fails(&mut s, E::AlreadyExists, |s| {
        s.create_lb_target(&target("lb1", "::"))
    });
    s.create_lb_target(&target("lb1", "1234::1")).unwrap();
    fails(&mut s, E::AlreadyExists, |s| {
        s.create_lb_target(&target("lb1", "::"))
    });
    s.create_lb_target(&target("lb1", "1234::2")).unwrap();
    // no free slot: refused like any target of a full LB
    fails(&mut s, E::BackIpAdd, |s| {
        s.create_lb_target(&target("lb1", "::"))
    });
    fails(&mut s, E::NotFound, |s| {
        s.delete_lb_target(&target("lb1", "::"))
    });
    assert_eq!(
        s.list_lb_targets(Some(b"lb1")).unwrap(),
        [a6("1234::1"), a6("1234::2")]
    );
    assert_eq!(s.list_lb_targets(None).unwrap().len(), 2);
}
