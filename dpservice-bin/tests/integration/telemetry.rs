//! The telemetry socket of the real daemon (tools.md §3, the checks of §4.6), spoken to
//! with a raw `SOCK_SEQPACKET` client written from the spec, and with Debian's
//! `dpdk-telemetry.py`.

use std::collections::BTreeSet;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use dpservice::model::FirewallAction;
use dpservice::model::FirewallRuleRef;
use rustix::net::sockopt::{set_socket_timeout, Timeout};
use rustix::net::{
    connect, recv, send, socket, AddressFamily, RecvFlags, SendFlags, SocketAddrUnix, SocketType,
};
use rustix::process::Signal;
use serde_json::Value;

use crate::api::{iface, rule};
use crate::support::Daemon;

/// A client as upstream's test helper is: one `recv` per message.
struct Raw(OwnedFd);

impl Raw {
    /// Connects without reading the greeting.
    fn connect(path: &Path) -> Raw {
        let fd = socket(AddressFamily::UNIX, SocketType::SEQPACKET, None).unwrap();
        set_socket_timeout(&fd, Timeout::Recv, Some(Duration::from_secs(5))).unwrap();
        connect(&fd, &SocketAddrUnix::new(path).unwrap()).unwrap();
        Raw(fd)
    }

    /// One message as text ("" when the server closed the connection).
    fn recv(&self) -> String {
        let mut buf = vec![0u8; 65536];
        let (n, _) = recv(&self.0, &mut buf[..], RecvFlags::empty()).unwrap();
        assert!(n <= 16384, "message of {n} bytes");
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    fn ask(&self, message: &str) -> String {
        send(&self.0, message.as_bytes(), SendFlags::NOSIGNAL).unwrap();
        self.recv()
    }

    /// Sends `message` and returns the value under `key`.
    fn value(&self, message: &str, key: &str) -> Value {
        let text = self.ask(message);
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), 1, "{text}");
        obj.get(key)
            .unwrap_or_else(|| panic!("no key {key:?}: {text}"))
            .clone()
    }

    /// As upstream's helper: `"<command>,0\n"`, the value under the command.
    fn cmd(&self, command: &str) -> Value {
        self.value(&format!("{command},0\n"), command)
    }
}

fn socket_path(d: &Daemon) -> PathBuf {
    d.runtime_dir().join("dpdk_telemetry.v2")
}

/// A client that has read the greeting.
fn client(d: &Daemon) -> Raw {
    let c = Raw::connect(&socket_path(d));
    let greeting: Value = serde_json::from_str(&c.recv()).unwrap();
    assert_eq!(greeting["pid"], d.pid());
    c
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// Six ports like upstream's test setup (PF0, PF1, four VFs), vm1..vm3 created.
fn upstream_setup(extra: &[&str]) -> Daemon {
    let mut b = Daemon::builder().vfs(4);
    for a in extra {
        b = b.arg(*a);
    }
    let d = b.spawn();
    d.with_client(|c| async move {
        c.initialize().await.unwrap();
        for (i, vm) in ["vm1", "vm2", "vm3"].iter().enumerate() {
            let dev = format!("net_tap{}", i + 2);
            let v4 = format!("10.0.0.{}", i + 1);
            let v6 = format!("2001::{}", i + 1);
            c.create_interface(&iface(vm, &dev, 100, &v4, &v6))
                .await
                .unwrap();
        }
    });
    d
}

const TABLES: [&str; 11] = [
    "conntrack_table",
    "interface_table",
    "snat_table",
    "dnat_table",
    "nat_portmap_table",
    "nat_portoverload_table",
    "loadbalancer_table",
    "loadbalancer_id_table",
    "vni_table",
    "vnf_table",
    "reverse_vnf_table",
];

#[test]
fn greeting_builtins_and_framing() {
    let d = Daemon::start();
    let c = Raw::connect(&socket_path(&d));
    let greeting_text = c.recv();
    let greeting: Value = serde_json::from_str(&greeting_text).unwrap();
    assert_eq!(
        keys(&greeting),
        set(&["version", "pid", "max_output_len"]),
        "{greeting_text}"
    );
    assert!(
        greeting_text.starts_with("{\"version\":\"DPDK "),
        "{greeting_text}"
    );
    assert_eq!(greeting["max_output_len"], 16384);
    assert_eq!(greeting["pid"], d.pid());

    // `/`: every command, sorted
    let all: Vec<String> = serde_json::from_value(c.value("/", "/")).unwrap();
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted);
    for needed in [
        "/",
        "/info",
        "/help",
        "/eal/heap_list",
        "/eal/heap_info",
        "/ethdev/list",
        "/ethdev/info",
        "/ethdev/link_status",
        "/ethdev/xstats",
        "/ethdev/stats",
        "/dp_service/graph/obj_count",
        "/dp_service/graph/call_count",
        "/dp_service/graph/cycle_count",
        "/dp_service/graph/realloc_count",
        "/dp_service/graph/drop_count",
        "/dp_service/nat/used_port_count",
        "/dp_service/table/saturation",
        "/dp_service/firewall/rule_count",
    ] {
        assert!(all.iter().any(|c| c == needed), "{needed} missing: {all:?}");
    }
    // without virtual services the command does not exist
    assert!(!all.iter().any(|c| c.contains("virtsvc")), "{all:?}");
    assert_eq!(
        c.ask("/dp_service/virtsvc/used_port_count,0\n"),
        r#"{"/dp_service/virtsvc/used_port_count":null}"#
    );

    assert_eq!(c.value("/info", "/info"), greeting);
    let help = c.value("/help,/dp_service/graph/drop_count", "/help");
    let text = help["/dp_service/graph/drop_count"].as_str().unwrap();
    assert!(!text.is_empty() && text.len() < 64, "{text}");
    assert_eq!(c.ask("/help,/nope"), r#"{"/help":null}"#);
    assert_eq!(c.ask("/help"), r#"{"/help":null}"#);

    // unknown commands and the trailing-newline rule
    assert_eq!(c.ask("/nope"), r#"{"/nope":null}"#);
    assert_eq!(c.ask("/info\n"), "{\"/info\\n\":null}");
    assert_eq!(c.value("/info,0\n", "/info"), greeting);
    assert_eq!(c.ask("nope"), r#"{"nope":null}"#);
    // port ids start with a digit; what follows the number is ignored
    assert_eq!(c.ask("/ethdev/info,x0"), r#"{"/ethdev/info":null}"#);
    assert_eq!(c.ask("/ethdev/info,99"), r#"{"/ethdev/info":null}"#);
    assert_eq!(c.value("/ethdev/info,0junk", "/ethdev/info")["port_id"], 0);
    // a request longer than 1023 bytes is cut, not refused
    let long = format!("/ethdev/list,{}", "x".repeat(3000));
    assert_eq!(
        c.value(&long, "/ethdev/list"),
        serde_json::json!([0, 1, 2, 3])
    );
    // still the same connection
    assert_eq!(
        c.value("/eal/heap_list", "/eal/heap_list"),
        serde_json::json!([0])
    );
}

#[test]
fn dp_service_commands_have_upstreams_keys() {
    let d = upstream_setup(&[]);
    let c = client(&d);

    // graph: Node_0_to_255 with six rx nodes, exactly the nodes of the running graph
    let mut nodes = set(&[
        "rx_periodic",
        "arp",
        "cls",
        "conntrack",
        "dhcp",
        "dhcpv6",
        "dnat",
        "drop",
        "firewall",
        "lb",
        "packet_relay",
        "snat",
        "ipip_decap",
        "ipip_encap",
        "ipv4_lookup",
        "ipv6_lookup",
        "ipv6_nd",
    ]);
    for p in 0..6 {
        nodes.insert(format!("rx-{p}-0"));
        nodes.insert(format!("tx-{p}"));
    }
    for what in ["obj_count", "call_count", "cycle_count", "realloc_count"] {
        let v = c.cmd(&format!("/dp_service/graph/{what}"));
        assert_eq!(keys(&v), set(&["Node_0_to_255"]), "{what}: {v}");
        let block = &v["Node_0_to_255"];
        assert_eq!(keys(block), nodes, "{what}");
        let rx = keys(block)
            .iter()
            .filter(|k| {
                k.strip_prefix("rx-")
                    .and_then(|r| r.strip_suffix("-0"))
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            })
            .count();
        assert_eq!(rx, 6, "{what}");
    }

    // drop reasons in declaration order
    let text = c.ask("/dp_service/graph/drop_count");
    let names: Vec<&str> = dpservice_bin::graph::DropReason::ALL
        .iter()
        .map(|r| r.name())
        .collect();
    let expected: Vec<String> = names.iter().map(|n| format!("\"{n}\":")).collect();
    let mut at = 0;
    for e in &expected {
        let found = text[at..]
            .find(e.as_str())
            .unwrap_or_else(|| panic!("{e} out of order: {text}"));
        at += found + e.len();
    }

    let nat = c.cmd("/dp_service/nat/used_port_count");
    assert_eq!(nat, serde_json::json!({"vm1": 0, "vm2": 0, "vm3": 0}));

    // tables: exactly upstream's names, in registration order
    // the worker publishes the tables between bursts, soon after the calls: wait for it
    let deadline = Instant::now() + Duration::from_secs(5);
    let (text, v) = loop {
        let text = c.ask("/dp_service/table/saturation,0\n");
        let v: Value = serde_json::from_str(&text).unwrap();
        let published = v["/dp_service/table/saturation"]["vni_table"]["entries"] == 1
            && v["/dp_service/table/saturation"]["interface_table"]["entries"] == 3;
        if published || Instant::now() > deadline {
            break (text, v);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let tables = &v["/dp_service/table/saturation"];
    assert_eq!(keys(tables), set(&TABLES));
    let positions: Vec<usize> = TABLES
        .iter()
        .map(|t| text.find(&format!("\"{t}\":")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert_eq!(
        tables["interface_table"],
        serde_json::json!({"capacity": 128, "entries": 3})
    );
    assert_eq!(tables["conntrack_table"]["capacity"], 850_000);
    assert_eq!(tables["vni_table"]["entries"], 1);

    // firewall: counts follow the rules
    let zero = serde_json::json!({"vm1": 0, "vm2": 0, "vm3": 0});
    assert_eq!(c.cmd("/dp_service/firewall/rule_count"), zero);
    d.with_client(|c| async move {
        c.create_firewall_rule(&rule("vm1", "r1", FirewallAction::Accept))
            .await
            .unwrap();
    });
    assert_eq!(
        c.cmd("/dp_service/firewall/rule_count"),
        serde_json::json!({"vm1": 1, "vm2": 0, "vm3": 0})
    );
    d.with_client(|c| async move {
        c.delete_firewall_rule(&FirewallRuleRef {
            interface_id: "vm1".into(),
            rule_id: "r1".into(),
        })
        .await
        .unwrap();
    });
    assert_eq!(c.cmd("/dp_service/firewall/rule_count"), zero);
}

#[test]
fn standard_eal_and_ethdev_commands() {
    let d = upstream_setup(&[]);
    let c = client(&d);
    assert_eq!(c.cmd("/eal/heap_list"), serde_json::json!([0]));
    let heap = c.value("/eal/heap_info,0", "/eal/heap_info");
    assert_eq!(
        keys(&heap),
        set(&[
            "Heap_id",
            "Name",
            "Heap_size",
            "Free_size",
            "Alloc_size",
            "Greatest_free_size",
            "Alloc_count",
            "Free_count"
        ])
    );
    assert!(
        heap["Name"].is_string() && heap["Heap_size"].is_u64(),
        "{heap}"
    );
    assert_eq!(c.value("/eal/heap_info,1", "/eal/heap_info"), Value::Null);

    assert_eq!(c.cmd("/ethdev/list"), serde_json::json!([0, 1, 2, 3, 4, 5]));
    for port in 0..6 {
        let info = c.value(&format!("/ethdev/info,{port}"), "/ethdev/info");
        assert_eq!(info["name"], format!("net_tap{port}"), "{info}");
        assert_eq!(info["mtu"], 1500);
        let link = c.value(
            &format!("/ethdev/link_status,{port}"),
            "/ethdev/link_status",
        );
        match link["status"].as_str() {
            Some("UP") => {
                assert_eq!(keys(&link), set(&["status", "speed", "duplex"]));
                assert_eq!(link["duplex"], "full-duplex");
            }
            Some("DOWN") => assert_eq!(keys(&link), set(&["status"])),
            other => panic!("{other:?}"),
        }
        let xstats = c.value(&format!("/ethdev/xstats,{port}"), "/ethdev/xstats");
        assert_eq!(
            keys(&xstats),
            set(&[
                "rx_good_packets",
                "tx_good_packets",
                "rx_good_bytes",
                "tx_good_bytes",
                "rx_missed_errors",
                "rx_errors",
                "tx_errors",
                "rx_mbuf_allocation_errors",
                "rx_q0_packets",
                "rx_q0_bytes",
                "rx_q0_errors",
                "tx_q0_packets",
                "tx_q0_bytes",
            ])
        );
        let stats = c.value(&format!("/ethdev/stats,{port}"), "/ethdev/stats");
        assert!(
            stats["ipackets"].is_u64() && stats["q_ipackets"].is_array(),
            "{stats}"
        );
    }
    // VM ports with an interface are up; the fourth VF has none
    assert_eq!(
        c.value("/ethdev/link_status,2", "/ethdev/link_status")["status"],
        "UP"
    );
    assert_eq!(
        c.value("/ethdev/link_status,5", "/ethdev/link_status"),
        serde_json::json!({"status": "DOWN"})
    );
    // hide_zero leaves out the zero counters (nothing was received on port 5)
    let hidden = c.value("/ethdev/xstats,5,hide_zero=true", "/ethdev/xstats");
    assert!(
        hidden.as_object().unwrap().values().all(|v| v != 0),
        "{hidden}"
    );
}

#[test]
fn virtual_services_add_their_command_node_and_tables() {
    let d = upstream_setup(&[
        "--udp-virtsvc=1.2.3.4,5353,2a10:afc0:e01f:f408::1,53",
        "--tcp-virtsvc=5.6.7.8,4443,2a10:afc0:e01f:f408::1,443",
    ]);
    let c = client(&d);
    let v = c.cmd("/dp_service/virtsvc/used_port_count");
    assert_eq!(keys(&v), set(&["UDP:1.2.3.4:5353", "TCP:5.6.7.8:4443"]));
    let text = c.ask("/dp_service/table/saturation");
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut expected = set(&TABLES);
    expected.extend(["virtsvc_table_0".to_owned(), "virtsvc_table_1".to_owned()]);
    assert_eq!(keys(&v["/dp_service/table/saturation"]), expected);
    assert!(
        text.starts_with(
            r#"{"/dp_service/table/saturation":{"virtsvc_table_0":{"capacity":64512,"entries":0},"virtsvc_table_1""#
        ),
        "{text}"
    );
    let graph = c.cmd("/dp_service/graph/call_count");
    assert!(keys(&graph["Node_0_to_255"]).contains("virtsvc"));
}

#[test]
fn at_most_ten_clients() {
    let d = Daemon::start();
    let clients: Vec<Raw> = (0..10).map(|_| client(&d)).collect();
    // the eleventh is accepted and closed at once
    let extra = Raw::connect(&socket_path(&d));
    assert_eq!(extra.recv(), "", "the 11th client got a greeting");
    for c in &clients {
        assert_eq!(c.cmd("/eal/heap_list"), serde_json::json!([0]));
    }
    // a place that frees up is taken again
    drop(clients);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let c = Raw::connect(&socket_path(&d));
        if !c.recv().is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no client accepted after the others left"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn stale_socket_replaced_and_removed_at_exit() {
    let mut first = Daemon::start();
    let path = socket_path(&first);
    first.kill();
    assert!(path.exists(), "a killed daemon leaves its socket behind");
    // nobody serves it
    let fd = socket(AddressFamily::UNIX, SocketType::SEQPACKET, None).unwrap();
    assert!(connect(&fd, &SocketAddrUnix::new(&path).unwrap()).is_err());

    let mut second = Daemon::builder().prefix(first.prefix()).spawn();
    assert_eq!(socket_path(&second), path);
    client(&second);
    second.signal(Signal::TERM);
    let status = second.wait_exit(Duration::from_secs(5)).unwrap();
    assert_eq!(status.code(), Some(0), "{}", second.logs());
    assert!(!path.exists(), "socket removed at exit");
    drop(second);
    drop(first);
}

#[test]
fn dpdk_telemetry_py_talks_to_the_daemon() {
    let script = Path::new("/usr/bin/dpdk-telemetry.py");
    assert!(
        script.exists(),
        "this test needs DPDK's dpdk-telemetry.py: apt-get install dpdk-dev"
    );
    let d = upstream_setup(&[]);
    let mut child = std::process::Command::new(script)
        .args(["-f", d.prefix()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"/ethdev/list\n/dp_service/nat/used_port_count\n/ethdev/info,0\nquit\n")
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // the script prints each answer as one JSON line
    let answers: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(answers.len(), 3, "{stdout}");
    assert_eq!(
        answers[..2],
        [
            serde_json::json!({"/ethdev/list": [0, 1, 2, 3, 4, 5]}),
            serde_json::json!({"/dp_service/nat/used_port_count": {"vm1": 0, "vm2": 0, "vm3": 0}}),
        ],
        "{stdout}"
    );
    assert_eq!(answers[2]["/ethdev/info"]["name"], "net_tap0", "{stdout}");
}
