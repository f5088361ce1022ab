//! The DPDK EAL part of the command line (everything before the first `--`).
//!
//! The software backend needs only a few of these (`--file-prefix`, `--vdev`,
//! `--log-level`); the others are accepted so that upstream's command lines work, and
//! reported as having no effect. Options DPDK does not know are refused, as DPDK does.

use std::fmt;

/// How an EAL option takes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arity {
    /// `--opt`
    Flag,
    /// `--opt=value`, `--opt value`, `-o value`, `-ovalue`
    Value,
    /// `--opt` or `--opt=value` (never a separate word)
    Optional,
}

/// What we do with an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Lcores,
    Coremask,
    LogLevel,
    NoPci,
    NoHuge,
    HugeUnlink,
    InMemory,
    FilePrefix,
    Vdev,
    Allow,
    Help,
    /// Accepted, without effect in the software backend.
    Ignored,
}

/// (short, long, arity, effect): DPDK's EAL options.
const OPTIONS: &[(Option<char>, &str, Arity, Effect)] = &[
    (Some('l'), "lcores", Arity::Value, Effect::Lcores),
    (Some('c'), "coremask", Arity::Value, Effect::Coremask),
    (None, "log-level", Arity::Value, Effect::LogLevel),
    (None, "no-pci", Arity::Flag, Effect::NoPci),
    (None, "no-huge", Arity::Flag, Effect::NoHuge),
    (None, "huge-unlink", Arity::Optional, Effect::HugeUnlink),
    (None, "in-memory", Arity::Flag, Effect::InMemory),
    (None, "file-prefix", Arity::Value, Effect::FilePrefix),
    (None, "vdev", Arity::Value, Effect::Vdev),
    (Some('a'), "allow", Arity::Value, Effect::Allow),
    (Some('w'), "pci-whitelist", Arity::Value, Effect::Allow),
    (Some('h'), "help", Arity::Flag, Effect::Help),
    (Some('b'), "block", Arity::Value, Effect::Ignored),
    (None, "pci-blacklist", Arity::Value, Effect::Ignored),
    (Some('d'), "driver-path", Arity::Value, Effect::Ignored),
    (Some('m'), "memory", Arity::Value, Effect::Ignored),
    (Some('n'), "memory-channels", Arity::Value, Effect::Ignored),
    (Some('r'), "memory-ranks", Arity::Value, Effect::Ignored),
    (Some('s'), "service-coremask", Arity::Value, Effect::Ignored),
    (Some('S'), "service-corelist", Arity::Value, Effect::Ignored),
    (Some('v'), "version", Arity::Flag, Effect::Ignored),
    (None, "main-lcore", Arity::Value, Effect::Ignored),
    (None, "master-lcore", Arity::Value, Effect::Ignored),
    (None, "base-virtaddr", Arity::Value, Effect::Ignored),
    (None, "create-uio-dev", Arity::Flag, Effect::Ignored),
    (None, "huge-dir", Arity::Value, Effect::Ignored),
    (None, "huge-worker-stack", Arity::Optional, Effect::Ignored),
    (None, "iova-mode", Arity::Value, Effect::Ignored),
    (None, "legacy-mem", Arity::Flag, Effect::Ignored),
    (None, "log-color", Arity::Optional, Effect::Ignored),
    (None, "log-timestamp", Arity::Optional, Effect::Ignored),
    (None, "match-allocations", Arity::Flag, Effect::Ignored),
    (None, "mbuf-pool-ops-name", Arity::Value, Effect::Ignored),
    (None, "no-hpet", Arity::Flag, Effect::Ignored),
    (None, "no-shconf", Arity::Flag, Effect::Ignored),
    (None, "no-telemetry", Arity::Flag, Effect::Ignored),
    (None, "proc-type", Arity::Value, Effect::Ignored),
    (None, "single-file-segments", Arity::Flag, Effect::Ignored),
    (None, "socket-limit", Arity::Value, Effect::Ignored),
    (None, "socket-mem", Arity::Value, Effect::Ignored),
    (None, "numa-mem", Arity::Value, Effect::Ignored),
    (None, "numa-limit", Arity::Value, Effect::Ignored),
    (None, "syslog", Arity::Optional, Effect::Ignored),
    (None, "telemetry", Arity::Flag, Effect::Ignored),
    (None, "trace", Arity::Value, Effect::Ignored),
    (None, "trace-bufsz", Arity::Value, Effect::Ignored),
    (None, "trace-dir", Arity::Value, Effect::Ignored),
    (None, "trace-mode", Arity::Value, Effect::Ignored),
    (None, "vfio-intr", Arity::Value, Effect::Ignored),
    (None, "vfio-vf-token", Arity::Value, Effect::Ignored),
    (None, "vmware-tsc-map", Arity::Flag, Effect::Ignored),
    (
        None,
        "force-max-simd-bitwidth",
        Arity::Value,
        Effect::Ignored,
    ),
];

/// The EAL options as a clap definition, only for shell completion of the part before
/// `--` (they are parsed by [`parse`], DPDK-style, not by clap).
pub fn completion_command() -> clap::Command {
    let mut cmd = clap::Command::new("dpservice-bin")
        .disable_help_flag(true)
        .disable_version_flag(true);
    for &(short, long, arity, effect) in OPTIONS {
        let mut arg = clap::Arg::new(long).long(long);
        if let Some(short) = short {
            arg = arg.short(short);
        }
        arg = match arity {
            Arity::Flag => arg.action(clap::ArgAction::SetTrue),
            Arity::Optional => arg.num_args(0..=1).require_equals(true),
            Arity::Value => arg.action(clap::ArgAction::Append),
        };
        if effect == Effect::FilePrefix {
            arg = arg.add(dpservice::completion::running_instances());
        }
        cmd = cmd.arg(arg);
    }
    cmd
}

/// The EAL arguments, as far as the software backend cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EalArgs {
    /// The words as given (what the DPDK backend hands to `rte_eal_init` unchanged),
    /// followed by `-a ADDR` for each `a-pf0`/`a-pf1` line of the configuration file.
    pub words: Vec<String>,
    /// `-l`/`--lcores` or `-c` as given (syntax checked; no pinning is done).
    pub lcores: Option<String>,
    /// `--log-level` values, in order.
    pub log_levels: Vec<LogLevelArg>,
    /// `--no-pci`.
    pub no_pci: bool,
    /// `--no-huge`.
    pub no_huge: bool,
    /// `--huge-unlink`.
    pub huge_unlink: bool,
    /// `--in-memory`.
    pub in_memory: bool,
    /// `--file-prefix` (last one wins).
    pub file_prefix: Option<String>,
    /// `--vdev` values, in order.
    pub vdevs: Vec<String>,
    /// `-a`/`--allow` PCI devices (the DPDK backend's business).
    pub allow: Vec<String>,
    /// Options accepted without effect, as written (for an informational log line).
    pub ignored: Vec<String>,
    /// `-h`/`--help`: print the EAL usage and exit.
    pub help: bool,
}

/// Why the EAL part was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EalError {
    /// Not an EAL option.
    #[error("unknown EAL option '{0}' (EAL options come before '--'; see 'dpservice-bin --help')")]
    Unknown(String),
    /// A dpservice option in the EAL part.
    #[error("'{0}' is a dpservice option: put it after '--' (dpservice-bin [EAL options] -- [dpservice options])")]
    MisplacedDpserviceOption(String),
    /// Missing value.
    #[error("EAL option '{0}' requires a value")]
    MissingValue(String),
    /// Value given to a flag.
    #[error("EAL option '--{0}' takes no value")]
    UnexpectedValue(String),
    /// A word that is not an option.
    #[error("unexpected EAL argument '{0}' (dpservice options come after '--')")]
    Positional(String),
    /// Bad core list or mask.
    #[error("invalid core list '{0}' (expected e.g. '0,1', '0-3' or a hex mask with -c)")]
    BadLcores(String),
    /// Bad `--log-level`.
    #[error("invalid --log-level '{0}' (expected LEVEL or PATTERN:LEVEL, LEVEL 1-8 or a name such as 'debug')")]
    BadLogLevel(String),
}

/// One `--log-level=[PATTERN:]LEVEL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLevelArg {
    /// Log type pattern (glob with `*`/`?`, else a substring match); `None` = global.
    pub pattern: Option<String>,
    /// DPDK level, 1 (emergency) to 8 (debug).
    pub level: u8,
}

const LEVEL_NAMES: [&str; 8] = [
    "emergency",
    "alert",
    "critical",
    "error",
    "warning",
    "notice",
    "info",
    "debug",
];

/// DPDK's default level of the daemon's log types (info).
pub const DEFAULT_LOG_LEVEL: u8 = 7;

impl LogLevelArg {
    fn parse(text: &str) -> Result<LogLevelArg, EalError> {
        let bad = || EalError::BadLogLevel(text.to_owned());
        let (pattern, level) = match text.rsplit_once(':') {
            Some((p, l)) if !p.is_empty() => (Some(p.to_owned()), l),
            Some(_) => return Err(bad()),
            None => (None, text),
        };
        let level = match level.parse::<u8>() {
            Ok(n @ 1..=8) => n,
            Ok(_) => return Err(bad()),
            Err(_) => LEVEL_NAMES
                .iter()
                .position(|name| name.eq_ignore_ascii_case(level))
                .map(|i| i as u8 + 1)
                .ok_or_else(bad)?,
        };
        Ok(LogLevelArg { pattern, level })
    }

    fn matches(&self, log_type: &str) -> bool {
        match &self.pattern {
            None => true,
            Some(p) if p.contains(['*', '?']) => glob_match(p.as_bytes(), log_type.as_bytes()),
            Some(p) => {
                let anchored_start = p.starts_with('^');
                let anchored_end = p.ends_with('$');
                let lit = p.trim_start_matches('^').trim_end_matches('$');
                match (anchored_start, anchored_end) {
                    (true, true) => log_type == lit,
                    (true, false) => log_type.starts_with(lit),
                    (false, true) => log_type.ends_with(lit),
                    (false, false) => log_type.contains(lit),
                }
            }
        }
    }
}

fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob_match(&pattern[1..], text) || (!text.is_empty() && glob_match(pattern, &text[1..]))
        }
        (Some(b'?'), Some(_)) => glob_match(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => glob_match(&pattern[1..], &text[1..]),
        _ => false,
    }
}

impl EalArgs {
    /// Adds a PCI device to allow (from the configuration file), also to the words DPDK
    /// gets.
    pub fn allow_device(&mut self, device: &str) {
        self.allow.push(device.to_owned());
        self.words.push("-a".to_owned());
        self.words.push(device.to_owned());
    }

    /// Whether DPDK may probe ports the `--vdev=net_tap...` words do not show: PCI devices
    /// (no `--no-pci`, or `-a`) or other virtual devices. Then port ids and interface
    /// names are only known after the probe.
    pub fn probes_beyond_taps(&self) -> bool {
        !self.no_pci
            || !self.allow.is_empty()
            || self
                .vdevs
                .iter()
                .any(|v| !v.starts_with(super::vdev::TAP_DRIVER))
    }

    /// The effective DPDK level (1-8) of a log type (`user1` = service, `user2` = graph,
    /// `user3` = grpc, as upstream registers them): the last matching `--log-level` wins.
    pub fn log_level_of(&self, log_type: &str) -> u8 {
        self.log_levels
            .iter()
            .rev()
            .find(|l| l.matches(log_type))
            .map_or(DEFAULT_LOG_LEVEL, |l| l.level)
    }
}

/// Long dpservice option names, to point out a forgotten `--`.
fn is_dpservice_option(name: &str) -> bool {
    super::options::command()
        .get_arguments()
        .any(|a| a.get_long() == Some(name))
}

/// Parses the EAL words (without the program name and without the `--`).
pub fn parse(words: &[String]) -> Result<EalArgs, EalError> {
    let mut eal = EalArgs {
        words: words.to_vec(),
        ..EalArgs::default()
    };
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        let (spec, inline): (&(Option<char>, &str, Arity, Effect), Option<String>) =
            if let Some(long) = word.strip_prefix("--") {
                let (name, value) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_owned())),
                    None => (long, None),
                };
                match OPTIONS.iter().find(|o| o.1 == name) {
                    Some(spec) => (spec, value),
                    None if is_dpservice_option(name) => {
                        return Err(EalError::MisplacedDpserviceOption(word.clone()))
                    }
                    None => return Err(EalError::Unknown(word.clone())),
                }
            } else if let Some(short) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
                let mut chars = short.chars();
                let c = chars.next().unwrap_or_default();
                let rest: String = chars.collect();
                match OPTIONS.iter().find(|o| o.0 == Some(c)) {
                    Some(spec) if spec.2 == Arity::Flag && !rest.is_empty() => {
                        return Err(EalError::Unknown(word.clone()))
                    }
                    Some(spec) => (spec, (!rest.is_empty()).then_some(rest)),
                    None => return Err(EalError::Unknown(word.clone())),
                }
            } else {
                return Err(EalError::Positional(word.clone()));
            };
        let (_, name, arity, effect) = *spec;
        let value = match (arity, inline) {
            (Arity::Flag, Some(_)) => return Err(EalError::UnexpectedValue(name.to_owned())),
            (Arity::Flag, None) | (Arity::Optional, None) => None,
            (_, Some(v)) => Some(v),
            (Arity::Value, None) => match words.get(i) {
                Some(v) => {
                    i += 1;
                    Some(v.clone())
                }
                None => return Err(EalError::MissingValue(word.clone())),
            },
        };
        let text = value.clone().unwrap_or_default();
        match effect {
            Effect::Lcores => {
                check_core_list(&text)?;
                eal.lcores = Some(text);
            }
            Effect::Coremask => {
                let hex = text.trim_start_matches("0x").trim_start_matches("0X");
                if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(EalError::BadLcores(text));
                }
                eal.lcores = Some(text);
            }
            Effect::LogLevel => eal.log_levels.push(LogLevelArg::parse(&text)?),
            Effect::NoPci => eal.no_pci = true,
            Effect::NoHuge => eal.no_huge = true,
            Effect::HugeUnlink => eal.huge_unlink = true,
            Effect::InMemory => eal.in_memory = true,
            Effect::FilePrefix => eal.file_prefix = Some(text),
            Effect::Vdev => eal.vdevs.push(text),
            Effect::Allow => eal.allow.push(text),
            Effect::Help => eal.help = true,
            Effect::Ignored => eal.ignored.push(match value {
                Some(v) => format!("--{name}={v}"),
                None => format!("--{name}"),
            }),
        }
    }
    Ok(eal)
}

/// `-l` syntax: `N`, `N-M`, comma-separated; `--lcores` may also group and pin with
/// `(...)@...`, which is accepted as is.
fn check_core_list(text: &str) -> Result<(), EalError> {
    if text.contains(['(', '@']) {
        return Ok(());
    }
    let ok = !text.is_empty()
        && text.split(',').all(|item| {
            let mut ends = item.splitn(2, '-').map(|n| n.parse::<u32>());
            match (ends.next(), ends.next()) {
                (Some(Ok(_)), None) => true,
                (Some(Ok(a)), Some(Ok(b))) => a <= b,
                _ => false,
            }
        });
    if ok {
        Ok(())
    } else {
        Err(EalError::BadLcores(text.to_owned()))
    }
}

/// `dpservice-bin --help` (before `--`).
#[derive(Debug)]
pub struct Usage;

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "Usage: dpservice-bin [EAL options] -- [dpservice options]\n\
             \n\
             EAL options (DPDK's syntax; the software backend uses the ones marked *):\n\
             \x20 -l, --lcores=LIST         core list, e.g. 0,1 (accepted; no pinning)\n\
             \x20 -c COREMASK               hex core mask (accepted; no pinning)\n\
             \x20*    --log-level=[TYPE:]LEVEL  log level 1-8 or a name; the daemon's types are\n\
             \x20                           user1 (service), user2 (graph), user3 (grpc);\n\
             \x20                           e.g. --log-level=user*:8 for debug logs\n\
             \x20*    --file-prefix=NAME    instance name (default rte): runtime directory\n\
             \x20                           /var/run/dpdk/NAME/, telemetry socket, shared memory\n\
             \x20*    --vdev=net_tapN,iface=IFNAME[,mac=MAC|fixed][,persist]\n\
             \x20                           one TAP port; port ids follow --vdev order\n\
             \x20     --no-pci, --no-huge, --huge-unlink, --in-memory\n\
             \x20                           accepted, no effect on TAP ports\n\
             \x20 -a, --allow=PCI[,devargs] PCI device (DPDK backend only)\n\
             \x20 -h, --help                this text\n\
             \n\
             Other DPDK EAL options are accepted and have no effect. The dpservice options\n\
             are listed by 'dpservice-bin -- --help'.\n",
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn upstream_test_runner_line() {
        let eal = parse(&words(
            "-l 0,1 --log-level=user*:8 --huge-unlink --file-prefix=hatest --no-pci \
             --vdev=net_tap0,iface=dtap0,mac=22:22:22:22:22:00 \
             --vdev=net_tap1,iface=dtap1,mac=22:22:22:22:22:01 \
             --vdev=net_tap_sync,iface=dps_sync_a,persist",
        ))
        .unwrap();
        assert_eq!(eal.lcores.as_deref(), Some("0,1"));
        assert!(eal.huge_unlink && eal.no_pci && !eal.no_huge);
        assert_eq!(eal.file_prefix.as_deref(), Some("hatest"));
        assert_eq!(eal.vdevs.len(), 3);
        assert_eq!(eal.vdevs[2], "net_tap_sync,iface=dps_sync_a,persist");
        assert_eq!(eal.log_level_of("user1"), 8);
        assert_eq!(eal.log_level_of("lib.eal"), DEFAULT_LOG_LEVEL);
        assert!(eal.ignored.is_empty());
    }

    #[test]
    fn value_forms() {
        let eal = parse(&words("-l0-1 --vdev net_tap0 --file-prefix x --file-prefix=y -a 0000:03:00.0 -n 4 --socket-mem=1024"))
            .unwrap();
        assert_eq!(eal.lcores.as_deref(), Some("0-1"));
        assert_eq!(eal.vdevs, vec!["net_tap0"]);
        assert_eq!(eal.file_prefix.as_deref(), Some("y"));
        assert_eq!(eal.allow, vec!["0000:03:00.0"]);
        assert_eq!(
            eal.ignored,
            vec!["--memory-channels=4", "--socket-mem=1024"]
        );
        let eal = parse(&words("--huge-unlink=always --in-memory --no-huge -v")).unwrap();
        assert!(eal.huge_unlink && eal.in_memory && eal.no_huge);
        assert!(parse(&words("-h")).unwrap().help);
        assert!(parse(&words("--help")).unwrap().help);
    }

    #[test]
    fn refusals() {
        assert_eq!(
            parse(&words("--bogus")),
            Err(EalError::Unknown("--bogus".into()))
        );
        assert_eq!(parse(&words("-Z")), Err(EalError::Unknown("-Z".into())));
        assert_eq!(
            parse(&words("--pf0=dtap0")),
            Err(EalError::MisplacedDpserviceOption("--pf0=dtap0".into()))
        );
        assert_eq!(
            parse(&words("--vdev")),
            Err(EalError::MissingValue("--vdev".into()))
        );
        assert_eq!(
            parse(&words("--no-pci=1")),
            Err(EalError::UnexpectedValue("no-pci".into()))
        );
        assert_eq!(
            parse(&words("stray")),
            Err(EalError::Positional("stray".into()))
        );
        for bad in ["-l x", "-l 3-1", "-l 0,", "-c zz"] {
            assert!(
                matches!(parse(&words(bad)), Err(EalError::BadLcores(_))),
                "{bad}"
            );
        }
        assert!(parse(&words("-l 3,5")).is_ok());
        assert!(parse(&words("--lcores=(0,1)@0")).is_ok());
    }

    #[test]
    fn log_levels() {
        for bad in [
            "--log-level=0",
            "--log-level=9",
            "--log-level=:8",
            "--log-level=user1:loud",
        ] {
            assert!(
                matches!(parse(&words(bad)), Err(EalError::BadLogLevel(_))),
                "{bad}"
            );
        }
        let eal = parse(&words(
            "--log-level=6 --log-level=user3:debug --log-level=^user2$:error",
        ))
        .unwrap();
        assert_eq!(eal.log_level_of("user1"), 6);
        assert_eq!(eal.log_level_of("user2"), 4);
        assert_eq!(eal.log_level_of("user3"), 8);
        let eal = parse(&words("--log-level=user?:8 --log-level=user1:5")).unwrap();
        assert_eq!(eal.log_level_of("user1"), 5);
        assert_eq!(eal.log_level_of("user2"), 8);
        assert_eq!(EalArgs::default().log_level_of("user1"), DEFAULT_LOG_LEVEL);
    }

    #[test]
    fn usage_mentions_the_dpservice_help() {
        assert!(Usage.to_string().contains("dpservice-bin -- --help"));
    }
}
