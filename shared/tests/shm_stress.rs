//! Stress test of the shared-memory table engine: one writer inserting, updating and
//! removing at full speed while three reader threads and a reader in another process
//! (this test binary re-executed) look keys up and sweep the table. Every value is
//! derived from its key and a generation, so any torn or misattributed read is caught.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpservice::shm::{Region, RegionBuilder, TableReader};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CHILD_ENV: &str = "DPSERVICE_SHM_STRESS_REGION";
const TABLE: &str = "stress";
const KEYS: u64 = 60_000;
const CAPACITY: u64 = 65_536;
/// Few buckets, so chains are several entries long and relinks race with walks.
const BUCKETS: u64 = 16_384;
const MAX_WRITER_OPS: u64 = 3_000_000;
const MAX_TIME: Duration = Duration::from_secs(20);

type Value = [u64; 8];

/// The value of `key` at `generation`: every word depends on both.
fn value_for(key: u64, generation: u64) -> Value {
    let mut v = [0u64; 8];
    for (i, w) in v.iter_mut().enumerate() {
        *w = key.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ generation.rotate_left(i as u32 * 7)
            ^ i as u64;
    }
    v[7] = generation;
    v
}

fn consistent(key: u64, value: &Value) -> bool {
    *value == value_for(key, value[7])
}

/// xorshift64*, deterministic per seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[derive(Debug, Default)]
struct ReaderCounts {
    lookups: u64,
    hits: u64,
    scanned: u64,
    bad: u64,
}

/// Lookups, and a sweep every 4096 of them, until `stop` says so.
fn read_until(
    reader: &TableReader<u64, Value>,
    seed: u64,
    stop: &dyn Fn() -> bool,
) -> ReaderCounts {
    let mut rng = Rng(seed | 1);
    let mut c = ReaderCounts::default();
    while !stop() {
        for _ in 0..4096 {
            let key = rng.next() % KEYS;
            c.lookups += 1;
            match reader.get(&key) {
                Ok(Some(v)) => {
                    c.hits += 1;
                    if !consistent(key, &v) {
                        c.bad += 1;
                    }
                }
                Ok(None) => {}
                // Contention is allowed to fail a lookup, not to return garbage.
                Err(_) => {}
            }
        }
        for (k, v) in reader.iter().take(20_000) {
            c.scanned += 1;
            if !consistent(k, &v) || k >= KEYS {
                c.bad += 1;
            }
        }
    }
    c
}

/// The re-executed test binary: reads until its stdin closes, then prints its counts.
fn child(path: &Path) -> TestResult {
    let region = Region::open(path)?;
    let reader = region.reader::<u64, Value>(TABLE)?;
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            stop.store(true, Ordering::Relaxed);
        })
    };
    let c = read_until(&reader, 0xc417d, &|| stop.load(Ordering::Relaxed));
    let _ = watcher.join();
    println!(
        "CHILD lookups={} hits={} scanned={} bad={}",
        c.lookups, c.hits, c.scanned, c.bad
    );
    Ok(())
}

fn parse_child(out: &str) -> Option<ReaderCounts> {
    let line = &out[out.find("CHILD ")?..];
    let line = line.lines().next()?;
    let mut c = ReaderCounts::default();
    for field in line.split_whitespace().skip(1) {
        let (name, value) = field.split_once('=')?;
        let value: u64 = value.parse().ok()?;
        match name {
            "lookups" => c.lookups = value,
            "hits" => c.hits = value,
            "scanned" => c.scanned = value,
            "bad" => c.bad = value,
            _ => return None,
        }
    }
    Some(c)
}

struct RemoveOnDrop(PathBuf);
impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn one_writer_against_reader_threads_and_a_reader_process() -> TestResult {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        return child(Path::new(&path));
    }
    let path = PathBuf::from(format!(
        "/dev/shm/dpservice_test_stress_{}",
        std::process::id()
    ));
    let _cleanup = RemoveOnDrop(path.clone());
    let mut builder = RegionBuilder::new();
    builder.table_with_buckets::<u64, Value>(TABLE, CAPACITY, BUCKETS)?;
    let region = builder.create(&path)?;
    let mut writer = region.writer::<u64, Value>(TABLE)?;

    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "--exact",
            "one_writer_against_reader_threads_and_a_reader_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stop = Arc::new(AtomicBool::new(false));
    let writer_ops = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..3u64)
        .map(|i| {
            let reader = writer.reader();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                read_until(&reader, 0x5eed + i, &|| stop.load(Ordering::Relaxed))
            })
        })
        .collect();

    let start = Instant::now();
    let mut model: HashMap<u64, u64> = HashMap::new();
    let mut rng = Rng(0x1234_5678);
    let mut ops = 0u64;
    while ops < MAX_WRITER_OPS && start.elapsed() < MAX_TIME {
        for _ in 0..1024 {
            ops += 1;
            let key = rng.next() % KEYS;
            match (rng.next() % 3, model.contains_key(&key)) {
                (0 | 1, false) => {
                    writer.insert(key, value_for(key, ops))?;
                    model.insert(key, ops);
                }
                (0, true) => {
                    assert!(writer.update(&key, |v| *v = value_for(key, ops)));
                    model.insert(key, ops);
                }
                (_, true) => {
                    let old = writer.remove(&key).ok_or("model says present")?;
                    assert_eq!(old[7], model.remove(&key).unwrap_or(u64::MAX));
                }
                (_, false) => assert!(writer.get(&key).is_none()),
            }
        }
        writer_ops.store(ops, Ordering::Relaxed);
    }
    let elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut totals = ReaderCounts::default();
    for r in readers {
        let c = r.join().map_err(|_| "reader thread panicked")?;
        assert!(
            c.lookups > 0 && c.hits > 0 && c.scanned > 0,
            "a reader made no progress: {c:?}"
        );
        totals.lookups += c.lookups;
        totals.hits += c.hits;
        totals.scanned += c.scanned;
        totals.bad += c.bad;
    }
    drop(child.stdin.take());
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out)?;
    }
    let status = child.wait()?;
    assert!(status.success(), "reader process failed: {status}\n{out}");
    let remote =
        parse_child(&out).ok_or_else(|| format!("no counts from the reader process:\n{out}"))?;
    eprintln!(
        "writer {ops} ops in {elapsed:?}; threads {} lookups ({} hits), {} scanned; \
         process {} lookups ({} hits), {} scanned",
        totals.lookups, totals.hits, totals.scanned, remote.lookups, remote.hits, remote.scanned
    );
    assert_eq!(totals.bad, 0, "reader threads saw inconsistent entries");
    assert_eq!(remote.bad, 0, "the reader process saw inconsistent entries");
    assert!(
        remote.lookups > 0 && remote.scanned > 0,
        "reader process made no progress: {remote:?}"
    );
    assert!(ops >= 100_000, "writer too slow to stress anything: {ops}");

    // Quiescent: the table is exactly the writer's model, seen from another mapping.
    let reader = Region::open(&path)?.reader::<u64, Value>(TABLE)?;
    assert_eq!(reader.len(), model.len());
    let mut seen = 0usize;
    for (k, v) in reader.iter() {
        assert_eq!(model.get(&k), Some(&v[7]), "key {k}");
        assert!(consistent(k, &v));
        seen += 1;
    }
    assert_eq!(seen, model.len());
    for key in 0..KEYS {
        assert_eq!(
            reader.get(&key)?.map(|v| v[7]),
            model.get(&key).copied(),
            "key {key}"
        );
    }
    Ok(())
}
