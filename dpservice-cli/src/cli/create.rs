//! `create` (alias `add`): one leaf per noun (spec §2.4).

use clap::{ArgAction, Args, Subcommand};

use super::keys::{LbTargetKey, NeighborNatKey};
use super::parsers::{go, CsvList, Ip, IpPrefix, Strings, I32, U32, U64};
use super::{aliases, Extra, Sources};
use crate::syntax::{Addr, Prefix};

/// `create` / `add`.
#[derive(Debug, Args)]
pub struct CreateCmd {
    /// Object files.
    #[command(flatten)]
    pub sources: Sources,
    /// The noun; without one, `-f` sources are processed.
    #[command(subcommand)]
    pub noun: Option<CreateNoun>,
}

/// What `create` makes.
#[derive(Debug, Subcommand)]
pub enum CreateNoun {
    /// Create an interface
    #[command(visible_aliases = aliases::INTERFACE,
              after_help = "Example:\n  dpservice-cli create interface --id=vm4 --ipv4=10.200.1.4 --ipv6=2000:200:1::4 --vni=200 --device=net_tap5")]
    Interface(CreateInterface),
    /// Create a prefix on an interface
    #[command(visible_aliases = aliases::PREFIX,
              after_help = "Example:\n  dpservice-cli create prefix --prefix=10.20.30.0/24 --interface-id=vm1")]
    Prefix(CreatePrefix),
    /// Create a route
    #[command(visible_aliases = aliases::ROUTE,
              after_help = "Example:\n  dpservice-cli create route --prefix=10.100.3.0/24 --next-hop-vni=0 --next-hop-ip=fc00:2::64:0:1 --vni=100")]
    Route(CreateRoute),
    /// Create a virtual IP on an interface
    #[command(visible_aliases = aliases::VIRTUAL_IP,
              after_help = "Example:\n  dpservice-cli create virtualip --vip=20.20.20.20 --interface-id=vm1")]
    Virtualip(CreateVirtualIp),
    /// Create a load balancer
    #[command(visible_aliases = aliases::LOADBALANCER,
              after_help = "Example:\n  dpservice-cli create loadbalancer --id=4 --vni=100 --vip=10.20.30.40 --lbports=TCP/443,UDP/53")]
    Loadbalancer(CreateLoadBalancer),
    /// Create a load-balancer prefix on an interface
    #[command(visible_aliases = aliases::LB_PREFIX,
              after_help = "Example:\n  dpservice-cli create lbprefix --prefix=10.10.10.0/24 --interface-id=vm1")]
    Lbprefix(CreateLbPrefix),
    /// Create a load-balancer target
    #[command(visible_aliases = aliases::LB_TARGET,
              after_help = "Example:\n  dpservice-cli create lbtarget --target-ip=ff80::5 --lb-id=2")]
    Lbtarget(LbTargetKey),
    /// Create a NAT on an interface
    #[command(visible_aliases = aliases::NAT,
              after_help = "Example:\n  dpservice-cli create nat --interface-id=vm1 --nat-ip=10.20.30.40 --minport=30000 --maxport=30100")]
    Nat(CreateNat),
    /// Create a neighbor NAT
    #[command(visible_aliases = aliases::NEIGHBOR_NAT,
              after_help = "Example:\n  dpservice-cli create neighbornat --nat-ip=10.20.30.40 --vni=100 --minport=30000 --maxport=30100 --underlayroute=ff80::1")]
    Neighbornat(CreateNeighborNat),
    /// Create a firewall rule on an interface
    #[command(visible_aliases = aliases::FIREWALL_RULE,
              after_help = "Example:\n  dpservice-cli create fwrule --interface-id=vm1 --rule-id=12 --direction=ingress --action=accept --src=1.1.1.1/32 --dst=5.5.5.0/24 --protocol=tcp --src-port-min=1 --src-port-max=1000 --dst-port-min=500 --dst-port-max=600")]
    Firewallrule(CreateFirewallRule),
}

/// `create interface`.
#[derive(Debug, Args)]
pub struct CreateInterface {
    /// Interface ID (required)
    #[arg(long, value_name = "string")]
    pub id: Option<String>,
    /// VNI to add the interface to (required)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>())]
    pub vni: Option<u32>,
    /// IPv4 address of the interface (required)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>())]
    pub ipv4: Option<Addr>,
    /// IPv6 address of the interface
    #[arg(long, value_name = "ip", value_parser = go::<Ip>(), default_value = "::")]
    pub ipv6: Addr,
    /// Device to use for the interface, e.g. net_tap2 or a PCI address (required)
    #[arg(long, value_name = "string")]
    pub device: Option<String>,
    /// Preferred underlay address (:: lets the daemon choose)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>(), default_value = "::")]
    pub underlay: Addr,
    /// PXE next server
    #[arg(long, value_name = "string", default_value = "")]
    pub pxe_server: String,
    /// PXE boot file name
    #[arg(long, value_name = "string", default_value = "")]
    pub pxe_file_name: String,
    /// Total meter rate in Mbit/s (0 = unlimited)
    #[arg(long, value_name = "uint", value_parser = go::<U64>(), default_value = "0")]
    pub total_meter_rate: u64,
    /// Public meter rate in Mbit/s (0 = unlimited)
    #[arg(long, value_name = "uint", value_parser = go::<U64>(), default_value = "0")]
    pub public_meter_rate: u64,
    /// Host name of the VM
    #[arg(long, value_name = "string", default_value = "")]
    pub hostname: String,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `create prefix`.
#[derive(Debug, Args)]
pub struct CreatePrefix {
    /// Prefix to route to the interface (required)
    #[arg(long, value_name = "ipprefix", value_parser = go::<IpPrefix>())]
    pub prefix: Option<Prefix>,
    /// Interface ID (required)
    #[arg(long, value_name = "string")]
    pub interface_id: Option<String>,
    /// Preferred underlay address (:: lets the daemon choose)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>(), default_value = "::")]
    pub underlay: Addr,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `create route`.
#[derive(Debug, Args)]
pub struct CreateRoute {
    /// Destination prefix (required)
    #[arg(long, value_name = "ipprefix", value_parser = go::<IpPrefix>())]
    pub prefix: Option<Prefix>,
    /// VNI of the next hop (required)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>())]
    pub next_hop_vni: Option<u32>,
    /// Underlay address of the next hop (required)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>())]
    pub next_hop_ip: Option<Addr>,
    /// VNI the route belongs to (required)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>())]
    pub vni: Option<u32>,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `create virtualip`.
#[derive(Debug, Args)]
pub struct CreateVirtualIp {
    /// The virtual IP (required)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>())]
    pub vip: Option<Addr>,
    /// Interface ID (required)
    #[arg(long, value_name = "string")]
    pub interface_id: Option<String>,
    /// Preferred underlay address (:: lets the daemon choose)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>(), default_value = "::")]
    pub underlay: Addr,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `create loadbalancer`.
#[derive(Debug, Args)]
pub struct CreateLoadBalancer {
    /// Load balancer ID (required)
    #[arg(long, value_name = "string")]
    pub id: Option<String>,
    /// VNI of the load balancer (required)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>())]
    pub vni: Option<u32>,
    /// The balanced (virtual) IP (required)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>())]
    pub vip: Option<Addr>,
    /// Balanced ports as protocol/port, comma-separated or repeated, e.g. tcp/80,udp/53 (required)
    #[arg(long, value_name = "strings", action = ArgAction::Append, value_parser = go::<Strings>())]
    pub lbports: Vec<CsvList>,
    /// Preferred underlay address (:: lets the daemon choose)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>(), default_value = "::")]
    pub underlay: Addr,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `create lbprefix`.
#[derive(Debug, Args)]
pub struct CreateLbPrefix {
    /// Prefix to announce for load balancing (required)
    #[arg(long, value_name = "ipprefix", value_parser = go::<IpPrefix>())]
    pub prefix: Option<Prefix>,
    /// Interface ID (required)
    #[arg(long, value_name = "string")]
    pub interface_id: Option<String>,
    /// Preferred underlay address (:: lets the daemon choose)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>(), default_value = "::")]
    pub underlay: Addr,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `create nat`.
#[derive(Debug, Args)]
pub struct CreateNat {
    /// Interface ID (required)
    #[arg(long, value_name = "string")]
    pub interface_id: Option<String>,
    /// NAT address (required)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>())]
    pub nat_ip: Option<Addr>,
    /// First port of the NAT range (required)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>())]
    pub minport: Option<u32>,
    /// End of the NAT port range, exclusive (required)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>())]
    pub maxport: Option<u32>,
    /// Preferred underlay address (:: lets the daemon choose)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>(), default_value = "::")]
    pub underlay: Addr,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `create neighbornat`.
#[derive(Debug, Args)]
pub struct CreateNeighborNat {
    /// Address, VNI and port range.
    #[command(flatten)]
    pub key: NeighborNatKey,
    /// Underlay address of the host owning the range (required)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>())]
    pub underlayroute: Option<Addr>,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// `create firewallrule`.
#[derive(Debug, Args)]
pub struct CreateFirewallRule {
    /// Interface ID (required)
    #[arg(long, value_name = "string")]
    pub interface_id: Option<String>,
    /// Rule ID (required)
    #[arg(long, value_name = "string")]
    pub rule_id: Option<String>,
    /// Traffic direction: ingress/0 or egress/1 (required)
    #[arg(long, value_name = "string", add = dpservice::completion::fixed(&["ingress", "egress"]))]
    pub direction: Option<String>,
    /// Action: accept/allow/1 or drop/deny/0 (required)
    #[arg(long, value_name = "string", add = dpservice::completion::fixed(&["accept", "drop"]))]
    pub action: Option<String>,
    /// Priority, 0..65536
    #[arg(long, value_name = "uint32", value_parser = go::<U32>(), default_value = "1000")]
    pub priority: u32,
    /// Source prefix; 0.0.0.0/0 matches every source (required)
    #[arg(long, value_name = "ipprefix", value_parser = go::<IpPrefix>())]
    pub src: Option<Prefix>,
    /// Destination prefix; 0.0.0.0/0 matches every destination (required)
    #[arg(long, value_name = "ipprefix", value_parser = go::<IpPrefix>())]
    pub dst: Option<Prefix>,
    /// Protocol: icmp/1, tcp/6 or udp/17; empty matches every protocol
    #[arg(long, value_name = "string", default_value = "",
          add = dpservice::completion::fixed(&["icmp", "tcp", "udp"]))]
    pub protocol: String,
    /// Lowest source port, -1 = any (required for tcp/udp; default -1)
    #[arg(long, value_name = "int32", value_parser = go::<I32>())]
    pub src_port_min: Option<i32>,
    /// Highest source port (required for tcp/udp unless --src-port-min=-1; default -1)
    #[arg(long, value_name = "int32", value_parser = go::<I32>())]
    pub src_port_max: Option<i32>,
    /// Lowest destination port, -1 = any (required for tcp/udp; default -1)
    #[arg(long, value_name = "int32", value_parser = go::<I32>())]
    pub dst_port_min: Option<i32>,
    /// Highest destination port (required for tcp/udp unless --dst-port-min=-1; default -1)
    #[arg(long, value_name = "int32", value_parser = go::<I32>())]
    pub dst_port_max: Option<i32>,
    /// ICMP type, -1 = any (required for icmp; default -1)
    #[arg(long, value_name = "int32", value_parser = go::<I32>())]
    pub icmp_type: Option<i32>,
    /// ICMP code, -1 = any (required for icmp; default -1)
    #[arg(long, value_name = "int32", value_parser = go::<I32>())]
    pub icmp_code: Option<i32>,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}
