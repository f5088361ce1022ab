#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use super::*;
use crate::config::virtsvc::{VirtsvcSpec, VirtualService};
use crate::tables::FlowTables;
use crate::wire::tcp::flags::{ACK, FIN, PSH, RST, SYN};

const HOST: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 1);

fn svc(proto: VirtsvcProto, arg: &str) -> VirtualService {
    VirtualService {
        proto,
        spec: VirtsvcSpec::parse(arg).unwrap(),
    }
}

fn key(vm_port: u16) -> ConnKey {
    ConnKey {
        port_id: 2,
        vm_port,
        vm_ip: Ipv4Addr::new(10, 100, 1, 1),
    }
}

const SEC: u64 = 1_000_000_000;

#[test]
fn underlay_addresses_carry_the_index_little_endian() {
    let first: Ipv6Addr = "fc00:1::d0ff:4000:0:0".parse().unwrap();
    assert_eq!(underlay_address(HOST, 0), first);
    let second: Ipv6Addr = "fc00:1::d0ff:4000:100:0".parse().unwrap();
    assert_eq!(underlay_address(HOST, 1), second);
    let big: Ipv6Addr = "fc00:1::d0ff:4000:201:0".parse().unwrap();
    assert_eq!(underlay_address(HOST, 0x0102), big);
}

#[test]
fn lookups_match_protocol_address_and_port() {
    let list = [
        svc(VirtsvcProto::Udp, "1.2.3.4,5353,2a00:da8:fff6::1,53"),
        svc(VirtsvcProto::Tcp, "5.6.7.8,4443,2a00:da8:fff6::2,443"),
    ];
    let s = Services::new(
        &list,
        HOST,
        Timeouts::from_flow_timeout(DEFAULT_TIMEOUT),
        Instant::now(),
    );
    let (udp, tcp) = (ip_proto::UDP, ip_proto::TCP);
    assert_eq!(
        s.match_request(udp, Ipv4Addr::new(1, 2, 3, 4), 5353),
        Some(0)
    );
    assert_eq!(s.match_request(tcp, Ipv4Addr::new(1, 2, 3, 4), 5353), None);
    assert_eq!(s.match_request(udp, Ipv4Addr::new(1, 2, 3, 4), 5354), None);
    assert_eq!(
        s.match_request(tcp, Ipv4Addr::new(5, 6, 7, 8), 4443),
        Some(1)
    );
    let v6: Ipv6Addr = "2a00:da8:fff6::2".parse().unwrap();
    assert_eq!(s.match_reply(tcp, v6, 443), Some(1));
    assert_eq!(s.match_reply(udp, v6, 443), None);
    assert_eq!(s.match_reply(tcp, v6, 53), None);
    assert_eq!(s.get(1).unwrap().underlay, underlay_address(HOST, 1));
}

#[test]
fn tcp_state_needs_exact_flags() {
    let s = TcpState::Transient;
    assert_eq!(s.next(SYN), TcpState::SynSeen);
    assert_eq!(s.next(SYN | ACK), TcpState::Transient);
    assert_eq!(s.next(SYN).next(SYN | ACK), TcpState::SynAckSeen);
    let est = s.next(SYN).next(SYN | ACK).next(ACK);
    assert_eq!(est, TcpState::Established);
    assert_eq!(
        s.next(SYN).next(SYN | ACK).next(ACK | PSH),
        TcpState::SynAckSeen
    );
    assert_eq!(est.next(ACK | PSH), TcpState::Established);
    assert_eq!(est.next(FIN | ACK), TcpState::Transient);
    assert_eq!(est.next(RST), TcpState::Transient);
}

fn one_udp(timeouts: Timeouts) -> (Services, ConnTable) {
    let list = [svc(VirtsvcProto::Udp, "1.2.3.4,5353,2a00:da8:fff6::1,53")];
    let tables = FlowTables::private(1, 1024).unwrap();
    let table = tables.virtsvc.into_iter().next().unwrap();
    (Services::new(&list, HOST, timeouts, Instant::now()), table)
}

#[test]
fn slots_are_handed_out_in_turn_and_reused_when_idle() {
    let t = Timeouts::from_flow_timeout(DEFAULT_TIMEOUT);
    assert!(!t.restart_search);
    let (mut s, mut table) = one_udp(t);
    assert_eq!(s.connect(0, key(1), SEC, &mut table), Ok((1, true)));
    assert_eq!(s.connect(0, key(2), SEC, &mut table), Ok((2, true)));
    assert_eq!(s.connect(0, key(1), 2 * SEC, &mut table), Ok((1, false)));
    let k = key(2).to_table();
    assert_eq!(table.get(&k).map(|v| v.slot), Some(2));
    // 31 s later slot 1 (last used at 2 s) is still busy at 32 s, slot 3 is next anyway
    assert_eq!(s.connect(0, key(3), 32 * SEC, &mut table), Ok((3, true)));
}

#[test]
fn fast_timeout_restarts_the_search_and_respects_established() {
    let t = Timeouts::from_flow_timeout(Duration::from_secs(1));
    assert!(t.restart_search);
    let (mut s, mut table) = one_udp(t);
    assert_eq!(s.connect(0, key(1), SEC, &mut table), Ok((1, true)));
    assert_eq!(s.connect(0, key(2), SEC, &mut table), Ok((2, true)));
    // slot 2's connection becomes established
    let slots = &mut s.slots_mut()[0];
    for f in [SYN, SYN | ACK, ACK] {
        slots.touch(2, SEC, Some(f));
    }
    assert_eq!(slots.tcp_state(2), TcpState::Established);
    // 3 s later: slot 1 aged, slot 2 kept (one day)
    assert_eq!(s.connect(0, key(3), 4 * SEC, &mut table), Ok((1, true)));
    assert_eq!(s.connect(0, key(4), 4 * SEC, &mut table), Ok((3, true)));
    // the aged connection's key left the region table
    assert_eq!(table.get(&key(1).to_table()), None);
    assert_eq!(table.get(&key(3).to_table()).map(|v| v.slot), Some(1));
    assert_eq!(table.len(), 3);
}

#[test]
fn the_search_wraps_to_slot_zero_and_fails_when_full() {
    let t = Timeouts::from_flow_timeout(DEFAULT_TIMEOUT);
    let (mut s, _) = one_udp(t);
    let slots = &mut s.slots_mut()[0];
    for n in 1..SLOT_COUNT as u16 {
        assert_eq!(slots.find_free(SEC, &t), Some(n));
        slots.assign(n, key(n), SEC);
    }
    assert_eq!(slots.find_free(SEC, &t), Some(0));
    slots.assign(0, key(0), SEC);
    assert_eq!(slots.find_free(SEC, &t), None);
    // all idle long enough: the search goes on after the last one handed out
    assert_eq!(slots.find_free(40 * SEC, &t), Some(1));
}

#[test]
fn releasing_a_port_frees_its_connections_only() {
    let t = Timeouts::from_flow_timeout(DEFAULT_TIMEOUT);
    let (mut s, table) = one_udp(t);
    let mut tables = vec![table];
    let other = ConnKey {
        port_id: 3,
        ..key(9)
    };
    assert_eq!(s.connect(0, key(1), SEC, &mut tables[0]), Ok((1, true)));
    assert_eq!(s.connect(0, other, SEC, &mut tables[0]), Ok((2, true)));
    s.release_port(2, &mut tables);
    assert_eq!(tables[0].len(), 1);
    let slots = &mut s.slots_mut()[0];
    assert_eq!(slots.connection(1), None);
    assert_eq!(slots.connection(2), Some(other));
}
