//! Firewall rule RPCs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

// ---- firewall ----

#[test]
fn firewall_rules() {
    let mut s = two_vms();
    fails(&mut s, E::NoVm, |s| {
        s.create_firewall_rule(fw_create("x", rule("r", FirewallAction::Accept)))
    });
    fails(&mut s, E::NoVm, |s| {
        s.delete_firewall_rule(&fw_ref("x", "r"))
    });
    assert_eq!(s.get_firewall_rule(&fw_ref("x", "r")).unwrap_err(), E::NoVm);
    assert_eq!(s.list_firewall_rules("x").unwrap_err(), E::NoVm);
    // DROP is refused after the interface check
    fails(&mut s, E::NoDropSupport, |s| {
        s.create_firewall_rule(fw_create("vm1", rule("r1", FirewallAction::Drop)))
    });
    let id = s
        .create_firewall_rule(fw_create("vm1", rule("r1", FirewallAction::Accept)))
        .unwrap();
    assert_eq!(id, "r1");
    // a duplicate ID is reported before DROP
    fails(&mut s, E::AlreadyExists, |s| {
        s.create_firewall_rule(fw_create("vm1", rule("r1", FirewallAction::Drop)))
    });
    let mut r2 = rule("r2", FirewallAction::Accept);
    r2.direction = TrafficDirection::Egress;
    r2.priority = 5;
    s.create_firewall_rule(fw_create("vm1", r2.clone()))
        .unwrap();
    s.create_firewall_rule(fw_create("vm2", rule("r1", FirewallAction::Accept)))
        .unwrap();
    let ids: Vec<_> = s
        .list_firewall_rules("vm1")
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["r1", "r2"]);
    assert_eq!(s.get_firewall_rule(&fw_ref("vm1", "r2")).unwrap(), r2);
    assert_eq!(
        s.get_firewall_rule(&fw_ref("vm1", "r3")).unwrap_err(),
        E::NotFound
    );
    fails(&mut s, E::NotFound, |s| {
        s.delete_firewall_rule(&fw_ref("vm1", "r3"))
    });
    s.delete_firewall_rule(&fw_ref("vm1", "r1")).unwrap();
    assert_eq!(s.vf(2).unwrap().firewall.len(), 1);
    assert_eq!(s.vf(3).unwrap().firewall.len(), 1);
}

#[test]
fn firewall_rule_limit() {
    let mut cfg = config();
    cfg.limits.firewall_rules_per_interface = 1;
    let mut s = State::new(cfg);
    s.create_interface(iface("vm1", "net_tap2", 1, "10.0.0.1", "::"))
        .unwrap();
    s.create_firewall_rule(fw_create("vm1", rule("r1", FirewallAction::Accept)))
        .unwrap();
    fails(&mut s, E::OutOfMemory, |s| {
        s.create_firewall_rule(fw_create("vm1", rule("r2", FirewallAction::Accept)))
    });
}

/// §10's verdict per destination: towards an uplink the sender's egress rules alone;
/// towards a VF the sender's egress and then the receiver's ingress rules.
#[test]
fn firewall_verdict_towards_uplink_and_vf() {
    let mut s = two_vms();
    let pkt = FirewallPacket {
        src: ip("10.0.0.1"),
        dst: ip("10.0.0.2"),
        protocol: 6,
        src_port_or_type: 1000,
        dst_port_or_code: 443,
    };
    let (pf0, vm1, vm2, no_iface) = (0, 2, 3, 4);
    // no rules: egress open, ingress closed
    assert_eq!(s.firewall_verdict(vm1, None, &pkt), Verdict::Accept);
    assert_eq!(s.firewall_verdict(vm1, Some(vm2), &pkt), Verdict::Drop);
    assert_eq!(s.firewall_verdict(pf0, Some(vm2), &pkt), Verdict::Drop);
    // an accepting ingress rule on the receiver
    let mut open = rule("in", FirewallAction::Accept);
    open.source = pfx("0.0.0.0/0");
    s.create_firewall_rule(fw_create("vm2", open)).unwrap();
    assert_eq!(s.firewall_verdict(vm1, Some(vm2), &pkt), Verdict::Accept);
    assert_eq!(
        s.firewall_verdict(pf0, Some(vm2), &pkt),
        Verdict::Accept,
        "traffic from an uplink passes egress"
    );
    // the sender's egress rules close what they do not match, towards both
    let mut out = rule("out", FirewallAction::Accept);
    out.direction = TrafficDirection::Egress;
    out.source = pfx("10.9.0.0/16");
    s.create_firewall_rule(fw_create("vm1", out)).unwrap();
    assert_eq!(s.firewall_verdict(vm1, None, &pkt), Verdict::Drop);
    assert_eq!(s.firewall_verdict(vm1, Some(vm2), &pkt), Verdict::Drop);
    // a port without an interface accepts nothing
    assert_eq!(s.firewall_verdict(vm2, Some(no_iface), &pkt), Verdict::Drop);
    // vm2's ingress rule does not govern vm2's own egress
    assert_eq!(s.firewall_verdict(vm2, None, &pkt), Verdict::Accept);
}
