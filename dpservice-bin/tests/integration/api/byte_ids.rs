//! IDs are bytes (grpc-api.md §4.1, §4.5): a load-balancer or firewall-rule ID that is
//! not UTF-8 is created, found, listed back byte for byte and deleted, as upstream does.

use dpservice::model::{FirewallRuleRef, ObjectId};

use super::*;

/// Not UTF-8; its lossy reading is `"lb\u{FFFD}\u{FFFD}"`.
const LB_ID: &[u8] = b"lb\xff\xfe";
const RULE_ID: &[u8] = b"r\x80";

#[test]
fn load_balancer_with_a_non_utf8_id() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        let id = ObjectId::from(LB_ID);
        let mut create = lb("unused", 100, "10.9.9.9");
        create.id = id.clone();
        let underlay = c.create_load_balancer(&create).await.unwrap();

        let got = c.get_load_balancer(LB_ID).await.unwrap();
        assert_eq!((got.ip, got.underlay_route), (ip("10.9.9.9"), underlay));
        let listed = c.list_load_balancers().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id.as_bytes(), LB_ID, "listed byte for byte");
        // the text that a lossy reading would give names another (missing) LB
        let lossy = String::from_utf8_lossy(LB_ID).into_owned();
        fails!(c, c.get_load_balancer(&lossy), service NotFound);

        let mut t = target("unused", "fc00:2::9");
        t.loadbalancer_id = id.clone();
        c.create_load_balancer_target(&t).await.unwrap();
        assert_eq!(
            c.list_load_balancer_targets(Some(LB_ID)).await.unwrap(),
            [a6("fc00:2::9")]
        );
        c.delete_load_balancer_target(&t).await.unwrap();

        c.delete_load_balancer(LB_ID).await.unwrap();
        fails!(c, c.get_load_balancer(LB_ID), service NotFound);
        assert!(c.list_load_balancers().await.unwrap().is_empty());
    });
}

#[test]
fn firewall_rule_with_a_non_utf8_id() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        let mut create = rule("vm1", "unused", FirewallAction::Accept);
        create.rule.id = ObjectId::from(RULE_ID);
        let echoed = c.create_firewall_rule(&create).await.unwrap();
        assert_eq!(echoed.as_bytes(), RULE_ID);
        fails!(c, c.create_firewall_rule(&create), service AlreadyExists);
        // its lossy reading is a different ID: both exist side by side
        let lossy = String::from_utf8_lossy(RULE_ID).into_owned();
        c.create_firewall_rule(&rule("vm1", &lossy, FirewallAction::Accept))
            .await
            .unwrap();

        let by_ref = |rule_id: &[u8]| FirewallRuleRef {
            interface_id: "vm1".into(),
            rule_id: rule_id.into(),
        };
        let got = c.get_firewall_rule(&by_ref(RULE_ID)).await.unwrap();
        assert_eq!(got, create.rule);
        let ids: Vec<Vec<u8>> = c
            .list_firewall_rules("vm1")
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id.into_bytes())
            .collect();
        assert_eq!(ids, [RULE_ID.to_vec(), lossy.clone().into_bytes()]);

        c.delete_firewall_rule(&by_ref(RULE_ID)).await.unwrap();
        fails!(c, c.get_firewall_rule(&by_ref(RULE_ID)), service NotFound);
        fails!(c, c.delete_firewall_rule(&by_ref(RULE_ID)), service NotFound);
        let left = c.list_firewall_rules("vm1").await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].id, lossy.as_str());
    });
}

#[test]
fn non_utf8_interface_ids() {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        // CreateInterface allows only [A-Za-z0-9_-], as upstream
        let mut create = iface("unused", VF0, 100, "10.0.0.3", "2001::3");
        create.id = ObjectId::from(&b"vm\xff"[..]);
        fails!(c, c.create_interface(&create), invalid "Invalid interface_id");
        // other calls take any bytes and find no such interface
        fails!(c, c.get_interface(&b"vm1\xff"[..]), service NotFound);
        fails!(c, c.list_firewall_rules(&b"vm1\xff"[..]), service NoVm);
        fails!(c, c.delete_interface(&b"vm1\xff"[..]), service NotFound);
    });
}
