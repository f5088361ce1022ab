//! The exporter under test: started inside a daemon's namespace, fetched over loopback.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpservice::model::CreateInterface;
use dpservice::model::Metering;

use crate::support::{in_netns, Daemon, NetNs};

/// The binary under test.
pub const EXPORTER: &str = env!("CARGO_BIN_EXE_dpservice-exporter");

/// A running exporter; killed on drop.
#[derive(Debug)]
pub struct Exporter {
    child: Child,
    netns: PathBuf,
    /// Its HTTP port.
    pub port: u16,
    stderr: Arc<std::sync::Mutex<String>>,
    exited: Option<ExitStatus>,
}

impl Exporter {
    /// Starts `dpservice-exporter <args>` in `d`'s namespace for `d`'s prefix
    /// (`DP_FILE_PREFIX`), serving on `port`, and waits until the port accepts.
    pub fn start(d: &Daemon, port: u16, args: &[&str]) -> Exporter {
        let e = Exporter::spawn(d, port, args);
        e.wait_listening(Duration::from_secs(20));
        e
    }

    /// Like [`start`](Self::start) without waiting.
    pub fn spawn(d: &Daemon, port: u16, args: &[&str]) -> Exporter {
        let mut cmd = d.command(EXPORTER);
        cmd.arg(format!("--port={port}"))
            .arg(format!("--grpc-port={}", d.grpc_port()))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start dpservice-exporter");
        let stderr = Arc::new(std::sync::Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Exporter {
            child,
            netns: netns_path(d),
            port,
            stderr,
            exited: None,
        }
    }

    /// What it logged so far.
    pub fn logs(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn wait_listening(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        while in_netns(Some(&self.netns), move || {
            TcpStream::connect_timeout(&addr, Duration::from_millis(200))
        })
        .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "exporter not listening after {timeout:?}:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `GET <path>`: (status code, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        http_get(&self.netns, self.port, path)
    }

    /// `GET /metrics`, asserting 200.
    pub fn metrics(&self) -> String {
        let (status, body) = self.get("/metrics");
        assert_eq!(status, 200, "{body}\n{}", self.logs());
        body
    }

    /// Scrapes until `check` accepts the text (or fails after `timeout`).
    pub fn wait_metrics(&self, timeout: Duration, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let (status, body) = self.get("/metrics");
            if status == 200 && check(&body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "metrics never as expected within {timeout:?} (last {status}):\n{body}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the process to end.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while self.exited.is_none() && Instant::now() < deadline {
            self.exited = self.child.try_wait().unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        self.exited
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- dpservice-exporter output ---\n{}", self.logs());
        }
    }
}

/// `/run/netns/<name>` of the daemon's namespace.
pub fn netns_path(d: &Daemon) -> PathBuf {
    PathBuf::from("/run/netns").join(d.netns().expect("the daemon runs in a namespace"))
}

/// A plain HTTP/1.0 GET to 127.0.0.1:`port` inside the namespace.
pub fn http_get(netns: &std::path::Path, port: u16, path: &str) -> (u16, String) {
    try_http_get(netns, port, path).unwrap_or_else(|e| panic!("GET {path} on port {port}: {e}"))
}

/// [`http_get`] that reports connection failures: (status code, body).
pub fn try_http_get(
    netns: &std::path::Path,
    port: u16,
    path: &str,
) -> std::io::Result<(u16, String)> {
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    let text = in_netns(Some(netns), move || {
        let mut s = TcpStream::connect_timeout(
            &SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            Duration::from_secs(2),
        )?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.write_all(request.as_bytes())?;
        let mut out = Vec::new();
        s.read_to_end(&mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    })?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_owned()))
}

/// Six ports like upstream's test setup (PF0, PF1, four VFs), vm1..vm3 created.
pub fn upstream_setup(ns: Option<&NetNs>) -> Daemon {
    upstream_setup_with(ns, &[])
}

/// [`upstream_setup`] with extra daemon options.
pub fn upstream_setup_with(ns: Option<&NetNs>, extra: &[&str]) -> Daemon {
    let mut b = Daemon::builder().vfs(4);
    if let Some(ns) = ns {
        b = b.netns(ns);
    }
    for a in extra {
        b = b.arg(*a);
    }
    let d = b.spawn();
    d.with_client(|c| async move {
        c.initialize().await.unwrap();
        for (i, vm) in ["vm1", "vm2", "vm3"].iter().enumerate() {
            c.create_interface(&iface(vm, &format!("net_tap{}", i + 2), i + 1))
                .await
                .unwrap();
        }
    });
    d
}

/// Interface `id` on `device` in VNI 100 with addresses numbered `n`.
pub fn iface(id: &str, device: &str, n: usize) -> CreateInterface {
    CreateInterface {
        id: id.into(),
        vni: 100,
        ipv4: Some(format!("10.0.0.{n}").parse().unwrap()),
        ipv6: Some(format!("2001::{n}").parse().unwrap()),
        pxe: None,
        device: device.into(),
        metering: Metering::default(),
        preferred_underlay: None,
        hostname: None,
    }
}

/// The series lines of `family` (exact name), e.g. `name{labels} value`.
pub fn series<'a>(text: &'a str, family: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| {
            l.strip_prefix(family)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .collect()
}

/// The family names of the `# TYPE` lines, with their types.
pub fn families(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, t)| (n.to_owned(), t.to_owned()))
        .collect()
}
