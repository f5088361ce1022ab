//! Golden encodings: messages with fixed values against protobuf bytes computed by hand
//! from the field numbers of grpc-api.md (tag = field_number << 3 | wire_type; wire type
//! 0 = varint, 2 = length-delimited). A wrong field number or type cannot pass. Each
//! message is also decoded from the golden bytes.

use std::fmt::Debug;

use dpservice::model::{CreatedInterface, Interface, Metering};
use dpservice::proto;
use dpservice::proto::captured_interface::Spec;
use dpservice::proto::protocol_filter::Filter;
use prost::Message;

fn check<M: Message + Default + PartialEq + Debug>(message: &M, golden: &[&[u8]]) {
    let golden = golden.concat();
    assert_eq!(message.encode_to_vec(), golden, "encoding of {message:?}");
    assert_eq!(&M::decode(&golden[..]).unwrap(), message);
}

fn ip(ipver: i32, text: &str) -> proto::IpAddress {
    proto::IpAddress {
        ipver,
        address: text.as_bytes().to_vec(),
    }
}

#[test]
fn status() {
    let status = proto::Status {
        code: 205,
        message: "NO_VM".into(),
    };
    check(
        &status,
        &[
            &[0x08, 0xcd, 0x01], // 1 code: varint 205 = 0x4d|0x80, 0x01
            &[0x12, 0x05],       // 2 message: 5 bytes
            b"NO_VM",
        ],
    );
}

#[test]
fn create_interface_request() {
    let request = proto::CreateInterfaceRequest {
        interface_type: proto::InterfaceType::Baremetal as i32,
        interface_id: b"vm1".to_vec(),
        vni: 100,
        ipv4_config: Some(proto::IpConfig {
            primary_address: b"10.0.0.1".to_vec(),
        }),
        ipv6_config: Some(proto::IpConfig {
            primary_address: b"fc00::1".to_vec(),
        }),
        pxe_config: None,
        device_name: "net_tap2".into(),
        metering_parameters: Some(proto::MeteringParams {
            total_rate: 1000,
            public_rate: 0,
        }),
        preferred_underlay_route: b"fc00:1::8000:0:1".to_vec(),
        hostname: "h1".into(),
    };
    check(
        &request,
        &[
            &[0x08, 0x01], // 1 interface_type: BAREMETAL
            &[0x12, 0x03], // 2 interface_id: 3 bytes
            b"vm1",
            &[0x18, 0x64], // 3 vni: 100
            &[0x22, 0x0a], // 4 ipv4_config: 10 bytes
            &[0x0a, 0x08], //   1 primary_address: 8 bytes
            b"10.0.0.1",
            &[0x2a, 0x09], // 5 ipv6_config: 9 bytes
            &[0x0a, 0x07], //   1 primary_address: 7 bytes
            b"fc00::1",
            &[0x3a, 0x08], // 7 device_name: 8 bytes
            b"net_tap2",
            &[0x42, 0x03],       // 8 metering_parameters: 3 bytes
            &[0x08, 0xe8, 0x07], //   1 total_rate: 1000 (public_rate 0 is not sent)
            &[0x4a, 0x10],       // 9 preferred_underlay_route: 16 bytes
            b"fc00:1::8000:0:1",
            &[0x52, 0x02], // 10 hostname: 2 bytes
            b"h1",
        ],
    );
}

#[test]
fn create_route_request() {
    let request = proto::CreateRouteRequest {
        vni: 100,
        route: Some(proto::Route {
            prefix: Some(proto::Prefix {
                ip: Some(ip(0, "10.1.0.0")),
                length: 16,
                underlay_route: Vec::new(),
            }),
            nexthop_vni: 200,
            nexthop_address: Some(ip(1, "fc00::1")),
            weight: 100,
        }),
    };
    check(
        &request,
        &[
            &[0x08, 0x64], // 1 vni: 100
            &[0x12, 0x22], // 2 route: 34 bytes
            &[0x0a, 0x0e], //   1 prefix: 14 bytes
            &[0x0a, 0x0a], //     1 ip: 10 bytes (ipver IPV4 = 0 is not sent)
            &[0x12, 0x08], //       2 address: 8 bytes
            b"10.1.0.0",
            &[0x10, 0x10],       //     2 length: 16
            &[0x10, 0xc8, 0x01], //   2 nexthop_vni: 200
            &[0x1a, 0x0b],       //   3 nexthop_address: 11 bytes
            &[0x08, 0x01],       //     1 ipver: IPV6
            &[0x12, 0x07],       //     2 address: 7 bytes
            b"fc00::1",
            &[0x20, 0x64], //   4 weight: 100
        ],
    );
}

#[test]
fn firewall_rule_with_tcp_filter() {
    let rule = proto::FirewallRule {
        id: b"fw1".to_vec(),
        direction: proto::TrafficDirection::Egress as i32,
        action: proto::FirewallAction::Accept as i32,
        priority: 1000,
        source_prefix: Some(proto::Prefix {
            ip: Some(ip(0, "10.0.0.0")),
            length: 8,
            underlay_route: Vec::new(),
        }),
        destination_prefix: Some(proto::Prefix {
            ip: Some(ip(1, "::")),
            length: 0,
            underlay_route: Vec::new(),
        }),
        protocol_filter: Some(proto::ProtocolFilter {
            filter: Some(Filter::Tcp(proto::TcpFilter {
                src_port_lower: -1,
                src_port_upper: -1,
                dst_port_lower: 80,
                dst_port_upper: 443,
            })),
        }),
    };
    // int32 −1 is a 10-byte varint.
    const MINUS_ONE: &[u8] = &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    check(
        &rule,
        &[
            &[0x0a, 0x03], // 1 id: 3 bytes
            b"fw1",
            &[0x10, 0x01],       // 2 direction: EGRESS
            &[0x18, 0x01],       // 3 action: ACCEPT
            &[0x20, 0xe8, 0x07], // 4 priority: 1000
            &[0x2a, 0x0e],       // 5 source_prefix: 14 bytes
            &[0x0a, 0x0a],       //   1 ip: 10 bytes
            &[0x12, 0x08],       //     2 address: 8 bytes
            b"10.0.0.0",
            &[0x10, 0x08], //   2 length: 8
            &[0x32, 0x08], // 6 destination_prefix: 8 bytes (length 0 not sent)
            &[0x0a, 0x06], //   1 ip: 6 bytes
            &[0x08, 0x01], //     1 ipver: IPV6
            &[0x12, 0x02], //     2 address: 2 bytes
            b"::",
            &[0x3a, 0x1d], // 7 protocol_filter: 29 bytes
            &[0x12, 0x1b], //   2 tcp (oneof): 27 bytes
            &[0x08],       //     1 src_port_lower: −1
            MINUS_ONE,
            &[0x10], //     2 src_port_upper: −1
            MINUS_ONE,
            &[0x18, 0x50],       //     3 dst_port_lower: 80
            &[0x20, 0xbb, 0x03], //     4 dst_port_upper: 443
        ],
    );
}

#[test]
fn captured_interfaces() {
    // The oneof arm is sent even at its default value: PF index 0 must reach the daemon.
    let pf0 = proto::CapturedInterface {
        interface_type: proto::CaptureInterfaceType::SinglePf as i32,
        filter: Vec::new(),
        spec: Some(Spec::PfIndex(0)),
    };
    check(
        &pf0,
        &[
            // 1 interface_type: SINGLE_PF = 0, not sent
            &[0x20, 0x00], // 4 pf_index (oneof): 0
        ],
    );
    let vf = proto::CapturedInterface {
        interface_type: proto::CaptureInterfaceType::SingleVf as i32,
        filter: Vec::new(),
        spec: Some(Spec::VfName(b"vm1".to_vec())),
    };
    check(
        &vf,
        &[
            &[0x08, 0x01], // 1 interface_type: SINGLE_VF
            &[0x1a, 0x03], // 3 vf_name (oneof): 3 bytes
            b"vm1",
        ],
    );
}

/// The server's own conversions: status always present, `0.0.0.0` for a disabled
/// family, `meteringParams` present even when empty, `vf` present (§4.6).
#[test]
fn server_responses() {
    let response = proto::GetInterfaceResponse::from(Interface {
        id: "vm1".into(),
        vni: 7,
        ipv4: None,
        ipv6: Some("fc00::1".parse().unwrap()),
        underlay_route: "fc00:1::d000:1:0:1".parse().unwrap(),
        device: "net_tap2".into(),
        metering: Metering::default(),
        hostname: None,
    });
    check(
        &response,
        &[
            &[0x0a, 0x09], // 1 status: 9 bytes (code 0 not sent)
            &[0x12, 0x07], //   2 message: 7 bytes
            b"Success",
            &[0x12, 0x39], // 2 interface: 57 bytes
            &[0x0a, 0x03], //   1 id: 3 bytes
            b"vm1",
            &[0x10, 0x07], //   2 vni: 7
            &[0x1a, 0x07], //   3 primary_ipv4: 7 bytes
            b"0.0.0.0",
            &[0x22, 0x07], //   4 primary_ipv6: 7 bytes
            b"fc00::1",
            &[0x2a, 0x12], //   5 underlay_route: 18 bytes
            b"fc00:1::d000:1:0:1",
            &[0x32, 0x08], //   6 pci_name: 8 bytes
            b"net_tap2",
            &[0x3a, 0x00], //   7 meteringParams: present, empty
                           //   8 hostname: empty, not sent
        ],
    );
    let response = proto::CreateInterfaceResponse::from(CreatedInterface {
        underlay_route: "::1".parse().unwrap(),
        vf_name: String::new(),
    });
    check(
        &response,
        &[
            &[0x0a, 0x09, 0x12, 0x07], // 1 status { 2 message: 7 bytes }
            b"Success",
            &[0x12, 0x03], // 2 underlay_route: 3 bytes
            b"::1",
            &[0x1a, 0x00], // 3 vf: present, empty
        ],
    );
}
