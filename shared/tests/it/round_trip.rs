//! Round trips through the wire: a request model → message (client) → bytes → message →
//! model (server), and a response model → message (server) → bytes → message → model
//! (client), each giving back the value it started from.

use std::fmt::Debug;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dpservice::model::{
    CaptureConfig, CaptureStatus, CapturedInterface, ClientVersion, CreateFirewallRule,
    CreateInterface, CreateLbPrefix, CreateLoadBalancer, CreateNat, CreatePrefix, CreateVip,
    CreatedInterface, FirewallAction, FirewallRule, FirewallRuleRef, IcmpFilter, Interface,
    InvalidArgument, L4Protocol, LbPort, LbPrefixRef, LoadBalancer, LoadBalancerTarget, Metering,
    Nat, NatEntry, NatKind, NeighborNat, NeighborNatKey, ObjectId, PortFilter, PortRange,
    PrefixEntry, PrefixRef, ProtocolFilter, Pxe, ResponseError, Route, RouteKey, ServiceVersion,
    TrafficDirection, Vip, VniQuery, VniType,
};
use dpservice::proto;
use prost::Message;

fn through_bytes<P: Message + Default + PartialEq + Debug>(message: &P) -> P {
    let bytes = message.encode_to_vec();
    let decoded = P::decode(&bytes[..]).unwrap();
    assert_eq!(&decoded, message);
    decoded
}

fn request<P, M>(model: &M)
where
    P: Message + Default + PartialEq + Debug + for<'a> From<&'a M>,
    M: TryFrom<P, Error = InvalidArgument> + PartialEq + Debug,
{
    let message = through_bytes(&P::from(model));
    assert_eq!(&M::try_from(message).unwrap(), model);
}

fn response<P, M>(model: &M)
where
    P: Message + Default + PartialEq + Debug + From<M>,
    M: TryFrom<P, Error = ResponseError> + PartialEq + Debug + Clone,
{
    let message = through_bytes(&P::from(model.clone()));
    assert_eq!(&M::try_from(message).unwrap(), model);
}

fn v6(text: &str) -> Ipv6Addr {
    text.parse().unwrap()
}

#[test]
fn interface_requests() {
    let full = CreateInterface {
        id: "vm-1".into(),
        vni: u32::MAX,
        ipv4: Some(Ipv4Addr::new(10, 0, 0, 1)),
        ipv6: Some(v6("fc00::1")),
        pxe: Some(Pxe {
            next_server: "fc00::99".parse().unwrap(),
            boot_filename: "boot.efi".into(),
        }),
        device: "0000:03:00.0_representor_vf0".into(),
        metering: Metering {
            total_rate: u64::MAX,
            public_rate: 1,
        },
        preferred_underlay: Some(v6("fc00:1::8000:0:1")),
        hostname: Some("vm1".into()),
    };
    request::<proto::CreateInterfaceRequest, _>(&full);
    let minimal = CreateInterface {
        ipv6: None,
        pxe: Some(Pxe {
            next_server: IpAddr::from([10, 0, 0, 99]),
            boot_filename: "b".into(),
        }),
        metering: Metering::default(),
        preferred_underlay: None,
        hostname: None,
        ..full.clone()
    };
    request::<proto::CreateInterfaceRequest, _>(&minimal);
    let v6_only = CreateInterface {
        ipv4: None,
        pxe: None,
        ..full
    };
    request::<proto::CreateInterfaceRequest, _>(&v6_only);
}

#[test]
fn prefix_route_vip_requests() {
    let create = CreatePrefix {
        interface_id: "vm1".into(),
        prefix: "10.1.2.3/24".parse().unwrap(),
        preferred_underlay: Some(v6("fc00:1::c000:0:2")),
    };
    request::<proto::CreatePrefixRequest, _>(&create);
    // an alias prefix carries any 8-bit length (the daemon decides)
    request::<proto::CreatePrefixRequest, _>(&CreatePrefix {
        prefix: "10.1.2.3/200".parse().unwrap(),
        ..create.clone()
    });
    request::<proto::CreateLoadBalancerPrefixRequest, _>(&CreateLbPrefix {
        interface_id: create.interface_id,
        prefix: "fc00:5::/64".parse().unwrap(),
        preferred_underlay: None,
    });
    let r = PrefixRef {
        interface_id: "vm1".into(),
        prefix: "0.0.0.0/0".parse().unwrap(),
    };
    request::<proto::DeletePrefixRequest, _>(&r);
    request::<proto::DeleteLoadBalancerPrefixRequest, _>(&LbPrefixRef {
        interface_id: r.interface_id,
        prefix: "fc00::/128".parse().unwrap(),
    });
    let route = Route {
        vni: 0,
        prefix: "fc00:9::/48".parse().unwrap(),
        nexthop_vni: u32::MAX,
        nexthop: IpAddr::from([1, 2, 3, 4]),
    };
    request::<proto::CreateRouteRequest, _>(&route);
    request::<proto::CreateRouteRequest, _>(&Route {
        prefix: "10.0.0.0/33".parse().unwrap(),
        ..route
    });
    request::<proto::DeleteRouteRequest, _>(&RouteKey {
        vni: 3,
        prefix: "10.0.0.0/8".parse().unwrap(),
    });
    for vni in [None, Some(1)] {
        let decoded = Option::<u32>::try_from(through_bytes(&proto::ListRoutesRequest::from(vni)));
        assert_eq!(decoded, Ok(vni));
    }
    request::<proto::CreateVipRequest, _>(&CreateVip {
        interface_id: "vm1".into(),
        ip: IpAddr::from([172, 16, 0, 1]),
        preferred_underlay: None,
    });
}

#[test]
fn lb_nat_requests() {
    request::<proto::CreateLoadBalancerRequest, _>(&CreateLoadBalancer {
        id: "lb 1".into(),
        vni: 0xFF_FFFF,
        ip: v6("fc00::10").into(),
        ports: vec![
            LbPort {
                protocol: L4Protocol::Udp,
                port: 65535,
            },
            LbPort {
                protocol: L4Protocol::Tcp,
                port: 1,
            },
        ],
        preferred_underlay: Some(v6("fc00:1::8000:0:1")),
    });
    let target = LoadBalancerTarget {
        loadbalancer_id: "lb1".into(),
        target: v6("fc00:3::1").into(),
    };
    request::<proto::CreateLoadBalancerTargetRequest, _>(&target);
    request::<proto::DeleteLoadBalancerTargetRequest, _>(&target);
    request::<proto::CreateNatRequest, _>(&CreateNat {
        interface_id: "vm1".into(),
        ip: IpAddr::from([172, 20, 0, 1]),
        min_port: 0,
        max_port: 65535,
        preferred_underlay: None,
    });
    request::<proto::CreateNeighborNatRequest, _>(&NeighborNat {
        ip: IpAddr::from([172, 20, 0, 1]),
        vni: 9,
        min_port: 100,
        max_port: 200,
        underlay_route: v6("fc00:2::1"),
    });
    request::<proto::DeleteNeighborNatRequest, _>(&NeighborNatKey {
        ip: IpAddr::from([172, 20, 0, 1]),
        vni: 9,
        min_port: 100,
        max_port: 200,
    });
    for filter in [None, Some(IpAddr::from([1, 2, 3, 4]))] {
        let local = through_bytes(&proto::ListLocalNatsRequest::from(filter));
        assert_eq!(Option::<IpAddr>::try_from(local), Ok(filter));
        let neighbor = through_bytes(&proto::ListNeighborNatsRequest::from(filter));
        assert_eq!(Option::<IpAddr>::try_from(neighbor), Ok(filter));
    }
}

fn rules() -> Vec<FirewallRule> {
    let base = FirewallRule {
        id: "fw1".into(),
        direction: TrafficDirection::Egress,
        action: FirewallAction::Accept,
        priority: 65535,
        source: "10.0.0.0/8".parse().unwrap(),
        destination: "fc00::/128".parse().unwrap(),
        filter: ProtocolFilter::Any,
    };
    let ports = PortFilter {
        src: PortRange {
            lower: Some(1),
            upper: None,
        },
        dst: PortRange {
            lower: None,
            upper: Some(7),
        },
    };
    vec![
        base.clone(),
        FirewallRule {
            filter: ProtocolFilter::Tcp(ports),
            direction: TrafficDirection::Ingress,
            action: FirewallAction::Drop,
            ..base.clone()
        },
        FirewallRule {
            filter: ProtocolFilter::Udp(PortFilter {
                src: PortRange::ANY,
                dst: PortRange {
                    lower: Some(0),
                    upper: Some(65535),
                },
            }),
            ..base.clone()
        },
        FirewallRule {
            filter: ProtocolFilter::Icmp(IcmpFilter {
                icmp_type: Some(255),
                icmp_code: None,
            }),
            ..base
        },
    ]
}

#[test]
fn rule_capture_system_requests() {
    for rule in rules() {
        request::<proto::CreateFirewallRuleRequest, _>(&CreateFirewallRule {
            interface_id: "vm1".into(),
            rule,
        });
    }
    let r = FirewallRuleRef {
        interface_id: "vm1".into(),
        rule_id: "fw1".into(),
    };
    request::<proto::GetFirewallRuleRequest, _>(&r);
    request::<proto::DeleteFirewallRuleRequest, _>(&r);
    request::<proto::CaptureStartRequest, _>(&CaptureConfig {
        sink_node: v6("fc00::5"),
        udp_src_port: 0,
        udp_dst_port: 65535,
        interfaces: vec![
            CapturedInterface::Pf(0),
            CapturedInterface::Vf("vm1".into()),
            CapturedInterface::Pf(1),
        ],
    });
    for vni_type in [VniType::Ipv4, VniType::Ipv6, VniType::Both] {
        let q = VniQuery { vni: 42, vni_type };
        request::<proto::CheckVniInUseRequest, _>(&q);
        request::<proto::ResetVniRequest, _>(&q);
    }
    request::<proto::GetVersionRequest, _>(&ClientVersion {
        client_protocol: "v0.3.17".into(),
        client_name: "dpservice-cli".into(),
        client_version: "1.0".into(),
    });
}

#[test]
fn responses() {
    let iface = Interface {
        id: "vm1".into(),
        vni: 1,
        ipv4: Some(Ipv4Addr::new(10, 0, 0, 1)),
        ipv6: None,
        underlay_route: v6("fc00:1::d000:1:0:1"),
        device: "net_tap2".into(),
        metering: Metering {
            total_rate: 100,
            public_rate: 10,
        },
        hostname: Some("h".into()),
    };
    response::<proto::GetInterfaceResponse, _>(&iface);
    response::<proto::ListInterfacesResponse, _>(&vec![
        iface.clone(),
        Interface {
            ipv4: None,
            ipv6: Some(v6("::102:304")),
            hostname: None,
            ..iface
        },
    ]);
    response::<proto::CreateInterfaceResponse, _>(&CreatedInterface {
        underlay_route: v6("fc00::1"),
        vf_name: "dtapvf_0".into(),
    });
    let prefixes = vec![PrefixEntry {
        prefix: "10.1.2.3/24".parse().unwrap(),
        underlay_route: v6("fc00:1::d000:1:0:2"),
    }];
    response::<proto::ListPrefixesResponse, _>(&prefixes);
    response::<proto::ListLoadBalancerPrefixesResponse, _>(&prefixes);
    let u = v6("fc00:1::8000:0:1");
    response::<proto::CreatePrefixResponse, _>(&u);
    response::<proto::CreateLoadBalancerPrefixResponse, _>(&u);
    response::<proto::CreateVipResponse, _>(&u);
    response::<proto::CreateNatResponse, _>(&u);
    response::<proto::CreateLoadBalancerResponse, _>(&u);
    response::<proto::GetVipResponse, _>(&Vip {
        ip: IpAddr::from([1, 1, 1, 1]),
        underlay_route: u,
    });
    let lb = LoadBalancer {
        id: "lb1".into(),
        vni: 5,
        ip: v6("fc00::10").into(),
        ports: vec![LbPort {
            protocol: L4Protocol::Tcp,
            port: 443,
        }],
        underlay_route: u,
    };
    response::<proto::ListLoadBalancersResponse, _>(&vec![lb.clone()]);
    // GetLoadBalancer's answer has no ID field.
    response::<proto::GetLoadBalancerResponse, _>(&LoadBalancer {
        id: ObjectId::default(),
        ..lb
    });
    response::<proto::ListLoadBalancerTargetsResponse, _>(&vec![u, v6("::1")]);
    response::<proto::GetNatResponse, _>(&Nat {
        ip: IpAddr::from([1, 2, 3, 4]),
        min_port: 0,
        max_port: 65535,
        underlay_route: u,
    });
    let local = NatEntry {
        kind: NatKind::Local {
            interface_ip: Ipv4Addr::new(10, 0, 0, 1),
        },
        nat_ip: Ipv4Addr::new(1, 2, 3, 4),
        min_port: 1,
        max_port: 2,
        vni: 3,
    };
    let neighbor = NatEntry {
        kind: NatKind::Neighbor { underlay_route: u },
        ..local
    };
    response::<proto::ListLocalNatsResponse, _>(&vec![local]);
    response::<proto::ListNeighborNatsResponse, _>(&vec![neighbor]);
    // A listed route carries no VNI (the client fills in the one it asked for).
    response::<proto::ListRoutesResponse, _>(&vec![Route {
        vni: 0,
        prefix: "10.0.0.0/8".parse().unwrap(),
        nexthop_vni: 7,
        nexthop: u.into(),
    }]);
    response::<proto::CheckVniInUseResponse, _>(&true);
    response::<proto::CheckVniInUseResponse, _>(&false);
    response::<proto::ListFirewallRulesResponse, _>(&rules());
    for rule in rules() {
        response::<proto::GetFirewallRuleResponse, _>(&rule);
    }
    response::<proto::CreateFirewallRuleResponse, _>(&ObjectId::from("fw1"));
    response::<proto::CaptureStatusResponse, CaptureStatus>(&None);
    response::<proto::CaptureStatusResponse, CaptureStatus>(&Some(CaptureConfig {
        sink_node: u,
        udp_src_port: 1,
        udp_dst_port: 2,
        interfaces: vec![
            CapturedInterface::Vf("vm1".into()),
            CapturedInterface::Pf(0),
        ],
    }));
    response::<proto::CaptureStopResponse, _>(&2_u32);
    response::<proto::CheckInitializedResponse, _>(&String::from("A-B"));
    response::<proto::InitializeResponse, _>(&String::from("A-B"));
    response::<proto::GetVersionResponse, _>(&ServiceVersion {
        service_protocol: "v0.4.0".into(),
        service_version: "v0.4.0".into(),
    });
}
