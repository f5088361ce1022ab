use std::sync::atomic::{AtomicU64, Ordering};

use super::*;
use crate::shm::region::RegionBuilder;
use crate::shm::test_support::ShmPath;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn header(kind: EventKind, id: u32) -> EntryHeader {
    EntryHeader {
        kind,
        timestamp_ns: 0,
        pkt_id: id,
        in_port: 1,
        out_port: NONE16,
        src: 3,
        dst: 4,
        drop_reason: NONE16,
        orig_len: 0,
        cap_len: 0,
    }
}

fn words(n: usize) -> Vec<AtomicU64> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

#[test]
fn entries_round_trip_in_order_and_a_full_ring_counts_losses() {
    let g = RingGeometry {
        rings: 1,
        slots: 2,
        snap_len: 64,
    };
    let ctrl = words(CTRL_WORDS);
    let slots = words(2 * g.slot_words());
    let r = RingWords {
        ctrl: &ctrl,
        data: &slots,
        slot_words: g.slot_words(),
    };
    let frame: Vec<u8> = (0..70u8).collect();
    assert!(push(&r, &header(EventKind::Rx, 1), &frame[..13]));
    assert!(push(&r, &header(EventKind::Next, 2), &frame));
    assert!(!push(&r, &header(EventKind::Tx, 3), &frame), "full");
    assert_eq!(ctrl[LOST].load(Ordering::Relaxed), 1);
    let mut data = Vec::new();
    let first = pop(&r, &mut data).flatten();
    assert_eq!(
        first.map(|h| (h.kind, h.pkt_id, h.cap_len)),
        Some((EventKind::Rx, 1, 13))
    );
    assert_eq!(data, &frame[..13]);
    let second = pop(&r, &mut data).flatten();
    assert_eq!(
        second.map(|h| (h.pkt_id, h.cap_len)),
        Some((2, 64)),
        "cut at snap length"
    );
    assert_eq!(data, &frame[..64]);
    assert!(pop(&r, &mut data).is_none(), "empty");
    assert!(
        push(&r, &header(EventKind::Drop, 4), &frame[..1]),
        "room again"
    );
}

#[test]
fn a_tail_ahead_of_the_head_is_treated_as_full_not_as_room() {
    let g = RingGeometry {
        rings: 1,
        slots: 4,
        snap_len: 64,
    };
    let ctrl = words(CTRL_WORDS);
    let slots = words(4 * g.slot_words());
    let r = RingWords {
        ctrl: &ctrl,
        data: &slots,
        slot_words: g.slot_words(),
    };
    ctrl[TAIL].store(100, Ordering::Relaxed);
    assert!(!push(&r, &header(EventKind::Rx, 1), &[1, 2, 3]));
    // the consumer resynchronises on a head far behind
    ctrl[TAIL].store(0, Ordering::Relaxed);
    ctrl[HEAD].store(100, Ordering::Relaxed);
    let mut data = Vec::new();
    assert_eq!(pop(&r, &mut data), Some(None));
    assert_eq!(ctrl[TAIL].load(Ordering::Relaxed), 100);
}

#[test]
fn records_of_every_length_wrap_around_the_area_through_padding() {
    let g = RingGeometry {
        rings: 1,
        slots: 2,
        snap_len: 64,
    };
    let ctrl = words(CTRL_WORDS);
    let data = words(2 * g.slot_words());
    let r = RingWords {
        ctrl: &ctrl,
        data: &data,
        slot_words: g.slot_words(),
    };
    let mut buf = Vec::new();
    let mut queued = std::collections::VecDeque::new();
    let mut failed = 0;
    // lengths 0..=70 over many laps of the 24-word area: records land at every offset,
    // and those that would cross the end are written at the start behind a padding
    // word; a full ring takes the entry once the oldest are read
    for id in 0..300u32 {
        let len = (id * 7 % 71) as usize;
        let frame: Vec<u8> = (0..len).map(|i| (i as u32 + id) as u8).collect();
        while !push(&r, &header(EventKind::Rx, id), &frame) {
            failed += 1;
            assert!(!queued.is_empty(), "an empty ring takes any entry");
            let (want_id, want_len): (u32, usize) = queued.pop_front().unwrap_or_default();
            let h = pop(&r, &mut buf).flatten();
            assert_eq!(
                h.map(|h| (h.pkt_id, h.orig_len, usize::from(h.cap_len))),
                Some((want_id, 0, want_len.min(64))),
                "oldest first"
            );
            let want: Vec<u8> = (0..want_len.min(64))
                .map(|i| (i as u32 + want_id) as u8)
                .collect();
            assert_eq!(buf, want, "entry {want_id} intact");
        }
        queued.push_back((id, len));
    }
    assert!(failed > 50, "the ring was full often: {failed}");
    while let Some(Some(h)) = pop(&r, &mut buf) {
        assert_eq!(Some(h.pkt_id), queued.pop_front().map(|q| q.0));
    }
    assert!(queued.is_empty(), "all read");
    assert_eq!(
        ctrl[HEAD].load(Ordering::Relaxed),
        ctrl[TAIL].load(Ordering::Relaxed)
    );
}

#[test]
fn a_record_longer_than_what_was_published_makes_the_consumer_skip_to_the_head() {
    let g = RingGeometry {
        rings: 1,
        slots: 2,
        snap_len: 64,
    };
    let ctrl = words(CTRL_WORDS);
    let data = words(2 * g.slot_words());
    let r = RingWords {
        ctrl: &ctrl,
        data: &data,
        slot_words: g.slot_words(),
    };
    assert!(push(&r, &header(EventKind::Rx, 1), &[7; 16]));
    // a foreign writer claims 64 bytes in a 6-word record
    let w0 = data[0].load(Ordering::Relaxed);
    data[0].store(w0 & !0xFF_FF00 | 64 << 8, Ordering::Relaxed);
    let mut buf = Vec::new();
    assert_eq!(
        pop(&r, &mut buf),
        Some(None),
        "reported once as undecodable"
    );
    assert_eq!(ctrl[TAIL].load(Ordering::Relaxed), 6, "at the head");
    assert!(pop(&r, &mut buf).is_none());
}

fn region(
    tag: &str,
    rings: usize,
) -> Result<(ShmPath, WritableRegion), Box<dyn std::error::Error>> {
    let path = ShmPath::new(tag);
    let mut b = RegionBuilder::new();
    b.table::<u64, u64>("t", 4)?;
    b.mirror_rings(
        RINGS_NAME,
        RingGeometry {
            rings,
            slots: 8,
            snap_len: 128,
        },
    )?;
    let w = b.create(&path.0)?;
    Ok((path, w))
}

fn rings_of(path: &ShmPath) -> Result<Rings, MirrorError> {
    Rings::open_path(&path.0)
}

#[test]
fn rings_are_listed_in_the_directory_but_not_as_tables() -> TestResult {
    let (path, w) = region("mirror_dir", 2)?;
    let r = w.region();
    assert_eq!(r.stats().len(), 1, "only the hash table has statistics");
    let rings = r
        .tables()
        .iter()
        .find(|t| t.name == RINGS_NAME)
        .ok_or("no ring entry")?;
    assert_eq!(
        (rings.kind, rings.capacity, rings.bucket_count),
        (KIND_RINGS, 8, 2)
    );
    assert!(r.reader::<u64, u64>(RINGS_NAME).is_err(), "not a table");
    // a read-only mapping cannot consume
    let ro = crate::shm::Region::open(&path.0)?;
    assert!(matches!(
        RingSet::find(ro.shared(), RINGS_NAME),
        Err(MirrorError::ReadOnly)
    ));
    Ok(())
}

#[test]
fn nothing_is_recorded_until_a_consumer_attaches_and_only_what_it_asked_for() -> TestResult {
    let (path, w) = region("mirror_attach", 2)?;
    let mut p = producer(&w)?;
    p.publish_names(&["cls", "drop", "rx-0-0", "tx-0"], &["no_route"]);
    assert!(!p.refresh(), "nobody attached");
    let rings = rings_of(&path)?;
    assert_eq!(rings.node_names(), ["cls", "drop", "rx-0-0", "tx-0"]);
    assert_eq!(rings.reason_names(), ["no_route"]);
    let mut c = rings.attach(&CaptureSettings {
        drops: true,
        nodes: false,
        node_ids: None,
    })?;
    assert!(p.refresh());
    let rx = EntryHeader {
        src: NONE16,
        dst: 2,
        ..header(EventKind::Rx, 7)
    };
    p.record(&rx, &[0xAA; 20]);
    p.record(&header(EventKind::Next, 7), &[0xAA; 20]);
    p.record(&header(EventKind::Drop, 7), &[0xAB; 20]);
    let mut none = 0;
    c.read(100, |_, _| none += 1);
    assert_eq!(none, 0, "published in groups, not per entry");
    p.flush();
    let mut seen = Vec::new();
    c.read(100, |h, d| {
        seen.push((h.kind, h.pkt_id, h.orig_len, d.len(), h.timestamp_ns > 0))
    });
    assert_eq!(
        seen,
        [
            (EventKind::Rx, 7, 20, 20, true),
            (EventKind::Drop, 7, 20, 20, true)
        ],
        "no hand-overs without --nodes"
    );
    assert!(c.detach());
    assert!(!p.refresh(), "detached: off again");
    Ok(())
}

#[test]
fn node_filter_and_concurrent_consumers_each_get_their_own_copy() -> TestResult {
    let (path, w) = region("mirror_two", 2)?;
    let mut p = producer(&w)?;
    let rings = rings_of(&path)?;
    let mut all = rings.attach(&CaptureSettings {
        drops: false,
        nodes: true,
        node_ids: None,
    })?;
    let mut only3 = rings.attach(&CaptureSettings {
        drops: false,
        nodes: true,
        node_ids: Some(vec![3]),
    })?;
    assert!(matches!(
        rings.attach(&CaptureSettings::default()),
        Err(MirrorError::Busy(2))
    ));
    p.refresh();
    p.record(&header(EventKind::Next, 1), &[1; 10]); // from node 3
    p.record(
        &EntryHeader {
            src: 5,
            ..header(EventKind::Next, 2)
        },
        &[2; 10],
    );
    p.flush();
    let mut a = Vec::new();
    all.read(10, |h, _| a.push(h.pkt_id));
    let mut b = Vec::new();
    only3.read(10, |h, _| b.push(h.pkt_id));
    assert_eq!((a, b), (vec![1, 2], vec![1]));
    Ok(())
}

#[test]
fn tx_entries_appear_only_for_packets_the_port_took() -> TestResult {
    let (path, w) = region("mirror_tx", 1)?;
    let mut p = producer(&w)?;
    let rings = rings_of(&path)?;
    let mut c = rings.attach(&CaptureSettings::default())?;
    p.refresh();
    let frames = [[0u8; 8], [1; 8], [2; 8]];
    p.stage_tx_burst(
        &header(EventKind::Tx, 0),
        &(10..13u32).zip(frames.iter().map(|f| &f[..])),
    );
    let mut n = 0;
    c.read(10, |_, _| n += 1);
    assert_eq!(n, 0, "nothing visible before the port answered");
    p.commit_tx(2);
    let mut ids = Vec::new();
    let mut bytes = Vec::new();
    c.read(10, |h, d| {
        ids.push(h.pkt_id);
        bytes.push(d.to_vec());
    });
    assert_eq!(ids, [10, 11]);
    assert_eq!(
        bytes,
        [frames[0], frames[1]],
        "each entry keeps its packet's bytes"
    );
    // the slot of the unsent third packet is reused
    p.record(&header(EventKind::Rx, 20), &[0; 8]);
    p.flush();
    c.read(10, |h, _| ids.push(h.pkt_id));
    assert_eq!(ids, [10, 11, 20]);
    Ok(())
}

#[test]
fn a_full_ring_counts_what_the_consumer_lost() -> TestResult {
    let (path, w) = region("mirror_lost", 1)?;
    let mut p = producer(&w)?;
    let rings = rings_of(&path)?;
    let mut c = rings.attach(&CaptureSettings::default())?;
    p.refresh();
    for i in 0..11 {
        p.record(&header(EventKind::Rx, i), &[0; 128]);
    }
    p.flush();
    assert_eq!(c.lost(), 3, "8 full-size slots, 11 full-size entries");
    assert_eq!(c.read(100, |_, _| {}), 8);
    // short entries are packed: 20-word slots hold four 8-byte entries (5 words) each
    p.refresh();
    for i in 0..40 {
        p.record(&header(EventKind::Rx, i), &[0; 8]);
    }
    p.flush();
    assert_eq!(c.lost(), 3 + 8, "160 words hold 32 entries of 5 words");
    assert_eq!(c.read(100, |_, _| {}), 32);
    Ok(())
}

#[test]
fn a_silent_consumer_is_detached_by_the_daemon_and_stop_detaches_everyone() -> TestResult {
    let (path, w) = region("mirror_watch", 2)?;
    let mut p = producer(&w)?;
    let rings = rings_of(&path)?;
    let c = rings.attach(&CaptureSettings::default())?;
    let now = monotonic_ms();
    assert!(p.watch(now), "fresh heartbeat");
    assert_eq!(c.detached(), None);
    assert!(
        !p.watch(now + HEARTBEAT_TIMEOUT_MS + 1000),
        "stale: detached"
    );
    assert!(!p.refresh(), "tracing off");
    assert_eq!(c.detached(), Some(Detached::Heartbeat));
    drop(c);
    let d = rings.attach(&CaptureSettings::default())?;
    let e = rings.attach(&CaptureSettings::default())?;
    assert_eq!(rings.stop_all(), 2);
    assert_eq!(
        (d.detached(), e.detached()),
        (Some(Detached::Stopped), Some(Detached::Stopped))
    );
    assert!(!p.refresh());
    Ok(())
}

#[test]
fn geometry_limits() {
    assert!(RingGeometry::DAEMON.check().is_ok());
    for bad in [
        RingGeometry {
            rings: 0,
            slots: 8,
            snap_len: 128,
        },
        RingGeometry {
            rings: 65,
            slots: 8,
            snap_len: 128,
        },
        RingGeometry {
            rings: 1,
            slots: 6,
            snap_len: 128,
        },
        RingGeometry {
            rings: 1,
            slots: 1,
            snap_len: 128,
        },
        RingGeometry {
            rings: 1,
            slots: 8,
            snap_len: 10,
        },
    ] {
        assert_eq!(bad.check(), Err(BadGeometry), "{bad:?}");
    }
}

/// Every interleaving of a producer writing three entries into a two-slot ring with a
/// consumer taking two: the consumer sees entries in order, each whole (every data word
/// equals the entry's id), and the producer never overwrites an unread slot.
#[test]
fn loom_consumer_sees_whole_entries_in_order() {
    use loom::sync::atomic::AtomicU64 as LoomU64;
    use loom::sync::Arc;
    loom::model(|| {
        let snap = 64;
        let g = RingGeometry {
            rings: 1,
            slots: 2,
            snap_len: snap,
        };
        let sw = g.slot_words();
        let mem: Arc<(Vec<LoomU64>, Vec<LoomU64>)> = Arc::new((
            (0..CTRL_WORDS).map(|_| LoomU64::new(0)).collect(),
            (0..2 * sw).map(|_| LoomU64::new(0)).collect(),
        ));
        let producer = {
            let mem = Arc::clone(&mem);
            loom::thread::spawn(move || {
                let r = RingWords {
                    ctrl: &mem.0,
                    data: &mem.1,
                    slot_words: sw,
                };
                let mut written = Vec::new();
                for id in 1..=3u8 {
                    if push(&r, &header(EventKind::Rx, u32::from(id)), &[id; 16]) {
                        written.push(u32::from(id));
                    }
                }
                written
            })
        };
        let r = RingWords {
            ctrl: &mem.0,
            data: &mem.1,
            slot_words: sw,
        };
        let mut data = Vec::new();
        let mut got = Vec::new();
        for _ in 0..2 {
            if let Some(Some(h)) = pop(&r, &mut data) {
                assert!(data.iter().all(|&b| u32::from(b) == h.pkt_id), "torn entry");
                assert_eq!(data.len(), 16);
                got.push(h.pkt_id);
            }
        }
        let written = producer.join().unwrap_or_default();
        while let Some(Some(h)) = pop(&r, &mut data) {
            assert!(data.iter().all(|&b| u32::from(b) == h.pkt_id), "torn entry");
            got.push(h.pkt_id);
        }
        assert_eq!(got, written, "every written entry read once, in order");
        let lost = mem.0[LOST].load(Ordering::Relaxed);
        assert_eq!(written.len() as u64 + lost, 3);
    });
}
