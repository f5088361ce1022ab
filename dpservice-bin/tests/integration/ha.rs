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
