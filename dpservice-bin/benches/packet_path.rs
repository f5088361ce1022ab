//! Packet-path throughput on the in-memory backend: VF→VF, VF→PF encapsulation, PF→VF
//! decapsulation and the load balancer (an established flow forwarded to a remote target
//! out of the ingress uplink, and one recirculated to a local LB prefix) of 64-byte
//! frames, each against a bare rx→tx loop over the same ports in
//! the same run (the cost of the graph itself).
//!
//! `cargo bench -p dpservice-bin --bench packet_path` runs the criterion groups and then
//! prints one JSON line per case with packets per second of CPU time and the ratio to the
//! bare loop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};
use dpservice::model::{
    CreateLbPrefix, CreateLoadBalancer, IpPrefix, L4Protocol, LbPort, LoadBalancerTarget,
    RequestPrefix, Route,
};
use dpservice_bin::datapath::port_set::PortSet;
use dpservice_bin::graph::{Graph, GraphConfig, GraphPort, PortRole};
use dpservice_bin::port::memory::MemoryPort;
use dpservice_bin::port::{PacketBuf, Pool, Port, PortId};
use dpservice_bin::state::State;
use dpservice_bin::wire::ethernet::{self, ethertype, MacAddr};
use dpservice_bin::wire::{ip_proto, ipv6, udp};

use common::{
    mac, thread_cpu, HOST_UL, NEIGHBOUR_UL, PF0, PF1, REMOTE_IP, VF0, VF1, VM1_IP, VM2_IP, VM2_UL,
};

const BURST: usize = 64;
const FRAME_LEN: usize = 64;
/// vm1's NAT address (the `flows` NAT cases).
const NAT_IP: Ipv4Addr = Ipv4Addr::new(20, 0, 0, 1);
/// A public destination, reached through the default route and the NAT.
const PUBLIC_IP: Ipv4Addr = Ipv4Addr::new(45, 86, 6, 2);
/// Load balancer whose only target is another host's.
const LB_FWD_IP: Ipv4Addr = Ipv4Addr::new(172, 22, 2, 1);
const LB_FWD_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x22, 1);
/// Load balancer whose only target is vm2's LB prefix on this host.
const LB_LOCAL_IP: Ipv4Addr = Ipv4Addr::new(172, 22, 2, 2);
const LB_LOCAL_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x22, 2);
const REMOTE_TARGET: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x1234, 3);
const VM2_LB_PREFIX_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0x1234, 2);

/// A 64-byte Ethernet/IPv4/UDP frame (18 bytes of UDP payload) from vm1's MAC.
fn udp_frame(src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let flow = udp::Ipv4Flow {
        dst_mac: mac(0),
        src_mac: MacAddr([0x52, 0x54, 0, 0, 0, 1]),
        src,
        dst,
        src_port: 4000,
        dst_port: 80,
    };
    udp::ipv4_frame(&flow, FRAME_LEN)
}

/// The 64-byte frame from a remote VM to vm2, in a tunnel to vm2's underlay.
fn tunnel_frame() -> Vec<u8> {
    tunnel_to(VM2_UL, &udp_frame(REMOTE_IP, VM2_IP))
}

/// The inner IP packet of `inner` (an Ethernet frame) in a tunnel to `ul_dst`.
fn tunnel_to(ul_dst: Ipv6Addr, inner: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; ethernet::HEADER_LEN + ipv6::HEADER_LEN];
    ethernet::emit(
        &mut f,
        MacAddr([0x22; 6]),
        MacAddr([0xaa; 6]),
        ethertype::IPV6,
    );
    ipv6::Repr {
        src: NEIGHBOUR_UL,
        dst: ul_dst,
        next_header: ip_proto::IPIP,
        payload_len: (inner.len() - ethernet::HEADER_LEN) as u16,
        hop_limit: 64,
        traffic_class: 0,
        flow_label: 0,
    }
    .emit(&mut f[ethernet::HEADER_LEN..]);
    f.extend_from_slice(&inner[ethernet::HEADER_LEN..]);
    f
}

fn state() -> State {
    let mut s = common::two_vms();
    // the load balancers of the LB cases (udp/80, which the frames carry)
    for (id, ip, ul, target) in [
        ("lb_fwd", LB_FWD_IP, LB_FWD_UL, REMOTE_TARGET),
        ("lb_local", LB_LOCAL_IP, LB_LOCAL_UL, VM2_LB_PREFIX_UL),
    ] {
        s.create_load_balancer(CreateLoadBalancer {
            id: id.into(),
            vni: 100,
            ip: IpAddr::V4(ip),
            ports: vec![LbPort {
                protocol: L4Protocol::Udp,
                port: 80,
            }],
            preferred_underlay: Some(ul),
        })
        .unwrap();
        s.create_lb_target(&LoadBalancerTarget {
            loadbalancer_id: id.into(),
            target: IpAddr::V6(target),
        })
        .unwrap();
    }
    // vm1 reaches public addresses through the NAT gateway (the `flows` NAT cases)
    s.create_route(&Route {
        vni: 100,
        prefix: RequestPrefix::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        nexthop_vni: 100,
        nexthop: IpAddr::V6(NEIGHBOUR_UL),
    })
    .unwrap();
    s.create_nat(&dpservice::model::CreateNat {
        interface_id: "vm1".into(),
        ip: IpAddr::V4(NAT_IP),
        min_port: 1024,
        max_port: 65535,
        preferred_underlay: Some(Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0, 0x99)),
    })
    .unwrap();
    s.create_lb_prefix(&CreateLbPrefix {
        interface_id: "vm2".into(),
        prefix: IpPrefix::new(IpAddr::V4(LB_LOCAL_IP), 32).unwrap(),
        preferred_underlay: Some(VM2_LB_PREFIX_UL),
    })
    .unwrap();
    s
}

/// A graph whose port `source` receives copies of `frame` without end; all ports discard
/// what they send.
struct Setup {
    graph: Graph,
    ports: PortSet,
    state: State,
    now: Instant,
}

/// `PACKET_PATH_CYCLES=1`: per-node cycle counts on (the daemon's default) for the
/// criterion groups and the profile modes.
fn cycles_from_env() -> bool {
    std::env::var_os("PACKET_PATH_CYCLES").is_some_and(|v| v == "1")
}

fn setup(source: PortId, frame: &[u8]) -> Setup {
    setup_with(source, frame, cycles_from_env())
}

fn setup_with(source: PortId, frame: &[u8], cycles: bool) -> Setup {
    let gen = MemoryPort::generator(&format!("p{source}"), port_mac(source), frame);
    setup_ports(
        source,
        gen,
        cycles,
        GraphConfig::default().conntrack_capacity,
    )
}

fn port_mac(id: PortId) -> MacAddr {
    [MacAddr([0x22; 6]), MacAddr([0x23; 6]), mac(0), mac(1)][usize::from(id)]
}

/// A graph whose port `source` is `source_port`; every other port discards what it is
/// sent. `capacity`: keys the conntrack table holds.
fn setup_ports(source: PortId, source_port: MemoryPort, cycles: bool, capacity: u64) -> Setup {
    let macs = [MacAddr([0x22; 6]), MacAddr([0x23; 6]), mac(0), mac(1)];
    let roles = [PortRole::Pf0, PortRole::Pf1, PortRole::Vf, PortRole::Vf];
    let gports: Vec<GraphPort> = (0..4)
        .map(|i| GraphPort {
            id: i as PortId,
            role: roles[i],
            mac: macs[i],
        })
        .collect();
    let cfg = GraphConfig {
        host_underlay: HOST_UL,
        burst_size: BURST,
        conntrack_capacity: capacity,
        ..GraphConfig::default()
    };
    let mut graph = Graph::new(cfg, &gports).expect("a graph with private flow tables");
    if cycles {
        dpservice_bin::telemetry::clock::calibrate();
        graph.set_cycle_clock(Some(dpservice_bin::telemetry::clock::cycles_now));
    }
    let mut ports = PortSet::new();
    let mut source_port = Some(source_port);
    for g in &gports {
        // only the source generates; the others only sink (their generator never runs)
        let port = match source_port.take_if(|_| g.id == source) {
            Some(p) => p,
            None => MemoryPort::generator(&format!("p{}", g.id), g.mac, &[0u8; 60]),
        };
        ports.insert(g.id, Box::new(port));
    }
    for id in [VF0, VF1] {
        graph.start_port(id);
    }
    // receive only on the source port
    for id in [PF0, PF1, VF0, VF1] {
        if id != source {
            graph.stop_port(id);
        }
    }
    graph.start_port(source);
    graph.set_active(true);
    Setup {
        graph,
        ports,
        state: state(),
        now: Instant::now(),
    }
}

impl Setup {
    fn round(&mut self) -> usize {
        self.ports.poll(&mut self.graph, &self.state, self.now)
    }
}

/// The bare loop: the same generator and sink, no graph.
struct Bare {
    src: MemoryPort,
    dst: MemoryPort,
    pool: Pool,
    burst: Vec<PacketBuf>,
}

impl Bare {
    fn new(frame: &[u8]) -> Bare {
        Bare::with_source(MemoryPort::generator("src", mac(0), frame))
    }

    fn with_source(src: MemoryPort) -> Bare {
        Bare {
            src,
            dst: MemoryPort::generator("dst", mac(1), &[0; 60]),
            pool: Pool::new(4096),
            burst: Vec::with_capacity(BURST),
        }
    }

    fn round(&mut self) -> usize {
        let n = self.src.rx_burst(&mut self.pool, &mut self.burst, BURST);
        self.dst.tx_burst(&mut self.burst, &mut self.pool);
        n * 2
    }
}

fn cases() -> Vec<(&'static str, PortId, PortId, Vec<u8>)> {
    vec![
        ("vf_to_vf", VF0, VF1, udp_frame(VM1_IP, VM2_IP)),
        ("vf_to_pf_encap", VF0, PF0, udp_frame(VM1_IP, REMOTE_IP)),
        ("pf_to_vf_decap", PF0, VF1, tunnel_frame()),
        (
            "pf_lb_forward",
            PF0,
            PF0,
            tunnel_to(LB_FWD_UL, &udp_frame(REMOTE_IP, LB_FWD_IP)),
        ),
        (
            "pf_lb_recirc_to_vf",
            PF0,
            VF1,
            tunnel_to(LB_LOCAL_UL, &udp_frame(REMOTE_IP, LB_LOCAL_IP)),
        ),
    ]
}

fn check_walks() {
    // every case really takes its path: all packets leave on the expected port
    for (name, src, dst, frame) in cases() {
        let mut s = setup(src, &frame);
        assert_eq!(
            s.round(),
            2 * BURST,
            "{name}: not every packet went through"
        );
        let tx = s
            .ports
            .stats()
            .find(|(id, _)| *id == dst)
            .unwrap()
            .1
            .tx_packets;
        assert_eq!(tx, BURST as u64, "{name}: packets left elsewhere");
    }
}

fn bench_graph(c: &mut Criterion) {
    check_walks();
    let mut group = c.benchmark_group("packet_path");
    group.throughput(Throughput::Elements(BURST as u64));
    for (name, src, _, frame) in cases() {
        let mut bare = Bare::new(&frame);
        group.bench_function(format!("{name}/bare_rx_tx"), |b| {
            b.iter(|| black_box(bare.round()))
        });
        let mut s = setup(src, &frame);
        group.bench_function(format!("{name}/graph"), |b| b.iter(|| black_box(s.round())));
    }
    group.finish();
}

/// CPU time this thread has used (user + system), from /proc in USER_HZ (1/100 s) ticks.
/// Packets per second of `round` (each round moves one burst) over `window` of wall time:
/// (per wall second, per second of this thread's CPU time). The machine is shared, so the
/// CPU-time figure is the one to compare.
fn rate(mut round: impl FnMut() -> usize, window: Duration) -> (f64, f64) {
    for _ in 0..1000 {
        round();
    }
    let start = Instant::now();
    let cpu0 = thread_cpu();
    let mut rounds = 0u64;
    while start.elapsed() < window {
        for _ in 0..256 {
            black_box(round());
        }
        rounds += 256;
    }
    let pkts = (rounds * BURST as u64) as f64;
    let cpu = (thread_cpu() - cpu0).as_secs_f64().max(0.01);
    (pkts / start.elapsed().as_secs_f64(), pkts / cpu)
}

fn report() {
    // PACKET_PATH_ROUNDS=<n> with PACKET_PATH_PROFILE=<case>: exactly n rounds (for
    // callgrind: instructions per packet from two values of n); <case>/bare: the bare
    // rx -> tx loop over that case's frame
    let rounds: Option<usize> = std::env::var("PACKET_PATH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok());
    if let (Ok(only), Some(n)) = (std::env::var("PACKET_PATH_PROFILE"), rounds) {
        for (name, _, _, frame) in cases() {
            if only == format!("{name}/bare") {
                let mut bare = Bare::new(&frame);
                let moved: usize = (0..n).map(|_| bare.round()).sum();
                println!(
                    "{{\"case\":\"{only}\",\"rounds\":{n},\"packets\":{}}}",
                    moved / 2
                );
            }
        }
        for (name, src, _, frame) in cases().into_iter().filter(|c| c.0 == only) {
            let mut s = setup(src, &frame);
            let moved: usize = (0..n).map(|_| s.round()).sum();
            println!(
                "{{\"case\":\"{name}\",\"rounds\":{n},\"packets\":{}}}",
                moved / 2
            );
        }
        return;
    }
    // PACKET_PATH_PROFILE=<case>: only that case's graph loop for 5 s (for perf)
    if let Ok(only) = std::env::var("PACKET_PATH_PROFILE") {
        for (name, src, _, frame) in cases().into_iter().filter(|c| c.0 == only) {
            let mut s = setup(src, &frame);
            let (wall, cpu) = rate(|| s.round(), Duration::from_secs(5));
            println!(
                "{{\"case\":\"{name}\",\"mpps_wall\":{:.2},\"mpps_cpu\":{:.2}}}",
                wall / 1e6,
                cpu / 1e6
            );
        }
        return;
    }
    for (name, src, _, frame) in cases() {
        let mut bare = Bare::new(&frame);
        let (_, base) = rate(|| bare.round(), Duration::from_secs(2));
        let mut s = setup_with(src, &frame, false);
        let (_, graph) = rate(|| s.round(), Duration::from_secs(2));
        let mut s = setup_with(src, &frame, true);
        let (_, cycles) = rate(|| s.round(), Duration::from_secs(2));
        println!(
            "{{\"case\":\"{name}\",\"frame_bytes\":{},\"mpps_per_cpu\":{:.2},\"bare_loop_mpps_per_cpu\":{:.2},\"ratio_to_bare_loop\":{:.3},\"with_cycle_counts_mpps_per_cpu\":{:.2},\"ratio_cycle_counts_on_to_off\":{:.3}}}",
            frame.len(),
            graph / 1e6,
            base / 1e6,
            graph / base,
            cycles / 1e6,
            cycles / graph
        );
    }
}

/// The mirror rings of graph tracing (dpservice-dump) on the vf_to_vf path: no ring set
/// installed (the tracer's only cost is two `is_some` checks), installed with nobody
/// attached (one atomic load per burst), and a consumer thread attached draining every
/// rx and tx entry.
mod trace {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use dpservice::shm::mirror::{self, CaptureSettings, RingGeometry, Rings};
    use dpservice::shm::region::{RegionBuilder, WritableRegion};

    use super::*;

    pub struct Traced {
        pub setup: Setup,
        pub region: WritableRegion,
    }

    pub fn traced() -> Traced {
        let path = std::path::PathBuf::from(format!(
            "/dev/shm/dpservice_bench_trace_{}",
            std::process::id()
        ));
        let mut b = RegionBuilder::new();
        b.mirror_rings(mirror::RINGS_NAME, RingGeometry::DAEMON)
            .unwrap();
        let region = b.create(&path).unwrap();
        let (_, _, frame) = (VF0, VF1, udp_frame(VM1_IP, VM2_IP));
        let mut setup = setup_with(VF0, &frame, false);
        setup.graph.set_mirror(mirror::producer(&region).unwrap());
        Traced { setup, region }
    }

    /// A consumer thread taking every entry until `stop`; answers entries read.
    pub fn drain(
        region: &WritableRegion,
        stop: Arc<AtomicBool>,
    ) -> std::thread::JoinHandle<(u64, u64)> {
        let rings = Rings::open_path(region.path()).unwrap();
        let mut c = rings.attach(&CaptureSettings::default()).unwrap();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let got = c.read(65536, |_, d| {
                    black_box(d);
                });
                n += got as u64;
                if got == 0 {
                    std::thread::yield_now();
                }
            }
            (n, c.lost())
        })
    }

    pub fn bench(c: &mut Criterion) {
        let mut group = c.benchmark_group("trace");
        group.throughput(Throughput::Elements(BURST as u64));
        let frame = udp_frame(VM1_IP, VM2_IP);
        let mut none = setup_with(VF0, &frame, false);
        group.bench_function("vf_to_vf/no_mirror", |b| b.iter(|| black_box(none.round())));
        let mut t = traced();
        group.bench_function("vf_to_vf/mirror_detached", |b| {
            b.iter(|| black_box(t.setup.round()))
        });
        let stop = Arc::new(AtomicBool::new(false));
        let h = drain(&t.region, Arc::clone(&stop));
        group.bench_function("vf_to_vf/dump_attached_all", |b| {
            b.iter(|| black_box(t.setup.round()))
        });
        stop.store(true, Ordering::Relaxed);
        let _ = h.join();
        group.finish();
    }

    /// One worker round, not inlined: callgrind reports its inclusive instructions.
    #[inline(never)]
    pub fn worker_round(s: &mut Setup) -> usize {
        s.round()
    }

    /// Takes every published entry, not inlined (its instructions are the consumer's).
    #[inline(never)]
    pub fn consumer_drain(c: &mut mirror::Consumer) -> usize {
        c.read(usize::MAX, |_, d| {
            black_box(d);
        })
    }

    /// `PACKET_PATH_TRACE=detached|attached` with `PACKET_PATH_ROUNDS=<n>`: exactly n
    /// worker rounds, deterministic for callgrind: attached, the consumer drains the
    /// ring in the same thread after every round (so nothing is lost and the counts
    /// repeat exactly). Per-packet instructions: `worker_round`'s inclusive count / packets.
    pub fn profile(attached: bool, n: usize) {
        let mut t = traced();
        let rings = Rings::open_path(t.region.path()).unwrap();
        let mut c = attached.then(|| rings.attach(&CaptureSettings::default()).unwrap());
        let (mut moved, mut read) = (0, 0);
        for _ in 0..n {
            moved += worker_round(&mut t.setup);
            if let Some(c) = c.as_mut() {
                read += consumer_drain(c);
            }
        }
        let lost = c.as_ref().map_or(0, |c| c.lost());
        println!(
            "{{\"case\":\"vf_to_vf_trace\",\"attached\":{attached},\"rounds\":{n},\"packets\":{},\"entries_read\":{read},\"entries_lost\":{lost}}}",
            moved / 2
        );
    }

    /// JSON lines: three interleaved rounds of each case, medians of packets per CPU
    /// second of the worker thread.
    pub fn report() {
        let frame = udp_frame(VM1_IP, VM2_IP);
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (mut none, mut off, mut on) = (Vec::new(), Vec::new(), Vec::new());
        let (mut read, mut lost) = (0, 0);
        for _ in 0..3 {
            let mut s = setup_with(VF0, &frame, false);
            none.push(rate(|| s.round(), Duration::from_secs(2)).1);
            let mut t = traced();
            off.push(rate(|| t.setup.round(), Duration::from_secs(2)).1);
            let stop = Arc::new(AtomicBool::new(false));
            let h = drain(&t.region, Arc::clone(&stop));
            on.push(rate(|| t.setup.round(), Duration::from_secs(2)).1);
            stop.store(true, Ordering::Relaxed);
            let (r, l) = h.join().unwrap();
            read += r;
            lost += l;
        }
        let (none, off, on) = (median(none), median(off), median(on));
        println!(
            "{{\"case\":\"vf_to_vf_trace\",\"no_mirror_mpps_per_cpu\":{:.2},\"mirror_detached_mpps_per_cpu\":{:.2},\"ratio_detached_to_no_mirror\":{:.3},\"dump_attached_mpps_per_cpu\":{:.2},\"ratio_attached_to_detached\":{:.3},\"entries_read\":{read},\"entries_lost_ring_full\":{lost}}}",
            none / 1e6,
            off / 1e6,
            off / none,
            on / 1e6,
            on / off
        );
    }
}

/// Connection tracking at scale: VF→PF encapsulation of established UDP flows, cycling
/// through 1 000, 65 536 and 1 000 000 flows (every packet one conntrack lookup), and
/// the rate of new flows (every packet a miss that creates both keys). Baseline: the
/// bare loop over the same flow generator. `PACKET_PATH_FLOWS=1` prints one JSON line
/// per case.
mod flows {
    use super::*;

    /// Flow `n`: UDP source port 1024 + n mod 60 000, destination 10.100.2.(2 + n / 60 000)
    /// (all behind the /24 route to the neighbour host). Checksums are not looked at.
    fn vary(frame: &mut [u8], n: u32) {
        let sport = 1024 + (n % 60_000) as u16;
        frame[34..36].copy_from_slice(&sport.to_be_bytes());
        frame[33] = 2 + (n / 60_000) as u8;
    }

    fn generator(count: u32) -> MemoryPort {
        MemoryPort::flow_generator("vf0", mac(0), &udp_frame(VM1_IP, REMOTE_IP), count, vary)
    }

    /// The same flows towards public 45.86.6.x: south-north, through vm1's NAT.
    fn nat_generator(count: u32) -> MemoryPort {
        MemoryPort::flow_generator("vf0", mac(0), &udp_frame(VM1_IP, PUBLIC_IP), count, vary)
    }

    /// Keys for `flows` flows with room to spare (each flow has two keys).
    fn capacity(flows: u32) -> u64 {
        u64::from(flows) * 2 + u64::from(flows) / 4 + 1024
    }

    /// A graph fed by `gen` over flow tables of `capacity` keys whose memory is faulted
    /// in already, as the daemon's region is (huge pages where the host offers them).
    fn setup_flows(gen: MemoryPort, capacity: u64) -> Setup {
        // the private table is replaced at once: keep it small
        let mut s = setup_ports(VF0, gen, false, 1024);
        let tables = dpservice_bin::tables::FlowTables::private_prefaulted(0, capacity)
            .expect("private flow tables");
        s.graph.attach_tables(tables);
        s
    }

    /// A graph in which all `count` flows exist already (`nat`: through the NAT).
    pub fn established(count: u32) -> Setup {
        established_with(count, false)
    }

    pub fn established_with(count: u32, nat: bool) -> Setup {
        let gen = if nat {
            nat_generator(count)
        } else {
            generator(count)
        };
        let mut s = setup_flows(gen, capacity(count));
        let rounds = (count as usize).div_ceil(BURST) + 2;
        for _ in 0..rounds {
            s.round();
        }
        assert_eq!(
            s.graph.flows().len(),
            2 * count as usize,
            "every flow is in the table, with both keys"
        );
        if nat {
            assert!(
                s.graph.nat_used_ports(VF0) > 0,
                "the flows took NAT ports: the NAT path is measured"
            );
        }
        s
    }

    /// A graph over the region's flow tables (`tables`, as the daemon attaches them) in
    /// which all `count` flows exist already.
    pub fn established_in(count: u32, tables: dpservice_bin::tables::FlowTables) -> Setup {
        // the private table is replaced at once: keep it small
        let mut s = setup_ports(VF0, generator(count), false, 1024);
        s.graph.attach_tables(tables);
        let rounds = (count as usize).div_ceil(BURST) + 2;
        for _ in 0..rounds {
            s.round();
        }
        assert_eq!(
            s.graph.flows().len(),
            2 * count as usize,
            "every flow is in the region's table, with both keys"
        );
        s
    }

    pub fn report() {
        // PACKET_PATH_FLOWS=<count>: only that many established flows for 5 s (for perf;
        // with PACKET_PATH_NAT=1 through the NAT)
        if let Some(count) = std::env::var("PACKET_PATH_FLOWS")
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|&n| n > 1)
        {
            // PACKET_PATH_NAT=1: the flows go through vm1's NAT
            let mut s = established_with(count, std::env::var_os("PACKET_PATH_NAT").is_some());
            // with PACKET_PATH_ROUNDS=<n>: exactly n rounds (callgrind: instructions per
            // packet from two values of n)
            if let Some(n) = std::env::var("PACKET_PATH_ROUNDS")
                .ok()
                .and_then(|n| n.parse::<usize>().ok())
            {
                let moved: usize = (0..n).map(|_| s.round()).sum();
                println!(
                    "{{\"flows\":{count},\"rounds\":{n},\"packets\":{}}}",
                    moved / 2
                );
                return;
            }
            let (_, graph) = rate(|| s.round(), Duration::from_secs(5));
            println!("{{\"flows\":{count},\"mpps_per_cpu\":{:.2}}}", graph / 1e6);
            return;
        }
        let only_new = std::env::var_os("PACKET_PATH_NEW_FLOWS").is_some();
        for (case, nat) in [
            ("vf_to_pf_established", false),
            ("vf_to_pf_nat_established", true),
        ]
        .into_iter()
        .filter(|_| !only_new)
        {
            for count in [1_000u32, 65_536, 1_000_000] {
                let mut bare = Bare::with_source(generator(count));
                let (_, base) = rate(|| bare.round(), Duration::from_secs(2));
                let mut s = established_with(count, nat);
                let (_, graph) = rate(|| s.round(), Duration::from_secs(3));
                println!(
                    "{{\"case\":\"{case}\",\"flows\":{count},\"mpps_per_cpu\":{:.2},\"bare_loop_mpps_per_cpu\":{:.2},\"ratio_to_bare_loop\":{:.3}}}",
                    graph / 1e6,
                    base / 1e6,
                    graph / base
                );
            }
        }
        // new flows: 1 000 000 packets of distinct flows into an empty table
        // (PACKET_PATH_NEW_FLOWS=<n>: n instead, for callgrind)
        let count = std::env::var("PACKET_PATH_NEW_FLOWS")
            .ok()
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(1_000_000);
        let mut bare = Bare::with_source(generator(count));
        let (_, base) = if only_new {
            (0.0, 1.0)
        } else {
            rate(|| bare.round(), Duration::from_secs(2))
        };
        let mut s = setup_flows(generator(count), capacity(count));
        let rounds = count as usize / BURST;
        let cpu0 = thread_cpu();
        let mut moved = 0;
        for _ in 0..rounds {
            moved += s.round() / 2;
        }
        let cpu = (thread_cpu() - cpu0).as_secs_f64().max(0.01);
        assert_eq!(s.graph.flows().len(), 2 * moved, "every packet made a flow");
        let new = moved as f64 / cpu;
        println!(
            "{{\"case\":\"vf_to_pf_new_flows\",\"flows\":{moved},\"new_flows_per_cpu_second_millions\":{:.2},\"bare_loop_mpps_per_cpu\":{:.2},\"ratio_to_bare_loop\":{:.3}}}",
            new / 1e6,
            base / 1e6,
            new / base
        );
    }

    pub fn bench(c: &mut Criterion) {
        let mut group = c.benchmark_group("flows");
        group.throughput(Throughput::Elements(BURST as u64));
        for count in [1_000u32, 65_536] {
            let mut bare = Bare::with_source(generator(count));
            group.bench_function(format!("vf_to_pf_established_{count}/bare_rx_tx"), |b| {
                b.iter(|| black_box(bare.round()))
            });
            let mut s = established(count);
            group.bench_function(format!("vf_to_pf_established_{count}/graph"), |b| {
                b.iter(|| black_box(s.round()))
            });
        }
        group.finish();
    }
}

/// The packet worker while `dpservice-inspect` dumps its conntrack table: the graph runs
/// over a real file-backed region (`SharedTables::create` on a private instance, the
/// flow tables attached as the daemon does) holding 400 000 established flows (800 000
/// keys), the vf_to_pf case cycling through all of them (every packet a lookup and a
/// refresh of its entry in the region); a second thread runs the inspect library's
/// whole `-t conntrack --dump -o json` over and over into a counting sink. Rounds alone
/// and with the reader alternate; medians of packets per second of the worker thread's
/// CPU time. `PACKET_PATH_INSPECT=1` prints one JSON line.
mod inspect_reader {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use dpservice::instance::Instance;
    use dpservice_bin::tables::SharedTables;

    use super::*;

    const FLOWS: u32 = 400_000;
    const ROUNDS: usize = 5;

    /// Counts what the dump writes (bytes and lines: one JSON object per line is not
    /// assumed, so entries are counted from the table instead).
    struct Sink(u64);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len() as u64;
            black_box(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Dumps in a loop until `stop`; answers (dumps finished, seconds they took, bytes).
    fn reader(prefix: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(u64, f64, u64)> {
        std::thread::spawn(move || {
            let argv = [
                "dpservice-inspect".to_owned(),
                format!("--file-prefix={prefix}"),
                "-t".into(),
                "conntrack".into(),
                "--dump".into(),
                "-o".into(),
                "json".into(),
            ];
            let (mut dumps, mut secs, mut bytes) = (0, 0.0, 0);
            while !stop.load(Ordering::Relaxed) {
                let mut sink = Sink(0);
                let t = Instant::now();
                let code = dpservice_inspect::run_with(argv.clone(), &mut sink, false);
                secs += t.elapsed().as_secs_f64();
                assert!(
                    sink.0 > 0
                        && format!("{code:?}") == format!("{:?}", std::process::ExitCode::SUCCESS),
                    "the dump failed: {code:?}"
                );
                dumps += 1;
                bytes += sink.0;
            }
            (dumps, secs, bytes)
        })
    }

    pub fn report() {
        let prefix = format!("ppinspect{}", std::process::id());
        let instance = Instance::new(&prefix).unwrap();
        let mut shared = SharedTables::create(&instance, 0, 0x5eed).unwrap();
        let tables = shared.take_flows().expect("the region's flow tables");
        let mut s = flows::established_in(FLOWS, tables);
        let entries = s.graph.flows().len() as u64;
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (mut alone, mut with) = (Vec::new(), Vec::new());
        let (mut dumps, mut secs, mut bytes) = (0, 0.0, 0);
        for _ in 0..ROUNDS {
            alone.push(rate(|| s.round(), Duration::from_secs(2)).1);
            let stop = Arc::new(AtomicBool::new(false));
            let h = reader(prefix.clone(), Arc::clone(&stop));
            // the reader is under way before the window opens
            std::thread::sleep(Duration::from_millis(100));
            with.push(rate(|| s.round(), Duration::from_secs(2)).1);
            stop.store(true, Ordering::Relaxed);
            let (d, t, b) = h.join().unwrap();
            dumps += d;
            secs += t;
            bytes += b;
        }
        let (alone, with) = (median(alone), median(with));
        println!(
            "{{\"case\":\"vf_to_pf_established_region\",\"flows\":{FLOWS},\"conntrack_entries\":{entries},\"mpps_per_cpu_alone\":{:.2},\"mpps_per_cpu_with_inspect_dump\":{:.2},\"ratio\":{:.3},\"dumps\":{dumps},\"reader_entries_per_s_millions\":{:.2},\"json_bytes_per_dump\":{}}}",
            alone / 1e6,
            with / 1e6,
            with / alone,
            (dumps * entries) as f64 / secs.max(1e-9) / 1e6,
            bytes / dumps.max(1)
        );
        drop(s);
        // the region file goes with the tables (removed on drop)
        drop(shared);
        assert!(
            !instance.shm_path().exists(),
            "the region file {} is removed",
            instance.shm_path().display()
        );
    }
}

criterion_group!(benches, bench_graph, trace::bench, flows::bench);

fn main() {
    if let Ok(mode) = std::env::var("PACKET_PATH_TRACE") {
        let rounds = std::env::var("PACKET_PATH_ROUNDS")
            .ok()
            .and_then(|n| n.parse::<usize>().ok());
        match (mode.as_str(), rounds) {
            ("detached", Some(n)) => trace::profile(false, n),
            ("attached", Some(n)) => trace::profile(true, n),
            _ => trace::report(),
        }
        return;
    }
    if std::env::var_os("PACKET_PATH_PROFILE").is_some() {
        report();
        return;
    }
    if std::env::var_os("PACKET_PATH_INSPECT").is_some() {
        inspect_reader::report();
        return;
    }
    if std::env::var_os("PACKET_PATH_FLOWS").is_some() {
        flows::report();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    // the JSON summary only in a real benchmark run, not under `cargo test`
    if std::env::args().any(|a| a == "--bench") {
        report();
        flows::report();
    }
}
