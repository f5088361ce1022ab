//! The shared-memory table engine against a process-local `HashMap` with foldhash, on
//! the realistic case: the conntrack table (850 000 capacity) holding 500 000 flows.
//!
//! Criterion measures lookup hit, lookup miss (writer and reader) and insert+remove
//! (writer); afterwards a same-run comparison prints median ns/op of each against the
//! baseline and the ratio. Reproduce: `cargo bench -p dpservice-shared --bench shm_table`.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use dpservice::shm::catalogue::{Catalogue, Conntrack, FlowEntry, FlowKey};
use dpservice::shm::{RegionBuilder, TableReader, TableWriter};

const FLOWS: usize = 500_000;

type Baseline = HashMap<FlowKey, FlowEntry, foldhash::fast::RandomState>;

fn flow_key(i: u64) -> FlowKey {
    let mut key = FlowKey {
        proto: 6,
        port_dst: 443,
        src: (i % 60_000) as u16,
        vni: 100 + (i % 7) as u32,
        ..bytemuck::Zeroable::zeroed()
    };
    key.l3_dst[..4].copy_from_slice(&(0x0a64_0000u32 + (i >> 16) as u32).to_le_bytes());
    key.l3_src[..4].copy_from_slice(&(0x2d56_0000u32 + (i & 0xffff) as u32).to_le_bytes());
    key
}

fn flow_entry(i: u64) -> FlowEntry {
    FlowEntry {
        port_id: (i % 64) as u16,
        tcp_state: 3,
        flags: 0x20,
        timeout_s: 86_400,
        route_gen: 0,
        last_seen_ns: i,
        flow_hash: i as u32,
        ..bytemuck::Zeroable::zeroed()
    }
}

/// Keys in a scrambled order, so lookups do not walk memory sequentially.
fn scrambled(range: std::ops::Range<u64>) -> Vec<FlowKey> {
    let n = range.end - range.start;
    (0..n)
        .map(|i| flow_key(range.start + (i * 7_919) % n))
        .collect()
}

struct Setup {
    writer: TableWriter<FlowKey, FlowEntry>,
    reader: TableReader<FlowKey, FlowEntry>,
    baseline: Baseline,
    hits: Vec<FlowKey>,
    misses: Vec<FlowKey>,
    _region: dpservice::shm::WritableRegion,
}

fn setup() -> Result<Setup, Box<dyn std::error::Error>> {
    let path = format!("/dev/shm/dpservice_bench_{}", std::process::id());
    let mut builder = RegionBuilder::new();
    Catalogue::standard(&mut builder, 0)?;
    let region = builder.create(std::path::Path::new(&path))?;
    let mut writer = Catalogue::writer::<Conntrack>(&region)?;
    let mut baseline = Baseline::default();
    for i in 0..FLOWS as u64 {
        writer.insert(flow_key(i), flow_entry(i))?;
        baseline.insert(flow_key(i), flow_entry(i));
    }
    let reader = Catalogue::reader::<Conntrack>(&region.region())?;
    Ok(Setup {
        reader,
        writer,
        baseline,
        hits: scrambled(0..FLOWS as u64),
        misses: scrambled(1 << 40..(1 << 40) + FLOWS as u64),
        _region: region,
    })
}

/// Runs `op` over the keys round-robin.
fn cycle<'a>(keys: &'a [FlowKey]) -> impl FnMut() -> &'a FlowKey {
    let mut i = 0;
    move || {
        i = if i + 1 == keys.len() { 0 } else { i + 1 };
        &keys[i]
    }
}

fn criterion_runs(c: &mut Criterion, s: &mut Setup) {
    let mut g = c.benchmark_group("lookup_hit");
    let mut k = cycle(&s.hits);
    g.bench_function("shm_writer", |b| b.iter(|| black_box(s.writer.get(k()))));
    g.bench_function("shm_reader", |b| {
        b.iter(|| black_box(s.reader.get(k()).ok()))
    });
    g.bench_function("hashmap", |b| {
        b.iter(|| black_box(s.baseline.get(k()).copied()))
    });
    g.finish();
    let mut g = c.benchmark_group("lookup_miss");
    let mut k = cycle(&s.misses);
    g.bench_function("shm_writer", |b| b.iter(|| black_box(s.writer.get(k()))));
    g.bench_function("shm_reader", |b| {
        b.iter(|| black_box(s.reader.get(k()).ok()))
    });
    g.bench_function("hashmap", |b| {
        b.iter(|| black_box(s.baseline.get(k()).copied()))
    });
    g.finish();
    let mut g = c.benchmark_group("insert_remove");
    let misses = s.misses.clone();
    let mut k = cycle(&misses);
    let entry = flow_entry(1);
    g.bench_function("shm_writer", |b| {
        b.iter(|| {
            let key = *k();
            let _ = black_box(s.writer.insert(key, entry));
            black_box(s.writer.remove(&key))
        })
    });
    g.bench_function("hashmap", |b| {
        b.iter(|| {
            let key = *k();
            black_box(s.baseline.insert(key, entry));
            black_box(s.baseline.remove(&key))
        })
    });
    g.finish();
}

/// Median ns per op of `rounds` timed passes of `ops` calls.
fn median_ns(rounds: usize, ops: usize, mut op: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..ops {
                op();
            }
            start.elapsed().as_nanos() as f64 / ops as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[rounds / 2]
}

fn ratios(s: &mut Setup) {
    const ROUNDS: usize = 11;
    const OPS: usize = 500_000;
    let mut rows = Vec::new();
    for (what, keys) in [
        ("lookup_hit", s.hits.clone()),
        ("lookup_miss", s.misses.clone()),
    ] {
        let mut k = cycle(&keys);
        let base = median_ns(ROUNDS, OPS, || {
            black_box(s.baseline.get(k()).copied());
        });
        let writer = median_ns(ROUNDS, OPS, || {
            black_box(s.writer.get(k()));
        });
        let reader = median_ns(ROUNDS, OPS, || {
            black_box(s.reader.get(k()).ok());
        });
        rows.push((what, "shm_writer", writer, base));
        rows.push((what, "shm_reader", reader, base));
    }
    let misses = s.misses.clone();
    let mut k = cycle(&misses);
    let entry = flow_entry(1);
    let base = median_ns(ROUNDS, OPS, || {
        let key = *k();
        black_box(s.baseline.insert(key, entry));
        black_box(s.baseline.remove(&key));
    });
    let writer = median_ns(ROUNDS, OPS, || {
        let key = *k();
        let _ = black_box(s.writer.insert(key, entry));
        black_box(s.writer.remove(&key));
    });
    rows.push(("insert_remove", "shm_writer", writer, base));
    println!("\nsame-run medians ({ROUNDS} rounds of {OPS} ops, {FLOWS} flows in an 850000 table)");
    println!(
        "{:<14} {:<11} {:>9} {:>12} {:>6}",
        "op", "side", "ns/op", "hashmap ns", "ratio"
    );
    for (what, side, ns, base) in rows {
        println!(
            "{what:<14} {side:<11} {ns:>9.1} {base:>12.1} {:>6.2}",
            ns / base
        );
    }
}

fn main() {
    let mut s = match setup() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot set up the benchmark: {e}");
            std::process::exit(1);
        }
    };
    // `SHM_BENCH_RATIOS_ONLY=1` skips criterion (for callgrind or a quick look).
    if std::env::var_os("SHM_BENCH_RATIOS_ONLY").is_none() {
        let mut c = Criterion::default()
            .sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .configure_from_args();
        criterion_runs(&mut c, &mut s);
        c.final_summary();
    }
    ratios(&mut s);
}
