//! `arp`: the gateway's ARP responder and the completion of the ARP cycle that learns the
//! VM's MAC (dataplane.md §5.1).

use super::GATEWAY_V4;
use crate::graph::drop::DropReason;
use crate::graph::{Ctx, Next};
use crate::port::Buf;
use crate::wire::arp::{self, OP_REPLY, OP_REQUEST};
use crate::wire::ethernet::{self, HEADER_LEN as ETH};

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    let port_id = pkt.meta.in_port;
    let Some(port) = cx.ports.get(port_id).copied() else {
        return Next::Drop(DropReason::UnknownPort);
    };
    // cls checked that the ARP packet is complete
    let frame = pkt.frame_mut();
    let eth_src = ethernet::Frame::new_unchecked(&*frame).src_addr();
    let req = arp::Packet::new_unchecked(&frame[ETH..]);
    let (op, sha, spa, tpa) = (
        req.operation(),
        req.sender_hw_addr(),
        req.sender_proto_addr(),
        req.target_proto_addr(),
    );

    // ARP cycle: the first frame the VM sends with its own address as sender completes
    // it (normally its answer to our periodic request).
    let vm_ip = cx.state.vf(port_id).and_then(|vf| vf.ipv4);
    let for_gateway = op == OP_REQUEST && tpa == GATEWAY_V4;
    if !port.is_pf() && !port.arp_done && vm_ip.is_some_and(|ip| ip == spa) {
        cx.learn_neigh_mac(port_id, eth_src);
        if let Some(p) = cx.ports.get_mut(port_id) {
            p.arp_done = true;
        }
        // Upstream reflects this frame unchanged even when it is the VM's own request for
        // the gateway, so a freshly booted VM waits a full ARP retransmit (1 s) before its
        // first packet leaves. We answer such a request right away (§5.1 allows it);
        // anything else is reflected as upstream does.
        if !for_gateway {
            return Next::Tx(port_id);
        }
    }

    if !for_gateway {
        return Next::Drop(DropReason::ArpNotForGateway);
    }
    if port.is_pf() {
        return Next::Drop(DropReason::AnswerToPf);
    }
    let mut eth = ethernet::Frame::new_unchecked(&mut *frame);
    eth.set_dst_addr(sha);
    eth.set_src_addr(port.mac);
    let mut reply = arp::Packet::new_unchecked(&mut frame[ETH..]);
    reply.set_operation(OP_REPLY);
    reply.set_sender_hw_addr(port.mac);
    reply.set_sender_proto_addr(tpa);
    reply.set_target_hw_addr(sha);
    reply.set_target_proto_addr(spa);
    Next::Tx(port_id)
}
