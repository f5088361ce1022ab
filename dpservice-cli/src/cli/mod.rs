//! The command tree (spec §2): verbs, nouns, aliases, flags, defaults.
//!
//! Defined with clap derive and post-processed by [`command`] into pflag-like
//! behaviour: repeated flags keep the last value, value flags accept values starting
//! with `-`, bool flags take an optional `=value`. Command words are matched
//! case-insensitively and flags may stand before the verb (see `argv`).

mod create;
mod delete;
mod get;
mod list;
mod other;
pub mod parsers;

use std::time::Duration;

use clap::{ArgAction, Args, CommandFactory, Parser, Subcommand};

pub use create::*;
pub use delete::*;
pub use get::*;
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
    /// The verb.
    #[command(subcommand)]
    pub verb: Option<Verb>,
}

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
    #[arg(short = 'o', long, global = true, value_name = "string")]
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

/// The verbs.
// Parsed once per run; boxing the big variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Creates one of [interface prefix route virtualip loadbalancer lbprefix lbtarget nat neighbornat firewallrule]
    #[command(visible_alias = "add", disable_help_subcommand = true)]
    Create(CreateCmd),
    /// Gets one of [interface virtualip loadbalancer nat firewallrule vni version init lbprefix lbtarget prefix route]
    #[command(disable_help_subcommand = true)]
    Get(GetCmd),
    /// Lists one of [firewallrules interfaces prefixes lbprefixes routes lbtargets nats loadbalancers]
    #[command(disable_help_subcommand = true)]
    List(ListCmd),
    /// Deletes one of [interface prefix route virtualip loadbalancer lbprefix lbtarget nat neighbornat firewallrule]
    #[command(visible_alias = "del", disable_help_subcommand = true)]
    Delete(DeleteCmd),
    /// Resets one of [vni]
    #[command(disable_help_subcommand = true)]
    Reset(ResetCmd),
    /// Initial set up of the daemon (only if it is not initialized yet)
    #[command(after_help = "Example:\n  dpservice-cli init")]
    Init(Init),
    /// Gets one of [start stop status]
    #[command(disable_help_subcommand = true)]
    Capture(CaptureCmd),
    /// Generate a shell completion script (bash, zsh, fish, powershell)
    Completion(Completion),
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
    #[arg(short = 'f', long = "filename", action = ArgAction::Append, value_parser = go::<Strings>(), value_name = "strings")]
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
    pflag_like(Cli::command())
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
}
