//! VIPs, NATs, neighbour NATs and the VNI purge of neighbour NATs and DNAT entries.

use super::*;

#[test]
fn vips() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        fails!(c, c.create_vip(&vip("nope", "172.20.0.1")), service NoVm);
        fails!(c, c.create_vip(&vip("vm1", "1234::1")), service BadIpVer);
        fails!(c, c.get_vip("nope"), service NoVm);
        fails!(c, c.delete_vip("nope"), service NoVm);
        fails!(c, c.get_vip("vm1"), service SnatNoData);
        fails!(c, c.delete_vip("vm1"), service SnatNoData);
        let ul = c.create_vip(&vip("vm1", "172.20.0.1")).await.unwrap();
        let got = c.get_vip("vm1").await.unwrap();
        assert_eq!((got.ip, got.underlay_route), (ip("172.20.0.1"), ul));
        fails!(c, c.create_vip(&vip("vm1", "172.20.0.9")), service SnatExists);
        // the address is already translated in the VNI
        fails!(c, c.create_vip(&vip("vm2", "172.20.0.1")), service DnatExists);
        let mut v = vip("vm2", "172.20.0.9");
        v.preferred_underlay = Some(a6("fc00:1::8000:0:1"));
        c.create_nat(&CreateNat {
            preferred_underlay: Some(a6("fc00:1::8000:0:1")),
            ..nat("vm1", "172.20.0.2", 1, 100)
        })
        .await
        .unwrap();
        fails!(c, c.create_vip(&v), service VnfInsert);
        // NAT and neighbour NAT addresses are taken too
        fails!(c, c.create_vip(&vip("vm2", "172.20.0.2")), service DnatExists);
        c.create_neighbor_nat(&neigh("172.20.0.3", 100, 1, 2))
            .await
            .unwrap();
        fails!(c, c.create_vip(&vip("vm2", "172.20.0.3")), service DnatExists);
        c.delete_vip("vm1").await.unwrap();
        fails!(c, c.get_vip("vm1"), service SnatNoData);
        c.create_vip(&vip("vm2", "172.20.0.1")).await.unwrap();
    });
}

#[test]
fn nats() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        fails!(c, c.create_nat(&nat("nope", "172.20.0.2", 100, 200)), service NoVm);
        fails!(c, c.create_nat(&nat("vm1", "1234::1", 100, 200)), service BadIpVer);
        fails!(c, c.create_nat(&nat("vm1", "172.20.0.2", 200, 200)), invalid "Invalid port range");
        fails!(c, c.get_nat("nope"), service NoVm);
        fails!(c, c.delete_nat("nope"), service NoVm);
        fails!(c, c.get_nat("vm1"), service SnatNoData);
        fails!(c, c.delete_nat("vm1"), service SnatNoData);
        fails!(c, c.list_local_nats(Some(ip("1234::1"))), service BadIpVer);

        let ul = c
            .create_nat(&nat("vm1", "172.20.0.2", 100, 200))
            .await
            .unwrap();
        let got = c.get_nat("vm1").await.unwrap();
        assert_eq!(
            (got.ip, got.min_port, got.max_port, got.underlay_route),
            (ip("172.20.0.2"), 100, 200, ul)
        );
        fails!(c, c.create_nat(&nat("vm1", "172.20.0.2", 200, 300)), service SnatExists);
        // interfaces share the address
        c.create_nat(&nat("vm2", "172.20.0.2", 200, 300))
            .await
            .unwrap();
        // newest first within the VNI (upstream's test_grpc_nat_list)
        let listed: Vec<_> = c
            .list_local_nats(Some(ip("172.20.0.2")))
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, e.min_port))
            .collect();
        assert_eq!(
            listed,
            [
                (
                    dpservice::model::NatKind::Local {
                        interface_ip: a4("10.0.0.2")
                    },
                    200
                ),
                (
                    dpservice::model::NatKind::Local {
                        interface_ip: a4("10.0.0.1")
                    },
                    100
                ),
            ]
        );
        assert!(c
            .list_local_nats(Some(ip("9.9.9.9")))
            .await
            .unwrap()
            .is_empty());
        assert_eq!(c.list_local_nats(None).await.unwrap().len(), 2);
        // DeleteNat removes the address's DNAT entry although vm2 still uses it
        // (upstream; grpc-api.md §8.8): the address is free for a VIP again
        c.delete_nat("vm1").await.unwrap();
        assert_eq!(c.get_nat("vm2").await.unwrap().ip, ip("172.20.0.2"));
        c.create_vip(&vip("vm1", "172.20.0.2")).await.unwrap();
        c.delete_vip("vm1").await.unwrap();
        c.delete_nat("vm2").await.unwrap();
        c.create_vip(&vip("vm1", "172.20.0.2")).await.unwrap();
    });
}

#[test]
fn nat_address_kept_only_by_neighbor_ranges() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        c.create_nat(&nat("vm1", "172.20.0.2", 100, 200))
            .await
            .unwrap();
        c.create_nat(&nat("vm2", "172.20.0.2", 200, 300))
            .await
            .unwrap();
        // a neighbour range of the address in another VNI does not keep the entry...
        c.create_neighbor_nat(&neigh("172.20.0.2", 7, 2000, 3000))
            .await
            .unwrap();
        c.delete_nat("vm2").await.unwrap();
        c.create_vip(&vip("vm2", "172.20.0.2")).await.unwrap();
        c.delete_vip("vm2").await.unwrap();
        // ...one in the interface's VNI does
        c.create_nat(&nat("vm2", "172.20.0.2", 200, 300))
            .await
            .unwrap();
        c.create_neighbor_nat(&neigh("172.20.0.2", 100, 1000, 2000))
            .await
            .unwrap();
        c.delete_nat("vm2").await.unwrap();
        fails!(c, c.create_vip(&vip("vm2", "172.20.0.2")), service DnatExists);
        // deleting the last such range removes it, although vm1's NAT remains
        c.delete_neighbor_nat(&neigh_key("172.20.0.2", 100, 1000, 2000))
            .await
            .unwrap();
        assert_eq!(c.list_local_nats(None).await.unwrap().len(), 1);
        c.create_vip(&vip("vm2", "172.20.0.2")).await.unwrap();
    });
}

#[test]
fn neighbor_nats_and_vni_purge() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        c.create_interface(&iface("vm1", VF0, 100, "10.0.0.1", "::"))
            .await
            .unwrap();
        fails!(c, c.create_neighbor_nat(&neigh("1234::1", 100, 1, 2)), service BadIpVer);
        fails!(c, c.delete_neighbor_nat(&neigh_key("1234::1", 100, 1, 2)), service BadIpVer);
        fails!(c, c.list_neighbor_nats(Some(ip("1234::1"))), service BadIpVer);
        c.create_neighbor_nat(&neigh("172.20.0.2", 100, 1000, 2000))
            .await
            .unwrap();
        fails!(c, c.create_neighbor_nat(&neigh("172.20.0.2", 100, 1000, 2000)),
            service AlreadyExists);
        // overlap with the same address in any VNI
        fails!(c, c.create_neighbor_nat(&neigh("172.20.0.2", 200, 1999, 3000)),
            service AlreadyExists);
        // touching ranges do not overlap
        c.create_neighbor_nat(&neigh("172.20.0.2", 100, 2000, 2001))
            .await
            .unwrap();
        let listed: Vec<_> = c
            .list_neighbor_nats(Some(ip("172.20.0.2")))
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.min_port, e.max_port, e.vni))
            .collect();
        assert_eq!(listed, [(1000, 2000, 100), (2000, 2001, 100)]);
        fails!(c, c.delete_neighbor_nat(&neigh_key("172.20.0.2", 100, 1000, 1999)),
            service NotFound);
        c.delete_neighbor_nat(&neigh_key("172.20.0.2", 100, 2000, 2001))
            .await
            .unwrap();

        // a load balancer keeps the VNI, and with it the neighbour NAT, alive
        c.create_load_balancer(&lb("lb1", 100, "10.9.9.9"))
            .await
            .unwrap();
        c.delete_interface("vm1").await.unwrap();
        assert_eq!(c.list_neighbor_nats(None).await.unwrap().len(), 1);
        // the last user gone: neighbour NATs and DNAT entries of the VNI go too
        c.delete_load_balancer("lb1").await.unwrap();
        fails!(c, c.delete_neighbor_nat(&neigh_key("172.20.0.2", 100, 1000, 2000)),
            service NotFound);
        c.create_interface(&iface("vm1", VF0, 100, "10.0.0.1", "::"))
            .await
            .unwrap();
        c.create_vip(&vip("vm1", "172.20.0.2")).await.unwrap();
    });
}
