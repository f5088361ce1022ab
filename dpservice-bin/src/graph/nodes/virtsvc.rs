//! `virtsvc`: IPv4 ↔ IPv6 virtual-service translation (dataplane.md §12). `cls` sends
//! here VM requests to a service's virtual IPv4 endpoint and the service's IPv6 replies
//! from an uplink (`meta.virtsvc` names the service).
//!
//! A request gets its connection's slot (port `1024 + slot`), its IPv4 header replaced
//! by an IPv6 one from the service's underlay address to the service, and leaves without
//! a tunnel on the uplink WCMP picks by the connection hash. A reply finds the
//! connection by its destination port, gets an IPv4 header from the virtual endpoint to
//! the VM and goes to the VM's port.

use crate::graph::drop::DropReason;
use crate::graph::sync_outbox::SyncMessage;
use crate::graph::virtsvc::{ConnKey, ConnectError, SYSTEM_PORTS};
use crate::graph::{Ctx, Next};
use crate::port::Buf;
use crate::wcmp::Uplink;
use crate::wire::ethernet::{self, ethertype, HEADER_LEN as ETH};
use crate::wire::ipip::FrameBuf;
use crate::wire::{be16, ip_proto, ipv4, ipv4_at, ipv6, tcp, udp};

/// L4 header offset behind a 20-byte IPv4 header (no options, as upstream assumes).
const V4_L4: usize = ETH + ipv4::HEADER_LEN;
/// L4 header offset behind the fixed IPv6 header.
const V6_L4: usize = ETH + ipv6::HEADER_LEN;
/// What the IPv6 header adds to the IPv4 one.
const GROWTH: usize = ipv6::HEADER_LEN - ipv4::HEADER_LEN;

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    let Some(index) = pkt.meta.virtsvc else {
        return Next::Drop(DropReason::NotHandled);
    };
    let from_pf = cx.ports.get(pkt.meta.in_port).is_some_and(|p| p.is_pf());
    if from_pf {
        reply(cx, pkt, index)
    } else {
        request(cx, pkt, index)
    }
}

/// Smallest L4 header of a service protocol.
fn l4_min(proto: u8) -> usize {
    if proto == ip_proto::TCP {
        tcp::HEADER_LEN
    } else {
        udp::HEADER_LEN
    }
}

/// Sets the ports of the L4 header at the start of `l4` (the whole segment) and
/// recomputes its checksum with the IPv6 or IPv4 pseudo header given.
fn rewrite_l4(l4: &mut [u8], proto: u8, src_port: u16, dst_port: u16, pseudo: Pseudo) {
    if proto == ip_proto::TCP {
        let mut t = tcp::Packet::new_unchecked(l4);
        t.set_src_port(src_port);
        t.set_dst_port(dst_port);
        match pseudo {
            Pseudo::V6(s, d) => t.fill_checksum_v6(&s, &d),
            Pseudo::V4(s, d) => t.fill_checksum_v4(s, d),
        }
    } else {
        let mut u = udp::Packet::new_unchecked(l4);
        u.set_src_port(src_port);
        u.set_dst_port(dst_port);
        match pseudo {
            Pseudo::V6(s, d) => u.fill_checksum_v6(&s, &d),
            Pseudo::V4(s, d) => u.fill_checksum_v4(s, d),
        }
    }
}

/// The addresses of a checksum's pseudo header.
#[derive(Clone, Copy)]
enum Pseudo {
    V6(std::net::Ipv6Addr, std::net::Ipv6Addr),
    V4(std::net::Ipv4Addr, std::net::Ipv4Addr),
}

/// VM → service.
fn request(cx: &mut Ctx<'_>, pkt: &mut Buf, index: u16) -> Next {
    let f = pkt.frame();
    if f.len() < V4_L4 {
        return Next::Drop(DropReason::Malformed);
    }
    let total = usize::from(be16(f, ETH + 2));
    let proto = f[ETH + 9];
    if total < ipv4::HEADER_LEN + l4_min(proto) || f.len() < ETH + total {
        return Next::Drop(DropReason::Malformed);
    }
    let ttl = f[ETH + 8];
    let key = ConnKey {
        port_id: pkt.meta.in_port,
        vm_port: be16(f, V4_L4),
        vm_ip: ipv4_at(f, ETH + 12),
    };
    let tcp_flags = (proto == ip_proto::TCP).then(|| f[V4_L4 + 13]);

    let t = &mut *cx.tables;
    let now = t.services.stamp(cx.now);
    let Some(table) = t.virtsvc.get_mut(usize::from(index)) else {
        return Next::Drop(DropReason::NotHandled);
    };
    let (slot, new) = match t.services.connect(index, key, now, table) {
        Ok(v) => v,
        Err(ConnectError::NoFreeSlot | ConnectError::TableFull) => {
            return Next::Drop(DropReason::VirtsvcNoSlot)
        }
        Err(ConnectError::NoService) => return Next::Drop(DropReason::NotHandled),
    };
    let Some((svc, slots)) = t.services.service_mut(index) else {
        return Next::Drop(DropReason::NotHandled);
    };
    let svc = *svc;
    slots.touch(slot, now, tcp_flags);
    if new {
        t.sync.push(SyncMessage::VirtsvcConnection {
            virtual_addr: svc.virtual_addr,
            virtual_port: svc.virtual_port,
            slot,
            vm_addr: key.vm_ip,
            vm_port: key.vm_port,
            port_id: key.port_id,
            proto,
        });
    }

    // the uplink by the connection hash (§6.6)
    let (Some(pf0), pf1) = (cx.ports.pf0().copied(), cx.ports.pf1().copied()) else {
        return Next::Drop(DropReason::BadOutputPort);
    };
    let pf1_up = pf1.is_some_and(|p| p.link_up);
    let out = match (cx.wcmp.choose(key.hash(), pf0.link_up, pf1_up), pf1) {
        (Uplink::Pf1, Some(pf1)) => pf1,
        _ => pf0,
    };

    // IPv4 header (20 bytes) → IPv6 header; Ethernet padding is left out
    if !pkt.set_len(ETH + total) || !pkt.prepend(GROWTH) {
        return Next::Drop(DropReason::Malformed);
    }
    let payload_len = (total - ipv4::HEADER_LEN) as u16;
    let f = pkt.frame_mut();
    ethernet::emit(f, out.neigh_mac, out.mac, ethertype::IPV6);
    ipv6::Repr {
        src: svc.underlay,
        dst: svc.service_addr,
        next_header: proto,
        payload_len,
        hop_limit: ttl,
        traffic_class: 0,
        flow_label: 0,
    }
    .emit(&mut f[ETH..]);
    rewrite_l4(
        &mut f[V6_L4..],
        proto,
        SYSTEM_PORTS + slot,
        svc.service_port,
        Pseudo::V6(svc.underlay, svc.service_addr),
    );
    pkt.meta.l3_type = ethertype::IPV6;
    pkt.meta.nxt_hop = out.id;
    Next::Tx(out.id)
}

/// Service → VM.
fn reply(cx: &mut Ctx<'_>, pkt: &mut Buf, index: u16) -> Next {
    let f = pkt.frame();
    if f.len() < V6_L4 {
        return Next::Drop(DropReason::Malformed);
    }
    let payload = usize::from(be16(f, ETH + 4));
    let proto = f[ETH + 6];
    if payload < l4_min(proto) || f.len() < V6_L4 + payload {
        return Next::Drop(DropReason::Malformed);
    }
    let hop_limit = f[ETH + 7];
    // fix (upstream indexes out of range): ports below 1024 belong to no slot
    let Some(slot) = be16(f, V6_L4 + 2).checked_sub(SYSTEM_PORTS) else {
        return Next::Drop(DropReason::VirtsvcNoConnection);
    };
    let tcp_flags = (proto == ip_proto::TCP).then(|| f[V6_L4 + 13]);

    let t = &mut *cx.tables;
    let now = t.services.stamp(cx.now);
    let Some((svc, slots)) = t.services.service_mut(index) else {
        return Next::Drop(DropReason::NotHandled);
    };
    let svc = *svc;
    let Some(conn) = slots.connection(slot) else {
        return Next::Drop(DropReason::VirtsvcNoConnection);
    };
    slots.touch(slot, now, tcp_flags);
    let Some(out) = cx.ports.get(conn.port_id).copied().filter(|p| !p.is_pf()) else {
        return Next::Drop(DropReason::BadOutputPort);
    };
    let ident = t.services.next_ident();

    // IPv6 header → IPv4 header (20 bytes); Ethernet padding is left out
    if !pkt.set_len(V6_L4 + payload) || !pkt.trim_front(GROWTH) {
        return Next::Drop(DropReason::Malformed);
    }
    let f = pkt.frame_mut();
    ethernet::emit(f, out.neigh_mac, out.mac, ethertype::IPV4);
    ipv4::Repr {
        src: svc.virtual_addr,
        dst: conn.vm_ip,
        protocol: proto,
        payload_len: payload as u16,
        ttl: hop_limit,
        tos: 0,
        ident,
        flags_frag: 0,
    }
    .emit(&mut f[ETH..]);
    rewrite_l4(
        &mut f[V4_L4..],
        proto,
        svc.virtual_port,
        conn.vm_port,
        Pseudo::V4(svc.virtual_addr, conn.vm_ip),
    );
    pkt.meta.l3_type = ethertype::IPV4;
    pkt.meta.nxt_hop = out.id;
    Next::Tx(out.id)
}
