//! Start-up, running side by side, and shutdown of the real daemon.

use std::net::{Ipv6Addr, TcpListener};
use std::time::{Duration, Instant};

use rustix::process::Signal;

use crate::support::{api, in_netns, unique_id, Daemon, NetNs};

/// Whether the port can be bound again in the daemon's namespace (it was released).
fn port_is_free(d: &Daemon) -> bool {
    let ns = d
        .netns()
        .map(|n| std::path::Path::new("/run/netns").join(n));
    let port = d.grpc_port();
    in_netns(ns.as_deref(), move || {
        Ok(TcpListener::bind((Ipv6Addr::UNSPECIFIED, port)).is_ok())
    })
    .unwrap()
}

fn stops_cleanly_on(signal: Signal, number: i32) {
    let mut d = Daemon::start();
    assert!(d.runtime_dir().join("config").exists(), "runtime dir made");
    assert!(!port_is_free(&d));
    let sent = Instant::now();
    d.signal(signal);
    let status = d
        .wait_exit(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("still running 5 s after signal {number}:\n{}", d.logs()));
    let took = sent.elapsed();
    println!("exit after signal {number}: {took:?}");
    assert_eq!(status.code(), Some(0), "{}", d.logs());
    let logs = d.logs();
    assert!(
        logs.contains(&format!(
            "\n\nSignal {number} received, preparing to exit...\n"
        )),
        "{logs}"
    );
    assert!(!d.runtime_dir().exists(), "runtime dir removed");
    assert!(port_is_free(&d), "gRPC port released");
}

#[test]
fn sigterm_exits_0_within_5_s_and_cleans_up() {
    stops_cleanly_on(Signal::TERM, 15);
}

#[test]
fn sigint_exits_0_within_5_s_and_cleans_up() {
    stops_cleanly_on(Signal::INT, 2);
}

#[test]
fn two_daemons_side_by_side() {
    let ns = NetNs::new("pair");
    let a = Daemon::builder().netns(&ns).spawn();
    let b = Daemon::builder().netns(&ns).spawn();
    assert_ne!(a.prefix(), b.prefix());
    assert_ne!(a.grpc_port(), b.grpc_port());
    assert!(a.runtime_dir().is_dir() && b.runtime_dir().is_dir());
    // each answers on its own port, in the same namespace
    a.wait_serving(Duration::from_secs(2));
    b.wait_serving(Duration::from_secs(2));
    println!(
        "a: prefix {} port {}; b: prefix {} port {}",
        a.prefix(),
        a.grpc_port(),
        b.prefix(),
        b.grpc_port()
    );
}

#[test]
fn same_file_prefix_twice_is_refused() {
    let ns = NetNs::new("prefix");
    let a = Daemon::builder().netns(&ns).spawn();
    let mut b = Daemon::builder()
        .netns(&ns)
        .eal(format!("--file-prefix={}", a.prefix()))
        .no_wait()
        .spawn();
    let status = b
        .wait_exit(Duration::from_secs(10))
        .expect("second daemon must stop");
    assert_eq!(status.code(), Some(1));
    assert!(b.logs().contains("another dpservice"), "{}", b.logs());
    assert!(
        a.runtime_dir().join("config").exists(),
        "the first keeps its directory"
    );
}

#[test]
fn busy_grpc_port_is_refused() {
    let ns = NetNs::new("port");
    let a = Daemon::builder().netns(&ns).spawn();
    let mut b = Daemon::builder()
        .netns(&ns)
        .arg(format!("--grpc-port={}", a.grpc_port()))
        .no_wait()
        .spawn();
    let status = b
        .wait_exit(Duration::from_secs(10))
        .expect("second daemon must stop");
    assert_eq!(status.code(), Some(1));
    assert!(b.logs().contains("cannot listen for gRPC"), "{}", b.logs());
    assert!(
        !b.runtime_dir().exists(),
        "runtime dir of the failed start removed"
    );
}

#[test]
fn runs_with_only_dp_conf_in_its_environment() {
    let d = Daemon::start();
    let environ = std::fs::read(format!("/proc/{}/environ", d.pid())).unwrap();
    assert_eq!(
        environ, b"DP_CONF=\0",
        "the harness starts it like upstream's runner"
    );
}

#[test]
fn starts_from_a_config_file() {
    let id = unique_id();
    let dir = std::env::temp_dir().join(format!("dpconf-start-{id}"));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("dpservice.conf");
    std::fs::write(
        &conf,
        format!(
            "pf0 {id}a\npf1 {id}b\nvf-pattern {id}v\nnic-type tap\nno-offload\nlog-format json\n"
        ),
    )
    .unwrap();
    let d = Daemon::builder()
        .without_ports()
        .env("DP_CONF", conf.to_str().unwrap())
        .eal(format!("--vdev=net_tap0,iface={id}a"))
        .eal(format!("--vdev=net_tap1,iface={id}b"))
        .eal(format!("--vdev=net_tap2,iface={id}v0"))
        .spawn();
    assert!(
        d.logs().contains("\"logger\": \"service\""),
        "log-format from the file: {}",
        d.logs()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn json_logs_carry_upstreams_keys() {
    let d = Daemon::builder().arg("--log-format=json").spawn();
    d.wait_for_log("Becoming active", Duration::from_secs(5))
        .unwrap();
    let logs = d.logs();
    let mut lines = 0;
    for line in logs.lines().filter(|l| l.starts_with('{')) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for key in ["ts", "thread_id", "thread_name", "level", "logger", "msg"] {
            assert!(v.get(key).is_some(), "{key} missing in {line}");
        }
        lines += 1;
    }
    assert!(lines >= 3, "{logs}");
    assert!(logs.contains("\"thread_name\": \"standby\", \"level\": \"Info\", \"logger\": \"service\", \"msg\": \"Becoming active\""), "{logs}");
    assert!(
        logs.contains("\"logger\": \"grpc\", \"msg\": \"Server started and listening\""),
        "{logs}"
    );
}

#[test]
fn text_logs_look_like_upstreams() {
    let d = Daemon::start();
    let logs = d.logs();
    let line = logs
        .lines()
        .find(|l| l.contains("Starting DP Service version"))
        .unwrap_or_else(|| panic!("{logs}"));
    // 2024-05-01 12:00:00.123 1(control) I SERVICE: Starting DP Service version v0.4.0 [...]
    let fields: Vec<&str> = line.splitn(6, ' ').collect();
    assert_eq!(fields[0].len(), 10, "{line}");
    assert_eq!(fields[1].len(), 12, "{line}");
    assert!(fields[2].ends_with("(control)"), "{line}");
    assert_eq!(fields[3], "I", "{line}");
    assert_eq!(fields[4], "SERVICE:", "{line}");
}

#[test]
fn eal_log_level_enables_debug_lines() {
    let quiet = Daemon::start();
    assert!(!quiet.logs().contains(" D SERVICE: "), "{}", quiet.logs());
    let verbose = Daemon::builder().eal("--log-level=user*:8").spawn();
    assert!(
        verbose
            .logs()
            .contains(" D SERVICE: Resolved configuration"),
        "{}",
        verbose.logs()
    );
}

/// `--graphtrace-loglevel=1` with the graph logger at debug: the maintenance frames a new
/// interface gets (§5.5) appear as hand-over and transmit lines naming the nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphtrace_loglevel_logs_packets_through_the_graph() {
    let d = Daemon::builder()
        .eal("--log-level=user2:8")
        .arg("--graphtrace-loglevel=1")
        .spawn();
    let mut c = d.client().await;
    api::initialize(&mut c).await;
    let code = api::create_interface(&mut c, "vm1", 100, "net_tap2", "10.0.0.1", "2001::1").await;
    assert_eq!(code, 0);
    d.wait_for_log(">> PORT 2", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no transmit line for port 2:\n{}", d.logs()));
    let logs = d.logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("rx_periodic") && l.contains("-> tx-2") && l.contains("len 42")),
        "no rx_periodic -> tx-2 hand-over of a 42-byte ARP frame:\n{logs}"
    );

    // level 0 (the default) logs no packets even at debug
    let quiet = Daemon::builder().eal("--log-level=user2:8").spawn();
    let mut c = quiet.client().await;
    api::initialize(&mut c).await;
    assert_eq!(
        api::create_interface(&mut c, "vm1", 100, "net_tap2", "10.0.0.1", "2001::1").await,
        0
    );
    assert!(
        quiet
            .wait_for_log(">> PORT", Duration::from_millis(1500))
            .is_none(),
        "{}",
        quiet.logs()
    );
}

/// Without `--no-stats` the daemon clears the terminal and prints DPDK's node table once a
/// second; the maintenance frames of an interface show up as `rx_periodic` objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_screen_once_a_second_unless_no_stats() {
    let d = Daemon::builder().stats_screen().spawn();
    let mut c = d.client().await;
    api::initialize(&mut c).await;
    let code = api::create_interface(&mut c, "vm1", 100, "net_tap2", "10.0.0.1", "2001::1").await;
    assert_eq!(code, 0);
    let started = Instant::now();
    // maintenance frames go out every 5 s from the start, whenever the interface came:
    // up to two periods may pass before a run finds it
    d.wait_for_log("|rx_periodic ", Duration::from_secs(12))
        .unwrap_or_else(|| panic!("no rx_periodic row:\n{}", d.logs()));
    // a later screen: a second one must come within about a second of the first
    let screens = |logs: &str| logs.matches("\x1b[2J\x1b[1;1H").count();
    let deadline = Instant::now() + Duration::from_millis(1500);
    while screens(&d.logs()) < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let logs = d.logs();
    let secs = started.elapsed().as_secs_f64();
    assert!(
        screens(&logs) >= 2,
        "{} screens in {secs:.1} s:\n{logs}",
        screens(&logs)
    );
    assert!(
        logs.contains("|Node                           |calls          |objs           |"),
        "{logs}"
    );
    let row = logs
        .lines()
        .find(|l| l.starts_with("|rx_periodic "))
        .unwrap_or_default();
    assert_eq!(row.len(), 125, "{row:?}");

    // the harness's default (`--no-stats`, as pytest) prints no screen
    let quiet = Daemon::start();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!quiet.logs().contains("|Node "), "{}", quiet.logs());
}

/// `--graphtrace-loglevel` without the graph logger at debug traces nothing (no cost per
/// packet) and says how to get the lines.
#[test]
fn graphtrace_loglevel_without_debug_logging_says_so() {
    let d = Daemon::builder().arg("--graphtrace-loglevel=1").spawn();
    d.wait_for_log("--log-level=user2:8", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no hint about the log level:\n{}", d.logs()));
}

/// systemd `Type=notify`: `READY=1` arrives on `$NOTIFY_SOCKET` once the gRPC port
/// accepts calls (a call right after it succeeds), `STOPPING=1` when shutdown begins.
#[test]
fn notifies_systemd_when_ready_and_when_stopping() {
    let dir = std::env::temp_dir().join(format!("dps-notify-{}", unique_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket_path = dir.join("notify");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut d = Daemon::builder()
        .env("NOTIFY_SOCKET", socket_path.to_str().unwrap())
        .no_wait()
        .spawn();
    let mut buf = [0u8; 256];
    let n = socket
        .recv(&mut buf)
        .unwrap_or_else(|e| panic!("no READY=1 within 10 s ({e}):\n{}", d.logs()));
    let ready = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(ready.starts_with("READY=1\n"), "{ready}");
    // Ready means the port accepts: a connection right now (no retry) must succeed.
    let ns = d
        .netns()
        .map(|n| std::path::Path::new("/run/netns").join(n));
    let port = d.grpc_port();
    let connected = in_netns(ns.as_deref(), move || {
        Ok(
            std::net::TcpStream::connect((Ipv6Addr::LOCALHOST, port)).is_ok()
                || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        )
    })
    .unwrap();
    assert!(
        connected,
        "READY=1 before the gRPC port accepts:\n{}",
        d.logs()
    );
    d.signal(Signal::TERM);
    let n = socket.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"STOPPING=1\n");
    assert_eq!(
        d.wait_exit(Duration::from_secs(5)).and_then(|s| s.code()),
        Some(0)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
