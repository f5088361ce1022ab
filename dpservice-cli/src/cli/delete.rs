//! `delete` (alias `del`): one leaf per noun, all flags required (spec §2.5).

use clap::{Args, Subcommand};

use super::keys::{LbTargetKey, NeighborNatKey};
use super::parsers::{go, IpPrefix, U32};
use super::{aliases, Extra, Sources};
use crate::syntax::Prefix;

/// `delete` / `del`.
#[derive(Debug, Args)]
pub struct DeleteCmd {
    /// Object files.
    #[command(flatten)]
    pub sources: Sources,
    /// The noun; without one, `-f` sources are processed.
    #[command(subcommand)]
    pub noun: Option<DeleteNoun>,
}

/// What `delete` removes.
#[derive(Debug, Subcommand)]
pub enum DeleteNoun {
    /// Delete an interface
    #[command(visible_aliases = aliases::INTERFACE,
              after_help = "Example:\n  dpservice-cli delete interface --id=vm1")]
    Interface(DeleteInterface),
    /// Delete a prefix of an interface
    #[command(visible_aliases = aliases::PREFIX,
              after_help = "Example:\n  dpservice-cli delete prefix --prefix=10.20.30.0/24 --interface-id=vm1")]
    Prefix(DeletePrefix),
    /// Delete a route
    #[command(visible_aliases = aliases::ROUTE,
              after_help = "Example:\n  dpservice-cli delete route --prefix=10.100.2.0/24 --vni=100")]
    Route(DeleteRoute),
    /// Delete the virtual IP of an interface
    #[command(visible_aliases = aliases::VIRTUAL_IP,
              after_help = "Example:\n  dpservice-cli delete virtualip --interface-id=vm1")]
    Virtualip(ByInterface),
    /// Delete a load balancer
    #[command(visible_aliases = aliases::LOADBALANCER,
              after_help = "Example:\n  dpservice-cli delete loadbalancer --id=1")]
    Loadbalancer(DeleteLoadBalancer),
    /// Delete a load-balancer prefix of an interface
    #[command(visible_aliases = aliases::LB_PREFIX,
              after_help = "Example:\n  dpservice-cli delete lbprefix --prefix=ff80::1/64 --interface-id=vm1")]
    Lbprefix(DeletePrefix),
    /// Delete a load-balancer target
    #[command(visible_aliases = aliases::LB_TARGET,
              after_help = "Example:\n  dpservice-cli delete lbtarget --target-ip=ff80::1 --lb-id=1")]
    Lbtarget(LbTargetKey),
    /// Delete the NAT of an interface
    #[command(visible_aliases = aliases::NAT,
              after_help = "Example:\n  dpservice-cli delete nat --interface-id=vm1")]
    Nat(ByInterface),
    /// Delete a neighbor NAT
    #[command(visible_aliases = aliases::NEIGHBOR_NAT,
              after_help = "Example:\n  dpservice-cli delete neighbornat --nat-ip=10.20.30.40 --vni=100 --minport=30000 --maxport=30100")]
    Neighbornat(DeleteNeighborNat),
    /// Delete a firewall rule of an interface
    #[command(visible_aliases = aliases::FIREWALL_RULE,
              after_help = "Example:\n  dpservice-cli delete firewallrule --rule-id=1 --interface-id=vm1")]
    Firewallrule(DeleteFirewallRule),
}

/// `delete interface`.
#[derive(Debug, Args)]
pub struct DeleteInterface {
    /// Interface ID (required)
    #[arg(long, value_name = "string")]
    pub id: Option<String>,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `delete prefix` and `delete lbprefix`.
#[derive(Debug, Args)]
pub struct DeletePrefix {
    /// The prefix (required)
    #[arg(long, value_name = "ipprefix", value_parser = go::<IpPrefix>())]
    pub prefix: Option<Prefix>,
    /// Interface ID (required)
    #[arg(long, value_name = "string")]
    pub interface_id: Option<String>,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `delete route`.
#[derive(Debug, Args)]
pub struct DeleteRoute {
    /// Destination prefix (required)
    #[arg(long, value_name = "ipprefix", value_parser = go::<IpPrefix>())]
    pub prefix: Option<Prefix>,
    /// VNI of the route (required)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>())]
    pub vni: Option<u32>,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `delete virtualip` and `delete nat`.
#[derive(Debug, Args)]
pub struct ByInterface {
    /// Interface ID (required)
    #[arg(long, value_name = "string")]
    pub interface_id: Option<String>,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `delete loadbalancer`.
#[derive(Debug, Args)]
pub struct DeleteLoadBalancer {
    /// Load balancer ID (required)
    #[arg(long, value_name = "string")]
    pub id: Option<String>,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `delete neighbornat`.
#[derive(Debug, Args)]
pub struct DeleteNeighborNat {
    /// Address, VNI and port range.
    #[command(flatten)]
    pub key: NeighborNatKey,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `delete firewallrule`.
#[derive(Debug, Args)]
pub struct DeleteFirewallRule {
    /// Rule ID (required)
    #[arg(long, value_name = "string")]
    pub rule_id: Option<String>,
    /// Interface ID (required)
    #[arg(long, value_name = "string")]
    pub interface_id: Option<String>,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}
