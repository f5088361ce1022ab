//! Server request conversions: interfaces, ID-only requests, version, VNI.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dpservice::model::{
    ClientVersion, CreateInterface, FromRequest, InvalidArgument, Metering, ObjectId, Pxe,
    RequestContext, VniQuery, VniType,
};
use dpservice::proto;

use crate::table::{check_table, convert, Case, BAD_UNDERLAY, GOOD_UNDERLAY};

fn create_interface() -> proto::CreateInterfaceRequest {
    proto::CreateInterfaceRequest {
        interface_type: 0,
        interface_id: b"vm-1_A".to_vec(),
        vni: 100,
        ipv4_config: Some(proto::IpConfig {
            primary_address: b"10.0.0.1".to_vec(),
        }),
        ipv6_config: Some(proto::IpConfig {
            primary_address: b"fc00::1".to_vec(),
        }),
        pxe_config: Some(proto::PxeConfig {
            next_server: "fc00::99".into(),
            boot_filename: "ipxe.efi".into(),
        }),
        device_name: "net_tap2".into(),
        metering_parameters: Some(proto::MeteringParams {
            total_rate: 100,
            public_rate: 50,
        }),
        preferred_underlay_route: GOOD_UNDERLAY.to_vec(),
        hostname: "vm1.example".into(),
    }
}

fn v4(r: &mut proto::CreateInterfaceRequest, text: &str) {
    r.ipv4_config = Some(proto::IpConfig {
        primary_address: text.as_bytes().to_vec(),
    });
}

fn v6(r: &mut proto::CreateInterfaceRequest, text: &str) {
    r.ipv6_config = Some(proto::IpConfig {
        primary_address: text.as_bytes().to_vec(),
    });
}

fn pxe(r: &mut proto::CreateInterfaceRequest) -> &mut proto::PxeConfig {
    r.pxe_config.get_or_insert_with(Default::default)
}

#[test]
fn create_interface_checks_in_upstream_order() {
    let cases: &[Case<proto::CreateInterfaceRequest>] = &[
        ("Invalid interface_id", |r| {
            r.interface_id = b"vm 1".to_vec()
        }),
        ("Invalid ipv4_config.primary_address", |r| v4(r, "10.0.0")),
        ("Invalid ipv6_config.primary_address", |r| v6(r, "fc00::x")),
        (
            "Invalid ipv4_config.primary_address and ipv6_config.primary_address combination",
            |r| {
                v4(r, "0.0.0.0");
                v6(r, "::");
            },
        ),
        // IPv6 is enabled, so the boot server must be IPv6.
        ("Invalid pxe_config.next_server", |r| {
            pxe(r).next_server = "10.0.0.5".into()
        }),
        ("Invalid pxe_config.boot_filename", |r| {
            pxe(r).boot_filename = "f".repeat(32)
        }),
        ("Invalid device_name", |r| r.device_name = String::new()),
        ("Invalid interface_id", |r| r.interface_id = vec![b'a'; 64]),
        ("Invalid hostname", |r| r.hostname = "h".repeat(64)),
        ("Invalid preferred_underlay_route", |r| {
            r.preferred_underlay_route = BAD_UNDERLAY.to_vec()
        }),
    ];
    check_table::<_, CreateInterface>(create_interface, cases);
}

#[test]
fn create_interface_field_values() {
    let m = CreateInterface::try_from(create_interface()).unwrap();
    assert_eq!(
        m,
        CreateInterface {
            id: "vm-1_A".into(),
            vni: 100,
            ipv4: Some(Ipv4Addr::new(10, 0, 0, 1)),
            ipv6: Some("fc00::1".parse().unwrap()),
            pxe: Some(Pxe {
                next_server: "fc00::99".parse().unwrap(),
                boot_filename: "ipxe.efi".into(),
            }),
            device: "net_tap2".into(),
            metering: Metering {
                total_rate: 100,
                public_rate: 50,
            },
            preferred_underlay: Some("fc00:1::8000:0:1".parse().unwrap()),
            hostname: Some("vm1.example".into()),
        }
    );

    // Without IPv6 the boot server is IPv4; empty optional parts read as "none".
    let mut r = create_interface();
    v6(&mut r, "::");
    pxe(&mut r).next_server = "10.0.0.5".into();
    r.hostname.clear();
    r.preferred_underlay_route = b"::".to_vec();
    r.metering_parameters = None;
    r.interface_type = 99; // never read
    let m = CreateInterface::try_from(r).unwrap();
    assert_eq!(m.ipv6, None);
    assert_eq!(m.pxe.unwrap().next_server, IpAddr::from([10, 0, 0, 5]));
    assert_eq!((m.hostname, m.preferred_underlay), (None, None));
    assert_eq!(m.metering, Metering::default());

    let mut r = create_interface();
    v6(&mut r, "::");
    pxe(&mut r).next_server = "fc00::99".into();
    assert_eq!(
        convert::<_, CreateInterface>(r),
        "Invalid pxe_config.next_server"
    );

    // No next server: no PXE, and the boot file name is not looked at.
    let mut r = create_interface();
    r.pxe_config = Some(proto::PxeConfig {
        next_server: String::new(),
        boot_filename: "f".repeat(99),
    });
    assert_eq!(CreateInterface::try_from(r).unwrap().pxe, None);

    // Disabled IPv4, and the longest allowed texts.
    let mut r = create_interface();
    v4(&mut r, "0.0.0.0");
    r.interface_id = vec![b'a'; 63];
    r.device_name = "d".repeat(63);
    r.hostname = "h".repeat(63);
    pxe(&mut r).boot_filename = "f".repeat(31);
    let m = CreateInterface::try_from(r).unwrap();
    assert_eq!((m.ipv4, m.id.len()), (None, 63));
}

#[test]
fn create_interface_absent_and_odd_values() {
    let cases: &[Case<proto::CreateInterfaceRequest>] = &[
        ("Invalid ipv4_config.primary_address", |r| {
            r.ipv4_config = None
        }),
        ("Invalid ipv6_config.primary_address", |r| {
            r.ipv6_config = None
        }),
        ("Invalid interface_id", |r| {
            r.interface_id = b"vm\x001".to_vec()
        }),
        ("Invalid interface_id", |r| r.interface_id = Vec::new()),
        ("Invalid interface_id", |r| {
            r.interface_id = "vé".as_bytes().to_vec()
        }),
        ("Invalid ipv4_config.primary_address", |r| {
            v4(r, "010.0.0.1")
        }),
        ("Invalid ipv4_config.primary_address", |r| v4(r, "fc00::1")),
        ("Invalid ipv6_config.primary_address", |r| v6(r, "10.0.0.1")),
        ("Invalid ipv6_config.primary_address", |r| {
            v6(r, "fe80::1%eth0")
        }),
        ("Invalid pxe_config.boot_filename", |r| {
            pxe(r).boot_filename.clear()
        }),
        ("Invalid device_name", |r| r.device_name = "d".repeat(64)),
        ("Invalid hostname", |r| r.hostname = "a\0b".into()),
        ("Invalid preferred_underlay_route", |r| {
            r.preferred_underlay_route = b"10.0.0.1".to_vec()
        }),
    ];
    for (message, mutate) in cases {
        let mut r = create_interface();
        mutate(&mut r);
        assert_eq!(convert::<_, CreateInterface>(r), *message);
    }
}

/// The /64 check of a preferred underlay needs the host and happens at its place.
#[test]
fn preferred_underlay_needs_the_host_prefix() {
    let host = RequestContext::new("fc00:1::1".parse().unwrap());
    let other = RequestContext::new("fc00:9::1".parse().unwrap());
    assert!(CreateInterface::from_request(create_interface(), &host).is_ok());
    assert_eq!(
        CreateInterface::from_request(create_interface(), &other),
        Err(InvalidArgument("Invalid preferred_underlay_route"))
    );
    // A later-checked field does not hide it, an earlier one does.
    let mut r = create_interface();
    r.hostname = "h".repeat(64);
    assert_eq!(
        other.parse::<_, CreateInterface>(r).unwrap_err().message(),
        "Invalid hostname"
    );
}

macro_rules! id_request_cases {
    ($($request:ident . $field:ident => $message:literal),+ $(,)?) => {$(
        let make = |id: &[u8]| proto::$request { $field: id.to_vec() };
        assert_eq!(ObjectId::try_from(make(b"vm1")).unwrap(), "vm1");
        // Any content goes (upstream only measures the length), kept byte for byte.
        assert_eq!(ObjectId::try_from(make(b"a b/c")).unwrap(), "a b/c");
        assert_eq!(ObjectId::try_from(make(b"id\xff")).unwrap().as_bytes(), b"id\xff");
        assert_eq!(ObjectId::try_from(make(&[b'x'; 63])).unwrap().len(), 63);
        for bad in [&b""[..], &[b'x'; 64], b"vm\x001"] {
            assert_eq!(convert::<_, ObjectId>(make(bad)), $message, "{:?}", bad);
        }
    )+};
}

#[test]
fn id_only_requests() {
    id_request_cases!(
        GetInterfaceRequest.interface_id => "Invalid interface_id",
        DeleteInterfaceRequest.interface_id => "Invalid interface_id",
        ListPrefixesRequest.interface_id => "Invalid interface_id",
        ListLoadBalancerPrefixesRequest.interface_id => "Invalid interface_id",
        GetVipRequest.interface_id => "Invalid interface_id",
        DeleteVipRequest.interface_id => "Invalid interface_id",
        GetNatRequest.interface_id => "Invalid interface_id",
        DeleteNatRequest.interface_id => "Invalid interface_id",
        ListFirewallRulesRequest.interface_id => "Invalid interface_id",
        GetLoadBalancerRequest.loadbalancer_id => "Invalid loadbalancer_id",
        DeleteLoadBalancerRequest.loadbalancer_id => "Invalid loadbalancer_id",
    );
}

#[test]
fn list_load_balancer_targets_accepts_empty_id() {
    let make = |id: &[u8]| proto::ListLoadBalancerTargetsRequest {
        loadbalancer_id: id.to_vec(),
    };
    assert_eq!(Option::<ObjectId>::try_from(make(b"")), Ok(None));
    assert_eq!(
        Option::<ObjectId>::try_from(make(b"lb1")),
        Ok(Some("lb1".into()))
    );
    assert_eq!(
        convert::<_, Option<ObjectId>>(make(&[b'l'; 64])),
        "Invalid loadbalancer_id"
    );
}

#[test]
fn version_request() {
    fn base() -> proto::GetVersionRequest {
        proto::GetVersionRequest {
            client_protocol: "v0.3.17".into(),
            client_name: "dpservice-cli".into(),
            client_version: "0.1".into(),
        }
    }
    let cases: &[Case<proto::GetVersionRequest>] = &[
        ("Invalid client_protocol", |r| r.client_protocol.clear()),
        ("Invalid client_name", |r| r.client_name = "n".repeat(64)),
        ("Invalid client_version", |r| r.client_version.clear()),
    ];
    check_table::<_, ClientVersion>(base, cases);
    assert_eq!(
        ClientVersion::try_from(base()).unwrap().client_name,
        "dpservice-cli"
    );
}

#[test]
fn vni_requests() {
    for (number, vni_type) in [(0, VniType::Ipv4), (1, VniType::Ipv6), (2, VniType::Both)] {
        let r = proto::CheckVniInUseRequest {
            vni: u32::MAX,
            r#type: number,
        };
        let q = VniQuery {
            vni: u32::MAX,
            vni_type,
        };
        assert_eq!(VniQuery::try_from(r), Ok(q));
        let r = proto::ResetVniRequest {
            vni: 0,
            r#type: number,
        };
        assert_eq!(VniQuery::try_from(r).unwrap().vni_type, vni_type);
    }
    for bad in [3, -1, 99] {
        let r = proto::CheckVniInUseRequest {
            vni: 1,
            r#type: bad,
        };
        assert_eq!(convert::<_, VniQuery>(r), "Invalid type");
        let r = proto::ResetVniRequest {
            vni: 1,
            r#type: bad,
        };
        assert_eq!(convert::<_, VniQuery>(r), "Invalid type");
    }
}

#[test]
fn unspecified_preferred_underlay_means_generate() {
    let host = RequestContext::new(Ipv6Addr::LOCALHOST);
    for text in [&b""[..], b"::", b"0::0"] {
        assert_eq!(host.preferred_underlay(text), Ok(None));
    }
}
