//! Start-up, daemon restarts and giving up (tools.md §4.2, with our exit codes).

use std::net::{Ipv4Addr, TcpListener};
use std::process::Command;
use std::time::Duration;

use crate::exporter::{iface, netns_path, series, upstream_setup, Exporter, EXPORTER};
use crate::support::{bin, in_netns, Daemon, NetNs};

#[test]
fn version_matches_the_daemon() {
    let ours = Command::new(EXPORTER).arg("-v").output().unwrap();
    let daemon = Command::new(bin())
        .args(["--", "--version"])
        .env("DP_CONF", "")
        .output()
        .unwrap();
    let ours = String::from_utf8(ours.stdout).unwrap();
    let daemon = String::from_utf8(daemon.stdout).unwrap();
    let x = ours
        .trim()
        .strip_prefix("dpservice-exporter version ")
        .unwrap();
    assert_eq!(daemon.trim(), format!("DP Service version {x}"));
}

#[test]
fn bad_port_and_busy_port_exit_non_zero() {
    let out = Command::new(EXPORTER).arg("-port=80").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("between 1024 and 65535"));
    let out = Command::new(EXPORTER).arg("-nope").output().unwrap();
    assert_eq!(out.status.code(), Some(2));

    let d = upstream_setup(None);
    let ns = netns_path(&d);
    // somebody else holds the port: the exporter says so and exits 1
    let _held = in_netns(Some(&ns), || {
        TcpListener::bind((Ipv4Addr::UNSPECIFIED, 9070))
    })
    .unwrap();
    let mut e = Exporter::spawn(&d, 9070, &[]);
    let status = e.wait_exit(Duration::from_secs(20));
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{}", e.logs());
    assert!(
        e.logs().contains("cannot listen on 0.0.0.0:9070"),
        "{}",
        e.logs()
    );
}

#[test]
fn recovers_when_the_daemon_restarts_then_gives_up_when_it_stays_away() {
    let ns = NetNs::new("exp");
    let mut first = upstream_setup(Some(&ns));
    let prefix = first.prefix().to_owned();
    let e = Exporter::start(&first, 9071, &["-poll-interval=1", "--daemon-timeout=3"]);
    assert_eq!(series(&e.metrics(), "dps_nat_used_ports_count").len(), 3);

    first.kill();
    // no stale values while the daemon is gone: 503, Prometheus records the target down
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while e.get("/metrics").0 != 503 {
        assert!(std::time::Instant::now() < deadline, "{}", e.logs());
        std::thread::sleep(Duration::from_millis(100));
    }

    // a new daemon under the same prefix: the exporter reconnects and shows its state
    let second = Daemon::builder().netns(&ns).prefix(&prefix).spawn();
    second.with_client(|c| async move {
        c.initialize().await.unwrap();
        c.create_interface(&iface("vm9", "net_tap2", 9))
            .await
            .unwrap();
    });
    let text = e.wait_metrics(Duration::from_secs(15), |t| {
        t.contains(r#"interface_id="vm9""#)
    });
    assert_eq!(series(&text, "dps_nat_used_ports_count").len(), 1, "{text}");

    // gone for longer than --daemon-timeout: exit 1 so that Kubernetes restarts it
    let mut e = e;
    drop(second);
    let status = e.wait_exit(Duration::from_secs(20));
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{}", e.logs());
    assert!(e.logs().contains("giving up"), "{}", e.logs());
}
