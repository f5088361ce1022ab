//! Staged bursts (conntrack lookups prefetched for a whole burst before the walks, on
//! large tables) against packets walked one after the other: the same frames leave on
//! the same ports in the same order per port, the same packets are dropped for the same
//! reasons, and the conntrack table ends up holding the same entries.

use std::collections::BTreeMap;

use super::harness::*;
use super::nat::{from_vm, on_pf0, udp4, udp4_nocsum, with_nat, NAT_IP, PUBLIC, ROUTER_UL};
use crate::flow::{CtKey, FlowEntry};
use crate::graph::DropReason;
use crate::port::PortId;
use crate::wire::ip_proto;

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;

fn tcp4(sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let mut s = vec![0u8; 20];
    s[0..2].copy_from_slice(&sport.to_be_bytes());
    s[2..4].copy_from_slice(&dport.to_be_bytes());
    s[12] = 5 << 4;
    s[13] = flags;
    ipv4_packet(VM1_IP, PUBLIC, ip_proto::TCP, &s)
}

/// What one run of the graph did: frames per port in order, drops per reason, and the
/// conntrack entries (last-seen times left out: each harness has its own clock).
#[derive(Debug, PartialEq)]
struct Outcome {
    frames: BTreeMap<PortId, Vec<Vec<u8>>>,
    drops: Vec<(DropReason, u64)>,
    flows: Vec<(CtKey, FlowEntry)>,
}

/// The inner UDP source port of a frame tunnelled from pf0 (its NAT port).
fn nat_port(f: &[u8]) -> u16 {
    u16::from_be_bytes([f[54 + 20], f[54 + 21]])
}

fn burst(h: &mut Harness, port: PortId, frames: &[Vec<u8>]) -> BTreeMap<PortId, Vec<Vec<u8>>> {
    h.receive_burst(port, frames);
    let mut out: BTreeMap<PortId, Vec<Vec<u8>>> = BTreeMap::new();
    for (p, f) in h.collect() {
        out.entry(p).or_default().push(f);
    }
    out
}

/// Mixed bursts from the VM (new and repeated NAT flows, a local flow, a TCP handshake
/// start, an echo request, a truncated packet, a frame that is not IP) and from the
/// uplink (replies to the NAT flows, one for a port nobody uses).
fn run(stage_from_keys: usize) -> Outcome {
    let (mut h, nat_ul) = with_nat(100, 110);
    h.graph.set_stage_from_keys(stage_from_keys);
    let mut truncated = from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 9, 9));
    truncated.truncate(14 + 20 + 2);
    let from_vm_burst = vec![
        from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 1000, 53)),
        from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 1001, 53)),
        from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 1000, 53)),
        from_vm(&udp4_nocsum(VM1_IP, VM2_IP, 1000, 53)),
        from_vm(&tcp4(2000, 80, SYN)),
        truncated,
        eth(VF0_MAC, VM1_MAC, 0x88b5, &[0; 46]),
        from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 1001, 53)),
        from_vm(&tcp4(2000, 80, ACK)),
    ];
    let mut frames = burst(&mut h, VF0, &from_vm_burst);
    let again = burst(&mut h, VF0, &from_vm_burst);
    for (p, f) in again {
        frames.entry(p).or_default().extend(f);
    }
    // the NAT ports the two UDP flows got (upstream's allocation hashes), and one
    // nobody got
    let pf0 = &frames[&PF0];
    let (a, b) = (nat_port(&pf0[0]), nat_port(&pf0[1]));
    let unused = (100..=110)
        .find(|p| pf0.iter().all(|f| nat_port(f) != *p))
        .unwrap();
    let replies: Vec<Vec<u8>> = [a, b, unused, a]
        .iter()
        .map(|&port| {
            tunnel4(
                ROUTER_UL,
                nat_ul,
                &udp4(PUBLIC, NAT_IP, 53, port, b"answer"),
            )
        })
        .collect();
    for (p, f) in burst(&mut h, PF0, &replies) {
        frames.entry(p).or_default().extend(f);
    }
    let mut flows = Vec::new();
    h.graph.flows().for_each(|k, e| {
        let mut e = *e;
        e.last_seen_ns = 0;
        flows.push((*k, e));
    });
    flows.sort_by_key(|(k, _)| bytemuck::bytes_of(k).to_vec());
    Outcome {
        frames,
        drops: h.graph.drop_stats().filter(|(_, n)| *n > 0).collect(),
        flows,
    }
}

#[test]
fn staged_bursts_do_what_packets_walked_one_by_one_do() {
    let alone = run(usize::MAX);
    let staged = run(0);
    assert_eq!(staged, alone);
    // the bursts did reach the paths compared: NAT out, local delivery, replies in
    let pf0 = alone.frames.get(&PF0).map_or(0, Vec::len);
    assert!(pf0 >= 10, "NAT flows left on pf0: {pf0}");
    let to_vm2 = alone.frames.get(&VF1).map_or(0, Vec::len);
    assert_eq!(to_vm2, 2, "the local flow reached vm2 both times");
    let to_vm1 = alone.frames.get(&VF0).map_or(0, Vec::len);
    assert_eq!(to_vm1, 3, "replies to the two NAT flows reached vm1");
    assert!(
        alone.drops.contains(&(DropReason::NatNoFlow, 1)),
        "the reply to an unused port dropped: {:?}",
        alone.drops
    );
    assert!(alone.flows.len() >= 8, "flows made: {}", alone.flows.len());
    assert!(
        !alone.drops.is_empty(),
        "the truncated and non-IP frames dropped"
    );
    // the reply on pf0 is tunnelled from the VM's underlay to the router
    let first = &alone.frames[&PF0][0];
    let expect = on_pf0(
        VM1_UL,
        ROUTER_UL,
        ip_proto::IPIP,
        &udp4(NAT_IP, PUBLIC, nat_port(first), 53, b"payload!"),
    );
    assert_eq!(first, &expect);
}
