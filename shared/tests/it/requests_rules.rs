//! Server request conversions: firewall rules and packet capture.

use dpservice::model::{
    CaptureConfig, CapturedInterface, CreateFirewallRule, FirewallAction, FirewallRule,
    FirewallRuleRef, IcmpFilter, PortFilter, PortRange, ProtocolFilter, TrafficDirection,
};
use dpservice::proto;
use dpservice::proto::captured_interface::Spec;
use dpservice::proto::protocol_filter::Filter;

use crate::table::{check_table, convert, ip, prefix, Case};

fn tcp(src: (i32, i32), dst: (i32, i32)) -> proto::ProtocolFilter {
    proto::ProtocolFilter {
        filter: Some(Filter::Tcp(proto::TcpFilter {
            src_port_lower: src.0,
            src_port_upper: src.1,
            dst_port_lower: dst.0,
            dst_port_upper: dst.1,
        })),
    }
}

fn create_rule() -> proto::CreateFirewallRuleRequest {
    proto::CreateFirewallRuleRequest {
        interface_id: b"vm1".to_vec(),
        rule: Some(proto::FirewallRule {
            id: b"fw-1".to_vec(),
            direction: proto::TrafficDirection::Egress as i32,
            action: proto::FirewallAction::Accept as i32,
            priority: 65535,
            source_prefix: Some(prefix(0, "10.0.0.0", 8)),
            destination_prefix: Some(prefix(1, "fc00::", 64)),
            protocol_filter: Some(tcp((-1, -1), (80, 443))),
        }),
    }
}

fn rule(r: &mut proto::CreateFirewallRuleRequest) -> &mut proto::FirewallRule {
    r.rule.as_mut().unwrap()
}

fn src(r: &mut proto::CreateFirewallRuleRequest) -> &mut proto::Prefix {
    rule(r).source_prefix.as_mut().unwrap()
}

fn dst(r: &mut proto::CreateFirewallRuleRequest) -> &mut proto::Prefix {
    rule(r).destination_prefix.as_mut().unwrap()
}

fn ports(r: &mut proto::CreateFirewallRuleRequest) -> &mut proto::TcpFilter {
    match rule(r)
        .protocol_filter
        .as_mut()
        .and_then(|f| f.filter.as_mut())
    {
        Some(Filter::Tcp(t)) => t,
        other => panic!("base rule has a TCP filter, found {other:?}"),
    }
}

#[test]
fn create_firewall_rule_checks_in_upstream_order() {
    let cases: &[Case<proto::CreateFirewallRuleRequest>] = &[
        ("Invalid interface_id", |r| r.interface_id.clear()),
        ("Invalid rule id", |r| rule(r).id = vec![b'r'; 64]),
        ("Invalid source_prefix.ip.ipver", |r| {
            src(r).ip.as_mut().unwrap().ipver = 2
        }),
        ("Invalid source_prefix.ip", |r| {
            src(r).ip.as_mut().unwrap().address = b"10.0".to_vec()
        }),
        ("Invalid source_prefix.length", |r| {
            *src(r) = prefix(0, "10.0.0.0", 33)
        }),
        ("Invalid ip6 source_prefix.length", |r| {
            *src(r) = prefix(1, "fc00::", 129)
        }),
        ("Invalid destination_prefix.ip.ipver", |r| {
            dst(r).ip.as_mut().unwrap().ipver = -1
        }),
        ("Invalid destination_prefix.ip", |r| {
            dst(r).ip = Some(ip(1, "10.0.0.0"))
        }),
        ("Invalid destination_prefix.length", |r| {
            *dst(r) = prefix(0, "1.2.3.0", 40)
        }),
        ("Invalid ip6 destination_prefix.length", |r| {
            *dst(r) = prefix(1, "fc00::", 200)
        }),
        ("Invalid direction", |r| rule(r).direction = 2),
        ("Invalid action", |r| rule(r).action = 2),
        ("Invalid priority", |r| rule(r).priority = 65536),
        ("Invalid tcp.src_port_lower", |r| {
            ports(r).src_port_lower = -2
        }),
        ("Invalid tcp.dst_port_lower", |r| {
            ports(r).dst_port_lower = 65536
        }),
        ("Invalid tcp.src_port_upper", |r| {
            ports(r).src_port_upper = i32::MIN
        }),
        ("Invalid tcp.dst_port_upper", |r| {
            ports(r).dst_port_upper = 70000
        }),
        ("Invalid tcp.src_port range", |r| {
            ports(r).src_port_lower = 100;
            ports(r).src_port_upper = 99;
        }),
        ("Invalid tcp.dst_port range", |r| {
            ports(r).dst_port_upper = 79
        }),
    ];
    check_table::<_, CreateFirewallRule>(create_rule, cases);
}

fn udp_rule() -> proto::CreateFirewallRuleRequest {
    let mut r = create_rule();
    rule(&mut r).protocol_filter = Some(proto::ProtocolFilter {
        filter: Some(Filter::Udp(proto::UdpFilter {
            src_port_lower: 1000,
            src_port_upper: 2000,
            dst_port_lower: 53,
            dst_port_upper: -1,
        })),
    });
    r
}

fn udp(r: &mut proto::CreateFirewallRuleRequest) -> &mut proto::UdpFilter {
    match rule(r)
        .protocol_filter
        .as_mut()
        .and_then(|f| f.filter.as_mut())
    {
        Some(Filter::Udp(u)) => u,
        other => panic!("base rule has a UDP filter, found {other:?}"),
    }
}

fn icmp_rule() -> proto::CreateFirewallRuleRequest {
    let mut r = create_rule();
    rule(&mut r).protocol_filter = Some(proto::ProtocolFilter {
        filter: Some(Filter::Icmp(proto::IcmpFilter {
            icmp_type: 8,
            icmp_code: -1,
        })),
    });
    r
}

fn icmp(r: &mut proto::CreateFirewallRuleRequest) -> &mut proto::IcmpFilter {
    match rule(r)
        .protocol_filter
        .as_mut()
        .and_then(|f| f.filter.as_mut())
    {
        Some(Filter::Icmp(i)) => i,
        other => panic!("base rule has an ICMP filter, found {other:?}"),
    }
}

#[test]
fn udp_and_icmp_filters() {
    let cases: &[Case<proto::CreateFirewallRuleRequest>] = &[
        ("Invalid priority", |r| rule(r).priority = u32::MAX),
        ("Invalid udp.src_port_lower", |r| {
            udp(r).src_port_lower = 65536
        }),
        ("Invalid udp.dst_port_lower", |r| udp(r).dst_port_lower = -3),
        ("Invalid udp.src_port_upper", |r| udp(r).src_port_upper = -2),
        ("Invalid udp.dst_port_upper", |r| {
            udp(r).dst_port_upper = 65536
        }),
        ("Invalid udp.src_port range", |r| {
            udp(r).src_port_upper = 999
        }),
        ("Invalid udp.dst_port range", |r| udp(r).dst_port_upper = 52),
    ];
    check_table::<_, CreateFirewallRule>(udp_rule, cases);
    let cases: &[Case<proto::CreateFirewallRuleRequest>] = &[
        ("Invalid priority", |r| rule(r).priority = 1 << 20),
        ("Invalid icmp.icmp_type", |r| icmp(r).icmp_type = 256),
        ("Invalid icmp.icmp_code", |r| icmp(r).icmp_code = -2),
    ];
    check_table::<_, CreateFirewallRule>(icmp_rule, cases);

    let m = CreateFirewallRule::try_from(udp_rule()).unwrap();
    let range = |lower, upper| PortRange { lower, upper };
    assert_eq!(
        m.rule.filter,
        ProtocolFilter::Udp(PortFilter {
            src: range(Some(1000), Some(2000)),
            dst: range(Some(53), None),
        })
    );
    let m = CreateFirewallRule::try_from(icmp_rule()).unwrap();
    assert_eq!(
        m.rule.filter,
        ProtocolFilter::Icmp(IcmpFilter {
            icmp_type: Some(8),
            icmp_code: None
        })
    );
}

#[test]
fn firewall_rule_values() {
    let m = CreateFirewallRule::try_from(create_rule()).unwrap();
    assert_eq!(
        m,
        CreateFirewallRule {
            interface_id: "vm1".into(),
            rule: FirewallRule {
                id: "fw-1".into(),
                direction: TrafficDirection::Egress,
                action: FirewallAction::Accept,
                priority: 65535,
                source: "10.0.0.0/8".parse().unwrap(),
                destination: "fc00::/64".parse().unwrap(),
                filter: ProtocolFilter::Tcp(PortFilter {
                    src: PortRange::ANY,
                    dst: PortRange {
                        lower: Some(80),
                        upper: Some(443)
                    },
                }),
            },
        }
    );
    // DROP and the defaults pass (DROP is refused at execution with 441); −1 as upper
    // bound accepts any lower bound; an "any" lower bound leaves the upper unchecked.
    let mut r = create_rule();
    rule(&mut r).action = 0;
    rule(&mut r).direction = 0;
    rule(&mut r).protocol_filter = Some(tcp((80, -1), (-1, 5)));
    *src(&mut r) = prefix(1, "::", 0);
    let m = CreateFirewallRule::try_from(r).unwrap();
    assert_eq!(m.rule.action, FirewallAction::Drop);
    assert_eq!(m.rule.direction, TrafficDirection::Ingress);
    assert_eq!(
        m.rule.filter,
        ProtocolFilter::Tcp(PortFilter {
            src: PortRange {
                lower: Some(80),
                upper: None
            },
            dst: PortRange {
                lower: None,
                upper: Some(5)
            },
        })
    );
    // No filter, or an empty one, is "any protocol".
    for filter in [None, Some(proto::ProtocolFilter { filter: None })] {
        let mut r = create_rule();
        rule(&mut r).protocol_filter = filter;
        let m = CreateFirewallRule::try_from(r).unwrap();
        assert_eq!(m.rule.filter, ProtocolFilter::Any);
    }
    // Absent parts read as empty ones.
    let mut r = create_rule();
    r.rule = None;
    assert_eq!(convert::<_, CreateFirewallRule>(r), "Invalid rule id");
    let mut r = create_rule();
    rule(&mut r).source_prefix = None;
    assert_eq!(
        convert::<_, CreateFirewallRule>(r),
        "Invalid source_prefix.ip"
    );
    // A rule ID need not be UTF-8: its bytes are kept (§4.5).
    let mut r = create_rule();
    rule(&mut r).id = b"r\xfe".to_vec();
    let m = CreateFirewallRule::try_from(r).unwrap();
    assert_eq!(m.rule.id.as_bytes(), b"r\xfe");
}

macro_rules! rule_ref_table {
    ($request:ident) => {{
        fn base() -> proto::$request {
            proto::$request {
                interface_id: b"vm1".to_vec(),
                rule_id: b"fw-1".to_vec(),
            }
        }
        let cases: &[Case<proto::$request>] = &[
            ("Invalid interface_id", |r| r.interface_id.clear()),
            ("Invalid rule_id", |r| r.rule_id.clear()),
        ];
        check_table::<_, FirewallRuleRef>(base, cases);
        let m = FirewallRuleRef::try_from(base()).unwrap();
        assert_eq!(
            (m.interface_id.as_str(), m.rule_id.as_str()),
            (Some("vm1"), Some("fw-1"))
        );
    }};
}

#[test]
fn firewall_rule_refs() {
    rule_ref_table!(GetFirewallRuleRequest);
    rule_ref_table!(DeleteFirewallRuleRequest);
}

fn captured(kind: proto::CaptureInterfaceType, spec: Option<Spec>) -> proto::CapturedInterface {
    proto::CapturedInterface {
        interface_type: kind as i32,
        filter: b"ignored".to_vec(),
        spec,
    }
}

fn capture() -> proto::CaptureStartRequest {
    use proto::CaptureInterfaceType::{SinglePf, SingleVf};
    proto::CaptureStartRequest {
        capture_config: Some(proto::CaptureConfig {
            sink_node_ip: Some(ip(0, "fc00::5")),
            udp_src_port: 3000,
            udp_dst_port: 65535,
            interfaces: vec![
                captured(SinglePf, Some(Spec::PfIndex(1))),
                captured(SingleVf, Some(Spec::VfName(b"vm1".to_vec()))),
            ],
        }),
    }
}

fn config(r: &mut proto::CaptureStartRequest) -> &mut proto::CaptureConfig {
    r.capture_config.as_mut().unwrap()
}

#[test]
fn capture_start_checks_in_upstream_order() {
    let cases: &[Case<proto::CaptureStartRequest>] = &[
        ("Invalid udp_src_port", |r| config(r).udp_src_port = 65536),
        ("Invalid udp_dst_port", |r| config(r).udp_dst_port = 65536),
        ("Invalid sink_node_ip", |r| {
            config(r).sink_node_ip = Some(ip(1, "10.0.0.1"))
        }),
        ("Too many interfaces to be captured", |r| {
            let vf = config(r).interfaces[1].clone();
            (0..15).for_each(|_| config(r).interfaces.push(vf.clone()));
        }),
        ("Invalid interfaces.interface_type", |r| {
            config(r).interfaces[0].interface_type = 2
        }),
        ("Invalid pf_index", |r| {
            config(r).interfaces[0].spec = Some(Spec::PfIndex(256))
        }),
        ("Invalid interface_id", |r| {
            config(r).interfaces[1].spec = Some(Spec::VfName(Vec::new()))
        }),
    ];
    check_table::<_, CaptureConfig>(capture, cases);
}

#[test]
fn capture_start_values() {
    use proto::CaptureInterfaceType::{SinglePf, SingleVf};
    let m = CaptureConfig::try_from(capture()).unwrap();
    assert_eq!(
        m,
        CaptureConfig {
            sink_node: "fc00::5".parse().unwrap(),
            udp_src_port: 3000,
            udp_dst_port: 65535,
            interfaces: vec![
                CapturedInterface::Pf(1),
                CapturedInterface::Vf("vm1".into())
            ],
        }
    );
    // The type decides which arm is read: a PF entry without index is PF 0 (a missing
    // index fails at execution), a VF entry carrying an index has no name.
    let mut r = capture();
    config(&mut r).interfaces = vec![
        captured(SinglePf, Some(Spec::VfName(b"vm1".to_vec()))),
        captured(SinglePf, None),
        captured(SinglePf, Some(Spec::PfIndex(255))),
    ];
    let m = CaptureConfig::try_from(r).unwrap();
    let expected = [0, 0, 255].map(CapturedInterface::Pf);
    assert_eq!(m.interfaces, expected);
    let mut r = capture();
    config(&mut r).interfaces = vec![captured(SingleVf, Some(Spec::PfIndex(0)))];
    assert_eq!(convert::<_, CaptureConfig>(r), "Invalid interface_id");
    // Exactly 16 interfaces and none at all are fine.
    let mut r = capture();
    let pf = config(&mut r).interfaces[0].clone();
    (0..14).for_each(|_| config(&mut r).interfaces.push(pf.clone()));
    assert_eq!(CaptureConfig::try_from(r).unwrap().interfaces.len(), 16);
    let mut r = capture();
    config(&mut r).interfaces.clear();
    assert!(CaptureConfig::try_from(r).is_ok());
    // Absent config: the empty sink address fails.
    let r = proto::CaptureStartRequest {
        capture_config: None,
    };
    assert_eq!(convert::<_, CaptureConfig>(r), "Invalid sink_node_ip");
}
