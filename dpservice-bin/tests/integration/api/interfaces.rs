//! CreateInterface / GetInterface / ListInterfaces / DeleteInterface.

use dpservice::model::Metering;

use super::*;

#[test]
fn interface_lifecycle() {
    let d = daemon();
    let vf0 = d.taps().vfs[0].clone();
    with_initialized(&d, |c| async move {
        assert!(c.list_interfaces().await.unwrap().is_empty());
        let mut req = iface("vm1", VF0, 100, "10.0.0.1", "2001::1");
        req.hostname = Some("vm-one".into());
        req.metering = Metering {
            total_rate: 100,
            public_rate: 10,
        };
        let created = c.create_interface(&req).await.unwrap();
        assert_eq!(created.underlay_route, a6("fc00:1::d000:1:0:1"));
        assert_eq!(created.vf_name, vf0);
        let got = c.get_interface("vm1").await.unwrap();
        assert_eq!(got.vni, 100);
        assert_eq!(got.ipv4, Some(a4("10.0.0.1")));
        assert_eq!(got.ipv6, Some(a6("2001::1")));
        assert_eq!(got.underlay_route, created.underlay_route);
        assert_eq!(got.device, VF0);
        assert_eq!(got.hostname.as_deref(), Some("vm-one"));
        // --nic-type tap: metering is not applied and reported as zeros
        assert_eq!(got.metering, Metering::default());
        assert!(c
            .check_vni_in_use(&vni_q(100, VniType::Ipv4))
            .await
            .unwrap());

        // a second interface is listed in device order
        c.create_interface(&iface("vm0", VF1, 100, "0.0.0.0", "2001::2"))
            .await
            .unwrap();
        let ids: Vec<_> = c
            .list_interfaces()
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(ids, ["vm1", "vm0"]);

        c.delete_interface("vm1").await.unwrap();
        fails!(c, c.get_interface("vm1"), service NotFound);
        fails!(c, c.delete_interface("vm1"), service NotFound);
        // the device and the addresses are free again
        c.create_interface(&iface("vm1", VF0, 100, "10.0.0.1", "2001::1"))
            .await
            .unwrap();
        c.delete_interface("vm1").await.unwrap();
        c.delete_interface("vm0").await.unwrap();
        assert!(!c
            .check_vni_in_use(&vni_q(100, VniType::Ipv6))
            .await
            .unwrap());
    });
}

#[test]
fn create_interface_errors() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        let vm1 = iface("vm1", VF0, 100, "10.0.0.1", "2001::1");
        c.create_interface(&vm1).await.unwrap();
        let vm1_ul = c.get_interface("vm1").await.unwrap().underlay_route;

        // validation (INVALID_ARGUMENT, nothing touched)
        fails!(c, c.create_interface(&iface("vm4", VF1, 100, "0.0.0.0", "::")),
            invalid "Invalid ipv4_config.primary_address and ipv6_config.primary_address combination");
        fails!(c, c.create_interface(&iface("vm 4", VF1, 100, "10.0.0.4", "::")),
            invalid "Invalid interface_id");
        let mut bad = iface("vm4", VF1, 100, "10.0.0.4", "::");
        bad.preferred_underlay = Some(a6("fc00:2::8000:0:1"));
        fails!(c, c.create_interface(&bad), invalid "Invalid preferred_underlay_route");
        bad.preferred_underlay = Some(a6("fc00:1::d000:1:0:9"));
        fails!(c, c.create_interface(&bad), invalid "Invalid preferred_underlay_route");

        // execution, in upstream's order
        fails!(c, c.create_interface(&iface("vm4", "invalid", 100, "10.0.0.4", "::")),
            service NotFound);
        fails!(c, c.create_interface(&vm1), service AlreadyExists);
        fails!(c, c.create_interface(&iface("vm4", VF0, 100, "10.0.0.4", "::")),
            service AlreadyExists);
        // uplinks cannot be bound
        fails!(c, c.create_interface(&iface("vm4", "net_tap0", 100, "10.0.0.4", "::")),
            service AlreadyExists);
        let mut taken = iface("vm4", VF1, 100, "10.0.0.4", "::");
        taken.preferred_underlay = Some(a6("fc00:1::8000:0:1"));
        c.create_vip(&CreateVip {
            preferred_underlay: Some(a6("fc00:1::8000:0:1")),
            ..vip("vm1", "172.20.0.1")
        })
        .await
        .unwrap();
        fails!(c, c.create_interface(&taken), service VnfInsert);
        fails!(c, c.create_interface(&iface("vm1", VF1, 100, "10.0.0.4", "::")),
            service VmHandle);
        fails!(c, c.create_interface(&iface("vm4", VF1, 100, "1.2.3.4", "2001::1")),
            service RouteExists);
        fails!(c, c.create_interface(&iface("vm4", VF1, 100, "10.0.0.1", "1234::")),
            service RouteExists);
        // after all of these, the next generated underlay is the next in the series
        let created = c
            .create_interface(&iface("vm4", VF1, 101, "10.0.0.1", "2001::1"))
            .await
            .unwrap();
        assert_ne!(created.underlay_route, vm1_ul);
        assert_eq!(created.underlay_route, a6("fc00:1::d000:1:0:2"));
    });
}

#[test]
fn delete_interface_removes_what_hangs_off_it() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        c.create_vip(&vip("vm1", "172.20.0.1")).await.unwrap();
        c.create_nat(&nat("vm1", "172.20.0.2", 100, 200))
            .await
            .unwrap();
        c.create_prefix(&prefix("vm1", "1.2.3.0/24")).await.unwrap();
        c.create_load_balancer_prefix(&prefix("vm1", "1.2.4.0/24"))
            .await
            .unwrap();
        c.create_firewall_rule(&rule("vm1", "r1", FirewallAction::Accept))
            .await
            .unwrap();
        c.delete_interface("vm1").await.unwrap();
        fails!(c, c.list_prefixes("vm1"), service NoVm);
        assert!(c.list_local_nats(None).await.unwrap().is_empty());
        // the prefix route is gone: another interface can take the prefix
        c.create_prefix(&prefix("vm2", "1.2.3.0/24")).await.unwrap();
        // and the VIP/NAT addresses are free in the VNI
        c.create_vip(&vip("vm2", "172.20.0.2")).await.unwrap();
        // the VNI lives on through vm2; re-creating vm1 works
        c.create_interface(&iface("vm1", VF0, 100, "10.0.0.1", "2001::1"))
            .await
            .unwrap();
        assert!(c.list_prefixes("vm1").await.unwrap().is_empty());
        assert!(c.list_firewall_rules("vm1").await.unwrap().is_empty());
    });
}
