//! How fast dpservice-dump writes entries: text lines, classic pcap and pcapng of
//! 64-byte frames into /dev/null, each flushed per batch of 64 as the tool does.
//!
//! `cargo bench -p dpservice-dump --bench pcap_write`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dpservice::shm::mirror::{EntryHeader, EventKind, NONE16};
use dpservice_dump::output::{Format, Names, Output};

const BATCH: u64 = 64;

fn frame() -> Vec<u8> {
    let mut f = vec![
        0x66, 0x66, 0x66, 0x66, 0x66, 0x00, 0x52, 0x54, 0, 0, 0, 1, 0x08, 0x00,
    ];
    f.extend([
        0x45, 0, 0, 50, 0, 0, 0, 0, 64, 17, 0, 0, 10, 100, 1, 1, 10, 100, 1, 2,
    ]);
    f.extend([0x0f, 0xa0, 0, 80, 0, 30, 0, 0]);
    f.resize(64, 0);
    f
}

fn bench(c: &mut Criterion) {
    let names = Names {
        nodes: vec!["rx-2-0".into(), "cls".into(), "tx-3".into()],
        reasons: vec![],
    };
    let header = EntryHeader {
        kind: EventKind::Next,
        timestamp_ns: 1_765_000_000_123_456_789,
        pkt_id: 1337,
        in_port: 2,
        out_port: NONE16,
        src: 0,
        dst: 1,
        drop_reason: NONE16,
        orig_len: 64,
        cap_len: 64,
    };
    let data = frame();
    let mut group = c.benchmark_group("dump_output");
    group.throughput(Throughput::Elements(BATCH));
    for (name, format) in [
        ("text", Format::Text),
        ("pcap", Format::Pcap),
        ("pcapng", Format::PcapNg),
    ] {
        // text goes to stdout in the tool; /dev/null through the pcap path measures the
        // formatting, not the terminal
        let path = Path::new("/dev/null");
        let mut out = Output::open(
            if format == Format::Text {
                Format::Pcap
            } else {
                format
            },
            Some(path),
        )
        .unwrap();
        if format == Format::Text {
            group.bench_function(name, |b| {
                b.iter(|| {
                    for _ in 0..BATCH {
                        black_box(dpservice_dump::summary::layers(&data));
                        black_box(names.ends(&header));
                    }
                })
            });
            continue;
        }
        group.bench_function(name, |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    out.write(&names, &header, &data).unwrap();
                }
                out.flush().unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
