//! `dpservice-dump` against the real daemon: text lines of a known flow, `--drops`,
//! `--nodes`, `--filter`, `-c`, pcap and pcapng read back by tshark, a live pipe into
//! tcpdump, and a killed dump that the daemon detaches by itself.
//!
//! The dump binary is the one next to the daemon's (`cargo test --workspace` builds both;
//! for a narrow run build it first with `cargo build -p dpservice-dump`).

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dpservice::instance::Instance;
use dpservice::shm::mirror::Rings;

use super::*;

fn dump_bin() -> PathBuf {
    let bin = support::bin().with_file_name("dpservice-dump");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p dpservice-dump` (cargo test --workspace builds it)",
        bin.display()
    );
    bin
}

fn rings(rig: &Rig) -> Rings {
    Rings::open(&Instance::new(rig.daemon.prefix()).unwrap()).unwrap()
}

/// Starts a dump of the rig's daemon and waits until tracing is on for it.
fn start_dump(rig: &Rig, args: &[&str]) -> Child {
    let before = rings(rig).tracing();
    let mut child = Command::new(dump_bin())
        .arg(format!("--file-prefix={}", rig.daemon.prefix()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut exited = None;
    wait_for(Duration::from_secs(5), "the dump attaches", || {
        exited = child.try_wait().unwrap();
        rings(rig).tracing() > before || exited.is_some()
    });
    if let Some(status) = exited.filter(|_| rings(rig).tracing() <= before) {
        // e.g. a dpservice-dump of an older build refusing the region: say so
        let (_, stderr) = finish(child);
        panic!("the dump exited ({status}) before attaching:\n{stderr}");
    }
    child
}

fn wait_for(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
    start.elapsed()
}

/// Waits for the dump to exit (it must, by `-c`) and returns stdout and stderr.
fn finish(mut child: Child) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            let mut err = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            assert!(status.success(), "dump failed: {err}");
            return (out, err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the dump did not stop by itself");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The lines without their time of day and packet id (`HH:MM:SS.mmm N: `).
fn bodies(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let (time, rest) = l.split_once(' ').unwrap();
            assert_eq!(time.len(), 12, "time of day in {l:?}");
            let (id, rest) = rest.split_once(": ").unwrap();
            assert!(id.parse::<u32>().is_ok(), "packet id in {l:?}");
            rest.to_owned()
        })
        .collect()
}

fn vm_to_vm(rig: &mut Rig, sport: u16) {
    let (vm1, vf0, vf1) = (vm_mac(1), port_mac(VF0), port_mac(VF1));
    let frame = eth(
        vf0,
        vm1,
        ethertype::IPV4,
        &ipv4_udp(VM1_IP, VM2_IP, sport, 80, b"hello"),
    );
    rig.exchange(VF0, &frame, VF1, from_mac(vf1))
        .expect("VM to VM");
}

fn configured_rig() -> Rig {
    let mut rig = Rig::start(&[]);
    rig.configure();
    lease(&mut rig, VF0, vm_mac(1));
    lease(&mut rig, VF1, vm_mac(2));
    rig
}

#[test]
fn text_lines_filters_nodes_drops_and_count() {
    let mut rig = configured_rig();
    let udp =
        "52:54:00:00:00:01 -> 66:66:66:66:66:00 / 10.100.1.1 -> 10.100.1.2 / UDP 4000 -> 80 len 13";
    let out =
        "66:66:66:66:66:01 -> 52:54:00:00:00:02 / 10.100.1.1 -> 10.100.1.2 / UDP 4000 -> 80 len 13";

    // default: ingress and egress only; the filter hides the periodic ARP/ND traffic
    let dump = start_dump(&rig, &["--filter", "udp and port 80", "-c", "2"]);
    vm_to_vm(&mut rig, 4000);
    let (text, err) = finish(dump);
    assert_eq!(
        bodies(&text),
        [
            format!("PORT 2         >> rx-2-0        : {udp}"),
            format!("tx-3           >> PORT 3        : {out}"),
        ]
    );
    assert!(err.contains("2 entries captured, 0 entries lost"), "{err}");
    assert!(
        err.ends_with("\nGraphtrace successfully disabled in dp-service\n"),
        "{err}"
    );

    // --nodes= (all): every hand-over, in order, between the same rx and tx lines
    let dump = start_dump(&rig, &["--nodes=", "--filter", "udp port 80", "-c", "4"]);
    vm_to_vm(&mut rig, 4000);
    let (text, _) = finish(dump);
    let lines = bodies(&text);
    assert_eq!(lines[0], format!("PORT 2         >> rx-2-0        : {udp}"));
    assert_eq!(lines[1], format!("rx-2-0         -> cls           : {udp}"));
    assert!(lines[2].starts_with("cls            -> "), "{lines:?}");

    // --nodes=^cls: only what leaves cls, no rx/tx lines
    let dump = start_dump(
        &rig,
        &["--nodes=^cls", "--filter", "udp port 80", "-c", "1"],
    );
    vm_to_vm(&mut rig, 4000);
    let (text, _) = finish(dump);
    let lines = bodies(&text);
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("cls            -> "), "{lines:?}");

    // --drops: vm3 (VNI 200) cannot reach vm1's address in its VNI: a DROP line
    let dump = start_dump(
        &rig,
        &["--drops", "--filter", "udp and dst port 2", "-c", "2"],
    );
    let from_vm3 = eth(
        port_mac(VF2),
        vm_mac(3),
        ethertype::IPV4,
        &ipv4_udp(VM3_IP, VM1_IP, 1, 2, b"x"),
    );
    rig.silence(VF2, &from_vm3, VF0, from_mac(port_mac(VF0)));
    let (text, _) = finish(dump);
    let lines = bodies(&text);
    let vm3 =
        "52:54:00:00:00:03 -> 66:66:66:66:66:02 / 10.200.1.1 -> 10.100.1.1 / UDP 1 -> 2 len 9";
    assert_eq!(
        lines,
        [
            format!("PORT 4         >> rx-4-0        : {vm3}"),
            format!("drop           >> DROP          : {vm3}"),
        ]
    );
}

#[test]
fn pcap_and_pcapng_files_decode_in_tshark() {
    let mut rig = configured_rig();
    let dir = std::env::temp_dir().join(format!("dpdump-{}", support::unique_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("flow.pcap");
    let pcapng = dir.join("flow.pcapng");
    for (opt, file) in [("--pcap", &pcap), ("--pcapng", &pcapng)] {
        let dump = start_dump(
            &rig,
            &[
                "--drops",
                "--filter",
                "port 80",
                "-c",
                "2",
                opt,
                file.to_str().unwrap(),
            ],
        );
        vm_to_vm(&mut rig, 4000);
        let (stdout, _) = finish(dump);
        assert!(stdout.is_empty(), "nothing on stdout with {opt}");
    }
    let tshark = |args: &[&str]| {
        let out = Command::new("tshark")
            .args(args)
            .output()
            .expect("tshark (Debian package tshark)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let classic = tshark(&[
        "-r",
        pcap.to_str().unwrap(),
        "-T",
        "fields",
        "-e",
        "ip.src",
        "-e",
        "udp.dstport",
    ]);
    assert_eq!(classic, "10.100.1.1\t80\n10.100.1.1\t80\n");
    let ng = tshark(&[
        "-r",
        pcapng.to_str().unwrap(),
        "-T",
        "fields",
        "-e",
        "frame.interface_name",
        "-e",
        "frame.comment",
        "-e",
        "udp.dstport",
    ]);
    let rows: Vec<&str> = ng.lines().collect();
    assert_eq!(rows.len(), 2, "{ng}");
    assert!(
        rows[0].starts_with("rx-2-0\t")
            && rows[0].contains(": PORT 2 >> rx-2-0")
            && rows[0].ends_with("\t80"),
        "{ng}"
    );
    assert!(
        rows[1].starts_with("tx-3\t") && rows[1].contains(": tx-3 >> PORT 3"),
        "{ng}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_pcap_pipe_shows_the_first_packet_at_once() {
    let mut rig = configured_rig();
    let mut dump = Command::new(dump_bin())
        .arg(format!("--file-prefix={}", rig.daemon.prefix()))
        .args(["--filter", "udp port 80", "--pcap", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut tcpdump = Command::new("tcpdump")
        .args(["-n", "-l", "-r", "-"])
        .stdin(dump.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tcpdump (Debian package tcpdump)");
    wait_for(Duration::from_secs(5), "the dump attaches", || {
        rings(&rig).tracing() > 0
    });
    let mut lines = BufReader::new(tcpdump.stdout.take().unwrap()).lines();
    let sent = Instant::now();
    vm_to_vm(&mut rig, 4000);
    let first = lines.next().unwrap().unwrap();
    let delay = sent.elapsed();
    assert!(
        first.contains("10.100.1.1.4000 > 10.100.1.2.80: UDP"),
        "{first}"
    );
    // rx of the packet is written a burst before the answer the exchange waited for;
    // a dump that held its output back until a buffer filled would never show it here
    // (the bound leaves room for a loaded CI machine)
    assert!(
        delay < Duration::from_millis(400),
        "first packet after {delay:?}"
    );
    // tcpdump gone: the dump sees a closed pipe on its next write and detaches cleanly
    tcpdump.kill().unwrap();
    tcpdump.wait().unwrap();
    vm_to_vm(&mut rig, 4001);
    vm_to_vm(&mut rig, 4002);
    let status = {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(s) = dump.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "dump still running after its reader left"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let mut err = String::new();
    dump.stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{err}");
    assert!(
        err.contains("Graphtrace successfully disabled in dp-service"),
        "{err}"
    );
    assert_eq!(rings(&rig).tracing(), 0);
}

#[test]
fn a_killed_dump_is_detached_by_the_daemon_within_two_seconds() {
    let mut rig = configured_rig();
    let mut dump = start_dump(&rig, &["--nodes="]);
    let second = start_dump(&rig, &["--drops"]);
    assert_eq!(rings(&rig).tracing(), 2, "two dumps at once");
    vm_to_vm(&mut rig, 4000);
    dump.kill().unwrap(); // SIGKILL: no detach of its own
    dump.wait().unwrap();
    let took = wait_for(
        Duration::from_secs(2),
        "the killed dump's ring detached",
        || rings(&rig).tracing() == 1,
    );
    eprintln!("detached {took:?} after SIGKILL");
    // the other dump goes on; --stop switches it off too
    let status = Command::new(dump_bin())
        .arg(format!("--file-prefix={}", rig.daemon.prefix()))
        .arg("--stop")
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(rings(&rig).tracing(), 0);
    let mut second = second;
    let s = second.wait().unwrap();
    let mut err = String::new();
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(s.code(), Some(1), "{err}");
    assert!(err.contains("--stop"), "{err}");
    // packets still flow with tracing off
    vm_to_vm(&mut rig, 4001);
}
