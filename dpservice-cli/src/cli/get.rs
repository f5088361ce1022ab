//! `get`: single objects, or the list when the id is left empty (spec §2.2).

use clap::{Args, Subcommand};

use super::list::{ListLbTargets, ListPrefixes, ListRoutes};
use super::parsers::{go, U32, U8};
use super::{aliases, Extra};

/// `get`.
#[derive(Debug, Args)]
pub struct GetCmd {
    /// The noun.
    #[command(subcommand)]
    pub noun: Option<GetNoun>,
}

/// What `get` reads.
#[derive(Debug, Subcommand)]
pub enum GetNoun {
    /// Get an interface (all interfaces without --id)
    #[command(visible_aliases = aliases::INTERFACE,
              after_help = "Example:\n  dpservice-cli get interface --id=vm1")]
    Interface(GetInterface),
    /// Get the virtual IP of an interface (of every interface without --interface-id)
    #[command(visible_aliases = aliases::VIRTUAL_IP,
              after_help = "Example:\n  dpservice-cli get virtualip --interface-id=vm1")]
    Virtualip(GetByInterface),
    /// Get a load balancer (all without --id)
    #[command(visible_aliases = aliases::LOADBALANCER,
              after_help = "Example:\n  dpservice-cli get loadbalancer --id=4")]
    Loadbalancer(GetLoadBalancer),
    /// Get the NAT of an interface (of every interface without --interface-id)
    #[command(visible_aliases = aliases::NAT,
              after_help = "Example:\n  dpservice-cli get nat --interface-id=vm1")]
    Nat(GetByInterface),
    /// Get a firewall rule (all rules of the interface without --rule-id)
    #[command(visible_aliases = aliases::FIREWALL_RULE,
              after_help = "Example:\n  dpservice-cli get fwrule --rule-id=1 --interface-id=vm1")]
    Firewallrule(GetFirewallRule),
    /// Get whether a VNI is in use
    #[command(after_help = "Example:\n  dpservice-cli get vni --vni=100 --vni-type=0")]
    Vni(GetVni),
    /// Get the versions of the daemon and of the protocol
    #[command(after_help = "Example:\n  dpservice-cli get version")]
    Version(NoFlags),
    /// Get whether (and as what) the daemon has been initialized
    #[command(after_help = "Example:\n  dpservice-cli get init")]
    Init(NoFlags),
    /// List the load-balancer prefixes of an interface (same as list lbprefixes)
    #[command(visible_aliases = aliases::LB_PREFIX,
              after_help = "Example:\n  dpservice-cli get lbprefix --interface-id=vm1")]
    Lbprefix(ListPrefixes),
    /// List the targets of a load balancer (same as list lbtargets)
    #[command(visible_aliases = aliases::LB_TARGET,
              after_help = "Example:\n  dpservice-cli get lbtarget --lb-id=1")]
    Lbtarget(ListLbTargets),
    /// List the prefixes of an interface (same as list prefixes)
    #[command(visible_aliases = aliases::PREFIX,
              after_help = "Example:\n  dpservice-cli get prefix --interface-id=vm1")]
    Prefix(ListPrefixes),
    /// List the routes of a VNI (same as list routes)
    #[command(visible_aliases = aliases::ROUTE,
              after_help = "Example:\n  dpservice-cli get route --vni=100")]
    Route(ListRoutes),
}

/// `get interface`: extra positional words are ignored, as upstream does.
#[derive(Debug, Args)]
pub struct GetInterface {
    /// Interface ID (empty: list all interfaces)
    #[arg(long, value_name = "string", default_value = "")]
    pub id: String,
    /// Ignored positional arguments.
    #[command(flatten)]
    pub extra: Extra,
}

/// `get virtualip`, `get nat`.
#[derive(Debug, Args)]
pub struct GetByInterface {
    /// Interface ID (empty: every interface)
    #[arg(long, value_name = "string", default_value = "")]
    pub interface_id: String,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `get loadbalancer`.
#[derive(Debug, Args)]
pub struct GetLoadBalancer {
    /// Load balancer ID (empty: list all)
    #[arg(long, value_name = "string", default_value = "")]
    pub id: String,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `get firewallrule`.
#[derive(Debug, Args)]
pub struct GetFirewallRule {
    /// Rule ID (empty: list the interface's rules)
    #[arg(long, value_name = "string", default_value = "")]
    pub rule_id: String,
    /// Interface ID (required with --rule-id)
    #[arg(long, value_name = "string")]
    pub interface_id: Option<String>,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `get vni`.
#[derive(Debug, Args)]
pub struct GetVni {
    /// The VNI (required)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>())]
    pub vni: Option<u32>,
    /// VNI type: 0 = IPv4, 1 = IPv6 (required)
    #[arg(long, value_name = "uint8", value_parser = go::<U8>())]
    pub vni_type: Option<u8>,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// Leaves without flags of their own.
#[derive(Debug, Args)]
pub struct NoFlags {
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}
