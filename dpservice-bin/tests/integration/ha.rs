//! High availability: two daemons on one lock file.

use std::time::{Duration, Instant};

use dpservice::proto::health::v1::health_check_response::ServingStatus;
use dpservice::proto::health::v1::HealthCheckRequest;

use crate::support::{api, unique_id, Daemon, NetNs};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_takes_over_within_1_s_of_sigkill() {
    let ns = NetNs::new("ha");
    let lock = std::env::temp_dir().join(format!("dpservice-ha-{}.lock", unique_id()));
    let lockfile = format!("--active-lockfile={}", lock.display());

    let mut active = Daemon::builder().netns(&ns).arg(&lockfile).spawn();
    active
        .wait_for_log("Starting packet processing", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("first instance never active:\n{}", active.logs()));

    let backup = Daemon::builder().netns(&ns).arg(&lockfile).spawn();
    backup
        .wait_for_log("Acquiring active lock...", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("{}", backup.logs()));
    // a backup serves gRPC but processes no packets
    assert!(backup
        .wait_for_log("Becoming active", Duration::from_millis(300))
        .is_none());
    let mut health = backup.health_client().await;
    let status = health
        .check(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status.status(),
        ServingStatus::Serving,
        "a backup reports SERVING"
    );
    // both are configured alike, as an orchestrator does with an HA pair
    for d in [&active, &backup] {
        let mut c = d.client().await;
        api::initialize(&mut c).await;
        let code =
            api::create_interface(&mut c, "vm1", 100, "net_tap2", "10.0.0.1", "2001::1").await;
        assert_eq!(code, 0);
    }
    let mut client = backup.client().await;

    let killed = Instant::now();
    active.kill();
    let became = backup
        .wait_for_log("Starting packet processing", Duration::from_secs(3))
        .unwrap_or_else(|| panic!("backup never took over:\n{}", backup.logs()));
    let takeover = became.saturating_duration_since(killed);
    println!("HA takeover after SIGKILL of the active instance: {takeover:?}");
    assert!(
        takeover < Duration::from_secs(1),
        "takeover took {takeover:?}"
    );

    // the same connections keep working on the new active instance, state intact
    let status = health
        .check(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.status(), ServingStatus::Serving);
    assert_eq!(
        api::get_interface(&mut client, "vm1").await,
        (0, 100, "10.0.0.1".to_owned())
    );
    drop(backup);
    let _ = std::fs::remove_file(&lock);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_panic_ends_the_active_instance_and_the_backup_takes_over() {
    let ns = NetNs::new("hapanic");
    let lock = std::env::temp_dir().join(format!("dpservice-ha-{}.lock", unique_id()));
    let lockfile = format!("--active-lockfile={}", lock.display());

    // test hook: the worker panics right after the job of gRPC Initialize
    let mut active = Daemon::builder()
        .netns(&ns)
        .arg(&lockfile)
        .env("DPSERVICE_TEST_WORKER_PANIC", "initialize")
        .spawn();
    active
        .wait_for_log("Starting packet processing", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("first instance never active:\n{}", active.logs()));
    let backup = Daemon::builder().netns(&ns).arg(&lockfile).spawn();
    backup
        .wait_for_log("Acquiring active lock...", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("{}", backup.logs()));

    let mut c = active.client().await;
    let panicked = Instant::now();
    // the call itself may or may not get its answer before the worker dies
    let _ = c
        .initialize(dpservice::proto::InitializeRequest::default())
        .await;

    let status = active
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running without its worker:\n{}", active.logs()));
    let logs = active.logs();
    assert_ne!(status.code(), Some(0), "{logs}");
    assert!(status.code().is_some(), "exited by itself, not by a signal");
    let line = logs
        .lines()
        .find(|l| l.contains("The dataplane worker thread panicked"))
        .unwrap_or_else(|| panic!("no log line about the worker:\n{logs}"));
    assert!(line.contains("(worker) E SERVICE:"), "{line}");
    assert!(
        line.contains("panic: test panic requested by DPSERVICE_TEST_WORKER_PANIC"),
        "{line}"
    );
    assert!(
        line.contains("location: dpservice-bin/src/worker.rs:"),
        "{line}"
    );
    assert!(!active.runtime_dir().exists(), "runtime dir removed");

    let became = backup
        .wait_for_log("Starting packet processing", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("backup never took over:\n{}", backup.logs()));
    println!(
        "takeover after the worker panic: {:?}",
        became.saturating_duration_since(panicked)
    );
    backup.wait_serving(Duration::from_secs(2));
    drop(backup);
    let _ = std::fs::remove_file(&lock);
}

/// The MAC of `dev` inside `ns`.
fn kernel_mac(ns: &NetNs, dev: &str) -> [u8; 6] {
    let out = ns
        .command("cat")
        .arg(format!("/sys/class/net/{dev}/address"))
        .output()
        .unwrap();
    assert!(out.status.success(), "no interface {dev}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut mac = [0u8; 6];
    for (b, part) in mac.iter_mut().zip(text.trim().split(':')) {
        *b = u8::from_str_radix(part, 16).unwrap();
    }
    mac
}

/// The MAC the daemon's region publishes for interface `id` (once it has one).
fn published_mac(d: &Daemon, id: &str) -> Option<[u8; 6]> {
    use dpservice::shm::catalogue::{self, Catalogue};
    let path = dpservice::instance::Instance::new(d.prefix())
        .unwrap()
        .shm_path();
    let region = dpservice::shm::region::Region::open(&path).ok()?;
    let reader = Catalogue::reader::<catalogue::Interfaces>(&region).ok()?;
    let found = reader.iter().find(|(k, _)| {
        let key = bytemuck::bytes_of(k);
        key.starts_with(id.as_bytes()) && key.get(id.len()) == Some(&0)
    });
    found.map(|(_, v)| v.mac)
}

/// Two daemons whose `--sync-tap` ports share a bridge (dataplane.md §16.2): a standby
/// started late gets the active's dump (the VM MAC of its started VF, visible in the
/// standby's region), and takes over when the active is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_standby_gets_the_dump_over_the_sync_tap_and_takes_over() {
    let ns = NetNs::new("hasync");
    let id = unique_id();
    let lock = std::env::temp_dir().join(format!("dpservice-ha-{id}.lock"));
    let lockfile = format!("--active-lockfile={}", lock.display());
    // the bridge and both persistent multi-queue sync TAPs exist before the daemons
    // attach, so the standby's first message (its dump request) is not lost
    let bridge = format!("{id}br");
    let (tap_a, tap_b) = (format!("{id}sa"), format!("{id}sb"));
    let ip_ns = |args: &[&str]| {
        let out = ns.command("ip").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ip_ns(&["link", "add", &bridge, "type", "bridge"]);
    ip_ns(&["link", "set", &bridge, "up"]);
    for tap in [&tap_a, &tap_b] {
        ip_ns(&["tuntap", "add", "dev", tap, "mode", "tap", "multi_queue"]);
        ip_ns(&["link", "set", tap, "master", &bridge]);
    }
    let with_sync = |tap: &str| {
        Daemon::builder()
            .netns(&ns)
            .arg(&lockfile)
            .eal(format!("--vdev=net_tap_sync,iface={tap},persist"))
            .arg(format!("--sync-tap={tap}"))
    };

    let mut active = with_sync(&tap_a).spawn();
    active
        .wait_for_log("Starting packet processing", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("first instance never active:\n{}", active.logs()));
    {
        let mut c = active.client().await;
        api::initialize(&mut c).await;
        let code =
            api::create_interface(&mut c, "vm1", 100, "net_tap2", "10.0.0.1", "2001::1").await;
        assert_eq!(code, 0);
    }
    // the active's guess of the VM's MAC is its VF port's own MAC
    let active_vf = kernel_mac(&ns, &active.taps().vfs[0]);

    let backup = with_sync(&tap_b).spawn();
    backup
        .wait_for_log("Acquiring active lock...", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("{}", backup.logs()));
    active
        .wait_for_log(
            "Answering the HA peer's dump request",
            Duration::from_secs(5),
        )
        .unwrap_or_else(|| {
            panic!(
                "no dump request arrived:\n{}\nstandby:\n{}",
                active.logs(),
                backup.logs()
            )
        });
    let backup_vf = kernel_mac(&ns, &backup.taps().vfs[0]);
    assert_ne!(active_vf, backup_vf, "the two VF ports must differ to tell");
    {
        let mut c = backup.client().await;
        api::initialize(&mut c).await;
        let code =
            api::create_interface(&mut c, "vm1", 100, "net_tap2", "10.0.0.1", "2001::1").await;
        assert_eq!(code, 0);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mac = published_mac(&backup, "vm1");
        if mac == Some(active_vf) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the standby publishes {mac:?} for vm1, not the active's VM MAC {active_vf:?}:\n{}",
            backup.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    active.kill();
    backup
        .wait_for_log(
            "Sync node switching from standby to active role",
            Duration::from_secs(3),
        )
        .unwrap_or_else(|| panic!("backup never switched its sync node:\n{}", backup.logs()));
    backup
        .wait_for_log("Starting packet processing", Duration::from_secs(3))
        .unwrap_or_else(|| panic!("backup never took over:\n{}", backup.logs()));
    drop(backup);
    let _ = std::fs::remove_file(&lock);
}
