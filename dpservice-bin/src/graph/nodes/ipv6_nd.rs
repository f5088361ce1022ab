//! `ipv6_nd`: the gateway's answers to neighbour and router solicitations
//! (dataplane.md §5.4), only with `--enable-ipv6-overlay`.

use std::net::Ipv6Addr;

use super::GATEWAY_V6;
use crate::graph::drop::DropReason;
use crate::graph::{Ctx, Next};
use crate::port::Buf;
use crate::wire::ethernet::{self, HEADER_LEN as ETH};
use crate::wire::icmpv6::{self, msg_type, na_flags, nd_option};
use crate::wire::ipv6;

const ICMP: usize = ETH + ipv6::HEADER_LEN;
/// Frame length of the router advertisement answer.
const RA_FRAME_LEN: usize = ICMP + icmpv6::ROUTER_ADVERT_LEN + icmpv6::LL_ADDR_OPT_LEN;

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    if !cx.cfg.ipv6_overlay {
        return Next::Drop(DropReason::NdDisabled);
    }
    let port_id = pkt.meta.in_port;
    let Some(port) = cx.ports.get(port_id).copied() else {
        return Next::Drop(DropReason::UnknownPort);
    };
    // cls checked the IPv6 header and that the ICMPv6 type byte is present
    let frame = pkt.frame();
    let requester = ethernet::Frame::new_unchecked(frame).src_addr();
    let ip = ipv6::Packet::new_unchecked(&frame[ETH..]);
    let src = ip.src_addr();
    let dst = if src.is_unspecified() {
        ipv6::ALL_NODES
    } else {
        src
    };
    let icmp_type = frame[ICMP];

    match icmp_type {
        msg_type::NEIGHBOR_SOLICIT => {
            let target = icmpv6::Packet::new_unchecked(ip.payload()).nd_target();
            if target != Some(GATEWAY_V6) {
                return Next::Drop(DropReason::NdNotForGateway);
            }
            cx.learn_neigh_mac(port_id, requester);
            let frame = pkt.frame_mut();
            rewrite_addresses(frame, requester, port.mac, &dst);
            let mut ip = ipv6::Packet::new_unchecked(&mut frame[ETH..]);
            let mut na = icmpv6::Packet::new_unchecked(ip.payload_mut());
            na.set_msg_type(msg_type::NEIGHBOR_ADVERT);
            let flags = na.byte4() | na_flags::ROUTER | na_flags::SOLICITED | na_flags::OVERRIDE;
            na.set_byte4(flags);
            // the target link-layer option goes where the NS's source option was; an NS
            // without options has no room for it and the NA goes without (upstream)
            let bytes = na.bytes_mut();
            let opt_at = icmpv6::NEIGHBOR_MSG_LEN.min(bytes.len());
            icmpv6::emit_ll_addr_option(&mut bytes[opt_at..], nd_option::TARGET_LL_ADDR, port.mac);
            na.fill_checksum(&GATEWAY_V6, &dst);
            Next::Tx(port_id)
        }
        msg_type::ROUTER_SOLICIT => {
            if !pkt.set_len(RA_FRAME_LEN) {
                return Next::Drop(DropReason::Malformed);
            }
            let frame = pkt.frame_mut();
            rewrite_addresses(frame, requester, port.mac, &dst);
            let mut ip = ipv6::Packet::new_unchecked(&mut frame[ETH..]);
            ip.set_payload_len((RA_FRAME_LEN - ICMP) as u16);
            let n = icmpv6::emit_router_advert(ip.payload_mut(), port.mac);
            let mut ra = icmpv6::Packet::new_unchecked(&mut ip.payload_mut()[..n]);
            ra.fill_checksum(&GATEWAY_V6, &dst);
            Next::Tx(port_id)
        }
        _ => Next::Drop(DropReason::NotHandled),
    }
}

/// Back to the requester, from the gateway; hop limit, traffic class, flow label kept.
fn rewrite_addresses(
    frame: &mut [u8],
    requester: ethernet::MacAddr,
    own: ethernet::MacAddr,
    dst: &Ipv6Addr,
) {
    let mut eth = ethernet::Frame::new_unchecked(&mut *frame);
    eth.set_dst_addr(requester);
    eth.set_src_addr(own);
    let mut ip = ipv6::Packet::new_unchecked(&mut frame[ETH..]);
    ip.set_dst_addr(dst);
    ip.set_src_addr(&GATEWAY_V6);
}
