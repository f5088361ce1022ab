//! Server request conversions: load balancers, targets, NATs, neighbour NATs.

use std::net::{IpAddr, Ipv4Addr};

use dpservice::model::{
    CreateLoadBalancer, CreateNat, FromRequest, InvalidArgument, L4Protocol, LbPort,
    LoadBalancerTarget, NeighborNat, NeighborNatKey, RequestContext,
};
use dpservice::proto;

use crate::table::{check_table, convert, ip, Case, BAD_UNDERLAY, GOOD_UNDERLAY};

const TCP: i32 = proto::Protocol::Tcp as i32;
const UDP: i32 = proto::Protocol::Udp as i32;

fn lb_port(port: u32, protocol: i32) -> proto::LbPort {
    proto::LbPort { port, protocol }
}

fn create_lb() -> proto::CreateLoadBalancerRequest {
    proto::CreateLoadBalancerRequest {
        loadbalancer_id: b"lb-1".to_vec(),
        loadbalanced_ip: Some(ip(0, "10.20.0.1")),
        vni: 0xFF_FFFF,
        loadbalanced_ports: vec![lb_port(80, TCP), lb_port(80, UDP)],
        preferred_underlay_route: Vec::new(),
    }
}

#[test]
fn create_load_balancer_checks_in_upstream_order() {
    let cases: &[Case<proto::CreateLoadBalancerRequest>] = &[
        ("Invalid loadbalancer_id", |r| r.loadbalancer_id.clear()),
        ("VNI exceeds 24-bit range", |r| r.vni = 0x100_0000),
        ("Invalid loadbalanced_ip", |r| {
            r.loadbalanced_ip = Some(ip(1, "10.20.0.1"))
        }),
        ("Too many loadbalanced_ports", |r| {
            // 16 ports, the additional ones distinct and valid.
            (1000..1014).for_each(|p| r.loadbalanced_ports.push(lb_port(p, TCP)))
        }),
        ("Invalid preferred_underlay_route", |r| {
            r.preferred_underlay_route = BAD_UNDERLAY.to_vec()
        }),
        ("Invalid loadbalanced_ports.port", |r| {
            r.loadbalanced_ports[0].port = 65536
        }),
        ("Invalid loadbalanced_ports.protocol", |r| {
            r.loadbalanced_ports[0].protocol = proto::Protocol::Icmp as i32
        }),
        ("Duplicate loadbalanced_ports entry", |r| {
            r.loadbalanced_ports[1] = r.loadbalanced_ports[0]
        }),
    ];
    check_table::<_, CreateLoadBalancer>(create_lb, cases);
}

#[test]
fn create_load_balancer_values() {
    let m = CreateLoadBalancer::try_from(create_lb()).unwrap();
    assert_eq!(
        m,
        CreateLoadBalancer {
            id: "lb-1".into(),
            vni: 0xFF_FFFF,
            ip: IpAddr::from([10, 20, 0, 1]),
            ports: vec![
                LbPort {
                    protocol: L4Protocol::Tcp,
                    port: 80
                },
                LbPort {
                    protocol: L4Protocol::Udp,
                    port: 80
                },
            ],
            preferred_underlay: None,
        }
    );
    let bad: &[Case<proto::CreateLoadBalancerRequest>] = &[
        // Port 0 would be an invisible empty slot: refused (hardening, §10.4).
        ("Invalid loadbalanced_ports.port", |r| {
            r.loadbalanced_ports[1].port = 0
        }),
        ("Invalid loadbalanced_ports.protocol", |r| {
            r.loadbalanced_ports[1].protocol = 0
        }),
        ("Invalid loadbalanced_ports.protocol", |r| {
            r.loadbalanced_ports[1].protocol = 132
        }),
        ("Invalid loadbalanced_ports.protocol", |r| {
            r.loadbalanced_ports[1].protocol = 58
        }),
        ("Invalid loadbalanced_ports.protocol", |r| {
            r.loadbalanced_ports[1].protocol = 99
        }),
        ("Invalid loadbalancer_id", |r| {
            r.loadbalancer_id = vec![b'l'; 64]
        }),
        ("Invalid loadbalancer_id", |r| {
            r.loadbalancer_id = b"lb\x00".to_vec()
        }),
        ("Invalid loadbalanced_ip", |r| r.loadbalanced_ip = None),
    ];
    for (message, mutate) in bad {
        let mut r = create_lb();
        mutate(&mut r);
        assert_eq!(convert::<_, CreateLoadBalancer>(r), *message);
    }
    // IPv6 VIPs, no ports and 15 ports are fine.
    let mut r = create_lb();
    r.loadbalanced_ip = Some(ip(1, "fc00::10"));
    r.loadbalanced_ports.clear();
    assert!(CreateLoadBalancer::try_from(r).is_ok());
    let mut r = create_lb();
    (1000..1013).for_each(|p| r.loadbalanced_ports.push(lb_port(p, UDP)));
    assert_eq!(CreateLoadBalancer::try_from(r).unwrap().ports.len(), 15);
}

/// The /64 check happens before the per-port checks.
#[test]
fn create_load_balancer_underlay_before_ports() {
    let other_host = RequestContext::new("fc00:9::1".parse().unwrap());
    let mut r = create_lb();
    r.preferred_underlay_route = GOOD_UNDERLAY.to_vec();
    r.loadbalanced_ports[0].port = 70000;
    assert_eq!(
        CreateLoadBalancer::from_request(r.clone(), &other_host),
        Err(InvalidArgument("Invalid preferred_underlay_route"))
    );
    let host = RequestContext::new("fc00:1::1".parse().unwrap());
    assert_eq!(
        CreateLoadBalancer::from_request(r, &host),
        Err(InvalidArgument("Invalid loadbalanced_ports.port"))
    );
}

macro_rules! target_table {
    ($request:ident) => {{
        fn base() -> proto::$request {
            proto::$request {
                loadbalancer_id: b"lb-1".to_vec(),
                target_ip: Some(ip(1, "fc00:3::1")),
            }
        }
        let cases: &[Case<proto::$request>] = &[
            ("Invalid loadbalancer_id", |r| r.loadbalancer_id.clear()),
            ("Invalid target_ip", |r| {
                r.target_ip = Some(ip(1, "fc00:3::1/64"))
            }),
        ];
        check_table::<_, LoadBalancerTarget>(base, cases);
        // An IPv4 target passes (the daemon answers 204).
        let mut r = base();
        r.target_ip = Some(ip(0, "10.0.0.1"));
        let m = LoadBalancerTarget::try_from(r).unwrap();
        assert_eq!(
            (m.loadbalancer_id.as_str(), m.target),
            (Some("lb-1"), IpAddr::from([10, 0, 0, 1]))
        );
    }};
}

#[test]
fn load_balancer_target_requests() {
    target_table!(CreateLoadBalancerTargetRequest);
    target_table!(DeleteLoadBalancerTargetRequest);
}

fn create_nat() -> proto::CreateNatRequest {
    proto::CreateNatRequest {
        interface_id: b"vm1".to_vec(),
        nat_ip: Some(ip(0, "172.20.0.1")),
        min_port: 0,
        max_port: 65535,
        preferred_underlay_route: GOOD_UNDERLAY.to_vec(),
    }
}

#[test]
fn create_nat_checks_in_upstream_order() {
    let cases: &[Case<proto::CreateNatRequest>] = &[
        ("Invalid interface_id", |r| r.interface_id = vec![b'i'; 64]),
        ("Invalid nat_ip", |r| r.nat_ip = Some(ip(0, "172.20.0.256"))),
        ("Invalid min_port", |r| r.min_port = 65536),
        ("Invalid max_port", |r| r.max_port = 65536),
        ("Invalid port range", |r| {
            r.min_port = 100;
            r.max_port = 100;
        }),
        ("Invalid preferred_underlay_route", |r| {
            r.preferred_underlay_route = BAD_UNDERLAY.to_vec()
        }),
    ];
    check_table::<_, CreateNat>(create_nat, cases);
    let m = CreateNat::try_from(create_nat()).unwrap();
    assert_eq!((m.min_port, m.max_port), (0, 65535));
    let mut r = create_nat();
    (r.min_port, r.max_port) = (200, 100);
    assert_eq!(convert::<_, CreateNat>(r), "Invalid port range");
    let mut r = create_nat();
    r.nat_ip = Some(ip(1, "fc00::1"));
    assert!(CreateNat::try_from(r).unwrap().ip.is_ipv6());
}

fn neighbor() -> proto::CreateNeighborNatRequest {
    proto::CreateNeighborNatRequest {
        nat_ip: Some(ip(0, "172.20.0.1")),
        vni: 100,
        min_port: 1000,
        max_port: 2000,
        underlay_route: b"fc00:2::d000:1:0:1".to_vec(),
    }
}

#[test]
fn neighbor_nat_requests() {
    let cases: &[Case<proto::CreateNeighborNatRequest>] = &[
        ("Invalid nat_ip", |r| r.nat_ip = None),
        ("Invalid min_port", |r| r.min_port = u32::MAX),
        ("Invalid max_port", |r| r.max_port = 1 << 16),
        ("Invalid port range", |r| r.max_port = r.min_port),
        ("Invalid underlay_route", |r| r.underlay_route.clear()),
    ];
    check_table::<_, NeighborNat>(neighbor, cases);
    let m = NeighborNat::try_from(neighbor()).unwrap();
    // Another host's underlay: no prefix or flag check.
    assert_eq!(
        m.underlay_route,
        "fc00:2::d000:1:0:1".parse::<std::net::Ipv6Addr>().unwrap()
    );
    let mut r = neighbor();
    r.underlay_route = b"10.0.0.1".to_vec();
    assert_eq!(convert::<_, NeighborNat>(r), "Invalid underlay_route");

    fn delete() -> proto::DeleteNeighborNatRequest {
        proto::DeleteNeighborNatRequest {
            nat_ip: Some(ip(0, "172.20.0.1")),
            vni: 100,
            min_port: 1000,
            max_port: 2000,
        }
    }
    let cases: &[Case<proto::DeleteNeighborNatRequest>] = &[
        ("Invalid nat_ip", |r| r.nat_ip = Some(ip(5, "172.20.0.1"))),
        ("Invalid min_port", |r| r.min_port = 70000),
        ("Invalid max_port", |r| r.max_port = 70000),
        ("Invalid port range", |r| r.min_port = 3000),
    ];
    check_table::<_, NeighborNatKey>(delete, cases);
    let m = NeighborNatKey::try_from(delete()).unwrap();
    assert_eq!((m.vni, m.min_port, m.max_port), (100, 1000, 2000));
}

macro_rules! nat_list {
    ($request:ident) => {{
        let make = |ipver, text| proto::$request {
            nat_ip: Some(ip(ipver, text)),
        };
        assert_eq!(Option::<IpAddr>::try_from(make(0, "0.0.0.0")), Ok(None));
        assert_eq!(
            Option::<IpAddr>::try_from(make(0, "1.2.3.4")),
            Ok(Some(IpAddr::from([1, 2, 3, 4])))
        );
        // IPv6 (even `::`) passes; the daemon answers 204.
        assert_eq!(
            Option::<IpAddr>::try_from(make(1, "::")),
            Ok(Some(IpAddr::from(std::net::Ipv6Addr::UNSPECIFIED)))
        );
        assert_eq!(convert::<_, Option<IpAddr>>(make(0, "")), "Invalid nat_ip");
        assert_eq!(
            convert::<_, Option<IpAddr>>(proto::$request { nat_ip: None }),
            "Invalid nat_ip"
        );
        // The client's "all" is `0.0.0.0`, never an empty address.
        let all = proto::$request::from(None);
        assert_eq!(all.nat_ip, Some(ip(0, "0.0.0.0")));
        let one = proto::$request::from(Some(IpAddr::from(Ipv4Addr::new(9, 9, 9, 9))));
        assert_eq!(one.nat_ip, Some(ip(0, "9.9.9.9")));
    }};
}

#[test]
fn nat_list_requests() {
    nat_list!(ListLocalNatsRequest);
    nat_list!(ListNeighborNatsRequest);
}
