//! `lb`: load balancing of packets that arrived on a load balancer's underlay address
//! (dataplane.md §9.2). Only `conntrack` sends packets here (those of an `LB` VNF).
//!
//! The first original-direction packet of a flow to a load-balanced address picks a
//! target by Maglev over the hash of the flow's original key and stores it in the flow,
//! so later packets keep it whatever happens to the target set (a deleted target's flows
//! are purged, §7.7). A target that is a load-balancer prefix on this host is reached by
//! recirculating the re-encapsulated packet into `cls`; any other is reached by sending
//! the packet back out of the uplink it came in on.

use std::net::{IpAddr, Ipv6Addr};

use crate::flow::{self, key, nat_kind, Flow};
use crate::graph::drop::DropReason;
use crate::graph::state::{State, VnfKind};
use crate::graph::{Ctx, Next, Node};
use crate::port::meta::NatType;
use crate::port::Buf;
use crate::wire::icmpv4::msg_type as icmp4;
use crate::wire::icmpv6::msg_type as icmp6;
use crate::wire::ip_proto;

/// ICMP destination unreachable: its flow key comes from the embedded packet, so it
/// takes the target selection like the connection it is about.
const ICMP_ERROR: u8 = icmp4::DEST_UNREACHABLE;

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    let state = cx.state;
    let lbs = state.load_balancers();
    if lbs.is_empty() {
        return Next::Node(Node::Dnat);
    }
    let Some(flow) = cx.flow.as_mut() else {
        return Next::Node(Node::Dnat);
    };
    let vni = pkt.meta.tun.dst_vni;
    let is_icmp = matches!(pkt.meta.l4_type, ip_proto::ICMP | ip_proto::ICMPV6);

    if flow.flags() == 0 && flow.is_org() && lbs.lookup(vni, pkt.meta.dst).is_some() {
        if is_icmp {
            let t = pkt.meta.l4.icmp_type;
            if t == icmp4::ECHO_REQUEST || t == icmp6::ECHO_REQUEST {
                // answered in place, back to the request's outer source (§9.4)
                pkt.meta.nat_type = NatType::ChangeUnderlayDst;
                return Next::Node(Node::PacketRelay);
            }
            if t != ICMP_ERROR {
                return Next::Drop(DropReason::UnsupportedIcmp);
            }
        }
        let Some(target) = pick_target(state, vni, flow) else {
            return Next::Drop(DropReason::LbNoTarget);
        };
        let recirc = to_target(state, pkt, target);
        flow.update(|e| {
            e.flags |= flow::flags::DST_LB;
            e.underlay_dst = target.octets();
            e.nat_type = if recirc {
                nat_kind::LB_RECIRC
            } else {
                nat_kind::LB_FORWARD
            };
        });
        return Next::Node(Node::IpipEncap);
    }

    if flow.flags() & flow::flags::DST_LB != 0 && flow.is_org() {
        to_target(state, pkt, Ipv6Addr::from(flow.entry.underlay_dst));
        return Next::Node(Node::IpipEncap);
    }

    if flow.flags() & flow::flags::DEFAULT != 0 && is_icmp {
        pkt.meta.nat_type = NatType::ChangeUnderlayDst;
        return Next::Node(Node::PacketRelay);
    }
    Next::Node(Node::Dnat)
}

/// The target of a new flow (Maglev over its original key's hash, §9.5): `None` when
/// the key's destination is no load balancer in `vni`, the load balancer has no
/// targets, or does not serve the key's (protocol, destination port).
fn pick_target(state: &State, vni: u32, flow: &Flow) -> Option<Ipv6Addr> {
    // the balancer is the one of the key's destination (an ICMP error's key is
    // the embedded packet's reverse), as upstream does
    let org = flow.org_key();
    let dst: IpAddr = key::unpack(&org).l3_dst;
    let lb = state.load_balancers().lookup(vni, dst)?;
    if !lb.serves(org.proto, org.port_dst) {
        return None;
    }
    // this packet is the original direction: its copy's hash is the original key's
    lb.target_for(flow.entry.flow_hash).copied()
}

/// Points the packet's tunnel at `target`, outer source the load balancer's address (the
/// packet's original outer destination), and chooses how it gets there: answers whether
/// it recirculates (a load-balancer prefix of this host) rather than leaving on the
/// uplink it arrived on.
fn to_target(state: &State, pkt: &mut Buf, target: Ipv6Addr) -> bool {
    let m = &mut pkt.meta;
    m.tun.ul_src = m.tun.ul_dst;
    m.tun.ul_dst = target;
    let local = state
        .vnf_lookup(&target)
        .is_some_and(|v| v.kind == VnfKind::LbPrefix);
    if local {
        m.nat_type = NatType::LbRecirculate;
    } else {
        m.nxt_hop = m.in_port;
        m.nat_type = NatType::ChangeUnderlayDst;
    }
    local
}
