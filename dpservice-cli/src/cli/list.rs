//! `list`: every list sorted client-side (spec §2.3).

use clap::{Args, Subcommand};

use super::parsers::{go, Ip, U32};
use super::Extra;
use crate::syntax::Addr;

/// `list`.
#[derive(Debug, Args)]
pub struct ListCmd {
    /// The noun.
    #[command(subcommand)]
    pub noun: Option<ListNoun>,
}

/// What `list` lists.
#[derive(Debug, Subcommand)]
pub enum ListNoun {
    /// List the firewall rules of an interface (of all interfaces without --interface-id)
    #[command(visible_aliases = ["firewallrule", "fwrule", "fw-rule", "fwrules", "fw-rules"],
              after_help = "Example:\n  dpservice-cli list firewallrules --interface-id=vm1")]
    Firewallrules(ListPrefixes),
    /// List all interfaces
    #[command(visible_aliases = ["interface", "iface", "ifaces"],
              after_help = "Example:\n  dpservice-cli list interfaces")]
    Interfaces(SortOnly),
    /// List the prefixes of an interface (of all interfaces without --interface-id)
    #[command(visible_aliases = ["prefix", "prfx", "prfxs"],
              after_help = "Example:\n  dpservice-cli list prefixes --interface-id=vm1")]
    Prefixes(ListPrefixes),
    /// List the load-balancer prefixes of an interface (of all without --interface-id)
    #[command(visible_aliases = ["loadbalancer-prefix", "loadbalancer-prefixes", "lbprefix", "lbprfx", "lbprfxs"],
              after_help = "Example:\n  dpservice-cli list lbprefixes --interface-id=vm1")]
    Lbprefixes(ListPrefixes),
    /// List the routes of a VNI (of all VNIs with --vni=0)
    #[command(visible_aliases = ["route", "rt", "rts"],
              after_help = "Example:\n  dpservice-cli list routes --vni=100")]
    Routes(ListRoutes),
    /// List the targets of a load balancer (of all with an empty --lb-id)
    #[command(visible_aliases = ["loadbalancer-target", "loadbalancer-targets", "lbtrgt", "lbtrgts", "lbtarget"],
              after_help = "Example:\n  dpservice-cli list lbtargets --lb-id=1")]
    Lbtargets(ListLbTargets),
    /// List local and/or neighbor NATs of a NAT address
    #[command(visible_aliases = ["nat", "translation"],
              after_help = "Example:\n  dpservice-cli list nats --nat-ip=10.20.30.40 --nat-type=local")]
    Nats(ListNats),
    /// List all load balancers
    #[command(visible_aliases = ["loadbalancer", "lbs", "lb"],
              after_help = "Example:\n  dpservice-cli list loadbalancers")]
    Loadbalancers(SortOnly),
}

/// Lists with only `--sort-by`.
#[derive(Debug, Args)]
pub struct SortOnly {
    /// Column to sort by
    #[arg(long, value_name = "string", default_value = "")]
    pub sort_by: String,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// Lists scoped to an interface (prefixes, lbprefixes, firewall rules).
#[derive(Debug, Args)]
pub struct ListPrefixes {
    /// Interface ID (empty: every interface)
    #[arg(long, value_name = "string", default_value = "")]
    pub interface_id: String,
    /// Column to sort by
    #[arg(long, value_name = "string", default_value = "")]
    pub sort_by: String,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `list routes`.
#[derive(Debug, Args)]
pub struct ListRoutes {
    /// VNI whose routes to list (0: all VNIs)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>(), default_value = "0")]
    pub vni: u32,
    /// Column to sort by: nexthopvni, nexthopip (default: prefix)
    #[arg(long, value_name = "string", default_value = "")]
    pub sort_by: String,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `list lbtargets`.
#[derive(Debug, Args)]
pub struct ListLbTargets {
    /// Load balancer ID (empty: every load balancer)
    #[arg(long, value_name = "string", default_value = "")]
    pub lb_id: String,
    /// Accepted for compatibility; targets are always sorted by address
    #[arg(long, value_name = "string", default_value = "")]
    pub sort_by: String,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `list nats`.
#[derive(Debug, Args)]
pub struct ListNats {
    /// NAT address to list (0.0.0.0: all)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>(), default_value = "0.0.0.0")]
    pub nat_ip: Addr,
    /// NAT type: any/0, local/1, neigh(bor)/2
    #[arg(long, value_name = "string", default_value = "0")]
    pub nat_type: String,
    /// Column to sort by: ip, minport, maxport, underlayroute (default: vni)
    #[arg(long, value_name = "string", default_value = "")]
    pub sort_by: String,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}
