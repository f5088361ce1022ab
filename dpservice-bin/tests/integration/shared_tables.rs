//! The shared-memory region as a tool sees it: created with the daemon, the state tables
//! readable from another process while gRPC calls change them, gone after a clean exit,
//! replaced after a crash.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dpservice::instance::Instance;
use dpservice::shm::catalogue::{self, Catalogue, IdKey, Ipv4VniKey};
use dpservice::shm::region::Region;
use rustix::process::Signal;

use crate::api::{a4, daemon, two_vms, vip, with_initialized};
use crate::support::Daemon;

fn region_path(d: &Daemon) -> PathBuf {
    Instance::new(d.prefix()).unwrap().shm_path()
}

/// Waits until `check` holds for the daemon's region, which the worker publishes between
/// bursts (soon after each call, not within it).
fn wait_until(d: &Daemon, what: &str, check: impl Fn(&Region) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let region = Region::open(&region_path(d)).unwrap();
        if check(&region) {
            return;
        }
        assert!(Instant::now() < deadline, "not within 5 s: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn interface_count(region: &Region) -> usize {
    Catalogue::reader::<catalogue::Interfaces>(region)
        .unwrap()
        .len()
}

#[test]
fn tables_follow_the_calls_and_the_region_goes_at_exit() {
    let mut d = daemon();
    let path = region_path(&d);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "region mode {mode:o} lets others in");
    let region = Region::open(&path).unwrap();
    assert_eq!(region.creator_pid(), d.pid());
    let names: Vec<String> = region.stats().into_iter().map(|s| s.name).collect();
    let expected: Vec<&str> = catalogue::TABLES.iter().map(|t| t.name).collect();
    assert_eq!(names, expected);
    let conntrack = &region.stats()[0];
    assert_eq!((conntrack.capacity, conntrack.entries), (850_000, 0));
    // pre-faulted soon after start-up (on a thread of its own): new flows find their
    // pages there, and the log says which pages back the region
    d.wait_prefaulted();
    let meta = std::fs::metadata(&path).unwrap();
    assert!(
        meta.blocks() * 512 >= meta.len(),
        "region not pre-faulted: {} blocks for {} bytes",
        meta.blocks(),
        meta.len()
    );

    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        c.create_vip(&vip("vm1", "172.20.0.1")).await.unwrap();
    });
    wait_until(&d, "two interfaces and a VIP", |r| {
        let dnat = Catalogue::reader::<catalogue::Dnat>(r).unwrap();
        interface_count(r) == 2 && dnat.len() == 1
    });
    let ifaces = Catalogue::reader::<catalogue::Interfaces>(&region).unwrap();
    let vm1 = ifaces.get(&IdKey::new(b"vm1").unwrap()).unwrap().unwrap();
    assert_eq!((vm1.vni, vm1.ipv4), (100, a4("10.0.0.1").to_bits()));
    let dnat = Catalogue::reader::<catalogue::Dnat>(&region).unwrap();
    let key = Ipv4VniKey {
        ip: a4("172.20.0.1").to_bits(),
        vni: 100,
    };
    assert_eq!(
        dnat.get(&key).unwrap().unwrap().target_ip,
        a4("10.0.0.1").to_bits()
    );

    with_initialized(&d, |c| async move {
        c.delete_interface("vm1").await.unwrap();
    });
    wait_until(&d, "vm1 and its VIP removed", |r| {
        let dnat = Catalogue::reader::<catalogue::Dnat>(r).unwrap();
        interface_count(r) == 1 && dnat.is_empty()
    });

    d.signal(Signal::TERM);
    let status = d.wait_exit(Duration::from_secs(5)).unwrap();
    assert_eq!(status.code(), Some(0), "{}", d.logs());
    assert!(!path.exists(), "region removed at a clean exit");
    // a tool's mapping outlives the file: it still reads the last state, never garbage
    assert_eq!(interface_count(&region), 1);
}

#[test]
fn a_crashed_daemons_region_is_replaced_by_its_successor() {
    let mut first = daemon();
    let path = region_path(&first);
    first.kill();
    first.wait_exit(Duration::from_secs(5)).unwrap();
    assert!(path.exists(), "SIGKILL leaves the region behind");
    let second = Daemon::builder()
        .arg("--static-underlay")
        .eal(format!("--file-prefix={}", first.prefix()))
        .spawn();
    let region = Region::open(&path).unwrap();
    assert_eq!(region.creator_pid(), second.pid());
    assert_eq!(interface_count(&region), 0);
    // `second` runs under `first`'s prefix, which neither daemon's clean-up covers once
    // both were killed: remove the region it made
    let pid = second.pid();
    drop(region);
    drop(second);
    crate::support::remove_region_of(first.prefix(), pid);
    assert!(!path.exists(), "the test leaves no region behind");
}
