//! Routes, CheckVniInUse, ResetVni.

use dpservice::proto;

use super::*;

#[test]
fn routes() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        c.create_route(&route(100, "1.2.3.4/24", "fc00:2::1"))
            .await
            .unwrap();
        fails!(c, c.create_route(&route(100, "1.2.3.4/24", "fc00:2::1")), service RouteExists);
        fails!(c, c.create_route(&route(100, "1.2.3.255/24", "fc00:2::1")), service RouteExists);
        fails!(c, c.create_route(&route(100, "10.0.0.1/32", "fc00:2::1")), service RouteExists);
        fails!(c, c.create_route(&route(100, "4.5.6.7/32", "1.2.3.4")), service BadIpVer);
        fails!(c, c.create_route(&route(999, "0.0.0.0/0", "fc00:2::1")), service NoVni);
        fails!(c, c.list_routes(Some(999)), service NoVni);
        fails!(c, c.delete_route(&route_key(999, "0.0.0.0/0")), service NoVni);
        fails!(c, c.delete_route(&route_key(100, "10.0.0.1/32")), service RouteBadPort);
        fails!(c, c.delete_route(&route_key(100, "9.0.0.0/8")), service RouteNotFound);
        c.create_route(&route(100, "1.2.3.4/25", "fc00:2::1"))
            .await
            .unwrap();
        c.delete_route(&route_key(100, "1.2.3.4/25")).await.unwrap();
        c.delete_route(&route_key(100, "1.2.3.0/24")).await.unwrap();
        fails!(c, c.delete_route(&route_key(100, "1.2.3.4/24")), service RouteNotFound);
        // IPv6 routes exist (a second create conflicts) but are not listed
        c.create_route(&route(100, "2002::/64", "fc00:2::1"))
            .await
            .unwrap();
        fails!(c, c.create_route(&route(100, "2002::/64", "fc00:2::1")), service RouteExists);
        assert!(c.list_routes(Some(100)).await.unwrap().is_empty());
        c.delete_route(&route_key(100, "2002::/64")).await.unwrap();
    });
}

#[test]
fn route_listing() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        c.create_load_balancer(&lb("lb7", 7, "10.9.9.9"))
            .await
            .unwrap();
        c.create_route(&route(7, "8.8.8.0/24", "fc00:3::1"))
            .await
            .unwrap();
        for p in [
            "192.168.2.0/24",
            "0.0.0.0/0",
            "192.168.0.0/16",
            "10.1.0.0/16",
        ] {
            c.create_route(&route(100, p, "fc00:2::1")).await.unwrap();
        }
        // upstream's test_grpc_multireply: 64 more, plus IPv6 ones that stay invisible
        for subnet in 30..94 {
            c.create_route(&route(100, &format!("192.169.{subnet}.0/32"), "fc00:2::1"))
                .await
                .unwrap();
        }
        c.create_route(&route(100, "2002::/64", "fc00:2::1"))
            .await
            .unwrap();
        c.create_route(&route(100, "2003::/64", "fc00:2::1"))
            .await
            .unwrap();
        let listed = c.list_routes(Some(100)).await.unwrap();
        assert_eq!(listed.len(), 68);
        let first: Vec<String> = listed[..5].iter().map(|r| r.prefix.to_string()).collect();
        assert_eq!(
            first,
            [
                "0.0.0.0/0",
                "10.1.0.0/16",
                "192.168.0.0/16",
                "192.168.2.0/24",
                "192.169.30.0/32"
            ]
        );
        assert!(listed
            .iter()
            .all(|r| r.vni == 100 && r.nexthop == ip("fc00:2::1")));
        // every VNI, ascending by VNI (the wire carries no VNI per route)
        let all = c.list_routes(None).await.unwrap();
        assert_eq!(all.len(), 69);
        assert_eq!(all[0].prefix.to_string(), "8.8.8.0/24");
        assert_eq!(all[1].prefix.to_string(), "0.0.0.0/0");
        // deleting the first and adding it back restores the list (test_grpc_route_list)
        c.delete_route(&route_key(100, "0.0.0.0/0")).await.unwrap();
        assert_eq!(c.list_routes(Some(100)).await.unwrap()[..], listed[1..]);
        c.create_route(&listed[0]).await.unwrap();
        assert_eq!(c.list_routes(Some(100)).await.unwrap(), listed);
    });
}

#[test]
fn vni_in_use_and_reset() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        assert!(c
            .check_vni_in_use(&vni_q(100, VniType::Ipv4))
            .await
            .unwrap());
        assert!(c
            .check_vni_in_use(&vni_q(100, VniType::Ipv6))
            .await
            .unwrap());
        assert!(!c
            .check_vni_in_use(&vni_q(999, VniType::Ipv4))
            .await
            .unwrap());
        fails!(c, c.check_vni_in_use(&vni_q(100, VniType::Both)), service WrongType);
        fails!(c, c.reset_vni(&vni_q(100, VniType::Ipv4)), service WrongType);
        fails!(c, c.reset_vni(&vni_q(100, VniType::Ipv6)), service WrongType);
        c.create_route(&route(100, "0.0.0.0/0", "fc00:2::1"))
            .await
            .unwrap();
        c.create_prefix(&prefix("vm1", "1.2.3.0/24")).await.unwrap();
        // an unknown VNI is nothing to do
        c.reset_vni(&vni_q(999, VniType::Both)).await.unwrap();
        assert_eq!(c.list_routes(Some(100)).await.unwrap().len(), 1);
        c.reset_vni(&vni_q(100, VniType::Both)).await.unwrap();
        assert!(c.list_routes(Some(100)).await.unwrap().is_empty());
        // interface routes are back, the alias prefix route is not
        fails!(c, c.create_route(&route(100, "10.0.0.2/32", "fc00:2::1")), service RouteExists);
        c.create_route(&route(100, "1.2.3.0/24", "fc00:2::1"))
            .await
            .unwrap();
        // the alias record stays listed (as upstream)
        assert_eq!(c.list_prefixes("vm1").await.unwrap().len(), 1);
    });
}

/// Up to 255 the length reaches the routing table, which refuses what is beyond the
/// family, after the next hop's family and the VNI (grpc-api.md §8.9, §10.2); beyond
/// 255 the gRPC layer does, before it looks at the address.
#[test]
fn route_lengths_beyond_the_family() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        c.create_route(&route(100, "1.2.3.0/24", "fc00:2::1"))
            .await
            .unwrap();
        for p in ["1.2.3.0/33", "0.0.0.0/255", "2002::/129", "::/255"] {
            fails!(c, c.create_route(&route(999, p, "1.2.3.4")), service BadIpVer);
            fails!(c, c.create_route(&route(999, p, "fc00:2::1")), service NoVni);
            fails!(c, c.create_route(&route(100, p, "fc00:2::1")), service RouteInsert);
            fails!(c, c.delete_route(&route_key(999, p)), service NoVni);
            fails!(c, c.delete_route(&route_key(100, p)), service RouteNotFound);
        }
        let wire = |addr: &str, length| proto::Route {
            prefix: Some(raw_prefix(addr, length)),
            nexthop_vni: 0,
            nexthop_address: Some(proto::IpAddress {
                ipver: 1,
                address: b"fc00:2::1".to_vec(),
            }),
            weight: 0,
        };
        let create = |vni, addr: &str, length| proto::CreateRouteRequest {
            vni,
            route: Some(wire(addr, length)),
        };
        let delete = |vni, addr: &str, length| proto::DeleteRouteRequest {
            vni,
            route: Some(wire(addr, length)),
        };
        fails!(c, async { raw_outcome(c.raw().create_route(create(100, "1.2.3.0", 256)).await) },
            invalid "Invalid route.prefix.length");
        // the length is checked before the address
        fails!(c, async { raw_outcome(c.raw().create_route(create(999, "1.2.3", 1 << 20)).await) },
            invalid "Invalid route.prefix.length");
        fails!(c, async { raw_outcome(c.raw().delete_route(delete(100, "2002::", 256)).await) },
            invalid "Invalid route.prefix.length");
        fails!(c, async { raw_outcome(c.raw().create_route(create(100, "1.2.3", 32)).await) },
            invalid "Invalid route.prefix.ip");
    });
}
