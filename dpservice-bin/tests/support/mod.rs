//! Test harness: start the real `dpservice-bin` and talk to it.
//!
//! ```ignore
//! mod support;
//! use support::{Daemon, NetNs};
//!
//! let d = Daemon::start();                          // own netns, prefix, port, TAP names
//! let mut health = d.health_client().await;         // gRPC over the daemon's netns
//! let ns = NetNs::new("pair");                      // or several daemons in one netns
//! let a = Daemon::builder().netns(&ns).arg("--active-lockfile=/tmp/x").spawn();
//! a.wait_for_log("Becoming active", Duration::from_secs(5));
//! let out = a.command("/path/to/dpservice-cli").arg("get").output();  // in its netns
//! ```
//!
//! Every daemon gets a unique `--file-prefix`, a free `--grpc-port`, unique TAP names
//! (pf0, pf1, two VFs) and, unless told otherwise, a private network namespace, so
//! tests run in parallel. Its environment is only `DP_CONF=""`, as upstream's test
//! runner does. `spawn` returns once gRPC health says SERVING; dropping the `Daemon`
//! kills it and removes its runtime directory; dropping a `NetNs` deletes it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod api;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use dpservice::client::{Client, ConnectOptions};
use dpservice::proto::dpd_kironcore_client::DpdKironcoreClient;
use dpservice::proto::health::v1::health_check_response::ServingStatus;
use dpservice::proto::health::v1::health_client::HealthClient;
use dpservice::proto::health::v1::HealthCheckRequest;
use hyper_util::rt::TokioIo;
use rustix::process::{kill_process, Pid, Signal};
use rustix::thread::{move_into_link_name_space, LinkNameSpaceType};
use tonic::transport::{Channel, Endpoint};

/// The daemon binary under test: this package's own when compiled into dpservice-bin's
/// tests; from another package's tests (which include this module by `#[path]`), the one
/// of the same build profile next to that package's binaries, built by a nested
/// `cargo test --workspace --no-run` (the README's package selection, hence the same
/// feature unification: under that command it finds everything fresh and builds nothing).
pub fn bin() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(own) = option_env!("CARGO_BIN_EXE_dpservice-bin") {
            return PathBuf::from(own);
        }
        // tests run from <target>/<profile>/deps/
        let exe = std::env::current_exe().unwrap();
        let dir = exe.parent().and_then(Path::parent).unwrap().to_owned();
        let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        build.args(["test", "--workspace", "--no-run", "--quiet"]);
        if dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .stdout(Stdio::null())
            .status()
            .expect("run cargo test --no-run to build dpservice-bin");
        assert!(status.success(), "building dpservice-bin failed");
        dir.join("dpservice-bin")
    })
}

/// `DPSERVICE_TEST_BACKEND=dpdk` runs every daemon on DPDK's ports (its `--vdev=net_tap...`
/// words become DPDK's TAP ports) with `--no-huge` memory: the test build must have the
/// feature (`cargo test -p dpservice-bin --features dpdk ...`). `tap` asks for the TAP
/// backend explicitly; unset, the daemon's default applies.
pub const BACKEND_ENV: &str = "DPSERVICE_TEST_BACKEND";

/// EAL memory of a daemon on the DPDK backend without hugepages (MiB).
pub const DPDK_TEST_MEMORY_MB: u32 = 512;

fn test_backend() -> Option<String> {
    std::env::var(BACKEND_ENV).ok().filter(|b| !b.is_empty())
}

/// Whether the daemons of this test run are on the DPDK backend ([`BACKEND_ENV`]).
pub fn dpdk_backend() -> bool {
    test_backend().as_deref() == Some("dpdk")
}

/// How long a daemon may take to answer health SERVING.
pub const START_TIMEOUT: Duration = Duration::from_secs(15);

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A short name unique across the test processes running now: `<base36 pid><n>`.
pub fn unique_id() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}{}", base36(std::process::id()), base36(n))
}

fn base36(mut n: u32) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(digits[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap()
}

fn ip_tool() -> PathBuf {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let p = Path::new(dir).join("ip");
        if p.exists() {
            return p;
        }
    }
    panic!("the tests need iproute2's 'ip' (apt-get install iproute2)");
}

/// Runs `ip <args>` and asserts it succeeded.
pub fn ip(args: &[&str]) {
    let out = Command::new(ip_tool()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A network namespace, deleted on drop.
#[derive(Debug)]
pub struct NetNs {
    name: String,
}

impl NetNs {
    /// Creates `dpt-<tag>-<unique>` with loopback up.
    pub fn new(tag: &str) -> NetNs {
        let name = format!("dpt-{tag}-{}", unique_id());
        ip(&["netns", "add", &name]);
        let ns = NetNs { name };
        ip(&["-n", &ns.name, "link", "set", "lo", "up"]);
        ns
    }

    /// Its name (for `ip netns exec`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `/run/netns/<name>`.
    pub fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.name)
    }

    /// A command run inside the namespace (`ip netns exec <name> <program>`).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(ip_tool());
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new(ip_tool())
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Runs `f` on a fresh thread inside the namespace (sockets keep the namespace they
/// were created in).
pub fn in_netns<T: Send + 'static>(
    netns: Option<&Path>,
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    let netns = netns.map(Path::to_owned);
    std::thread::spawn(move || {
        if let Some(path) = netns {
            let file = File::open(path)?;
            move_into_link_name_space(file.as_fd(), Some(LinkNameSpaceType::Network))?;
        }
        f()
    })
    .join()
    .map_err(|_| std::io::Error::other("netns thread panicked"))?
}

/// A TCP port nobody listens on in the namespace.
pub fn free_port(netns: Option<&Path>) -> u16 {
    in_netns(netns, || {
        let l = TcpListener::bind((Ipv6Addr::UNSPECIFIED, 0))?;
        Ok(l.local_addr()?.port())
    })
    .unwrap()
}

/// A gRPC channel to `addr` inside the namespace.
pub async fn channel_in(
    netns: Option<PathBuf>,
    addr: SocketAddr,
) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_static("http://dpservice.test")
        .connect_timeout(Duration::from_secs(2))
        .connect_with_connector(tower::service_fn(move |_uri| {
            let netns = netns.clone();
            async move {
                let stream = tokio::task::spawn_blocking(move || {
                    in_netns(netns.as_deref(), move || {
                        TcpStream::connect_timeout(&addr, Duration::from_secs(2))
                    })
                })
                .await
                .map_err(std::io::Error::other)??;
                stream.set_nonblocking(true)?;
                stream.set_nodelay(true)?;
                Ok::<_, std::io::Error>(TokioIo::new(tokio::net::TcpStream::from_std(stream)?))
            }
        }))
        .await
}

/// Lines a daemon printed, with the time each was read.
#[derive(Debug, Default)]
pub struct Output {
    lines: Mutex<Vec<(Instant, String)>>,
    changed: Condvar,
}

impl Output {
    fn push(&self, line: String) {
        self.lines.lock().unwrap().push((Instant::now(), line));
        self.changed.notify_all();
    }

    /// Everything so far.
    pub fn text(&self) -> String {
        let lines = self.lines.lock().unwrap();
        lines.iter().map(|(_, l)| format!("{l}\n")).collect()
    }

    /// Waits for a line containing `needle`; returns when it was read.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> Option<Instant> {
        let deadline = Instant::now() + timeout;
        let mut lines = self.lines.lock().unwrap();
        loop {
            if let Some((t, _)) = lines.iter().find(|(_, l)| l.contains(needle)) {
                return Some(*t);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            lines = self.changed.wait_timeout(lines, left).unwrap().0;
        }
    }

    fn read_from(self: &Arc<Self>, stream: impl std::io::Read + Send + 'static, tag: &'static str) {
        let me = Arc::clone(self);
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                match line {
                    Ok(l) => me.push(format!("{tag}{l}")),
                    Err(_) => break,
                }
            }
        });
    }
}

/// How to start a daemon.
#[derive(Debug)]
pub struct Builder<'a> {
    netns: Option<&'a NetNs>,
    root_netns: bool,
    eal: Vec<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    wait: bool,
    ports: bool,
    vfs: usize,
    underlay: Ipv6Addr,
    stats: bool,
    read_stdout: bool,
    prefix: Option<String>,
    grpc_port: Option<u16>,
}

impl<'a> Builder<'a> {
    /// Never read the daemon's stdout: the pipe fills and stays full, as with a stalled
    /// log collector (`logs()` then holds stderr only).
    pub fn stdout_unread(mut self) -> Self {
        self.read_stdout = false;
        self
    }

    /// Run inside `ns` (shared with other daemons) instead of a private namespace.
    pub fn netns(mut self, ns: &'a NetNs) -> Self {
        self.netns = Some(ns);
        self
    }

    /// Run in the test's own network namespace.
    pub fn root_netns(mut self) -> Self {
        self.root_netns = true;
        self
    }

    /// An extra EAL argument (before `--`).
    pub fn eal(mut self, arg: impl Into<String>) -> Self {
        self.eal.push(arg.into());
        self
    }

    /// An extra dpservice option (after `--`).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// An environment variable besides `DP_CONF=""`.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Do not add the default TAP ports and port options (give your own).
    pub fn without_ports(mut self) -> Self {
        self.ports = false;
        self
    }

    /// The host's underlay address (`--ipv6`, default `fc00:1::1`); daemons that exchange
    /// tunnels need different /64s, or their generated interface addresses could clash.
    pub fn underlay(mut self, addr: Ipv6Addr) -> Self {
        self.underlay = addr;
        self
    }

    /// Leave out `--no-stats` (the statistics screen goes to stdout, among the logs).
    pub fn stats_screen(mut self) -> Self {
        self.stats = true;
        self
    }

    /// How many VF ports (default 2; `net_tap2` onwards).
    pub fn vfs(mut self, count: usize) -> Self {
        self.vfs = count;
        self
    }

    /// Use this `--file-prefix` (another daemon's, e.g. after it was killed) instead of
    /// a fresh unique one.
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = Some(prefix.to_owned());
        self
    }

    /// Listen on this gRPC port instead of a free one (only in a namespace of its own,
    /// where nothing else can hold it).
    pub fn grpc_port(mut self, port: u16) -> Self {
        self.grpc_port = Some(port);
        self
    }

    /// Return right after spawning (for daemons expected to fail or stand by).
    pub fn no_wait(mut self) -> Self {
        self.wait = false;
        self
    }

    /// Starts the daemon (and waits for health SERVING unless `no_wait`).
    pub fn spawn(self) -> Daemon {
        let id = unique_id();
        let prefix = self.prefix.clone().unwrap_or_else(|| format!("dpt{id}"));
        let own_ns = (self.netns.is_none() && !self.root_netns).then(|| NetNs::new("d"));
        let ns_path = self.netns.or(own_ns.as_ref()).map(NetNs::path);
        let ns_name = self.netns.or(own_ns.as_ref()).map(|n| n.name().to_owned());
        let port = self
            .grpc_port
            .unwrap_or_else(|| free_port(ns_path.as_deref()));
        let taps = TapNames::new(&id, self.vfs);

        let mut cmd = match &ns_name {
            Some(name) => {
                let mut c = Command::new(ip_tool());
                c.args(["netns", "exec", name]).arg(bin());
                c
            }
            None => Command::new(bin()),
        };
        cmd.env_clear().env("DP_CONF", "");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.arg(format!("--file-prefix={prefix}")).arg("--no-pci");
        let backend = test_backend();
        if dpdk_backend() {
            cmd.args(["--no-huge", "-m", &DPDK_TEST_MEMORY_MB.to_string()]);
        }
        if self.ports {
            cmd.args(taps.vdevs());
        }
        cmd.args(&self.eal)
            .arg("--")
            .arg(format!("--grpc-port={port}"));
        if let Some(backend) = backend {
            cmd.arg(format!("--port-backend={backend}"));
        }
        if self.ports {
            cmd.args(taps.options(self.underlay));
        }
        if !self.stats {
            cmd.arg("--no-stats");
        }
        cmd.args(&self.args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("cannot start dpservice-bin");
        let output = Arc::new(Output::default());
        let stdout = child.stdout.take().unwrap();
        let unread_stdout = if self.read_stdout {
            output.read_from(stdout, "");
            None
        } else {
            Some(stdout)
        };
        output.read_from(child.stderr.take().unwrap(), "stderr: ");
        let daemon = Daemon {
            child,
            prefix,
            port,
            taps,
            netns_path: ns_path,
            netns_name: ns_name,
            own_ns,
            output,
            unread_stdout,
            exited: None,
        };
        if self.wait {
            daemon.wait_serving(START_TIMEOUT);
        }
        daemon
    }
}

/// The default ports: `<id>p0`, `<id>p1`, `<id>vf0`, `<id>vf1`, ... (≤ 15 characters).
#[derive(Debug, Clone)]
pub struct TapNames {
    /// pf0's kernel name.
    pub pf0: String,
    /// pf1's kernel name.
    pub pf1: String,
    /// The VF pattern.
    pub vf_pattern: String,
    /// The VFs' kernel names.
    pub vfs: Vec<String>,
}

impl TapNames {
    fn new(id: &str, vfs: usize) -> TapNames {
        TapNames {
            pf0: format!("{id}p0"),
            pf1: format!("{id}p1"),
            vf_pattern: format!("{id}vf"),
            vfs: (0..vfs).map(|i| format!("{id}vf{i}")).collect(),
        }
    }

    /// The device names of the VFs (`net_tap2`, ...), for `CreateInterface`.
    pub fn vf_devices(&self) -> Vec<String> {
        (0..self.vfs.len())
            .map(|i| format!("net_tap{}", i + 2))
            .collect()
    }

    fn vdevs(&self) -> Vec<String> {
        std::iter::once(&self.pf0)
            .chain([&self.pf1])
            .chain(&self.vfs)
            .enumerate()
            .map(|(i, name)| format!("--vdev=net_tap{i},iface={name}"))
            .collect()
    }

    fn options(&self, underlay: Ipv6Addr) -> Vec<String> {
        vec![
            format!("--pf0={}", self.pf0),
            format!("--pf1={}", self.pf1),
            format!("--vf-pattern={}", self.vf_pattern),
            "--nic-type=tap".to_owned(),
            format!("--ipv6={underlay}"),
            "--no-offload".to_owned(),
        ]
    }
}

/// A running `dpservice-bin`; killed and cleaned up on drop.
#[derive(Debug)]
pub struct Daemon {
    child: Child,
    prefix: String,
    port: u16,
    taps: TapNames,
    netns_path: Option<PathBuf>,
    netns_name: Option<String>,
    own_ns: Option<NetNs>,
    output: Arc<Output>,
    /// Held open and never read ([`Builder::stdout_unread`]).
    unread_stdout: Option<std::process::ChildStdout>,
    exited: Option<ExitStatus>,
}

impl Daemon {
    /// Defaults: private netns, unique prefix and TAP names, free port.
    pub fn builder<'a>() -> Builder<'a> {
        Builder {
            netns: None,
            root_netns: false,
            eal: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            wait: true,
            ports: true,
            vfs: 2,
            underlay: Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 1),
            stats: false,
            read_stdout: true,
            prefix: None,
            grpc_port: None,
        }
    }

    /// A daemon with the defaults, SERVING.
    pub fn start() -> Daemon {
        Daemon::builder().spawn()
    }

    /// `--file-prefix`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `--grpc-port`.
    pub fn grpc_port(&self) -> u16 {
        self.port
    }

    /// The TAP names it was given.
    pub fn taps(&self) -> &TapNames {
        &self.taps
    }

    /// `/var/run/dpdk/<prefix>`.
    pub fn runtime_dir(&self) -> PathBuf {
        Path::new("/var/run/dpdk").join(&self.prefix)
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its network namespace's name (`None`: the test's own).
    pub fn netns(&self) -> Option<&str> {
        self.netns_name.as_deref()
    }

    /// Everything it printed so far (stderr lines prefixed `stderr: `).
    pub fn logs(&self) -> String {
        self.output.text()
    }

    /// Waits for an output line containing `needle`; when it was read.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> Option<Instant> {
        self.output.wait_for(needle, timeout)
    }

    /// Waits until the start-up pre-fault of the shared-memory region is done (its log
    /// line); panics with the daemon's output if it never comes.
    pub fn wait_prefaulted(&self) {
        assert!(
            self.wait_for_log("pre-faulted in", Duration::from_secs(20))
                .is_some(),
            "the region was not pre-faulted: {}",
            self.logs()
        );
    }

    /// A gRPC channel to it over IPv4 loopback.
    pub async fn channel(&self) -> Channel {
        self.try_channel(SocketAddr::from(([127, 0, 0, 1], self.port)))
            .await
            .unwrap_or_else(|e| panic!("cannot connect: {e}\n{}", self.logs()))
    }

    /// A gRPC channel to any address inside its namespace.
    pub async fn try_channel(&self, addr: SocketAddr) -> Result<Channel, tonic::transport::Error> {
        channel_in(self.netns_path.clone(), addr).await
    }

    /// `grpc.health.v1.Health` client.
    pub async fn health_client(&self) -> HealthClient<Channel> {
        HealthClient::new(self.channel().await)
    }

    /// `dpdkironcore.v1.DPDKironcore` client.
    pub async fn client(&self) -> DpdKironcoreClient<Channel> {
        DpdKironcoreClient::new(self.channel().await)
    }

    /// Runs `f` with the shared typed client (`dpservice::client::Client`) connected to
    /// the daemon, on a thread inside its namespace with a runtime of its own (usable from
    /// plain `#[test]`s); returns what `f` returns.
    pub fn with_client<F, Fut, T>(&self, f: F) -> T
    where
        F: FnOnce(Client) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = T>,
        T: Send + 'static,
    {
        let address = format!("127.0.0.1:{}", self.port);
        in_netns(self.netns_path.as_deref(), move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let client = Client::connect(&address, &ConnectOptions::default())
                    .await
                    .map_err(std::io::Error::other)?;
                Ok::<T, std::io::Error>(f(client).await)
            })
        })
        .unwrap_or_else(|e| {
            panic!(
                "gRPC client in the daemon's namespace: {e}\n{}",
                self.logs()
            )
        })
    }

    /// Runs `program` in the daemon's namespace with `DP_GRPC_PORT` and
    /// `DP_FILE_PREFIX` pointing at it.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = match &self.netns_name {
            Some(name) => {
                let mut c = Command::new(ip_tool());
                c.args(["netns", "exec", name]).arg(program);
                c
            }
            None => Command::new(program),
        };
        cmd.env("DP_GRPC_PORT", self.port.to_string())
            .env("DP_FILE_PREFIX", &self.prefix);
        cmd
    }

    /// Blocks until health Check("") answers SERVING (usable from async tests too:
    /// it runs its own runtime on a separate thread).
    pub fn wait_serving(&self, timeout: Duration) {
        let ns = self.netns_path.clone();
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let serving = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    let deadline = Instant::now() + timeout;
                    while Instant::now() < deadline {
                        let serving = rt.block_on(async {
                            let channel = channel_in(ns.clone(), addr).await.ok()?;
                            let r = HealthClient::new(channel)
                                .check(HealthCheckRequest {
                                    service: String::new(),
                                })
                                .await
                                .ok()?;
                            Some(r.into_inner().status() == ServingStatus::Serving)
                        });
                        if serving == Some(true) {
                            return true;
                        }
                        std::thread::sleep(Duration::from_millis(25));
                    }
                    false
                })
                .join()
                .unwrap()
        });
        assert!(
            serving,
            "dpservice-bin not SERVING after {timeout:?}:\n{}",
            self.logs()
        );
    }

    /// Sends a signal.
    pub fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(self.child.id() as i32).unwrap();
        kill_process(pid, signal).unwrap();
    }

    /// SIGKILL, and reap.
    pub fn kill(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            self.exited = self.child.wait().ok();
        }
    }

    /// Waits for the process to end.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if self.exited.is_some() {
            return self.exited;
        }
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.exited = Some(status);
                // let the readers take the last lines
                std::thread::sleep(Duration::from_millis(50));
                return self.exited;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
        // a killed daemon cannot remove its instance files: the test does
        let _ = std::fs::remove_dir_all(self.runtime_dir());
        remove_region_of(&self.prefix, self.pid());
        if std::thread::panicking() {
            eprintln!(
                "--- dpservice-bin {} output ---\n{}",
                self.prefix,
                self.logs()
            );
        }
    }
}

/// Removes the shared-memory region of instance `prefix` if the daemon with `pid`
/// created it (a killed daemon cannot; a successor's region under the same prefix stays).
pub fn remove_region_of(prefix: &str, pid: u32) {
    let Ok(instance) = dpservice::instance::Instance::new(prefix) else {
        return;
    };
    let path = instance.shm_path();
    let ours = dpservice::shm::region::Region::open(&path).is_ok_and(|r| r.creator_pid() == pid);
    if ours {
        let _ = std::fs::remove_file(path);
    }
}
