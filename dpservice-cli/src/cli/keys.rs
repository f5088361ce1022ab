//! Flags that name one object the same way under `create` and `delete`.

use clap::Args;

use super::parsers::{go, Ip, U32};
use super::Extra;
use crate::syntax::Addr;

/// `create lbtarget` and `delete lbtarget`: a target is its address in a load balancer.
#[derive(Debug, Args)]
pub struct LbTargetKey {
    /// Underlay address of the target (required)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>())]
    pub target_ip: Option<Addr>,
    /// Load balancer ID (required)
    #[arg(long, value_name = "string")]
    pub lb_id: Option<String>,
    /// Positional arguments (none accepted).
    #[command(flatten)]
    pub extra: Extra,
}

/// A neighbour NAT is its address, VNI and port range (`create neighbornat` adds the
/// underlay of the host owning the range).
#[derive(Debug, Args)]
pub struct NeighborNatKey {
    /// NAT address (required)
    #[arg(long, value_name = "ip", value_parser = go::<Ip>())]
    pub nat_ip: Option<Addr>,
    /// VNI (required)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>())]
    pub vni: Option<u32>,
    /// First port of the range (required)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>())]
    pub minport: Option<u32>,
    /// End of the port range, exclusive (required)
    #[arg(long, value_name = "uint32", value_parser = go::<U32>())]
    pub maxport: Option<u32>,
}
