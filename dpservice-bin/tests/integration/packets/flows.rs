//! Connection tracking over real TAP devices: UDP and TCP flows between two VMs appear in
//! the region's `conntrack_table` with both keys, TCP reaches ESTABLISHED with its
//! one-day timeout, idle flows age out after `--flow-timeout`, and `dpservice-inspect`
//! prints them in upstream's formats.

use dpservice::instance::Instance;
use dpservice::shm::catalogue::{self, addr_from_bytes, Catalogue, FlowEntry, FlowKey};
use dpservice::shm::region::Region;

use super::*;

/// An IPv4/TCP packet with flag byte `flags` and no payload (checksums are not looked at
/// on the forwarding path).
fn ipv4_tcp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let mut p = vec![0u8; 40];
    ipv4::Repr {
        src,
        dst,
        protocol: ip_proto::TCP,
        payload_len: 20,
        ttl: 64,
        tos: 0,
        ident: 7,
        flags_frag: 0,
    }
    .emit(&mut p);
    p[20..22].copy_from_slice(&sport.to_be_bytes());
    p[22..24].copy_from_slice(&dport.to_be_bytes());
    p[32] = 0x50; // data offset: 5 words
    p[33] = flags;
    p[34..36].copy_from_slice(&1024u16.to_be_bytes());
    p
}

/// Every key of the daemon's conntrack table with its entry.
pub(super) fn conntrack(rig: &Rig) -> Vec<(FlowKey, FlowEntry)> {
    let path = Instance::new(rig.daemon.prefix()).unwrap().shm_path();
    let region = Region::open(&path).unwrap();
    let reader = Catalogue::reader::<catalogue::Conntrack>(&region).unwrap();
    reader.iter().collect()
}

pub(super) fn find(
    flows: &[(FlowKey, FlowEntry)],
    proto: u8,
    src: Ipv4Addr,
    sport: u16,
) -> Option<(FlowKey, FlowEntry)> {
    flows
        .iter()
        .find(|(k, _)| {
            k.proto == proto
                && addr_from_bytes(k.l3_src, k.src_is_v6) == IpAddr::V4(src)
                && k.src == sport
        })
        .copied()
}

#[test]
fn flows_follow_real_traffic_and_idle_ones_age_out() {
    let mut rig = Rig::start(&["--flow-timeout=1"]);
    rig.configure();
    let (vm1, vm2, vf0, vf1) = (vm_mac(1), vm_mac(2), port_mac(VF0), port_mac(VF1));
    lease(&mut rig, VF0, vm1);
    lease(&mut rig, VF1, vm2);

    let udp = eth(
        vf0,
        vm1,
        ethertype::IPV4,
        &ipv4_udp(VM1_IP, VM2_IP, 4000, 80, b"hi"),
    );
    rig.exchange(VF0, &udp, VF1, from_mac(vf1))
        .expect("UDP to vm2");
    // a TCP handshake vm1 -> vm2:22 with exact flag bytes (§7.4)
    let tcp = |from_vm1: bool, flags: u8| {
        if from_vm1 {
            eth(
                vf0,
                vm1,
                ethertype::IPV4,
                &ipv4_tcp(VM1_IP, VM2_IP, 5000, 22, flags),
            )
        } else {
            eth(
                vf1,
                vm2,
                ethertype::IPV4,
                &ipv4_tcp(VM2_IP, VM1_IP, 22, 5000, flags),
            )
        }
    };
    rig.exchange(VF0, &tcp(true, 0x02), VF1, from_mac(vf1))
        .expect("SYN");
    rig.exchange(VF1, &tcp(false, 0x12), VF0, from_mac(vf0))
        .expect("SYN|ACK");
    rig.exchange(VF0, &tcp(true, 0x10), VF1, from_mac(vf1))
        .expect("ACK");

    let flows = conntrack(&rig);
    assert_eq!(flows.len(), 4, "two flows, two keys each: {flows:?}");
    let (udp_key, udp_org) = find(&flows, ip_proto::UDP, VM1_IP, 4000).expect("UDP original key");
    let (_, udp_reply) = find(&flows, ip_proto::UDP, VM2_IP, 80).expect("UDP reply key");
    assert_eq!(udp_key.port_dst, 80);
    assert_eq!(udp_key.vni, 100);
    assert_eq!((udp_org.direction, udp_reply.direction), (0, 1));
    assert_eq!(udp_org.port_id, VF0 as u16, "created on vm1's port");
    assert_eq!(udp_org.timeout_s, 1, "--flow-timeout");
    assert_eq!(udp_reply.other_key, udp_key);
    assert_eq!(
        udp_org.flow_hash,
        dpservice_bin::hash::jhash(bytemuck::bytes_of(&udp_key), dpservice_bin::hash::SEED),
        "§19.2 flow hash"
    );
    assert_ne!(
        udp_org.flags & 0x20,
        0,
        "a transmitted plain flow is DEFAULT (§7.5)"
    );
    let (_, tcp_org) = find(&flows, ip_proto::TCP, VM1_IP, 5000).expect("TCP original key");
    let (_, tcp_reply) = find(&flows, ip_proto::TCP, VM2_IP, 22).expect("TCP reply key");
    assert_eq!(tcp_org.tcp_state, 3, "ESTABLISHED");
    assert_eq!(tcp_reply.tcp_state, 3, "both copies agree");
    assert_eq!(tcp_org.timeout_s, 86_400);

    // what inspect prints (ages masked: they depend on the clock)
    let mut golden = String::new();
    for format in ["human", "table", "csv", "json"] {
        let dump =
            crate::inspect::inspect(&rig.daemon, &["-t", "conntrack", "--dump", "-o", format]);
        golden.push_str(&format!(
            "== conntrack -o {format}\n{}",
            crate::inspect::sorted_rows(&mask_ages(&dump), format)
        ));
    }
    insta::assert_snapshot!(golden);

    // the idle UDP flow goes after 1 s (+ the aging period); the established TCP flow stays
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let flows = conntrack(&rig);
        if flows.len() == 2 {
            assert!(find(&flows, ip_proto::TCP, VM1_IP, 5000).is_some());
            assert!(find(&flows, ip_proto::UDP, VM1_IP, 4000).is_none());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the UDP flow did not age out: {flows:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // a RST ends the TCP flow's long timeout: it ages out too
    rig.exchange(VF1, &tcp(false, 0x04), VF0, from_mac(vf0))
        .expect("RST");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !conntrack(&rig).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the reset TCP flow did not age out"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Replaces every age (`HH:MM:SS`) in inspect's output by `AGE_____`: ages depend on
/// the clock.
pub(super) fn mask_ages(out: &str) -> String {
    let b = out.as_bytes();
    let mut masked = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let is_age = b.len() - i >= 8
            && b[i..i + 8].iter().enumerate().all(|(j, c)| match j {
                2 | 5 => *c == b':',
                _ => c.is_ascii_digit(),
            });
        if is_age {
            masked.extend_from_slice(b"AGE_____");
            i += 8;
        } else {
            masked.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&masked).into_owned()
}
