//! Scrape latency of `/metrics` with 128 interfaces (130 ethdev ports, as a host with 128
//! VFs has), end to end over TCP loopback: HTTP request → telemetry poll → render → reply.
//!
//! The telemetry side is a stand-in server on a SEQPACKET socket in a temporary
//! directory that answers every request with a pre-rendered message shaped like the
//! daemon's (so the daemon's own answer time is not part of the figures). Measured in the
//! same run:
//! - `cached` (baseline): upstream's timer mode, a scrape serves the last poll's text;
//! - `on_scrape`: `--metrics=native`, every scrape runs the whole poll cycle
//!   (heap, 130 × info/link/xstats, per-interface, graph, tables, drops);
//! - `poll_only`: the poll cycle alone, without HTTP and rendering.
//!
//! Criterion prints means; the median and p99 of single scrapes are printed at the end.
//! `cargo bench -p dpservice-exporter --bench scrape`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use criterion::Criterion;
use dpservice::telemetry::TelemetryClient;
use dpservice_exporter::args::MetricSet;
use dpservice_exporter::link::Link;
use dpservice_exporter::poll::{poll, Requests};
use dpservice_exporter::server;
use dpservice_exporter::source::{Collector, MetricsSource};
use rustix::net::{
    accept, bind, listen, recv, send, socket, AddressFamily, RecvFlags, SendFlags, SocketAddrUnix,
    SocketType,
};
use serde_json::{json, Map, Value};

const INTERFACES: usize = 128;
const PORTS: usize = INTERFACES + 2;

fn object(pairs: impl IntoIterator<Item = (String, Value)>) -> Value {
    Value::Object(pairs.into_iter().collect::<Map<_, _>>())
}

/// Every answer a poll cycle asks for, keyed by the request text.
fn answers() -> HashMap<String, String> {
    let ids: Vec<String> = (0..INTERFACES)
        .map(|i| format!("4a7c5e0e-0000-4000-8000-{i:012}"))
        .collect();
    let per_iface = object(ids.iter().map(|id| (id.clone(), json!(7))));
    let mut nodes: Vec<String> = (0..PORTS)
        .flat_map(|p| [format!("rx-{p}-0"), format!("tx-{p}")])
        .collect();
    nodes.extend(
        [
            "arp",
            "cls",
            "conntrack",
            "dhcp",
            "dhcpv6",
            "dnat",
            "drop",
            "firewall",
            "lb",
        ]
        .map(String::from),
    );
    let graph = object(nodes.chunks(256).enumerate().map(|(i, block)| {
        (
            format!("Node_{}_to_{}", i * 256, i * 256 + 255),
            object(block.iter().map(|n| (n.clone(), json!(123_456_789u64)))),
        )
    }));
    let xstats = object(
        [
            "rx_good_packets",
            "tx_good_packets",
            "rx_good_bytes",
            "tx_good_bytes",
            "rx_missed_errors",
            "rx_errors",
            "tx_errors",
            "rx_mbuf_allocation_errors",
            "rx_q0_packets",
            "rx_q0_bytes",
            "rx_q0_errors",
            "tx_q0_packets",
            "tx_q0_bytes",
        ]
        .map(|s| (s.to_owned(), json!(987_654_321u64))),
    );
    let tables = object(
        [
            "conntrack_table",
            "interface_table",
            "snat_table",
            "dnat_table",
            "vni_table",
        ]
        .map(|t| (t.to_owned(), json!({"capacity": 850000, "entries": 1234}))),
    );
    let mut a: Vec<(String, Value)> = vec![
        ("/eal/heap_list".into(), json!([0])),
        (
            "/eal/heap_info,0".into(),
            json!({"Heap_id":0,"Name":"socket_0","Heap_size":1073741824u64,"Free_size":1000,
                   "Alloc_size":2000,"Greatest_free_size":900,"Alloc_count":40,"Free_count":3}),
        ),
        ("/ethdev/list".into(), json!((0..PORTS).collect::<Vec<_>>())),
        ("/dp_service/nat/used_port_count".into(), per_iface.clone()),
        ("/dp_service/virtsvc/used_port_count".into(), Value::Null),
        ("/dp_service/firewall/rule_count".into(), per_iface),
        ("/dp_service/graph/call_count".into(), graph.clone()),
        ("/dp_service/graph/obj_count".into(), graph.clone()),
        ("/dp_service/graph/cycle_count".into(), graph),
        ("/dp_service/table/saturation".into(), tables),
        (
            "/dp_service/graph/drop_count".into(),
            json!({"no_route": 5, "bad_checksum": 1, "firewall": 9}),
        ),
    ];
    for p in 0..PORTS {
        a.push((
            format!("/ethdev/info,{p}"),
            json!({"name": format!("net_tap{p}")}),
        ));
        a.push((
            format!("/ethdev/link_status,{p}"),
            json!({"status":"UP","speed":10000,"duplex":"full-duplex"}),
        ));
        a.push((format!("/ethdev/xstats,{p}"), xstats.clone()));
    }
    a.into_iter()
        .map(|(cmd, v)| {
            let key = cmd.split(',').next().unwrap().to_owned();
            let text = serde_json::to_string(&object([(key, v)])).unwrap();
            assert!(text.len() <= 16384, "{cmd}: {} bytes", text.len());
            (cmd, text)
        })
        .collect()
}

/// The stand-in telemetry server: one thread per client.
fn telemetry_server(dir: &Path) -> PathBuf {
    let path = dir.join("dpdk_telemetry.v2");
    let fd = socket(AddressFamily::UNIX, SocketType::SEQPACKET, None).unwrap();
    bind(&fd, &SocketAddrUnix::new(&path).unwrap()).unwrap();
    listen(&fd, 16).unwrap();
    let answers = Arc::new(answers());
    std::thread::spawn(move || loop {
        let client: OwnedFd = accept(&fd).unwrap();
        let answers = Arc::clone(&answers);
        std::thread::spawn(move || {
            let greeting = r#"{"version":"bench","pid":1,"max_output_len":16384}"#;
            send(&client, greeting.as_bytes(), SendFlags::NOSIGNAL).unwrap();
            let mut buf = [0u8; 1024];
            while let Ok((n, _)) = recv(&client, &mut buf, RecvFlags::empty()) {
                if n == 0 {
                    break;
                }
                let req = std::str::from_utf8(&buf[..n]).unwrap();
                let null = format!("{{\"{}\":null}}", req.split(',').next().unwrap());
                let answer = answers.get(req).unwrap_or(&null);
                if send(&client, answer.as_bytes(), SendFlags::NOSIGNAL).is_err() {
                    break;
                }
            }
        });
    });
    path
}

/// An exporter HTTP server for `source` on loopback; its port.
fn http_server(source: MetricsSource) -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let source = Arc::new(source);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(server::serve(listener, source)).unwrap();
    });
    port
}

fn scrape(port: u16) -> usize {
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: bench\r\n\r\n")
        .unwrap();
    let mut out = Vec::with_capacity(256 * 1024);
    s.read_to_end(&mut out).unwrap();
    assert!(out.starts_with(b"HTTP/1.0 200") || out.starts_with(b"HTTP/1.1 200"));
    out.len()
}

fn collector(socket: &Path, set: MetricSet) -> Collector {
    Collector {
        link: Link::new(
            socket.to_owned(),
            Requests {
                native: set.native(),
            },
        ),
        set,
        hostname: "bench".into(),
    }
}

fn percentiles(name: &str, mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let (p50, p99) = (at(0.5), at(0.99));
    println!(
        "{{\"bench\":\"{name}\",\"samples\":{},\"median_us\":{:.1},\"p99_us\":{:.1}}}",
        samples.len(),
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
    (p50, p99)
}

fn main() {
    let dir = std::env::temp_dir().join(format!("dpexp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = telemetry_server(&dir);

    let cached = MetricsSource::Polled {
        latest: RwLock::new(Err(String::new())),
        collector: Mutex::new(collector(&socket, MetricSet::Upstream)),
    };
    assert!(
        cached.refresh(),
        "stand-in telemetry server does not answer"
    );
    let cached_port = http_server(cached);
    let fresh_port = http_server(MetricsSource::OnScrape(Mutex::new(collector(
        &socket,
        MetricSet::Native,
    ))));
    let mut client = TelemetryClient::connect(&socket).unwrap();
    let bytes = (scrape(cached_port), scrape(fresh_port));
    println!(
        "response sizes: cached {} B, on_scrape {} B",
        bytes.0, bytes.1
    );

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(50)
        .measurement_time(Duration::from_secs(5));
    let mut g = c.benchmark_group("scrape_128_interfaces");
    g.bench_function("cached", |b| b.iter(|| scrape(cached_port)));
    g.bench_function("on_scrape", |b| b.iter(|| scrape(fresh_port)));
    g.bench_function("poll_only", |b| {
        b.iter(|| poll(&mut client, Requests { native: true }).unwrap())
    });
    g.finish();
    c.final_summary();

    // single-scrape distribution, interleaved so machine load hits all alike
    let rounds = 500;
    let (mut cached, mut fresh, mut polls) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        scrape(cached_port);
        cached.push(t.elapsed());
        let t = Instant::now();
        scrape(fresh_port);
        fresh.push(t.elapsed());
        let t = Instant::now();
        poll(&mut client, Requests { native: true }).unwrap();
        polls.push(t.elapsed());
    }
    let (c50, c99) = percentiles("cached", cached);
    let (f50, f99) = percentiles("on_scrape", fresh);
    percentiles("poll_only", polls);
    println!(
        "ratio on_scrape/cached: median {:.1}x, p99 {:.1}x",
        f50.as_secs_f64() / c50.as_secs_f64(),
        f99.as_secs_f64() / c99.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
