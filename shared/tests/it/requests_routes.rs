//! Server request conversions: alias and LB prefixes, routes, VIPs.

use std::net::IpAddr;

use dpservice::model::{
    CreateLbPrefix, CreatePrefix, CreateVip, LbPrefixRef, PrefixRef, RequestPrefix, Route, RouteKey,
};
use dpservice::proto;

use crate::table::{check_table, convert, ip, prefix, Case, BAD_UNDERLAY, GOOD_UNDERLAY};

/// The checks both prefix families share; `$create_model` / `$delete_model` pick the
/// family's model types.
macro_rules! prefix_tables {
    ($create:ident => $create_model:ty, $delete:ident => $delete_model:ty) => {{
        fn create() -> proto::$create {
            proto::$create {
                interface_id: b"vm1".to_vec(),
                prefix: Some(prefix(0, "10.1.0.0", 24)),
                preferred_underlay_route: Vec::new(),
            }
        }
        fn delete() -> proto::$delete {
            proto::$delete {
                interface_id: b"vm1".to_vec(),
                prefix: Some(prefix(0, "10.1.0.0", 24)),
            }
        }
        let cases: &[Case<proto::$create>] = &[
            ("Invalid interface_id", |r| r.interface_id.clear()),
            ("Invalid prefix.ip", |r| {
                r.prefix = Some(prefix(0, "10.1.0", 24))
            }),
            ("Invalid prefix.length", |r| {
                r.prefix.as_mut().unwrap().length = 256
            }),
            ("Invalid preferred_underlay_route", |r| {
                r.preferred_underlay_route = BAD_UNDERLAY.to_vec()
            }),
        ];
        check_table::<_, $create_model>(create, cases);
        let cases: &[Case<proto::$delete>] = &[
            ("Invalid interface_id", |r| r.interface_id = vec![b'x'; 64]),
            ("Invalid prefix.ip", |r| {
                r.prefix.as_mut().unwrap().ip = Some(ip(2, "10.1.0.0"))
            }),
            ("Invalid prefix.length", |r| {
                r.prefix.as_mut().unwrap().length = 1 << 20
            }),
        ];
        check_table::<_, $delete_model>(delete, cases);

        let misc: &[Case<proto::$create>] = &[
            ("Invalid prefix.ip", |r| r.prefix = None),
            ("Invalid prefix.ip", |r| {
                r.prefix = Some(prefix(0, "fc00::", 64))
            }),
        ];
        for (message, mutate) in misc {
            let mut r = create();
            mutate(&mut r);
            assert_eq!(convert::<_, $create_model>(r), *message);
        }
        // The address is kept as given (not masked), the underlay inside is ignored.
        let mut r = create();
        r.prefix = Some(proto::Prefix {
            underlay_route: b"garbage".to_vec(),
            ..prefix(1, "fc00:1::5", 64)
        });
        r.preferred_underlay_route = GOOD_UNDERLAY.to_vec();
        let m = <$create_model>::try_from(r).unwrap();
        assert_eq!(m.prefix.to_string(), "fc00:1::5/64");
        assert_eq!(
            m.preferred_underlay,
            Some("fc00:1::8000:0:1".parse().unwrap())
        );
        let m = <$delete_model>::try_from(delete()).unwrap();
        assert_eq!(
            (m.interface_id.as_str(), m.prefix.to_string()),
            (Some("vm1"), "10.1.0.0/24".into())
        );
        (create, delete)
    }};
}

/// A prefix message with `length`, IPv4 or IPv6.
fn sized(v6: bool, length: u32) -> Option<proto::Prefix> {
    Some(if v6 {
        prefix(1, "fc00::", length)
    } else {
        prefix(0, "10.0.0.0", length)
    })
}

#[test]
fn alias_prefix_requests() {
    let (create, delete) = prefix_tables!(
        CreatePrefixRequest => CreatePrefix,
        DeletePrefixRequest => PrefixRef
    );
    // Lengths beyond the family but within 8 bits pass: the daemon's routing table
    // refuses them (303 / 302, §10.2).
    for (v6, length) in [(false, 33), (false, 255), (true, 129), (true, 255)] {
        let mut r = create();
        r.prefix = sized(v6, length);
        let m = CreatePrefix::try_from(r).unwrap();
        assert_eq!(u32::from(m.prefix.len()), length);
        assert!(m.prefix.checked().is_err());
        let mut r = delete();
        r.prefix = sized(v6, length);
        assert_eq!(
            u32::from(PrefixRef::try_from(r).unwrap().prefix.len()),
            length
        );
    }
}

#[test]
fn lb_prefix_requests() {
    let (create, delete) = prefix_tables!(
        CreateLoadBalancerPrefixRequest => CreateLbPrefix,
        DeleteLoadBalancerPrefixRequest => LbPrefixRef
    );
    // Upstream checks no family bound for LB prefixes; we refuse (§10.2, §13 #7).
    for (v6, length) in [(false, 33), (false, 255), (true, 129)] {
        let mut r = create();
        r.prefix = sized(v6, length);
        assert_eq!(convert::<_, CreateLbPrefix>(r), "Invalid prefix.length");
        let mut r = delete();
        r.prefix = sized(v6, length);
        assert_eq!(convert::<_, LbPrefixRef>(r), "Invalid prefix.length");
    }
    let mut r = create();
    r.prefix = sized(true, 128);
    assert_eq!(CreateLbPrefix::try_from(r).unwrap().prefix.len(), 128);
}

fn create_route() -> proto::CreateRouteRequest {
    proto::CreateRouteRequest {
        vni: 100,
        route: Some(proto::Route {
            prefix: Some(prefix(0, "10.2.0.0", 16)),
            nexthop_vni: 200,
            nexthop_address: Some(ip(1, "fc00:2::1")),
            weight: 100,
        }),
    }
}

fn route(r: &mut proto::CreateRouteRequest) -> &mut proto::Route {
    r.route.as_mut().unwrap()
}

#[test]
fn route_requests() {
    // Routes check the length before the address.
    let cases: &[Case<proto::CreateRouteRequest>] = &[
        ("Invalid route.prefix.length", |r| {
            route(r).prefix.as_mut().unwrap().length = 256
        }),
        ("Invalid route.prefix.ip", |r| {
            route(r).prefix.as_mut().unwrap().ip = Some(ip(0, "10.2.0"))
        }),
        ("Invalid route.nexthop_address", |r| {
            route(r).nexthop_address = Some(ip(1, "fc00::2::1"))
        }),
    ];
    check_table::<_, Route>(create_route, cases);
    let m = Route::try_from(create_route()).unwrap();
    assert_eq!(
        m,
        Route {
            vni: 100,
            prefix: "10.2.0.0/16".parse().unwrap(),
            nexthop_vni: 200,
            nexthop: "fc00:2::1".parse().unwrap(),
        }
    );
    // A length beyond the family passes (the daemon answers 303 / 302, §10.2).
    for (ipver, text, length) in [
        (0, "10.2.0.0", 33u8),
        (0, "10.2.0.0", 255),
        (1, "fc00::", 129),
    ] {
        let wire = || Some(prefix(ipver, text, u32::from(length)));
        let mut r = create_route();
        route(&mut r).prefix = wire();
        let m = Route::try_from(r).unwrap();
        assert_eq!(m.prefix, RequestPrefix::new(text.parse().unwrap(), length));
        let r = proto::DeleteRouteRequest {
            vni: 7,
            route: Some(proto::Route {
                prefix: wire(),
                ..Default::default()
            }),
        };
        assert_eq!(RouteKey::try_from(r).unwrap().prefix.len(), length);
    }
    // An IPv4 next hop passes (the daemon answers 204); an absent route has no address.
    let mut r = create_route();
    route(&mut r).nexthop_address = Some(ip(0, "1.2.3.4"));
    assert_eq!(
        Route::try_from(r).unwrap().nexthop,
        IpAddr::from([1, 2, 3, 4])
    );
    let r = proto::CreateRouteRequest {
        vni: 1,
        route: None,
    };
    assert_eq!(convert::<_, Route>(r), "Invalid route.prefix.ip");
    let mut r = create_route();
    route(&mut r).nexthop_address = None;
    assert_eq!(convert::<_, Route>(r), "Invalid route.nexthop_address");

    fn delete() -> proto::DeleteRouteRequest {
        proto::DeleteRouteRequest {
            vni: 7,
            route: Some(proto::Route {
                prefix: Some(prefix(1, "fc00:5::", 48)),
                ..Default::default()
            }),
        }
    }
    let cases: &[Case<proto::DeleteRouteRequest>] = &[
        ("Invalid route.prefix.length", |r| {
            r.route.as_mut().unwrap().prefix.as_mut().unwrap().length = 300
        }),
        ("Invalid route.prefix.ip", |r| {
            r.route.as_mut().unwrap().prefix.as_mut().unwrap().ip = Some(ip(0, "fc00:5::"))
        }),
    ];
    check_table::<_, RouteKey>(delete, cases);
    let m = RouteKey::try_from(delete()).unwrap();
    assert_eq!((m.vni, m.prefix.to_string()), (7, "fc00:5::/48".into()));

    let list = |vni| Option::<u32>::try_from(proto::ListRoutesRequest { vni });
    assert_eq!((list(0), list(5)), (Ok(None), Ok(Some(5))));
}

#[test]
fn vip_requests() {
    fn create() -> proto::CreateVipRequest {
        proto::CreateVipRequest {
            interface_id: b"vm1".to_vec(),
            vip_ip: Some(ip(0, "172.16.0.1")),
            preferred_underlay_route: GOOD_UNDERLAY.to_vec(),
        }
    }
    let cases: &[Case<proto::CreateVipRequest>] = &[
        ("Invalid interface_id", |r| r.interface_id.clear()),
        ("Invalid vip_ip", |r| r.vip_ip = None),
        ("Invalid preferred_underlay_route", |r| {
            r.preferred_underlay_route = b"fc00:1::8000:0:1:2:3".to_vec()
        }),
    ];
    check_table::<_, CreateVip>(create, cases);
    let m = CreateVip::try_from(create()).unwrap();
    assert_eq!(m.ip, IpAddr::from([172, 16, 0, 1]));
    // An IPv6 VIP passes (the daemon answers 204).
    let mut r = create();
    r.vip_ip = Some(ip(1, "fc00::5"));
    assert_eq!(
        CreateVip::try_from(r).unwrap().ip,
        "fc00::5".parse::<IpAddr>().unwrap()
    );
}
