//! Every invocation upstream's test harness (`test/local/grpc_client.py`) makes, with its
//! exact argument strings (spec cli.md §9.2), against the real daemon: each call must
//! print exactly one JSON document, and the keys the harness reads must be there with
//! the values it compares.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::daemon::Daemon;

/// One harness call: `--address=... -o json <args>`, parsed as the harness parses it.
fn call(d: &Daemon, args: &str) -> Value {
    let mut argv = vec!["-o".to_owned(), "json".to_owned()];
    argv.extend(shell_split(args));
    let r = d.cli_args(&argv);
    let out = r.stdout.trim();
    assert!(!out.is_empty(), "`{args}`: empty output");
    serde_json::from_str(out)
        .unwrap_or_else(|e| panic!("`{args}`: not one JSON document ({e}): {out}"))
}

/// `shlex.split` for the strings the harness builds (no quotes; runs of spaces).
fn shell_split(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

/// A call that must succeed; its document.
fn ok(d: &Daemon, args: &str) -> Value {
    let v = call(d, args);
    assert_ne!(v["kind"], "Error", "`{args}` failed: {v}");
    v
}

/// A call that must fail with this source and code (the harness's expect_error / expect_failure).
fn fails(d: &Daemon, args: &str, source: &str, code: u64) -> Value {
    let v = call(d, args);
    assert_eq!(v["kind"], "Error", "`{args}` should fail: {v}");
    assert_eq!(v["spec"]["source"], source, "`{args}`: {v}");
    assert_eq!(v["status"]["code"], code, "`{args}`: {v}");
    assert!(v["status"]["message"].is_string());
    v
}

fn specs(v: &Value) -> Vec<Value> {
    v["items"]
        .as_array()
        .expect("items is a list")
        .iter()
        .map(|i| i["spec"].clone())
        .collect()
}

#[test]
fn upstream_harness_calls() {
    let d = Daemon::start();
    let version = support::run_cli(&["-v".to_owned()]).stdout;
    assert_eq!(
        version.trim()["dpservice-cli version ".len()..],
        *dpservice::version::VERSION
    );

    // init / getinit / getversion
    fails(&d, "get init", "grpc", 10);
    let uuid = ok(&d, "init")["spec"]["uuid"].as_str().unwrap().to_owned();
    fails(&d, "init", "client", 1000);
    assert_eq!(ok(&d, "get init")["spec"]["uuid"], uuid);
    let v = ok(&d, "get version");
    assert_eq!(
        v["spec"]["service_protocol"], v["spec"]["service_version"],
        "{v}"
    );

    // interfaces
    let ul1 = ok(&d, "add interface --id=vm1 --device=net_tap2 --vni=100 --ipv4=172.32.10.5 --ipv6=2001::10:5 --hostname=vm1")["spec"]["underlay_route"]
        .as_str()
        .unwrap()
        .to_owned();
    let ul2 = ok(&d, "add interface --id=vm2 --device=net_tap3 --vni=100 --ipv4=172.32.10.6 --ipv6=2001::10:6 --pxe-server=2001:dede::1 --pxe-file-name=ipxe --underlay=fc00:1::8000:0:2")["spec"]["underlay_route"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(ul2, "fc00:1::8000:0:2");
    let vm1 = json!({"vni": 100, "device": "net_tap2", "primary_ipv4": "172.32.10.5", "primary_ipv6": "2001::10:5", "underlay_route": ul1, "metering": {}, "hostname": "vm1"});
    let vm2 = json!({"vni": 100, "device": "net_tap3", "primary_ipv4": "172.32.10.6", "primary_ipv6": "2001::10:6", "underlay_route": ul2, "metering": {}});
    assert_eq!(ok(&d, "get interface --id=vm1")["spec"], vm1);
    assert_eq!(ok(&d, "get interface --id=vm2")["spec"], vm2);
    assert_eq!(specs(&ok(&d, "list interfaces")), vec![vm1, vm2]);
    fails(
        &d,
        "add interface --id=vm2 --device=net_tap3 --vni=100 --ipv4=172.32.10.6 --ipv6=2001::10:6",
        "server",
        202,
    );
    fails(&d, "get interface --id=vm4", "server", 201);
    fails(
        &d,
        "add interface --id=vm4 --device=net_tap9 --vni=100 --ipv4=0.0.0.0 --ipv6=::",
        "grpc",
        3,
    );

    // routes
    ok(
        &d,
        "add route --vni=100 --prefix=10.0.1.0/24 --next-hop-vni=100 --next-hop-ip=fc00:2::64:0:1",
    );
    ok(
        &d,
        "add route --vni=100 --prefix=0.0.0.0/0 --next-hop-vni=0 --next-hop-ip=fc00:2::64:0:2",
    );
    fails(
        &d,
        "add route --vni=100 --prefix=10.0.1.0/24 --next-hop-vni=100 --next-hop-ip=fc00:2::64:0:1",
        "server",
        301,
    );
    let routes = specs(&ok(&d, "list routes --vni=100"));
    assert_eq!(
        routes,
        vec![
            json!({"prefix": "0.0.0.0/0", "next_hop": {"vni": 0, "address": "fc00:2::64:0:2"}}),
            json!({"prefix": "10.0.1.0/24", "next_hop": {"vni": 100, "address": "fc00:2::64:0:1"}}),
        ]
    );
    assert!(
        specs(&ok(&d, "list routes --vni=0")).len() >= 2,
        "--vni=0 lists all VNIs"
    );
    ok(&d, "del route --vni=100 --prefix=0.0.0.0/0");
    fails(&d, "del route --vni=100 --prefix=0.0.0.0/0", "server", 302);

    // prefixes
    let pul = ok(&d, "add prefix --interface-id=vm1 --prefix=1.2.4.0/24")["spec"]["underlay_route"]
        .clone();
    let pul2 = ok(
        &d,
        "add prefix --interface-id=vm1 --prefix=1.2.3.0/24 --underlay=fc00:1::8000:0:3",
    )["spec"]["underlay_route"]
        .clone();
    assert_eq!(pul2, "fc00:1::8000:0:3");
    let expect = vec![
        json!({"prefix": "1.2.3.0/24", "underlay_route": pul2}),
        json!({"prefix": "1.2.4.0/24", "underlay_route": pul}),
    ];
    assert_eq!(specs(&ok(&d, "list prefixes --interface-id=vm1")), expect);
    assert_eq!(
        specs(&ok(&d, "list prefixes --interface-id=")),
        expect,
        "empty id: all interfaces"
    );
    fails(
        &d,
        "list prefixes --interface-id=invalid_name",
        "server",
        205,
    );
    ok(&d, "del prefix --interface-id=vm1 --prefix=1.2.4.0/24");

    // load balancers, targets, lb prefixes
    let lbul = ok(
        &d,
        "add loadbalancer --id=lb1 --vni=100 --vip=10.20.30.40 --lbports=tcp/80,udp/53",
    )["spec"]["underlay_route"]
        .clone();
    let lb = json!({"vni": 100, "loadbalanced_ip": "10.20.30.40", "loadbalanced_ports": [{"protocol": 6, "port": 80}, {"protocol": 17, "port": 53}], "underlay_route": lbul});
    assert_eq!(ok(&d, "get loadbalancer --id=lb1")["spec"], lb);
    assert_eq!(specs(&ok(&d, "list loadbalancers")), vec![lb]);
    for bad in ["invalid", "icmp/22", "udp/65536", "tcp/80,tcp/80"] {
        let v = call(
            &d,
            &format!("add loadbalancer --id=lb2 --vni=100 --vip=10.20.30.41 --lbports={bad}"),
        );
        assert_eq!(v["kind"], "Error", "--lbports={bad}: {v}");
        assert!(
            v["spec"]["source"] == "client" || v["spec"]["source"] == "grpc",
            "--lbports={bad}: {v}"
        );
    }
    ok(&d, "add lbtarget --lb-id=lb1 --target-ip=fc00::9");
    ok(&d, "add lbtarget --lb-id=lb1 --target-ip=fc00::10");
    assert_eq!(
        specs(&ok(&d, "list lbtargets --lb-id=lb1")),
        vec![
            json!({"target_ip": "fc00::10"}),
            json!({"target_ip": "fc00::9"})
        ]
    );
    assert_eq!(
        specs(&ok(&d, "list lbtargets --lb-id=")).len(),
        2,
        "empty id: every LB"
    );
    fails(
        &d,
        "add lbtarget --lb-id=nolb --target-ip=fc00::9",
        "server",
        422,
    );
    ok(&d, "del lbtarget --lb-id=lb1 --target-ip=fc00::9");
    let lbpul = ok(&d, "add lbprefix --interface-id=vm1 --prefix=10.7.0.0/16")["spec"]
        ["underlay_route"]
        .clone();
    assert_eq!(
        specs(&ok(&d, "list lbprefixes --interface-id=vm1")),
        vec![json!({"prefix": "10.7.0.0/16", "underlay_route": lbpul})]
    );
    assert_eq!(specs(&ok(&d, "list lbprefixes --interface-id=")).len(), 1);
    ok(&d, "del lbprefix --interface-id=vm1 --prefix=10.7.0.0/16");
    ok(&d, "delete loadbalancer --id=lb1");
    fails(&d, "get loadbalancer --id=lb1", "server", 201);

    // virtual IPs
    let vul = ok(&d, "add virtualip --interface-id=vm1 --vip=172.20.0.1")["spec"]["underlay_route"]
        .clone();
    assert_eq!(
        ok(&d, "get virtualip --interface-id=vm1")["spec"],
        json!({"vip_ip": "172.20.0.1", "underlay_route": vul})
    );
    fails(
        &d,
        "add virtualip --interface-id=vm1 --vip=172.20.0.2",
        "server",
        343,
    );
    fails(
        &d,
        "add virtualip --interface-id=vm2 --vip=1234::1",
        "server",
        204,
    );
    fails(
        &d,
        "add virtualip --interface-id=invalid_name --vip=172.20.0.2",
        "server",
        205,
    );
    let v = fails(
        &d,
        "add virtualip --interface-id=vm2 --vip=xxx",
        "client",
        1000,
    );
    assert_eq!(
        v["status"]["message"],
        "invalid argument \"xxx\" for \"--vip\" flag: ParseAddr(\"xxx\"): unable to parse IP"
    );
    ok(&d, "del vip --interface-id=vm1");
    fails(&d, "get virtualip --interface-id=vm1", "server", 341);

    // NATs and neighbour NATs
    let nul = ok(
        &d,
        "add nat --interface-id=vm1 --nat-ip=172.20.0.9 --minport=100 --maxport=102",
    )["spec"]["underlay_route"]
        .clone();
    ok(
        &d,
        "add nat --interface-id=vm2 --nat-ip=172.20.0.9 --minport=102 --maxport=104",
    );
    assert_eq!(
        ok(&d, "get nat --interface-id=vm1")["spec"],
        json!({"nat_ip": "172.20.0.9", "min_port": 100, "max_port": 102, "underlay_route": nul, "vni": 0})
    );
    ok(&d, "add neighnat --nat-ip=172.20.0.9 --vni=100 --minport=500 --maxport=520 --underlayroute=fc00:2::64:0:1");
    fails(&d, "add neighnat --nat-ip=172.20.0.9 --vni=100 --minport=500 --maxport=520 --underlayroute=fc00:2::64:0:1", "server", 202);
    let local = specs(&ok(&d, "list nats --nat-ip=172.20.0.9 --nat-type=local"));
    assert_eq!(local.len(), 2);
    for l in &local {
        let keys: Vec<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 5, "{l}");
        for k in ["nat_ip", "min_port", "max_port", "vni", "actual_nat_ip"] {
            assert!(l.get(k).is_some(), "{k} in {l}");
        }
    }
    let all_local = specs(&ok(&d, "list nats --nat-ip=0.0.0.0 --nat-type=local"));
    assert_eq!(all_local.len(), 2);
    let neigh = specs(&ok(&d, "list nats --nat-ip=172.20.0.9 --nat-type=neigh"));
    assert_eq!(
        neigh,
        vec![
            json!({"min_port": 500, "max_port": 520, "underlay_route": "fc00:2::64:0:1", "vni": 100, "actual_nat_ip": "172.20.0.9"})
        ]
    );
    fails(
        &d,
        "list nats --nat-ip=1234::1 --nat-type=local",
        "server",
        204,
    );
    ok(
        &d,
        "del neighnat --nat-ip=172.20.0.9 --vni=100 --minport=500 --maxport=520",
    );
    fails(
        &d,
        "del neighnat --nat-ip=172.20.0.9 --vni=100 --minport=500 --maxport=520",
        "server",
        201,
    );
    ok(&d, "del nat --interface-id=vm1");
    fails(&d, "get nat --interface-id=vm1", "server", 341);
    fails(&d, "del nat --interface-id=vm1", "server", 341);

    // firewall rules (the harness's string has runs of spaces)
    ok(&d, "add fwrule --interface-id=vm1 --rule-id=fw0-vm1 --src=1.2.3.4/16 --dst=0.0.0.0/0  --protocol=tcp   --src-port-min=-1 --src-port-max=-1 --dst-port-min=-1 --dst-port-max=-1 --action=accept --direction=ingress ");
    ok(&d, "add fwrule --interface-id=vm1 --rule-id=fw1-vm1 --src=0.0.0.0/0 --dst=0.0.0.0/0  --protocol=icmp   --icmp-code=-1 --icmp-type=8 --action=accept --direction=ingress  --priority=100");
    let fw0 = json!({
        "id": "fw0-vm1", "direction": "Ingress", "action": "Accept", "priority": 1000,
        "source_prefix": "1.2.3.4/16", "destination_prefix": "0.0.0.0/0",
        "protocol_filter": {"Filter": {"Tcp": {"src_port_lower": -1, "src_port_upper": -1, "dst_port_lower": -1, "dst_port_upper": -1}}}
    });
    assert_eq!(
        ok(&d, "get fwrule --interface-id=vm1 --rule-id=fw0-vm1")["spec"],
        fw0
    );
    let rules = specs(&ok(&d, "list fwrules --interface-id=vm1"));
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0], fw0, "rule-id order");
    assert_eq!(
        rules[1]["protocol_filter"],
        json!({"Filter": {"Icmp": {"icmp_type": 8, "icmp_code": -1}}})
    );
    ok(&d, "del fwrule --interface-id=vm1 --rule-id=fw0-vm1");
    fails(
        &d,
        "get fwrule --interface-id=vm1 --rule-id=fw0-vm1",
        "server",
        201,
    );

    // VNIs
    assert_eq!(
        ok(&d, "get vni --vni=100 --vni-type=0")["spec"]["in_use"],
        true
    );
    assert_eq!(
        ok(&d, "get vni --vni=999 --vni-type=0")["spec"]["in_use"],
        false
    );
    ok(&d, "reset vni --vni=999");
    ok(&d, "reset vni --vni=100");

    // cleanup
    ok(&d, "del interface --id=vm1");
    ok(&d, "del interface --id=vm2");
    fails(&d, "del interface --id=vm1", "server", 201);
    assert_eq!(specs(&ok(&d, "list interfaces")), Vec::<Value>::new());
}
