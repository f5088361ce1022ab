//! Alias and load-balancer prefixes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

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

/// Lengths beyond the family fit 8 bits, so they reach the routing table, which refuses
/// them as upstream's does (grpc-api.md §8.3, §10.2).
#[test]
fn alias_prefix_lengths_beyond_the_family() {
    let mut s = two_vms();
    s.create_prefix(&prefix("vm1", "1.2.3.0/24")).unwrap();
    for p in ["1.2.3.0/33", "1.2.3.0/255", "1234::/129", "1234::/255"] {
        // the interface is looked up first
        fails(&mut s, E::NoVm, |s| s.create_prefix(&prefix("nope", p)));
        fails(&mut s, E::NoVm, |s| s.delete_prefix(&pref("nope", p)));
        fails(&mut s, E::RouteInsert, |s| {
            s.create_prefix(&prefix("vm1", p))
        });
        fails(&mut s, E::RouteNotFound, |s| {
            s.delete_prefix(&pref("vm1", p))
        });
    }
    // 303 comes before the underlay (401)
    let mut p = prefix("vm2", "5.5.5.0/33");
    p.preferred_underlay = Some(s.get_interface("vm1").unwrap().underlay_route);
    fails(&mut s, E::RouteInsert, |s| s.create_prefix(&p));
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
