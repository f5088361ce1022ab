//! The whole configuration path: command line, file, default, resolution.

use super::*;
use crate::state::PortKind;

const TAP_EAL: &str = "-l 0,1 --log-level=user*:8 --huge-unlink --file-prefix=unit --no-pci \
    --vdev=net_tap0,iface=dtap0,mac=22:22:22:22:22:00 \
    --vdev=net_tap1,iface=dtap1,mac=22:22:22:22:22:01 \
    --vdev=net_tap2,iface=dtapvf_0,mac=66:66:66:66:66:00 \
    --vdev=net_tap3,iface=dtapvf_1,mac=66:66:66:66:66:01";
const TAP_OPTS: &str = "--pf0=dtap0 --pf1=dtap1 --vf-pattern=dtapvf_ --nic-type=tap";

fn argv(line: &str) -> Vec<OsString> {
    std::iter::once("dpservice-bin")
        .chain(line.split_whitespace())
        .map(OsString::from)
        .collect()
}

fn no_sysfs(_: &std::path::Path) -> std::io::Result<String> {
    Err(std::io::Error::other("no sysfs in unit tests"))
}

fn run_with(line: &str, dp_conf: Option<&OsStr>) -> Result<Invocation, ConfigError> {
    load_with(&argv(line), dp_conf, &no_sysfs)
}

fn config(line: &str) -> Config {
    match run_with(line, Some(OsStr::new(""))).unwrap() {
        Invocation::Run(c) => *c,
        Invocation::Print(p) => panic!("printed {p}"),
    }
}

fn printed(line: &str) -> String {
    match run_with(line, Some(OsStr::new(""))).unwrap() {
        Invocation::Print(p) => p,
        Invocation::Run(c) => panic!("runs {c:?}"),
    }
}

fn error(line: &str) -> String {
    run_with(line, Some(OsStr::new("")))
        .unwrap_err()
        .to_string()
}

#[test]
fn upstream_test_invocation() {
    let c = config(&format!(
        "{TAP_EAL} -- {TAP_OPTS} --ipv6=fc00:1::1 --enable-ipv6-overlay --dhcp-mtu=1337 \
         --dhcp-dns=8.8.4.4 --dhcp-dns=8.8.8.8 \
         --dhcpv6-dns=2001:4860:4860::6464 --dhcpv6-dns=2002:4861:4861::6464 \
         --grpc-port=1337 --no-stats --color=auto --graphtrace-loglevel=1 --no-offload \
         --wcmp=50 --flow-timeout=1 \
         --udp-virtsvc=1.2.3.4,5353,2a00:da8:fff6::1,53 --tcp-virtsvc=5.6.7.8,4443,2a00:da8:fff6::2,443 \
         --udp-virtsvc=1.2.3.5,5353,2a00:da8:fff6::1,54"
    ));
    assert_eq!(c.instance.prefix(), "unit");
    assert_eq!(c.taps.len(), 4);
    assert_eq!(c.ports.len(), 4);
    assert_eq!(c.ports[2].kind, PortKind::Vf);
    assert_eq!(c.ports[2].device, "net_tap2");
    assert_eq!(c.underlay, "fc00:1::1".parse::<Ipv6Addr>().unwrap());
    assert!(c.ipv6_overlay && !c.stats && !c.offload);
    assert_eq!(c.dhcp_mtu, 1337);
    assert_eq!(
        c.dhcp_dns,
        vec![Ipv4Addr::new(8, 8, 4, 4), Ipv4Addr::new(8, 8, 8, 8)]
    );
    assert_eq!(c.dhcpv6_dns.len(), 2);
    assert_eq!(c.color, ColorMode::Auto);
    assert_eq!(c.graphtrace_level, 1);
    assert_eq!(c.wcmp_percent, 50);
    assert!(c.wcmp_enabled());
    assert_eq!(c.flow_timeout, Duration::from_secs(1));
    assert_eq!(c.flow_aging_interval(), Duration::from_secs(1));
    let protos: Vec<VirtsvcProto> = c.virtual_services.iter().map(|s| s.proto).collect();
    assert_eq!(
        protos,
        vec![VirtsvcProto::Udp, VirtsvcProto::Tcp, VirtsvcProto::Udp],
        "command-line order across both options"
    );
    assert_eq!(c.eal.log_level_of("user1"), 8);
    assert!(!c.embedded_default);
    let sc = c.state_config();
    assert_eq!(sc.ports, c.ports);
    assert_eq!(sc.host_underlay, c.underlay);
}

#[test]
fn help_and_version_print() {
    let help = printed("--no-pci -- --help");
    assert!(
        help.contains("--udp-virtsvc") && help.contains("--flow-timeout"),
        "{help}"
    );
    assert_eq!(printed("-- -h"), help);
    assert_eq!(
        printed("--no-pci --no-huge -- --version"),
        format!("DP Service version {VERSION}\n")
    );
    assert_eq!(printed("-- -v"), format!("DP Service version {VERSION}\n"));
    // help wins over otherwise missing ports
    assert!(printed("-- --pf0=nosuch --help").contains("--pf0"));
    let eal_help = printed("--help");
    assert!(eal_help.contains("EAL options"), "{eal_help}");
    assert_eq!(printed("-h -- --version"), eal_help);
}

#[test]
fn option_errors() {
    let base = format!("{TAP_EAL} -- {TAP_OPTS}");
    for (extra, needle) in [
        ("--bogus", "--bogus"),
        ("--grpc-port=80", "Value '80' is out of range (1024-65535)"),
        ("--dhcp-mtu=abc", "Value 'abc' is not an integer"),
        ("--nic-type=ixgbe", "Invalid choice 'ixgbe'"),
        ("--ipv6=zz", "Invalid IPv6 address format: 'zz'"),
        (
            "--multiport-eswitch",
            "not supported for multi-port eswitch",
        ),
        ("--pf1", "a value is required"),
        (
            "--tcp-virtsvc=1.2.3.4,1,::1,1 --tcp-virtsvc=1.2.3.4,1,::2,2",
            "IPv4 specification already used",
        ),
    ] {
        let text = error(&format!("{base} {extra}"));
        assert!(text.contains(needle), "{extra}: {text}");
    }
    assert!(run_with(
        &format!("{base} --multiport-eswitch --no-offload"),
        Some(OsStr::new(""))
    )
    .is_ok());
    let many_dns: String = (0..64).map(|i| format!(" --dhcp-dns=10.0.0.{i}")).collect();
    assert!(error(&format!("{base}{many_dns}")).contains("Too many DHCP DNS"));
    let ok_dns: String = (0..63).map(|i| format!(" --dhcp-dns=10.0.0.{i}")).collect();
    assert_eq!(config(&format!("{base}{ok_dns}")).dhcp_dns.len(), 63);
    let many_dns6: String = (0..16).map(|i| format!(" --dhcpv6-dns=::{i}")).collect();
    assert!(error(&format!("{base}{many_dns6}")).contains("Too many DHCPv6 DNS"));
}

#[test]
fn eal_and_port_errors() {
    assert!(error(&format!("--bogus -- {TAP_OPTS}")).contains("unknown EAL option '--bogus'"));
    assert!(error(&format!("{TAP_EAL} --pf0=dtap0")).contains("is a dpservice option"));
    assert!(error(&format!(
        "{TAP_EAL} --vdev=net_ring0 -- {TAP_OPTS} --port-backend=tap"
    ))
    .contains("only TAP devices"));
    assert!(
        error(&format!("{TAP_EAL} --file-prefix=../x -- {TAP_OPTS}")).contains("--file-prefix")
    );
    assert!(error(&format!(
        "{TAP_EAL} -- --pf1=dtap1 --vf-pattern=dtapvf_ --nic-type=tap"
    ))
    .contains("--pf0 is required"));
    assert!(error(&format!(
        "{TAP_EAL} -- --pf0=eth0 --pf1=dtap1 --vf-pattern=dtapvf_ --nic-type=tap"
    ))
    .contains("No such interface 'eth0'"));
    // the default NIC type wants SR-IOV sysfs, which TAP devices lack
    assert!(error(&format!(
        "{TAP_EAL} -- --pf0=dtap0 --pf1=dtap1 --vf-pattern=dtapvf_"
    ))
    .contains("--nic-type=tap"));
}

#[test]
fn no_arguments_means_the_embedded_default() {
    let c = config("");
    assert!(c.embedded_default);
    assert_eq!(c.nic_type, NicType::Tap);
    assert_eq!(c.ports.len(), 6);
    assert_eq!(c.instance.prefix(), "rte");
    assert_eq!(c.grpc_port, 1337);
    assert_eq!(
        describe_source(&c),
        "embedded software default (see --help)"
    );
    // any argument at all disables it
    assert!(run_with("--no-pci", Some(OsStr::new(""))).is_err());
}

fn temp_conf(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dpconf-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dpservice.conf");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn file_then_command_line() {
    let path = temp_conf(
        "merge",
        "pf0 dtap0\npf1 dtap1\nvf-pattern dtapvf_\nnic-type tap\n\
         grpc-port 2000\ndhcp-dns 1.1.1.1\na-pf0 0000:03:00.0\n",
    );
    let inv = load_with(
        &argv(&format!("{TAP_EAL} -- --grpc-port=3000 --dhcp-dns=2.2.2.2")),
        Some(path.as_os_str()),
        &no_sysfs,
    )
    .unwrap();
    let Invocation::Run(c) = inv else {
        panic!("no run")
    };
    assert_eq!(c.grpc_port, 3000, "command line overrides the file");
    assert_eq!(
        c.dhcp_dns,
        vec![Ipv4Addr::new(1, 1, 1, 1), Ipv4Addr::new(2, 2, 2, 2)],
        "lists append, file first"
    );
    assert_eq!(c.eal.allow, vec!["0000:03:00.0"], "a-pf0 becomes -a");
    assert_eq!(c.config_file.as_deref(), Some(path.as_path()));
    assert!(!c.embedded_default);

    // a file that configures the daemon fully disables the embedded default
    let only_file = temp_conf("only", "grpc-port 2001\n");
    let err = load_with(&argv(""), Some(only_file.as_os_str()), &no_sysfs).unwrap_err();
    assert!(err.to_string().contains("--pf0 is required"), "{err}");

    let bad = temp_conf("bad", "pf0 dtap0\nflow-timeout 0\n");
    let err = load_with(
        &argv(&format!("{TAP_EAL} -- {TAP_OPTS}")),
        Some(bad.as_os_str()),
        &no_sysfs,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("line 2") && err.contains("out of range (1-300)"),
        "{err}"
    );

    for p in [path, only_file, bad] {
        std::fs::remove_dir_all(p.parent().unwrap()).unwrap();
    }
}

#[test]
fn dp_conf_naming_a_missing_file_is_fatal() {
    let err = run_with("", Some(OsStr::new("/nonexistent/x.conf"))).unwrap_err();
    assert!(
        err.to_string()
            .contains("Error opening config file '/nonexistent/x.conf'"),
        "{err}"
    );
}

#[test]
fn non_utf8_argument_is_refused() {
    use std::os::unix::ffi::OsStringExt;
    let args = vec![
        OsString::from("dpservice-bin"),
        OsString::from_vec(vec![0x2d, 0xff]),
    ];
    assert!(matches!(
        load_with(&args, Some(OsStr::new("")), &no_sysfs),
        Err(ConfigError::NotUtf8(_))
    ));
}

#[test]
fn eal_words_reach_dpdk_as_given_plus_the_files_pci_devices() {
    let c = config(&format!("{TAP_EAL} -- {TAP_OPTS} --port-backend=tap"));
    let given: Vec<String> = TAP_EAL.split_whitespace().map(str::to_owned).collect();
    assert_eq!(c.eal.words, given);

    let dir = std::env::temp_dir().join(format!("dpt-eal-words-{}", std::process::id()));
    std::fs::write(&dir, "a-pf0 0000:03:00.0\na-pf1 0000:03:00.1\n").unwrap();
    let c = match run_with(
        &format!("{TAP_EAL} -- {TAP_OPTS} --port-backend=tap"),
        Some(dir.as_os_str()),
    )
    .unwrap()
    {
        Invocation::Run(c) => *c,
        Invocation::Print(p) => panic!("printed {p}"),
    };
    let _ = std::fs::remove_file(&dir);
    let mut want = given;
    want.extend(["-a", "0000:03:00.0", "-a", "0000:03:00.1"].map(str::to_owned));
    assert_eq!(c.eal.words, want);
}

#[test]
fn port_backend_choice_and_the_builds_default() {
    let tap = config(&format!("{TAP_EAL} -- {TAP_OPTS} --port-backend=tap"));
    assert_eq!(tap.port_backend, PortBackend::Tap);
    assert_eq!(tap.taps.len(), 4);
    let default = config(&format!("{TAP_EAL} -- {TAP_OPTS}"));
    assert_eq!(default.port_backend, PortBackend::default_for_build());
    assert!(error(&format!("{TAP_EAL} -- {TAP_OPTS} --port-backend=xdp")).contains("xdp"));
}

#[cfg(not(feature = "dpdk"))]
#[test]
fn dpdk_backend_is_refused_by_a_build_without_dpdk() {
    let e = error(&format!("{TAP_EAL} -- {TAP_OPTS} --port-backend=dpdk"));
    assert!(
        e.contains("built without DPDK") && e.contains("--features dpdk"),
        "{e}"
    );
    assert_eq!(PortBackend::default_for_build(), PortBackend::Tap);
}

#[cfg(feature = "dpdk")]
#[test]
fn dpdk_backend_plans_roles_after_the_probe_when_pci_may_add_ports() {
    assert_eq!(PortBackend::default_for_build(), PortBackend::Dpdk);
    // upstream's hardware line: PCI devices, no TAP vdevs: roles wait for the probe
    let mut c = config("-l 0,1 --huge-unlink -a 0000:3b:00.0 -a 0000:3b:00.1 -- --pf0=ens1f0np0 --pf1=ens1f1np1 --vf-pattern=enp59s0f0v --nic-type=tap");
    assert!(c.ports.is_empty() && c.taps.is_empty());
    let probed = |i: u16, iface: &str| TapSpec {
        port_id: i,
        device: format!("0000:3b:00.{i}"),
        iface: iface.to_owned(),
        mac: None,
        persist: false,
    };
    c.plan_ports_with(
        vec![
            probed(0, "ens1f0np0"),
            probed(1, "ens1f1np1"),
            probed(2, "enp59s0f0v0"),
        ],
        &no_sysfs,
    )
    .unwrap();
    let kinds: Vec<(u16, PortKind)> = c.ports.iter().map(|p| (p.id, p.kind)).collect();
    assert_eq!(
        kinds,
        vec![(0, PortKind::Pf0), (1, PortKind::Pf1), (2, PortKind::Vf)]
    );
    // options that need no port are still checked at once
    assert!(error("-a 0000:3b:00.0 -- --pf1=x --vf-pattern=v").contains("--pf0"));
    // TAP-only lines with --no-pci are planned at once, as under the TAP backend
    assert_eq!(config(&format!("{TAP_EAL} -- {TAP_OPTS}")).ports.len(), 4);
}
