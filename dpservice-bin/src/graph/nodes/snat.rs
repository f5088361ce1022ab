//! `snat`: metering and VIP / NAT / NAT64 source rewrite (dataplane.md §8, §13), decided
//! on a south-north flow's first packet and applied from the flow afterwards.
//!
//! The decision (first `ORG` packet of a flow without flags) records everything in the
//! flow — flags, NAT kind, the reply key the translated replies will carry — and the
//! rewrite of every packet, the first included, reads only the flow: an established
//! translated flow costs no table access here.

use super::meter;
use std::net::{IpAddr, Ipv4Addr};

use dpservice::shm::catalogue::PortoverloadValue;

use crate::flow::{flags, nat_kind, Flow};
use crate::graph::drop::DropReason;
use crate::graph::nat::rewrite::{self, PortSide, L4_V4};
use crate::graph::nat::{self, nat64, ports};
use crate::graph::nodes::conntrack::is_nat64;
use crate::graph::state::{NatConfig, VfConfig};
use crate::graph::sync_outbox::SyncMessage;
use crate::graph::{Ctx, Next, Node};
use crate::port::meta::{FlowType, NatType};
use crate::port::Buf;
use crate::wire::ethernet::ethertype;
use crate::wire::{icmpv4, icmpv6, ip_proto};

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    if !meter::public_meter_allows(cx, pkt) {
        return Next::Drop(DropReason::MeterRed);
    }
    let Some(flow) = cx.flow.as_ref() else {
        return Next::Node(Node::Firewall);
    };
    let fl = flow.flags();
    let first = fl == 0 && flow.is_org() && pkt.meta.flow_type == FlowType::SouthNorth;
    // an established flow without address translation has nothing to rewrite here
    if !first && fl & (flags::SRC_NAT | flags::DST_NAT | flags::SRC_NAT64) == 0 {
        return Next::Node(Node::Firewall);
    }
    decide_and_translate(cx, pkt, first)
}

/// A flow's first south-north packet (`first`: the decision) and every packet of a
/// translated flow (the rewrite).
#[inline(never)]
fn decide_and_translate(cx: &mut Ctx<'_>, pkt: &mut Buf, first: bool) -> Next {
    if first {
        if let Err(reason) = decide(cx, pkt) {
            return Next::Drop(reason);
        }
    }
    match translate(cx, pkt) {
        Ok(()) => Next::Node(Node::Firewall),
        Err(reason) => Next::Drop(reason),
    }
}

/// The first packet of a south-north flow from a VM: NAT (which wins over a VIP), VIP,
/// or NAT64.
fn decide(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Result<(), DropReason> {
    let state = cx.state;
    let Some(vf) = state.vf(pkt.meta.in_port) else {
        return Ok(());
    };
    match (pkt.meta.l3_type, pkt.meta.src, pkt.meta.dst) {
        (ethertype::IPV4, IpAddr::V4(src), IpAddr::V4(dst)) if vf.ipv4 == Some(src) => {
            if let Some(n) = vf.nat {
                network_nat(cx, pkt, vf, &n, dst)
            } else if let Some(vip) = vf.vip {
                vip_snat(cx, vip.ip)
            } else {
                Ok(())
            }
        }
        (ethertype::IPV6, IpAddr::V6(_), IpAddr::V6(dst)) if is_nat64(&dst) => match vf.nat {
            Some(n) => nat64_snat(cx, pkt, vf, &n, rewrite::nat64_embedded(&dst)),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// §8.1: source := VIP; replies come to the VIP.
fn vip_snat(cx: &mut Ctx<'_>, vip: Ipv4Addr) -> Result<(), DropReason> {
    let Some(flow) = cx.flow.as_mut() else {
        return Ok(());
    };
    flow.update(|e| {
        e.nat_type = nat_kind::VIP;
        e.flags |= flags::SRC_NAT;
    });
    let mut reply = flow.reply_key();
    (reply.l3_dst, reply.dst_is_v6) = nat::key_addr(vip);
    if cx.tables.flows.replace_reply_key(flow, reply).is_err() {
        flow.update(|e| {
            e.nat_type = nat_kind::NONE;
            e.flags &= !flags::SRC_NAT;
        });
        return Err(DropReason::FlowTableFull);
    }
    Ok(())
}

/// Source port (ICMP: identifier) and destination port (ICMP: identifier) of a packet.
fn l4_ports(pkt: &Buf) -> (u16, u16) {
    let l4 = &pkt.meta.l4;
    match pkt.meta.l4_type {
        ip_proto::TCP | ip_proto::UDP => (l4.src_port, l4.dst_port),
        _ => (l4.icmp_ident, l4.icmp_ident),
    }
}

/// Allocates a NAT port for the flow's source (§8.3.3), with the HA message and the
/// used-port count; a full range drops the packet (and warns, rate-limited).
fn allocate(
    cx: &mut Ctx<'_>,
    pkt: &Buf,
    n: &NatConfig,
    req: &ports::Request,
    ip_checksum: [u8; 2],
) -> Result<ports::Allocation, DropReason> {
    let port_id = pkt.meta.in_port;
    let icmp_type = match pkt.meta.l4_type {
        ip_proto::ICMP | ip_proto::ICMPV6 => u16::from(pkt.meta.l4.icmp_type),
        _ => 0,
    };
    let range = ports::Range {
        nat_ip: n.ip,
        min: n.min_port,
        max: n.max_port,
    };
    let meta = PortoverloadValue {
        port_id,
        icmp_type,
        ip_cksum: ip_checksum,
        pad0: 0,
    };
    let t = &mut *cx.tables;
    match ports::allocate(&mut t.portmap, &mut t.portoverload, range, req, meta) {
        Ok(a) => {
            t.nat.allocated(port_id);
            t.sync.push(SyncMessage::NatCreate {
                portmap: a.portmap,
                overload: a.overload,
                port_id,
                icmp_type,
                ip_checksum,
            });
            Ok(a)
        }
        Err(e) => {
            if t.nat.may_warn_full(port_id, cx.now) {
                tracing::warn!(
                    nat_ip = %n.ip,
                    vni = req.vni,
                    src = %req.src,
                    src_port = req.src_port,
                    range = u32::from(n.max_port.saturating_sub(n.min_port)),
                    "no NAT port for a new flow: {e}"
                );
            }
            Err(DropReason::NatPortExhausted)
        }
    }
}

/// Records the NAT in the flow and makes its reply key `reply`; undoes the allocation
/// if the flow cannot take the key.
fn commit(
    cx: &mut Ctx<'_>,
    alloc: &ports::Allocation,
    reply: crate::flow::CtKey,
    set: impl FnOnce(&mut crate::flow::FlowEntry),
) -> Result<(), DropReason> {
    let Some(flow) = cx.flow.as_mut() else {
        return Err(DropReason::NotHandled);
    };
    let saved = flow.entry;
    flow.update(set);
    if cx.tables.flows.replace_reply_key(flow, reply).is_ok() {
        return Ok(());
    }
    restore(flow, &saved);
    let t = &mut *cx.tables;
    if ports::release_keys(
        &mut t.portmap,
        &mut t.portoverload,
        &alloc.portmap,
        &alloc.overload,
    ) {
        t.nat.released(flow.entry.port_id);
        t.sync.push(SyncMessage::NatDelete {
            portmap: alloc.portmap,
            overload: alloc.overload,
        });
    }
    Err(DropReason::FlowTableFull)
}

/// Takes back what [`commit`] recorded in a flow (the key fields stay as the table left
/// them).
fn restore(flow: &mut Flow, saved: &crate::flow::FlowEntry) {
    let saved = *saved;
    flow.update(|e| {
        e.flags = saved.flags;
        e.nat_type = saved.nat_type;
        e.nat_vni = saved.nat_vni;
        e.nat_ip = saved.nat_ip;
        e.nat_is_v6 = saved.nat_is_v6;
        e.nat_port = saved.nat_port;
        e.l4_type = saved.l4_type;
        e.icmp_err_cksum = saved.icmp_err_cksum;
    });
}

/// §8.3.1: a NAT port for the source; replies come to (NAT IP, NAT port).
fn network_nat(
    cx: &mut Ctx<'_>,
    pkt: &Buf,
    vf: &VfConfig,
    n: &NatConfig,
    dst: Ipv4Addr,
) -> Result<(), DropReason> {
    let (src_port, dst_port) = l4_ports(pkt);
    let req = ports::Request {
        vni: vf.vni,
        src: pkt.meta.src,
        src_port,
        dst,
        dst_port,
        proto: pkt.meta.l4_type,
    };
    let cksum = rewrite::v4_header_checksum(pkt.frame());
    let alloc = allocate(cx, pkt, n, &req, cksum.to_be_bytes())?;
    let Some(flow) = cx.flow.as_ref() else {
        return Err(DropReason::NotHandled);
    };
    let mut reply = flow.reply_key();
    (reply.l3_dst, reply.dst_is_v6) = nat::key_addr(n.ip);
    reply.port_dst = alloc.port;
    let (vni, l4_type, nat_ip) = (vf.vni, pkt.meta.l4_type, n.ip);
    commit(cx, &alloc, reply, |e| {
        e.nat_type = nat_kind::NETWORK_LOCAL;
        e.nat_vni = vni;
        e.l4_type = l4_type;
        e.icmp_err_cksum = cksum;
        (e.nat_ip, e.nat_is_v6) = nat::key_addr(nat_ip);
        e.nat_port = alloc.port;
        e.flags |= flags::SRC_NAT;
    })
}

/// §8.5: a NAT port for the IPv6 source; replies are IPv4 to (NAT IP, NAT port).
fn nat64_snat(
    cx: &mut Ctx<'_>,
    pkt: &Buf,
    vf: &VfConfig,
    n: &NatConfig,
    dst: Ipv4Addr,
) -> Result<(), DropReason> {
    let l4_type = pkt.meta.l4_type;
    let (proto_v4, reply_type) = match l4_type {
        ip_proto::TCP | ip_proto::UDP => (l4_type, None),
        ip_proto::ICMPV6 => match pkt.meta.l4.icmp_type {
            // the reply key's type is the IPv4 one of the answer
            icmpv6::msg_type::ECHO_REQUEST => (ip_proto::ICMP, Some(icmpv4::msg_type::ECHO_REPLY)),
            icmpv6::msg_type::ECHO_REPLY => (ip_proto::ICMP, Some(icmpv4::msg_type::ECHO_REQUEST)),
            _ => return Err(DropReason::UnsupportedIcmp),
        },
        _ => return Err(DropReason::UnsupportedL4),
    };
    let (src_port, dst_port) = l4_ports(pkt);
    let req = ports::Request {
        vni: vf.vni,
        src: pkt.meta.src,
        src_port,
        dst,
        dst_port,
        proto: l4_type,
    };
    let alloc = allocate(cx, pkt, n, &req, [0, 0])?;
    let Some(flow) = cx.flow.as_ref() else {
        return Err(DropReason::NotHandled);
    };
    let mut reply = flow.reply_key();
    (reply.l3_src, reply.src_is_v6) = nat::key_addr(dst);
    (reply.l3_dst, reply.dst_is_v6) = nat::key_addr(n.ip);
    reply.port_dst = alloc.port;
    reply.proto = proto_v4;
    if let Some(t) = reply_type {
        reply.src = u16::from(t);
    }
    let (vni, nat_ip) = (vf.vni, n.ip);
    commit(cx, &alloc, reply, |e| {
        e.nat_type = nat_kind::NETWORK_LOCAL;
        e.nat_vni = vni;
        e.l4_type = proto_v4;
        (e.nat_ip, e.nat_is_v6) = nat::key_addr(nat_ip);
        e.nat_port = alloc.port;
        e.flags |= flags::SRC_NAT64;
    })
}

/// The source rewrite of an original-direction packet of a flow with `SRC_NAT` (VIP or
/// NAT), from its entry `e` alone (the fast lane's too).
#[inline]
pub(in crate::graph) fn src_nat_original(
    pkt: &mut Buf,
    e: &crate::flow::FlowEntry,
) -> Result<(), DropReason> {
    let reply = &e.other_key;
    let Some(nat_ip) = nat::key_v4(&reply.l3_dst, reply.dst_is_v6) else {
        return Err(DropReason::NotHandled);
    };
    if pkt.meta.l3_type != ethertype::IPV4 {
        return Err(DropReason::NotHandled);
    }
    let network = e.nat_type == nat_kind::NETWORK_LOCAL;
    let port = reply.port_dst;
    let icmp = pkt.meta.l4_type == ip_proto::ICMP;
    let f = pkt.frame_mut();
    rewrite::set_v4_src(f, nat_ip);
    if network {
        if icmp {
            rewrite::set_icmp_ident(f, L4_V4, port);
        } else {
            rewrite::set_l4_port(f, L4_V4, PortSide::Src, port);
        }
        pkt.meta.nat_port = port;
    }
    if !rewrite::v4_fix_checksums(pkt.frame_mut()) {
        return Err(DropReason::Malformed);
    }
    let m = &mut pkt.meta;
    m.nat_type = NatType::ChangeSrcIp;
    m.nat_addr = nat_ip;
    m.src = IpAddr::V4(nat_ip);
    Ok(())
}

/// The rewrite every packet of a translated flow gets here, from the flow alone.
fn translate(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Result<(), DropReason> {
    let Some(flow) = cx.flow.as_ref() else {
        return Ok(());
    };
    let fl = flow.flags();
    if fl & (flags::SRC_NAT | flags::DST_NAT | flags::SRC_NAT64) == 0 {
        return Ok(());
    }
    let org = flow.is_org();
    if fl & flags::SRC_NAT != 0 && org {
        src_nat_original(pkt, &flow.entry)?;
    }
    if fl & flags::DST_NAT != 0 && !org {
        // a reply from the VM behind a VIP leaves from the VIP
        let orig = &flow.entry.other_key;
        let Some(vip) = nat::key_v4(&orig.l3_dst, orig.dst_is_v6) else {
            return Err(DropReason::NotHandled);
        };
        if pkt.meta.l3_type != ethertype::IPV4 {
            return Err(DropReason::NotHandled);
        }
        rewrite::set_v4_src(pkt.frame_mut(), vip);
        if !rewrite::v4_fix_checksums(pkt.frame_mut()) {
            return Err(DropReason::Malformed);
        }
        let m = &mut pkt.meta;
        m.nat_type = NatType::ChangeSrcIp;
        m.nat_addr = vip;
        m.src = IpAddr::V4(vip);
    }
    if fl & flags::SRC_NAT64 != 0 && org {
        let reply = &flow.entry.other_key;
        let Some(nat_ip) = nat::key_v4(&reply.l3_dst, reply.dst_is_v6) else {
            return Err(DropReason::NotHandled);
        };
        let port = reply.port_dst;
        if pkt.meta.l3_type != ethertype::IPV6 {
            return Err(DropReason::NotHandled);
        }
        let dst = nat64::to_v4(pkt, nat_ip, port).map_err(|e| match e {
            nat64::Nat64Error::Malformed => DropReason::Malformed,
            nat64::Nat64Error::Untranslatable => DropReason::UnsupportedIcmp,
        })?;
        let m = &mut pkt.meta;
        m.l3_type = ethertype::IPV4;
        m.src = IpAddr::V4(nat_ip);
        m.dst = IpAddr::V4(dst);
        if m.l4_type == ip_proto::ICMPV6 {
            m.l4_type = ip_proto::ICMP;
        }
        m.nat_type = NatType::Nat64ChangeSrcIp;
        m.nat_addr = nat_ip;
        m.nat_port = port;
    }
    Ok(())
}
