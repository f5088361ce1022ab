//! Local services (dataplane.md §5): ARP, DHCPv4, DHCPv6, ND. Expected answers are written
//! out byte by byte; checksums were computed with an independent RFC 1071 script.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::harness::*;
use crate::graph::{DropReason, GraphConfig, GraphEvent};
use crate::wire::ethernet::{ethertype, MacAddr};
use crate::wire::ip_proto;

const BCAST: [u8; 6] = [0xff; 6];
const VM1M: [u8; 6] = VM1_MAC.0;
const VF0M: [u8; 6] = VF0_MAC.0;
const VM_LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x5054, 0xff, 0xfe00, 1);

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn arp_request(sender_ip: [u8; 4], target_ip: [u8; 4]) -> Vec<u8> {
    cat(&[
        &BCAST,
        &VM1M,
        &[0x08, 0x06],
        &[0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01],
        &VM1M,
        &sender_ip,
        &[0; 6],
        &target_ip,
    ])
}

#[test]
fn arp_request_for_gateway_is_answered() {
    let mut h = Harness::new(pytest_config());
    let out = h.send_one(VF0, &arp_request([0, 0, 0, 0], [169, 254, 0, 1]), VF0);
    let expect = cat(&[
        &VM1M,
        &VF0M,
        &[0x08, 0x06],
        &[0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02],
        &VF0M,
        &[169, 254, 0, 1],
        &VM1M,
        &[0, 0, 0, 0],
    ]);
    assert_eq!(out, expect);
}

#[test]
fn arp_cycle_learns_the_vm_mac() {
    let mut h = Harness::new(pytest_config());
    // periodic ARP asks for the VM's own address while the cycle is pending
    h.graph.inject_periodic(&h.state);
    let periodic = h.collect();
    let arp_to_vf0: Vec<_> = periodic
        .iter()
        .filter(|(p, f)| *p == VF0 && f[12..14] == [0x08, 0x06])
        .collect();
    assert_eq!(arp_to_vf0.len(), 1);
    assert_eq!(&arp_to_vf0[0].1[38..42], &VM1_IP.octets());

    // the VM answers (sender = its own address): learned, reflected unchanged
    let reply = cat(&[
        &VF0M,
        &VM1M,
        &[0x08, 0x06],
        &[0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02],
        &VM1M,
        &VM1_IP.octets(),
        &VF0M,
        &[169, 254, 0, 1],
    ]);
    let out = h.send_one(VF0, &reply, VF0);
    assert_eq!(out, reply);
    assert_eq!(h.graph.port(VF0).unwrap().neigh_mac, VM1_MAC);
    assert!(h.graph.port(VF0).unwrap().arp_done);
    let events: Vec<_> = h.graph.drain_events().collect();
    assert_eq!(
        events,
        vec![GraphEvent::NeighMacChanged {
            port: VF0,
            mac: VM1_MAC
        }]
    );

    // from now on the periodic ARP is gratuitous (target = gateway)
    h.graph.inject_periodic(&h.state);
    let periodic = h.collect();
    let arp = periodic
        .iter()
        .find(|(p, f)| *p == VF0 && f[12..14] == [0x08, 0x06])
        .unwrap();
    assert_eq!(&arp.1[38..42], &[169, 254, 0, 1]);
    // and restarting the port (DeleteInterface + CreateInterface) restarts the cycle but
    // keeps the learned MAC
    h.graph.stop_port(VF0);
    h.graph.start_port(VF0);
    assert!(!h.graph.port(VF0).unwrap().arp_done);
    assert_eq!(h.graph.port(VF0).unwrap().neigh_mac, VM1_MAC);
}

#[test]
fn first_gateway_request_completes_the_cycle_and_is_answered() {
    // Regression: upstream (and our first version) reflected this request unchanged, so a
    // new VM's first ping waited for the kernel's ARP retransmit, one second later.
    let mut h = Harness::new(pytest_config());
    let out = h.send_one(VF0, &arp_request(VM1_IP.octets(), [169, 254, 0, 1]), VF0);
    let expect = cat(&[
        &VM1M,
        &VF0M,
        &[0x08, 0x06],
        &[0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02],
        &VF0M,
        &[169, 254, 0, 1],
        &VM1M,
        &VM1_IP.octets(),
    ]);
    assert_eq!(out, expect);
    assert!(h.graph.port(VF0).unwrap().arp_done);
    assert_eq!(h.graph.port(VF0).unwrap().neigh_mac, VM1_MAC);
}

#[test]
fn arp_drops() {
    let mut h = Harness::new(pytest_config());
    h.send_dropped(
        VF0,
        &arp_request([0, 0, 0, 0], [10, 100, 1, 2]),
        DropReason::ArpNotForGateway,
    );
    h.send_dropped(
        PF0,
        &arp_request([0, 0, 0, 0], [169, 254, 0, 1]),
        DropReason::AnswerToPf,
    );
    let mut bad = arp_request([0, 0, 0, 0], [169, 254, 0, 1]);
    bad[19] = 16; // protocol length
    h.send_dropped(VF0, &bad, DropReason::NotIp);
}

pub(super) fn dhcp_request(msg_type: u8, extra_opts: &[u8]) -> Vec<u8> {
    let mut bootp = vec![1, 1, 6, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0x80, 0];
    bootp.extend_from_slice(&[0; 16]); // ciaddr, yiaddr, siaddr, giaddr
    bootp.extend_from_slice(&VM1M);
    bootp.extend_from_slice(&[0; 10 + 64 + 128]);
    bootp.extend_from_slice(&[0x63, 0x82, 0x53, 0x63]);
    bootp.extend_from_slice(&[53, 1, msg_type, 55, 3, 1, 3, 6]);
    bootp.extend_from_slice(extra_opts);
    bootp.push(255);
    let ip = ipv4_packet(
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::BROADCAST,
        ip_proto::UDP,
        &udp_datagram(68, 67, &bootp),
    );
    eth(MacAddr::BROADCAST, VM1_MAC, ethertype::IPV4, &ip)
}

pub(super) fn dhcp_answer(msg_type: u8, ip_cksum: [u8; 2], udp_cksum: [u8; 2]) -> Vec<u8> {
    cat(&[
        &VM1M,
        &VF0M,
        &[0x08, 0x00],
        // IPv4: total 326, id 1, TTL 64 (copied), 169.254.0.1 -> 10.100.1.1
        &[0x45, 0x00, 0x01, 0x46, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11],
        &ip_cksum,
        &[169, 254, 0, 1, 10, 100, 1, 1],
        // UDP 67 -> 68, length 306
        &[0x00, 0x43, 0x00, 0x44, 0x01, 0x32],
        &udp_cksum,
        // BOOTP reply: xid, secs, flags copied; yiaddr, siaddr, giaddr; chaddr
        &[2, 1, 6, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0x80, 0],
        &[0, 0, 0, 0, 10, 100, 1, 1, 169, 254, 0, 1, 169, 254, 0, 1],
        &VM1M,
        &[0; 10 + 64 + 128],
        &[0x63, 0x82, 0x53, 0x63],
        // options in upstream's order
        &[53, 1, msg_type],
        &[51, 4, 0xff, 0xff, 0xff, 0xff],
        &[54, 4, 169, 254, 0, 1],
        &[
            121, 20, 16, 169, 254, 0, 0, 0, 0, 0, 169, 254, 0, 1, 24, 169, 254, 1, 169, 254, 0, 1,
        ],
        &[1, 4, 0xff, 0xff, 0xff, 0xff],
        &[26, 2, 0x05, 0x39],
        &[6, 8, 8, 8, 4, 4, 8, 8, 8, 8],
        &[255],
    ])
}

#[test]
fn dhcp_discover_gets_offer_golden() {
    let mut h = Harness::new(pytest_config());
    let out = h.send_one(VF0, &dhcp_request(1, &[]), VF0);
    assert_eq!(out, dhcp_answer(2, [0xc4, 0x42], [0xe2, 0x09]));
    // an OFFER does not learn the MAC
    assert_eq!(h.graph.port(VF0).unwrap().neigh_mac, VF0_MAC);
}

#[test]
fn dhcp_request_gets_ack_and_learns_mac() {
    let mut h = Harness::new(pytest_config());
    let out = h.send_one(VF0, &dhcp_request(3, &[]), VF0);
    // only the message type differs from the offer: 2 -> 5 in the UDP checksum
    let expect = dhcp_answer(5, [0xc4, 0x42], [0xe2 - 3, 0x09]);
    assert_eq!(out, expect);
    assert_eq!(h.graph.port(VF0).unwrap().neigh_mac, VM1_MAC);
}

#[test]
fn dhcp_hostname_and_no_dns() {
    let cfg = GraphConfig {
        dhcp_dns: vec![],
        ..pytest_config()
    };
    let mut h = Harness::with(cfg, |vm1| vm1.hostname = Some("vm1-host".into()));
    let out = h.send_one(VF0, &dhcp_request(1, &[]), VF0);
    let opts = &out[14 + 20 + 8 + 240..];
    let tail: &[u8] = &[
        26, 2, 0x05, 0x39, 12, 8, b'v', b'm', b'1', b'-', b'h', b'o', b's', b't', 255,
    ];
    assert!(opts.ends_with(tail), "{opts:?}");
    assert_eq!(
        out.len(),
        14 + 20 + 8 + 240 + 3 + 6 + 6 + 22 + 6 + tail.len()
    );
}

#[test]
fn dhcp_pxe_tftp_and_http() {
    use dpservice::model::Pxe;
    let pxe = Pxe {
        next_server: "192.168.129.1".parse().unwrap(),
        boot_filename: "/ipxe".into(),
    };
    let mut h = Harness::with(pytest_config(), |vm1| vm1.pxe = Some(pxe));
    let vendor: Vec<u8> = [&[60u8, 20][..], b"PXEClient:Arch:00007"].concat();
    let out = h.send_one(VF0, &dhcp_request(1, &vendor), VF0);
    assert_eq!(&out[0..6], &BCAST, "PXE answers are broadcast");
    assert_eq!(&out[30..34], &[255, 255, 255, 255]);
    let bootp = &out[42..];
    assert_eq!(&bootp[20..24], &[192, 168, 129, 1], "siaddr = PXE server");
    assert_eq!(&bootp[108..108 + 21], b"ipxe/x86_64/ipxe.new\0");
    // option 3 (router) appears in PXE mode, after the MTU
    let opts = &bootp[240..];
    let mtu_at = opts
        .windows(4)
        .position(|w| w == [26, 2, 0x05, 0x39])
        .unwrap();
    assert_eq!(&opts[mtu_at + 4..mtu_at + 10], &[3, 4, 169, 254, 0, 1]);

    let user: Vec<u8> = [&[77u8, 4][..], b"iPXE"].concat();
    let out = h.send_one(VF0, &dhcp_request(3, &user), VF0);
    assert_eq!(
        &out[42 + 108..42 + 108 + 30],
        b"http://192.168.129.1/ipxe\0\0\0\0\0"
    );
    // PXE mode is per request (upstream's sticky mode is fixed)
    let out = h.send_one(VF0, &dhcp_request(1, &[]), VF0);
    assert_eq!(out, dhcp_answer(2, [0xc4, 0x42], [0xe2, 0x09]));
}

#[test]
fn dhcp_drops() {
    let mut h = Harness::new(pytest_config());
    h.send_dropped(VF0, &dhcp_request(7, &[]), DropReason::DhcpUnhandled);
    let mut truncated = dhcp_request(1, &[]);
    truncated.truncate(14 + 20 + 8 + 239);
    h.send_dropped(VF0, &truncated, DropReason::DhcpTooShort);
    let mut malformed = dhcp_request(1, &[12, 50, b'x']);
    malformed.pop(); // no END: option 12 runs past the end
    h.send_dropped(VF0, &malformed, DropReason::DhcpMalformed);
    let mut reply_op = dhcp_request(1, &[]);
    reply_op[42] = 2;
    h.send_dropped(VF0, &reply_op, DropReason::DhcpNotRequest);
    // a tunnelled DHCP packet ends in the DHCP node and is dropped there (no IPv4 on a PF)
    let inner = &dhcp_request(1, &[])[14..];
    h.send_dropped(
        PF0,
        &tunnel4(NEIGH_UL, VM1_UL, inner),
        DropReason::DhcpNoAddress,
    );
}

pub(super) fn dhcpv6_solicit(vf_mac: MacAddr) -> Vec<u8> {
    let msg = cat(&[
        &[1, 0xaa, 0xbb, 0xcc],
        &[0, 1, 0, 10, 0, 3, 0, 1],
        &VM1M,
        &[0, 3, 0, 12, 0, 0, 0xab, 0xcd, 0, 0, 0, 0, 0, 0, 0, 0],
        &[0, 14, 0, 0],
        &[0, 8, 0, 2, 0, 0],
    ]);
    let ip = ipv6_packet(
        VM_LL,
        "ff02::1:2".parse().unwrap(),
        ip_proto::UDP,
        &udp_datagram(546, 547, &msg),
    );
    eth(
        MacAddr([0x33, 0x33, 0, 1, 0, 2]),
        vf_mac,
        ethertype::IPV6,
        &ip,
    )
}

const VM_LL_BYTES: [u8; 16] = [
    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0, 0xff, 0xfe, 0, 0, 1,
];
const GW6: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

/// The ADVERTISE answering `dhcpv6_solicit` on VF0.
pub(super) fn dhcpv6_advertise() -> Vec<u8> {
    cat(&[
        &VM1M,
        &VF0M,
        &[0x86, 0xdd],
        // payload 130, UDP, hop limit 64 copied; fe80::1 -> the client
        &[0x60, 0, 0, 0, 0, 130, 17, 64],
        &GW6,
        &VM_LL_BYTES,
        &[0x02, 0x23, 0x02, 0x22, 0, 130, 0xa8, 0x15],
        &[2, 0xaa, 0xbb, 0xcc],
        // server id: DUID-LL, hw 0xabcd, the client's MAC (upstream quirk)
        &[0, 2, 0, 10, 0, 3, 0xab, 0xcd],
        &VM1M,
        // client id echoed
        &[0, 1, 0, 10, 0, 3, 0, 1],
        &VM1M,
        // IA_NA with one address, infinite lifetimes, status success
        &[
            0, 3, 0, 46, 0, 0, 0xab, 0xcd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
        &[
            0, 5, 0, 30, 0x20, 0, 0, 100, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        ],
        &[
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 13, 0, 2, 0, 0,
        ],
        // rapid commit, DNS servers
        &[0, 14, 0, 0],
        &[0, 23, 0, 32],
        &[
            0x20, 0x01, 0x48, 0x60, 0x48, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0x64, 0x64,
        ],
        &[
            0x20, 0x02, 0x48, 0x61, 0x48, 0x61, 0, 0, 0, 0, 0, 0, 0, 0, 0x64, 0x64,
        ],
    ])
}

#[test]
fn dhcpv6_solicit_gets_advertise_golden() {
    let mut h = Harness::new(pytest_config());
    let out = h.send_one(VF0, &dhcpv6_solicit(VM1_MAC), VF0);
    assert_eq!(out, dhcpv6_advertise());
}

#[test]
fn dhcpv6_without_address_says_noaddrsavail() {
    let mut h = Harness::new(pytest_config());
    // vm3 (VF2) has no IPv6 address
    let out = h.send_one(VF2, &dhcpv6_solicit(VM1_MAC), VF2);
    let expect = cat(&[
        &VM1M,
        &VF2_MAC.0,
        &[0x86, 0xdd, 0x60, 0, 0, 0, 0, 18, 17, 64],
        &GW6,
        &VM_LL_BYTES,
        &[0x02, 0x23, 0x02, 0x22, 0, 18, 0xeb, 0xa5],
        &[7, 0xaa, 0xbb, 0xcc, 0, 13, 0, 2, 0, 2],
    ]);
    assert_eq!(out, expect);
    let mut renew = dhcpv6_solicit(VM1_MAC);
    renew[62] = 5;
    h.send_dropped(VF2, &renew, DropReason::Dhcpv6Unhandled);
}

#[test]
fn dhcpv6_confirm_and_drops() {
    let mut h = Harness::new(pytest_config());
    let mut confirm = dhcpv6_solicit(VM1_MAC);
    confirm[62] = 4;
    let out = h.send_one(VF0, &confirm, VF0);
    assert_eq!(out.len(), 14 + 40 + 8 + 4, "REPLY without options");
    assert_eq!(out[62], 7);
    let mut renew = dhcpv6_solicit(VM1_MAC);
    renew[62] = 5;
    h.send_dropped(VF0, &renew, DropReason::Dhcpv6Unhandled);
    // rapid commit must be empty
    let mut bad = dhcpv6_solicit(VM1_MAC);
    let rc = bad.windows(4).rposition(|w| w == [0, 14, 0, 0]).unwrap();
    bad[rc + 3] = 1;
    h.send_dropped(VF0, &bad, DropReason::Dhcpv6Malformed);
    let mut short = dhcpv6_solicit(VM1_MAC);
    short.truncate(65);
    h.send_dropped(VF0, &short, DropReason::Dhcpv6TooShort);
}

#[test]
fn dhcpv6_boot_urls() {
    use dpservice::model::Pxe;
    let pxe = Pxe {
        next_server: "2001:dede::1".parse().unwrap(),
        boot_filename: "ipxe".into(),
    };
    let mut h = Harness::with(pytest_config(), |vm1| vm1.pxe = Some(pxe));
    // vendor class: enterprise, item length 20, "PXEClient:Arch:00007"
    let mut vendor = dhcpv6_solicit(VM1_MAC);
    let opt = cat(&[
        &[0, 16, 0, 26, 0, 0, 0x01, 0x37, 0, 20],
        b"PXEClient:Arch:00007",
    ]);
    vendor.extend_from_slice(&opt);
    let add = opt.len() as u16;
    bump_lengths(&mut vendor, add);
    let out = h.send_one(VF0, &vendor, VF0);
    let url = b"tftp://[2001:dede::1]/ipxe/x86_64/ipxe.new";
    let mut want = vec![0, 59, 0, url.len() as u8];
    want.extend_from_slice(url);
    assert!(out.ends_with(&want), "{out:?}");

    let mut user = dhcpv6_solicit(VM1_MAC);
    let opt = cat(&[&[0, 15, 0, 6, 0, 4], b"iPXE"]);
    user.extend_from_slice(&opt);
    bump_lengths(&mut user, opt.len() as u16);
    let out = h.send_one(VF0, &user, VF0);
    let url = b"http://[2001:dede::1]/ipxe";
    let mut want = vec![0, 59, 0, url.len() as u8];
    want.extend_from_slice(url);
    assert!(out.ends_with(&want), "{out:?}");
}

/// Grows the IPv6 payload and UDP lengths of a frame built by `dhcpv6_solicit`.
fn bump_lengths(f: &mut [u8], add: u16) {
    let pl = u16::from_be_bytes([f[18], f[19]]) + add;
    f[18..20].copy_from_slice(&pl.to_be_bytes());
    f[58..60].copy_from_slice(&pl.to_be_bytes());
}

pub(super) fn neighbor_solicit(target: Ipv6Addr) -> Vec<u8> {
    let icmp = cat(&[
        &[135, 0, 0, 0, 0, 0, 0, 0],
        &target.octets(),
        &[1, 1],
        &VM1M,
    ]);
    let mut ip = ipv6_packet(
        VM_LL,
        "ff02::1:ff00:1".parse().unwrap(),
        ip_proto::ICMPV6,
        &icmp,
    );
    ip[7] = 255;
    eth(
        MacAddr([0x33, 0x33, 0xff, 0, 0, 1]),
        VM1_MAC,
        ethertype::IPV6,
        &ip,
    )
}

/// The NA answering `neighbor_solicit(fe80::1)` on VF0.
pub(super) fn gateway_na() -> Vec<u8> {
    cat(&[
        &VM1M,
        &VF0M,
        &[0x86, 0xdd, 0x60, 0, 0, 0, 0, 32, 58, 255],
        &GW6,
        &VM_LL_BYTES,
        &[136, 0, 0x17, 0xfc, 0xe0, 0, 0, 0],
        &GW6,
        &[2, 1],
        &VF0M,
    ])
}

#[test]
fn neighbor_solicitation_for_gateway_golden() {
    let mut h = Harness::new(pytest_config());
    let out = h.send_one(VF0, &neighbor_solicit(GW6.into()), VF0);
    assert_eq!(out, gateway_na());
    assert_eq!(h.graph.port(VF0).unwrap().neigh_mac, VM1_MAC);
}

#[test]
fn router_solicitation_gets_ra_golden() {
    let mut h = Harness::new(pytest_config());
    let icmp = cat(&[&[133, 0, 0, 0, 0, 0, 0, 0, 1, 1], &VM1M]);
    let mut ip = ipv6_packet(VM_LL, "ff02::2".parse().unwrap(), ip_proto::ICMPV6, &icmp);
    ip[7] = 255;
    let rs = eth(
        MacAddr([0x33, 0x33, 0, 0, 0, 2]),
        VM1_MAC,
        ethertype::IPV6,
        &ip,
    );
    let out = h.send_one(VF0, &rs, VF0);
    let expect = cat(&[
        &VM1M,
        &VF0M,
        &[0x86, 0xdd, 0x60, 0, 0, 0, 0, 24, 58, 255],
        &GW6,
        &VM_LL_BYTES,
        &[
            134, 0, 0xf9, 0xc5, 255, 0xc0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
        &[1, 1],
        &VF0M,
    ]);
    assert_eq!(out, expect);
    assert_eq!(out.len(), 78);
    // RS does not learn the MAC
    assert_eq!(h.graph.port(VF0).unwrap().neigh_mac, VF0_MAC);

    // from the unspecified address the answer goes to all nodes
    let mut ip = ipv6_packet(
        Ipv6Addr::UNSPECIFIED,
        "ff02::2".parse().unwrap(),
        ip_proto::ICMPV6,
        &icmp[..8],
    );
    ip[7] = 255;
    let rs = eth(
        MacAddr([0x33, 0x33, 0, 0, 0, 2]),
        VM1_MAC,
        ethertype::IPV6,
        &ip,
    );
    let out = h.send_one(VF0, &rs, VF0);
    assert_eq!(&out[38..54], &crate::wire::ipv6::ALL_NODES.octets());
}

#[test]
fn nd_drops() {
    let mut h = Harness::new(pytest_config());
    h.send_dropped(VF0, &neighbor_solicit(VM2_IP6), DropReason::NdNotForGateway);
    let mut from_pf = neighbor_solicit(GW6.into());
    from_pf[..6].copy_from_slice(&PF0_MAC.0);
    h.send_dropped(PF0, &from_pf, DropReason::NdFromPf);
    let cfg = GraphConfig {
        ipv6_overlay: false,
        ..pytest_config()
    };
    let mut h = Harness::new(cfg);
    h.send_dropped(VF0, &neighbor_solicit(GW6.into()), DropReason::NdDisabled);
}

#[test]
fn nd_without_options_gets_na_without_option() {
    let mut h = Harness::new(pytest_config());
    let icmp = cat(&[&[135, 0, 0, 0, 0, 0, 0, 0], &GW6]);
    let mut ip = ipv6_packet(
        VM_LL,
        "ff02::1:ff00:1".parse().unwrap(),
        ip_proto::ICMPV6,
        &icmp,
    );
    ip[7] = 255;
    let ns = eth(
        MacAddr([0x33, 0x33, 0xff, 0, 0, 1]),
        VM1_MAC,
        ethertype::IPV6,
        &ip,
    );
    let out = h.send_one(VF0, &ns, VF0);
    assert_eq!(out.len(), 14 + 40 + 24);
    assert_eq!(out[54], 136);
    let p = crate::wire::icmpv6::Packet::new_checked(&out[54..]).unwrap();
    assert!(p.verify_checksum(&GW6.into(), &VM_LL));
}

#[test]
fn periodic_frames_per_vf() {
    let mut h = Harness::new(pytest_config());
    let n = h.graph.inject_periodic(&h.state);
    let out = h.collect();
    assert_eq!(n, out.len());
    // RA + NA for the two VFs with IPv6, ARP for all three with IPv4
    let kinds: Vec<(u16, u8)> = out
        .iter()
        .map(|(p, f)| (*p, if f[12..14] == [0x08, 0x06] { 0 } else { f[54] }))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (VF0, 134),
            (VF0, 136),
            (VF0, 0),
            (VF1, 134),
            (VF1, 136),
            (VF1, 0),
            (VF2, 0)
        ]
    );
    // without the IPv6 overlay only ARP; stopped ports get nothing
    let cfg = GraphConfig {
        ipv6_overlay: false,
        ..pytest_config()
    };
    let mut h = Harness::new(cfg);
    h.graph.stop_port(VF1);
    h.graph.inject_periodic(&h.state);
    let ports: Vec<_> = h.collect().into_iter().map(|(p, _)| p).collect();
    assert_eq!(ports, vec![VF0, VF2]);
    assert_eq!(h.graph.node_stat("rx_periodic").unwrap().objs, 2);
}

/// A received frame that did not fit its buffer (as a port hands it over).
fn received_cut_off(h: &mut Harness, frame: &[u8]) -> crate::port::PacketBuf {
    let mut b = h.graph.pool_mut().alloc().unwrap();
    let room = b.rx_room();
    let fits = frame.len().min(room.len());
    room[..fits].copy_from_slice(&frame[..fits]);
    b.set_received_len(frame.len());
    b
}

#[test]
fn oversized_neighbor_solicitation_is_dropped_not_answered() {
    // Regression: a 9,000-byte NS was cut to the buffer's 2,048 bytes and answered.
    let mut h = Harness::new(pytest_config());
    let mut jumbo = neighbor_solicit(GW6.into());
    jumbo.resize(9000, 0xab);
    let mut pkts = vec![received_cut_off(&mut h, &jumbo)];
    h.graph.rx(VF0, &mut pkts);
    h.graph.run(&h.state, h.now);
    assert_eq!(h.collect(), Vec::new(), "no answer to a truncated frame");
    assert_eq!(h.graph.drops(DropReason::FrameTooLong), 1);
    assert_eq!(h.graph.pool_mut().in_use(), 0, "its buffer went back");
    // the same solicitation at its real length is answered
    let ns = neighbor_solicit(GW6.into());
    let mut pkts = vec![received_cut_off(&mut h, &ns)];
    h.graph.rx(VF0, &mut pkts);
    h.graph.run(&h.state, h.now);
    assert_eq!(h.collect(), vec![(VF0, gateway_na())]);
    assert_eq!(h.graph.drops(DropReason::FrameTooLong), 1);
}

#[test]
fn learned_macs_keep_only_the_latest_per_port() {
    // Regression: every new source MAC queued an event nobody drained (unbounded memory).
    let mut h = Harness::new(pytest_config());
    let mut last = VM1_MAC;
    for i in 0..1000u32 {
        let b = i.to_be_bytes();
        last = MacAddr([0x02, 0x42, b[0], b[1], b[2], b[3]]);
        let mut ns = neighbor_solicit(GW6.into());
        ns[6..12].copy_from_slice(&last.0);
        let out = h.send(VF0, &ns);
        assert_eq!(out.len(), 1, "every solicitation is answered");
    }
    assert_eq!(h.graph.port(VF0).unwrap().neigh_mac, last);
    let events: Vec<_> = h.graph.drain_events().collect();
    assert_eq!(
        events,
        vec![GraphEvent::NeighMacChanged {
            port: VF0,
            mac: last
        }]
    );
    assert_eq!(h.graph.drain_events().count(), 0, "reported once");
}
