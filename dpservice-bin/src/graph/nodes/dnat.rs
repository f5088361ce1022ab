//! `dnat`: destination NAT, NAT reply restore, NAT64 replies (dataplane.md §8).
//!
//! A flow's first packet to a public address of its VNI decides: a VIP is rewritten to
//! its VM (§8.1); a NAT address without a flow is answered (echo), relayed to the
//! neighbour owning the port range, or dropped (§8.3.4). Later packets and replies of
//! translated flows are rewritten from the flow alone (§8.3.2, §8.3.5, §8.5).

use std::net::{IpAddr, Ipv4Addr};

use crate::flow::{flags, nat_kind};
use crate::graph::drop::DropReason;
use crate::graph::nat::rewrite::{self, PortSide, L4_V4};
use crate::graph::nat::{self, nat64};
use crate::graph::state::DnatTarget;
use crate::graph::{Ctx, Next, Node};
use crate::port::meta::NatType;
use crate::port::Buf;
use crate::wire::ethernet::ethertype;
use crate::wire::{icmpv4, icmpv6, ip_proto};

fn lookup_by_family(pkt: &Buf) -> Next {
    match pkt.meta.l3_type {
        ethertype::IPV4 => Next::Node(Node::Ipv4Lookup),
        ethertype::IPV6 => Next::Node(Node::Ipv6Lookup),
        _ => Next::Drop(DropReason::Malformed),
    }
}

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    // an established flow with nothing to restore in this direction (untranslated, or
    // source-translated going out) is answered without the frame of the translating
    // paths: destination NAT acts on original packets, source NAT on replies
    if let Some(flow) = cx.flow.as_ref() {
        let fl = flow.flags();
        let acting = if flow.is_org() {
            flags::DST_NAT | flags::DST_NAT_FWD
        } else {
            flags::SRC_NAT | flags::SRC_NAT64 | flags::DST_NAT_FWD
        };
        if fl & acting == 0
            && (fl & flags::DEFAULT == 0 || flow.entry.nat_type != nat_kind::NAT_AS_TARGET)
            && fl != 0
        {
            return lookup_by_family(pkt);
        }
    }
    translate(cx, pkt)
}

/// Everything but the untranslated established flow.
#[inline(never)]
fn translate(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    let Some(flow) = cx.flow.as_ref() else {
        return lookup_by_family(pkt);
    };
    let fl = flow.flags();
    if fl == 0 && flow.is_org() && pkt.meta.l3_type == ethertype::IPV4 {
        return first_packet(cx, pkt);
    }
    if fl & flags::DST_NAT_FWD != 0 {
        pkt.meta.nat_type = NatType::ChangeUnderlayDst;
        return Next::Node(Node::PacketRelay);
    }
    if fl & flags::DEFAULT != 0
        && flow.entry.nat_type == nat_kind::NAT_AS_TARGET
        && is_echo_request(pkt)
    {
        return Next::Node(Node::PacketRelay);
    }
    match restore(cx, pkt) {
        Ok(next) => next,
        Err(reason) => Next::Drop(reason),
    }
}

fn is_echo_request(pkt: &Buf) -> bool {
    let m = &pkt.meta;
    (m.l4_type == ip_proto::ICMP && m.l4.icmp_type == icmpv4::msg_type::ECHO_REQUEST)
        || (m.l4_type == ip_proto::ICMPV6 && m.l4.icmp_type == icmpv6::msg_type::ECHO_REQUEST)
}

/// First packet of an IPv4 flow: a public address of the VNI is translated.
fn first_packet(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    let IpAddr::V4(dst) = pkt.meta.dst else {
        return Next::Node(Node::Ipv4Lookup);
    };
    let vni = match pkt.meta.tun.dst_vni {
        0 => cx.state.vf(pkt.meta.in_port).map_or(0, |vf| vf.vni),
        v => v,
    };
    let state = cx.state;
    match state.nat_tables().dnat_lookup(vni, dst) {
        Some(DnatTarget::Network) => nat_address(cx, pkt, vni, dst),
        Some(DnatTarget::Vip {
            vm_ip: Some(vm), ..
        }) => match vip_dnat(cx, pkt, *vm) {
            Ok(()) => Next::Node(Node::Ipv4Lookup),
            Err(reason) => Next::Drop(reason),
        },
        _ => Next::Node(Node::Ipv4Lookup),
    }
}

/// §8.3.4: a NAT address without a flow.
fn nat_address(cx: &mut Ctx<'_>, pkt: &mut Buf, vni: u32, dst: Ipv4Addr) -> Next {
    let Some(flow) = cx.flow.as_mut() else {
        return Next::Drop(DropReason::NatNoFlow);
    };
    if is_echo_request(pkt) && pkt.meta.l4_type == ip_proto::ICMP {
        flow.update(|e| e.nat_type = nat_kind::NAT_AS_TARGET);
        return Next::Node(Node::PacketRelay);
    }
    let port = match pkt.meta.l4_type {
        ip_proto::TCP | ip_proto::UDP => pkt.meta.l4.dst_port,
        _ => pkt.meta.l4.icmp_ident,
    };
    let state = cx.state;
    let Some(neigh) = state.nat_tables().neighbor_lookup(vni, dst, port) else {
        return Next::Drop(DropReason::NatNoFlow);
    };
    let (underlay, l4_type) = (neigh.underlay.octets(), pkt.meta.l4_type);
    flow.update(|e| {
        e.nat_type = nat_kind::NETWORK_NEIGH;
        e.l4_type = l4_type;
        e.underlay_dst = underlay;
        e.flags |= flags::DST_NAT_FWD;
    });
    pkt.meta.nat_type = NatType::ChangeUnderlayDst;
    Next::Node(Node::PacketRelay)
}

/// §8.1 inbound: destination := the VM; its replies will come from the VM's address.
fn vip_dnat(cx: &mut Ctx<'_>, pkt: &mut Buf, vm: Ipv4Addr) -> Result<(), DropReason> {
    let Some(flow) = cx.flow.as_mut() else {
        return Ok(());
    };
    flow.update(|e| e.flags |= flags::DST_NAT);
    let mut reply = flow.reply_key();
    (reply.l3_src, reply.src_is_v6) = nat::key_addr(vm);
    if cx.tables.flows.replace_reply_key(flow, reply).is_err() {
        flow.update(|e| e.flags &= !flags::DST_NAT);
        return Err(DropReason::FlowTableFull);
    }
    set_dst(pkt, vm)
}

/// Destination := `a`, checksums recomputed, the metadata following.
fn set_dst(pkt: &mut Buf, a: Ipv4Addr) -> Result<(), DropReason> {
    let f = pkt.frame_mut();
    let old = rewrite::v4_dst(f);
    rewrite::set_v4_dst(f, a);
    if !rewrite::v4_fix_checksums(f) {
        return Err(DropReason::Malformed);
    }
    let m = &mut pkt.meta;
    m.nat_type = NatType::ChangeDstIp;
    m.nat_addr = old;
    m.dst = IpAddr::V4(a);
    Ok(())
}

/// Later packets of translated flows: VIP destination, NAT and NAT64 replies.
fn restore(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Result<Next, DropReason> {
    let Some(flow) = cx.flow.as_ref() else {
        return Ok(lookup_by_family(pkt));
    };
    let fl = flow.flags();
    let org = flow.is_org();
    if fl & flags::DST_NAT != 0 && org {
        let reply = &flow.entry.other_key;
        let Some(vm) = nat::key_v4(&reply.l3_src, reply.src_is_v6) else {
            return Err(DropReason::NotHandled);
        };
        set_dst(pkt, vm)?;
    }
    if fl & flags::SRC_NAT != 0 && !org {
        let orig = &flow.entry.other_key;
        let Some(vm) = nat::key_v4(&orig.l3_src, orig.src_is_v6) else {
            return Err(DropReason::NotHandled);
        };
        if pkt.meta.l3_type != ethertype::IPV4 {
            return Err(DropReason::NotHandled);
        }
        let old = rewrite::v4_dst(pkt.frame());
        let (l4_type, icmp_type) = (pkt.meta.l4_type, pkt.meta.l4.icmp_type);
        let f = pkt.frame_mut();
        rewrite::set_v4_dst(f, vm);
        if flow.entry.nat_type == nat_kind::NETWORK_LOCAL {
            match l4_type {
                ip_proto::ICMP => match icmp_type {
                    icmpv4::msg_type::ECHO_REPLY => {
                        rewrite::set_icmp_ident(f, L4_V4, orig.port_dst);
                    }
                    icmpv4::msg_type::DEST_UNREACHABLE => {
                        let cksum = flow.entry.icmp_err_cksum;
                        if !rewrite::restore_icmp_error(f, vm, cksum, orig.src) {
                            return Err(DropReason::UnsupportedIcmp);
                        }
                    }
                    _ => {}
                },
                _ => rewrite::set_l4_port(f, L4_V4, PortSide::Dst, orig.src),
            }
        }
        if !rewrite::v4_fix_checksums(pkt.frame_mut()) {
            return Err(DropReason::Malformed);
        }
        let m = &mut pkt.meta;
        m.nat_type = NatType::ChangeDstIp;
        m.nat_addr = old;
        m.dst = IpAddr::V4(vm);
    }
    if fl & flags::SRC_NAT64 != 0 && !org {
        let orig = &flow.entry.other_key;
        let IpAddr::V6(vm) =
            dpservice::shm::catalogue::addr_from_bytes(orig.l3_src, orig.src_is_v6)
        else {
            return Err(DropReason::NotHandled);
        };
        if pkt.meta.l3_type != ethertype::IPV4 {
            return Err(DropReason::NotHandled);
        }
        let nat_ip = rewrite::v4_dst(pkt.frame());
        let (l4_type, icmp_type) = (pkt.meta.l4_type, pkt.meta.l4.icmp_type);
        let f = pkt.frame_mut();
        if flow.entry.nat_type == nat_kind::NETWORK_LOCAL {
            match l4_type {
                ip_proto::ICMP => {
                    if icmp_type == icmpv4::msg_type::ECHO_REPLY {
                        rewrite::set_icmp_ident(f, L4_V4, orig.port_dst);
                    }
                }
                _ => rewrite::set_l4_port(f, L4_V4, PortSide::Dst, orig.src),
            }
        }
        let src = nat64::to_v6(pkt, &vm).map_err(|e| match e {
            nat64::Nat64Error::Malformed => DropReason::Malformed,
            nat64::Nat64Error::Untranslatable => DropReason::UnsupportedIcmp,
        })?;
        let m = &mut pkt.meta;
        m.l3_type = ethertype::IPV6;
        m.src = IpAddr::V6(src);
        m.dst = IpAddr::V6(vm);
        if m.l4_type == ip_proto::ICMP {
            m.l4_type = ip_proto::ICMPV6;
        }
        m.nat_type = NatType::Nat64ChangeDstIp;
        m.nat_addr = nat_ip;
        return Ok(Next::Node(Node::Ipv6Lookup));
    }
    Ok(lookup_by_family(pkt))
}
