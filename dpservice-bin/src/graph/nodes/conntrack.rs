//! `conntrack`: inner L3/L4 extraction, DHCP diversion, the flow key (dataplane.md §7.1,
//! §7.2), the flow's lookup or creation with its direction, TCP state and timeout (§7.3,
//! §7.4), and the next node by where the packet came from.

use std::net::{IpAddr, Ipv6Addr};

use crate::flow::key::FlowKey;
use crate::flow::{key, nat_kind, tcp, CtKey, FlowTable, ESTABLISHED_TIMEOUT_S};
use crate::graph::drop::DropReason;
use crate::graph::{Ctx, Next, Node};
use crate::hash::vnf_type;
use crate::port::meta::FlowDir;
use crate::port::meta::Meta;
use crate::port::Buf;
use crate::wire::ethernet::{ethertype, HEADER_LEN as ETH};
use crate::wire::icmpv4::{self, unreach_code};
use crate::wire::{be16, dhcpv4, dhcpv6, ip_proto, ipv4, ipv4_at, ipv6, ipv6_at};
use dpservice::shm::catalogue::FLOW_KEY_WORDS;
use dpservice::shm::table::Slot;

/// NAT64 well-known prefix `64:ff9b::/96`.
const NAT64_PREFIX: [u8; 12] = [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];

pub(crate) fn is_nat64(addr: &Ipv6Addr) -> bool {
    addr.octets()[..12] == NAT64_PREFIX
}

/// Reads addresses, protocol and L4 fields into the metadata; `Err` if headers are cut.
fn extract(pkt: &mut Buf) -> Result<usize, DropReason> {
    let f = pkt.frame();
    let (src, dst, proto, l4_at) = match pkt.meta.l3_type {
        ethertype::IPV4 => {
            // upstream reads L4 right after a 20-byte header (options are not handled)
            if f.len() < ETH + ipv4::HEADER_LEN {
                return Err(DropReason::Malformed);
            }
            let ip = ETH;
            (
                IpAddr::V4(ipv4_at(f, ip + 12)),
                IpAddr::V4(ipv4_at(f, ip + 16)),
                f[ip + 9],
                ip + ipv4::HEADER_LEN,
            )
        }
        ethertype::IPV6 => {
            if f.len() < ETH + ipv6::HEADER_LEN {
                return Err(DropReason::Malformed);
            }
            let ip = ETH;
            (
                IpAddr::V6(ipv6_at(f, ip + 8)),
                IpAddr::V6(ipv6_at(f, ip + 24)),
                f[ip + 6],
                ip + ipv6::HEADER_LEN,
            )
        }
        _ => return Err(DropReason::Malformed),
    };
    let l4 = &f[l4_at.min(f.len())..];
    let mut info = crate::port::meta::L4Info::default();
    match proto {
        ip_proto::TCP | ip_proto::UDP => {
            if l4.len() < 4 {
                return Err(DropReason::Malformed);
            }
            info.src_port = be16(l4, 0);
            info.dst_port = be16(l4, 2);
        }
        ip_proto::ICMP | ip_proto::ICMPV6 => {
            if l4.len() < icmpv4::HEADER_LEN {
                return Err(DropReason::Malformed);
            }
            info.icmp_type = l4[0];
            info.icmp_code = l4[1];
            info.icmp_ident = be16(l4, 4);
        }
        _ => return Err(DropReason::UnsupportedL4),
    }
    let m: &mut Meta = &mut pkt.meta;
    m.src = src;
    m.dst = dst;
    m.l4_type = proto;
    m.l4 = info;
    Ok(l4_at)
}

/// IPv4 from a VF: NAT if the source is the interface's address and it has a NAT, else
/// LB prefix if the source /32 is one of the port's load-balancer prefixes. (Upstream
/// looks the source up in the whole VNI's SNAT table; a VM sending with another VM's
/// address is the only case where the two differ.)
fn vf_ipv4_vnf_type(cx: &Ctx<'_>, port: crate::port::PortId, src: std::net::Ipv4Addr) -> u8 {
    match cx.state.vf(port) {
        Some(vf) => vf_ipv4_vnf_type_of(vf, src),
        None => vnf_type::UNDEFINED,
    }
}

/// [`vf_ipv4_vnf_type`] of a VF already looked up (inlined: the call would cost the
/// packet path more than the check).
#[inline(always)]
fn vf_ipv4_vnf_type_of(vf: &crate::state::VfConfig, src: std::net::Ipv4Addr) -> u8 {
    if vf.ipv4 == Some(src) && vf.nat.is_some() {
        return vnf_type::NAT;
    }
    let host = IpAddr::V4(src);
    if vf
        .lb_prefixes
        .iter()
        .any(|p| p.prefix.len() == 32 && p.prefix.addr() == host)
    {
        return vnf_type::LB_ALIAS_PFX;
    }
    vnf_type::UNDEFINED
}

/// The flow key of §7.2 (ICMP errors keyed by their embedded packet).
fn flow_key(cx: &Ctx<'_>, pkt: &Buf, l4_at: usize, from_pf: bool) -> Result<FlowKey, DropReason> {
    let m = &pkt.meta;
    let vni = if from_pf {
        m.tun.dst_vni
    } else {
        cx.state.vf(m.in_port).map_or(0, |vf| vf.vni)
    };
    let vnf = if from_pf {
        match m.vnf_type {
            vnf_type::NAT | vnf_type::LB_ALIAS_PFX => m.vnf_type,
            _ => vnf_type::UNDEFINED,
        }
    } else {
        match (m.dst, m.src) {
            (IpAddr::V6(d), _) if is_nat64(&d) => vnf_type::NAT,
            (IpAddr::V4(_), IpAddr::V4(src)) => vf_ipv4_vnf_type(cx, m.in_port, src),
            _ => vnf_type::UNDEFINED,
        }
    };
    let mut key = FlowKey {
        l3_dst: m.dst,
        l3_src: m.src,
        proto: m.l4_type,
        port_dst: 0,
        src: 0,
        vni,
        vnf_type: vnf,
    };
    match m.l4_type {
        ip_proto::TCP | ip_proto::UDP => {
            key.port_dst = m.l4.dst_port;
            key.src = m.l4.src_port;
        }
        ip_proto::ICMPV6 => {
            key.port_dst = m.l4.icmp_ident;
            key.src = u16::from(m.l4.icmp_type);
        }
        _ => match m.l4.icmp_type {
            icmpv4::msg_type::ECHO_REQUEST | icmpv4::msg_type::ECHO_REPLY => {
                key.port_dst = m.l4.icmp_ident;
                key.src = u16::from(m.l4.icmp_type);
            }
            icmpv4::msg_type::DEST_UNREACHABLE => {
                if !matches!(
                    m.l4.icmp_code,
                    unreach_code::PROTOCOL | unreach_code::PORT | unreach_code::FRAG_NEEDED
                ) {
                    return Err(DropReason::UnsupportedIcmp);
                }
                // the key of the reverse direction of the connection that failed
                let f = pkt.frame();
                let emb = l4_at + icmpv4::HEADER_LEN;
                if f.len() < emb + ipv4::HEADER_LEN + 4 {
                    return Err(DropReason::UnsupportedIcmp);
                }
                let proto = f[emb + 9];
                if proto != ip_proto::TCP && proto != ip_proto::UDP {
                    return Err(DropReason::UnsupportedIcmp);
                }
                let hl = usize::from(f[emb] & 0x0f) * 4;
                let l4 = emb + hl.max(ipv4::HEADER_LEN);
                if f.len() < l4 + 4 {
                    return Err(DropReason::UnsupportedIcmp);
                }
                key.l3_dst = IpAddr::V4(ipv4_at(f, emb + 12));
                key.l3_src = IpAddr::V4(ipv4_at(f, emb + 16));
                key.proto = proto;
                key.port_dst = be16(f, l4);
                key.src = be16(f, l4 + 2);
            }
            _ => return Err(DropReason::UnsupportedIcmp),
        },
    }
    Ok(key)
}

/// The reply key of a staged packet's key with its hash, when the chain prefetch found
/// its chain empty (the lookup will miss and make a flow, which checks the reply key).
pub(crate) type Reply = Option<(CtKey, u64)>;

/// What `conntrack` learnt of a packet before its table lookup: the graph computes it
/// for a whole burst first and prefetches where each key lives ([`prepare`]), then
/// walks the packets on ([`lookup`]).
#[derive(Debug, Clone, Copy)]
// compared only by tests; derived in the release build it changed the compiler's
// inlining of the new-flow path (callgrind: ~30 more instructions per new flow)
#[cfg_attr(test, derive(PartialEq, Eq))]
pub(crate) struct Staged {
    /// The key as its words (`FlowKey::words`): built from values in registers and
    /// searched as they are, with no read-back of a key just stored field by field,
    /// which stalls the CPU's store forwarding (16 % of the worker's profile on one flow).
    words: [u64; FLOW_KEY_WORDS],
    hash: u64,
    /// Offset of the L4 header (at most 54: a `u16` keeps the record small).
    l4_at: u16,
    from_pf: bool,
}

impl Staged {
    /// The packet's conntrack key.
    #[inline(always)]
    pub(in crate::graph) fn key(&self) -> CtKey {
        CtKey::from_words(&self.words)
    }

    /// The key's words, for [`FlowTable::find_words`].
    #[inline(always)]
    pub(in crate::graph) fn words(&self) -> &[u64; FLOW_KEY_WORDS] {
        &self.words
    }

    /// The record of `key` (its words and hash computed here).
    #[inline(always)]
    fn new(flows: &FlowTable, key: &CtKey, l4_at: u16, from_pf: bool) -> Staged {
        let words = key.words();
        Staged {
            words,
            hash: flows.hash_of_words(&words),
            l4_at,
            from_pf,
        }
    }

    /// The key's table hash.
    #[inline(always)]
    pub(in crate::graph) fn hash(&self) -> u64 {
        self.hash
    }

    /// Offset of the L4 header in the frame.
    #[inline(always)]
    pub(in crate::graph) fn l4_at(&self) -> usize {
        usize::from(self.l4_at)
    }

    /// Whether the packet came from an uplink.
    #[inline(always)]
    pub(in crate::graph) fn is_from_pf(&self) -> bool {
        self.from_pf
    }

    /// Prefetches the table's bucket of the key (first step of a staged burst).
    #[inline]
    pub(crate) fn prefetch(&self, flows: &FlowTable) {
        flows.prefetch(self.hash);
    }

    /// Prefetches the first entry of the key's chain, or, if the chain is empty, the
    /// bucket of the reply key the new flow will check (second step): then answers
    /// that reply key with its hash, for [`lookup`] (kept apart from the record, which
    /// it would double in size for the first packet of a flow alone).
    #[inline(always)]
    pub(crate) fn prefetch_chain(&self, flows: &FlowTable) -> Reply {
        flows.prefetch_chain(&self.words, self.hash)
    }
}

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    match prepare(cx, pkt) {
        Ok(staged) => lookup(cx, pkt, &staged, None),
        Err(next) => next,
    }
}

/// The first half of `conntrack`: headers, DHCP diversion and the flow key with its
/// table hash; `Err` with where the packet goes instead of a lookup.
#[inline]
pub(crate) fn prepare(cx: &Ctx<'_>, pkt: &mut Buf) -> Result<Staged, Next> {
    match prepare_v4_ports(cx, pkt) {
        Some(staged) => Ok(staged),
        None => prepare_any(cx, pkt),
    }
}

/// Offset of the L4 header of an IPv4 packet (upstream ignores options).
pub(in crate::graph) const V4_L4_AT: usize = ETH + ipv4::HEADER_LEN;

/// [`prepare`] for the common case, IPv4 TCP or UDP that is not DHCP, on a known port:
/// the packed key built straight from the frame's bytes, with one VF lookup. `None`
/// for anything else, which [`prepare_any`] then handles; for the packets taken here
/// both give the same result (`graph::tests::conntrack_key`).
#[inline(always)]
pub(in crate::graph) fn prepare_v4_ports(cx: &Ctx<'_>, pkt: &mut Buf) -> Option<Staged> {
    if pkt.meta.l3_type != ethertype::IPV4 {
        return None;
    }
    let v4 = V4Ports::of(pkt.frame())?;
    let (proto, src, dst) = (v4.proto, v4.src(), v4.dst());
    let (src_port, dst_port) = (v4.src_port(), v4.dst_port());
    match proto {
        ip_proto::TCP => {}
        ip_proto::UDP if dst_port != dhcpv4::SERVER_PORT => {}
        _ => return None,
    }
    let m = &mut pkt.meta;
    let from_pf = cx.ports.get(m.in_port)?.is_pf();
    v4.set_meta(m);
    let (vni, vnf) = if from_pf {
        let vnf = match m.vnf_type {
            vnf_type::NAT | vnf_type::LB_ALIAS_PFX => m.vnf_type,
            _ => vnf_type::UNDEFINED,
        };
        (m.tun.dst_vni, vnf)
    } else {
        match cx.state.vf(m.in_port) {
            Some(vf) => (vf.vni, vf_ipv4_vnf_type_of(vf, src)),
            None => (0, vnf_type::UNDEFINED),
        }
    };
    let key = CtKey {
        l3_dst: v4_key_bytes(dst),
        dst_is_v6: 0,
        proto,
        port_dst: dst_port,
        l3_src: v4_key_bytes(src),
        src_is_v6: 0,
        vnf_type: vnf,
        src: src_port,
        vni,
    };
    Some(Staged::new(
        &cx.tables.flows,
        &key,
        V4_L4_AT as u16,
        from_pf,
    ))
}

/// What [`prepare_v4_ports`] reads of a frame: the IPv4 header's protocol and
/// addresses, the L4 ports (equal for two frames of one port: equal keys there). Kept as
/// the frame's bytes in three loads, decoded by the accessors: the fast lane compares
/// whole bursts of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::graph) struct V4Ports {
    proto: u8,
    /// Source and destination address, as in the frame.
    addrs: [u8; 8],
    /// Source and destination port, as in the frame.
    ports: [u8; 4],
}

impl V4Ports {
    /// Read from the frame (`None` if it is too short).
    #[inline(always)]
    pub(in crate::graph) fn of(f: &[u8]) -> Option<V4Ports> {
        let h: &[u8; ipv4::HEADER_LEN + 4] = f.get(ETH..V4_L4_AT + 4)?.try_into().ok()?;
        let (addrs, ports) = (h[12..20].try_into().ok()?, h[20..24].try_into().ok()?);
        Some(V4Ports {
            proto: h[9],
            addrs,
            ports,
        })
    }

    /// The IP protocol.
    #[inline(always)]
    pub(in crate::graph) fn proto(&self) -> u8 {
        self.proto
    }

    #[inline(always)]
    fn src(&self) -> std::net::Ipv4Addr {
        let a = &self.addrs;
        std::net::Ipv4Addr::new(a[0], a[1], a[2], a[3])
    }

    #[inline(always)]
    fn dst(&self) -> std::net::Ipv4Addr {
        let a = &self.addrs;
        std::net::Ipv4Addr::new(a[4], a[5], a[6], a[7])
    }

    #[inline(always)]
    fn src_port(&self) -> u16 {
        u16::from_be_bytes([self.ports[0], self.ports[1]])
    }

    #[inline(always)]
    fn dst_port(&self) -> u16 {
        u16::from_be_bytes([self.ports[2], self.ports[3]])
    }

    /// The metadata [`prepare_v4_ports`] writes.
    #[inline(always)]
    pub(in crate::graph) fn set_meta(&self, m: &mut Meta) {
        m.src = IpAddr::V4(self.src());
        m.dst = IpAddr::V4(self.dst());
        m.l4_type = self.proto;
        m.l4 = crate::port::meta::L4Info {
            src_port: self.src_port(),
            dst_port: self.dst_port(),
            ..Default::default()
        };
    }
}

/// An IPv4 address in key form (as `key::pack` writes it): its host integer in little
/// endian, then zeros.
#[inline(always)]
fn v4_key_bytes(a: std::net::Ipv4Addr) -> [u8; 16] {
    (u128::from(a.to_bits())).to_le_bytes()
}

/// [`prepare`] for every packet.
#[inline(never)]
pub(in crate::graph) fn prepare_any(cx: &Ctx<'_>, pkt: &mut Buf) -> Result<Staged, Next> {
    let l4_at = match extract(pkt) {
        Ok(at) => at,
        Err(reason) => return Err(Next::Drop(reason)),
    };
    let m = &pkt.meta;
    if m.l4_type == ip_proto::UDP {
        if m.l3_type == ethertype::IPV4 && m.l4.dst_port == dhcpv4::SERVER_PORT {
            return Err(Next::Node(Node::Dhcp));
        }
        if m.l3_type == ethertype::IPV6 && m.l4.dst_port == dhcpv6::SERVER_PORT {
            return Err(Next::Node(Node::Dhcpv6));
        }
    }
    let Some(from_pf) = cx.ports.get(m.in_port).map(|p| p.is_pf()) else {
        return Err(Next::Drop(DropReason::UnknownPort));
    };
    let Ok(l4_at_short) = u16::try_from(l4_at) else {
        return Err(Next::Drop(DropReason::Malformed));
    };
    let key = match flow_key(cx, pkt, l4_at, from_pf) {
        Ok(k) => key::pack(&k),
        Err(reason) => return Err(Next::Drop(reason)),
    };
    Ok(Staged::new(&cx.tables.flows, &key, l4_at_short, from_pf))
}

/// The second half of `conntrack`: the flow's lookup or creation, its TCP state, and
/// the next node (`reply`: from [`Staged::prefetch_chain`], if it ran).
#[inline]
pub(crate) fn lookup(cx: &mut Ctx<'_>, pkt: &mut Buf, staged: &Staged, reply: Reply) -> Next {
    // a recirculated packet leaves its first flow here (before the search: closing a
    // flow may link keys)
    cx.close_flow();
    let found = cx.tables.flows.find_words(&staged.words, staged.hash);
    lookup_found(cx, pkt, staged, found, reply)
}

/// [`lookup`] with the table searched already (`found`: the fast lane's answer for the
/// key, nothing changed in the table since; no flow open).
#[inline]
pub(in crate::graph) fn lookup_found(
    cx: &mut Ctx<'_>,
    pkt: &mut Buf,
    staged: &Staged,
    found: Option<Slot>,
    reply: Reply,
) -> Next {
    let Staged {
        hash,
        l4_at,
        from_pf,
        ..
    } = *staged;
    let key = staged.key();
    debug_assert!(!cx.flow.is_some(), "a flow left open before the lookup");
    let Ok(flow) = cx.tables.flows.open_found(
        &key,
        hash,
        found,
        reply,
        pkt.meta.in_port,
        cx.now_ns,
        &mut cx.flow,
    ) else {
        cx.flow.clear();
        return Next::Drop(DropReason::FlowTableFull);
    };
    let m = &mut pkt.meta;
    m.flow_hash = flow.entry.flow_hash;
    m.flow_dir = flow.dir;
    // TCP arriving on an LB VNF is not state-tracked (upstream; keeps the short timeout)
    if key.proto == ip_proto::TCP && !(from_pf && m.vnf_type == vnf_type::LB) {
        let flags = pkt
            .frame()
            .get(usize::from(l4_at) + 13)
            .copied()
            .unwrap_or(0);
        let dir = if flow.is_org() {
            tcp::DIR_ORG
        } else {
            tcp::DIR_REPLY
        };
        let e = &flow.entry;
        let (state, syn_dir) = tcp::next(e.tcp_state, e.first_syn_dir, dir, flags);
        if state != e.tcp_state || syn_dir != e.first_syn_dir {
            let timeout = if state == tcp::state::ESTABLISHED {
                ESTABLISHED_TIMEOUT_S
            } else {
                cx.tables.flows.default_timeout_s()
            };
            flow.update(|e| {
                e.tcp_state = state;
                e.first_syn_dir = syn_dir;
                e.timeout_s = timeout;
            });
        }
    }
    let one_way = matches!(
        flow.entry.nat_type,
        nat_kind::NETWORK_NEIGH | nat_kind::LB_FORWARD
    );
    let dir = flow.dir;
    if one_way && dir == FlowDir::Reply {
        return Next::Drop(DropReason::OneWayFlow);
    }

    if !from_pf {
        return Next::Node(Node::Dnat);
    }
    match pkt.meta.vnf_type {
        vnf_type::LB => Next::Node(Node::Lb),
        vnf_type::VIP | vnf_type::NAT => Next::Node(Node::Dnat),
        vnf_type::LB_ALIAS_PFX | vnf_type::INTERFACE_IP | vnf_type::ALIAS_PFX => {
            Next::Node(Node::Firewall)
        }
        _ => Next::Drop(DropReason::UnknownUnderlay),
    }
}
