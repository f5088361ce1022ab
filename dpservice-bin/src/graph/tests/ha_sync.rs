//! HA sync between two graphs in one process (dataplane.md §16.2, §16.3): an active and a
//! standby instance, their sync nodes connected by in-memory ports.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use dpservice::model::CreateNat;
use dpservice::shm::catalogue::{
    addr_to_bytes, PortmapKey, PortmapValue, PortoverloadKey, PortoverloadValue,
};

use super::harness::*;
use crate::flow::key::FlowKey;
use crate::flow::{self, key};
use crate::graph::sync_outbox::SyncMessage;
use crate::hash::vnf_type;
use crate::port::memory::{MemoryHandle, MemoryPort};
use crate::sync::messages::{self, Message};
use crate::sync::{synced_flow, HaSync};
use crate::wire::ethernet::ethertype;
use crate::wire::MacAddr;
use crate::wire::{icmpv4, icmpv6, ip_proto};

const NAT_IP: Ipv4Addr = Ipv4Addr::new(20, 0, 0, 1);
const PUBLIC: Ipv4Addr = Ipv4Addr::new(45, 86, 6, 106);

/// One instance: its graph (with state) and its sync node on a memory port.
struct Instance {
    h: Harness,
    sync: HaSync,
    wire: MemoryHandle,
}

impl Instance {
    fn new(active: bool) -> Instance {
        Instance::with(Harness::new(pytest_config()), active)
    }

    /// An instance over a harness configured by the test (both of a pair alike).
    fn with(mut h: Harness, active: bool) -> Instance {
        h.graph.enable_sync();
        h.graph.set_active(false);
        let (port, wire) = MemoryPort::new("sync", MacAddr([2, 0, 0, 0, 0, 9]));
        let mut sync = HaSync::new(Box::new(port));
        if active {
            sync.activate(&mut h.graph, h.now);
            h.graph.set_active(true);
        }
        Instance { h, sync, wire }
    }

    fn turn(&mut self) {
        self.sync.run(&mut self.h.graph, self.h.now);
    }
}

/// Runs both sync nodes and carries frames across until nothing moves.
fn settle(a: &mut Instance, b: &mut Instance) {
    for _ in 0..20 {
        a.turn();
        b.turn();
        let ab = a.wire.take_sent();
        let ba = b.wire.take_sent();
        if ab.is_empty() && ba.is_empty() && !a.sync.sending() && !b.sync.sending() {
            return;
        }
        for f in ab {
            b.wire.inject(&f);
        }
        for f in ba {
            a.wire.inject(&f);
        }
    }
    panic!("sync traffic did not settle");
}

fn v4_portmap(vm: Ipv4Addr, port: u16) -> PortmapKey {
    let (addr, is_v6) = addr_to_bytes(vm.into());
    PortmapKey {
        vni: 100,
        addr,
        is_v6,
        pad0: 0,
        port,
    }
}

fn overload(nat_port: u16, dst: Ipv4Addr, dst_port: u16, proto: u8) -> PortoverloadKey {
    PortoverloadKey {
        nat_ip: u32::from(NAT_IP),
        dst_ip: u32::from(dst),
        nat_port,
        dst_port,
        proto,
        pad0: [0; 3],
    }
}

fn nat_create(pm: PortmapKey, ol: PortoverloadKey, icmp_type: u16) -> SyncMessage {
    SyncMessage::NatCreate {
        portmap: pm,
        overload: ol,
        port_id: VF0,
        icmp_type,
        ip_checksum: [0x12, 0x34],
    }
}

#[test]
fn the_sync_node_exists_only_with_sync() {
    let plain = Harness::new(pytest_config());
    assert!(plain.graph.node_names().all(|n| n != "sync"));
    let with = Instance::new(false);
    assert!(with.h.graph.node_names().any(|n| n == "sync"));
}

/// The dump request goes out once the sync port's link is up; a link that came up while
/// the node watched must stay up 50 ms first (a TAP's bridge port forwards a moment after
/// the kernel shows it running).
#[test]
fn the_dump_request_waits_until_a_link_that_came_up_has_settled() {
    let mut standby = Instance::new(false);
    standby.wire.set_link(false);
    standby.turn();
    assert!(standby.wire.take_sent().is_empty(), "sent on a down link");
    standby.wire.set_link(true);
    standby.turn();
    standby.h.now += Duration::from_millis(49);
    standby.turn();
    assert!(
        standby.wire.take_sent().is_empty(),
        "sent before the link settled"
    );
    standby.h.now += Duration::from_millis(1);
    standby.turn();
    let sent = standby.wire.take_sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(messages::decode(&sent[0]), Ok(Message::DumpRequest));
    standby.h.now += Duration::from_secs(5);
    standby.turn();
    assert!(standby.wire.take_sent().is_empty(), "asked only once");
}

#[test]
fn nat_entries_and_vm_macs_reach_the_standby_and_activation_restores_the_flows() {
    let mut active = Instance::new(true);
    let mut standby = Instance::new(false);
    active
        .h
        .graph
        .set_neigh_mac(VF1, MacAddr([0x52, 0x54, 0, 0, 0, 0x22]));

    // both ask for a dump at their first turn; only the active answers (VM MACs of
    // its three started VFs), the standby ignores the active's request
    settle(&mut active, &mut standby);
    assert_eq!(active.sync.counters().dumps_answered, 1);
    assert_eq!(standby.sync.counters().dumps_answered, 0);
    assert_eq!(
        standby.sync.counters().ignored,
        1,
        "dump request on a standby"
    );
    assert_eq!(
        standby.h.graph.port(VF1).unwrap().neigh_mac,
        MacAddr([0x52, 0x54, 0, 0, 0, 0x22])
    );
    assert_eq!(standby.h.graph.port(VF0).unwrap().neigh_mac, VF0_MAC);
    assert!(standby.h.graph.node_stat("sync").unwrap().objs >= 4);

    // a VM MAC learned by the active's packet path follows (quirk 7: only with sync)
    let arp = [
        &[0xff; 6][..],
        &VM1_MAC.0,
        &[0x08, 0x06],
        &[0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01],
        &VM1_MAC.0,
        &VM1_IP.octets(),
        &[0; 6],
        &[169, 254, 0, 1],
    ]
    .concat();
    active.h.send(VF0, &arp);
    settle(&mut active, &mut standby);
    assert_eq!(standby.h.graph.port(VF0).unwrap().neigh_mac, VM1_MAC);

    // NAT allocations and a release on the active (as the NAT stages queue them)
    let udp_pm = v4_portmap(VM1_IP, 1024);
    let udp_ol = overload(101, PUBLIC, 1234, ip_proto::UDP);
    let icmp_pm = v4_portmap(VM1_IP, 0x4242);
    let icmp_ol = overload(102, PUBLIC, 0x4242, ip_proto::ICMP);
    let gone_pm = v4_portmap(VM2_IP, 2000);
    let gone_ol = overload(103, PUBLIC, 53, ip_proto::UDP);
    for m in [
        nat_create(udp_pm, udp_ol, 0),
        nat_create(icmp_pm, icmp_ol, 8),
        nat_create(gone_pm, gone_ol, 0),
        nat_create(gone_pm, gone_ol, 0), // a duplicate is ignored
        SyncMessage::NatDelete {
            portmap: gone_pm,
            overload: gone_ol,
        },
    ] {
        active.h.graph.tables.sync.push(m);
    }
    settle(&mut active, &mut standby);
    let g = &standby.h.graph;
    assert_eq!(
        g.portmap_entry(&udp_pm),
        Some(PortmapValue {
            nat_ip: u32::from(NAT_IP),
            nat_port: 101,
            pad0: 0,
            flow_count: 1
        })
    );
    assert_eq!(
        g.overload_entry(&icmp_ol),
        Some(PortoverloadValue {
            port_id: VF0,
            icmp_type: 8,
            ip_cksum: [0x12, 0x34],
            pad0: 0
        })
    );
    assert_eq!(g.portmap_entry(&gone_pm), None, "released");
    assert_eq!(g.overload_entry(&gone_ol), None, "released");
    assert_eq!(standby.sync.synced_nat_entries(), 2);
    assert!(g.flows().is_empty(), "no flows before activation");

    // takeover: a flow per synced NAT entry, keyed as the NAT stage made it on the active
    standby.sync.activate(&mut standby.h.graph, standby.h.now);
    standby.h.graph.set_active(true);
    let flows = standby.h.graph.flows();
    assert_eq!(flows.len(), 4, "two flows, two keys each");
    let timeout = flows.default_timeout_s();

    let org = key::pack(&FlowKey {
        l3_dst: IpAddr::V4(PUBLIC),
        l3_src: IpAddr::V4(VM1_IP),
        proto: ip_proto::UDP,
        port_dst: 1234,
        src: 1024,
        vni: 100,
        vnf_type: vnf_type::NAT,
    });
    let reply = key::pack(&FlowKey {
        l3_dst: IpAddr::V4(NAT_IP),
        l3_src: IpAddr::V4(PUBLIC),
        proto: ip_proto::UDP,
        port_dst: 101,
        src: 1234,
        vni: 100,
        vnf_type: vnf_type::NAT,
    });
    let e = flows.get(&org).expect("original key restored");
    assert_eq!(e.direction, 0);
    assert_eq!(e.other_key, reply);
    assert_eq!(e.flags, flow::flags::SRC_NAT);
    assert_eq!(e.nat_type, flow::nat_kind::NETWORK_LOCAL);
    assert_eq!(e.timeout_s, timeout);
    assert_eq!(e.port_id, VF0);
    let r = flows
        .get(&reply)
        .expect("reply key restored: NAT IP and port");
    assert_eq!((r.direction, r.other_key), (1, org));

    // ICMP echo: original key src = the echo type, reply maps 8 -> 0
    let icmp_reply = key::pack(&FlowKey {
        l3_dst: IpAddr::V4(NAT_IP),
        l3_src: IpAddr::V4(PUBLIC),
        proto: ip_proto::ICMP,
        port_dst: 102,
        src: 0,
        vni: 100,
        vnf_type: vnf_type::NAT,
    });
    let r = flows.get(&icmp_reply).expect("ICMP reply key");
    let o = flows.get(&r.other_key).unwrap();
    assert_eq!(key::unpack(&r.other_key).src, 8);
    assert_eq!(key::unpack(&r.other_key).port_dst, 0x4242);
    assert_eq!(
        o.icmp_err_cksum, 0x1234,
        "checksum kept as the NAT stage keeps it"
    );

    // now active: data messages are refused, the former standby answers dumps
    let before = standby.sync.counters().ignored;
    standby
        .wire
        .inject(&messages::encode(&Message::from(nat_create(
            gone_pm, gone_ol, 0,
        ))));
    standby.turn();
    assert_eq!(standby.sync.counters().ignored, before + 1);
    assert_eq!(standby.h.graph.overload_entry(&gone_ol), None);
}

#[test]
fn a_dump_carries_every_network_local_flow_once() {
    let mut active = Instance::new(true);
    // flows as the NAT stages leave them (built the way a takeover builds them)
    let nat64_pm = {
        let src: Ipv6Addr = "2000:100:1::1".parse().unwrap();
        let (addr, is_v6) = addr_to_bytes(src.into());
        PortmapKey {
            vni: 100,
            addr,
            is_v6,
            pad0: 0,
            port: 0x0777,
        }
    };
    let cases = [
        (
            v4_portmap(VM1_IP, 1024),
            overload(101, PUBLIC, 1234, ip_proto::UDP),
            0,
        ),
        (
            v4_portmap(VM2_IP, 0x99),
            overload(102, PUBLIC, 0x99, ip_proto::ICMP),
            8,
        ),
        (
            nat64_pm,
            overload(103, PUBLIC, 0x0777, ip_proto::ICMPV6),
            128,
        ),
    ];
    for (pm, ol, icmp_type) in cases {
        let meta = PortoverloadValue {
            port_id: VF1,
            icmp_type,
            ip_cksum: [0xab, 0xcd],
            pad0: 0,
        };
        let (org, reply, shared) = synced_flow(&pm, &ol, &meta, 30);
        active
            .h
            .graph
            .insert_flow(org, reply, shared, active.h.now)
            .unwrap();
    }
    // a flow of another NAT type is not dumped
    let (org, reply, mut shared) = synced_flow(
        &v4_portmap(VM3_IP, 5),
        &overload(104, PUBLIC, 5, ip_proto::TCP),
        &PortoverloadValue {
            port_id: VF2,
            icmp_type: 0,
            ip_cksum: [0; 2],
            pad0: 0,
        },
        30,
    );
    shared.nat_type = flow::nat_kind::VIP;
    active
        .h
        .graph
        .insert_flow(org, reply, shared, active.h.now)
        .unwrap();

    let mut standby = Instance::new(false);
    settle(&mut active, &mut standby);
    for (pm, ol, icmp_type) in cases {
        assert_eq!(
            standby.h.graph.overload_entry(&ol),
            Some(PortoverloadValue {
                port_id: VF1,
                icmp_type,
                ip_cksum: [0xab, 0xcd],
                pad0: 0
            }),
            "{ol:?}"
        );
        assert_eq!(
            standby.h.graph.portmap_entry(&pm).unwrap().nat_port,
            ol.nat_port
        );
    }
    assert_eq!(standby.sync.synced_nat_entries(), 3);
    assert_eq!(
        standby
            .h
            .graph
            .overload_entry(&overload(104, PUBLIC, 5, ip_proto::TCP)),
        None
    );

    // the NAT64 flow rebuilt on takeover: original key to 64:ff9b::<IPv4>, reply key
    // from the IPv4 destination in ICMP (128 -> 129 -> 0)
    standby.sync.activate(&mut standby.h.graph, standby.h.now);
    let org = key::pack(&FlowKey {
        l3_dst: "64:ff9b::2d56:66a".parse::<Ipv6Addr>().unwrap().into(),
        l3_src: "2000:100:1::1".parse::<Ipv6Addr>().unwrap().into(),
        proto: ip_proto::ICMPV6,
        port_dst: 0x0777,
        src: 128,
        vni: 100,
        vnf_type: vnf_type::NAT,
    });
    let reply = key::pack(&FlowKey {
        l3_dst: IpAddr::V4(NAT_IP),
        l3_src: IpAddr::V4(PUBLIC),
        proto: ip_proto::ICMP,
        port_dst: 103,
        src: 0,
        vni: 100,
        vnf_type: vnf_type::NAT,
    });
    let e = standby.h.graph.flows().get(&org).expect("NAT64 flow");
    assert_eq!(e.other_key, reply);
    assert_eq!(e.flags, flow::flags::SRC_NAT64);
    assert_eq!(standby.h.graph.flows().len(), 6);
}

#[test]
fn foreign_and_malformed_frames_are_ignored() {
    let mut standby = Instance::new(false);
    standby.turn();
    let _ = standby.wire.take_sent();
    let mut arp = messages::encode(&Message::DumpRequest);
    arp[12..14].copy_from_slice(&[0x08, 0x06]);
    standby.wire.inject(&arp);
    standby
        .wire
        .inject(&messages::encode(&Message::DumpRequest)[..14]);
    let mut unknown = messages::encode(&Message::DumpRequest);
    unknown[14] = 99;
    standby.wire.inject(&unknown);
    // a VM MAC for an uplink is not applied
    standby.wire.inject(&messages::encode(&Message::VmMac {
        port_id: PF0,
        mac: MacAddr([1; 6]),
    }));
    standby.turn();
    assert_eq!(standby.sync.counters().ignored, 4);
    assert_eq!(standby.sync.counters().applied, 0);
    assert!(standby.h.graph.port(PF0).unwrap().neigh_mac.is_zero());
    assert!(standby.wire.take_sent().is_empty(), "nothing answered");
}

#[test]
fn without_sync_the_outbox_stays_empty() {
    // quirk 7: the outbox stays empty without --sync-tap
    let mut h = Harness::new(pytest_config());
    h.graph.tables.sync.push(nat_create(
        v4_portmap(VM1_IP, 1),
        overload(100, PUBLIC, 1, ip_proto::UDP),
        0,
    ));
    assert_eq!(h.graph.drain_sync().count(), 0);
}

#[test]
fn sync_stays_on_when_the_daemon_attaches_the_region_tables() {
    let mut h = Harness::new(pytest_config());
    h.graph.enable_sync();
    let tables = crate::tables::FlowTables::private(0, 1024).unwrap();
    h.graph.attach_tables(tables);
    assert!(h.graph.sync_enabled());
    h.graph.tables.sync.push(nat_create(
        v4_portmap(VM1_IP, 1),
        overload(100, PUBLIC, 1, ip_proto::UDP),
        0,
    ));
    assert_eq!(h.graph.drain_sync().count(), 1);
}

// ---- takeover with the real packet path (§16.1, §16.3) ----

/// What the NAT stages record in a flow, for comparing a rebuilt flow with the one the
/// former active's `snat` made (not the firewall's mark: the next original-direction
/// packet computes the verdict again, §10).
fn nat_view(e: &flow::FlowEntry) -> impl PartialEq + std::fmt::Debug {
    (
        e.direction,
        e.other_key,
        e.port_id,
        e.flags & !flow::flags::FIREWALL,
        e.nat_type,
        e.nat_vni,
        e.l4_type,
        e.nat_ip,
        e.nat_is_v6,
        e.nat_port,
        e.icmp_err_cksum,
    )
}

/// An ICMPv6 echo message in an IPv6 packet.
fn echo6(kind: u8, src: Ipv6Addr, dst: Ipv6Addr, ident: u16, seq: u16) -> Vec<u8> {
    let mut m = vec![kind, 0, 0, 0];
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(b"ping"); // as icmp_echo, so a translated reply matches
    icmpv6::Packet::new_unchecked(&mut m[..]).fill_checksum(&src, &dst);
    ipv6_packet(src, dst, ip_proto::ICMPV6, &m)
}

/// The 16-bit word at `at` of the inner IPv4 packet's L4 header in a frame tunnelled
/// from pf0 (source port, or the ICMP identifier at 4).
fn inner_l4_word(frame: &[u8], at: usize) -> u16 {
    let l4 = 14 + 40 + 20 + at;
    u16::from_be_bytes([frame[l4], frame[l4 + 1]])
}

/// vm1 behind the NAT gateway of the NAT tests (ports [100, 110)), default routes to
/// the router; answers the NAT's underlay address.
fn nat_gateway(underlay: Option<Ipv6Addr>) -> (Harness, Ipv6Addr) {
    let mut h = Harness::new(pytest_config());
    super::nat::default_routes(&mut h);
    let ul = h
        .state
        .create_nat(&CreateNat {
            interface_id: "vm1".into(),
            ip: IpAddr::V4(super::nat::NAT_IP),
            min_port: 100,
            max_port: 110,
            preferred_underlay: underlay,
        })
        .unwrap();
    h.state.after_write();
    h.graph.set_neigh_mac(VF0, VM1_MAC);
    (h, ul)
}

#[test]
fn nat_flows_made_by_snat_survive_a_takeover_byte_for_byte() {
    use super::nat::{
        from_vm, icmp_echo, to_vm1, udp4, udp4_nocsum, udp6, NAT_IP, PUBLIC_64, ROUTER_UL,
    };
    let (h, nat_ul) = nat_gateway(None);
    let mut active = Instance::with(h, true);
    // configured alike, with the underlay address the active got (§16.1)
    let (h, _) = nat_gateway(Some(nat_ul));
    let mut standby = Instance::with(h, false);
    settle(&mut active, &mut standby);

    // the VM's four flows through the active: UDP, ICMP echo, NAT64 UDP and ICMPv6 echo
    let udp_out = from_vm(&udp4_nocsum(VM1_IP, PUBLIC, 1234, 53));
    let echo_out = from_vm(&ipv4_packet(
        VM1_IP,
        PUBLIC,
        ip_proto::ICMP,
        &icmp_echo(icmpv4::msg_type::ECHO_REQUEST, 0x4242, 0x0101),
    ));
    let udp64_out = eth(
        VF0_MAC,
        VM1_MAC,
        ethertype::IPV6,
        &udp6(VM1_IP6, PUBLIC_64, 5353, 53, b"query"),
    );
    let echo64_out = eth(
        VF0_MAC,
        VM1_MAC,
        ethertype::IPV6,
        &echo6(
            icmpv6::msg_type::ECHO_REQUEST,
            VM1_IP6,
            PUBLIC_64,
            0x77,
            0x0202,
        ),
    );
    let sent: Vec<Vec<u8>> = [&udp_out, &echo_out, &udp64_out, &echo64_out]
        .into_iter()
        .map(|f| active.h.send_one(VF0, f, PF0))
        .collect();
    let udp_port = inner_l4_word(&sent[0], 0);
    let echo_port = inner_l4_word(&sent[1], 4);
    let udp64_port = inner_l4_word(&sent[2], 0);
    let echo64_port = inner_l4_word(&sent[3], 4);
    let nat_ports = [udp_port, echo_port, udp64_port, echo64_port];
    assert!(
        nat_ports.iter().all(|p| (100..110).contains(p)),
        "{nat_ports:?}"
    );
    assert_eq!(active.h.graph.nat_used_ports(VF0), 4);
    settle(&mut active, &mut standby);
    assert_eq!(standby.sync.synced_nat_entries(), 4);
    assert_eq!(standby.h.graph.nat_used_ports(VF0), 0, "no flows yet");

    // the active dies; the standby takes over and rebuilds the four flows exactly as
    // the former active's snat made them (NAT64: IPv4 reply key, ICMPv6 -> ICMP)
    let built = standby.sync.activate(&mut standby.h.graph, standby.h.now);
    standby.h.graph.set_active(true);
    assert_eq!(built, 4);
    let mut originals = Vec::new();
    active.h.graph.flows().for_each(|k, e| {
        if e.direction == 0 {
            originals.push((*k, *e));
        }
    });
    assert_eq!(originals.len(), 4);
    for (k, e) in &originals {
        let rebuilt = standby.h.graph.flows().get(k).expect("the original key");
        assert_eq!(nat_view(&rebuilt), nat_view(e), "{:?}", key::unpack(k));
        let reply = standby
            .h
            .graph
            .flows()
            .get(&e.other_key)
            .expect("the reply key");
        assert_eq!(reply.other_key, *k);
    }
    assert_eq!(
        standby.h.graph.nat_used_ports(VF0),
        4,
        "rebuilt flows hold NAT ports (telemetry)"
    );

    // replies to NAT IP:port through the NAT underlay reach the VM restored, byte for byte
    let cases: [(Vec<u8>, Vec<u8>); 4] = [
        (
            udp4(PUBLIC, NAT_IP, 53, udp_port, b"answer"),
            to_vm1(ethertype::IPV4, &udp4(PUBLIC, VM1_IP, 53, 1234, b"answer")),
        ),
        (
            ipv4_packet(
                PUBLIC,
                NAT_IP,
                ip_proto::ICMP,
                &icmp_echo(icmpv4::msg_type::ECHO_REPLY, echo_port, 0x0101),
            ),
            to_vm1(
                ethertype::IPV4,
                &ipv4_packet(
                    PUBLIC,
                    VM1_IP,
                    ip_proto::ICMP,
                    &icmp_echo(icmpv4::msg_type::ECHO_REPLY, 0x4242, 0x0101),
                ),
            ),
        ),
        (
            udp4(PUBLIC, NAT_IP, 53, udp64_port, b"answer"),
            to_vm1(
                ethertype::IPV6,
                &udp6(PUBLIC_64, VM1_IP6, 53, 5353, b"answer"),
            ),
        ),
        (
            ipv4_packet(
                PUBLIC,
                NAT_IP,
                ip_proto::ICMP,
                &icmp_echo(icmpv4::msg_type::ECHO_REPLY, echo64_port, 0x0202),
            ),
            to_vm1(
                ethertype::IPV6,
                &echo6(
                    icmpv6::msg_type::ECHO_REPLY,
                    PUBLIC_64,
                    VM1_IP6,
                    0x77,
                    0x0202,
                ),
            ),
        ),
    ];
    for (i, (reply, restored)) in cases.iter().enumerate() {
        let out = standby
            .h
            .send_one(PF0, &tunnel4(ROUTER_UL, nat_ul, reply), VF0);
        assert_eq!(&out, restored, "reply {i}");
    }
    // the VM's next packets leave the new active with the same NAT ports, byte for byte
    for (i, f) in [&udp_out, &echo_out, &udp64_out, &echo64_out]
        .into_iter()
        .enumerate()
    {
        assert_eq!(standby.h.send_one(VF0, f, PF0), sent[i], "packet {i}");
    }
    assert_eq!(standby.h.graph.nat_used_ports(VF0), 4, "no new allocation");
    assert!(
        standby
            .h
            .graph
            .drain_sync()
            .all(|m| !matches!(m, SyncMessage::NatCreate { .. })),
        "nothing allocated anew"
    );

    // the rebuilt flows age like any: their ports go back (tables, count, peer told)
    standby.h.now += Duration::from_secs(31);
    standby.h.graph.start_aging();
    while standby.h.graph.age_flows(standby.h.now) {}
    let t = &standby.h.graph.tables;
    assert_eq!((t.portmap.len(), t.portoverload.len()), (0, 0));
    assert!(standby.h.graph.flows().is_empty());
    assert_eq!(standby.h.graph.nat_used_ports(VF0), 0);
    let deletes = standby
        .h
        .graph
        .drain_sync()
        .filter(|m| matches!(m, SyncMessage::NatDelete { .. }))
        .count();
    assert_eq!(deletes, 4);
}

#[test]
fn virtual_service_slots_reach_the_standby_and_serve_after_takeover() {
    use super::virtsvc::{harness, sport6, udp_reply, udp_request};
    let mut active = Instance::with(harness(), true);
    // a connection before the standby exists: it comes with the dump
    active.h.send_one(VF0, &udp_request(12345, b"a"), PF0);
    let mut standby = Instance::with(harness(), false);
    settle(&mut active, &mut standby);
    // one made while both run: it comes as it is made
    let out = active.h.send_one(VF0, &udp_request(12346, b"b"), PF0);
    assert_eq!(sport6(&out), 1026);
    settle(&mut active, &mut standby);
    assert_eq!(standby.sync.counters().ignored, 1, "only the dump request");

    standby.sync.activate(&mut standby.h.graph, standby.h.now);
    standby.h.graph.set_active(true);
    // the service's replies to 1024 + slot reach the VM's ports
    for (port, vm_port) in [(1025, 12345u16), (1026, 12346)] {
        let back = standby.h.send_one(PF0, &udp_reply(port, b"r"), VF0);
        assert_eq!(&back[36..38], &vm_port.to_be_bytes(), "reply to {port}");
    }
    // the connections keep their ports; a new one continues after the last announced
    let out = standby.h.send_one(VF0, &udp_request(12346, b"b"), PF0);
    assert_eq!(sport6(&out), 1026);
    let out = standby.h.send_one(VF0, &udp_request(12347, b"c"), PF0);
    assert_eq!(sport6(&out), 1027);
}
