use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use super::*;
use crate::flow::key::FlowKey;
use crate::port::meta::FlowDir;
use crate::state::FlowPurge;
use crate::tables::FlowTables;

fn table(capacity: u64, now: Instant) -> FlowTable {
    let t = FlowTables::private(0, capacity).unwrap();
    FlowTable::new(t.conntrack, Duration::from_secs(30), now)
}

fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> FlowKey {
    FlowKey {
        l3_dst: IpAddr::V4(Ipv4Addr::from(dst)),
        l3_src: IpAddr::V4(Ipv4Addr::from(src)),
        proto: 17,
        port_dst: dport,
        src: sport,
        vni: 100,
        vnf_type: 0,
    }
}

#[test]
fn a_miss_makes_both_keys_and_the_reverse_finds_the_reply_direction() {
    let now = Instant::now();
    let mut t = table(64, now);
    let k = udp([10, 0, 0, 1], 1234, [10, 0, 0, 2], 53);
    let f = t.open(&k, 3, now).unwrap();
    assert!(f.created && f.is_org());
    assert_eq!(
        f.entry.flow_hash,
        k.hash(),
        "the flow hash is §19.2's jhash"
    );
    t.close(&f);
    assert_eq!(t.len(), 2);
    let r = t.open(&key::reverse(&k), 4, now).unwrap();
    assert!(!r.created);
    assert_eq!(r.dir, FlowDir::Reply);
    assert_eq!(r.entry.port_id, 3, "the creating port is kept");
    assert_eq!(r.entry.flow_hash, key::reverse(&k).hash(), "own key's hash");
    assert_eq!(r.org_key(), key::pack(&k));
}

#[test]
fn shared_changes_reach_both_copies_and_own_changes_one() {
    let now = Instant::now();
    let mut t = table(64, now);
    let k = udp([10, 0, 0, 1], 1234, [10, 0, 0, 2], 53);
    let mut f = t.open(&k, 3, now).unwrap();
    f.update(|e| e.flags |= flags::SRC_NAT);
    f.update_own(|e| e.out_port = 7);
    t.close(&f);
    let org = t.get(&key::pack(&k)).unwrap();
    let reply = t.get(&key::pack(&key::reverse(&k))).unwrap();
    assert_eq!(org.flags, flags::SRC_NAT);
    assert_eq!(reply.flags, flags::SRC_NAT);
    assert_eq!(org.out_port, 7);
    assert_eq!(reply.out_port, NO_PORT, "the reply's route is its own");
    assert_eq!((org.direction, reply.direction), (0, 1));
}

#[test]
fn a_replaced_reply_key_is_found_and_the_old_one_is_gone() {
    let now = Instant::now();
    let mut t = table(64, now);
    let k = udp([10, 0, 0, 1], 1234, [45, 0, 0, 1], 53);
    let mut f = t.open(&k, 3, now).unwrap();
    let mut nat_reply = key::reverse(&k);
    nat_reply.l3_dst = IpAddr::V4(Ipv4Addr::new(20, 0, 0, 1));
    nat_reply.port_dst = 100;
    t.replace_reply_key(&mut f, key::pack(&nat_reply)).unwrap();
    t.close(&f);
    assert_eq!(t.len(), 2);
    assert!(t.get(&key::pack(&key::reverse(&k))).is_none());
    let r = t.open(&nat_reply, 0, now).unwrap();
    assert_eq!(r.dir, FlowDir::Reply);
    assert_eq!(r.org_key(), key::pack(&k));
}

#[test]
fn aging_removes_idle_flows_whole_and_keeps_flows_alive_in_either_direction() {
    let t0 = Instant::now();
    let mut t = table(64, t0);
    let idle = udp([10, 0, 0, 1], 1, [10, 0, 0, 2], 2);
    let busy = udp([10, 0, 0, 1], 3, [10, 0, 0, 2], 4);
    for k in [idle, busy] {
        let f = t.open(&k, 3, t0).unwrap();
        t.close(&f);
    }
    // only the reply direction of `busy` is seen later
    let later = t0 + Duration::from_secs(20);
    let f = t.open(&key::reverse(&busy), 4, later).unwrap();
    t.close(&f);
    let end = t0 + Duration::from_secs(31);
    t.start_aging();
    let mut removed = Vec::new();
    while t.aging() {
        t.age_step(end, 3, |org, _| removed.push(*org));
    }
    assert_eq!(removed, [key::pack(&idle)]);
    assert_eq!(t.len(), 2, "both keys of the busy flow stay");
    assert!(t.get(&key::pack(&busy)).is_some());
}

#[test]
fn purges_take_the_flows_a_change_names() {
    let now = Instant::now();
    let mut t = table(64, now);
    let a = udp([10, 0, 0, 1], 1, [10, 0, 0, 2], 2);
    let b = udp([10, 0, 0, 3], 1, [10, 0, 0, 2], 2);
    let mut f = t.open(&a, 3, now).unwrap();
    f.update(|e| e.nat_type = nat_kind::VIP);
    t.close(&f);
    let f = t.open(&b, 4, now).unwrap();
    t.close(&f);
    let purge = [FlowPurge::Vip { port: 3 }];
    let n = t.purge(
        |o, e| purge.iter().any(|p| purge::matches(p, o, e)),
        |_, _| {},
    );
    assert_eq!(n, 1);
    assert!(t.get(&key::pack(&a)).is_none());
    assert!(t.get(&key::pack(&key::reverse(&a))).is_none());
    assert!(t.get(&key::pack(&b)).is_some());
}

#[test]
fn a_full_table_refuses_new_flows_and_keeps_the_old() {
    let now = Instant::now();
    let mut t = table(3, now);
    let a = udp([10, 0, 0, 1], 1, [10, 0, 0, 2], 2);
    let f = t.open(&a, 3, now).unwrap();
    t.close(&f);
    let b = udp([10, 0, 0, 1], 5, [10, 0, 0, 2], 6);
    assert_eq!(t.open(&b, 3, now).unwrap_err(), FlowError::Full);
    assert_eq!(t.len(), 2, "a half-made flow is not left behind");
    assert!(t.insert_failures() >= 1);
    assert!(t.open(&a, 3, now).is_ok());
}

#[test]
fn icmp_echo_keys_reverse_to_the_reply_type() {
    let k = FlowKey {
        proto: 1,
        port_dst: 77,
        src: 8,
        ..udp([10, 0, 0, 1], 0, [10, 0, 0, 2], 0)
    };
    let r = key::reverse(&k);
    assert_eq!((r.port_dst, r.src), (77, 0));
    assert_eq!(key::reverse(&r).src, 8);
    let v6 = FlowKey {
        proto: 58,
        src: 128,
        ..k
    };
    assert_eq!(key::reverse(&v6).src, 129);
    let other = FlowKey { src: 3, ..k };
    assert_eq!(key::reverse(&other).src, 0);
}
