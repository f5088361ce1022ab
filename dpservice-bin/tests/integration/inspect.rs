//! `dpservice-inspect` against the real daemon: known state created over gRPC, every
//! configuration table in every upstream format as golden text (in-process, the same
//! code path as the binary), and the real TUI binary driven in `tmux` (open a table,
//! filter, sort, detail, quit; the message when the daemon dies).
//!
//! The flow tables are golden-tested with flows from real traffic in
//! `packets::flows`, and over a region with known flows in `dpservice-inspect`'s unit
//! tests.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};
use std::time::{Duration, Instant};

use dpservice::instance::Instance;
use dpservice::shm::catalogue::{self, Catalogue};
use dpservice::shm::region::Region;
use dpservice_inspect::record::Kind;

use crate::api::{daemon, lb, nat, route, target, two_vms, vip, with_initialized};
use crate::support::{bin, unique_id, Daemon};

/// The daemon with two VMs, a VIP, a NAT, a load balancer with a target and a route.
fn daemon_with_state() -> Daemon {
    let d = daemon();
    with_initialized(&d, |c| async move {
        two_vms(&c).await;
        c.create_vip(&vip("vm1", "172.20.0.1")).await.unwrap();
        c.create_nat(&nat("vm2", "172.21.1.1", 100, 102))
            .await
            .unwrap();
        c.create_load_balancer(&lb("lb1", 100, "10.20.30.40"))
            .await
            .unwrap();
        c.create_load_balancer_target(&target("lb1", "fc00:2::64"))
            .await
            .unwrap();
        c.create_route(&route(100, "192.168.0.0/16", "fc00:2::1"))
            .await
            .unwrap();
    });
    let path = Instance::new(d.prefix()).unwrap().shm_path();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let region = Region::open(&path).unwrap();
        let lbs = Catalogue::reader::<catalogue::LoadBalancers>(&region).unwrap();
        let dnat = Catalogue::reader::<catalogue::Dnat>(&region).unwrap();
        if lbs.len() == 1 && dnat.len() == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "state not published within 5 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    // the worker publishes one table per loop turn: the VNI table's route counts (the
    // route made last) may come a turn after the tables above
    while !inspect(&d, &["-t", "vni", "--dump", "-o", "human"]).contains("rib: 3,") {
        assert!(Instant::now() < deadline, "routes not published within 5 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    d
}

pub(crate) fn inspect(d: &Daemon, args: &[&str]) -> String {
    let mut argv = vec![
        "dpservice-inspect".to_owned(),
        format!("--file-prefix={}", d.prefix()),
    ];
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    let mut out = Vec::new();
    let code = dpservice_inspect::run_with(argv, &mut out, false);
    assert_eq!(code, ExitCode::SUCCESS, "{args:?}");
    String::from_utf8(out).unwrap()
}

/// Rows sorted (upstream prints hash order), header and footer lines kept in place.
pub(crate) fn sorted_rows(out: &str, format: &str) -> String {
    let mut lines: Vec<String> = out
        .lines()
        .map(|l| l.trim_end_matches(',').to_owned())
        .collect();
    let n = lines.len();
    let body = match format {
        "human" => 0..n,
        "csv" => 1..n,
        _ => 1..n.saturating_sub(1),
    };
    lines[body].sort();
    lines.join("\n") + "\n"
}

#[test]
fn inspect_prints_the_daemons_tables_in_upstream_formats() {
    let d = daemon_with_state();
    let mut golden = String::new();
    for kind in Kind::ALL.into_iter().filter(|k| !k.is_flow_table()) {
        for format in ["human", "table", "csv", "json"] {
            let count = inspect(&d, &["-t", kind.short(), "-o", format]);
            let dump = inspect(&d, &["-t", kind.short(), "--dump", "-o", format]);
            if format == "json" {
                let parsed: serde_json::Value = serde_json::from_str(&dump).unwrap();
                assert!(parsed.is_array(), "{dump}");
            }
            golden.push_str(&format!(
                "== {} -o {format}\n{count}{}",
                kind.short(),
                sorted_rows(&dump, format)
            ));
        }
    }
    // the daemon's underlays are deterministic (--static-underlay); its port ids too
    insta::assert_snapshot!(golden);
    // no traffic, no flows
    assert_eq!(
        inspect(&d, &["-t", "conntrack", "--dump", "-o", "json"]),
        "[\n\n]\n"
    );
}

/// The inspect binary of this build: built next to the daemon by `cargo test
/// --workspace`; built here when absent or older than this test binary (a narrow
/// `cargo test -p dpservice-bin` run does not build it).
fn inspect_bin() -> PathBuf {
    let path = bin().with_file_name("dpservice-inspect");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let this = std::env::current_exe().ok().and_then(|p| modified(&p));
    if modified(&path).is_none() || modified(&path) < this {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "build",
                "--quiet",
                "-p",
                "dpservice-inspect",
                "--bin",
                "dpservice-inspect",
            ])
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .status()
            .expect("run cargo build for dpservice-inspect");
        assert!(status.success(), "building dpservice-inspect failed");
    }
    path
}

/// A tmux server of its own, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("the TUI test needs tmux (apt-get install tmux)");
        assert!(
            out.status.success() || args[0] == "kill-server",
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "inspect"];
        args.extend(keys);
        self.run(&args);
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "inspect"]).stdout)
            .into_owned()
    }

    /// Waits until the pane shows `needle`.
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "'{needle}' not on screen within 10 s:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

#[test]
fn inspect_tui_in_tmux_browses_the_live_daemon() {
    let mut d = daemon_with_state();
    let bin = inspect_bin();
    let tmux = Tmux {
        socket: format!("dps-inspect-{}", unique_id()),
    };
    let command = format!(
        "{} --file-prefix={} --tui; sleep 30",
        bin.display(),
        d.prefix()
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "inspect",
        "-x",
        "160",
        "-y",
        "30",
        &command,
    ]);
    let list = tmux.wait_for("interface_table");
    assert!(list.contains("loadbalancer_table"), "{list}");
    // the third line is iface
    tmux.keys(&["Down", "Down", "Enter"]);
    let browse = tmux.wait_for("IFACE_ID");
    assert!(browse.contains("vm1") && browse.contains("vm2"), "{browse}");
    tmux.keys(&["/", "vm2", "Enter"]);
    let filtered = tmux.wait_for("filter: vm2");
    assert!(!filtered.contains("vm1"), "{filtered}");
    tmux.keys(&["c", "s", "r"]);
    let sorted = tmux.wait_for("IFACE_ID▼");
    let (at1, at2) = (sorted.find("vm1").unwrap(), sorted.find("vm2").unwrap());
    assert!(at2 < at1, "descending: vm2 first\n{sorted}");
    // the selection stays on its entry when rows move: back to the first row (vm2)
    tmux.keys(&["g", "Enter"]);
    let detail = tmux.wait_for("detail");
    assert!(detail.contains("ipv4: 10.0.0.2"), "{detail}");
    tmux.keys(&["Escape", "Escape", "?"]);
    tmux.wait_for("keys (any key closes)");
    tmux.keys(&["x"]);
    // the dataplane screen: graph nodes, ports and drops from the telemetry socket
    tmux.keys(&["d"]);
    let dataplane = tmux.wait_for("net_tap0");
    assert!(
        dataplane.contains("graph nodes") && dataplane.contains("drops per reason"),
        "{dataplane}"
    );
    tmux.keys(&["1"]);
    tmux.wait_for("interface_table");
    // the daemon dies (SIGKILL leaves its region behind): a message, not a crash
    d.kill();
    d.wait_exit(Duration::from_secs(5)).unwrap();
    let gone = tmux.wait_for("cannot be read");
    assert!(gone.contains("not running any more"), "{gone}");
    tmux.keys(&["q"]);
    // the terminal is restored: the shell's `sleep` runs on the normal screen
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux.screen().contains("dpservice-inspect ") {
        assert!(
            Instant::now() < deadline,
            "still shown after q:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
