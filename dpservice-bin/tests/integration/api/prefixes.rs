//! Alias prefixes and load-balancer prefixes.

use dpservice::proto;

use super::*;

#[test]
fn alias_prefixes() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        fails!(c, c.create_prefix(&prefix("nope", "1.2.3.0/24")), service NoVm);
        fails!(c, c.delete_prefix(&pref("nope", "1.2.3.0/24")), service NoVm);
        fails!(c, c.list_prefixes("nope"), service NoVm);
        fails!(c, c.list_prefixes(""), invalid "Invalid interface_id");

        let ul1 = c.create_prefix(&prefix("vm1", "1.2.3.0/24")).await.unwrap();
        let ul2 = c
            .create_prefix(&prefix("vm1", "1234:1::/64"))
            .await
            .unwrap();
        let listed: Vec<_> = c
            .list_prefixes("vm1")
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.prefix, p.underlay_route))
            .collect();
        assert_eq!(
            listed,
            [(pfx("1.2.3.0/24"), ul1), (pfx("1234:1::/64"), ul2)]
        );

        fails!(c, c.create_prefix(&prefix("vm1", "1.2.3.0/24")), service RouteExists);
        // masked: the same network with other host bits exists
        fails!(c, c.create_prefix(&prefix("vm2", "1.2.3.9/24")), service RouteExists);
        // an interface's own /32 is a route of the VNI
        fails!(c, c.create_prefix(&prefix("vm1", "10.0.0.2/32")), service RouteExists);
        let mut p = prefix("vm2", "5.5.5.0/24");
        p.preferred_underlay = Some(ul1);
        fails!(c, c.create_prefix(&p), invalid "Invalid preferred_underlay_route");
        p.preferred_underlay = Some(a6("fc00:1::8000:0:5"));
        c.create_vip(&CreateVip {
            preferred_underlay: Some(a6("fc00:1::8000:0:5")),
            ..vip("vm1", "172.20.0.1")
        })
        .await
        .unwrap();
        fails!(c, c.create_prefix(&p), service VnfInsert);

        fails!(c, c.delete_prefix(&pref("vm2", "1.2.3.0/24")), service RouteBadPort);
        fails!(c, c.delete_prefix(&pref("vm1", "10.0.0.2/32")), service RouteBadPort);
        fails!(c, c.delete_prefix(&pref("vm1", "9.9.9.0/24")), service RouteNotFound);
        fails!(c, c.delete_prefix(&pref("vm1", "1.2.3.4/24")), service NotFound);
        c.delete_prefix(&pref("vm1", "1.2.3.0/24")).await.unwrap();
        fails!(c, c.delete_prefix(&pref("vm1", "1.2.3.0/24")), service RouteNotFound);
        // deleted: the route is free for another interface
        c.create_prefix(&prefix("vm2", "1.2.3.0/24")).await.unwrap();
        let left = c.list_prefixes("vm1").await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].underlay_route, ul2);
    });
}

#[test]
fn load_balancer_prefixes() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        fails!(c, c.create_load_balancer_prefix(&prefix("nope", "1.2.3.0/24")), service NoVm);
        fails!(c, c.delete_load_balancer_prefix(&pref("nope", "1.2.3.0/24")), service NoVm);
        fails!(c, c.list_load_balancer_prefixes("nope"), service NoVm);
        let ul1 = c
            .create_load_balancer_prefix(&prefix("vm1", "1.2.3.4/24"))
            .await
            .unwrap();
        let ul2 = c
            .create_load_balancer_prefix(&prefix("vm1", "1234::/64"))
            .await
            .unwrap();
        fails!(c, c.create_load_balancer_prefix(&prefix("vm1", "1.2.3.4/24")),
            service AlreadyExists);
        // no route: the same prefix as an alias prefix still works
        c.create_prefix(&prefix("vm2", "1.2.3.0/24")).await.unwrap();
        let mut p = prefix("vm1", "7.7.7.0/24");
        p.preferred_underlay = Some(a6("fc00:1::8000:0:7"));
        c.create_load_balancer_prefix(&p).await.unwrap();
        p.prefix = pfx("7.7.8.0/24");
        fails!(c, c.create_load_balancer_prefix(&p), service VnfInsert);
        // listed and deleted as given
        let listed = c.list_load_balancer_prefixes("vm1").await.unwrap();
        assert_eq!(listed[0].prefix.to_string(), "1.2.3.4/24");
        assert_eq!(listed[0].underlay_route, ul1);
        assert_eq!(listed[1].underlay_route, ul2);
        fails!(c, c.delete_load_balancer_prefix(&pref("vm1", "1.2.3.0/24")), service NotFound);
        c.delete_load_balancer_prefix(&pref("vm1", "1.2.3.4/24"))
            .await
            .unwrap();
        fails!(c, c.delete_load_balancer_prefix(&pref("vm1", "1.2.3.4/24")), service NotFound);
        assert_eq!(c.list_load_balancer_prefixes("vm1").await.unwrap().len(), 2);
    });
}

/// Up to 255 the length reaches the routing table, which refuses what is beyond the
/// family (grpc-api.md §8.3, §10.2); beyond 255 the gRPC layer does.
#[test]
fn alias_prefix_lengths_beyond_the_family() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        c.create_prefix(&prefix("vm1", "1.2.3.0/24")).await.unwrap();
        for p in ["1.2.3.0/33", "1.2.3.0/255", "1234::/129", "1234::/255"] {
            fails!(c, c.create_prefix(&prefix("nope", p)), service NoVm);
            fails!(c, c.create_prefix(&prefix("vm1", p)), service RouteInsert);
            fails!(c, c.delete_prefix(&pref("nope", p)), service NoVm);
            fails!(c, c.delete_prefix(&pref("vm1", p)), service RouteNotFound);
            // validation still comes first
            let mut bad = prefix("vm1", p);
            bad.preferred_underlay = Some(a6("fc00:1::d000:1:0:1"));
            fails!(c, c.create_prefix(&bad), invalid "Invalid preferred_underlay_route");
        }
        let create = |interface_id: &str, length| proto::CreatePrefixRequest {
            interface_id: interface_id.into(),
            prefix: Some(raw_prefix("1.2.3.0", length)),
            preferred_underlay_route: Vec::new(),
        };
        let delete = |length| proto::DeletePrefixRequest {
            interface_id: b"vm1".to_vec(),
            prefix: Some(raw_prefix("1234::", length)),
        };
        fails!(c, async { raw_outcome(c.raw().create_prefix(create("vm1", 256)).await) },
            invalid "Invalid prefix.length");
        // before the interface lookup
        fails!(c, async { raw_outcome(c.raw().create_prefix(create("nope", 1 << 20)).await) },
            invalid "Invalid prefix.length");
        fails!(c, async { raw_outcome(c.raw().delete_prefix(delete(256)).await) },
            invalid "Invalid prefix.length");
    });
}

/// LB prefixes get no route; their length is checked against the family at the gRPC
/// layer (our hardening of upstream, which stores any length: grpc-api.md §10.2).
#[test]
fn load_balancer_prefix_lengths_beyond_the_family() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        for (addr, length) in [("1.2.3.0", 33), ("1.2.3.0", 256), ("1234::", 129)] {
            let create = proto::CreateLoadBalancerPrefixRequest {
                interface_id: b"vm1".to_vec(),
                prefix: Some(raw_prefix(addr, length)),
                preferred_underlay_route: Vec::new(),
            };
            fails!(c, async { raw_outcome(c.raw().create_load_balancer_prefix(create).await) },
                invalid "Invalid prefix.length");
            let delete = proto::DeleteLoadBalancerPrefixRequest {
                interface_id: b"vm1".to_vec(),
                prefix: Some(raw_prefix(addr, length)),
            };
            fails!(c, async { raw_outcome(c.raw().delete_load_balancer_prefix(delete).await) },
                invalid "Invalid prefix.length");
        }
    });
}
