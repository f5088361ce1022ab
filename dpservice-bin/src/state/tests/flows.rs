//! Flow purges queued for the worker (dataplane.md §7.7).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn changes_queue_the_flows_they_make_stale() {
    let mut s = two_vms();
    s.create_vip(&vip("vm1", "172.20.0.1")).unwrap();
    s.create_nat(&nat("vm2", "172.20.0.2", 1, 100)).unwrap();
    s.create_neighbor_nat(&neigh("172.20.0.3", 100, 1, 100))
        .unwrap();
    s.create_load_balancer(lb("lb1", 100, "10.9.9.9")).unwrap();
    s.create_lb_target(&target("lb1", "1234::1")).unwrap();
    s.create_lb_target(&target("lb1", "1234::2")).unwrap();
    // creating makes nothing stale
    assert!(s.take_flow_purges().is_empty());

    // failed calls queue nothing
    let _ = s.delete_vip("vm2");
    let _ = s.delete_lb_target(&target("lb1", "1234::9"));
    assert!(s.take_flow_purges().is_empty());

    s.delete_vip("vm1").unwrap();
    s.delete_lb_target(&target("lb1", "1234::1")).unwrap();
    s.delete_neighbor_nat(&neigh_key("172.20.0.3", 100, 1, 100))
        .unwrap();
    assert_eq!(
        s.take_flow_purges(),
        [
            FlowPurge::Vip { port: 2 },
            FlowPurge::LbTarget {
                target: a6("1234::1")
            },
            FlowPurge::NeighborNat {
                vni: 100,
                ip: a4("172.20.0.3"),
                min_port: 1,
                max_port: 100
            },
        ]
    );
    assert!(s.take_flow_purges().is_empty());

    // an interface takes its NAT's flows along; an LB its targets'
    s.delete_interface("vm2").unwrap();
    s.delete_load_balancer("lb1").unwrap();
    assert_eq!(
        s.take_flow_purges(),
        [
            FlowPurge::Nat { port: 3 },
            FlowPurge::Interface {
                port: 3,
                vni: 100,
                ipv4: Some(a4("10.0.0.2"))
            },
            FlowPurge::LbTarget {
                target: a6("1234::2")
            },
        ]
    );

    // neighbour ranges that Initialize forgets
    s.create_neighbor_nat(&neigh("172.20.0.3", 7, 5, 6))
        .unwrap();
    s.initialize().unwrap();
    assert_eq!(
        s.take_flow_purges(),
        [FlowPurge::NeighborNat {
            vni: 7,
            ip: a4("172.20.0.3"),
            min_port: 5,
            max_port: 6
        }]
    );
}
