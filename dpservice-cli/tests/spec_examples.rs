//! Every worked example of spec cli.md §5.5, byte for byte, against a scripted server
//! that answers what the stub behind those examples answered; plus the requests the CLI
//! sent. (The same commands against the real daemon: `daemon.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use dpservice::proto;
use proto::protocol_filter::Filter;
use support::fake::{err, iface, ip, ok, prefix, Fake};

const FIXTURES: &str = include_str!("fixtures/spec_examples.txt");

/// The expected output of the example whose command line (and note) is `key`.
fn example(key: &str) -> (String, String) {
    for record in FIXTURES.split("%%\n") {
        let Some((head, body)) = record.split_once('\n') else {
            continue;
        };
        let head = head.trim_start_matches("$ ");
        let (cmd, note) = head.split_once("   # ").unwrap_or((head, ""));
        if cmd == key || format!("{cmd} # {note}") == key {
            return (cmd.to_owned(), body.to_owned());
        }
    }
    panic!("no example {key:?}");
}

/// Runs the example and compares stdout byte for byte; exit status 0.
fn check(fake: &Fake, key: &str) {
    let (cmd, expected) = example(key);
    let run = fake.cli(&cmd);
    assert_eq!(
        run.stdout, expected,
        "stdout of `{cmd}` (stderr: {})",
        run.stderr
    );
    assert_eq!(run.code, 0, "exit status of `{cmd}`");
}

fn vm1() -> proto::Interface {
    iface(
        "vm1",
        100,
        "net_tap2",
        "10.100.1.1",
        "2000:100:1::1",
        "fc00:1::13:0:1",
        (0, 0),
        "vm1-host",
    )
}
fn vm2() -> proto::Interface {
    iface(
        "vm2",
        100,
        "net_tap3",
        "10.100.1.2",
        "2000:100:1::2",
        "fc00:1::16:0:2",
        (0, 0),
        "",
    )
}
fn vm3() -> proto::Interface {
    iface(
        "vm3",
        200,
        "net_tap4",
        "10.200.1.3",
        "2000:200:1::3",
        "fc00:1::19:0:3",
        (1000, 500),
        "",
    )
}

fn created_iface(ul: &str, vf: &str) -> Result<proto::CreateInterfaceResponse, tonic::Status> {
    Ok(proto::CreateInterfaceResponse {
        status: ok(),
        underlay_route: ul.into(),
        vf: Some(proto::VirtualFunction {
            name: vf.into(),
            ..Default::default()
        }),
    })
}

#[test]
fn interface_create_in_every_format() {
    let f = Fake::start();
    f.script(|s| {
        s.create_interface
            .push_back(created_iface("fc00:1::13:0:1", "dtapvf_0"));
        s.create_interface
            .push_back(created_iface("fc00:1::16:0:2", "dtapvf_1"));
        s.create_interface
            .push_back(created_iface("fc00:1::19:0:3", "dtapvf_2"));
        s.create_interface
            .push_back(created_iface("fc00:1::abcd", "dtapvf_3"));
    });
    check(&f, "add interface --id=vm1 --device=net_tap2 --vni=100 --ipv4=10.100.1.1 --ipv6=2000:100:1::1 --pxe-server=2001:dede::1 --pxe-file-name=ipxe --hostname=vm1-host");
    check(&f, "-o json add interface --id=vm2 --device=net_tap3 --vni=100 --ipv4=10.100.1.2 --ipv6=2000:100:1::2 --pxe-server=2001:dede::1 --pxe-file-name=ipxe");
    check(&f, "-o yaml add interface --id=vm3 --device=net_tap4 --vni=200 --ipv4=10.200.1.3 --ipv6=2000:200:1::3 --total-meter-rate=1000 --public-meter-rate=500");
    check(&f, "-o table add interface --id=vm4 --device=net_tap5 --vni=100 --ipv4=10.100.1.4 --ipv6=2000:100:1::4 --underlay=fc00:1::abcd");

    let seen = f.seen().create_interface;
    let r = &seen[0];
    assert_eq!(r.interface_id, b"vm1");
    assert_eq!(
        (r.vni, r.device_name.as_str(), r.hostname.as_str()),
        (100, "net_tap2", "vm1-host")
    );
    assert_eq!(
        r.ipv4_config.as_ref().unwrap().primary_address,
        b"10.100.1.1"
    );
    assert_eq!(
        r.ipv6_config.as_ref().unwrap().primary_address,
        b"2000:100:1::1"
    );
    assert_eq!(
        r.preferred_underlay_route, b"::",
        "underlay is always sent, :: = generate"
    );
    let pxe = r.pxe_config.as_ref().unwrap();
    assert_eq!(
        (pxe.next_server.as_str(), pxe.boot_filename.as_str()),
        ("2001:dede::1", "ipxe")
    );
    assert!(
        seen[2].pxe_config.is_none(),
        "PXE only when both flags are given"
    );
    assert_eq!(
        seen[2].metering_parameters.unwrap(),
        proto::MeteringParams {
            total_rate: 1000,
            public_rate: 500
        }
    );
    assert_eq!(seen[3].preferred_underlay_route, b"fc00:1::abcd");
}

#[test]
fn interface_get_list_delete() {
    let f = Fake::start();
    let get = || {
        Ok(proto::GetInterfaceResponse {
            status: ok(),
            interface: Some(vm1()),
        })
    };
    f.script(|s| {
        for _ in 0..5 {
            s.get_interface.push_back(get());
        }
        s.get_nat.push_back(Ok(proto::GetNatResponse {
            status: ok(),
            nat_ip: ip("172.21.1.1"),
            min_port: 100,
            max_port: 102,
            underlay_route: b"fc00:1::1f:0:5".to_vec(),
        }));
        s.get_vip.push_back(Ok(proto::GetVipResponse {
            status: ok(),
            vip_ip: ip("172.20.0.1"),
            underlay_route: b"fc00:1::2b:0:9".to_vec(),
        }));
        s.delete_interface
            .push_back(Ok(proto::DeleteInterfaceResponse { status: ok() }));
    });
    check(&f, "-o json get interface --id=vm1");
    check(&f, "-o yaml get interface --id=vm1");
    check(&f, "-o name get interface --id=vm1");
    check(&f, "get interface --id=vm1");
    check(&f, "-o json get interface --id=vm1 -w");
    check(&f, "-o json del interface --id=vm4");
    assert_eq!(f.seen().delete_interface[0].interface_id, b"vm4");
}

#[test]
fn interface_lists_sorted_wide_and_empty() {
    let f = Fake::start();
    let list = || {
        Ok(proto::ListInterfacesResponse {
            status: ok(),
            interfaces: vec![vm3(), vm1(), vm2()],
        })
    };
    let nat = |min, max| {
        Ok(proto::GetNatResponse {
            status: ok(),
            nat_ip: ip("172.21.1.1"),
            min_port: min,
            max_port: max,
            underlay_route: b"fc00:1::1f:0:5".to_vec(),
        })
    };
    f.script(|s| {
        for _ in 0..5 {
            s.list_interfaces.push_back(list());
        }
        // -w asks in the daemon's order: vm3 (no NAT), vm1, vm2; nobody has a VIP.
        s.get_nat.push_back(Ok(proto::GetNatResponse {
            status: err(341, "SNAT_NO_DATA"),
            ..Default::default()
        }));
        s.get_nat.push_back(nat(100, 102));
        s.get_nat.push_back(nat(102, 103));
        for _ in 0..3 {
            s.get_vip.push_back(Ok(proto::GetVipResponse {
                status: err(341, "SNAT_NO_DATA"),
                ..Default::default()
            }));
        }
        for _ in 0..3 {
            s.list_interfaces
                .push_back(Ok(proto::ListInterfacesResponse {
                    status: ok(),
                    interfaces: vec![],
                }));
        }
    });
    check(&f, "-o json list interfaces");
    check(&f, "-o yaml list interfaces");
    check(&f, "-o name list interfaces");
    check(&f, "list interfaces");
    check(&f, "list interfaces -w");
    check(&f, "list interfaces # no interfaces");
    check(&f, "-o json list interfaces # no interfaces");
    check(
        &f,
        "-o name list interfaces # no interfaces: prints nothing",
    );
}

fn route(p: &str, len: u32, vni: u32, hop: &str) -> proto::Route {
    proto::Route {
        prefix: Some(prefix(p, len, "")),
        nexthop_vni: vni,
        nexthop_address: ip(hop),
        weight: 100,
    }
}

#[test]
fn routes() {
    let f = Fake::start();
    f.script(|s| {
        s.create_route
            .push_back(Ok(proto::CreateRouteResponse { status: ok() }));
        s.create_route
            .push_back(Ok(proto::CreateRouteResponse { status: ok() }));
        for _ in 0..4 {
            s.list_routes.push_back(Ok(proto::ListRoutesResponse {
                status: ok(),
                routes: vec![
                    route("10.100.2.0", 24, 0, "fc00:2::64:0:1"),
                    route("0.0.0.0", 0, 100, "fc00::ffff"),
                ],
            }));
        }
        s.delete_route
            .push_back(Ok(proto::DeleteRouteResponse { status: ok() }));
        s.delete_route
            .push_back(Ok(proto::DeleteRouteResponse { status: ok() }));
    });
    check(
        &f,
        "add route --vni=100 --prefix=10.100.2.0/24 --next-hop-vni=0 --next-hop-ip=fc00:2::64:0:1",
    );
    check(&f, "-o json add route --vni=100 --prefix=0.0.0.0/0 --next-hop-vni=100 --next-hop-ip=fc00::ffff");
    check(&f, "-o json list routes --vni=100");
    check(&f, "-o yaml list routes --vni=100");
    check(&f, "-o name list routes --vni=100");
    check(&f, "list routes --vni=100");
    check(&f, "-o json del route --vni=100 --prefix=10.100.2.0/24");
    check(&f, "-o table del route --vni=100 --prefix=0.0.0.0/0");
    let seen = f.seen();
    let r = seen.create_route[0].route.as_ref().unwrap();
    assert_eq!(
        (seen.create_route[0].vni, r.weight, r.nexthop_vni),
        (100, 100, 0)
    );
    assert_eq!(r.nexthop_address, ip("fc00:2::64:0:1"));
    assert_eq!(r.prefix, Some(prefix("10.100.2.0", 24, "")));
    let d = seen.delete_route[0].route.as_ref().unwrap();
    assert_eq!((d.weight, d.nexthop_address.is_none()), (100, true));
}

#[test]
fn load_balancers() {
    let f = Fake::start();
    let lbports = vec![
        proto::LbPort {
            port: 80,
            protocol: proto::Protocol::Tcp as i32,
        },
        proto::LbPort {
            port: 80,
            protocol: proto::Protocol::Udp as i32,
        },
    ];
    f.script(|s| {
        s.create_load_balancer
            .push_back(Ok(proto::CreateLoadBalancerResponse {
                status: ok(),
                underlay_route: b"fc00:1::1c:0:4".to_vec(),
            }));
        for _ in 0..4 {
            s.get_load_balancer
                .push_back(Ok(proto::GetLoadBalancerResponse {
                    status: ok(),
                    loadbalanced_ip: ip("172.22.2.1"),
                    vni: 100,
                    loadbalanced_ports: lbports.clone(),
                    underlay_route: b"fc00:1::1c:0:4".to_vec(),
                }));
        }
        for _ in 0..2 {
            s.list_load_balancer_targets
                .push_back(Ok(proto::ListLoadBalancerTargetsResponse {
                    status: ok(),
                    target_ips: vec![ip("1234::1").unwrap()],
                }));
        }
        s.delete_load_balancer
            .push_back(Ok(proto::DeleteLoadBalancerResponse { status: ok() }));
    });
    check(
        &f,
        "add loadbalancer --id=my_lb --vni=100 --vip=172.22.2.1 --lbports=tcp/80,udp/80",
    );
    check(&f, "-o json get loadbalancer --id=my_lb");
    check(&f, "-o yaml get loadbalancer --id=my_lb");
    check(&f, "-o name get loadbalancer --id=my_lb");
    check(&f, "get loadbalancer --id=my_lb");
    check(&f, "-o json list lbtargets --lb-id=my_lb");
    check(&f, "list lbtargets --lb-id=my_lb");
    check(&f, "-o json del lb --id=my_lb");
    let c = &f.seen().create_load_balancer[0];
    assert_eq!((c.loadbalancer_id.as_slice(), c.vni), (&b"my_lb"[..], 100));
    assert_eq!(c.loadbalanced_ports, lbports);
    assert_eq!(c.loadbalanced_ip, ip("172.22.2.1"));
}

fn local(vm: &str, min: u32, max: u32) -> proto::NatEntry {
    proto::NatEntry {
        nat_ip: ip(vm),
        min_port: min,
        max_port: max,
        underlay_route: vec![],
        vni: 100,
        actual_nat_ip: ip("172.21.1.1"),
    }
}

fn neigh() -> proto::NatEntry {
    proto::NatEntry {
        nat_ip: None,
        min_port: 500,
        max_port: 520,
        underlay_route: b"fc00:2::64:0:1".to_vec(),
        vni: 100,
        actual_nat_ip: ip("172.21.1.1"),
    }
}

#[test]
fn nats() {
    let f = Fake::start();
    f.script(|s| {
        s.create_nat.push_back(Ok(proto::CreateNatResponse {
            status: ok(),
            underlay_route: b"fc00:1::1f:0:5".to_vec(),
        }));
        for _ in 0..4 {
            s.get_nat.push_back(Ok(proto::GetNatResponse {
                status: ok(),
                nat_ip: ip("172.21.1.1"),
                min_port: 100,
                max_port: 102,
                underlay_route: b"fc00:1::1f:0:5".to_vec(),
            }));
        }
        s.create_neighbor_nat
            .push_back(Ok(proto::CreateNeighborNatResponse { status: ok() }));
        for _ in 0..3 {
            s.list_local_nats
                .push_back(Ok(proto::ListLocalNatsResponse {
                    status: ok(),
                    nat_entries: vec![local("10.100.1.2", 102, 103), local("10.100.1.1", 100, 102)],
                }));
        }
        for _ in 0..3 {
            s.list_neighbor_nats
                .push_back(Ok(proto::ListNeighborNatsResponse {
                    status: ok(),
                    nat_entries: vec![neigh()],
                }));
        }
        s.delete_nat
            .push_back(Ok(proto::DeleteNatResponse { status: ok() }));
    });
    check(
        &f,
        "add nat --interface-id=vm1 --nat-ip=172.21.1.1 --minport=100 --maxport=102",
    );
    check(&f, "-o json get nat --interface-id=vm1");
    check(&f, "-o yaml get nat --interface-id=vm1");
    check(&f, "-o name get nat --interface-id=vm1");
    check(&f, "get nat --interface-id=vm1");
    check(&f, "add neighnat --nat-ip=172.21.1.1 --vni=100 --minport=500 --maxport=520 --underlayroute=fc00:2::64:0:1");
    check(&f, "-o json list nats --nat-ip=172.21.1.1 --nat-type=local");
    check(&f, "-o json list nats --nat-ip=172.21.1.1 --nat-type=neigh");
    check(&f, "list nats --nat-ip=172.21.1.1");
    check(&f, "-o name list nats --nat-ip=172.21.1.1");
    check(&f, "-o json del nat --interface-id=vm2");
    let seen = f.seen();
    assert_eq!(
        seen.create_neighbor_nat[0].underlay_route,
        b"fc00:2::64:0:1"
    );
    assert_eq!(seen.list_local_nats[0].nat_ip, ip("172.21.1.1"));
}

fn fwrule(
    id: &str,
    dir: i32,
    src: (&str, u32),
    prio: u32,
    filter: Option<Filter>,
) -> proto::FirewallRule {
    proto::FirewallRule {
        id: id.as_bytes().to_vec(),
        direction: dir,
        action: 1,
        priority: prio,
        source_prefix: Some(prefix(src.0, src.1, "")),
        destination_prefix: Some(prefix("0.0.0.0", 0, "")),
        protocol_filter: Some(proto::ProtocolFilter { filter }),
    }
}

fn any_ports() -> proto::TcpFilter {
    proto::TcpFilter {
        src_port_lower: -1,
        src_port_upper: -1,
        dst_port_lower: -1,
        dst_port_upper: -1,
    }
}

#[test]
fn firewall_rules() {
    let f = Fake::start();
    let fw0 = fwrule(
        "fw0-vm1",
        0,
        ("1.2.3.4", 16),
        1000,
        Some(Filter::Tcp(any_ports())),
    );
    let udp = proto::UdpFilter {
        src_port_lower: -1,
        src_port_upper: -1,
        dst_port_lower: -1,
        dst_port_upper: -1,
    };
    let fw1 = fwrule("fw1-vm1", 1, ("4.5.6.7", 16), 1000, Some(Filter::Udp(udp)));
    let fw2 = fwrule("fw2-vm1", 0, ("0.0.0.0", 0), 5, None);
    f.script(|s| {
        s.create_firewall_rule
            .push_back(Ok(proto::CreateFirewallRuleResponse {
                status: ok(),
                ..Default::default()
            }));
        s.create_firewall_rule
            .push_back(Ok(proto::CreateFirewallRuleResponse {
                status: ok(),
                ..Default::default()
            }));
        for _ in 0..3 {
            s.get_firewall_rule
                .push_back(Ok(proto::GetFirewallRuleResponse {
                    status: ok(),
                    rule: Some(fw0.clone()),
                }));
        }
        s.list_firewall_rules
            .push_back(Ok(proto::ListFirewallRulesResponse {
                status: ok(),
                rules: vec![fw2, fw0.clone(), fw1],
            }));
        s.delete_firewall_rule
            .push_back(Ok(proto::DeleteFirewallRuleResponse { status: ok() }));
    });
    check(&f, "add fwrule --interface-id=vm1 --rule-id=fw0-vm1 --src=1.2.3.4/16 --dst=0.0.0.0/0 --protocol=tcp --src-port-min=-1 --src-port-max=-1 --dst-port-min=-1 --dst-port-max=-1 --action=accept --direction=ingress");
    check(&f, "-o json add fwrule --interface-id=vm1 --rule-id=fw2-vm1 --src=0.0.0.0/0 --dst=0.0.0.0/0 --action=accept --direction=ingress --priority=5");
    check(
        &f,
        "-o json get fwrule --interface-id=vm1 --rule-id=fw0-vm1",
    );
    check(
        &f,
        "-o yaml get fwrule --interface-id=vm1 --rule-id=fw0-vm1",
    );
    check(
        &f,
        "-o name get fwrule --interface-id=vm1 --rule-id=fw0-vm1",
    );
    check(
        &f,
        "list fwrules --interface-id=vm1 # single-space protocol text, see 5.3.1",
    );
    check(
        &f,
        "-o json del fwrule --interface-id=vm1 --rule-id=fw2-vm1",
    );
    let c = f.seen().create_firewall_rule;
    let rule = c[0].rule.as_ref().unwrap();
    assert_eq!(
        rule.source_prefix,
        Some(prefix("1.2.3.4", 16, "")),
        "host bits are kept"
    );
    assert_eq!(
        rule.protocol_filter,
        Some(proto::ProtocolFilter {
            filter: Some(Filter::Tcp(any_ports()))
        })
    );
    assert_eq!((rule.direction, rule.action, rule.priority), (0, 1, 1000));
    let any = c[1].rule.as_ref().unwrap();
    assert_eq!(
        any.protocol_filter,
        Some(proto::ProtocolFilter { filter: None }),
        "filter always present"
    );
}

#[test]
fn init_version_vni_prefixes_vip() {
    let f = Fake::start();
    let uuid = "e2d5ab8d-4b8b-4c1e-9a0c-bd0f5a1e7f30";
    f.script(|s| {
        for _ in 0..2 {
            s.check_initialized
                .push_back(Err(tonic::Status::aborted("not initialized")));
            s.initialize.push_back(Ok(proto::InitializeResponse {
                status: ok(),
                uuid: uuid.into(),
            }));
        }
        s.get_version.push_back(Ok(proto::GetVersionResponse {
            status: ok(),
            service_protocol: "v0.4.0-7-g45bcfd6".into(),
            service_version: "v0.4.0-7-g45bcfd6".into(),
        }));
        for _ in 0..2 {
            s.check_vni_in_use
                .push_back(Ok(proto::CheckVniInUseResponse {
                    status: ok(),
                    in_use: true,
                }));
        }
        s.reset_vni
            .push_back(Ok(proto::ResetVniResponse { status: ok() }));
        s.list_prefixes.push_back(Ok(proto::ListPrefixesResponse {
            status: ok(),
            prefixes: vec![
                prefix("1.2.4.0", 24, "fc00:1::28:0:8"),
                prefix("1.2.3.0", 24, "fc00:1::25:0:7"),
            ],
        }));
        s.get_interface.push_back(Ok(proto::GetInterfaceResponse {
            status: ok(),
            interface: Some(vm1()),
        }));
        s.get_vip.push_back(Ok(proto::GetVipResponse {
            status: ok(),
            vip_ip: ip("172.20.0.1"),
            underlay_route: b"fc00:1::2b:0:9".to_vec(),
        }));
    });
    check(&f, "-o json init");
    check(&f, "init");
    let (cmd, expected) = example("-o json get version");
    let expected = expected
        .replace("v0.3.15-19-g41304c6", dpservice::version::PROTOCOL_VERSION)
        .replace(
            "\"client_version\":\"v0.4.0-7-g45bcfd6\"",
            &format!("\"client_version\":\"{}\"", dpservice::version::VERSION),
        );
    assert_eq!(f.cli(&cmd).stdout, expected);
    let v = &f.seen().get_version[0];
    assert_eq!(
        (v.client_name.as_str(), v.client_version.as_str()),
        ("dpservice-cli", dpservice::version::VERSION)
    );
    check(&f, "get vni --vni=100 --vni-type=0");
    check(&f, "-o json get vni --vni=100 --vni-type=0");
    check(&f, "reset vni --vni=100");
    assert_eq!(
        f.seen().reset_vni[0].r#type,
        2,
        "--vni-type defaults to both"
    );
    check(&f, "-o json list prefixes --interface-id=vm1");
    check(&f, "-o json get vip --interface-id=vm1");
}

#[test]
fn capture() {
    let f = Fake::start();
    let pf = |i| proto::CapturedInterface {
        interface_type: proto::CaptureInterfaceType::SinglePf as i32,
        filter: vec![],
        spec: Some(proto::captured_interface::Spec::PfIndex(i)),
    };
    let vf = |n: &str| proto::CapturedInterface {
        interface_type: proto::CaptureInterfaceType::SingleVf as i32,
        filter: vec![],
        spec: Some(proto::captured_interface::Spec::VfName(
            n.as_bytes().to_vec(),
        )),
    };
    let config = proto::CaptureConfig {
        sink_node_ip: ip("fc00:2::64:0:1"),
        udp_src_port: 3000,
        udp_dst_port: 3010,
        interfaces: vec![pf(0), vf("vm1"), vf("vm2")],
    };
    f.script(|s| {
        s.capture_start
            .push_back(Ok(proto::CaptureStartResponse { status: ok() }));
        s.capture_status.push_back(Ok(proto::CaptureStatusResponse {
            status: ok(),
            is_active: true,
            capture_config: Some(config.clone()),
        }));
        s.capture_stop.push_back(Ok(proto::CaptureStopResponse {
            status: ok(),
            stopped_interface_cnt: 3,
        }));
        s.capture_status.push_back(Ok(proto::CaptureStatusResponse {
            status: ok(),
            is_active: false,
            capture_config: None,
        }));
    });
    check(&f, "-o json capture start --sink-node-ip=fc00:2::64:0:1 --udp-src-port=3000 --udp-dst-port=3010 --vf=vm1,vm2 --pf=0");
    check(&f, "capture status");
    check(&f, "-o json capture stop");
    check(&f, "-o json capture status # inactive");
    assert_eq!(f.seen().capture_start[0].capture_config, Some(config));
}
