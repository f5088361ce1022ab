//! The graph over foreign packet buffers, laid out like DPDK mbufs (header in the private
//! area, bytes in the data room): frames walk the real graph in the buffers they arrived
//! in, leave in them, and each buffer goes back to its owner exactly once.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use super::harness::*;
use crate::graph::DropReason;
use crate::port::buf::fake_mempool::FakeMempool;
use crate::port::buf::HEADROOM;
use crate::port::PortId;

const REMOTE_IP: Ipv4Addr = Ipv4Addr::new(10, 100, 2, 2);

/// One transmitted buffer as the NIC sees it.
struct Sent {
    port: PortId,
    handle: usize,
    head: u16,
    frame: Vec<u8>,
}

/// Takes every queued packet the way a DPDK port does: the buffer goes back to its owner
/// with the frame's place (`into_foreign`), the "NIC" reads it and then frees it. A packet
/// in a buffer of the pool's own fails the test.
fn transmit_like_a_nic(h: &mut Harness, mbufs: &FakeMempool) -> Vec<Sent> {
    let mut out = Vec::new();
    for port in [PF0, PF1, VF0, VF1, VF2] {
        h.graph.flush_tx(port, |q, _pool| {
            let n = q.len();
            for b in q.drain(..) {
                let (handle, head, len) = b
                    .into_foreign()
                    .expect("a packet left in a buffer that is not the owner's");
                let frame = mbufs.frame_of(handle, head, len).unwrap();
                mbufs.tx_done(handle);
                out.push(Sent {
                    port,
                    handle: handle.as_ptr() as usize,
                    head,
                    frame,
                });
            }
            n
        });
    }
    out
}

fn with_remote_route() -> Harness {
    let mut h = Harness::new(pytest_config());
    h.route_to_neighbour(IpAddr::V4(Ipv4Addr::new(10, 100, 2, 0)), 24);
    h
}

#[test]
fn vf_to_pf_encapsulation_happens_in_the_received_mbufs() {
    let frames: Vec<Vec<u8>> = (0..4)
        .map(|i| vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, REMOTE_IP, 1000 + i, 80))
        .collect();
    // what the graph makes of them in its own buffers
    let mut reference = with_remote_route();
    let expect: Vec<Vec<u8>> = frames
        .iter()
        .map(|f| reference.send_one(VF0, f, PF0))
        .collect();

    let mut h = with_remote_route();
    let mbufs = FakeMempool::new(8);
    let mut pkts: Vec<_> = frames
        .iter()
        .map(|f| mbufs.received(HEADROOM as u16, f).unwrap())
        .collect();
    let received: HashSet<usize> = pkts
        .iter()
        .map(|b| b.foreign_handle().unwrap().as_ptr() as usize)
        .collect();
    h.graph.rx(VF0, &mut pkts);
    h.graph.run(&h.state, h.now);
    let sent = transmit_like_a_nic(&mut h, &mbufs);

    assert_eq!(sent.len(), frames.len());
    assert!(sent.iter().all(|s| s.port == PF0));
    assert_eq!(
        sent.iter().map(|s| s.frame.clone()).collect::<Vec<_>>(),
        expect,
        "the same bytes as in the graph's own buffers"
    );
    // no copy: the very mbufs received, the tunnel header (40 bytes) in their headroom
    assert_eq!(
        sent.iter().map(|s| s.handle).collect::<HashSet<_>>(),
        received
    );
    assert!(sent.iter().all(|s| usize::from(s.head) == HEADROOM - 40));
    assert_eq!(mbufs.released(), frames.len());
    assert_eq!((mbufs.double_released(), mbufs.buffers_in_use()), (0, 0));
}

#[test]
fn arp_reply_and_periodic_frames_are_made_in_the_pools_source() {
    let mut h = Harness::new(pytest_config());
    let mbufs = FakeMempool::new(16);
    h.graph.pool_mut().set_source(Box::new(mbufs.clone()));

    // an ARP request for the gateway, received into a buffer of the source
    let request = [
        &[0xff; 6][..],
        &VM1_MAC.0,
        &[0x08, 0x06],
        &[0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01],
        &VM1_MAC.0,
        &[0, 0, 0, 0],
        &[0; 6],
        &[169, 254, 0, 1],
    ]
    .concat();
    let pkt = h.graph.pool_mut().alloc_frame(&request).unwrap();
    assert!(pkt.is_foreign());
    h.graph.rx(VF0, &mut vec![pkt]);
    h.graph.run(&h.state, h.now);
    let sent = transmit_like_a_nic(&mut h, &mbufs);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].port, VF0);
    let reply = [
        &VM1_MAC.0[..],
        &VF0_MAC.0,
        &[0x08, 0x06],
        &[0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02],
        &VF0_MAC.0,
        &[169, 254, 0, 1],
        &VM1_MAC.0,
        &[0, 0, 0, 0],
    ]
    .concat();
    assert_eq!(sent[0].frame, reply);

    // the maintenance frames the graph makes itself come from the source too
    let made = h.graph.inject_periodic(&h.state);
    assert!(made >= 3, "ARP, RA and NA for the started VFs, got {made}");
    assert_eq!(mbufs.buffers_in_use(), made);
    let sent = transmit_like_a_nic(&mut h, &mbufs);
    assert_eq!(sent.len(), made);
    assert!(sent
        .iter()
        .any(|s| s.port == VF0 && s.frame[12..14] == [0x08, 0x06]));
    assert_eq!(mbufs.released(), 1 + made);
    assert_eq!((mbufs.double_released(), mbufs.buffers_in_use()), (0, 0));
    assert_eq!(h.graph.pool().in_use(), 0);
}

#[test]
fn dropped_and_abandoned_foreign_packets_go_back_once() {
    let mut h = with_remote_route();
    let mbufs = FakeMempool::new(4);
    let udp4 = vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, REMOTE_IP, 1, 2);
    let mut lldp = udp4.clone();
    lldp[12..14].copy_from_slice(&[0x88, 0xcc]);
    let mut pkts = vec![mbufs.received(HEADROOM as u16, &lldp).unwrap()];
    h.graph.rx(VF0, &mut pkts);
    h.graph.run(&h.state, h.now);
    assert_eq!(h.graph.drops(DropReason::NotIp), 1);
    assert_eq!((mbufs.released(), mbufs.buffers_in_use()), (1, 0));

    // a packet still queued for transmission when the graph goes away
    let mut pkts = vec![mbufs.received(HEADROOM as u16, &udp4).unwrap()];
    h.graph.rx(VF0, &mut pkts);
    h.graph.run(&h.state, h.now);
    assert_eq!(h.graph.tx_pending(PF0), 1);
    assert_eq!(mbufs.buffers_in_use(), 1);
    drop(h);
    assert_eq!((mbufs.released(), mbufs.buffers_in_use()), (2, 0));
    assert_eq!(mbufs.double_released(), 0);
}
