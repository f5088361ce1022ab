//! Server response conversions: what they must fill (§4.6).

use std::net::{Ipv4Addr, Ipv6Addr};

use dpservice::model::{
    CaptureConfig, CaptureStatus, CapturedInterface, CreatedInterface, FirewallAction,
    FirewallRule, Interface, Metering, NatEntry, NatKind, ObjectId, ProtocolFilter,
    ServiceResponse, TrafficDirection,
};
use dpservice::proto;
use dpservice::proto::captured_interface::Spec;
use dpservice::status::ServiceError;

use crate::table::{ip, prefix};

pub fn success() -> Option<proto::Status> {
    Some(dpservice::status::success())
}

pub fn interface() -> Interface {
    Interface {
        id: "vm1".into(),
        vni: 7,
        ipv4: None,
        ipv6: Some("fc00::1".parse().unwrap()),
        underlay_route: "fc00:1::d000:1:0:1".parse().unwrap(),
        device: "net_tap2".into(),
        metering: Metering::default(),
        hostname: None,
    }
}

#[test]
fn interface_presence_rules() {
    let r = proto::GetInterfaceResponse::from(interface());
    assert_eq!(r.status, success());
    let i = r.interface.unwrap();
    assert_eq!(i.primary_ipv4, b"0.0.0.0");
    assert_eq!(i.primary_ipv6, b"fc00::1");
    assert_eq!(i.underlay_route, b"fc00:1::d000:1:0:1");
    assert_eq!(i.pci_name, "net_tap2");
    assert_eq!(i.metering_params, Some(proto::MeteringParams::default()));
    let disabled_v6 = Interface {
        ipv4: Some(Ipv4Addr::new(10, 0, 0, 1)),
        ipv6: None,
        ..interface()
    };
    let r = proto::ListInterfacesResponse::from(vec![disabled_v6]);
    assert_eq!(r.status, success());
    assert_eq!(r.interfaces[0].primary_ipv6, b"::");
    assert_eq!(r.interfaces[0].primary_ipv4, b"10.0.0.1");

    let r = proto::CreateInterfaceResponse::from(CreatedInterface {
        underlay_route: "::102:304".parse().unwrap(),
        vf_name: String::new(),
    });
    assert_eq!(r.status, success());
    assert_eq!(r.vf, Some(proto::VirtualFunction::default()));
    assert_eq!(r.underlay_route, b"::1.2.3.4");
}

#[test]
fn underlay_responses_and_failures() {
    let u: Ipv6Addr = "fc00:1::d000:1:0:2".parse().unwrap();
    let text = &b"fc00:1::d000:1:0:2"[..];
    assert_eq!(proto::CreatePrefixResponse::from(u).underlay_route, text);
    assert_eq!(
        proto::CreateLoadBalancerPrefixResponse::from(u).underlay_route,
        text
    );
    assert_eq!(proto::CreateVipResponse::from(u).underlay_route, text);
    assert_eq!(proto::CreateNatResponse::from(u).underlay_route, text);
    let r = proto::CreateLoadBalancerResponse::from(u);
    assert_eq!((r.status, &r.underlay_route[..]), (success(), text));

    // A failure carries the status and nothing else.
    let r = proto::CreateInterfaceResponse::failure(ServiceError::VmHandle);
    assert_eq!(
        r.status.as_ref().map(|s| (s.code, s.message.as_str())),
        Some((402, "VM_HANDLE"))
    );
    assert_eq!((r.vf, r.underlay_route.len()), (None, 0));
    assert_eq!(proto::ResetVniResponse::ok().status, success());
}

#[test]
fn nat_entry_forms() {
    let local = NatEntry {
        kind: NatKind::Local {
            interface_ip: Ipv4Addr::new(10, 0, 0, 1),
        },
        nat_ip: Ipv4Addr::new(172, 20, 0, 1),
        min_port: 100,
        max_port: 200,
        vni: 5,
    };
    let neighbor = NatEntry {
        kind: NatKind::Neighbor {
            underlay_route: "fc00:2::1".parse().unwrap(),
        },
        ..local
    };
    let r = proto::ListLocalNatsResponse::from(vec![local]);
    let e = &r.nat_entries[0];
    assert_eq!(e.nat_ip, Some(ip(0, "10.0.0.1")));
    assert!(e.underlay_route.is_empty());
    assert_eq!(e.actual_nat_ip, Some(ip(0, "172.20.0.1")));
    assert_eq!((e.min_port, e.max_port, e.vni), (100, 200, 5));
    let r = proto::ListNeighborNatsResponse::from(vec![neighbor]);
    let e = &r.nat_entries[0];
    assert_eq!(e.nat_ip, None);
    assert_eq!(e.underlay_route, b"fc00:2::1");
    assert_eq!(e.actual_nat_ip, Some(ip(0, "172.20.0.1")));
}

#[test]
fn firewall_rule_always_has_its_parts() {
    let rule = FirewallRule {
        id: "fw1".into(),
        direction: TrafficDirection::Ingress,
        action: FirewallAction::Accept,
        priority: 0,
        source: "0.0.0.0/0".parse().unwrap(),
        destination: "fc00::/64".parse().unwrap(),
        filter: ProtocolFilter::Any,
    };
    let r = proto::GetFirewallRuleResponse::from(rule.clone());
    assert_eq!(r.status, success());
    let w = r.rule.unwrap();
    assert_eq!(
        w.protocol_filter,
        Some(proto::ProtocolFilter { filter: None })
    );
    assert_eq!(w.source_prefix, Some(prefix(0, "0.0.0.0", 0)));
    assert_eq!(w.destination_prefix, Some(prefix(1, "fc00::", 64)));
    assert_eq!(w.action, proto::FirewallAction::Accept as i32);
    let r = proto::ListFirewallRulesResponse::from(vec![rule]);
    assert!(r.rules[0].protocol_filter.is_some());
    let r = proto::CreateFirewallRuleResponse::from(ObjectId::from("fw1"));
    assert_eq!((r.status, r.rule_id), (success(), b"fw1".to_vec()));
}

#[test]
fn capture_status_forms() {
    let r = proto::CaptureStatusResponse::from(None);
    assert_eq!(
        (r.status, r.is_active, r.capture_config),
        (success(), false, None)
    );
    let running: CaptureStatus = Some(CaptureConfig {
        sink_node: "fc00::9".parse().unwrap(),
        udp_src_port: 1,
        udp_dst_port: 2,
        interfaces: vec![
            CapturedInterface::Pf(0),
            CapturedInterface::Vf("vm1".into()),
        ],
    });
    let r = proto::CaptureStatusResponse::from(running);
    assert!(r.is_active);
    let c = r.capture_config.unwrap();
    assert_eq!(c.sink_node_ip, Some(ip(1, "fc00::9")));
    assert_eq!(c.interfaces[0].spec, Some(Spec::PfIndex(0)));
    assert_eq!(c.interfaces[1].interface_type, 1);
    assert_eq!(c.interfaces[1].spec, Some(Spec::VfName(b"vm1".to_vec())));
    assert!(c.interfaces.iter().all(|i| i.filter.is_empty()));
    assert_eq!(proto::CaptureStopResponse::from(3).stopped_interface_cnt, 3);
}
