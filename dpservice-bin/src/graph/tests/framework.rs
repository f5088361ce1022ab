//! The graph framework: node names and edges (§3.1), counters, trace points (§3.2),
//! standby, and the port driver over in-memory ports.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use super::harness::*;
use crate::datapath::port_set::PortSet;
use crate::graph::{
    DropReason, Graph, GraphConfig, GraphPort, PortRole, TraceEvent, TraceKind, TraceSink,
};
use crate::port::memory::MemoryPort;
use crate::wire::ethernet::MacAddr;

fn pytest_layout() -> Graph {
    let mut ports = vec![
        GraphPort {
            id: 0,
            role: PortRole::Pf0,
            mac: PF0_MAC,
        },
        GraphPort {
            id: 1,
            role: PortRole::Pf1,
            mac: PF1_MAC,
        },
    ];
    for id in 2..6 {
        ports.push(GraphPort {
            id,
            role: PortRole::Vf,
            mac: MacAddr([0x66, 0x66, 0x66, 0x66, 0x66, id as u8 - 2]),
        });
    }
    Graph::new(GraphConfig::default(), &ports).expect("a graph with private flow tables")
}

#[test]
fn node_names_match_the_test_layout() {
    let g = pytest_layout();
    let names: BTreeSet<&str> = g.node_names().collect();
    let mut expect: BTreeSet<String> = [
        "rx_periodic",
        "arp",
        "cls",
        "conntrack",
        "dhcp",
        "dhcpv6",
        "dnat",
        "drop",
        "firewall",
        "lb",
        "packet_relay",
        "snat",
        "ipip_decap",
        "ipip_encap",
        "ipv4_lookup",
        "ipv6_lookup",
        "ipv6_nd",
        "virtsvc",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for p in 0..6 {
        expect.insert(format!("rx-{p}-0"));
        expect.insert(format!("tx-{p}"));
    }
    let expect: BTreeSet<&str> = expect.iter().map(String::as_str).collect();
    assert_eq!(names, expect);
}

#[test]
fn edges_match_the_spec_table() {
    let g = pytest_layout();
    let e = |n: &str| g.edges(n).unwrap();
    let vf_tx = ["tx-2", "tx-3", "tx-4", "tx-5"];
    let with = |fixed: &[&str], tx: &[&str]| -> Vec<String> {
        ["drop"]
            .iter()
            .chain(fixed)
            .chain(tx)
            .map(|s| s.to_string())
            .collect()
    };
    assert_eq!(e("rx-3-0"), with(&["cls"], &[]));
    assert_eq!(e("rx_periodic"), with(&[], &vf_tx));
    assert_eq!(
        e("cls"),
        with(
            &["arp", "ipv6_nd", "conntrack", "ipip_decap", "virtsvc"],
            &[]
        )
    );
    assert_eq!(e("arp"), with(&[], &vf_tx));
    assert_eq!(e("ipv6_nd"), with(&[], &vf_tx));
    assert_eq!(e("dhcp"), with(&[], &vf_tx));
    assert_eq!(e("dhcpv6"), with(&[], &vf_tx));
    assert_eq!(e("ipip_decap"), with(&["conntrack"], &[]));
    assert_eq!(
        e("conntrack"),
        with(&["lb", "dhcp", "dhcpv6", "dnat", "firewall"], &[])
    );
    assert_eq!(e("lb"), with(&["ipip_encap", "packet_relay", "dnat"], &[]));
    assert_eq!(
        e("dnat"),
        with(&["ipv4_lookup", "ipv6_lookup", "packet_relay"], &[])
    );
    assert_eq!(e("ipv4_lookup"), with(&["snat"], &[]));
    assert_eq!(e("ipv6_lookup"), with(&["snat"], &[]));
    assert_eq!(e("snat"), with(&["firewall"], &[]));
    assert_eq!(e("firewall"), with(&["ipip_encap"], &vf_tx));
    assert_eq!(e("packet_relay"), with(&["ipip_encap"], &[]));
    assert_eq!(e("ipip_encap"), with(&["cls"], &["tx-0", "tx-1"]));
    assert_eq!(
        e("virtsvc"),
        with(&[], &["tx-0", "tx-1", "tx-2", "tx-3", "tx-4", "tx-5"])
    );
    assert_eq!(e("tx-0"), with(&[], &[]));
    assert_eq!(e("drop"), Vec::<String>::new());
    assert!(g.edges("nonexistent").is_none());
}

#[test]
fn counters_follow_the_packet_walk() {
    let mut h = Harness::new(pytest_config());
    h.send_one(VF0, &vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, VM2_IP, 1, 2), VF1);
    for node in [
        "rx-2-0",
        "cls",
        "conntrack",
        "dnat",
        "ipv4_lookup",
        "snat",
        "firewall",
        "tx-3",
    ] {
        let s = h.graph.node_stat(node).unwrap();
        assert_eq!((s.calls, s.objs), (1, 1), "{node}");
    }
    for node in ["arp", "ipip_encap", "ipv6_lookup", "drop", "tx-2"] {
        assert_eq!(h.graph.node_stat(node).unwrap().objs, 0, "{node}");
    }
    h.send_dropped(
        PF0,
        &vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, VM2_IP, 1, 2),
        DropReason::Ipv4FromPf,
    );
    assert_eq!(h.graph.node_stat("drop").unwrap().objs, 1);
    let total: u64 = h.graph.drop_stats().map(|(_, n)| n).sum();
    assert_eq!(total, 1);
}

/// kind, node, next node, drop reason, frame length
type Recorded = (TraceKind, String, Option<String>, Option<DropReason>, usize);

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Recorded>>>);

impl TraceSink for Recorder {
    fn event(&mut self, ev: &TraceEvent<'_>) {
        self.0.lock().unwrap().push((
            ev.kind,
            ev.node.to_owned(),
            ev.next.map(str::to_owned),
            ev.drop_reason,
            ev.frame.len(),
        ));
    }
}

#[test]
fn trace_points_fire_only_when_switched_on() {
    let mut h = Harness::new(pytest_config());
    let rec = Recorder::default();
    h.graph.set_trace_sink(Some(Box::new(rec.clone())));
    let frame = vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, VM2_IP, 1, 2);
    h.send_one(VF0, &frame, VF1);
    assert!(
        rec.0.lock().unwrap().is_empty(),
        "tracing is off by default"
    );

    let switch = h.graph.trace_switch();
    switch.set(true);
    h.send_one(VF0, &frame, VF1);
    let events: Vec<_> = rec
        .0
        .lock()
        .unwrap()
        .drain(..)
        .map(|(k, n, x, _, _)| (k, n, x))
        .collect();
    let s = |v: &str| v.to_string();
    let edge = |a: &str, b: &str| (TraceKind::Edge, s(a), Some(s(b)));
    assert_eq!(
        events,
        vec![
            (TraceKind::Rx, s("rx-2-0"), None),
            edge("rx-2-0", "cls"),
            edge("cls", "conntrack"),
            edge("conntrack", "dnat"),
            edge("dnat", "ipv4_lookup"),
            edge("ipv4_lookup", "snat"),
            edge("snat", "firewall"),
            edge("firewall", "tx-3"),
            (TraceKind::Tx, s("tx-3"), None),
        ]
    );

    h.send_dropped(PF0, &frame, DropReason::Ipv4FromPf);
    let events = rec.0.lock().unwrap().drain(..).collect::<Vec<_>>();
    let last = events.last().unwrap();
    assert_eq!(
        (last.0, last.1.as_str(), last.3),
        (TraceKind::Drop, "drop", Some(DropReason::Ipv4FromPf))
    );
    assert_eq!(last.4, frame.len());

    switch.set(false);
    h.send_one(VF0, &frame, VF1);
    assert!(rec.0.lock().unwrap().is_empty());
}

/// A dump of rx and tx only gets the rx events of a burst in one producer call; one
/// that also takes hand-over events gets them per packet, each rx before its edges.
/// Either way: every packet once at rx and once at tx, ids and bytes intact.
#[test]
fn mirror_rings_get_rx_and_tx_of_every_packet_in_bursts_and_with_node_events(
) -> Result<(), Box<dyn std::error::Error>> {
    use dpservice::shm::mirror::{self, CaptureSettings, EventKind, RingGeometry, Rings};
    use dpservice::shm::region::RegionBuilder;
    let path = std::env::temp_dir().join(format!("dps_graph_mirror_{}", std::process::id()));
    let mut b = RegionBuilder::new();
    let geometry = RingGeometry {
        rings: 1,
        slots: 64,
        snap_len: 128,
    };
    b.mirror_rings(mirror::RINGS_NAME, geometry)?;
    // removes the file when dropped, also when an assertion fails
    let region = b.create(&path)?;
    let mut h = Harness::new(pytest_config());
    h.graph.set_mirror(mirror::producer(&region)?);
    let rings = Rings::open_path(&path)?;
    let names = rings.node_names();
    let id = |n: &str| names.iter().position(|x| x == n).map(|i| i as u16);
    let (rx, tx) = (id("rx-2-0"), id("tx-3"));
    assert!(rx.is_some() && tx.is_some(), "node names published");
    let frames: Vec<Vec<u8>> = (0..3u16)
        .map(|i| vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, VM2_IP, 1000 + i, 2))
        .collect();
    for nodes in [false, true] {
        let mut c = rings.attach(&CaptureSettings {
            nodes,
            ..CaptureSettings::default()
        })?;
        let mut pkts: Vec<_> = frames
            .iter()
            .filter_map(|f| h.graph.pool_mut().alloc_frame(f))
            .collect();
        h.graph.rx(VF0, &mut pkts);
        h.graph.run(&h.state, h.now);
        assert_eq!(h.collect().len(), 3, "all three sent");
        h.graph.flush_mirror();
        let mut got = Vec::new();
        c.read(1000, |e, d| {
            got.push((e.kind, e.src, e.dst, e.pkt_id, d.to_vec()))
        });
        let of = |k: EventKind| got.iter().filter(move |g| g.0 == k);
        let rx_got: Vec<_> = of(EventKind::Rx).map(|g| (g.2, g.4.clone())).collect();
        let tx_got: Vec<_> = of(EventKind::Tx).map(|g| (g.1, g.3)).collect();
        assert_eq!(
            rx_got,
            frames
                .iter()
                .map(|f| (rx.unwrap_or(0), f.clone()))
                .collect::<Vec<_>>(),
            "nodes={nodes}: each packet's rx event with its bytes, in order"
        );
        let rx_ids: Vec<u32> = of(EventKind::Rx).map(|g| g.3).collect();
        assert_eq!(
            tx_got,
            rx_ids
                .iter()
                .map(|&i| (tx.unwrap_or(0), i))
                .collect::<Vec<_>>(),
            "nodes={nodes}: each packet leaves once, on tx-3"
        );
        let edges = of(EventKind::Next).count();
        if nodes {
            // every packet: rx -> cls -> ... -> tx-3, its rx event first
            assert_eq!(edges, 3 * 7, "hand-over events per packet");
            for pkt in rx_ids {
                let first = got.iter().position(|g| g.3 == pkt).map(|i| got[i].0);
                assert_eq!(first, Some(EventKind::Rx), "packet {pkt} starts with rx");
            }
        } else {
            assert_eq!(edges, 0, "no hand-over events asked for");
        }
        assert_eq!(c.lost(), 0);
    }
    drop(region);
    Ok(())
}

fn memory_ports() -> (PortSet, Vec<crate::port::memory::MemoryHandle>) {
    let mut set = PortSet::new();
    let mut handles = Vec::new();
    for (id, mac) in [
        (PF0, PF0_MAC),
        (PF1, PF1_MAC),
        (VF0, VF0_MAC),
        (VF1, VF1_MAC),
        (VF2, VF2_MAC),
    ] {
        let (port, handle) = MemoryPort::new(&format!("port{id}"), mac);
        set.insert(id, Box::new(port));
        handles.push(handle);
    }
    (set, handles)
}

#[test]
fn driver_moves_packets_between_memory_ports() {
    let mut h = Harness::new(pytest_config());
    let (mut ports, handles) = memory_ports();
    for id in [VF0, VF1, VF2] {
        ports.start(&mut h.graph, id).unwrap();
    }
    assert!(ports.get(VF0).is_some());
    let frame = vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, VM2_IP, 1, 2);
    for _ in 0..3 {
        handles[usize::from(VF0)].inject(&frame);
    }
    let work = ports.poll(&mut h.graph, &h.state, h.now);
    assert_eq!(work, 6, "3 received + 3 sent");
    assert_eq!(handles[usize::from(VF1)].take_sent().len(), 3);
    assert_eq!(ports.poll(&mut h.graph, &h.state, h.now), 0, "idle");
    let stats: Vec<_> = ports
        .stats()
        .filter(|(_, s)| s.rx_packets > 0)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(stats, vec![VF0]);

    // memory ports have no descriptor: the worker must keep polling them
    let mut fds = Vec::new();
    assert!(!ports.poll_fds(&h.graph, &mut fds));
    assert!(fds.is_empty());

    // a stopped port is not read
    ports.stop(&mut h.graph, VF0).unwrap();
    handles[usize::from(VF0)].inject(&frame);
    assert_eq!(ports.poll(&mut h.graph, &h.state, h.now), 0);
    assert_eq!(handles[usize::from(VF0)].pending_rx(), 1);

    // uplink link state comes from the device
    handles[usize::from(PF1)].set_link(false);
    ports.refresh_links(&mut h.graph);
    assert!(!h.graph.port(PF1).unwrap().link_up);
    assert!(h.graph.port(PF0).unwrap().link_up);
}

#[test]
fn standby_receives_nothing_but_sends_periodic_frames() {
    let mut h = Harness::new(pytest_config());
    h.graph.set_active(false);
    let (mut ports, handles) = memory_ports();
    let frame = vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, VM2_IP, 1, 2);
    handles[usize::from(VF0)].inject(&frame);
    assert_eq!(ports.poll(&mut h.graph, &h.state, h.now), 0);
    assert_eq!(
        handles[usize::from(VF0)].pending_rx(),
        1,
        "left queued for activation"
    );
    h.graph.inject_periodic(&h.state);
    assert!(ports.flush(&mut h.graph) > 0);
    assert!(!handles[usize::from(VF0)].take_sent().is_empty());
    h.graph.set_active(true);
    assert_eq!(ports.poll(&mut h.graph, &h.state, h.now), 2);
    // the port behind the memory handle reports the MAC it was built with
    assert_eq!(ports.get(VF1).map(|p| p.mac()), Some(VF1_MAC));
}

#[test]
fn datapath_timers_and_interface_hooks() {
    use crate::datapath::Datapath;
    use std::time::Duration;

    let h = Harness::new(pytest_config());
    let t0 = h.now;
    let Harness {
        mut graph, state, ..
    } = h;
    let (ports, handles) = memory_ports();
    for vf in [VF0, VF1, VF2] {
        graph.stop_port(vf);
    }
    let mut dp = Datapath::new(graph, ports, t0);
    assert!(!dp.run_bursts(&state, t0), "idle");
    assert!(dp.sleep_fds().is_empty());
    // memory ports have no descriptor: a receiving one keeps the worker polling
    assert_eq!(dp.next_deadline(t0), t0 + Duration::from_millis(1));

    // a VF receives once its interface exists
    let frame = vm_udp4(VM1_MAC, VF0_MAC, VM1_IP, VM2_IP, 1, 2);
    handles[usize::from(VF0)].inject(&frame);
    assert!(!dp.run_bursts(&state, t0));
    dp.interface_created(VF0);
    dp.interface_created(VF1);
    assert!(dp.run_bursts(&state, t0));
    assert_eq!(handles[usize::from(VF1)].take_sent().len(), 1);

    // polls slow down after 200 turns without packets, and speed up at the next packet
    for _ in 0..199 {
        assert!(!dp.run_bursts(&state, t0));
    }
    assert_eq!(dp.next_deadline(t0), t0 + Duration::from_millis(1));
    assert!(!dp.run_bursts(&state, t0));
    assert_eq!(dp.next_deadline(t0), t0 + Duration::from_millis(4));
    handles[usize::from(VF0)].inject(&frame);
    assert!(dp.run_bursts(&state, t0));
    assert_eq!(dp.next_deadline(t0), t0 + Duration::from_millis(1));
    assert_eq!(handles[usize::from(VF1)].take_sent().len(), 1);

    // maintenance frames after 5 s, to the started VFs only
    dp.run_bursts(&state, t0 + Duration::from_secs(5));
    let to_vf0 = handles[usize::from(VF0)].take_sent();
    assert_eq!(to_vf0.len(), 3, "RA, NA, ARP");
    assert!(handles[usize::from(VF2)].take_sent().is_empty());

    // link state reported by `portctl` reaches the graph
    dp.set_link(PF1, false);
    assert!(!dp.graph.port(PF1).unwrap().link_up);

    dp.interface_deleted(VF0);
    handles[usize::from(VF0)].inject(&frame);
    dp.run_bursts(&state, t0 + Duration::from_secs(6));
    assert_eq!(handles[usize::from(VF0)].pending_rx(), 1);
    dp.initialized();
}
