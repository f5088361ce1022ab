//! The daemon's configuration: the command line (`[EAL options] -- [dpservice options]`)
//! and the configuration file, resolved into one [`Config`].
//!
//! - [`eal`]: the part before `--`; [`vdev`]: its TAP devices;
//! - [`options`]: the part after `--` (the clap definition);
//! - [`file`](mod@file): `DP_CONF`; [`defaults`]: the embedded software default;
//! - [`ports`]: which port is pf0, pf1, a VF or the sync port;
//! - [`virtsvc`]: virtual services.

pub mod defaults;
pub mod eal;
pub mod file;
pub mod options;
pub mod ports;
pub mod vdev;
pub mod virtsvc;

use std::ffi::{OsStr, OsString};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{FromArgMatches, ValueEnum};
use dpservice::instance::{FilePrefixError, Instance};
use dpservice::version::VERSION;

pub use eal::EalArgs;
pub use options::{ColorMode, LogFormat, NicType, Options, PortBackend};
pub use vdev::TapSpec;
pub use virtsvc::{VirtsvcProto, VirtsvcSpec, VirtualService};

use crate::state::{PortId, PortInfo, StateConfig};

/// Most DHCP DNS servers (option 6 holds at most 255 bytes).
pub const MAX_DHCP_DNS: usize = 63;
/// Most DHCPv6 DNS servers (upstream keeps the list in 255 bytes).
pub const MAX_DHCPV6_DNS: usize = 15;

/// The resolved configuration of one daemon run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Instance name (`--file-prefix`), from which runtime paths derive.
    pub instance: Instance,
    /// The EAL part as parsed (log levels, accepted-but-ignored options, ...).
    pub eal: EalArgs,
    /// `--port-backend` (or the build's default).
    pub port_backend: PortBackend,
    /// Every `--vdev` TAP port in port-id order; the port layer creates them all.
    /// Under the DPDK backend: the probed ports once [`Config::plan_ports`] ran.
    pub taps: Vec<TapSpec>,
    /// `--pf0`, `--pf1`, `--vf-pattern`, `--sync-tap` as given (the DPDK backend plans
    /// the port roles again over the ports DPDK probed).
    pub port_names: PortNames,
    /// pf0, pf1 and the VFs (the ports with a role in the graph).
    pub ports: Vec<PortInfo>,
    /// The HA sync port (`--sync-tap`), if any.
    pub sync_port: Option<PortId>,
    /// Probed ports without a role.
    pub unused_ports: Vec<PortId>,
    /// `--ipv6`: the host underlay address.
    pub underlay: Ipv6Addr,
    /// `--dhcp-mtu`.
    pub dhcp_mtu: u16,
    /// `--dhcp-dns`, in order (file first).
    pub dhcp_dns: Vec<Ipv4Addr>,
    /// `--dhcpv6-dns`, in order (file first).
    pub dhcpv6_dns: Vec<Ipv6Addr>,
    /// `--udp-virtsvc` and `--tcp-virtsvc`, in order.
    pub virtual_services: Vec<VirtualService>,
    /// `--wcmp`: share (percent) of IPv4 tunnel egress on pf0.
    pub wcmp_percent: u8,
    /// `--nic-type`.
    pub nic_type: NicType,
    /// Not `--no-stats`.
    pub stats: bool,
    /// `--enable-ipv6-overlay`.
    pub ipv6_overlay: bool,
    /// Not `--no-offload` (software ports behave as if it were given).
    pub offload: bool,
    /// `--graphtrace-loglevel` (0-2).
    pub graphtrace_level: u8,
    /// `--color`.
    pub color: ColorMode,
    /// `--log-format`.
    pub log_format: LogFormat,
    /// `--grpc-port`.
    pub grpc_port: u16,
    /// `--flow-timeout`.
    pub flow_timeout: Duration,
    /// `--multiport-eswitch`.
    pub multiport_eswitch: bool,
    /// `--active-lockfile`.
    pub active_lockfile: Option<PathBuf>,
    /// `--sync-tap`.
    pub sync_tap: Option<String>,
    /// `--debug-coredumps`.
    pub debug_coredumps: bool,
    /// `--static-underlay`.
    pub static_underlay: bool,
    /// The configuration file that was read.
    pub config_file: Option<PathBuf>,
    /// The embedded default was used (no argument, no file).
    pub embedded_default: bool,
}

impl Config {
    /// Whether weighted multipath is on (`--wcmp` below 100).
    pub fn wcmp_enabled(&self) -> bool {
        self.wcmp_percent < 100
    }

    /// The flow-aging interval: min(5 s, `--flow-timeout`).
    pub fn flow_aging_interval(&self) -> Duration {
        self.flow_timeout.min(Duration::from_secs(5))
    }

    /// What the control-plane state is built from.
    pub fn state_config(&self) -> StateConfig {
        let mut cfg = StateConfig::new(self.underlay, self.ports.clone());
        cfg.deterministic_underlays = self.static_underlay;
        cfg.nic_type = self.nic_type;
        cfg
    }
}

/// The interface names that give ports their roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortNames {
    /// `--pf0`.
    pub pf0: Option<String>,
    /// `--pf1`.
    pub pf1: Option<String>,
    /// `--vf-pattern`.
    pub vf_pattern: Option<String>,
    /// `--sync-tap`.
    pub sync_tap: Option<String>,
}

impl Config {
    /// Assigns the port roles over `probed` (the ports DPDK found, in port-id order, as
    /// device name and kernel interface name), as upstream does after its EAL probe.
    pub fn plan_ports(&mut self, probed: Vec<TapSpec>) -> Result<(), ports::PortError> {
        self.plan_ports_with(probed, &ports::read_sysfs)
    }

    /// [`Config::plan_ports`] with the SR-IOV sysfs reader supplied (for tests).
    pub fn plan_ports_with(
        &mut self,
        probed: Vec<TapSpec>,
        sriov: ports::SriovReader<'_>,
    ) -> Result<(), ports::PortError> {
        let plan = ports::plan(&probed, self.port_options(), sriov)?;
        self.taps = probed;
        self.ports = plan.ports;
        self.sync_port = plan.sync_port;
        self.unused_ports = plan.unused;
        Ok(())
    }

    fn port_options(&self) -> ports::PortOptions<'_> {
        ports::PortOptions {
            pf0: self.port_names.pf0.as_deref(),
            pf1: self.port_names.pf1.as_deref(),
            vf_pattern: self.port_names.vf_pattern.as_deref(),
            sync_tap: self.port_names.sync_tap.as_deref(),
            nic_type: self.nic_type,
        }
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Invocation {
    /// Run the daemon.
    Run(Box<Config>),
    /// Print this on stdout and exit 0 (`--help`, `--version`).
    Print(String),
}

/// Why the configuration was refused (printed on stderr; exit status 1).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An argument that is not UTF-8.
    #[error("argument {0:?} is not valid UTF-8")]
    NotUtf8(OsString),
    /// Configuration file.
    #[error(transparent)]
    File(#[from] file::FileError),
    /// EAL part.
    #[error(transparent)]
    Eal(#[from] eal::EalError),
    /// `--vdev`.
    #[error(transparent)]
    Vdev(#[from] vdev::VdevError),
    /// dpservice options (clap's rendering, upstream's value messages inside).
    #[error("{0}")]
    Options(String),
    /// `--file-prefix`.
    #[error("--file-prefix: {0}")]
    FilePrefix(#[from] FilePrefixError),
    /// List too long.
    #[error("Too many DHCP DNS addresses specified (at most {MAX_DHCP_DNS})")]
    TooManyDhcpDns,
    /// List too long.
    #[error("Too many DHCPv6 DNS addresses specified (at most {MAX_DHCPV6_DNS})")]
    TooManyDhcpv6Dns,
    /// Virtual services.
    #[error(transparent)]
    Virtsvc(#[from] virtsvc::VirtsvcError),
    /// `--multiport-eswitch` without `--no-offload`.
    #[error(
        "HW offloading is currently not supported for multi-port eswitch mode (add --no-offload)"
    )]
    MultiportNeedsNoOffload,
    /// Port roles.
    #[error(transparent)]
    Ports(#[from] ports::PortError),
    /// `--port-backend=dpdk` in a build without DPDK.
    #[error("--port-backend=dpdk: this dpservice-bin was built without DPDK (build it with 'cargo build --features dpdk', or use --port-backend=tap)")]
    DpdkNotBuilt,
}

/// Reads the configuration: `args` is the whole command line (program name first),
/// `dp_conf` the value of `DP_CONF`.
pub fn load(args: &[OsString], dp_conf: Option<&OsStr>) -> Result<Invocation, ConfigError> {
    load_with(args, dp_conf, &ports::read_sysfs)
}

/// [`load`] with the SR-IOV sysfs reader supplied (for tests).
pub fn load_with(
    args: &[OsString],
    dp_conf: Option<&OsStr>,
    sriov: ports::SriovReader<'_>,
) -> Result<Invocation, ConfigError> {
    let mut words = args
        .iter()
        .skip(1)
        .map(|a| {
            a.to_str()
                .map(str::to_owned)
                .ok_or_else(|| ConfigError::NotUtf8(a.clone()))
        })
        .collect::<Result<Vec<String>, _>>()?;
    let file = file::load(dp_conf)?;
    let embedded_default = words.is_empty() && file.is_empty();
    if embedded_default {
        words = defaults::DEFAULT_ARGS
            .iter()
            .map(|s| s.to_string())
            .collect();
    }
    let (eal_words, option_words) = match words.iter().position(|w| w == "--") {
        Some(i) => (&words[..i], &words[i + 1..]),
        None => (&words[..], &[][..]),
    };

    let mut eal = eal::parse(eal_words)?;
    if eal.help {
        return Ok(Invocation::Print(eal::Usage.to_string()));
    }
    for device in file.eal_allow() {
        eal.allow_device(&device);
    }

    let argv = std::iter::once("dpservice-bin".to_owned())
        .chain(file.option_words.iter().cloned())
        .chain(option_words.iter().cloned());
    let matches = match options::command().try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            return Ok(Invocation::Print(e.to_string()))
        }
        Err(e) => return Err(ConfigError::Options(e.to_string().trim_end().to_owned())),
    };
    let opts = Options::from_arg_matches(&matches)
        .map_err(|e| ConfigError::Options(e.to_string().trim_end().to_owned()))?;
    if opts.version {
        return Ok(Invocation::Print(format!("DP Service version {VERSION}\n")));
    }

    if opts.dhcp_dns.len() > MAX_DHCP_DNS {
        return Err(ConfigError::TooManyDhcpDns);
    }
    if opts.dhcpv6_dns.len() > MAX_DHCPV6_DNS {
        return Err(ConfigError::TooManyDhcpv6Dns);
    }
    let virtual_services = ordered_virtual_services(&matches, &opts);
    virtsvc::validate(&virtual_services)?;
    if opts.multiport_eswitch && !opts.no_offload {
        return Err(ConfigError::MultiportNeedsNoOffload);
    }

    let port_backend = opts
        .port_backend
        .unwrap_or_else(PortBackend::default_for_build);
    if port_backend == PortBackend::Dpdk && !cfg!(feature = "dpdk") {
        return Err(ConfigError::DpdkNotBuilt);
    }
    let instance = Instance::new(eal.file_prefix.as_deref().unwrap_or_default())?;
    let port_names = PortNames {
        pf0: opts.pf0.clone(),
        pf1: opts.pf1.clone(),
        vf_pattern: opts.vf_pattern.clone(),
        sync_tap: opts.sync_tap.clone(),
    };
    let port_options = ports::PortOptions {
        pf0: port_names.pf0.as_deref(),
        pf1: port_names.pf1.as_deref(),
        vf_pattern: port_names.vf_pattern.as_deref(),
        sync_tap: port_names.sync_tap.as_deref(),
        nic_type: opts.nic_type,
    };
    // DPDK may find more ports than the TAP vdevs (PCI devices, other drivers): then the
    // roles are planned after its probe (Config::plan_ports) and only the options that
    // need no port are checked here
    let after_probe = port_backend == PortBackend::Dpdk && eal.probes_beyond_taps();
    let (taps, plan) = if after_probe {
        let tap_vdevs: Vec<String> = eal
            .vdevs
            .iter()
            .filter(|v| v.starts_with(vdev::TAP_DRIVER))
            .cloned()
            .collect();
        vdev::parse_all(&tap_vdevs)?;
        let given = |o: Option<&str>| o.is_some_and(|n| !n.is_empty());
        if !given(port_options.pf0) {
            return Err(ports::PortError::MissingPf("--pf0").into());
        }
        if !given(port_options.pf1) {
            return Err(ports::PortError::MissingPf("--pf1").into());
        }
        if !given(port_options.vf_pattern) {
            return Err(ports::PortError::MissingVfPattern.into());
        }
        (Vec::new(), ports::PortPlan::default())
    } else {
        let taps = vdev::parse_all(&eal.vdevs)?;
        let plan = ports::plan(&taps, port_options, sriov)?;
        (taps, plan)
    };

    Ok(Invocation::Run(Box::new(Config {
        instance,
        eal,
        port_backend,
        taps,
        port_names: port_names.clone(),
        ports: plan.ports,
        sync_port: plan.sync_port,
        unused_ports: plan.unused,
        underlay: opts.ipv6,
        dhcp_mtu: opts.dhcp_mtu,
        dhcp_dns: opts.dhcp_dns.clone(),
        dhcpv6_dns: opts.dhcpv6_dns.clone(),
        virtual_services,
        wcmp_percent: opts.wcmp,
        nic_type: opts.nic_type,
        stats: !opts.no_stats,
        ipv6_overlay: opts.enable_ipv6_overlay,
        offload: !opts.no_offload,
        graphtrace_level: opts.graphtrace_loglevel,
        color: opts.color,
        log_format: opts.log_format,
        grpc_port: opts.grpc_port,
        flow_timeout: Duration::from_secs(opts.flow_timeout.into()),
        multiport_eswitch: opts.multiport_eswitch,
        active_lockfile: opts.active_lockfile_path(),
        sync_tap: opts.sync_tap.clone().filter(|s| !s.is_empty()),
        debug_coredumps: opts.debug_coredumps,
        static_underlay: opts.static_underlay,
        config_file: file.path.clone(),
        embedded_default,
    })))
}

/// UDP and TCP services merged back into command-line order.
fn ordered_virtual_services(matches: &clap::ArgMatches, opts: &Options) -> Vec<VirtualService> {
    let tagged = |id: &str, proto: VirtsvcProto, specs: &[VirtsvcSpec]| {
        let indices: Vec<usize> = matches
            .indices_of(id)
            .map(Iterator::collect)
            .unwrap_or_default();
        specs
            .iter()
            .zip(indices.into_iter().chain(std::iter::repeat(usize::MAX)))
            .map(|(spec, index)| (index, VirtualService { proto, spec: *spec }))
            .collect::<Vec<_>>()
    };
    let mut all = tagged("udp_virtsvc", VirtsvcProto::Udp, &opts.udp_virtsvc);
    all.extend(tagged("tcp_virtsvc", VirtsvcProto::Tcp, &opts.tcp_virtsvc));
    all.sort_by_key(|(index, _)| *index);
    all.into_iter().map(|(_, svc)| svc).collect()
}

/// The choice's name as written on the command line.
pub fn choice_name<E: ValueEnum>(value: &E) -> String {
    value
        .to_possible_value()
        .map(|p| p.get_name().to_owned())
        .unwrap_or_default()
}

/// Shown in the start-up log: where the configuration came from.
pub fn describe_source(cfg: &Config) -> String {
    match (&cfg.config_file, cfg.embedded_default) {
        (_, true) => "embedded software default (see --help)".to_owned(),
        (Some(p), false) => format!("command line and {}", p.display()),
        (None, false) => "command line".to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
