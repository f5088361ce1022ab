//! A real Prometheus server (Debian's `prometheus`) scrapes the exporter on loopback in
//! the daemon's namespace; its HTTP API returns the expected series.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::dashboard::{all_selected, panels};
use crate::exporter::{http_get, netns_path, try_http_get, upstream_setup, Exporter};
use crate::support::{free_port, unique_id, Daemon};

/// `prometheus` on loopback with a temporary config and data directory; killed and its
/// directory removed on drop.
struct PrometheusServer {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl PrometheusServer {
    fn start(d: &Daemon, target_port: u16) -> PrometheusServer {
        let dir = std::env::temp_dir().join(format!("dpexp-prom-{}", unique_id()));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: dpservice\n    static_configs:\n\
             \x20     - targets: ['127.0.0.1:{target_port}']\n"
        );
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let port = free_port(Some(&netns_path(d)));
        let child = d
            .command("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("log")).unwrap())
            .spawn()
            .expect("the test needs Prometheus (apt-get install prometheus)");
        PrometheusServer { child, dir, port }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- prometheus log ---\n{}", self.log());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn prometheus_scrapes_the_exporter() {
    // which prometheus is not a question of this test: fail loudly when it is missing
    assert!(
        Command::new("prometheus").arg("--version").output().is_ok(),
        "the test needs Prometheus (apt-get install prometheus)"
    );
    let d = upstream_setup(None);
    let _e = Exporter::start(&d, 9064, &["-hostname=hv1", "-poll-interval=1"]);
    let prom = PrometheusServer::start(&d, 9064);
    let ns = netns_path(&d);

    let query = "/api/v1/query?query=sort(dps_firewall_rules_count)";
    let deadline = Instant::now() + Duration::from_secs(60);
    let ids: Vec<String> = loop {
        // refused until Prometheus has started
        let (status, body) = try_http_get(&ns, prom.port, query).unwrap_or_default();
        if status == 200 {
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["status"], "success", "{body}");
            let result = v["data"]["result"].as_array().unwrap();
            if !result.is_empty() {
                for s in result {
                    assert_eq!(s["metric"]["job"], "dpservice", "{body}");
                    assert_eq!(s["value"][1], "0", "{body}");
                }
                break result
                    .iter()
                    .map(|s| s["metric"]["interface_id"].as_str().unwrap().to_owned())
                    .collect();
            }
        }
        assert!(
            Instant::now() < deadline,
            "no series in Prometheus:\n{}",
            prom.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let mut ids = ids;
    ids.sort();
    assert_eq!(ids, ["vm1", "vm2", "vm3"]);

    // the dashboard's saturation expression evaluates
    let q = "/api/v1/query?query=100*dps_hash_table_saturation%7Bstat%3D%22entries%22%2Ctable%3D%22interface_table%22%7D/ignoring(stat)dps_hash_table_saturation%7Bstat%3D%22capacity%22%2Ctable%3D%22interface_table%22%7D";
    let (status, body) = http_get(&ns, prom.port, q);
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let pct: f64 = v["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((pct - 300.0 / 128.0).abs() < 1e-9, "{body}");

    // every query of the dashboard is valid PromQL for this Prometheus, and those over
    // upstream's families that need no traffic find series
    for p in panels() {
        for t in p["targets"].as_array().unwrap() {
            let expr = all_selected(t["expr"].as_str().unwrap());
            let (status, body) = http_get(
                &ns,
                prom.port,
                &format!("/api/v1/query?query={}", encode(&expr)),
            );
            assert_eq!(status, 200, "{expr}: {body}");
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["status"], "success", "{expr}: {body}");
            let direct = !expr.contains("rate(") && !expr.contains("virtsvc");
            if direct {
                assert!(
                    !v["data"]["result"].as_array().unwrap().is_empty(),
                    "{expr} has no series: {body}"
                );
            }
        }
    }
}

/// Percent-encoding of a query parameter value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
