//! Client response conversions: a malformed answer fails naming the field.

use std::fmt::Debug;
use std::net::Ipv6Addr;

use dpservice::model::{
    CaptureStatus, CreatedInterface, FirewallRule, Interface, LoadBalancer, Metering, Nat,
    NatEntry, NatKind, ObjectId, PrefixEntry, ProtocolFilter, ResponseError, Route, Vip,
};
use dpservice::proto;
use dpservice::proto::captured_interface::Spec;
use dpservice::proto::protocol_filter::Filter;

use crate::responses_server::{interface, success};
use crate::table::{ip, prefix};
/// The field path a client conversion must name, and a mutation that breaks it.
type FieldCase<P> = (&'static str, fn(&mut P));

/// Each mutation of a valid response makes the client conversion fail naming `field`.
fn check_fields<P, M>(base: fn() -> P, cases: &[FieldCase<P>])
where
    M: TryFrom<P, Error = ResponseError> + Debug,
{
    if let Err(e) = M::try_from(base()) {
        panic!("the base response must convert, got {e}");
    }
    for (field, mutate) in cases {
        let mut p = base();
        mutate(&mut p);
        match M::try_from(p) {
            Ok(m) => panic!("{field}: expected an error, got {m:?}"),
            Err(e) => assert_eq!(e.field, *field, "{e}"),
        }
    }
}

#[test]
fn client_interface_fields() {
    fn base() -> proto::Interface {
        proto::GetInterfaceResponse::from(interface())
            .interface
            .unwrap()
    }
    check_fields::<_, Interface>(
        base,
        &[
            ("Interface.primary_ipv4", |i| i.primary_ipv4.clear()),
            ("Interface.primary_ipv4", |i| {
                i.primary_ipv4 = b"::".to_vec()
            }),
            ("Interface.primary_ipv6", |i| {
                i.primary_ipv6 = b"1.2.3.4".to_vec()
            }),
            ("Interface.underlay_route", |i| i.underlay_route.clear()),
        ],
    );
    check_fields::<proto::GetInterfaceResponse, Interface>(
        || proto::GetInterfaceResponse::from(interface()),
        &[
            ("GetInterfaceResponse.interface", |r| r.interface = None),
            ("Interface.primary_ipv6", |r| {
                r.interface.as_mut().unwrap().primary_ipv6 = b"x".to_vec()
            }),
        ],
    );
    check_fields::<proto::CreateInterfaceResponse, CreatedInterface>(
        || {
            proto::CreateInterfaceResponse::from(CreatedInterface {
                underlay_route: Ipv6Addr::LOCALHOST,
                vf_name: "dtapvf_0".into(),
            })
        },
        &[("CreateInterfaceResponse.underlay_route", |r| {
            r.underlay_route = b"127.0.0.1".to_vec()
        })],
    );
    // Absent optional parts read as empty: no metering params, no VF.
    let mut i = base();
    i.metering_params = None;
    assert_eq!(
        Interface::try_from(i).unwrap().metering,
        Metering::default()
    );
    let r = proto::CreateInterfaceResponse {
        status: success(),
        underlay_route: b"::1".to_vec(),
        vf: None,
    };
    assert_eq!(CreatedInterface::try_from(r).unwrap().vf_name, "");
}

#[test]
fn client_prefix_and_route_fields() {
    fn entry() -> proto::Prefix {
        proto::Prefix {
            underlay_route: b"fc00::1".to_vec(),
            ..prefix(0, "10.0.0.0", 8)
        }
    }
    check_fields::<_, PrefixEntry>(
        entry,
        &[
            ("Prefix.ip", |p| p.ip = None),
            ("Prefix.ip", |p| p.ip = Some(ip(3, "10.0.0.0"))),
            ("Prefix.length", |p| p.length = 33),
            ("Prefix.underlay_route", |p| p.underlay_route.clear()),
        ],
    );
    fn route() -> proto::Route {
        proto::Route {
            prefix: Some(prefix(1, "fc00::", 64)),
            nexthop_vni: 1,
            nexthop_address: Some(ip(1, "fc00::1")),
            weight: 0,
        }
    }
    check_fields::<_, Route>(
        route,
        &[
            ("Route.prefix", |r| r.prefix = None),
            ("Route.prefix.ip", |r| {
                r.prefix.as_mut().unwrap().ip = Some(ip(0, "fc00::"))
            }),
            ("Route.prefix.length", |r| {
                r.prefix.as_mut().unwrap().length = 129
            }),
            ("Route.nexthop_address", |r| r.nexthop_address = None),
        ],
    );
}

#[test]
fn client_vip_lb_nat_fields() {
    check_fields::<proto::GetVipResponse, Vip>(
        || proto::GetVipResponse {
            status: success(),
            vip_ip: Some(ip(0, "1.2.3.4")),
            underlay_route: b"fc00::1".to_vec(),
        },
        &[
            ("GetVipResponse.vip_ip", |r| r.vip_ip = None),
            ("GetVipResponse.underlay_route", |r| {
                r.underlay_route = b"1.2.3.4".to_vec()
            }),
        ],
    );
    fn lb_port(port: u32, protocol: proto::Protocol) -> proto::LbPort {
        proto::LbPort {
            port,
            protocol: protocol as i32,
        }
    }
    check_fields::<proto::GetLoadBalancerResponse, LoadBalancer>(
        || proto::GetLoadBalancerResponse {
            status: success(),
            loadbalanced_ip: Some(ip(0, "1.2.3.4")),
            vni: 3,
            loadbalanced_ports: vec![lb_port(80, proto::Protocol::Tcp)],
            underlay_route: b"fc00::1".to_vec(),
        },
        &[
            ("GetLoadBalancerResponse.loadbalanced_ip", |r| {
                r.loadbalanced_ip = None
            }),
            ("GetLoadBalancerResponse.loadbalanced_ports.port", |r| {
                r.loadbalanced_ports[0].port = 65536
            }),
            ("GetLoadBalancerResponse.loadbalanced_ports.port", |r| {
                r.loadbalanced_ports[0].port = 0
            }),
            ("GetLoadBalancerResponse.loadbalanced_ports.protocol", |r| {
                r.loadbalanced_ports[0] = lb_port(80, proto::Protocol::Icmp)
            }),
            ("GetLoadBalancerResponse.underlay_route", |r| {
                r.underlay_route.clear()
            }),
        ],
    );
    check_fields::<proto::Loadbalancer, LoadBalancer>(
        || proto::Loadbalancer {
            id: b"lb1".to_vec(),
            vni: 1,
            ip: Some(ip(1, "fc00::10")),
            ports: vec![lb_port(53, proto::Protocol::Udp)],
            underlay_route: b"fc00::1".to_vec(),
        },
        &[
            ("Loadbalancer.ip", |r| r.ip = Some(ip(1, ""))),
            ("Loadbalancer.ports.protocol", |r| r.ports[0].protocol = 99),
            ("Loadbalancer.ports.port", |r| r.ports[0].port = u32::MAX),
            ("Loadbalancer.underlay_route", |r| {
                r.underlay_route = b"x".to_vec()
            }),
        ],
    );
    check_fields::<proto::ListLoadBalancerTargetsResponse, Vec<Ipv6Addr>>(
        || proto::ListLoadBalancerTargetsResponse {
            status: success(),
            target_ips: vec![ip(1, "fc00::1")],
        },
        &[("ListLoadBalancerTargetsResponse.target_ips", |r| {
            r.target_ips.push(ip(0, "1.1.1.1"))
        })],
    );
    check_fields::<proto::GetNatResponse, Nat>(
        || proto::GetNatResponse {
            status: success(),
            nat_ip: Some(ip(0, "1.2.3.4")),
            min_port: 0,
            max_port: 65535,
            underlay_route: b"fc00::1".to_vec(),
        },
        &[
            ("GetNatResponse.nat_ip", |r| r.nat_ip = None),
            ("GetNatResponse.min_port", |r| r.min_port = 65536),
            ("GetNatResponse.max_port", |r| r.max_port = 65536),
            ("GetNatResponse.underlay_route", |r| {
                r.underlay_route.clear()
            }),
        ],
    );
    fn entry() -> proto::NatEntry {
        proto::NatEntry {
            nat_ip: Some(ip(0, "10.0.0.1")),
            min_port: 1,
            max_port: 2,
            underlay_route: Vec::new(),
            vni: 0,
            actual_nat_ip: Some(ip(0, "1.2.3.4")),
        }
    }
    check_fields::<_, NatEntry>(
        entry,
        &[
            ("NatEntry.nat_ip", |e| e.nat_ip = None),
            ("NatEntry.nat_ip", |e| e.nat_ip = Some(ip(1, "::1"))),
            ("NatEntry.underlay_route", |e| {
                e.underlay_route = b"1.2.3.4".to_vec()
            }),
            ("NatEntry.actual_nat_ip", |e| e.actual_nat_ip = None),
            ("NatEntry.min_port", |e| e.min_port = 1 << 16),
            ("NatEntry.max_port", |e| e.max_port = 1 << 16),
        ],
    );
    // A neighbour entry is told apart by its underlay; it needs no nat_ip.
    let mut e = entry();
    e.nat_ip = None;
    e.underlay_route = b"fc00:2::1".to_vec();
    assert!(matches!(
        NatEntry::try_from(e).unwrap().kind,
        NatKind::Neighbor { .. }
    ));
}

fn rule() -> proto::FirewallRule {
    proto::FirewallRule {
        id: b"fw1".to_vec(),
        direction: 1,
        action: 1,
        priority: 1000,
        source_prefix: Some(prefix(0, "10.0.0.0", 8)),
        destination_prefix: Some(prefix(1, "::", 0)),
        protocol_filter: Some(proto::ProtocolFilter {
            filter: Some(Filter::Tcp(proto::TcpFilter {
                src_port_lower: -1,
                src_port_upper: -1,
                dst_port_lower: 80,
                dst_port_upper: 80,
            })),
        }),
    }
}

fn tcp(r: &mut proto::FirewallRule) -> &mut proto::TcpFilter {
    match r.protocol_filter.as_mut().and_then(|f| f.filter.as_mut()) {
        Some(Filter::Tcp(t)) => t,
        other => panic!("expected TCP, found {other:?}"),
    }
}

#[test]
fn client_firewall_fields() {
    check_fields::<_, FirewallRule>(
        rule,
        &[
            ("FirewallRule.direction", |r| r.direction = 2),
            ("FirewallRule.action", |r| r.action = -1),
            ("FirewallRule.priority", |r| r.priority = 65536),
            ("FirewallRule.source_prefix", |r| r.source_prefix = None),
            ("FirewallRule.source_prefix.ip", |r| {
                r.source_prefix = Some(prefix(1, "1.0.0.0", 8))
            }),
            ("FirewallRule.source_prefix.length", |r| {
                r.source_prefix = Some(prefix(0, "1.0.0.0", 33))
            }),
            ("FirewallRule.destination_prefix", |r| {
                r.destination_prefix = None
            }),
            ("FirewallRule.destination_prefix.ip", |r| {
                r.destination_prefix.as_mut().unwrap().ip = None
            }),
            ("FirewallRule.destination_prefix.length", |r| {
                r.destination_prefix.as_mut().unwrap().length = 200
            }),
            ("FirewallRule.protocol_filter.tcp.src_port_lower", |r| {
                tcp(r).src_port_lower = -2
            }),
            ("FirewallRule.protocol_filter.tcp.src_port_upper", |r| {
                tcp(r).src_port_upper = 65536
            }),
            ("FirewallRule.protocol_filter.tcp.dst_port_lower", |r| {
                tcp(r).dst_port_lower = -7
            }),
            ("FirewallRule.protocol_filter.tcp.dst_port_upper", |r| {
                tcp(r).dst_port_upper = 1 << 20
            }),
            ("FirewallRule.protocol_filter.udp.dst_port_upper", |r| {
                r.protocol_filter = Some(proto::ProtocolFilter {
                    filter: Some(Filter::Udp(proto::UdpFilter {
                        dst_port_upper: 70000,
                        ..Default::default()
                    })),
                })
            }),
            ("FirewallRule.protocol_filter.icmp.icmp_type", |r| {
                r.protocol_filter = Some(proto::ProtocolFilter {
                    filter: Some(Filter::Icmp(proto::IcmpFilter {
                        icmp_type: 256,
                        icmp_code: 0,
                    })),
                })
            }),
            ("FirewallRule.protocol_filter.icmp.icmp_code", |r| {
                r.protocol_filter = Some(proto::ProtocolFilter {
                    filter: Some(Filter::Icmp(proto::IcmpFilter {
                        icmp_type: -1,
                        icmp_code: -2,
                    })),
                })
            }),
        ],
    );
    check_fields::<proto::GetFirewallRuleResponse, FirewallRule>(
        || proto::GetFirewallRuleResponse {
            status: success(),
            rule: Some(rule()),
        },
        &[("GetFirewallRuleResponse.rule", |r| r.rule = None)],
    );
    // Upstream's CreateFirewallRule answer is a NUL-padded buffer.
    let mut padded = b"fw1".to_vec();
    padded.resize(64, 0);
    let r = proto::CreateFirewallRuleResponse {
        status: success(),
        rule_id: padded,
    };
    assert_eq!(ObjectId::try_from(r).unwrap(), "fw1");
    // A missing filter reads as "any protocol".
    let mut r = rule();
    r.protocol_filter = None;
    assert_eq!(
        FirewallRule::try_from(r).unwrap().filter,
        ProtocolFilter::Any
    );
}

#[test]
fn client_capture_and_underlay_fields() {
    fn running() -> proto::CaptureStatusResponse {
        proto::CaptureStatusResponse {
            status: success(),
            is_active: true,
            capture_config: Some(proto::CaptureConfig {
                sink_node_ip: Some(ip(1, "fc00::9")),
                udp_src_port: 1,
                udp_dst_port: 2,
                interfaces: vec![proto::CapturedInterface {
                    interface_type: 0,
                    filter: Vec::new(),
                    spec: Some(Spec::PfIndex(1)),
                }],
            }),
        }
    }
    fn config(r: &mut proto::CaptureStatusResponse) -> &mut proto::CaptureConfig {
        r.capture_config.as_mut().unwrap()
    }
    check_fields::<_, CaptureStatus>(
        running,
        &[
            ("CaptureStatusResponse.capture_config", |r| {
                r.capture_config = None
            }),
            ("CaptureConfig.sink_node_ip", |r| {
                config(r).sink_node_ip = None
            }),
            ("CaptureConfig.sink_node_ip", |r| {
                config(r).sink_node_ip = Some(ip(1, "1.1.1.1"))
            }),
            ("CaptureConfig.udp_src_port", |r| {
                config(r).udp_src_port = 65536
            }),
            ("CaptureConfig.udp_dst_port", |r| {
                config(r).udp_dst_port = 65536
            }),
            ("CaptureConfig.interfaces.interface_type", |r| {
                config(r).interfaces[0].interface_type = 9
            }),
            ("CaptureConfig.interfaces.pf_index", |r| {
                config(r).interfaces[0].spec = Some(Spec::PfIndex(256))
            }),
            ("CaptureConfig.interfaces", |r| {
                config(r).interfaces[0].interface_type = 1;
                config(r).interfaces[0].spec = None;
            }),
        ],
    );
    let idle = proto::CaptureStatusResponse {
        status: success(),
        is_active: false,
        capture_config: None,
    };
    assert_eq!(CaptureStatus::try_from(idle), Ok(None));

    macro_rules! underlay_field {
        ($($response:ident),+) => {$(
            let r = proto::$response {
                status: success(),
                underlay_route: b"10.0.0.1".to_vec(),
            };
            let e = Ipv6Addr::try_from(r).unwrap_err();
            assert_eq!(e.field, concat!(stringify!($response), ".underlay_route"));
        )+};
    }
    underlay_field!(
        CreatePrefixResponse,
        CreateLoadBalancerPrefixResponse,
        CreateVipResponse,
        CreateNatResponse,
        CreateLoadBalancerResponse
    );
}
