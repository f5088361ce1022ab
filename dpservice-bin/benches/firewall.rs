//! Firewall verdict cost (dataplane.md §10): the rule index against the linear scan it
//! replaces, on one interface with 1, 100 and 10,000 ingress rules, in the same run.
//!
//! Rules: TCP, source any, each with its own destination /32 and destination port
//! (the shape "thousands of rules with distinct destination prefixes/ports"). Packets:
//! one that matches the newest rule (the scan's worst case: it walks every rule) and one
//! that matches none (the scan walks every rule, the index probes one bucket).
//!
//! `cargo bench -p dpservice-bin --bench firewall`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use criterion::{criterion_group, BenchmarkId, Criterion};
use dpservice::model::{
    CreateFirewallRule, CreateInterface, FirewallAction, FirewallRule, FirewallRuleRef, IpPrefix,
    Metering, PortFilter, PortRange, ProtocolFilter, TrafficDirection,
};
use dpservice_bin::state::{
    FirewallPacket, FirewallRules, PortInfo, PortKind, State, StateConfig, Verdict,
};

const VM_PORT: u16 = 2;

fn dst_of(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 | i)
}

fn port_of(i: u32) -> u16 {
    1000 + (i % 60_000) as u16
}

fn rule(i: u32) -> FirewallRule {
    let port = port_of(i);
    FirewallRule {
        id: format!("rule-{i}").as_str().into(),
        direction: TrafficDirection::Ingress,
        action: FirewallAction::Accept,
        priority: 1000,
        source: "0.0.0.0/0".parse().unwrap(),
        destination: IpPrefix::new(IpAddr::V4(dst_of(i)), 32).unwrap(),
        filter: ProtocolFilter::Tcp(PortFilter {
            src: PortRange::ANY,
            dst: PortRange {
                lower: Some(port),
                upper: Some(port),
            },
        }),
    }
}

/// A state with one interface holding `n` rules.
fn state_with(n: u32) -> State {
    let ports = vec![
        PortInfo {
            id: 0,
            device: "net_tap0".into(),
            kernel_name: "dtap0".into(),
            kind: PortKind::Pf0,
        },
        PortInfo {
            id: VM_PORT,
            device: "net_tap2".into(),
            kernel_name: "dtapvf_0".into(),
            kind: PortKind::Vf,
        },
    ];
    let mut state = State::new(StateConfig::new(
        Ipv6Addr::new(0xfc00, 1, 0, 0, 0, 0, 0, 1),
        ports,
    ));
    state
        .create_interface(CreateInterface {
            id: "vm1".into(),
            vni: 100,
            ipv4: Some(Ipv4Addr::new(10, 0, 0, 1)),
            ipv6: None,
            pxe: None,
            device: "net_tap2".into(),
            metering: Metering::default(),
            preferred_underlay: None,
            hostname: None,
        })
        .unwrap();
    for i in 0..n {
        state
            .create_firewall_rule(CreateFirewallRule {
                interface_id: "vm1".into(),
                rule: rule(i),
            })
            .unwrap();
    }
    state
}

fn packet(dst: Ipv4Addr, dport: u16) -> FirewallPacket {
    FirewallPacket {
        src: IpAddr::V4(Ipv4Addr::new(192, 168, 7, 7)),
        dst: IpAddr::V4(dst),
        protocol: 6,
        src_port_or_type: 40_000,
        dst_port_or_code: dport,
    }
}

fn bench_verdicts(c: &mut Criterion) {
    let mut g = c.benchmark_group("firewall_verdict");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for n in [1u32, 100, 10_000] {
        let state = state_with(n);
        let fw: &FirewallRules = &state.vf(VM_PORT).unwrap().firewall;
        let last = packet(dst_of(n - 1), port_of(n - 1));
        let none = packet(Ipv4Addr::new(172, 16, 0, 1), 80);
        // both give the same answers before anything is timed
        assert_eq!(fw.ingress_verdict(&last), Verdict::Accept);
        assert_eq!(fw.ingress_verdict_by_scan(&last), Verdict::Accept);
        assert_eq!(fw.ingress_verdict(&none), Verdict::Drop);
        assert_eq!(fw.ingress_verdict_by_scan(&none), Verdict::Drop);
        for (name, pkt) in [("matches_newest", &last), ("matches_none", &none)] {
            g.bench_with_input(BenchmarkId::new(format!("index/{name}"), n), pkt, |b, p| {
                b.iter(|| fw.ingress_verdict(black_box(p)))
            });
            g.bench_with_input(BenchmarkId::new(format!("scan/{name}"), n), pkt, |b, p| {
                b.iter(|| fw.ingress_verdict_by_scan(black_box(p)))
            });
        }
        // the whole §10 verdict (egress of an uplink, then the VF's ingress)
        g.bench_with_input(BenchmarkId::new("state_verdict", n), &last, |b, p| {
            b.iter(|| state.firewall_verdict(0, Some(VM_PORT), black_box(p)))
        });
    }
    g.finish();
}

/// Creating rules keeps the worker moving (BENCHMARKS.md "worker pauses"): the longest
/// single `CreateFirewallRule` (and `DeleteFirewallRule`) while filling one interface
/// to 65,536 rules, index upkeep included. Two shapes: every rule in one bucket (same
/// prefixes, no ports) and every rule in its own bucket (distinct destination /32).
/// This thread's CPU time: what the worker itself would spend (the wall clock on this
/// shared machine adds ~4 ms gaps of scheduling).
fn cpu_now() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn create_delete_pauses() {
    for (shape, distinct) in [("one bucket", false), ("distinct /32s", true)] {
        let mut state = state_with(0);
        let mut creates = Vec::with_capacity(65_536);
        for i in 0..65_536u32 {
            let mut r = rule(i);
            if !distinct {
                r.destination = "0.0.0.0/0".parse().unwrap();
                r.filter = ProtocolFilter::Any;
            }
            let req = CreateFirewallRule {
                interface_id: "vm1".into(),
                rule: r,
            };
            let t = cpu_now();
            state.create_firewall_rule(req).unwrap();
            creates.push(cpu_now() - t);
        }
        // delete every 7th rule from the middle outwards (middle deletes move the most)
        let mut deletes = Vec::new();
        for i in (0..65_536u32).step_by(7) {
            let r = FirewallRuleRef {
                interface_id: "vm1".into(),
                rule_id: format!("rule-{i}").as_str().into(),
            };
            let t = cpu_now();
            state.delete_firewall_rule(&r).unwrap();
            deletes.push(cpu_now() - t);
        }
        for (what, mut v) in [("create", creates), ("delete", deletes)] {
            v.sort();
            println!(
                "firewall {what} ({shape}, up to 65536 rules), thread CPU time: median {:?}, p99.9 {:?}, max {:?}",
                v[v.len() / 2],
                v[v.len() * 999 / 1000],
                v[v.len() - 1]
            );
        }
    }
}

criterion_group!(benches, bench_verdicts);

fn main() {
    benches();
    create_delete_pauses();
    Criterion::default().configure_from_args().final_summary();
}
