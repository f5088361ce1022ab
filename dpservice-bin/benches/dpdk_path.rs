//! The packet path on the DPDK backend (cargo feature `dpdk`): VF→PF encapsulation and
//! VF→VF of an established flow, 64-byte frames, over DPDK virtual devices, against a
//! bare rx→tx loop over the same DPDK ports in the same run.
//!
//! Ports: pf0, pf1 and vf1 are `net_null` devices (transmit frees the mbufs), vf0 is a
//! `net_ring` device whose transmit ring is its receive ring: each round writes a burst
//! of frames (mbufs from the daemon's pool) into it, then the graph (or the bare loop)
//! receives them. So every packet costs an mbuf allocation, a 64-byte copy, a ring
//! enqueue and dequeue, the walk and a free; `dpdk-testpmd --forward-mode=io` over two
//! `net_null` devices (scripts/bench-dpdk.sh) does allocation, ring-less receive and free.
//!
//! `cargo bench -p dpservice-bin --features dpdk --bench dpdk_path` prints one JSON line
//! per case: million packets per second of this thread's CPU time, and the ratio to the
//! bare loop. Runs as root (DPDK's runtime directory); no hugepages, no PCI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::hint::black_box;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::BorrowedFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dpservice_bin::datapath::port_set::PortSet;
use dpservice_bin::dpdk::packet::{MbufSource, PRIV_SIZE};
use dpservice_bin::dpdk::Eal;
use dpservice_bin::graph::{Graph, GraphConfig, GraphPort, PortRole};
use dpservice_bin::port::dpdk::{create_pool, DpdkPort};
use dpservice_bin::port::{LinkDevice, PacketBuf, Pool, Port, PortId, PortStats};
use dpservice_bin::state::State;
use dpservice_bin::wire::ethernet::MacAddr;
use dpservice_bin::wire::udp;

use common::{mac, median, thread_cpu, HOST_UL, PF0, PF1, REMOTE_IP, VF0, VF1, VM1_IP, VM2_IP};

const BURST: usize = 64;
const FRAME_LEN: usize = 64;

/// A 64-byte Ethernet/IPv4/UDP frame from vm1 to `dst`.
fn udp_frame(dst: Ipv4Addr) -> Vec<u8> {
    let flow = udp::Ipv4Flow {
        dst_mac: MacAddr([0x66; 6]),
        src_mac: mac(0x10),
        src: VM1_IP,
        dst,
        src_port: 1234,
        dst_port: 80,
    };
    udp::ipv4_frame(&flow, FRAME_LEN)
}

/// vf0: before each receive, writes a burst of the current frame into its own ring.
struct Injector {
    port: DpdkPort,
    frame: Arc<Mutex<Vec<u8>>>,
    burst: Vec<PacketBuf>,
}

impl Port for Injector {
    fn name(&self) -> &str {
        self.port.name()
    }
    fn mac(&self) -> MacAddr {
        Port::mac(&self.port)
    }
    fn link_up(&self) -> bool {
        true
    }
    fn start(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn stop(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn rx_burst(&mut self, pool: &mut Pool, out: &mut Vec<PacketBuf>, max: usize) -> usize {
        let frame = self.frame.lock().unwrap();
        for _ in 0..max {
            match pool.alloc_frame(&frame) {
                Some(b) => self.burst.push(b),
                None => break,
            }
        }
        self.port.tx_burst(&mut self.burst, pool);
        self.burst.clear();
        self.port.rx_burst(pool, out, max)
    }
    fn tx_burst(&mut self, pkts: &mut Vec<PacketBuf>, pool: &mut Pool) -> usize {
        self.port.tx_burst(pkts, pool)
    }
    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
    fn stats(&self) -> PortStats {
        Port::stats(&self.port)
    }
    fn link_device(&self) -> io::Result<Box<dyn LinkDevice>> {
        Ok(DpdkPort::link_device(&self.port))
    }
}

struct Rig {
    eal: &'static Eal,
    pool: dpservice_bin::dpdk::packet::PacketPool,
}

fn rig() -> Rig {
    let prefix = format!("dpbench{}", std::process::id());
    let words: Vec<String> = [
        "-l",
        "0",
        "--no-huge",
        "-m",
        "1024",
        "--no-pci",
        &format!("--file-prefix={prefix}"),
        "--vdev=net_null0",
        "--vdev=net_null1",
        "--vdev=net_ring0",
        "--vdev=net_null2",
        "--log-level=5",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let eal = Eal::init(&words).unwrap();
    let pool = create_pool(eal, 4, PRIV_SIZE).unwrap();
    Rig { eal, pool }
}

fn open(rig: &Rig, id: PortId, is_pf: bool) -> DpdkPort {
    DpdkPort::open(rig.eal, id, &format!("p{id}"), is_pf, rig.pool).unwrap()
}

/// The graph over the four ports, vf0 receiving the frame in `frame`.
fn graph_rig(rig: &Rig, frame: &Arc<Mutex<Vec<u8>>>) -> (Graph, PortSet, State) {
    let roles = [PortRole::Pf0, PortRole::Pf1, PortRole::Vf, PortRole::Vf];
    let mut ports = PortSet::new();
    let mut gports = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        let id = i as PortId;
        let port = open(rig, id, i < 2);
        gports.push(GraphPort {
            id,
            role: *role,
            mac: Port::mac(&port),
        });
        if id == VF0 {
            ports.insert(
                id,
                Box::new(Injector {
                    port,
                    frame: Arc::clone(frame),
                    burst: Vec::with_capacity(BURST),
                }),
            );
        } else {
            ports.insert(id, Box::new(port));
        }
    }
    let cfg = GraphConfig {
        host_underlay: HOST_UL,
        burst_size: BURST,
        ..GraphConfig::default()
    };
    let mut graph = Graph::new(cfg, &gports).unwrap();
    graph
        .pool_mut()
        .set_source(Box::new(MbufSource::new(rig.pool.mbufs())));
    // both VMs' ports exist (started), only vf0 is read
    graph.start_port(VF0);
    graph.start_port(VF1);
    for id in [PF0, PF1, VF1] {
        graph.stop_port(id);
    }
    graph.set_active(true);
    (graph, ports, common::two_vms())
}

fn tx_of(ports: &PortSet, id: PortId) -> u64 {
    ports
        .stats()
        .find(|(p, _)| *p == id)
        .map_or(0, |(_, s)| s.tx_packets)
}

/// CPU time of this thread (USER_HZ ticks from /proc).
/// Packets per CPU second of `round` (one burst each) over `window`.
fn rate(mut round: impl FnMut() -> usize, window: Duration) -> f64 {
    for _ in 0..1000 {
        round();
    }
    let start = Instant::now();
    let cpu0 = thread_cpu();
    let mut pkts = 0u64;
    while start.elapsed() < window {
        for _ in 0..256 {
            pkts += black_box(round()) as u64;
        }
    }
    pkts as f64 / (thread_cpu() - cpu0).as_secs_f64().max(0.01)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` builds and runs it without
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rig = rig();
    let window = Duration::from_secs(2);
    let frame = Arc::new(Mutex::new(Vec::new()));
    let (mut graph, mut ports, state) = graph_rig(&rig, &frame);
    let mut bare_pool = Pool::new(0);
    bare_pool.set_source(Box::new(MbufSource::new(rig.pool.mbufs())));
    let mut burst: Vec<PacketBuf> = Vec::with_capacity(BURST);
    let cases = [
        ("vf_to_pf_encap", udp_frame(REMOTE_IP), PF0),
        ("vf_to_vf", udp_frame(VM2_IP), VF1),
    ];
    for (name, bytes, out) in &cases {
        *frame.lock().unwrap() = bytes.clone();
        let now = Instant::now();
        // the case really takes its path: the whole burst leaves on `out`
        let before = tx_of(&ports, *out);
        ports.poll(&mut graph, &state, now);
        assert_eq!(
            tx_of(&ports, *out) - before,
            BURST as u64,
            "{name}: the burst left elsewhere"
        );
        let mut graph_rates = Vec::new();
        let mut bare_rates = Vec::new();
        for _ in 0..5 {
            graph_rates.push(rate(|| ports.poll(&mut graph, &state, now) / 2, window));
            // the bare loop: the same injection and receive on vf0, sent out of `out`
            bare_rates.push(rate(
                || {
                    let n = ports
                        .get_mut(VF0)
                        .map_or(0, |p| p.rx_burst(&mut bare_pool, &mut burst, BURST));
                    if let Some(p) = ports.get_mut(*out) {
                        p.tx_burst(&mut burst, &mut bare_pool);
                    }
                    burst.clear();
                    n
                },
                window,
            ));
        }
        let (g, b) = (median(graph_rates), median(bare_rates));
        println!(
            "{{\"case\":\"{name}\",\"backend\":\"dpdk\",\"mpps_cpu\":{:.3},\"bare_mpps_cpu\":{:.3},\"ratio_to_bare\":{:.3}}}",
            g / 1e6,
            b / 1e6,
            g / b
        );
    }
}
