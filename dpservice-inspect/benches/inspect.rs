//! dpservice-inspect's costs, each with a baseline measured in the same run:
//!
//! - `json_dump`: `-t conntrack --dump -o json` of 850 000 entries into a sink, against
//!   a bare sweep of the same table (the read cost without formatting);
//! - `tui_frame`: one browser refresh and draw (200×50) over 1 000 000 rows, against
//!   the same over 1 000 rows (the frame cost must not grow with the table);
//! - `writer_with_reader`: the table writer's upserts (the packet worker's conntrack
//!   work) while another thread dumps the table as JSON in a loop, against no reader.
//!
//! Reproduce: `cargo bench -p dpservice-inspect --bench inspect`. After criterion's
//! figures a summary prints the medians and ratios.

use std::hint::black_box;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::Criterion;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use dpservice::shm::catalogue::{Catalogue, Conntrack, FlowEntry};
use dpservice::shm::Region;
use dpservice_inspect::fixture::{bulk_flow_key, Fixture};
use dpservice_inspect::record::Kind;
use dpservice_inspect::tui::app::App;
use dpservice_inspect::tui::{refresh, view, Sources};
use dpservice_inspect::upstream::{print_dump, Format};
use dpservice_inspect::values::monotonic_now_ns;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn region_with(fixture: &Fixture) -> Result<Region, Error> {
    Ok(Region::open(&fixture.instance.shm_path())?)
}

fn json_dump(region: &Region) -> Result<(), Error> {
    print_dump(region, Kind::Conntrack, None, Format::Json, &mut io::sink())?;
    Ok(())
}

fn sweep(region: &Region) -> Result<usize, Error> {
    let reader = Catalogue::reader::<Conntrack>(region)?;
    let mut n = 0;
    for entry in reader.iter() {
        black_box(entry);
        n += 1;
    }
    Ok(n)
}

/// A browser over `fixture`'s conntrack table, paged down once.
fn tui(fixture: &Fixture) -> Result<(App, Sources, Terminal<TestBackend>), Error> {
    let mut app = App::new("bench", Some(Kind::Conntrack));
    app.page = view::page_rows(50);
    let mut sources = Sources::new(&fixture.instance);
    refresh(&mut app, &mut sources);
    let table = sources.region.table(Kind::Conntrack);
    app.key(KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE), table);
    let terminal = Terminal::new(TestBackend::new(200, 50))?;
    Ok((app, sources, terminal))
}

fn frame(app: &mut App, sources: &mut Sources, terminal: &mut Terminal<TestBackend>) {
    refresh(app, sources);
    let _ = terminal.draw(|f| view::draw(f, app));
}

/// Upserts per second of the writer over `ops` operations, with or without a reader
/// thread dumping the table as JSON meanwhile.
fn writer_rate(fixture: &Fixture, ops: u64, with_reader: bool) -> Result<f64, Error> {
    let mut writer = Catalogue::writer::<Conntrack>(&fixture.region)?;
    let stop = Arc::new(AtomicBool::new(false));
    let reader = with_reader.then(|| {
        let stop = Arc::clone(&stop);
        let path = fixture.instance.shm_path();
        thread::spawn(move || -> Result<u64, Error> {
            let region = Region::open(&path)?;
            let mut dumps = 0;
            while !stop.load(Ordering::Relaxed) {
                json_dump(&region)?;
                dumps += 1;
            }
            Ok(dumps)
        })
    });
    // let the reader start its first sweep
    thread::sleep(Duration::from_millis(20));
    let mut entry: FlowEntry = bytemuck::Zeroable::zeroed();
    let started = Instant::now();
    let mut written = Ok(());
    for i in 0..ops {
        // refresh existing flows, as the worker does per packet
        entry.last_seen_ns = i;
        written = writer.upsert(bulk_flow_key((i % 850_000) as u32), entry);
        if written.is_err() {
            break;
        }
    }
    let rate = ops as f64 / started.elapsed().as_secs_f64();
    // stop the reader on every path, so the fixtures are dropped (and removed) after it
    stop.store(true, Ordering::Relaxed);
    if let Some(r) = reader {
        r.join().map_err(|_| "reader thread panicked")??;
    }
    written?;
    Ok(rate)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Error> {
    let now = monotonic_now_ns();
    let full = Fixture::new(-1)?;
    full.fill_conntrack(850_000, now)?;
    let region = region_with(&full)?;
    let million = Fixture::conntrack_only(1_000_000)?;
    million.fill_conntrack(1_000_000, now)?;
    let thousand = Fixture::conntrack_only(1_000)?;
    thousand.fill_conntrack(1_000, now)?;

    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    c.bench_function("json_dump_850k", |b| b.iter(|| json_dump(&region)));
    c.bench_function("sweep_850k (baseline)", |b| b.iter(|| sweep(&region)));
    let (mut app, mut sources, mut terminal) = tui(&million)?;
    c.bench_function("tui_frame_1M", |b| {
        b.iter(|| frame(&mut app, &mut sources, &mut terminal))
    });
    let (mut app_k, mut sources_k, mut terminal_k) = tui(&thousand)?;
    c.bench_function("tui_frame_1k (baseline)", |b| {
        b.iter(|| frame(&mut app_k, &mut sources_k, &mut terminal_k))
    });
    c.final_summary();

    // same-run summary: medians of 5 and ratios
    let time = |f: &mut dyn FnMut()| {
        median(
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    let dump = time(&mut || {
        let _ = json_dump(&region);
    });
    let swept = time(&mut || {
        let _ = sweep(&region);
    });
    println!(
        "json_dump_850k: median {:.1} ms = {:.2} M entries/s; sweep (baseline) {:.1} ms = {:.2} M entries/s; ratio dump/sweep time {:.2}",
        dump * 1e3,
        0.85 / dump,
        swept * 1e3,
        0.85 / swept,
        dump / swept
    );
    let big = time(&mut || frame(&mut app, &mut sources, &mut terminal));
    let small = time(&mut || frame(&mut app_k, &mut sources_k, &mut terminal_k));
    println!(
        "tui_frame: 1M rows median {:.3} ms, 1k rows (baseline) {:.3} ms, ratio {:.2}",
        big * 1e3,
        small * 1e3,
        big / small
    );
    let ops = 5_000_000;
    let mut alone = Vec::new();
    let mut shared = Vec::new();
    for _ in 0..5 {
        alone.push(writer_rate(&full, ops, false)?);
        shared.push(writer_rate(&full, ops, true)?);
    }
    let (alone, shared) = (median(alone), median(shared));
    println!(
        "writer upserts: no reader {:.2} Mops/s, with a JSON-dumping reader {:.2} Mops/s, ratio {:.2}",
        alone / 1e6,
        shared / 1e6,
        shared / alone
    );
    Ok(())
}
