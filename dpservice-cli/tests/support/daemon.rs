//! The real `dpservice-bin`, started for a test in its own network namespace (TAP ports,
//! deterministic underlays), and the CLI run inside that namespace against it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{words, Run, CLI};

/// The gRPC port inside the daemon's private namespace.
pub const PORT: u16 = 1337;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The daemon binary of the same build profile.
///
/// Built by a nested `cargo test --workspace --no-run`: the same package selection as the
/// README's test command, hence the same feature unification, so under that command it
/// finds everything fresh and builds nothing. (A `cargo build -p dpservice-bin` resolves
/// dependency features differently and recompiled the daemon and half its dependencies.)
pub fn daemon_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let dir = Path::new(CLI).parent().expect("binary directory");
        let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        build.args(["test", "--workspace", "--no-run", "--quiet"]);
        if dir.ends_with("release") {
            build.arg("--release");
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let status = build
            .current_dir(root)
            .stdout(Stdio::null())
            .status()
            .expect("run cargo test --no-run for dpservice-bin");
        assert!(status.success(), "building dpservice-bin failed");
        dir.join("dpservice-bin")
    })
}

fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .expect("the tests need iproute2's ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running daemon; killed and its namespace removed on drop.
#[derive(Debug)]
pub struct Daemon {
    child: Child,
    /// Fixed-length tag naming the namespace, file prefix and TAP devices.
    pub id: String,
    netns: String,
    log: PathBuf,
}

impl Daemon {
    /// Starts a daemon (2 PFs, 2 VFs `net_tap2`/`net_tap3`) and waits until gRPC answers.
    pub fn start() -> Daemon {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let id = format!("c{:05x}", (std::process::id() * 16 + n) & 0xf_ffff);
        let netns = format!("dpcli-{id}");
        ip(&["netns", "add", &netns]);
        ip(&["-n", &netns, "link", "set", "lo", "up"]);
        let log = std::env::temp_dir().join(format!("{netns}.log"));
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &netns]).arg(daemon_bin());
        cmd.arg(format!("--file-prefix=dpcli{id}")).arg("--no-pci");
        for (i, port) in ["p0", "p1", "vf0", "vf1"].iter().enumerate() {
            cmd.arg(format!("--vdev=net_tap{i},iface={id}{port}"));
        }
        cmd.arg("--").arg(format!("--grpc-port={PORT}"));
        cmd.args([
            format!("--pf0={id}p0"),
            format!("--pf1={id}p1"),
            format!("--vf-pattern={id}vf"),
        ]);
        cmd.args([
            "--nic-type=tap",
            "--ipv6=fc00:1::1",
            "--no-offload",
            "--no-stats",
            "--static-underlay",
        ]);
        let logfile = std::fs::File::create(&log).expect("daemon log file");
        cmd.env_clear()
            .env("DP_CONF", "")
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        cmd.stdin(Stdio::null())
            .stdout(logfile.try_clone().expect("log"))
            .stderr(logfile);
        let child = cmd.spawn().expect("start dpservice-bin");
        let daemon = Daemon {
            child,
            id,
            netns,
            log,
        };
        daemon.wait_ready();
        daemon
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = self.cli("--connect-timeout=200ms -o json get init");
            if r.stdout.contains("\"source\":\"grpc\"")
                || r.stdout.contains("\"kind\":\"Initialized\"")
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "dpservice-bin did not come up: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The daemon's output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs the CLI in the daemon's namespace, as upstream's harness does
    /// (`--address=localhost:PORT` first, then the line).
    pub fn cli(&self, line: &str) -> Run {
        self.cli_args(&words(line))
    }

    /// `ip netns exec <the daemon's namespace>`: append the program and its arguments.
    pub fn in_netns_prefix(&self) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.netns]);
        cmd
    }

    /// Like [`Daemon::cli`], with the arguments given one by one.
    pub fn cli_args(&self, args: &[String]) -> Run {
        Command::new("ip")
            .args(["netns", "exec", &self.netns, CLI])
            .arg(format!("--address=localhost:{PORT}"))
            .args(args)
            .env_remove("DP_GRPC_PORT")
            .output()
            .expect("run dpservice-cli")
            .into()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // a killed daemon cannot remove its instance files: the test does (the daemon runs
        // under `ip netns exec`, which execs it, so the child's pid is the daemon's)
        let prefix = format!("dpcli{}", self.id);
        if let Ok(instance) = dpservice::instance::Instance::new(&prefix) {
            let path = instance.shm_path();
            let ours = dpservice::shm::region::Region::open(&path)
                .is_ok_and(|r| r.creator_pid() == self.child.id());
            if ours {
                let _ = std::fs::remove_file(path);
            }
            let _ = std::fs::remove_dir_all(instance.runtime_dir());
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.netns])
            .output();
        let _ = std::fs::remove_file(&self.log);
    }
}
