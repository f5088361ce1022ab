//! Golden output of every resource in every format, against the real daemon started by
//! the test: objects, lists (sorted, empty, wide), and errors from all three sources.
//!
//! The expected text is `golden/daemon.txt`; after a deliberate change, regenerate it
//! with `UPDATE_GOLDEN=1 cargo test -p dpservice-cli --test daemon_golden` and review
//! the diff. Random values (the instance UUID) and the per-test device tag are masked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::daemon::Daemon;

/// The scenario, in order: each line is one CLI invocation inside the daemon's netns.
const SCENARIO: &[&str] = &[
    // Not initialized yet: gRPC errors; empty lists are not reachable before init.
    "-o json get init",
    "get init",
    "-o yaml get init",
    "init",
    "-o json init",
    // Empty lists.
    "list interfaces",
    "-o json list interfaces",
    "-o name list interfaces",
    "-o yaml list loadbalancers",
    "-o json list routes",
    "-o json list prefixes",
    "-o json list fwrules",
    "-o json list nats",
    "-o json get nat",
    "get vip",
    // Version.
    "-o yaml get version",
    // Interfaces.
    "add interface --id=vm1 --device=net_tap2 --vni=100 --ipv4=10.100.1.1 --ipv6=2000:100:1::1 --pxe-server=2001:dede::1 --pxe-file-name=ipxe --hostname=vm1-host",
    "-o json add interface --id=vm2 --device=net_tap3 --vni=200 --ipv4=10.200.1.2 --ipv6=2000:200:1::2 --total-meter-rate=1000 --public-meter-rate=500",
    "-o json get interface --id=vm1",
    "-o yaml get interface --id=vm2",
    "-o name get interface --id=vm1",
    "get interface --id=vm2",
    "-o json list interfaces",
    "-o yaml list interfaces",
    "-o name list interfaces",
    "list interfaces",
    "list interfaces --sort-by=vni",
    "-o json add interface --id=vm1 --device=net_tap2 --vni=100 --ipv4=10.100.1.1",
    "get interface --id=nope",
    "-o json get interface --id=nope",
    // Prefixes and load-balancer prefixes.
    "add prefix --interface-id=vm1 --prefix=10.10.2.0/24",
    "-o json add prefix --interface-id=vm1 --prefix=10.10.1.0/24",
    "-o json list prefixes --interface-id=vm1",
    "list prefixes",
    "-o yaml get prefix --interface-id=vm1",
    "add lbprefix --interface-id=vm2 --prefix=10.20.0.0/16",
    "-o json list lbprefixes --interface-id=vm2",
    "-o json list lbprefixes",
    "list lbprefixes --interface-id=vm2",
    "-o json del lbprefix --interface-id=vm2 --prefix=10.20.0.0/16",
    "-o json del prefix --interface-id=vm1 --prefix=10.10.1.0/24",
    "del prefix --interface-id=vm1 --prefix=10.10.1.0/24",
    // Routes.
    "add route --vni=100 --prefix=10.100.2.0/24 --next-hop-vni=0 --next-hop-ip=fc00:2::64:0:1",
    "-o json add route --vni=100 --prefix=0.0.0.0/0 --next-hop-vni=100 --next-hop-ip=fc00::ffff",
    "-o json list routes --vni=100",
    "-o yaml list routes --vni=100",
    "-o name list routes --vni=100",
    "list routes --vni=100 --sort-by=nexthopvni",
    "-o json del route --vni=100 --prefix=10.100.2.0/24",
    "-o table del route --vni=100 --prefix=0.0.0.0/0",
    // Virtual IPs.
    "add vip --interface-id=vm1 --vip=172.20.0.1",
    "-o json get vip --interface-id=vm1",
    "get vip --interface-id=vm1",
    "get vip",
    "-o json add vip --interface-id=vm1 --vip=1234::1",
    // NATs.
    "add nat --interface-id=vm2 --nat-ip=172.21.1.1 --minport=100 --maxport=102",
    "-o json get nat --interface-id=vm2",
    "-o yaml get nat --interface-id=vm2",
    "get nat --interface-id=vm2",
    "-o json get nat",
    "add neighnat --nat-ip=172.21.1.1 --vni=100 --minport=500 --maxport=520 --underlayroute=fc00:2::64:0:1",
    "-o json list nats --nat-ip=172.21.1.1 --nat-type=local",
    "-o json list nats --nat-ip=172.21.1.1 --nat-type=neigh",
    "list nats --nat-ip=172.21.1.1",
    "-o name list nats --nat-ip=172.21.1.1",
    "-o json list nats --nat-ip=1234::1 --nat-type=local",
    // Wide interface views.
    "list interfaces -w",
    "-o json get interface --id=vm1 -w",
    // Load balancers and targets.
    "add loadbalancer --id=my_lb --vni=100 --vip=172.22.2.1 --lbports=tcp/80,udp/80",
    "-o json get loadbalancer --id=my_lb",
    "-o yaml get lb --id=my_lb",
    "get loadbalancer --id=my_lb",
    "-o json list loadbalancers",
    "add lbtarget --lb-id=my_lb --target-ip=fc00::2",
    "-o json add lbtarget --lb-id=my_lb --target-ip=fc00::1",
    "-o json list lbtargets --lb-id=my_lb",
    "list lbtargets --lb-id=my_lb",
    "-o json del lbtarget --lb-id=my_lb --target-ip=fc00::2",
    "-o json add lb --id=bad_lb --vni=100 --vip=172.22.2.9 --lbports=udp/65536",
    // Firewall rules.
    "add fwrule --interface-id=vm1 --rule-id=fw0-vm1 --src=1.2.3.4/16 --dst=0.0.0.0/0 --protocol=tcp --src-port-min=-1 --src-port-max=-1 --dst-port-min=-1 --dst-port-max=-1 --action=accept --direction=ingress",
    "-o json add fwrule --interface-id=vm1 --rule-id=fw2-vm1 --src=0.0.0.0/0 --dst=0.0.0.0/0 --action=accept --direction=ingress --priority=5",
    "-o json add fwrule --interface-id=vm1 --rule-id=fw1-vm1 --src=4.5.6.7/16 --dst=0.0.0.0/0 --protocol=icmp --icmp-type=8 --icmp-code=-1 --action=accept --direction=egress",
    "-o json get fwrule --interface-id=vm1 --rule-id=fw0-vm1",
    "-o yaml get fwrule --interface-id=vm1 --rule-id=fw1-vm1",
    "list fwrules --interface-id=vm1",
    "-o name list fwrules",
    "-o json add fwrule --interface-id=vm1 --rule-id=fw3-vm1 --src=0.0.0.0/0 --dst=0.0.0.0/0 --action=drop --direction=ingress",
    "-o json del fwrule --interface-id=vm1 --rule-id=fw2-vm1",
    // VNIs.
    "get vni --vni=100 --vni-type=0",
    "-o json get vni --vni=300 --vni-type=0",
    "-o json get vni --vni=100 --vni-type=2",
    // Capture on TAP ports.
    "-o json capture status",
    // Client-side errors need no daemon answer but run against it all the same.
    "-o json add vip --interface-id=vm1 --vip=xxx",
    "get interface --bogus",
    "list routes --vni=-1",
    // Deleting everything.
    "-o json del lb --id=my_lb",
    "del nat --interface-id=vm2",
    "-o json del neighnat --nat-ip=172.21.1.1 --vni=100 --minport=500 --maxport=520",
    "del vip --interface-id=vm1",
    "-o json del interface --id=vm2",
    "del interface --id=vm1",
    "-o json reset vni --vni=100",
    "list interfaces",
];

/// UUIDs and the per-test device tag replaced by fixed-width placeholders.
fn mask(text: &str, tag: &str) -> String {
    let text = text.replace(tag, "TAGTAG");
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let is_uuid = b.len() - i >= 36
            && b[i..i + 36].iter().enumerate().all(|(k, c)| match k {
                8 | 13 | 18 | 23 => *c == b'-',
                _ => c.is_ascii_hexdigit(),
            });
        if is_uuid {
            out.push_str("UUID-UUID-UUID-UUID-UUID-UUID-UUID-U");
            i += 36;
        } else {
            let c = text[i..].chars().next().unwrap_or('?');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn record(line: &str, code: i32, stdout: &str) -> String {
    format!("$ {line}   # exit {code}\n{stdout}%%\n")
}

#[test]
fn every_resource_in_every_format_against_the_real_daemon() {
    let daemon = Daemon::start();
    let mut actual = Vec::new();
    for line in SCENARIO {
        let r = daemon.cli(line);
        assert!(r.stderr.is_empty(), "stderr of `{line}`: {}", r.stderr);
        actual.push(record(line, r.code, &mask(&r.stdout, &daemon.id)));
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/daemon.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual.concat()).unwrap();
        return;
    }
    let golden = std::fs::read_to_string(&path)
        .expect("tests/golden/daemon.txt (UPDATE_GOLDEN=1 creates it)");
    let expected: Vec<String> = golden.split_inclusive("%%\n").map(str::to_owned).collect();
    assert_eq!(
        expected.len(),
        actual.len(),
        "golden file and scenario differ in length; regenerate"
    );
    for (e, a) in expected.iter().zip(&actual) {
        assert_eq!(a, e, "daemon log:\n{}", daemon.log());
    }
}
