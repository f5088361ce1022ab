//! Upstream mode, in-process over a region with known contents: the spec's examples
//! byte for byte, every table in every format as golden text, list and count modes,
//! the NUMA socket rule and argument errors.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::ExitCode;

use crate::fixture::Fixture;
use crate::record::Kind;
use crate::values::monotonic_now_ns;

const FORMATS: [&str; 4] = ["human", "table", "csv", "json"];

fn populated() -> Fixture {
    let f = Fixture::new(-1).unwrap();
    f.populate(monotonic_now_ns(), 7).unwrap();
    f
}

/// Runs the program with `args` against the fixture's instance.
fn inspect(f: &Fixture, args: &[&str]) -> (ExitCode, String) {
    let mut argv = vec![
        "dpservice-inspect".to_owned(),
        format!("--file-prefix={}", f.instance.prefix()),
    ];
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    let mut out = Vec::new();
    let code = crate::run_with(argv, &mut out, false);
    (code, String::from_utf8(out).unwrap())
}

fn ok(f: &Fixture, args: &[&str]) -> String {
    let (code, out) = inspect(f, args);
    assert_eq!(code, ExitCode::SUCCESS, "{args:?}");
    out
}

#[test]
fn dnat_example_of_the_spec_in_all_formats() {
    let f = populated();
    let dump = |format| ok(&f, &["-t", "dnat", "--dump", "-o", format]);
    assert_eq!(
        dump("human"),
        "vip:      172.20.0.1, vni: 100, ip:      10.100.1.1\n"
    );
    assert_eq!(
        dump("table"),
        "VIP              VNI  IP\n172.20.0.1       100  10.100.1.1     \nVIP              VNI  IP\n"
    );
    assert_eq!(dump("csv"), "VIP,VNI,IP\n172.20.0.1,100,10.100.1.1\n");
    assert_eq!(
        dump("json"),
        "[\n\t{ \"vip\": \"172.20.0.1\", \"vni\": 100, \"ip\": \"10.100.1.1\" }\n]\n"
    );
}

#[test]
fn conntrack_and_snat_examples_of_the_spec() {
    let f = populated();
    let table = ok(&f, &["-t", "conntrack", "--dump", "-o", "table"]);
    let header = "TYPE    VNI  PROTO            SOURCE            DESTINATION       PORT_ID  STATE   FLAGS  AGED       AGE  TIMEOUT  REF_COUNT";
    let rows = [
        "none    100  tcp         10.100.1.1:43512       10.100.1.2:80           2  est      0x20     0  00:00:07    86400          2",
        "none    100  tcp         10.100.1.2:80          10.100.1.1:43512        2  est      0x20     0  00:00:07    86400          2",
    ];
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!((lines[0], lines[lines.len() - 1]), (header, header));
    for row in rows {
        assert!(lines.contains(&row), "{row}\nnot in\n{table}");
    }
    assert_eq!(
        ok(&f, &["-t", "snat", "--dump"]),
        "vni: 100, ip:      10.100.1.1, vip_ip:         0.0.0.0, nat_ip:      172.21.1.1, min_port:   100, max_port:   102, ul_vip: ::, ul_nat: fc00:1::d000:0:0:3\n"
    );
}

/// Every table in every format, dump and count, as golden text (rows sorted: the
/// pool order is not part of the contract).
#[test]
fn every_table_in_every_format() {
    let f = populated();
    let mut golden = String::new();
    for kind in Kind::ALL {
        for format in FORMATS {
            let count = ok(&f, &["-t", kind.short(), "-o", format]);
            let dump = ok(&f, &["-t", kind.short(), "--dump", "-o", format]);
            let mut lines: Vec<&str> = dump.lines().collect();
            let body = match format {
                "human" => 0..lines.len(),
                "table" => 1..lines.len() - 1,
                "csv" => 1..lines.len(),
                _ => 1..lines.len() - 1,
            };
            let mut rows: Vec<String> = lines[body.clone()]
                .iter()
                .map(|l| l.trim_end_matches(',').to_owned())
                .collect();
            rows.sort();
            let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
            lines.splice(body, rows);
            golden.push_str(&format!(
                "== {} -o {format}\n{count}--dump\n{}\n",
                kind.short(),
                lines.join("\n")
            ));
            if format == "json" {
                let value: serde_json::Value = serde_json::from_str(&dump).unwrap();
                assert!(value.is_array(), "{dump}");
                let count: serde_json::Value = serde_json::from_str(&count).unwrap();
                assert_eq!(
                    count["entries"].as_u64(),
                    Some(value.as_array().unwrap().len() as u64)
                );
            }
        }
    }
    insta::assert_snapshot!(golden);
}

#[test]
fn json_strings_are_escaped() {
    let f = populated();
    let out = ok(&f, &["-t", "iface", "--dump", "-o", "json"]);
    assert!(
        out.contains(r#"{ "iface_id": "vm\"3\\x", "port": "4 (private)" }"#),
        "{out}"
    );
}

#[test]
fn list_mode_needs_no_daemon() {
    let run = |args: &[&str]| {
        let mut argv = vec!["dpservice-inspect", "--file-prefix=nosuchdaemon"];
        argv.extend(args);
        let mut out = Vec::new();
        let code = crate::run_with(argv, &mut out, false);
        (code, String::from_utf8(out).unwrap())
    };
    let names = "conntrack dnat iface lb lb_id portmap portoverload snat vnf vnf_rev vni";
    let (code, human) = run(&[]);
    assert_eq!(code, ExitCode::SUCCESS);
    let expected: String = names.split(' ').map(|n| format!("  {n}\n")).collect();
    assert_eq!(
        human,
        format!("Supported tables (-t argument):\n{expected}")
    );
    let expected: String = names.split(' ').map(|n| format!("{n}\n")).collect();
    assert_eq!(run(&["-o", "csv", "--dump"]).1, format!("NAME\n{expected}"));
    assert_eq!(
        run(&["-t", "list", "-o", "table"]).1,
        format!("NAME\n{expected}")
    );
    let json = run(&["-o", "json"]).1;
    assert!(
        json.starts_with("[\n\t\"conntrack\",\n\t\"dnat\",\n"),
        "{json}"
    );
    assert!(json.ends_with(",\n\t\"vni\"\n]\n"), "{json}");
    // a table needs the daemon
    assert_eq!(run(&["-t", "dnat"]).0, ExitCode::FAILURE);
}

#[test]
fn counts_in_all_formats() {
    let f = populated();
    assert_eq!(
        ok(&f, &["-t", "dnat"]),
        "Table 'dnat_table_-1' has 1 entries\n"
    );
    assert_eq!(
        ok(&f, &["-t", "dnat", "-o", "table"]),
        "TABLE          ENTRIES\ndnat_table_-1  1\n"
    );
    assert_eq!(
        ok(&f, &["-t", "dnat", "-o", "csv"]),
        "TABLE,ENTRIES\ndnat_table_-1,1\n"
    );
    assert_eq!(
        ok(&f, &["--table", "conntrack", "--out", "json"]),
        "{ \"table\": \"conntrack_table_-1\", \"entries\": 3 }\n"
    );
    let all = ok(&f, &["--all", "-o", "csv"]);
    assert_eq!(all.lines().count(), 12, "{all}");
    assert!(all.contains("\ninterface_table_-1,3\n"), "{all}");
}

#[test]
fn the_numa_socket_is_found_and_a_wrong_one_named() {
    let f = Fixture::new(1).unwrap();
    assert_eq!(
        ok(&f, &["-t", "vni"]),
        "Table 'vni_table_1' has 0 entries\n"
    );
    assert_eq!(
        ok(&f, &["-t", "vni", "-s", "1"]),
        "Table 'vni_table_1' has 0 entries\n"
    );
    assert_eq!(inspect(&f, &["-t", "vni", "-s", "-1"]).0, ExitCode::FAILURE);
    let empty = ok(&f, &["-t", "vni", "--dump", "-o", "json"]);
    assert_eq!(empty, "[\n\n]\n");
    let table = ok(&f, &["-t", "lb", "--dump", "-o", "table"]);
    assert_eq!(table.lines().count(), 2);
}

#[test]
fn bad_arguments_fail_with_status_1() {
    let f = populated();
    for args in [
        &["-t", "nosuch"][..],
        &["-o", "xml"],
        &["-s", "x"],
        &["stray"],
        &["--tui", "--dump"],
    ] {
        assert_eq!(inspect(&f, args).0, ExitCode::FAILURE, "{args:?}");
    }
    let (code, out) = inspect(&f, &["--help"]);
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(out.contains("--output-format"));
    let (code, out) = inspect(&f, &["-v"]);
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(out.starts_with("DP Service version "));
    assert!(crate::one_line("error: invalid value 'x' for '-o'\n  [possible values: human, json]\n\nFor more information, try '--help'.\n").contains("possible values: human, json"));
}
