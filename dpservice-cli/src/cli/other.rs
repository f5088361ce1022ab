//! `init`, `reset`, `capture` and `completion` (spec §2.1, §2.6–2.8).

use clap::{Args, Subcommand};

use super::parsers::{go, Ip, U32};
use super::Extra;
use crate::syntax::Addr;

/// `init`.
#[derive(Debug, Args)]
pub struct Init {
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `reset`.
#[derive(Debug, Args)]
pub struct ResetCmd {
    /// The noun.
    #[command(subcommand)]
    pub noun: Option<ResetNoun>,
}

/// What `reset` resets.
#[derive(Debug, Subcommand)]
pub enum ResetNoun {
    /// Reset a VNI: remove everything configured in it
    #[command(visible_aliases = ["nat", "translation"],
              after_help = "Example:\n  dpservice-cli reset vni --vni=100")]
    Vni(ResetVni),
}

/// `reset vni`.
#[derive(Debug, Args)]
pub struct ResetVni {
    /// The VNI (required)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>())]
    pub vni: Option<u32>,
    /// VNI type: ipv4/0, ipv6/1 or both/2
    #[arg(long, value_name = "string", default_value = "both")]
    pub vni_type: String,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `capture`.
#[derive(Debug, Args)]
pub struct CaptureCmd {
    /// The noun.
    #[command(subcommand)]
    pub noun: Option<CaptureNoun>,
}

/// Capture operations.
#[derive(Debug, Subcommand)]
pub enum CaptureNoun {
    /// Start capturing packets of PFs and VFs to a sink
    #[command(
        after_help = "Example:\n  dpservice-cli capture start --sink-node-ip=fc00:2::64:0:1 --udp-src-port=30000 --udp-dst-port=30100 --pf=0 --vf=vm1,vm2"
    )]
    Start(CaptureStart),
    /// Stop capturing packets on all interfaces
    #[command(after_help = "Example:\n  dpservice-cli capture stop")]
    Stop(CaptureNoFlags),
    /// Show whether and where packets are being captured
    #[command(after_help = "Example:\n  dpservice-cli capture status")]
    Status(CaptureNoFlags),
}

/// `capture start`.
#[derive(Debug, Args)]
pub struct CaptureStart {
    /// Address of the node receiving the captured packets (required)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>())]
    pub sink_node_ip: Option<Addr>,
    /// UDP source port of the capture stream (required)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>())]
    pub udp_src_port: Option<u32>,
    /// UDP destination port of the capture stream (required)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>())]
    pub udp_dst_port: Option<u32>,
    /// Comma-separated PF indexes to capture (0 is the only one hardware supports)
    #[arg(long, value_name = "string", default_value = "")]
    pub pf: String,
    /// Comma-separated interface IDs of VFs to capture
    #[arg(long, value_name = "string", default_value = "")]
    pub vf: String,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `capture stop`, `capture status`.
#[derive(Debug, Args)]
pub struct CaptureNoFlags {
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `completion`.
#[derive(Debug, Args)]
#[command(
    long_about = "Generate a shell completion script for dpservice-cli.\n\n\
Load it into the current shell:\n\
  bash:        source <(dpservice-cli completion bash)\n\
  zsh:         source <(dpservice-cli completion zsh)\n\
  fish:        dpservice-cli completion fish | source\n\
  PowerShell:  dpservice-cli completion powershell | Out-String | Invoke-Expression\n\n\
Install it for every new shell:\n\
  bash:        dpservice-cli completion bash > /etc/bash_completion.d/dpservice-cli\n\
               (or into ~/.local/share/bash-completion/completions/)\n\
  zsh:         dpservice-cli completion zsh > \"${fpath[1]}/_dpservice-cli\"\n\
               (compinit must be enabled: autoload -U compinit; compinit)\n\
  fish:        dpservice-cli completion fish > ~/.config/fish/completions/dpservice-cli.fish\n\
  PowerShell:  dpservice-cli completion powershell > dpservice-cli.ps1\n\
               and source that file from your PowerShell profile."
)]
pub struct Completion {
    /// The shell: bash, zsh, fish or powershell
    #[arg(value_name = "bash|zsh|fish|powershell", add = dpservice::completion::fixed(&SHELLS))]
    pub shell: Vec<String>,
}

/// The shells `completion` supports.
pub const SHELLS: [&str; 4] = ["bash", "zsh", "fish", "powershell"];

impl Completion {
    /// The single, valid shell argument (cobra's wording otherwise).
    pub fn shell(&self) -> Result<&str, crate::error::CliError> {
        use crate::error::CliError;
        if self.shell.len() != 1 {
            return Err(CliError::client(format!(
                "accepts 1 arg(s), received {}",
                self.shell.len()
            )));
        }
        let shell = self.shell[0].as_str();
        if !SHELLS.contains(&shell) {
            return Err(CliError::client(format!(
                "invalid argument {} for \"dpservice-cli completion\"",
                crate::syntax::go_quote(shell)
            )));
        }
        Ok(shell)
    }
}
