//! How long gRPC calls hold up packets: the real worker thread forwards an endless stream
//! of 64-byte tunnel packets (in-memory uplink → VM port) while the gRPC service
//! (`DpService` over the worker, called in-process) answers calls on large tables:
//! `ListRoutes` with 262,144 routes, `ListFirewallRules` with 65,535 rules, creating
//! and deleting the 65,536th rule, `Initialize` / `ResetVni` over 262,144 routes,
//! `DeleteInterface` of an interface with 65,535 rules and of the last user of a VNI with
//! 262,144 routes; and the longest pause while 262,144 routes / 65,536 rules are created
//! one call at a time (table growth).
//!
//! The uplink's `rx_burst` is timed: the longest gap between two bursts during a call is
//! the longest the worker kept packets waiting. Two clocks: wall time (includes the
//! scheduler taking the core away on this shared 2-core machine) and the worker thread's
//! CPU time (what the worker itself spent between bursts; the figure to compare). The
//! baseline is the same gap over 200 ms of packets with no call, in the same run.
//!
//! `cargo bench -p dpservice-bin --bench worker_pause` (`WORKER_PAUSE_ROUNDS=n`, default
//! 3) prints a table of medians over the rounds and one JSON line per case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpservice::model::{
    CreateFirewallRule, FirewallAction, FirewallRule, FirewallRuleRef, ProtocolFilter,
    RequestPrefix, Route, TrafficDirection, VniQuery, VniType,
};
use dpservice::proto::dpd_kironcore_server::DpdKironcore;
use dpservice::proto::{self as pb};
use dpservice_bin::datapath::port_set::PortSet;
use dpservice_bin::datapath::Datapath;
use dpservice_bin::graph::{Graph, GraphConfig, GraphPort, PortRole};
use dpservice_bin::grpc::service::DpService;
use dpservice_bin::port::memory::MemoryPort;
use dpservice_bin::port::{LinkDevice, PacketBuf, Pool, Port, PortId, PortStats};
use dpservice_bin::state::{Limits, PortInfo, PortKind, State, StateConfig};
use dpservice_bin::wire::ethernet::{self, ethertype, MacAddr};
use dpservice_bin::wire::{ip_proto, ipv6, udp};
use dpservice_bin::worker::{Dataplane, Worker, WorkerHandle};
use tonic::Request;

use common::{iface, median, HOST_UL, NEIGHBOUR_UL, PF0, VM1_IP, VM1_UL, VM2_IP, VM2_UL};

const ROUTES: u32 = 262_144;
const RULES: u32 = 65_536;
const REPEAT: usize = 5;
const VF2: PortId = 4;
const VM3_UL: Ipv6Addr = Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0x8000, 0, 3);
const VM3_IP: Ipv4Addr = Ipv4Addr::new(10, 200, 1, 3);

/// Longest gaps between two `rx_burst` calls, written by the worker, read and reset by
/// the benchmark thread.
#[derive(Debug)]
struct Meter {
    epoch: Instant,
    last_wall: AtomicU64,
    last_cpu: AtomicU64,
    max_wall: AtomicU64,
    max_cpu: AtomicU64,
    bursts: AtomicU64,
}

fn thread_cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

impl Meter {
    fn new() -> Meter {
        Meter {
            epoch: Instant::now(),
            last_wall: AtomicU64::new(0),
            last_cpu: AtomicU64::new(0),
            max_wall: AtomicU64::new(0),
            max_cpu: AtomicU64::new(0),
            bursts: AtomicU64::new(0),
        }
    }

    /// On the worker, at every burst.
    fn tick(&self) {
        let wall = self.epoch.elapsed().as_nanos() as u64;
        let cpu = thread_cpu_ns();
        let last_wall = self.last_wall.swap(wall, Ordering::Relaxed);
        let last_cpu = self.last_cpu.swap(cpu, Ordering::Relaxed);
        if last_wall != 0 {
            self.max_wall
                .fetch_max(wall.saturating_sub(last_wall), Ordering::Relaxed);
            self.max_cpu
                .fetch_max(cpu.saturating_sub(last_cpu), Ordering::Relaxed);
        }
        self.bursts.fetch_add(1, Ordering::Relaxed);
    }

    fn reset(&self) {
        self.max_wall.store(0, Ordering::Relaxed);
        self.max_cpu.store(0, Ordering::Relaxed);
    }

    /// (longest wall gap, longest CPU gap) since the reset, in µs; waits for one more
    /// burst so a gap still open at the end of the call is closed and counted.
    fn take(&self) -> (f64, f64) {
        let b = self.bursts.load(Ordering::Relaxed);
        let t = Instant::now();
        while self.bursts.load(Ordering::Relaxed) < b + 2 && t.elapsed() < Duration::from_secs(5) {
            std::thread::yield_now();
        }
        (
            self.max_wall.load(Ordering::Relaxed) as f64 / 1e3,
            self.max_cpu.load(Ordering::Relaxed) as f64 / 1e3,
        )
    }
}

/// The uplink: a generator whose every burst is timed.
struct TimedPort {
    inner: MemoryPort,
    meter: Arc<Meter>,
}

impl Port for TimedPort {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn mac(&self) -> MacAddr {
        self.inner.mac()
    }
    fn link_up(&self) -> bool {
        self.inner.link_up()
    }
    fn start(&mut self) -> std::io::Result<()> {
        self.inner.start()
    }
    fn stop(&mut self) -> std::io::Result<()> {
        self.inner.stop()
    }
    fn rx_burst(&mut self, pool: &mut Pool, out: &mut Vec<PacketBuf>, max: usize) -> usize {
        self.meter.tick();
        self.inner.rx_burst(pool, out, max)
    }
    fn tx_burst(&mut self, pkts: &mut Vec<PacketBuf>, pool: &mut Pool) -> usize {
        self.inner.tx_burst(pkts, pool)
    }
    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        self.inner.poll_fd()
    }
    fn stats(&self) -> PortStats {
        self.inner.stats()
    }
    fn link_device(&self) -> std::io::Result<Box<dyn LinkDevice>> {
        self.inner.link_device()
    }
}

/// The other ports: never receive, count and discard what is sent.
struct SinkPort(MemoryPort);

impl Port for SinkPort {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn mac(&self) -> MacAddr {
        self.0.mac()
    }
    fn link_up(&self) -> bool {
        self.0.link_up()
    }
    fn start(&mut self) -> std::io::Result<()> {
        self.0.start()
    }
    fn stop(&mut self) -> std::io::Result<()> {
        self.0.stop()
    }
    fn rx_burst(&mut self, _: &mut Pool, _: &mut Vec<PacketBuf>, _: usize) -> usize {
        0
    }
    fn tx_burst(&mut self, pkts: &mut Vec<PacketBuf>, pool: &mut Pool) -> usize {
        self.0.tx_burst(pkts, pool)
    }
    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        self.0.poll_fd()
    }
    fn stats(&self) -> PortStats {
        self.0.stats()
    }
    fn link_device(&self) -> std::io::Result<Box<dyn LinkDevice>> {
        self.0.link_device()
    }
}

/// A 64-byte UDP frame from a remote VM to vm3, in a tunnel to vm3's underlay.
fn tunnel_frame() -> Vec<u8> {
    let inner = udp::ipv4_frame(
        &udp::Ipv4Flow {
            dst_mac: MacAddr([0x66; 6]),
            src_mac: MacAddr([0x52, 0x54, 0, 0, 0, 1]),
            src: Ipv4Addr::new(10, 200, 2, 2),
            dst: VM3_IP,
            src_port: 4000,
            dst_port: 80,
        },
        64,
    );
    let mut f = vec![0u8; ethernet::HEADER_LEN + ipv6::HEADER_LEN];
    ethernet::emit(
        &mut f,
        MacAddr([0x22; 6]),
        MacAddr([0xaa; 6]),
        ethertype::IPV6,
    );
    ipv6::Repr {
        src: NEIGHBOUR_UL,
        dst: VM3_UL,
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

fn rule(i: u32) -> CreateFirewallRule {
    CreateFirewallRule {
        interface_id: "vm1".into(),
        rule: FirewallRule {
            id: format!("rule-{i:06}").into(),
            direction: TrafficDirection::Ingress,
            action: FirewallAction::Accept,
            priority: 1000,
            source: "0.0.0.0/0".parse().unwrap(),
            destination: "0.0.0.0/0".parse().unwrap(),
            filter: ProtocolFilter::Any,
        },
    }
}

fn route(i: u32) -> Route {
    Route {
        vni: 100,
        prefix: RequestPrefix::new(IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + i)), 32),
        nexthop_vni: 100,
        nexthop: IpAddr::V6(NEIGHBOUR_UL),
    }
}

/// vm1 and vm2 in VNI 100 (vm1 with 65,535 rules, the VNI with 262,144 routes), vm3 in
/// VNI 200 receiving the packets.
fn state() -> State {
    let info = |id: PortId, kind| PortInfo {
        id,
        device: format!("net_tap{id}"),
        kernel_name: format!("dtap{id}"),
        kind,
    };
    let ports = vec![
        info(0, PortKind::Pf0),
        info(1, PortKind::Pf1),
        info(2, PortKind::Vf),
        info(3, PortKind::Vf),
        info(4, PortKind::Vf),
    ];
    let mut cfg = StateConfig::new(HOST_UL, ports);
    cfg.limits = Limits {
        routes_per_table: ROUTES as usize + 16,
        ..Limits::default()
    };
    let mut s = State::new(cfg);
    s.create_interface(iface("vm1", "net_tap2", 100, VM1_IP, VM1_UL))
        .unwrap();
    s.create_interface(iface("vm2", "net_tap3", 100, VM2_IP, VM2_UL))
        .unwrap();
    s.create_interface(iface("vm3", "net_tap4", 200, VM3_IP, VM3_UL))
        .unwrap();
    for i in 1..RULES {
        s.create_firewall_rule(rule(i)).unwrap();
    }
    for i in 0..ROUTES {
        s.create_route(&route(i)).unwrap();
    }
    s
}

fn datapath(meter: &Arc<Meter>) -> Datapath {
    let gports: Vec<GraphPort> = [
        PortRole::Pf0,
        PortRole::Pf1,
        PortRole::Vf,
        PortRole::Vf,
        PortRole::Vf,
    ]
    .into_iter()
    .enumerate()
    .map(|(i, role)| GraphPort {
        id: i as PortId,
        role,
        mac: MacAddr([0x22, 0x22, 0x22, 0x22, 0x22, i as u8]),
    })
    .collect();
    let cfg = GraphConfig {
        host_underlay: HOST_UL,
        burst_size: 64,
        ..GraphConfig::default()
    };
    let graph = Graph::new(cfg, &gports).expect("a graph with private flow tables");
    let mut ports = PortSet::new();
    for g in &gports {
        let name = format!("p{}", g.id);
        if g.id == PF0 {
            ports.insert(
                g.id,
                Box::new(TimedPort {
                    inner: MemoryPort::generator(&name, g.mac, &tunnel_frame()),
                    meter: Arc::clone(meter),
                }),
            );
        } else {
            ports.insert(
                g.id,
                Box::new(SinkPort(MemoryPort::generator(&name, g.mac, &[0; 60]))),
            );
        }
    }
    Datapath::new(graph, ports, Instant::now())
}

type Results = BTreeMap<&'static str, Vec<(f64, f64, f64)>>;

struct Bench {
    rt: tokio::runtime::Runtime,
    meter: Arc<Meter>,
    results: Results,
}

impl Bench {
    /// Runs `call`, recording (longest wall gap, longest CPU gap, call latency) in µs.
    fn measure<F: std::future::Future>(&mut self, case: &'static str, call: F) -> F::Output {
        self.meter.reset();
        let t = Instant::now();
        let out = self.rt.block_on(call);
        let latency = t.elapsed().as_secs_f64() * 1e6;
        let (wall, cpu) = self.meter.take();
        self.results
            .entry(case)
            .or_default()
            .push((wall, cpu, latency));
        out
    }
}

fn ok<T>(r: Result<tonic::Response<T>, tonic::Status>) -> T {
    r.unwrap().into_inner()
}

fn code(status: Option<pb::Status>) -> u32 {
    status.map_or(u32::MAX, |s| s.code)
}

fn fill_routes(b: &mut Bench, svc: &DpService<WorkerHandle>) {
    b.meter.reset();
    for i in 0..ROUTES {
        let r =
            b.rt.block_on(svc.create_route(Request::new((&route(i)).into())));
        assert_eq!(code(ok(r).status), 0);
    }
    let (wall, cpu) = b.meter.take();
    b.results
        .entry("CreateRoute x262144 (longest gap of all)")
        .or_default()
        .push((wall, cpu, 0.0));
}

/// vm1 again, and its 65,536 rules created one call at a time.
fn fill_rules(b: &mut Bench, svc: &DpService<WorkerHandle>) {
    let vm1 = iface("vm1", "net_tap2", 100, VM1_IP, VM1_UL);
    let r =
        b.rt.block_on(svc.create_interface(Request::new((&vm1).into())));
    assert_eq!(code(ok(r).status), 0);
    b.meter.reset();
    for i in 1..=RULES {
        let r =
            b.rt.block_on(svc.create_firewall_rule(Request::new((&rule(i)).into())));
        assert_eq!(code(ok(r).status), 0);
    }
    let (wall, cpu) = b.meter.take();
    b.results
        .entry("CreateFirewallRule x65536 (longest gap of all)")
        .or_default()
        .push((wall, cpu, 0.0));
}

fn round(results: Results) -> Results {
    let meter = Arc::new(Meter::new());
    let t = Instant::now();
    let dp = Dataplane::with_packets(state(), datapath(&meter));
    eprintln!("setup: {:.1} s", t.elapsed().as_secs_f64());
    let (worker, handle) = Worker::spawn(dp).unwrap();
    handle.exec_blocking(|dp| dp.become_active()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let svc = DpService::new(handle, HOST_UL);
    let mut b = Bench { rt, meter, results };
    std::thread::sleep(Duration::from_millis(100));
    b.measure("baseline: packets only, 200 ms", async {
        tokio::time::sleep(Duration::from_millis(200)).await
    });
    let init = b.measure("Initialize (262144 routes)", async {
        ok(svc.initialize(Request::new(pb::InitializeRequest {})).await)
    });
    assert_eq!(code(init.status), 0);
    fill_routes(&mut b, &svc);

    for _ in 0..REPEAT {
        let list = b.measure("ListRoutes (262144 routes)", async {
            ok(svc
                .list_routes(Request::new(pb::ListRoutesRequest { vni: 100 }))
                .await)
        });
        assert_eq!(list.routes.len(), ROUTES as usize);
    }
    for _ in 0..REPEAT {
        let list = b.measure("ListFirewallRules (65535 rules)", async {
            ok(svc
                .list_firewall_rules(Request::new(pb::ListFirewallRulesRequest {
                    interface_id: b"vm1".to_vec(),
                }))
                .await)
        });
        assert_eq!(list.rules.len(), RULES as usize - 1);
    }
    let last = rule(RULES);
    let last_ref = FirewallRuleRef {
        interface_id: "vm1".into(),
        rule_id: last.rule.id.clone(),
    };
    for _ in 0..REPEAT {
        let created = b.measure("CreateFirewallRule (the 65536th)", async {
            ok(svc.create_firewall_rule(Request::new((&last).into())).await)
        });
        assert_eq!(code(created.status), 0);
        let got = b.measure("GetFirewallRule (of 65536)", async {
            ok(svc
                .get_firewall_rule(Request::new((&last_ref).into()))
                .await)
        });
        assert_eq!(code(got.status), 0);
        let deleted = b.measure("DeleteFirewallRule (the 65536th)", async {
            ok(svc
                .delete_firewall_rule(Request::new((&last_ref).into()))
                .await)
        });
        assert_eq!(code(deleted.status), 0);
    }
    let reset = b.measure("ResetVni (262144 routes)", async {
        let q = VniQuery {
            vni: 100,
            vni_type: VniType::Both,
        };
        ok(svc.reset_vni(Request::new((&q).into())).await)
    });
    assert_eq!(code(reset.status), 0);
    fill_routes(&mut b, &svc);
    let del = b.measure("DeleteInterface (65535 rules)", async {
        ok(svc
            .delete_interface(Request::new(pb::DeleteInterfaceRequest {
                interface_id: b"vm1".to_vec(),
            }))
            .await)
    });
    assert_eq!(code(del.status), 0);
    let del = b.measure("DeleteInterface (last of a VNI, 262144 routes)", async {
        ok(svc
            .delete_interface(Request::new(pb::DeleteInterfaceRequest {
                interface_id: b"vm2".to_vec(),
            }))
            .await)
    });
    assert_eq!(code(del.status), 0);
    fill_rules(&mut b, &svc);
    b.measure("baseline: packets only, 200 ms", async {
        tokio::time::sleep(Duration::from_millis(200)).await
    });

    drop(svc);
    let Bench { rt, results, .. } = b;
    rt.shutdown_timeout(Duration::from_secs(1));
    let dp = worker.stop().unwrap();
    let forwarded = dp
        .packets
        .as_ref()
        .and_then(|p| p.ports.stats().find(|(id, _)| *id == VF2))
        .map_or(0, |(_, s)| s.tx_packets);
    assert!(forwarded > 0, "no packet reached vm3");
    results
}

fn main() {
    // `cargo test --benches` runs this too: one quick look only then
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rounds: usize = std::env::var("WORKER_PAUSE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut results = Results::new();
    for r in 0..rounds {
        eprintln!("round {}/{rounds}", r + 1);
        results = round(results);
    }
    println!(
        "{:<48} {:>5} {:>14} {:>14} {:>14} {:>12}",
        "case (medians over all samples)",
        "n",
        "gap wall µs",
        "gap CPU µs",
        "max CPU µs",
        "call µs"
    );
    for (case, samples) in &results {
        let wall = median(samples.iter().map(|s| s.0).collect());
        let cpu = median(samples.iter().map(|s| s.1).collect());
        let max_cpu = samples.iter().map(|s| s.1).fold(0.0, f64::max);
        let lat = median(samples.iter().map(|s| s.2).collect());
        println!(
            "{case:<48} {:>5} {wall:>14.1} {cpu:>14.1} {max_cpu:>14.1} {lat:>12.1}",
            samples.len()
        );
    }
    for (case, samples) in &results {
        let wall = median(samples.iter().map(|s| s.0).collect());
        let cpu = median(samples.iter().map(|s| s.1).collect());
        let lat = median(samples.iter().map(|s| s.2).collect());
        println!(
            "{{\"case\":\"{case}\",\"samples\":{},\"gap_wall_us\":{wall:.1},\"gap_cpu_us\":{cpu:.1},\"call_us\":{lat:.1}}}",
            samples.len()
        );
    }
}
