//! Upstream's table sizes are reached with upstream's codes (grpc-api.md §10.9).

use super::*;

#[test]
fn capacities() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        // 256 load balancers, 64 targets each
        for i in 0..256u32 {
            let addr = format!("10.{}.{}.1", i / 256, i % 256);
            c.create_load_balancer(&lb(&format!("lb{i}"), 1, &addr))
                .await
                .unwrap();
        }
        fails!(c, c.create_load_balancer(&lb("lb256", 1, "11.0.0.1")), service OutOfMemory);
        for i in 1..=64u32 {
            c.create_load_balancer_target(&target("lb0", &format!("1234::{i:x}")))
                .await
                .unwrap();
        }
        fails!(c, c.create_load_balancer_target(&target("lb0", "1235::1")), service BackIpAdd);
        // `::` too, once no slot is free (see lb.rs for the other case)
        fails!(c, c.create_load_balancer_target(&target("lb0", "::")), service BackIpAdd);

        // 1024 routes per VNI and family
        for i in 0..1024u32 {
            let p = format!("172.{}.{}.0/24", 16 + i / 256, i % 256);
            c.create_route(&route(1, &p, "fc00:2::1")).await.unwrap();
        }
        fails!(c, c.create_route(&route(1, "9.9.9.0/24", "fc00:2::1")), service RouteInsert);
        // the IPv6 table has its own room
        c.create_route(&route(1, "2002::/64", "fc00:2::1"))
            .await
            .unwrap();

        // an interface's own /32 needs room in the table too
        fails!(c, c.create_interface(&iface("vm1", VF0, 1, "192.168.0.1", "::")),
            service RouteInsert);

        // 1000 underlays in all: 256 LBs so far, fill up with LB prefixes
        c.create_interface(&iface("vm1", VF0, 2, "192.168.0.1", "::"))
            .await
            .unwrap();
        for i in 0..(1000 - 256 - 1) {
            let p = format!("100.{}.{}.0/24", i / 256, i % 256);
            c.create_load_balancer_prefix(&prefix("vm1", &p))
                .await
                .unwrap();
        }
        fails!(c, c.create_load_balancer_prefix(&prefix("vm1", "101.0.0.0/24")),
            service VnfInsert);
        fails!(c, c.create_vip(&vip("vm1", "172.30.0.1")), service VnfInsert);
    });
}
