//! The dpservice options (the part of the command line after `--`): one clap definition
//! that parses, prints `--help` and feeds the generated completions and man page.
//!
//! Names, placeholders, defaults and ranges are upstream's; the value checks report
//! upstream's messages (`Value '70000' is out of range (1024-65535)`).

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{ArgAction, CommandFactory, Parser, ValueEnum};

use super::defaults;
use super::virtsvc::VirtsvcSpec;

/// Longest kernel interface name plus one (`IF_NAMESIZE`).
pub const IF_NAMESIZE: usize = 16;
/// Size of upstream's lock-file path buffer.
pub const LOCKFILE_PATH_SIZE: usize = 256;

/// Backend behaviour switches (`--nic-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum NicType {
    /// Mellanox ConnectX: VF count from SR-IOV sysfs
    #[default]
    Mellanox,
    /// TAP devices: VF count from the ports matching --vf-pattern
    Tap,
    /// BlueField-2 DPU
    Bluefield2,
}

/// Where packets enter and leave (`--port-backend`; ours, upstream always uses DPDK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PortBackend {
    /// DPDK ports from the EAL options (--vdev, -a/PCI); needs a build with DPDK
    Dpdk,
    /// Linux TAP devices from the --vdev=net_tap... options, read with system calls
    Tap,
}

impl PortBackend {
    /// `dpdk` when this binary was built with DPDK (cargo feature `dpdk`), else `tap`.
    pub fn default_for_build() -> PortBackend {
        if cfg!(feature = "dpdk") {
            PortBackend::Dpdk
        } else {
            PortBackend::Tap
        }
    }
}

/// Colour in text logs (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorMode {
    /// No colours
    #[default]
    Never,
    /// Always colour
    Always,
    /// Colour when standard output is a terminal
    Auto,
}

/// Log line format (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    /// `<timestamp> <thread-id>(<thread-name>) <level> <TYPE>: <message>, key: value`
    #[default]
    Text,
    /// One JSON object per line (`ts`, `thread_id`, `thread_name`, `level`, `logger`, `msg`, ...)
    Json,
}

/// Upstream's graph-trace verbosity limit.
pub const GRAPHTRACE_LOGLEVEL_MAX: u8 = 2;

/// The dpservice options, as parsed (values checked one by one; checks that need the
/// whole set, such as list limits and port matching, happen when the `Config` is built).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "dpservice-bin",
    about = "The dpservice dataplane daemon",
    long_about = "The dpservice dataplane daemon: a virtual router for VM ports with \
                  IP-in-IPv6 overlay tunnels, NAT, load balancers and a gRPC control API.",
    override_usage = "dpservice-bin [EAL options] -- [OPTIONS]",
    after_help = defaults::help_text(),
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true,
    infer_long_args = true
)]
pub struct Options {
    /// display this help and exit
    #[arg(short = 'h', long, action = ArgAction::HelpShort)]
    pub help: Option<bool>,

    /// display version and exit
    #[arg(short = 'v', long)]
    pub version: bool,

    /// first physical interface (e.g. eth0)
    #[arg(long, value_name = "IFNAME", value_parser = short_string(IF_NAMESIZE))]
    pub pf0: Option<String>,

    /// second physical interface (e.g. eth1)
    #[arg(long, value_name = "IFNAME", value_parser = short_string(IF_NAMESIZE))]
    pub pf1: Option<String>,

    /// IPv6 underlay address
    #[arg(long, value_name = "ADDR6", default_value = "::", value_parser = underlay_ipv6)]
    pub ipv6: Ipv6Addr,

    /// virtual interface name pattern (e.g. 'eth1vf')
    #[arg(long, value_name = "PATTERN", value_parser = short_string(IF_NAMESIZE))]
    pub vf_pattern: Option<String>,

    /// set the mtu field in DHCP responses (68 - 1500)
    #[arg(long, value_name = "SIZE", default_value = "1500", value_parser = int_in_range::<u16>(68, 1500))]
    pub dhcp_mtu: u16,

    /// set the domain name server field in DHCP responses (can be used multiple times)
    #[arg(long, value_name = "IPv4", action = ArgAction::Append, value_parser = dns_ipv4)]
    pub dhcp_dns: Vec<Ipv4Addr>,

    /// set the domain name server field in DHCPv6 responses (can be used multiple times)
    #[arg(long, value_name = "ADDR6", action = ArgAction::Append, value_parser = dns_ipv6)]
    pub dhcpv6_dns: Vec<Ipv6Addr>,

    /// map a VM-accessible IPv4 endpoint to an outside IPv6 UDP service
    #[arg(long, value_name = "IPv4,port,IPv6,port", action = ArgAction::Append,
          value_parser = VirtsvcSpec::parse)]
    pub udp_virtsvc: Vec<VirtsvcSpec>,

    /// map a VM-accessible IPv4 endpoint to an outside IPv6 TCP service
    #[arg(long, value_name = "IPv4,port,IPv6,port", action = ArgAction::Append,
          value_parser = VirtsvcSpec::parse)]
    pub tcp_virtsvc: Vec<VirtsvcSpec>,

    /// weighted-cost-multipath percentage for pf0 (0 - 100)
    #[arg(long, value_name = "PERCENTAGE", default_value = "100", value_parser = int_in_range::<u8>(0, 100))]
    pub wcmp: u8,

    /// NIC type to use
    #[arg(long, value_name = "NICTYPE", default_value = "mellanox", value_parser = Choice::<NicType>::new())]
    pub nic_type: NicType,

    /// port backend: dpdk (the default in builds with DPDK) or tap (the default otherwise)
    #[arg(long, value_name = "BACKEND", value_parser = Choice::<PortBackend>::new())]
    pub port_backend: Option<PortBackend>,

    /// do not print periodic statistics to stdout
    #[arg(long)]
    pub no_stats: bool,

    /// enable IPv6 overlay addresses
    #[arg(long)]
    pub enable_ipv6_overlay: bool,

    /// disable traffic offloading
    #[arg(long)]
    pub no_offload: bool,

    /// verbosity level of packet traversing the graph framework
    #[arg(long, value_name = "LEVEL", default_value = "0",
          value_parser = int_in_range::<u8>(0, GRAPHTRACE_LOGLEVEL_MAX.into()))]
    pub graphtrace_loglevel: u8,

    /// output colorization mode
    #[arg(long, value_name = "MODE", default_value = "never", value_parser = Choice::<ColorMode>::new())]
    pub color: ColorMode,

    /// set the format of individual log lines (on standard output)
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = Choice::<LogFormat>::new())]
    pub log_format: LogFormat,

    /// listen for gRPC clients on this port
    #[arg(long, value_name = "PORT", default_value = "1337", value_parser = int_in_range::<u16>(1024, 65535))]
    pub grpc_port: u16,

    /// inactive flow timeout (except TCP established flows)
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = int_in_range::<u16>(1, 300))]
    pub flow_timeout: u16,

    /// run on NIC configured in multiport e-switch mode
    #[arg(long)]
    pub multiport_eswitch: bool,

    /// file to be locked before starting packet processing
    #[arg(long, value_name = "PATH", value_parser = short_string(LOCKFILE_PATH_SIZE))]
    pub active_lockfile: Option<String>,

    /// TAP device to use for dpservice-ha synchronization
    #[arg(long, value_name = "IFNAME", value_parser = short_string(IF_NAMESIZE))]
    pub sync_tap: Option<String>,

    /// Change /proc/self/coredump-flags to 0x7f for complete core-dumps
    #[arg(long)]
    pub debug_coredumps: bool,

    /// generate underlay addresses deterministically, as upstream's static-underlay test
    /// build does (for reproducible tests)
    #[arg(long)]
    pub static_underlay: bool,
}

impl Options {
    /// The lock file as a path, if one was given and is not empty.
    pub fn active_lockfile_path(&self) -> Option<PathBuf> {
        self.active_lockfile
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
    }
}

/// The clap definition (for `--help`, completions and the man page).
pub fn command() -> clap::Command {
    Options::command()
}

/// A string shorter than `size` characters (upstream stores it in a `char[size]`).
fn short_string(size: usize) -> impl Fn(&str) -> Result<String, String> + Clone {
    move |arg: &str| {
        if arg.len() >= size {
            Err(format!(
                "Value '{arg}' is too long (max {} characters)",
                size - 1
            ))
        } else {
            Ok(arg.to_owned())
        }
    }
}

/// A decimal integer in `min..=max`, converted to the option's integer type.
fn int_in_range<T>(min: i64, max: i64) -> impl Fn(&str) -> Result<T, String> + Clone
where
    T: TryFrom<i64>,
{
    move |arg: &str| {
        let value = parse_decimal(arg).ok_or_else(|| format!("Value '{arg}' is not an integer"))?;
        if value < min || value > max {
            return Err(format!("Value '{arg}' is out of range ({min}-{max})"));
        }
        T::try_from(value).map_err(|_| format!("Value '{arg}' is out of range ({min}-{max})"))
    }
}

/// `strtol(arg, 10)` that must consume everything: optional leading blanks and sign, then
/// digits. Unlike `strtol` an empty string is not taken as 0.
fn parse_decimal(arg: &str) -> Option<i64> {
    let trimmed = arg.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    trimmed.parse::<i64>().ok()
}

fn underlay_ipv6(arg: &str) -> Result<Ipv6Addr, String> {
    arg.parse()
        .map_err(|_| format!("Invalid IPv6 address format: '{arg}'"))
}

fn dns_ipv4(arg: &str) -> Result<Ipv4Addr, String> {
    arg.parse()
        .map_err(|_| format!("Invalid IPv4 address '{arg}'"))
}

fn dns_ipv6(arg: &str) -> Result<Ipv6Addr, String> {
    arg.parse()
        .map_err(|_| format!("Invalid IPv6 address '{arg}'"))
}

/// An exact, case-sensitive choice among a `ValueEnum`'s names, failing with upstream's
/// message; the choices stay known to clap for help and completions.
#[derive(Debug)]
struct Choice<E>(PhantomData<fn() -> E>);

impl<E> Choice<E> {
    fn new() -> Self {
        Choice(PhantomData)
    }
}

impl<E> Clone for Choice<E> {
    fn clone(&self) -> Self {
        Choice(PhantomData)
    }
}

impl<E: ValueEnum + Clone + Send + Sync + 'static> TypedValueParser for Choice<E> {
    type Value = E;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<E, clap::Error> {
        let pick = |text: &str| -> Result<E, String> {
            E::value_variants()
                .iter()
                .find(|v| v.to_possible_value().is_some_and(|p| p.get_name() == text))
                .cloned()
                .ok_or_else(|| {
                    let names: Vec<String> = E::value_variants()
                        .iter()
                        .filter_map(|v| v.to_possible_value())
                        .map(|p| format!("'{}'", p.get_name()))
                        .collect();
                    format!(
                        "Invalid choice '{text}' (choose from: {})",
                        names.join(", ")
                    )
                })
        };
        pick.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            E::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value()),
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        let mut argv = vec!["dpservice-bin"];
        argv.extend_from_slice(args);
        Options::try_parse_from(argv)
    }

    fn error_text(args: &[&str]) -> String {
        parse(args).unwrap_err().to_string()
    }

    #[test]
    fn definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn defaults_are_upstreams() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.pf0, None);
        assert_eq!(o.ipv6, Ipv6Addr::UNSPECIFIED);
        assert_eq!(o.dhcp_mtu, 1500);
        assert_eq!(o.wcmp, 100);
        assert_eq!(o.nic_type, NicType::Mellanox);
        assert!(!o.no_stats && !o.no_offload && !o.enable_ipv6_overlay);
        assert_eq!(o.graphtrace_loglevel, 0);
        assert_eq!(o.color, ColorMode::Never);
        assert_eq!(o.log_format, LogFormat::Text);
        assert_eq!(o.grpc_port, 1337);
        assert_eq!(o.flow_timeout, 30);
        assert!(!o.multiport_eswitch && !o.debug_coredumps && !o.static_underlay);
        assert_eq!(o.active_lockfile_path(), None);
        assert_eq!(o.sync_tap, None);
    }

    #[test]
    fn both_value_spellings_and_last_scalar_wins() {
        let o = parse(&[
            "--pf0",
            "eth0",
            "--pf0=eth9",
            "--grpc-port=2000",
            "--grpc-port",
            "2001",
        ])
        .unwrap();
        assert_eq!(o.pf0.as_deref(), Some("eth9"));
        assert_eq!(o.grpc_port, 2001);
        let o = parse(&["--no-stats", "--no-stats"]).unwrap();
        assert!(o.no_stats);
    }

    #[test]
    fn unambiguous_prefixes_are_accepted_like_getopt() {
        let o = parse(&["--grpc=2000", "--vf-pat", "vf"]).unwrap();
        assert_eq!(o.grpc_port, 2000);
        assert_eq!(o.vf_pattern.as_deref(), Some("vf"));
        assert!(parse(&["--d=1"]).is_err(), "ambiguous prefix");
    }

    #[test]
    fn integer_ranges() {
        for (opt, min, max) in [
            ("--dhcp-mtu", 68, 1500),
            ("--wcmp", 0, 100),
            ("--graphtrace-loglevel", 0, 2),
            ("--grpc-port", 1024, 65535),
            ("--flow-timeout", 1, 300),
        ] {
            assert!(parse(&[&format!("{opt}={min}")]).is_ok(), "{opt}={min}");
            assert!(parse(&[&format!("{opt}={max}")]).is_ok(), "{opt}={max}");
            let below = format!("{opt}={}", min - 1);
            let text = error_text(&[&below]);
            assert!(
                text.contains(&format!(
                    "Value '{}' is out of range ({min}-{max})",
                    min - 1
                )),
                "{text}"
            );
            let above = format!("{opt}={}", max + 1);
            assert!(parse(&[&above]).is_err(), "{above}");
            let text = error_text(&[&format!("{opt}=12x")]);
            assert!(text.contains("Value '12x' is not an integer"), "{text}");
            assert!(parse(&[&format!("{opt}=")]).is_err(), "{opt}= (empty)");
        }
        assert_eq!(parse(&["--wcmp=+50"]).unwrap().wcmp, 50);
        assert_eq!(parse(&["--wcmp= 7"]).unwrap().wcmp, 7);
        assert!(parse(&["--grpc-port=99999999999999999999"]).is_err());
    }

    #[test]
    fn string_lengths() {
        for opt in ["--pf0", "--pf1", "--vf-pattern", "--sync-tap"] {
            assert!(
                parse(&[&format!("{opt}={}", "x".repeat(15))]).is_ok(),
                "{opt}"
            );
            let text = error_text(&[&format!("{opt}={}", "x".repeat(16))]);
            assert!(text.contains("is too long (max 15 characters)"), "{text}");
        }
        assert!(parse(&[&format!("--active-lockfile=/{}", "x".repeat(254))]).is_ok());
        let text = error_text(&[&format!("--active-lockfile=/{}", "x".repeat(255))]);
        assert!(text.contains("(max 255 characters)"), "{text}");
    }

    #[test]
    fn addresses() {
        let o = parse(&["--ipv6=fc00:1::1"]).unwrap();
        assert_eq!(o.ipv6, "fc00:1::1".parse::<Ipv6Addr>().unwrap());
        let text = error_text(&["--ipv6=fc00:1::1::2"]);
        assert!(
            text.contains("Invalid IPv6 address format: 'fc00:1::1::2'"),
            "{text}"
        );
        let o = parse(&["--dhcp-dns=8.8.4.4", "--dhcp-dns", "8.8.8.8"]).unwrap();
        assert_eq!(
            o.dhcp_dns,
            vec![Ipv4Addr::new(8, 8, 4, 4), Ipv4Addr::new(8, 8, 8, 8)]
        );
        let text = error_text(&["--dhcp-dns=8.8.8"]);
        assert!(text.contains("Invalid IPv4 address '8.8.8'"), "{text}");
        let o = parse(&["--dhcpv6-dns=2001:4860:4860::6464", "--dhcpv6-dns=::1"]).unwrap();
        assert_eq!(o.dhcpv6_dns.len(), 2);
        assert!(parse(&["--dhcpv6-dns=1.2.3.4"]).is_err());
    }

    #[test]
    fn enums_take_exact_names() {
        let o = parse(&["--nic-type=tap", "--color=auto", "--log-format=json"]).unwrap();
        assert_eq!(o.nic_type, NicType::Tap);
        assert_eq!(o.color, ColorMode::Auto);
        assert_eq!(o.log_format, LogFormat::Json);
        assert_eq!(
            parse(&["--nic-type=bluefield2"]).unwrap().nic_type,
            NicType::Bluefield2
        );
        let text = error_text(&["--nic-type=TAP"]);
        assert!(
            text.contains("Invalid choice 'TAP' (choose from: 'mellanox', 'tap', 'bluefield2')"),
            "{text}"
        );
        assert!(parse(&["--color=sometimes"]).is_err());
        assert!(parse(&["--log-format=xml"]).is_err());
    }

    #[test]
    fn flags_and_errors() {
        let o = parse(&[
            "--no-stats",
            "--enable-ipv6-overlay",
            "--no-offload",
            "--multiport-eswitch",
            "--debug-coredumps",
            "--static-underlay",
            "--active-lockfile=/tmp/x.lock",
            "--sync-tap=dps_sync_a",
        ])
        .unwrap();
        assert!(o.no_stats && o.enable_ipv6_overlay && o.no_offload);
        assert!(o.multiport_eswitch && o.debug_coredumps && o.static_underlay);
        assert_eq!(o.active_lockfile_path(), Some(PathBuf::from("/tmp/x.lock")));
        assert_eq!(o.sync_tap.as_deref(), Some("dps_sync_a"));
        assert!(parse(&["--no-such-option"]).is_err());
        assert!(parse(&["--pf0"]).is_err(), "missing value");
        assert!(parse(&["--no-stats=yes"]).is_err(), "flag with a value");
        assert!(parse(&["positional"]).is_err());
    }

    #[test]
    fn help_lists_every_option_the_test_runner_looks_for() {
        let help = command().render_help().to_string();
        for needle in [
            "--pf0 <IFNAME>",
            "--udp-virtsvc <IPv4,port,IPv6,port>",
            "--flow-timeout <SECONDS>",
            "--active-lockfile <PATH>",
            "-v, --version",
            "-h, --help",
            "dpservice-bin [EAL options] -- [OPTIONS]",
        ] {
            assert!(help.contains(needle), "help lacks {needle}:\n{help}");
        }
    }
}
