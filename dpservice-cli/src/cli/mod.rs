//! The command tree (spec §2): verbs, nouns, aliases, flags, defaults.
//!
//! Defined with clap derive and post-processed by [`command`] into pflag-like
//! behaviour: repeated flags keep the last value, value flags accept values starting
//! with `-`, bool flags take an optional `=value`. Command words are matched
//! case-insensitively and flags may stand before the verb (see `argv`).

mod aliases;
mod create;
mod delete;
mod get;
mod keys;
mod list;
mod other;
pub mod parsers;

use std::time::Duration;

use clap::{ArgAction, Args, CommandFactory, Parser, Subcommand};

pub use create::*;
pub use delete::*;
pub use get::*;
pub use keys::*;
pub use list::*;
pub use other::*;
use parsers::{go, Bool, CsvList, GoDuration, Strings};

use crate::error::CliError;

/// The default `--address` when `DP_GRPC_PORT` is unset (generated docs show this).
pub const DEFAULT_ADDRESS: &str = "localhost:1337";

/// `dpservice-cli`: the command line of the dpservice gRPC API.
#[derive(Debug, Parser)]
#[command(
    name = "dpservice-cli",
    about = "Command-line client for the dpservice gRPC API",
    long_about = "Command-line client for the dpservice gRPC API.\n\nTalks to a running \
                  dpservice-bin over gRPC (default localhost:$DP_GRPC_PORT, port 1337) and \
                  prints objects as tables, JSON, YAML or names.",
    disable_version_flag = true
)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: GlobalOpts,
    /// Print the version and exit
    #[arg(short = 'v', long = "version", action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = go::<Bool>(), value_name = "bool")]
    pub version: bool,
}

/// The values of `-o/--output` (parsed by the renderer, offered by completion).
pub const OUTPUT_FORMATS: [&str; 4] = ["json", "yaml", "table", "name"];

/// Flags defined once and accepted anywhere on the line.
#[derive(Debug, Args)]
pub struct GlobalOpts {
    /// dpservice address as host:port (default port from DP_GRPC_PORT)
    #[arg(long, global = true, default_value = DEFAULT_ADDRESS, value_name = "string")]
    pub address: String,
    /// How long to keep trying to connect (Go duration: 500ms, 4s, 1m30s)
    #[arg(long, global = true, default_value = "4s", value_parser = go::<GoDuration>(), value_name = "duration")]
    pub connect_timeout: Duration,
    /// Output format: json, yaml, table or name (default depends on the verb)
    #[arg(short = 'o', long, global = true, value_name = "string",
          add = dpservice::completion::fixed(&OUTPUT_FORMATS))]
    pub output: Option<String>,
    /// Indent JSON output
    #[arg(long, global = true, action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = go::<Bool>(), value_name = "bool")]
    pub pretty: bool,
    /// Also fetch and show each interface's NAT and virtual IP (get/list interfaces)
    #[arg(short = 'w', long, global = true, action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = go::<Bool>(), value_name = "bool")]
    pub wide: bool,
}

/// The verbs (parsed with the derive; built from [`VERBS`]).
// Parsed once per run; boxing the big variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Verb {
    /// `create` / `add`.
    Create(CreateCmd),
    /// `get`.
    Get(GetCmd),
    /// `list`.
    List(ListCmd),
    /// `delete` / `del`.
    Delete(DeleteCmd),
    /// `reset`.
    Reset(ResetCmd),
    /// `init`.
    Init(Init),
    /// `capture`.
    Capture(CaptureCmd),
    /// `completion`.
    Completion(Completion),
}

/// How one verb appears on the command line and in help.
struct VerbDef {
    name: &'static str,
    alias: Option<&'static str>,
    about: &'static str,
    after_help: Option<&'static str>,
    /// A group of nouns (no `help` subcommand of its own).
    group: bool,
    args: fn(clap::Command) -> clap::Command,
}

/// Every verb, in help order. Building only the verb a line uses keeps start-up cheap.
const VERBS: &[VerbDef] = &[
    VerbDef {
        name: "create",
        alias: Some("add"),
        about: "Creates one of [interface prefix route virtualip loadbalancer lbprefix lbtarget nat neighbornat firewallrule]",
        after_help: None,
        group: true,
        args: <CreateCmd as Args>::augment_args,
    },
    VerbDef {
        name: "get",
        alias: None,
        about: "Gets one of [interface virtualip loadbalancer nat firewallrule vni version init lbprefix lbtarget prefix route]",
        after_help: None,
        group: true,
        args: <GetCmd as Args>::augment_args,
    },
    VerbDef {
        name: "list",
        alias: None,
        about: "Lists one of [firewallrules interfaces prefixes lbprefixes routes lbtargets nats loadbalancers]",
        after_help: None,
        group: true,
        args: <ListCmd as Args>::augment_args,
    },
    VerbDef {
        name: "delete",
        alias: Some("del"),
        about: "Deletes one of [interface prefix route virtualip loadbalancer lbprefix lbtarget nat neighbornat firewallrule]",
        after_help: None,
        group: true,
        args: <DeleteCmd as Args>::augment_args,
    },
    VerbDef {
        name: "reset",
        alias: None,
        about: "Resets one of [vni]",
        after_help: None,
        group: true,
        args: <ResetCmd as Args>::augment_args,
    },
    VerbDef {
        name: "init",
        alias: None,
        about: "Initial set up of the daemon (only if it is not initialized yet)",
        after_help: Some("Example:\n  dpservice-cli init"),
        group: false,
        args: <Init as Args>::augment_args,
    },
    VerbDef {
        name: "capture",
        alias: None,
        about: "Gets one of [start stop status]",
        after_help: None,
        group: true,
        args: <CaptureCmd as Args>::augment_args,
    },
    VerbDef {
        name: "completion",
        alias: None,
        about: "Generate a shell completion script (bash, zsh, fish, powershell)",
        after_help: None,
        group: false,
        args: <Completion as Args>::augment_args,
    },
];

fn verb_command(d: &VerbDef) -> clap::Command {
    let mut cmd = (d.args)(clap::Command::new(d.name)).about(d.about);
    if let Some(alias) = d.alias {
        cmd = cmd.visible_alias(alias);
    }
    if let Some(after) = d.after_help {
        cmd = cmd.after_help(after);
    }
    cmd.disable_help_subcommand(d.group)
}

/// The verb definition named (or aliased) `word`, ignoring case.
fn find_verb(word: &str) -> Option<&'static VerbDef> {
    VERBS.iter().find(|d| {
        d.name.eq_ignore_ascii_case(word) || d.alias.is_some_and(|a| a.eq_ignore_ascii_case(word))
    })
}

/// Positional words a leaf received (leaves take none; spec §2).
#[derive(Debug, Clone, Default, Args)]
pub struct Extra {
    /// Unexpected positional arguments.
    #[arg(hide = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

impl Extra {
    /// `accepts 0 arg(s), received N` when there are any.
    pub fn check(&self) -> Result<(), CliError> {
        match self.args.len() {
            0 => Ok(()),
            n => Err(CliError::client(format!("accepts 0 arg(s), received {n}"))),
        }
    }
}

/// `-f/--filename` of `create`/`delete`.
#[derive(Debug, Clone, Default, Args)]
pub struct Sources {
    /// Files or directories (or file:// URLs) to read objects from (.json, .yaml, .yml)
    #[arg(short = 'f', long = "filename", action = ArgAction::Append, value_parser = go::<Strings>(), value_name = "strings",
          value_hint = clap::ValueHint::AnyPath)]
    pub filename: Vec<CsvList>,
}

/// `required flag(s) "a", "b" not set` for the absent ones, names sorted.
pub fn require(flags: &[(&str, bool)]) -> Result<(), CliError> {
    let mut missing: Vec<&str> = flags
        .iter()
        .filter(|(_, present)| !present)
        .map(|(n, _)| *n)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    missing.sort_unstable();
    let list = missing
        .iter()
        .map(|m| format!("\"{m}\""))
        .collect::<Vec<_>>()
        .join(", ");
    Err(CliError::client(format!("required flag(s) {list} not set")))
}

/// The complete, post-processed command tree (also what the docs are generated from).
pub fn command() -> clap::Command {
    command_with(|_| true)
}

/// The command tree with only the verbs `keep` accepts.
fn command_with(keep: impl Fn(&str) -> bool) -> clap::Command {
    let verbs = VERBS.iter().filter(|d| keep(d.name)).map(verb_command);
    pflag_like(Cli::command().subcommands(verbs))
}

/// The command tree a command line needs: just its verb when it names one (the rest
/// of the tree only matters for help and for mistyped verbs).
pub fn command_for(raw: &[std::ffi::OsString]) -> clap::Command {
    let root = command_with(|_| false);
    match crate::argv::first_word(&root, raw)
        .as_deref()
        .and_then(find_verb)
    {
        Some(verb) => command_with(|name| name == verb.name),
        None => command(),
    }
}

/// The verb of a parse, if the line named one.
pub fn verb_of(matches: &clap::ArgMatches) -> Result<Option<Verb>, clap::Error> {
    use clap::FromArgMatches;
    match matches.subcommand_name() {
        Some(_) => Verb::from_arg_matches(matches).map(Some),
        None => Ok(None),
    }
}

fn pflag_like(cmd: clap::Command) -> clap::Command {
    cmd.args_override_self(true)
        .mut_args(|arg| {
            let optional_value = arg.get_num_args().is_some_and(|r| r.min_values() == 0);
            if !arg.is_positional() && arg.get_action().takes_values() && !optional_value {
                arg.allow_hyphen_values(true)
            } else {
                arg
            }
        })
        .mut_subcommands(pflag_like)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    #[test]
    fn command_tree_is_valid() {
        super::command().debug_assert();
    }

    #[test]
    fn a_verb_alone_is_built_exactly_as_in_the_full_tree() {
        let mut full = super::command();
        full.build();
        for verb in super::VERBS {
            let mut pruned = super::command_with(|n| n == verb.name);
            pruned.build();
            let (Some(a), Some(b)) = (
                full.find_subcommand(verb.name),
                pruned.find_subcommand(verb.name),
            ) else {
                panic!("{} missing", verb.name);
            };
            assert_eq!(
                a.clone().render_long_help().to_string(),
                b.clone().render_long_help().to_string()
            );
            for (x, y) in a.get_subcommands().zip(b.get_subcommands()) {
                assert_eq!(
                    x.clone().render_long_help().to_string(),
                    y.clone().render_long_help().to_string()
                );
            }
        }
    }

    #[test]
    fn lines_get_only_their_verb() {
        let raw = |s: &str| {
            s.split(' ')
                .map(std::ffi::OsString::from)
                .collect::<Vec<_>>()
        };
        let names = |c: &clap::Command| {
            c.get_subcommands()
                .map(|s| s.get_name().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&super::command_for(&raw("cli -o json ADD iface --id=x"))),
            ["create"]
        );
        assert_eq!(
            names(&super::command_for(&raw("cli --address x get version"))),
            ["get"]
        );
        assert_eq!(names(&super::command_for(&raw("cli frob"))).len(), 8);
    }
}
