//! Firewall rules and packet capture.

use dpservice::model::{CaptureConfig, CapturedInterface};

use super::*;

#[test]
fn firewall_rules() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        fails!(c, c.create_firewall_rule(&rule("nope", "r1", FirewallAction::Accept)),
            service NoVm);
        let r = |iface: &str, id: &str| dpservice::model::FirewallRuleRef {
            interface_id: iface.into(),
            rule_id: id.into(),
        };
        fails!(c, c.get_firewall_rule(&r("nope", "r1")), service NoVm);
        fails!(c, c.delete_firewall_rule(&r("nope", "r1")), service NoVm);
        fails!(c, c.list_firewall_rules("nope"), service NoVm);
        fails!(c, c.create_firewall_rule(&rule("vm1", "r1", FirewallAction::Drop)),
            service NoDropSupport);
        assert_eq!(
            c.create_firewall_rule(&rule("vm1", "r1", FirewallAction::Accept))
                .await
                .unwrap(),
            "r1"
        );
        fails!(c, c.create_firewall_rule(&rule("vm1", "r1", FirewallAction::Accept)),
            service AlreadyExists);
        // a duplicate ID is reported before DROP
        fails!(c, c.create_firewall_rule(&rule("vm1", "r1", FirewallAction::Drop)),
            service AlreadyExists);
        let mut r2 = rule("vm1", "r2", FirewallAction::Accept);
        r2.rule.direction = TrafficDirection::Egress;
        r2.rule.source = pfx("fd00::/64");
        r2.rule.priority = 7;
        c.create_firewall_rule(&r2).await.unwrap();
        c.create_firewall_rule(&rule("vm2", "r1", FirewallAction::Accept))
            .await
            .unwrap();
        // IPv6 prefix lengths come back right (upstream reports /32, §13 #2)
        assert_eq!(c.get_firewall_rule(&r("vm1", "r2")).await.unwrap(), r2.rule);
        let ids: Vec<_> = c
            .list_firewall_rules("vm1")
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["r1", "r2"]);
        fails!(c, c.get_firewall_rule(&r("vm1", "r3")), service NotFound);
        fails!(c, c.delete_firewall_rule(&r("vm1", "r3")), service NotFound);
        c.delete_firewall_rule(&r("vm1", "r1")).await.unwrap();
        fails!(c, c.get_firewall_rule(&r("vm1", "r1")), service NotFound);
        assert_eq!(c.list_firewall_rules("vm2").await.unwrap().len(), 1);
    });
}

#[test]
fn capture_is_not_available_on_software_ports() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        let cfg = CaptureConfig {
            sink_node: a6("fc00:9::1"),
            udp_src_port: 3000,
            udp_dst_port: 3001,
            interfaces: vec![
                CapturedInterface::Pf(0),
                CapturedInterface::Vf("vm1".into()),
            ],
        };
        fails!(c, c.capture_start(&cfg), service NotActive);
        fails!(c, c.capture_stop(), service NotActive);
        assert_eq!(c.capture_status().await.unwrap(), None);
        let mut bad = cfg.clone();
        bad.interfaces = vec![CapturedInterface::Pf(0); 17];
        fails!(c, c.capture_start(&bad), invalid "Too many interfaces to be captured");
    });
}
